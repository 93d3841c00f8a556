"""``detect-conflicts``: every set of constraints in a set that cannot all hold.

Each contradiction is recorded as a :class:`~ananke.ir.constraint.Conflict` on its set,
with a smallest contradictory set of constraint ids; ``resolve-conflicts`` settles them.
What is found:

* ``forbid-require``: a name both forbidden and required (also a required ``os.path``
  when ``os`` is forbidden: using it names ``os``);
* ``forbid-name``: the function's pinned name is forbidden (the def binds it);
* ``forbid-signature``: the pinned signature spells a forbidden name or keyword on every
  ``def`` line it allows (``async``, a parameter name, a word of a default value);
* ``import-require``: a required dotted name whose module the import policy denies or
  leaves out of its allow list;
* ``name``, ``returns``, ``params``, ``signature``: two different values for the
  function's name, return type, parameters or whole signature;
* ``limit-language``: ``max_chars`` below the shortest output of the set's language alone
  (10 characters for a Python function: ``def f():x`` and its newline);
* ``limit-signature``: ``max_chars`` below the shortest function the grammar accepts
  once the pinned name, parameters, return type, naming rules or forbidden names are
  applied (the smallest set of them that makes it too long);
* ``naming``: naming rules no name can satisfy together, decided on automata (three or
  more rules are reported as the smallest subset that excludes every name, searched up
  to three rules, then all of them);
* ``naming-name``: a pinned function name that the naming rule rejects;
* ``matches``: output patterns that no output of the set's language matches, one alone
  or several together (as ``re.search`` reads them: a pattern without anchors may match
  anywhere);
* ``matches-signature``: a pattern that no function matches once the pinned parts,
  naming rules or forbidden names are applied, such as ``^def get_`` with ``name: fetch``.

Limits and patterns are compared with the grammar itself, lowered from the set without
its limits and patterns (:mod:`ananke.ir.bounds`): the shortest string it accepts, counted
in code points with its final newline as the post check counts ``max_chars``, and a regular
language that holds all of its outputs, whose empty intersection with a pattern's
automaton is a certain conflict. Each is computed once per distinct grammar. Parts pinned
twice with different values (a conflict of their own) are left out of that grammar, so
that the bounds hold whichever of them stands. A conflict of one constraint alone has
nothing to give way to: ``resolve-conflicts`` reports it.

What a code language gives these checks (its names, naming styles, the words a pinned
``def`` line spells, what one output is) comes from the registry of
:mod:`ananke.ir.lower.language`.

A pattern the automaton builder cannot read (``\\w``, inner anchors, lookaround), or
whose comparison with the grammar passes the bounds on automata, is reported as
``undecided-conflict`` (a warning), never guessed.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import msgspec

from ..constraint import (
    Conflict,
    Constraint,
    ConstraintSet,
    Forbid,
    FunctionName,
    ImportPolicy,
    Limit,
    Matches,
    Module,
    Naming,
    OutputGrammar,
    Params,
    Require,
    Returns,
    Signature,
    SourceProvenance,
)
from ..diagnostics import Diagnostics, Label, quote
from .describe import describe, value_of

if TYPE_CHECKING:
    from ..automata import DFA
    from ..bounds import Superset
    from ..grammar import Grammar

__all__ = ["DetectConflicts"]

_T = TypeVar("_T")


class _Kinds:
    """A set's constraints grouped by kind once, for the many lookups below."""

    def __init__(self, cset: ConstraintSet) -> None:
        self.cset = cset
        self.name = cset.name
        self.constraints = cset.constraints
        self._by: dict[type, list[Constraint]] = {}
        for c in cset.constraints:
            self._by.setdefault(type(c), []).append(c)

    def of(self, kind: type[_T]) -> list[_T]:
        return self._by.get(kind, [])  # type: ignore[return-value]

    def pins(self) -> list[FunctionName | Signature]:
        """The constraints that pin the function's name."""
        return [*self.of(FunctionName), *self.of(Signature)]


