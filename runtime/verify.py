"""Trust, but verify: every output is checked here before it is returned.

Two checks, whatever the service:

1. **The grammar**, through a local engine reading the very text the service was sent
   (llguidance for Lark and GBNF, XGrammar for SGLang's EBNF). A complete output the
   grammar rejects means the service did not enforce it (a server on the wrong
   structured-outputs backend, an old server that ignores the field); an output cut at
   ``max_tokens`` must still be a prefix the grammar allows.
2. **The post checks** (:mod:`ananke.languages.validate`) on the whole text: every
   constraint the grammar cannot enforce, and, as a second line of defence, those it does.

The result is a verdict per constraint, with its enforcement level.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ananke.engines.rejection import position_of
from ananke.ir.constraint import ConstraintSet
from ananke.ir.plan import Enforcement, Level
from ananke.languages.validate import Violation, check

__all__ = [
    "ConstraintVerdict",
    "GrammarCheck",
    "GrammarChecker",
    "Verification",
    "checker_for",
    "grammar_of",
    "verify",
]

GrammarStatus = Literal["accepted", "prefix", "rejected", "unchecked"]


@dataclass(frozen=True)
class GrammarCheck:
    """The grammar's verdict on one output: ``accepted`` (complete), ``prefix`` (not
    complete, but every byte allowed: what a cut output must be), ``rejected`` at
    ``offset`` (a byte offset; ``line``/``column`` 1-based), or ``unchecked`` (no local
    engine reads this grammar; ``reason`` says why)."""

    status: GrammarStatus
    engine: str
    offset: int = 0
    line: int = 0
    column: int = 0
    reason: str = ""


@dataclass(frozen=True)
class ConstraintVerdict:
    """Whether one constraint held: ``held`` is None when its check could not decide (or
    was skipped: ``detail`` says why)."""

    id: str
    kind: str
    level: Level
    strength: str
    held: bool | None
    detail: str = ""

    @property
    def failed(self) -> bool:
        """A hard constraint that is checked and not known to hold (``prompt``-level ones
        are advice: nothing checks them)."""
        return self.strength == "hard" and self.level != "prompt" and self.held is not True


@dataclass(frozen=True)
class Verification:
    """Everything known about one output."""

    grammar: GrammarCheck
    verdicts: tuple[ConstraintVerdict, ...]
    violations: tuple[Violation, ...]
    """The post checks' findings (``syntax`` ones belong to no constraint)."""
    truncated: bool

    @property
    def ok(self) -> bool:
        """Complete, accepted by the grammar (or no engine could read it) and every hard
        constraint held."""
        return (
            not self.truncated
            and self.grammar.status in ("accepted", "unchecked")
            and not any(v.failed for v in self.verdicts)
            and not any(v.kind == "syntax" for v in self.violations)
        )

    @property
    def failures(self) -> tuple[str, ...]:
        """What went wrong, one line each, as a repair prompt shows it."""
        out: list[str] = []
        if self.grammar.status == "rejected":
            out.append(f"the grammar rejects the text at {self.grammar.line}:{self.grammar.column}")
        for v in self.violations:
            if not v.undecided:
                where = f" (line {v.line})" if v.line > 1 else ""
                out.append(f"{v.constraint_id or v.kind}: {v.message}{where}")
        return tuple(dict.fromkeys(out))


class GrammarChecker:
    """Decides outputs against one grammar text with a local engine."""

    def __init__(self, engine: str, text: str) -> None:
        self.engine = engine
        self.text = text
        self._matcher: Any = None
        self._problem = ""
        try:
            self._matcher = _load(engine, text)
        except ImportError as e:
            self._problem = f"{e.name or 'the engine'} is not installed, so it was not checked"
        except ValueError as e:
            self._problem = f"the grammar does not load in {engine}: {e}"

    def check(self, text: str, *, complete: bool) -> GrammarCheck:
        if self._matcher is None:
            return GrammarCheck("unchecked", self.engine, reason=self._problem)
        if self.engine == "xgrammar-ebnf":
            return self._xgrammar(text)
        verdict = self._matcher.check(text)
        if verdict.accepted:
            return GrammarCheck("accepted", self.engine, len(text.encode("utf-8")))
        data = text.encode("utf-8")
        if verdict.offset >= len(data) and "ended before" in verdict.error:
            return GrammarCheck("prefix", self.engine, verdict.offset, reason=verdict.error)
        line, column = position_of(text, verdict.offset)
        return GrammarCheck("rejected", self.engine, verdict.offset, line, column, verdict.error)

    def _xgrammar(self, text: str) -> GrammarCheck:
        import xgrammar

        def takes(s: str) -> tuple[bool, bool]:
            m = xgrammar.GrammarMatcher(self._matcher, terminate_without_stop_token=True)
            return bool(m.accept_string(s)), bool(m.is_terminated())

        ok, done = takes(text)
        if ok:
            status: GrammarStatus = "accepted" if done else "prefix"
            return GrammarCheck(status, self.engine, len(text.encode("utf-8")))
        # The longest prefix it takes, in code points (XGrammar reads strings).
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if takes(text[:mid])[0]:
                lo = mid
            else:
                hi = mid - 1
        offset = len(text[:lo].encode("utf-8"))
        line, column = position_of(text, offset)
        return GrammarCheck("rejected", self.engine, offset, line, column, "XGrammar rejects it")


