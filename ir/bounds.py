"""What is certain about a grammar's language without enumerating it: a lower bound on the
length of its shortest string, and a regular language that contains all of its strings.

Both are sound in one direction only, the direction a conflict check needs: the shortest
string is never shorter than :func:`shortest_length` says, and no string outside
:func:`regular_superset` is in the grammar's language. So a limit below the bound, or a
pattern whose automaton meets the superset nowhere, is a certain contradiction; the
converse is not decided.

Lengths count code points, as ``len()`` of a Python string does. The lexer's longest-match
rule only removes strings from a grammar's language, so both bounds hold for the language
an engine actually generates.
"""

from __future__ import annotations

import collections
import functools
import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from typing import NamedTuple, TypeVar

from ananke.ir.automata import DFA, NFA, StateLimitExceeded, scalar_ranges
from ananke.ir.grammar import (
    Alt,
    And,
    CharClass,
    Empty,
    Expr,
    Grammar,
    JsonSchema,
    Lit,
    Not,
    Ref,
    Regex,
    Repeat,
    Rule,
    Seq,
    Special,
    refs,
    walk,
)
from ananke.ir.lowerings.recursion import recursive_groups, without_left_recursion
from ananke.ir.ranges import ANY_SCALAR, Ranges, intersect, merge, union
from ananke.ir.regex import RegexError, parse_regex

__all__ = ["Superset", "regular_superset", "shortest_length"]

_RELAXED_REPEAT = 3
"""Repeats bounded above this count are taken as unbounded in the superset: ``[ ]{0,256}``
costs 257 automaton states, ``[ ]*`` one."""


def shortest_length(grammar: Grammar) -> float:
    """A lower bound on the length of the shortest string of ``grammar`` (``math.inf`` when
    no string is certain to exist: the start rule derives nothing).

    Exact for grammars of literals, classes, regexes, sequences, alternatives and repeats;
    an intersection counts as its longest part's shortest string, a negation, a JSON value
    and a special token as possibly empty.
    """
    return _lengths(_graph(grammar)).get(grammar.start, math.inf)


class _Graph(NamedTuple):
    """The rules the start rule reaches, each with the rules it refers to, in postorder."""

    rules: dict[str, Rule]
    succ: dict[str, list[str]]
    order: list[str]


@functools.lru_cache(maxsize=64)
def _graph(grammar: Grammar) -> _Graph:
    rules = {r.name: r for r in grammar.rules}
    order = list(_postorder(grammar.start, rules))
    return _Graph(rules, {n: _succ(rules, n) for n in order}, order)


def _lengths(graph: _Graph) -> dict[str, float]:
    """The shortest length of every rule the start rule reaches (``math.inf``: none)."""
    # From above: a value only ever decreases, to a sum of finite lengths found before it,
    # so the fixpoint is reached.
    return _fixpoint(graph, _min_length, _LENGTHS)


_V = TypeVar("_V")

_MEMO = 50_000
_LENGTHS: dict[Hashable, float] = {}
_PROFILES: dict[Hashable, _Profile] = {}


def _fixpoint(
    graph: _Graph,
    value: Callable[[Expr, dict[str, _V]], _V],
    memo: dict[Hashable, _V],
    extra: Mapping[str, Hashable] | None = None,
) -> dict[str, _V]:
    """The least fixpoint of ``value`` over the rules the start rule reaches: rules in
    postorder first (a rule without recursion is final at once), then each rule again
    whenever one it refers to changes. A rule with no value yet is absent from the map.

    ``memo`` keeps the value of a body given the values of the rules it refers to (and
    their ``extra`` facts, which ``value`` reads too) across grammars: the grammars of
    many sets share most of their rules."""
    rules, succ, order = graph
    users: dict[str, list[str]] = {name: [] for name in order}
    for name in order:
        for n in succ[name]:
            users[n].append(name)
    found: dict[str, _V] = {}
    todo = collections.deque(order)
    queued = set(order)
    while todo:
        name = todo.popleft()
        queued.discard(name)
        body = rules[name].body
        key = (body, tuple((n, found.get(n), extra and extra.get(n)) for n in _sorted_refs(body)))
        new = memo.get(key)
        if new is None:
            new = memo[key] = value(body, found)
            if len(memo) > _MEMO:
                del memo[next(iter(memo))]
        if name not in found or new != found[name]:
            found[name] = new
            for user in users[name]:
                if user not in queued:
                    queued.add(user)
                    todo.append(user)
    return found