_HELP_WEIGH = (
    "remove one of them, or mark the one to give way `@soft` or give the other a higher "
    "`@priority(N)`"
)


@dataclass(frozen=True)
class DetectConflicts:
    name = "detect-conflicts"
    max_states: int = 2_000
    """Bound on each automaton built to compare naming rules and output patterns."""

    def run(self, module: Module, diags: Diagnostics) -> Module:
        return msgspec.structs.replace(
            module, sets=tuple(self._detect(s, diags) for s in module.sets)
        )

    def _detect(self, cset: ConstraintSet, diags: Diagnostics) -> ConstraintSet:
        k = _Kinds(cset)
        found: list[Conflict] = []
        found += _forbid_require(k)
        found += _forbid_signature(k)
        found += _imports(k)
        found += _shape(k)
        found += self._limits(k)
        found += self._naming(k, diags)
        found += self._matches(k, diags)
        known = {(c.kind, c.ids) for c in cset.conflicts}
        new = tuple(c for c in found if (c.kind, c.ids) not in known)
        if not new:
            return cset
        return msgspec.structs.replace(cset, conflicts=(*cset.conflicts, *new))

    def _automaton(
        self, c: Naming | Matches, pattern: str | None, cset: _Kinds, diags: Diagnostics
    ) -> DFA | None:
        """The automaton of a naming rule or output pattern; None (with a warning) when the
        builder cannot read it or it grows past the bound."""
        from ..automata import DFA, StateLimitExceeded
        from ..regex import RegexError, parse_regex

        try:
            if pattern is None:
                raise RegexError("anchors inside, lookaround or backreferences", 0)
            return DFA.from_expr(parse_regex(pattern), max_states=self.max_states)
        except (RegexError, StateLimitExceeded) as e:
            prop = "naming" if isinstance(c, Naming) else "matches"
            diags.warning(
                "undecided-conflict",
                f"cannot tell whether `{prop}` {value_of(c)} agrees with the other "
                f"constraints of {quote(cset.name)}: {e}",
                *_labels(c, "this rule"),
                help="write the pattern without `\\w`, `\\d`, `\\s`, inner anchors and "
                "lookaround to let Ananke compare it (for example `[A-Za-z0-9_]` for `\\w` "
                "in ASCII names)",
            )
            return None

    def _naming(self, cset: _Kinds, diags: Diagnostics) -> list[Conflict]:
        from ..automata import DFA
        from ..lower.language import get
        from ..regex import grammar_regex, parse_regex

        rules = cset.of(Naming)
        if not rules:
            return []
        language = get(cset.cset.language)
        ident = DFA.from_expr(parse_regex(language.identifier), max_states=self.max_states)
        dfas: dict[str, DFA] = {}
        for n in rules:
            pattern = language.naming_styles[n.style] if n.style else grammar_regex(n.pattern or "")
            d = self._automaton(n, pattern, cset, diags)
            if d is not None:
                dfas[n.id] = d
        by_id = {n.id: n for n in rules}
        found = _empty_subsets(dfas, lambda _, d: d.intersect(ident).is_empty())
        out = [_naming_conflict([by_id[i] for i in combo]) for combo in found]
        for p in cset.pins():
            for i in sorted(dfas):
                if not dfas[i].accepts(p.name):
                    out.append(
                        _pair(
                            "naming-name",
                            p,
                            "the name is pinned here",
                            by_id[i],
                            "the naming rule is here",
                            f"the function must be named {quote(p.name)}, which the naming "
                            f"rule {value_of(by_id[i])} rejects",
                            help="rename the function, or change or weigh the naming rule",
                        )
                    )
        return out

    def _matches(self, cset: _Kinds, diags: Diagnostics) -> list[Conflict]:
        """Output patterns that no output of the set's language matches (``re.search``
        semantics), alone or together, and patterns that the function's pinned parts, naming
        rules or forbidden names leave no output to match."""
        from ..automata import StateLimitExceeded

        rules = cset.of(Matches)
        if not rules:
            return []
        dfas: dict[str, DFA] = {}
        for m in rules:
            d = self._automaton(m, _search_language(m.pattern), cset, diags)
            if d is not None:
                dfas[m.id] = d
        if not dfas:
            return []
        by_id = {m.id: m for m in rules}
        language = self._superset(cset, ())
        undecided: list[str] = []

        def empty(combo: tuple[str, ...], d: DFA) -> bool:
            if d.is_empty():
                return True
            try:
                return not language.meets(d)
            except StateLimitExceeded:
                if len(combo) == 1:
                    undecided.append(combo[0])
                raise

        out = []
        alone: set[str] = set()
        for combo in _empty_subsets(dfas, empty):
            out.append(self._matches_conflict(cset, [by_id[i] for i in combo]))
            alone.update(combo if len(combo) == 1 else ())
        shapers = _shapers(cset)
        try:
            if shapers and not self._superset(cset, shapers).meets(_anything()):
                shapers = ()  # no function at all: a naming conflict says why
        except StateLimitExceeded:
            pass
        for mid in sorted(dfas):
            if mid in alone or mid in undecided or not shapers:
                continue
            pattern = dfas[mid]

            def unmatched(keep: tuple[Constraint, ...], pattern: DFA = pattern) -> bool:
                return not self._superset(cset, keep).meets(pattern)

            try:
                part = _smallest_part(shapers, unmatched)
            except StateLimitExceeded:
                undecided.append(mid)
                continue
            if part is not None:
                out.append(_matches_signature(by_id[mid], part))
        for mid in undecided:
            self._undecided(
                by_id[mid],
                cset,
                diags,
                "the automaton of the outputs it may match grows past the bound",
            )
        return out

    def _matches_conflict(self, cset: _Kinds, patterns: list[Matches]) -> Conflict:
        shown = ", ".join(value_of(m) for m in patterns)
        ids = tuple(m.id for m in patterns)
        roles = tuple("the output must match this" for _ in ids)
        if len(patterns) > 1:
            return Conflict(
                kind="matches",
                ids=ids,
                roles=roles,
                message=f"no output matches all of the patterns {shown}",
                help="keep one of the patterns, or mark the others `@soft`",
            )
        return Conflict(
            kind="matches",
            ids=ids,
            roles=roles,
            message=f"no {_output_of(cset.cset)} matches the pattern {shown}",
            help=_pattern_help(cset.cset),
        )

    def _undecided(self, c: Matches, cset: _Kinds, diags: Diagnostics, why: str) -> None:
        diags.warning(
            "undecided-conflict",
            f"cannot tell whether `matches` {value_of(c)} agrees with the other constraints "
            f"of {quote(cset.name)}: {why}",
            *_labels(c, "this rule"),
            help="a simpler pattern (fewer alternatives and counted repeats) can be compared",
        )

    def _superset(self, cset: _Kinds, keep: tuple[Constraint, ...]) -> Superset:
        """A regular superset of the outputs of ``cset`` restricted to ``keep`` (the
        constraints that shape its grammar; none: the language alone)."""
        return _superset(_grammar(cset.cset, keep), self.max_states)

    def _limits(self, cset: _Kinds) -> list[Conflict]:
        """``max_chars`` below the shortest output of the set's language, or of the
        function its pinned parts, naming rules and forbidden names allow."""
        limits = [lim for lim in cset.of(Limit) if lim.metric == "chars"]
        if not limits:
            return []
        shapers = _shapers(cset)
        need_all = _shortest(_grammar(cset.cset, shapers))
        if math.isinf(need_all):
            return []  # no output at all: the naming rule or the grammar is at fault
        out = []
        for lim in limits:
            if lim.max >= need_all:
                continue
            alone = _shortest(_grammar(cset.cset, ()))
            if lim.max < alone:
                out.append(_limit_language(cset, lim, int(alone)))
                continue

            def too_long(keep: tuple[Constraint, ...], most: int = lim.max) -> bool:
                return most < _shortest(_grammar(cset.cset, keep))

            part = _smallest_part(shapers, too_long)
            if part is not None:
                need = int(_shortest(_grammar(cset.cset, part)))
                out.append(_limit_signature(cset, lim, part, need, int(need_all)))
        return out


