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
* ``limit-signature``: ``max_chars`` below what the pinned ``def`` line alone needs;
* ``naming``: naming rules no name can satisfy together, decided on automata (three or
  more rules are reported as the smallest subset that excludes every name, searched up
  to three rules, then all of them);
* ``naming-name``: a pinned function name that the naming rule rejects;
* ``matches``: output patterns no text matches together (as ``re.search`` reads them:
  a pattern without anchors may match anywhere), decided on automata;
* ``matches-signature``: a pattern that no function with the pinned name (and
  async-ness) can match, such as ``^def get_`` with ``name: fetch``.

A pattern the automaton builder cannot read (``\\w``, inner anchors, lookaround) is
reported as ``undecided-conflict`` (a warning), never guessed.
"""

from __future__ import annotations

import itertools
import re
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
    Param,
    Params,
    Require,
    Returns,
    Signature,
    SourceProvenance,
)
from ..diagnostics import Diagnostics, Label, quote
from .describe import value_of

if TYPE_CHECKING:
    from ..automata import DFA

__all__ = ["DetectConflicts"]

_T = TypeVar("_T")


class _Kinds:
    """A set's constraints grouped by kind once, for the many lookups below."""

    def __init__(self, cset: ConstraintSet) -> None:
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
        found += _limits(k)
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
        from ananke.languages.python.grammar import IDENTIFIER
        from ananke.languages.python.naming import NAMING_STYLES

        from ..automata import DFA
        from ..regex import parse_regex
        from .lower import _grammar_regex

        rules = cset.of(Naming)
        if not rules:
            return []
        ident = DFA.from_expr(parse_regex(IDENTIFIER), max_states=self.max_states)
        dfas: dict[str, DFA] = {}
        for n in rules:
            pattern = NAMING_STYLES[n.style] if n.style else _grammar_regex(n.pattern or "")
            d = self._automaton(n, pattern, cset, diags)
            if d is not None:
                dfas[n.id] = d
        by_id = {n.id: n for n in rules}
        out = [_naming_conflict([by_id[i] for i in combo]) for combo in _empty_subsets(dfas, ident)]
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
        """Output patterns no text can match together (``re.search`` semantics), and
        patterns no function with the pinned name (and async-ness) can match."""
        rules = cset.of(Matches)
        if len(rules) < (1 if cset.pins() else 2):
            return []  # nothing to compare a pattern with
        dfas: dict[str, DFA] = {}
        for m in rules:
            d = self._automaton(m, _search_language(m.pattern), cset, diags)
            if d is not None:
                dfas[m.id] = d
        by_id = {m.id: m for m in rules}
        out = []
        for combo in _empty_subsets(dfas, None):
            shown = ", ".join(value_of(by_id[i]) for i in combo)
            out.append(
                Conflict(
                    kind="matches",
                    ids=combo,
                    roles=tuple("the output must match this" for _ in combo),
                    message=f"no output matches all of the patterns {shown}",
                    help="keep one of the patterns, or mark the others `@soft`",
                )
            )
        out += self._matches_def(cset, dfas, by_id)
        return out

    def _matches_def(
        self, cset: _Kinds, dfas: dict[str, DFA], by_id: dict[str, Matches]
    ) -> list[Conflict]:
        """Patterns that no output starting as the pinned ``def`` line allows can match.

        Every output of the Python grammar starts with a blank or comment line, a
        decorator (``@``), or its ``def`` line; the automaton of those starts (anything
        may follow) is a superset of the outputs, so an empty intersection with a pattern
        is a certain conflict, never a guess.
        """
        from ..automata import DFA, StateLimitExceeded
        from ..grammar import Alt, Lit, Regex, Seq

        ws = r"[ \t\f\\\r\n]+"  # a superset of what may separate the words
        keyword = {None: f"(?:async{ws})?def{ws}", True: f"async{ws}def{ws}", False: f"def{ws}"}
        out = []
        for p in cset.pins():
            is_async = p.is_async if isinstance(p, Signature) else None
            start = Alt(
                items=(
                    Regex(pattern=r"[ \t\f\r\n#@](?s:.)*"),
                    Seq(
                        items=(
                            Regex(pattern=keyword[is_async]),
                            Lit(text=p.name),
                            Regex(pattern=r"(?:[^0-9A-Za-z_\x80-\x{10FFFF}](?s:.)*)?"),
                        )
                    ),
                )
            )
            try:
                outputs = DFA.from_expr(start, max_states=self.max_states)
            except StateLimitExceeded:  # pragma: no cover - a small, fixed shape
                continue
            for mid, d in sorted(dfas.items()):
                try:
                    empty = d.intersect(outputs).is_empty()
                except StateLimitExceeded:
                    continue
                if empty:
                    out.append(
                        _pair(
                            "matches-signature",
                            by_id[mid],
                            "the output must match this",
                            p,
                            "the function is pinned here",
                            f"no function named {quote(p.name)} matches the pattern "
                            f"{value_of(by_id[mid])}",
                            help="change the pattern, or the pinned name, or mark one `@soft`",
                        )
                    )
        return out