def _min_length(e: Expr, rules: Mapping[str, float]) -> float:
    if isinstance(e, Ref):
        return rules.get(e.name, math.inf)
    if isinstance(e, Seq):
        return sum((_min_length(x, rules) for x in e.items), 0.0)
    if isinstance(e, Alt):
        return min((_min_length(x, rules) for x in e.items), default=math.inf)
    if isinstance(e, Repeat):
        return 0 if e.min == 0 else e.min * _min_length(e.item, rules)
    if isinstance(e, And):
        return max((_min_length(x, rules) for x in e.items), default=0)
    return _leaf_length(e)


@functools.lru_cache(maxsize=4096)
def _leaf_length(e: Expr) -> float:
    """The shortest string of an expression without references (cached: grammars of many
    constraint sets share their lexemes)."""
    if isinstance(e, Lit):
        # A lone surrogate is no scalar value: the automata match nothing for it.
        return math.inf if any(0xD800 <= ord(c) <= 0xDFFF for c in e.text) else len(e.text)
    if isinstance(e, CharClass):
        return 1 if scalar_ranges(e) else math.inf
    if isinstance(e, Regex):
        try:
            return _min_length(parse_regex(e.pattern), {})
        except RegexError:
            return 0  # not readable here: possibly empty, which is a lower bound
    if isinstance(e, Empty):
        return 0
    return 0  # Not, JsonSchema, Special: possibly empty


def regular_superset(grammar: Grammar, *, max_states: int, depth: int = 2) -> Superset:
    """A regular language containing every string of ``grammar`` (and maybe more).

    The lexemes up to ``depth`` references from the start rule keep their structure as
    automata (the lexemes they refer to first, each bounded by ``max_states``), and the
    other rules up to ``depth - 1`` references as expressions over them (written out at
    each use, so they get a shorter reach). The rest is *widened*:
    a rule becomes "a string that starts with a character its strings can start with,
    goes on with characters they can contain, and ends with one they can end with" (empty
    or one character long only if the rule allows that). So are the rules on a cycle that
    left-recursion removal does not undo, and a lexeme whose automaton would pass the
    bound even after its largest parts are widened. Repeats bounded above a few counts are
    taken as unbounded, and non-ASCII characters as one class.
    """
    return _Builder(without_left_recursion(grammar), max_states, depth).build()


class Superset:
    """A regular language as an expression over automata (see :func:`regular_superset`),
    compared with :meth:`meets` as an NFA, never determinized as a whole."""

    def __init__(self, expr: Expr, known: Mapping[str, DFA], max_states: int) -> None:
        self.expr = expr
        self.known = known
        self.max_states = max_states
        self._nfa: NFA | None = None

    def meets(self, dfa: DFA) -> bool:
        """Whether ``dfa`` accepts some string of this language. ``StateLimitExceeded``
        past the bounds: an NFA of more than 20 times ``max_states`` states, or a product
        past that of :meth:`DFA.meets`."""
        if self._nfa is None:
            self._nfa = NFA.from_expr(self.expr, known=self.known, max_states=20 * self.max_states)
        return dfa.meets(self._nfa)


class _Profile(NamedTuple):
    """The characters a language's strings can start with, end with, and contain."""

    first: Ranges
    last: Ranges
    chars: Ranges