def _search_language(pattern: str) -> str | None:
    """The strings ``re.search(pattern, s)`` finds a match in, as a whole-string regex; None
    when that cannot be written: inline flags other than a leading ``(?s)``, lookaround or
    backreferences. A leading ``^``/``\\A`` and a trailing ``$``/``\\Z`` become the
    bounds of the match (without MULTILINE, ``$`` also matches before a final newline);
    anchors anywhere else are refused by the regex reader."""
    from ..regex import grammar_regex

    body = pattern
    dotall = False
    flags = re.match(r"\(\?([a-zA-Z]+)\)", body)
    if flags:
        if set(flags.group(1)) != {"s"}:
            return None
        dotall, body = True, body[flags.end() :]
    start = body.startswith(("^", "\\A"))
    body = body[1:] if body.startswith("^") else body.removeprefix("\\A")
    end = ""
    if body.endswith("\\Z") and not body.endswith("\\\\Z"):
        body, end = body[:-2], "strict"
    elif body.endswith("$") and not body.endswith("\\$"):
        body, end = body[:-1], "dollar"
    inner = grammar_regex(body)
    if inner is None:
        return None
    if dotall:
        inner = f"(?s:{inner})"
    any_ = "(?s:.)*"
    tail = {"strict": "", "dollar": "\\n?", "": any_}[end]
    return f"{'' if start else any_}{inner}{tail}"


