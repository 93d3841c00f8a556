"""Differential testing: does every engine accept exactly the strings the reference accepts?

The reference is llguidance reading the llguidance backend's Lark (the language a constraint
compiles to is defined by it). Other engines read other dialects; where a backend knowingly
accepts a different language, its module documents that in ``DEVIATIONS``, a tuple of
:class:`ananke.engines.membership.Deviation`: a named, described predicate on strings that
excuses a disagreement on the strings it applies to.

The property tests run every engine call in a worker process under a time limit
(:mod:`engine_worker`): a hang fails the example with the engine, the grammar and the
string, instead of hanging the suite.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

from ananke.ariadne import compile_source
from ananke.engines.membership import Compiled, Deviation, get_engine, readers
from ananke.engines.sample import mutate, sample_strings
from ananke.ir import Diagnostics, Module, SourceFile
from ananke.ir.compose import compose

from tests.engine_worker import (
    ENDLESS_FORCING,
    OUTLINES_INDEX,
    OUTLINES_STATES,
    EngineCrash,
    EngineHang,
    RemoteCompiled,
    outlines_can_index,
    worker,
)
from tests.suite_helpers import missing

__all__ = [
    "ENDLESS_FORCING",
    "OUTLINES_INDEX",
    "OUTLINES_STATES",
    "READERS",
    "Deviation",
    "Disagreement",
    "EngineCrash",
    "EngineHang",
    "Memo",
    "RemoteCompiled",
    "candidates",
    "check_agreement",
    "compile_guarded",
    "compile_or_skip",
    "deviations_of",
    "outlines_can_index",
    "report",
    "sampled_candidates",
    "set_modules",
]

READERS: dict[str, tuple[str, ...]] = {
    t: readers(t) for t in ("lark-vllm", "xgrammar", "gbnf", "lark", "regex")
}
"""Target -> the engines that read what it prints, as its backend declares them (regex
only when the grammar is regular); the first is the one a test picks when it needs one."""


def set_modules(sources: Iterable[tuple[str, str]]) -> dict[str, Module]:
    """Each constraint set of the ``(file name, text)`` sources, compiled and composed,
    alone in a module with its file's schemas, by set name."""
    out: dict[str, Module] = {}
    for name, text in sources:
        diags = Diagnostics()
        module = compile_source(SourceFile(name=name, text=text), diags)
        assert module is not None, list(diags)
        module = compose(module, diags)
        assert not diags.has_errors, list(diags)
        for cset in module.own_sets:
            out[cset.name] = Module(sets=(cset,), schemas=module.schemas)
    return out


@dataclass(frozen=True)
class Disagreement:
    """``engine`` decided ``got`` on ``string`` where the reference decided ``expected``."""

    engine: str
    string: str
    expected: bool
    got: bool

    def __str__(self) -> str:
        verb = "accepts" if self.got else "rejects"
        return f"{self.engine} {verb} {self.string!r}, the reference does not"


def deviations_of(module: ModuleType) -> tuple[Deviation, ...]:
    """A backend module's documented deviations (``DEVIATIONS``; none when it has none).

    Each must be a :class:`Deviation` with a name and a description, names unique.
    """
    found = getattr(module, "DEVIATIONS", ())
    if not isinstance(found, tuple):
        raise TypeError(f"{module.__name__}.DEVIATIONS must be a tuple")
    names: set[str] = set()
    for d in found:
        if not isinstance(d, Deviation):
            raise TypeError(f"{module.__name__}.DEVIATIONS holds {d!r}, not a Deviation")
        if not d.name or not d.description.strip():
            raise ValueError(f"{module.__name__}: deviation {d.name!r} is not documented")
        if d.name in names:
            raise ValueError(f"{module.__name__}: deviation {d.name!r} is listed twice")
        names.add(d.name)
    return found


def check_agreement(
    reference: Compiled,
    others: Mapping[str, Compiled],
    strings: Iterable[str],
    deviations: Mapping[str, Sequence[Deviation]] | None = None,
) -> list[Disagreement]:
    """Every disagreement with ``reference`` on ``strings`` that no deviation excuses.

    ``others`` maps a label (usually the engine's name) to a compiled grammar;
    ``deviations`` maps the same labels to the deviations that excuse disagreements.
    """
    deviations = deviations or {}
    strings = list(strings)
    expected = _decide(reference, strings)
    found: list[Disagreement] = []
    for label, compiled in others.items():
        for s, want, got in zip(strings, expected, _decide(compiled, strings), strict=True):
            if got != want and not any(d.applies(s) for d in deviations.get(label, ())):
                found.append(Disagreement(label, s, want, got))
    return found


def _decide(compiled: Compiled | RemoteCompiled, strings: list[str]) -> list[bool]:
    if isinstance(compiled, RemoteCompiled):
        return compiled.decide(strings)  # one round trip to the worker
    return [compiled.accepts(s) for s in strings]


def candidates(reference_grammar: str, n: int, *, seed: int, max_len: int = 60) -> list[str]:
    """``n`` members of the reference grammar's language, then ``n`` mutations of them."""
    members = sample_strings(reference_grammar, n, seed=seed, max_len=max_len)
    return _and_mutants(members, n, seed)


def sampled_candidates(
    engine: str, reference_grammar: str, n: int, *, seed: int, max_len: int = 60
) -> list[str]:
    """:func:`candidates`, sampled in the worker under its time limit; ``engine`` is the
    llguidance engine that reads ``reference_grammar`` (``llguidance-lark`` or ``-gbnf``)."""
    members = worker().sample(engine, reference_grammar, n, seed=seed, max_len=max_len)
    return _and_mutants(members, n, seed)


def _and_mutants(members: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    mutants = [mutate(members[i % len(members)], rng) for i in range(n)] if members else []
    return members + mutants


def compile_guarded(engine: str, text: str, *, guard: bool = True) -> RemoteCompiled:
    """``text`` compiled by ``engine`` in the worker, where each call runs under a time limit
    (:class:`EngineHang` when it is reached); when the engine is not installed the test is
    skipped, or fails under CI (see ``suite_helpers.missing``).

    ``guard=False`` leaves out the check for :data:`ENDLESS_FORCING`, to show the hang.
    """
    e = get_engine(engine)
    if not e.available():
        missing(f"{engine} is not installed (package {e.package!r})")
    return worker().compile(engine, text, guard=guard)


class Memo(Compiled):
    """A compiled grammar that decides each string once."""

    def __init__(self, inner: Compiled) -> None:
        super().__init__(inner.engine, inner.text)
        self._inner = inner
        self._seen: dict[str, bool] = {}

    def _accepts(self, s: str) -> bool:
        if s not in self._seen:
            self._seen[s] = self._inner.accepts(s)
        return self._seen[s]


def compile_or_skip(engine: str, text: str) -> Compiled:
    """``text`` compiled by ``engine``; when the engine is not installed the test is
    skipped, or fails under CI (see ``suite_helpers.missing``)."""
    e = get_engine(engine)
    if not e.available():
        missing(f"{engine} is not installed (package {e.package!r})")
    return e.compile(text)


def report(found: Sequence[Disagreement], limit: int = 10) -> str:
    """A readable summary of disagreements for an assertion message."""
    lines = [str(d) for d in found[:limit]]
    if len(found) > limit:
        lines.append(f"... and {len(found) - limit} more")
    return "\n".join(lines)