_NONE = _Profile((), (), ())
_ALL = _Profile(ANY_SCALAR, ANY_SCALAR, ANY_SCALAR)


class _Builder:
    def __init__(self, grammar: Grammar, max_states: int, depth: int) -> None:
        self.start = grammar.start
        self.graph = _graph(grammar)
        self.rules = self.graph.rules
        self.max_states = max_states
        self.lengths = lengths = _lengths(self.graph)
        self.profiles = _fixpoint(
            self.graph, lambda body, found: _profile(body, found, lengths), _PROFILES, lengths
        )
        self.near = _near(self.start, self.graph.succ, depth)
        # Other rules are written out at each use, lexemes built once: a shorter reach.
        self.near_rules = _near(self.start, self.graph.succ, depth - 1)
        self.cyclic = _cyclic(self.start, self.rules)
        self.dfas: dict[str, DFA] = {}
        """The automaton of every lexeme built with its structure."""
        self.exact: set[str] = set()
        """Lexemes whose automaton is their language (needed under a negation)."""
        self.keys: dict[str, Hashable] = {}
        """What each built lexeme's automaton depends on, for the cache across grammars."""
        self.inlined: dict[str, Expr] = {}

    def build(self) -> Superset:
        for name in self.graph.order:
            rule = self.rules[name]
            near = self.near if rule.lexeme else self.near_rules
            if name in self.cyclic or name not in near:
                continue  # widened where it is used
            if rule.lexeme:
                self.dfas[name] = self.lexeme(rule)
            else:
                # Rules refer to rules built before them (postorder), cycles are widened.
                self.inlined[name] = self.inline(rule.body)
        expr = self.inlined.get(self.start, Ref(name=self.start))
        return Superset(expr, {n: self.part(n) for n in refs(expr)}, self.max_states)

    def part(self, name: str) -> DFA:
        """The automaton a reference to ``name`` stands for."""
        found = self.dfas.get(name)
        if found is not None:
            return found
        if name not in self.rules:  # an undefined rule derives nothing
            return DFA.from_expr(Alt(items=()))
        return self.widened(name)

    def inline(self, body: Expr) -> Expr:
        """A rule's (relaxed) body with the rules it refers to written in."""
        relaxed, _ = self.relax(body)

        def sub(e: Expr) -> Expr:
            if isinstance(e, Ref):
                return self.inlined.get(e.name, e)
            if isinstance(e, Seq | Alt | And):
                return type(e)(items=tuple(map(sub, e.items)))
            if isinstance(e, Repeat):
                return Repeat(item=sub(e.item), min=e.min, max=e.max)
            return e

        return sub(relaxed)

    def widened(self, name: str) -> DFA:
        """The widened form of rule ``name`` (see :func:`regular_superset`)."""
        return _widened(self.profiles.get(name, _NONE), self.lengths.get(name, math.inf))

    def key(self, name: str) -> Hashable:
        """What the automaton a reference to ``name`` stands for depends on."""
        if name in self.dfas:
            return self.keys[name]
        if name not in self.rules:
            return None
        return (self.profiles.get(name, _NONE), self.lengths.get(name, math.inf))

    def lexeme(self, rule: Rule) -> DFA:
        # Grammars of many sets share most lexemes: the same body over the same automata
        # gives the same automaton.
        key = (rule.body, self.max_states, tuple((n, self.key(n)) for n in _sorted_refs(rule.body)))
        self.keys[rule.name] = key
        found = _LEXEMES.get(key)
        if found is None:
            found = _LEXEMES[key] = self.build_lexeme(rule)
            if len(_LEXEMES) > _CACHED_LEXEMES:
                del _LEXEMES[next(iter(_LEXEMES))]
        dfa, exact = found
        if exact:
            self.exact.add(rule.name)
        return dfa

    def build_lexeme(self, rule: Rule) -> tuple[DFA, bool]:
        """The automaton of a lexeme, and whether it is the lexeme's language exactly."""
        body, exact = self.relax(rule.body)
        # Widening a part under a negation would narrow the rule: those stay as they are.
        fixed = {n for node in walk(body) if isinstance(node, Not) for n in refs(node.item)}
        widened: set[str] = set()
        while True:
            known = {n: self.widened(n) if n in widened else self.part(n) for n in refs(body)}
            try:
                dfa = DFA.from_expr(body, known=known, max_states=self.max_states)
            except StateLimitExceeded:
                # Widen the largest part not widened yet; with none left, the whole rule.
                parts = [n for n in self.dfas.keys() & known.keys() if n not in widened | fixed]
                if not parts:
                    return self.widened(rule.name), False
                widened.add(max(parts, key=lambda n: (self.dfas[n].num_states, n)))
                continue
            return dfa, exact and not widened and all(n in self.exact for n in known)

    def relax(self, e: Expr) -> tuple[Expr, bool]:
        """``e`` with a larger language where that keeps automata small; whether it is
        unchanged (its references aside)."""
        if isinstance(e, Regex):
            try:
                parsed = parse_regex(e.pattern)
            except RegexError:
                return _ANY, False
            relaxed, exact = self.relax(parsed)
            return (e, True) if exact else (relaxed, False)
        if isinstance(e, Seq | Alt | And):
            pairs = [self.relax(x) for x in e.items]
            exact = all(x for _, x in pairs)
            return (e if exact else type(e)(items=tuple(x for x, _ in pairs))), exact
        if isinstance(e, Repeat):
            item, exact = self.relax(e.item)
            lo, hi = e.min, e.max
            if (hi is not None and hi > _RELAXED_REPEAT) or lo > _RELAXED_REPEAT:
                lo, hi, exact = min(lo, _RELAXED_REPEAT), None, False
            return (e if exact else Repeat(item=item, min=lo, max=hi)), exact
        if isinstance(e, Not):
            # Widening inside a negation would narrow it: the inner language must be exact.
            if all(n in self.exact for n in refs(e.item)):
                return e, True
            return _ANY, False
        if isinstance(e, JsonSchema | Special):
            return _ANY, False
        if isinstance(e, CharClass):
            ranges = scalar_ranges(e)
            wide = _coarse(ranges)
            return (e, True) if wide == ranges else (CharClass(ranges=wide), False)
        return e, True