def _empty_subsets(
    dfas: dict[str, DFA], empty: Callable[[tuple[str, ...], DFA], bool]
) -> list[tuple[str, ...]]:
    """The smallest sets of ids whose automata accept nothing together (as ``empty``
    decides on their intersection), smallest first, none a superset of another. Subsets
    of up to three, then all of them: many rules cost O(n**3) products, not 2**n. An
    automaton past the state bound counts as not empty."""
    from ..automata import StateLimitExceeded

    ids = sorted(dfas)
    found: list[tuple[str, ...]] = []
    sizes = [*range(1, min(len(ids), 3) + 1), *([len(ids)] if len(ids) > 3 else [])]
    for size in sizes:
        for combo in itertools.combinations(ids, size):
            if any(set(f) <= set(combo) for f in found):
                continue
            try:
                d = dfas[combo[0]]
                for i in combo[1:]:
                    d = d.intersect(dfas[i])
                if empty(combo, d):
                    found.append(combo)
            except StateLimitExceeded:
                continue
    return found


def _roles(ids: tuple[str, ...], role: dict[str, str]) -> tuple[str, ...]:
    return tuple(role[i] for i in ids)


def _labels(c: Constraint, message: str) -> list[Label]:
    if isinstance(c.provenance, SourceProvenance):
        return [Label(span=c.provenance.span, message=message)]
    return []


def _pair(
    kind: str, a: Constraint, ra: str, b: Constraint, rb: str, message: str, help: str = _HELP_WEIGH
) -> Conflict:
    ids = tuple(sorted((a.id, b.id)))
    return Conflict(
        kind=kind, ids=ids, roles=_roles(ids, {a.id: ra, b.id: rb}), message=message, help=help
    )


def _uses(required: str, forbidden: str) -> bool:
    """Whether using ``required`` names ``forbidden`` (itself, or a prefix of its path)."""
    return required == forbidden or required.startswith(forbidden + ".")


def _forbid_require(cset: _Kinds) -> list[Conflict]:
    out = []
    forbidden: dict[str, list[Forbid]] = {}
    for f in cset.of(Forbid):
        forbidden.setdefault(f.name, []).append(f)
    for r in cset.of(Require):
        parts = r.name.split(".")
        # The forbidden names a use of r.name would name: itself and each dotted prefix.
        prefixes = [".".join(parts[: k + 1]) for k in range(len(parts))]
        for f in (f for p in prefixes for f in forbidden.get(p, ())):
            message = (
                f"{quote(r.name)} is both required and forbidden in {quote(cset.name)}"
                if r.name == f.name
                else f"{quote(r.name)} is required in {quote(cset.name)}, and using it names "
                f"{quote(f.name)}, which is forbidden"
            )
            out.append(_pair("forbid-require", f, "forbidden here", r, "required here", message))
    for p in cset.pins():
        for f in forbidden.get(p.name, ()):
            out.append(
                _pair(
                    "forbid-name",
                    f,
                    "forbidden here",
                    p,
                    "the name is pinned here",
                    f"the function must be named {quote(p.name)}, which is also forbidden in "
                    f"{quote(cset.name)}",
                )
            )
    return out