def _load(engine: str, text: str) -> Any:
    from ananke.engines.acceptance import ByteMatcher

    if engine == "llguidance-lark":
        return ByteMatcher(text)
    if engine == "llguidance-gbnf":
        import llguidance

        return ByteMatcher(llguidance.grammar_from("gbnf", text))
    if engine == "llguidance-json":
        import llguidance

        return ByteMatcher(llguidance.grammar_from("json_schema", text))
    if engine == "xgrammar-ebnf":
        import xgrammar

        try:
            return _xgrammar_compiler().compile_grammar(xgrammar.Grammar.from_ebnf(text))
        except RuntimeError as e:
            raise ValueError(str(e)) from None
    raise ValueError(f"no local engine reads {engine}")


@functools.cache
def _xgrammar_compiler() -> Any:
    import xgrammar

    return xgrammar.GrammarCompiler(xgrammar.TokenizerInfo([]))


def grammar_of(target: str, body: dict[str, Any]) -> tuple[str, str]:
    """The engine that reads the grammar in a request ``body`` for ``target``, and that
    grammar's text (a JSON schema as JSON text)."""
    so = body.get("structured_outputs")
    if isinstance(so, dict):  # vllm
        if "grammar" in so:
            return "llguidance-lark", str(so["grammar"])
        return "llguidance-json", json.dumps(so["json"])
    if body.get("type") == "custom":  # openai's custom tool
        return "llguidance-lark", str(body["format"]["definition"])
    text_format = body.get("text", {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(text_format, dict):  # openai's JSON output
        return "llguidance-json", json.dumps(text_format["schema"])
    if "ebnf" in body:  # sglang
        return "xgrammar-ebnf", str(body["ebnf"])
    rf = body.get("response_format")
    if isinstance(rf, dict):  # sglang's JSON output
        return "llguidance-json", json.dumps(rf["json_schema"]["schema"])
    if "json_schema" in body:  # llama.cpp's JSON output
        return "llguidance-json", json.dumps(body["json_schema"])
    if "grammar" in body:  # llama.cpp's GBNF, or the local generator's llguidance Lark
        return ("llguidance-gbnf" if target == "llamacpp" else "llguidance-lark"), str(
            body["grammar"]
        )
    raise ValueError(f"no grammar in the request body for {target}")


@functools.lru_cache(maxsize=64)
def _checker(engine: str, text: str) -> GrammarChecker:
    return GrammarChecker(engine, text)


def checker_for(target: str, body: dict[str, Any]) -> GrammarChecker:
    """The (cached) checker of the grammar a request ``body`` for ``target`` holds."""
    engine, text = grammar_of(target, body)
    return _checker(engine, text)


def verify(
    code: str,
    cset: ConstraintSet,
    enforcements: Sequence[Enforcement],
    checker: GrammarChecker,
    *,
    truncated: bool = False,
) -> Verification:
    """Check ``code`` (an output for ``cset``) against the grammar and every post check;
    ``truncated`` when the service cut it at ``max_tokens``."""
    grammar = checker.check(code, complete=not truncated)
    report = check(code, cset)
    levels = {e.constraint_id: e.level for e in enforcements}
    by_id: dict[str, list[Violation]] = {}
    for v in report.violations:
        by_id.setdefault(v.constraint_id, []).append(v)
    skipped = {s.constraint_id: s.reason for s in report.skipped}
    verdicts = []
    for c in cset.constraints:
        kind = c.__struct_config__.tag
        found = by_id.get(c.id, [])
        level = levels.get(c.id, "post")
        if any(not v.undecided for v in found):
            held: bool | None = False
            detail = "; ".join(v.message for v in found if not v.undecided)
        elif found:
            held, detail = None, found[0].message
        elif c.id in skipped:
            held, detail = None, skipped[c.id]
        elif level == "prompt":
            held, detail = None, "advice for the model: not checked"
        else:
            held, detail = True, ""
        if truncated and held is True and level == "post":
            # A cut text is not the function: what it lacks may be what a check needs.
            held, detail = None, "not decided: the output was cut at max_tokens"
        verdicts.append(ConstraintVerdict(c.id, str(kind), level, c.strength, held, detail))
    return Verification(grammar, tuple(verdicts), tuple(report.violations), truncated)