def _coarse(ranges: Ranges) -> Ranges:
    """``ranges`` with every non-ASCII code point in it standing for all of them: the
    automata stay small where identifier classes list hundreds of ranges, and what output
    patterns compare is almost always ASCII."""
    ascii_part = intersect(ranges, ((0, 0x7F),))
    return ascii_part if ascii_part == ranges else union(ascii_part, _NON_ASCII)


_NON_ASCII = intersect(ANY_SCALAR, ((0x80, 0x10FFFF),))


_ANY = Repeat(item=CharClass(ranges=ANY_SCALAR))

_LEXEMES: dict[Hashable, tuple[DFA, bool]] = {}
_CACHED_LEXEMES = 1024


@functools.lru_cache(maxsize=1024)
def _widened(profile: _Profile, n: float) -> DFA:
    first, last, chars = map(_coarse, profile)
    alts: list[Expr] = []
    if n == 0:
        alts.append(Empty())
    if n <= 1 and intersect(first, last):
        alts.append(CharClass(ranges=intersect(first, last)))
    if first and last and n < math.inf:
        middle: Expr = Repeat(item=CharClass(ranges=chars)) if chars else Empty()
        alts.append(Seq(items=(CharClass(ranges=first), middle, CharClass(ranges=last))))
    return DFA.from_expr(Alt(items=tuple(alts)))