def _forbid_signature(cset: _Kinds) -> list[Conflict]:
    from ..lower.language import get

    forbidden: dict[str, list[Forbid]] = {}
    for f in cset.of(Forbid):
        forbidden.setdefault(f.name, []).append(f)
    out = []
    pinned: list[Params | Signature] = [*cset.of(Params), *cset.of(Signature)]
    for p in pinned:
        is_async = p.is_async if isinstance(p, Signature) else None
        for word, where in get(cset.cset.language).pinned_words(p.params, is_async):
            for f in forbidden.get(word, ()):
                message = (
                    f"the pinned signature spells {quote(word)} ({where}), which is also "
                    f"forbidden in {quote(cset.name)}"
                )
                out.append(
                    _pair("forbid-signature", f, "forbidden here", p, "pinned here", message)
                )
    return out


def _imports(cset: _Kinds) -> list[Conflict]:
    out = []
    for p in cset.of(ImportPolicy):
        for r in cset.of(Require):
            if "." not in r.name:
                continue  # a plain name is not necessarily a module's
            top = r.name.split(".")[0]
            denied = [d for d in p.deny if _uses(r.name, d)]
            if denied:
                out.append(
                    _pair(
                        "import-require",
                        p,
                        f"{quote(denied[0])} is denied here",
                        r,
                        "required here",
                        f"{quote(r.name)} is required, and importing {quote(denied[0])} is denied",
                    )
                )
            elif p.allow is not None and not any(a.split(".")[0] == top for a in p.allow):
                out.append(
                    _pair(
                        "import-require",
                        p,
                        "the allowed imports are listed here",
                        r,
                        "required here",
                        f"{quote(r.name)} is required, and {quote(top)} is not among the modules "
                        "the code may import",
                    )
                )
    return out


def _shape(cset: _Kinds) -> list[Conflict]:
    """Two different values for the function's name, return type, parameters, signature."""
    out = []
    sigs = cset.of(Signature)
    names: list[tuple[Constraint, str]] = [(c, c.name) for c in cset.of(FunctionName)]
    names += [(s, s.name) for s in sigs]
    returns: list[tuple[Constraint, object]] = [(c, c.type) for c in cset.of(Returns)]
    returns += [(s, s.returns) for s in sigs if s.returns is not None]
    params: list[tuple[Constraint, object]] = [(c, c.params) for c in cset.of(Params)]
    params += [(s, s.params) for s in sigs]
    for kind, values, role in (
        ("name", names, "the function is named {} here"),
        ("returns", returns, "returns {} here"),
        ("params", params, "these parameters here"),
    ):
        # By id, so that the message does not depend on the order of the constraints.
        for (a, va), (b, vb) in itertools.combinations(sorted(values, key=lambda x: x[0].id), 2):
            if va != vb:
                shown_a = quote(value_of(a) if kind == "params" else str(va))
                shown_b = quote(value_of(b) if kind == "params" else str(vb))
                out.append(
                    _pair(
                        kind,
                        a,
                        role.format(shown_a),
                        b,
                        role.format(shown_b),
                        f"{quote(cset.name)} gives two different {_WHAT[kind]}: "
                        f"{shown_a} and {shown_b}",
                    )
                )
    for a, b in itertools.combinations(sigs, 2):
        if a.is_async != b.is_async:
            out.append(
                _pair(
                    "signature",
                    a,
                    "async here" if a.is_async else "not async here",
                    b,
                    "async here" if b.is_async else "not async here",
                    f"{quote(cset.name)} pins the function both async and not async",
                )
            )
    return out