def _search_language(pattern: str) -> str | None:
    """The strings ``re.search(pattern, s)`` finds a match in, as a whole-string regex; None
    when that cannot be written: inline flags other than a leading ``(?s)``, lookaround or
    backreferences. A leading ``^``/``\\A`` and a trailing ``$``/``\\Z`` become the
    bounds of the match (without MULTILINE, ``$`` also matches before a final newline);
    anchors anywhere else are refused by the regex reader."""
    from .lower import _grammar_regex

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
    inner = _grammar_regex(body)
    if inner is None:
        return None
    if dotall:
        inner = f"(?s:{inner})"
    any_ = "(?s:.)*"
    tail = {"strict": "", "dollar": "\\n?", "": any_}[end]
    return f"{'' if start else any_}{inner}{tail}"


def _empty_subsets(dfas: dict[str, DFA], base: DFA | None) -> list[tuple[str, ...]]:
    """The smallest sets of ids whose automata (and ``base``) accept nothing together,
    smallest first, none a superset of another. Subsets of up to three, then all of them:
    many rules cost O(n**3) products, not 2**n. A product past the state bound counts as
    not empty."""
    from ..automata import StateLimitExceeded

    ids = sorted(dfas)
    found: list[tuple[str, ...]] = []
    sizes = [*range(1, min(len(ids), 3) + 1), *([len(ids)] if len(ids) > 3 else [])]
    for size in sizes:
        for combo in itertools.combinations(ids, size):
            if any(set(f) <= set(combo) for f in found):
                continue
            try:
                d = base
                for i in combo:
                    d = dfas[i] if d is None else d.intersect(dfas[i])
            except StateLimitExceeded:
                continue
            if d is not None and d.is_empty():
                found.append(combo)
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
    from ananke.languages.python.signature import pinned_words

    forbidden: dict[str, list[Forbid]] = {}
    for f in cset.of(Forbid):
        forbidden.setdefault(f.name, []).append(f)
    out = []
    pinned: list[Params | Signature] = [*cset.of(Params), *cset.of(Signature)]
    for p in pinned:
        is_async = p.is_async if isinstance(p, Signature) else None
        for word, where in pinned_words(p.params, is_async):
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


def _limits(cset: _Kinds) -> list[Conflict]:
    """``max_chars`` below the shortest ``def`` line the pinned parts allow."""
    sigs = cset.of(Signature)
    names = cset.of(FunctionName)
    parts: list[Constraint] = [*sigs, *names, *cset.of(Params), *cset.of(Returns)]
    if not parts:
        return []
    need = _shortest_def(cset)
    out = []
    for lim in cset.of(Limit):
        if lim.metric == "chars" and lim.max < need:
            # The part that makes the line longest, for the label.
            part = max(parts, key=lambda c: len(value_of(c)))
            out.append(
                _pair(
                    "limit-signature",
                    lim,
                    f"at most {lim.max} characters here",
                    part,
                    "pinned here",
                    f"`max_chars: {lim.max}` is below the {need} characters that the "
                    f"pinned signature of {quote(cset.name)} needs",
                    help=f"raise `max_chars` to at least {need}, or unpin the signature",
                )
            )
    return out


def _shortest_def(cset: _Kinds) -> int:
    """A lower bound on the characters of any function the set's pinned parts allow:
    ``def NAME(P1,P2)->T:`` and one character of body, every optional space left out.

    Where two constraints pin the same part differently (a conflict of its own), the
    shorter counts, so the bound holds whichever of them stands."""
    sigs = cset.of(Signature)
    names = [len(c.name) for c in cset.of(FunctionName)] + [len(s.name) for s in sigs]
    params = [_params_chars(c.params) for c in cset.of(Params)]
    params += [_params_chars(s.params) for s in sigs]
    returns = [len(c.type.name.split(".")[-1]) for c in cset.of(Returns)]
    returns += [len(s.returns.name.split(".")[-1]) for s in sigs if s.returns is not None]
    n = len("def ") + min(names, default=1) + len("():") + 1
    n += len("async ") if sigs and all(s.is_async for s in sigs) else 0
    n += min(params, default=0)
    n += len("->") + min(returns) if returns else 0
    return n


def _params_chars(params: tuple[Param, ...]) -> int:
    if not params:
        return 0
    n = sum(len(p.name) for p in params) + len(params) - 1
    n += sum({"var_positional": 1, "var_keyword": 2}.get(p.kind, 0) for p in params)
    n += 2 if any(p.kind == "keyword_only" for p in params) else 0  # "*,"
    return n + sum(len(p.default) + 1 for p in params if p.default is not None)


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