def _profile(e: Expr, rules: Mapping[str, _Profile], lengths: Mapping[str, float]) -> _Profile:
    if isinstance(e, Ref):
        return rules.get(e.name, _NONE)
    if isinstance(e, Alt):
        return _union(_profile(x, rules, lengths) for x in e.items)
    if isinstance(e, Seq):
        parts = [(_profile(x, rules, lengths), _min_length(x, lengths) == 0) for x in e.items]
        return _Profile(
            _reach(parts),
            _reach(reversed(parts), last=True),
            _union(p for p, _ in parts).chars,
        )
    if isinstance(e, Repeat):
        return _NONE if e.max == 0 else _profile(e.item, rules, lengths)
    if isinstance(e, And):
        if not e.items:
            return _ALL
        out = _profile(e.items[0], rules, lengths)
        for x in e.items[1:]:
            p = _profile(x, rules, lengths)
            out = _Profile(
                intersect(out.first, p.first),
                intersect(out.last, p.last),
                intersect(out.chars, p.chars),
            )
        return out
    return _leaf_profile(e)


def _reach(parts: Iterable[tuple[_Profile, bool]], *, last: bool = False) -> Ranges:
    """The first (``last``: last) characters of a sequence: those of each part up to the
    first one that cannot be empty (from the end with ``last``)."""
    out: Ranges = ()
    for p, nullable in parts:
        out = union(out, p.last if last else p.first)
        if not nullable:
            break
    return out


def _union(profiles: Iterable[_Profile]) -> _Profile:
    first: Ranges = ()
    last: Ranges = ()
    chars: Ranges = ()
    for p in profiles:
        first, last, chars = union(first, p.first), union(last, p.last), union(chars, p.chars)
    return _Profile(first, last, chars)


@functools.lru_cache(maxsize=4096)
def _leaf_profile(e: Expr) -> _Profile:
    if isinstance(e, Lit):
        # A lone surrogate is no scalar value: such a literal matches nothing.
        if not e.text or any(0xD800 <= ord(c) <= 0xDFFF for c in e.text):
            return _NONE
        first, last = ord(e.text[0]), ord(e.text[-1])
        chars = merge((ord(c), ord(c)) for c in e.text)
        return _Profile(*map(_coarse, (((first, first),), ((last, last),), chars)))
    if isinstance(e, CharClass):
        ranges = _coarse(scalar_ranges(e))
        return _Profile(ranges, ranges, ranges)
    if isinstance(e, Regex):
        try:
            return _profile(parse_regex(e.pattern), {}, {})
        except RegexError:
            return _ALL
    if isinstance(e, Empty):
        return _NONE
    return _ALL  # Not, JsonSchema, Special


def _succ(rules: Mapping[str, Rule], name: str) -> list[str]:
    return [n for n in _sorted_refs(rules[name].body) if n in rules]


@functools.lru_cache(maxsize=1 << 14)
def _sorted_refs(body: Expr) -> tuple[str, ...]:
    return tuple(sorted(refs(body)))


def _postorder(start: str, rules: Mapping[str, Rule]) -> Iterator[str]:
    """Rules reachable from ``start``, each after the rules it refers to (cycles broken
    where they are met). Iterative: grammars nest deeper than Python's stack."""
    seen = {start}
    stack: list[tuple[str, list[str]]] = [(start, _succ(rules, start))]
    while stack:
        name, todo = stack[-1]
        if todo:
            nxt = todo.pop()
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, _succ(rules, nxt)))
            continue
        stack.pop()
        yield name


def _near(start: str, succ: Mapping[str, list[str]], depth: int) -> frozenset[str]:
    """The rules at most ``depth`` references away from ``start``."""
    seen = {start}
    frontier = [start]
    for _ in range(depth):
        frontier = [n for name in frontier for n in succ[name] if n not in seen]
        seen.update(frontier)
    return frozenset(seen)


def _cyclic(start: str, rules: Mapping[str, Rule]) -> frozenset[str]:
    return frozenset(n for group in recursive_groups(start, dict(rules)) for n in group)