_WHAT = {"name": "names", "returns": "return types", "params": "parameter lists"}


def _shapers(cset: _Kinds) -> tuple[Constraint, ...]:
    """The constraints that shape a Python set's grammar beyond its language: the pinned
    parts of the ``def`` line, naming rules and plain forbidden names, by id.

    Parts pinned twice with different values (a conflict of its own) are all left out, so
    that the grammar holds whichever of them stands."""
    from ..lower.language import names as code_languages

    if _language_of(cset.cset) not in code_languages():
        return ()
    sigs = cset.of(Signature)
    names = {c.name for c in cset.pins()}
    params = {c.params for c in cset.of(Params)} | {s.params for s in sigs}
    returns = {c.type for c in cset.of(Returns)} | {s.returns for s in sigs if s.returns}
    split: set[type] = set()
    if len(names) > 1:
        split |= {FunctionName, Signature}
    if len(params) > 1:
        split |= {Params, Signature}
    if len(returns) > 1:
        split |= {Returns, Signature}
    if len({s.is_async for s in sigs}) > 1:
        split.add(Signature)
    kinds = (FunctionName, Signature, Params, Returns, Naming)
    out: list[Constraint] = [
        c for c in cset.constraints if isinstance(c, kinds) and type(c) not in split
    ]
    out += [f for f in cset.of(Forbid) if not f.name.startswith(".") and "." not in f.name]
    return tuple(sorted(out, key=lambda c: c.id))


def _smallest_part(
    shapers: tuple[Constraint, ...],
    contradicts: Callable[[tuple[Constraint, ...]], bool],
) -> tuple[Constraint, ...] | None:
    """A subset of ``shapers`` for which ``contradicts`` holds and without any one of which
    it does not; None if even all of them do not contradict.

    One pinned part or naming rule alone is tried first (the usual culprit, and the
    smallest answer); otherwise parts are removed while the contradiction stays, halves
    of what is left first, then smaller chunks down to one (forbidden names, which rarely
    matter and may be many, come last, so they go in few steps). Each test lowers a
    grammar: this costs a few dozen tests, not one per subset."""
    if not contradicts(shapers):
        return None
    for c in shapers:
        if not isinstance(c, Forbid) and contradicts((c,)):
            return (c,)
    keep = sorted(shapers, key=lambda c: isinstance(c, Forbid))
    chunk = len(keep) // 2
    while chunk >= 1:
        i = 0
        while i < len(keep):
            trial = keep[:i] + keep[i + chunk :]
            if trial and contradicts(tuple(trial)):
                keep = trial
            else:
                i += chunk
        chunk //= 2
    return tuple(sorted(keep, key=lambda c: c.id))


def _language_of(cset: ConstraintSet) -> str:
    """The set's language, ``json``, or ``grammar`` (a string of a given grammar)."""
    return "grammar" if cset.of_kind(OutputGrammar) else cset.language


_OUTPUT = {"json": "JSON document", "grammar": "string of the given grammar"}
_HELP_OUTPUT = {
    "json": "fix the pattern: every output is one JSON document",
    "grammar": "fix the pattern: every output is a string of the given grammar",
}


def _output_of(cset: ConstraintSet) -> str:
    from ..lower.language import get

    language = _language_of(cset)
    return _OUTPUT[language] if language in _OUTPUT else get(language).output


def _pattern_help(cset: ConstraintSet) -> str:
    from ..lower.language import get

    language = _language_of(cset)
    return _HELP_OUTPUT[language] if language in _HELP_OUTPUT else get(language).pattern_help


def _grammar(cset: ConstraintSet, keep: tuple[Constraint, ...]) -> Grammar:
    """The grammar of ``cset`` lowered with only ``keep`` of its constraints, and what
    gives the set its language (the given grammar of a `grammar:` set)."""
    from ..lower import LowerToGrammar

    base = cset.of_kind(OutputGrammar)
    reduced = msgspec.structs.replace(
        cset, constraints=(*base, *keep), conflicts=(), resolutions=()
    )
    # Diagnostics of this lowering (a pinned name that is also forbidden) are the
    # conflicts' own business: the real lowering reports them.
    return LowerToGrammar().lower_set(reduced, Diagnostics()).grammar


@functools.lru_cache(maxsize=64)
def _superset(grammar: Grammar, max_states: int) -> Superset:
    from ..bounds import regular_superset

    return regular_superset(grammar, max_states=max_states)


@functools.cache
def _anything() -> DFA:
    from ..automata import DFA
    from ..regex import parse_regex

    return DFA.from_expr(parse_regex("(?s:.)*"))


@functools.lru_cache(maxsize=256)
def _shortest(grammar: Grammar) -> float:
    from ..bounds import shortest_length

    return shortest_length(grammar)


def _phrase(c: Constraint) -> str:
    """How a function that respects ``c`` is named in a message."""
    match c:
        case FunctionName():
            return f"named {quote(c.name)}"
        case Signature():
            return f"with the signature `{value_of(c)}`"
        case Params():
            return f"with the parameters `{value_of(c)}`"
        case Returns():
            return f"returning `{value_of(c)}`"
        case Naming():
            return f"whose name follows the naming rule {value_of(c)}"
        case Forbid():
            return f"that avoids the forbidden name {quote(c.name)}"
    return describe(c)  # pragma: no cover - _shapers gives no other kind


_ROLE = {
    FunctionName: "the name is pinned here",
    Signature: "the signature is pinned here",
    Params: "the parameters are pinned here",
    Returns: "the return type is pinned here",
    Naming: "the naming rule is here",
    Forbid: "forbidden here",
}


def _with_parts(
    kind: str,
    lead: Constraint,
    lead_role: str,
    part: tuple[Constraint, ...],
    message: str,
    help: str,
) -> Conflict:
    role = {lead.id: lead_role} | {c.id: _ROLE[type(c)] for c in part}
    ids = tuple(sorted(role))
    return Conflict(kind=kind, ids=ids, roles=_roles(ids, role), message=message, help=help)


def _matches_signature(m: Matches, part: tuple[Constraint, ...]) -> Conflict:
    return _with_parts(
        "matches-signature",
        m,
        "the output must match this",
        part,
        f"no function {' and '.join(map(_phrase, part))} matches the pattern {value_of(m)}",
        "change the pattern or the other constraints, or mark one `@soft`",
    )


def _limit_signature(
    cset: _Kinds, lim: Limit, part: tuple[Constraint, ...], need: int, need_all: int
) -> Conflict:
    return _with_parts(
        "limit-signature",
        lim,
        f"at most {lim.max} characters here",
        part,
        f"`max_chars: {lim.max}` in {quote(cset.name)} is below the {need} characters of the "
        f"shortest function {' and '.join(map(_phrase, part))}",
        f"raise `max_chars` to at least {need_all}, or loosen the other constraints, or "
        "mark one `@soft`",
    )


def _limit_language(cset: _Kinds, lim: Limit, need: int) -> Conflict:
    return Conflict(
        kind="limit-language",
        ids=(lim.id,),
        roles=(f"at most {lim.max} characters here",),
        message=f"`max_chars: {lim.max}` in {quote(cset.name)} is below the {need} characters "
        f"of the shortest {_output_of(cset.cset)}",
        help=f"raise `max_chars` to at least {need}",
    )


def _naming_conflict(rules: list[Naming]) -> Conflict:
    ids = tuple(r.id for r in rules)
    if len(rules) == 1:
        message = f"no identifier matches the naming rule {value_of(rules[0])}"
        help = "fix the pattern: it must match the function's whole name"
    else:
        shown = ", ".join(value_of(r) for r in rules)
        message = f"no name follows all of the naming rules {shown}"
        help = "keep one naming rule, or mark the others `@soft`"
    return Conflict(
        kind="naming",
        ids=ids,
        roles=tuple("naming rule here" for _ in ids),
        message=message,
        help=help,
    )
