"""Deterministic automata over Unicode scalar values, for lexeme analysis and lowering.

A :class:`DFA` reads strings of Unicode scalar values (code points U+0000-U+10FFFF except
the surrogates U+D800-U+DFFF). Its alphabet is never enumerated: each state's transitions
are a sorted list of disjoint ``(lo, hi, target)`` intervals, and a code point no interval
covers leads to the implicit dead state. :meth:`DFA.from_expr` builds one from a GrammarIR
lexeme body (Thompson NFA, then subset construction, then Hopcroft minimization; ``Not``
by complement, ``And`` by product). Every automaton built along the way is bounded by
``max_states``: the construction stops with :class:`StateLimitExceeded` as soon as the
bound is passed, so a blow-up costs a bounded time and memory, never a hang.

Why not greenery (PyPI)? Measured with greenery 4.2.3 against this module, same machine:

- identifier minus the 35 Python keywords, ``[A-Za-z_][A-Za-z0-9_]*`` and not a keyword
  (83 states): greenery 16.6 s (0.4 s to build the keyword automaton, 5.0 s to
  complement it, 11.1 s to intersect and reduce); this module 9 ms;
- the same with the Python grammar's Unicode identifier classes (negated classes reaching
  U+10FFFF): greenery 19 s, this module 9 ms. greenery models "every other character" as
  one symbol, so negation over all of Unicode works, but it cannot read ``\\x{...}``,
  ``\\u``, ``(?s:.)``, and its ``.`` matches ``\\n`` (Rust's does not);
- ``(a|b)*a(a|b){20}`` (2**21 states): greenery has no way to bound the states it builds
  and was still running after 60 s; this module stops with StateLimitExceeded after
  0.12 s at the default bound of 10,000 states;
- greenery has no lexeme references, no printing of automata as grammar rules, and no
  access to states for the longest-match analysis the lowerings need.
"""

from __future__ import annotations

import bisect
import collections
import functools
from collections.abc import Iterable, Mapping, Sequence

from ananke.ir.grammar import (
    Alt,
    And,
    CharClass,
    Empty,
    Expr,
    Lit,
    Not,
    Ref,
    Regex,
    Repeat,
    Rule,
    Seq,
)
from ananke.ir.ranges import ANY_SCALAR, complement, intersect, merge
from ananke.ir.regex import parse_regex

__all__ = ["DFA", "NFA", "StateLimitExceeded", "scalar_ranges"]

Transition = tuple[int, int, int]


class StateLimitExceeded(Exception):
    """More than ``limit`` states were needed to build ``what``."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__(f"{what} needs more than {limit} automaton states")
        self.limit = limit
        self.what = what


@functools.lru_cache(maxsize=8192)
def scalar_ranges(cls: CharClass) -> tuple[tuple[int, int], ...]:
    """The scalar values a character class matches, as sorted disjoint ranges."""
    merged = merge(cls.ranges)
    return complement(merged) if cls.negated else intersect(merged, ANY_SCALAR)


# --- NFA (Thompson) -------------------------------------------------------------------


class _NFA:
    """States are ints; ``eps`` and ``trans`` are indexed by state."""

    def __init__(self, limit: int, what: str) -> None:
        self.eps: list[list[int]] = []
        self.trans: list[list[Transition]] = []
        self.limit = limit
        self.what = what

    def new(self) -> int:
        if len(self.eps) >= self.limit:
            raise StateLimitExceeded(self.limit, self.what)
        self.eps.append([])
        self.trans.append([])
        return len(self.eps) - 1

    def embed(self, dfa: DFA) -> tuple[int, int]:
        """A fragment equivalent to ``dfa`` (a copy of its states)."""
        base = len(self.eps)
        if base + dfa.num_states + 1 > self.limit:
            raise StateLimitExceeded(self.limit, self.what)
        for state in range(dfa.num_states):
            self.eps.append([])
            self.trans.append([(lo, hi, base + t) for lo, hi, t in dfa.transitions(state)])
        end = self.new()
        for state in dfa.accepting:
            self.eps[base + state].append(end)
        return base + dfa.start, end


class _Builder:
    """Builds DFAs for expressions, caching one DFA per referenced lexeme."""

    def __init__(self, lexemes: Mapping[str, Expr], max_states: int) -> None:
        self.lexemes = lexemes
        self.max_states = max_states
        self.cache: dict[str, DFA] = {}
        self.active: list[str] = []

    @property
    def what(self) -> str:
        return f"lexeme {self.active[-1]}" if self.active else "the expression"

    def dfa(self, expr: Expr) -> DFA:
        if isinstance(expr, Ref):
            return self.ref(expr.name)
        if isinstance(expr, Not):
            return self.dfa(expr.item).complement(max_states=self.max_states, what=self.what)
        if isinstance(expr, And):
            if not expr.items:
                return self.dfa(Not(item=Alt(items=())))
            result = self.dfa(expr.items[0])
            for item in expr.items[1:]:
                result = result.intersect(self.dfa(item), max_states=self.max_states)
            return result
        nfa = _NFA(max(20 * self.max_states, 1000), self.what)
        start, end = self.fragment(nfa, expr)
        return _determinize(nfa, start, end, self.max_states, self.what).minimize()

    def ref(self, name: str) -> DFA:
        cached = self.cache.get(name)
        if cached is not None:
            return cached
        if name in self.active:
            cycle = " -> ".join([*self.active[self.active.index(name) :], name])
            raise ValueError(f"lexemes refer to themselves: {cycle}")
        body = self.lexemes.get(name)
        if body is None:
            raise ValueError(f"undefined lexeme {name!r}")
        self.active.append(name)
        try:
            dfa = self.cache[name] = self.dfa(body)
        finally:
            self.active.pop()
        return dfa

    def fragment(self, nfa: _NFA, expr: Expr) -> tuple[int, int]:
        """A fresh NFA fragment (start, end) for ``expr``."""
        if isinstance(expr, Lit):
            start = cur = nfa.new()
            for ch in expr.text:
                nxt = nfa.new()
                cp = ord(ch)
                if 0xD800 <= cp <= 0xDFFF:  # a lone surrogate is no scalar value: no match
                    return start, nfa.new()
                nfa.trans[cur].append((cp, cp, nxt))
                cur = nxt
            return start, cur
        if isinstance(expr, CharClass):
            start, end = nfa.new(), nfa.new()
            nfa.trans[start].extend((lo, hi, end) for lo, hi in scalar_ranges(expr))
            return start, end
        if isinstance(expr, Regex):
            return self.fragment(nfa, parse_regex(expr.pattern))
        if isinstance(expr, Empty):
            state = nfa.new()
            return state, state
        if isinstance(expr, Seq):
            if not expr.items:
                state = nfa.new()
                return state, state
            start, end = self.fragment(nfa, expr.items[0])
            for item in expr.items[1:]:
                s, e = self.fragment(nfa, item)
                nfa.eps[end].append(s)
                end = e
            return start, end
        if isinstance(expr, Alt):
            start, end = nfa.new(), nfa.new()
            for item in expr.items:
                s, e = self.fragment(nfa, item)
                nfa.eps[start].append(s)
                nfa.eps[e].append(end)
            return start, end
        if isinstance(expr, Repeat):
            return self.repeat(nfa, expr)
        if isinstance(expr, Ref | Not | And):
            return nfa.embed(self.dfa(expr))
        raise ValueError(f"{type(expr).__name__} is not a regular expression")

    def repeat(self, nfa: _NFA, expr: Repeat) -> tuple[int, int]:
        start = end = nfa.new()
        last: tuple[int, int] | None = None
        for _ in range(expr.min):
            last = s, e = self.fragment(nfa, expr.item)
            nfa.eps[end].append(s)
            end = e
        if expr.max is None:
            if last is not None:  # x{m,}: loop on the last copy
                nfa.eps[last[1]].append(last[0])
                return start, end
            # x*: start is end. No move leaves s for end: s may be reached again inside
            # the item (the loop of (b*a)* reads b at s), which is no place to stop.
            s, e = self.fragment(nfa, expr.item)
            nfa.eps[end].append(s)
            nfa.eps[e].append(s)
            nfa.eps[e].append(end)
            return start, end
        final = nfa.new()
        nfa.eps[end].append(final)
        for _ in range(expr.max - expr.min):
            s, e = self.fragment(nfa, expr.item)
            nfa.eps[end].append(s)
            nfa.eps[e].append(final)
            end = e
        return start, final


def _determinize(nfa: _NFA, start: int, accept: int, limit: int, what: str) -> DFA:
    """Subset construction over intervals; at most ``limit`` states."""
    eps, trans = nfa.eps, nfa.trans
    # Only states with transitions (or the accepting one) tell subsets apart.
    closures: dict[int, frozenset[int]] = {}

    def closure(state: int) -> frozenset[int]:
        found = closures.get(state)
        if found is not None:
            return found
        seen = {state}
        stack = [state]
        while stack:
            for t in eps[stack.pop()]:
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        found = closures[state] = frozenset(s for s in seen if trans[s] or s == accept)
        return found

    set_closures: dict[frozenset[int], frozenset[int]] = {}
    index: dict[frozenset[int], int] = {}
    sets: list[frozenset[int]] = []
    table: list[list[Transition]] = []

    def state_of(targets: frozenset[int]) -> int:
        subset = set_closures.get(targets)
        if subset is None:
            subset = set_closures[targets] = frozenset().union(*map(closure, targets))
        found = index.get(subset)
        if found is None:
            if len(sets) >= limit:
                raise StateLimitExceeded(limit, what)
            found = index[subset] = len(sets)
            sets.append(subset)
        return found

    state_of(frozenset((start,)))
    i = 0
    while i < len(sets):
        starts: dict[int, list[int]] = collections.defaultdict(list)
        ends: dict[int, list[int]] = collections.defaultdict(list)
        for s in sets[i]:
            for lo, hi, t in trans[s]:
                starts[lo].append(t)
                ends[hi + 1].append(t)
        row: list[Transition] = []
        active: dict[int, int] = {}
        points = sorted(starts.keys() | ends.keys())
        for k, point in enumerate(points):
            for t in ends.get(point, ()):
                left = active[t] - 1
                if left:
                    active[t] = left
                else:
                    del active[t]
            for t in starts.get(point, ()):
                active[t] = active.get(t, 0) + 1
            if not active:
                continue
            target = state_of(frozenset(active))
            hi = points[k + 1] - 1
            if row and row[-1][2] == target and row[-1][1] + 1 == point:
                row[-1] = (row[-1][0], hi, target)
            else:
                row.append((point, hi, target))
        table.append(row)
        i += 1
    accepting = [k for k, subset in enumerate(sets) if accept in subset]
    return DFA(table, 0, accepting, max_states=limit)


def _join(
    a: Sequence[Transition], b: Sequence[Transition], union: bool
) -> list[tuple[int, int, int, int]]:
    """Intervals where ``a`` and ``b`` (both defined, or either for a union) have targets;
    -1 stands for the dead state."""
    out: list[tuple[int, int, int, int]] = []
    i = j = 0
    cur = 0
    while i < len(a) or j < len(b):
        alo, ahi, at = a[i] if i < len(a) else (1 << 30, 1 << 30, -1)
        blo, bhi, bt = b[j] if j < len(b) else (1 << 30, 1 << 30, -1)
        cur = max(cur, min(alo, blo))
        in_a = alo <= cur
        in_b = blo <= cur
        if in_a and in_b:
            hi = min(ahi, bhi)
            out.append((cur, hi, at, bt))
        elif in_a:
            hi = min(ahi, blo - 1)
            if union:
                out.append((cur, hi, at, -1))
        else:
            hi = min(bhi, alo - 1)
            if union:
                out.append((cur, hi, -1, bt))
        cur = hi + 1
        if in_a and ahi < cur:
            i += 1
        if in_b and bhi < cur:
            j += 1
    return out


class DFA:
    """A deterministic automaton over Unicode scalar values with an interval alphabet.

    States are ``0 .. num_states - 1``; :meth:`transitions` gives a state's sorted,
    disjoint ``(lo, hi, target)`` intervals; code points outside them lead to an implicit
    dead state that rejects. Instances are immutable.
    """

    __slots__ = ("_accepting", "_table", "max_states", "start")

    def __init__(
        self,
        transitions: Sequence[Sequence[Transition]],
        start: int,
        accepting: Iterable[int],
        *,
        max_states: int = 10_000,
    ) -> None:
        self._table: tuple[tuple[Transition, ...], ...] = tuple(map(tuple, transitions))
        self.start = start
        self._accepting = frozenset(accepting)
        self.max_states = max_states
        """The bound the operations on this automaton apply (from :meth:`from_expr`)."""

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_expr(
        cls,
        expr: Expr,
        lexemes: Mapping[str, Expr] | None = None,
        *,
        max_states: int = 10_000,
        known: Mapping[str, DFA] | None = None,
    ) -> DFA:
        """The minimal DFA of a lexeme body.

        ``Ref`` names are looked up in ``known`` (automata already built, used as they are),
        then in ``lexemes`` (lexeme bodies by name, recursively; a
        cycle or an unknown name raises ``ValueError``), ``Regex`` patterns are read with
        :func:`~ananke.ir.regex.parse_regex` (``RegexError``), ``JsonSchema`` and
        ``Special`` raise ``ValueError``. Every intermediate automaton is bounded by
        ``max_states`` (and the Thompson NFA by 20 times that): past it,
        :class:`StateLimitExceeded`.
        """
        builder = _Builder(lexemes or {}, max_states)
        builder.cache.update(known or {})
        return builder.dfa(expr)

    # --- inspection ---------------------------------------------------------------------

    @property
    def num_states(self) -> int:
        return len(self._table)

    @property
    def accepting(self) -> frozenset[int]:
        return self._accepting

    def transitions(self, state: int) -> Sequence[Transition]:
        return self._table[state]

    def step(self, state: int, cp: int) -> int | None:
        """The state after reading code point ``cp`` (None: the dead state)."""
        row = self._table[state]
        k = bisect.bisect_right(row, (cp, 0x110000, 0)) - 1
        if k >= 0 and row[k][0] <= cp <= row[k][1]:
            return row[k][2]
        return None

    def accepts(self, text: str) -> bool:
        state = self.start
        for ch in text:
            nxt = self.step(state, ord(ch))
            if nxt is None:
                return False
            state = nxt
        return state in self._accepting

    def live_states(self) -> frozenset[int]:
        """States from which an accepting state is reachable."""
        preds: list[list[int]] = [[] for _ in self._table]
        for s, row in enumerate(self._table):
            for _, _, t in row:
                preds[t].append(s)
        live = set(self._accepting)
        stack = list(live)
        while stack:
            for p in preds[stack.pop()]:
                if p not in live:
                    live.add(p)
                    stack.append(p)
        return frozenset(live)

    def reachable_states(self) -> list[int]:
        """States reachable from the start, in breadth-first order (transitions sorted)."""
        order = [self.start]
        seen = {self.start}
        for s in order:
            for _, _, t in self._table[s]:
                if t not in seen:
                    seen.add(t)
                    order.append(t)
        return order

    def is_empty(self) -> bool:
        return self.start not in self.live_states()

    def example(self) -> str | None:
        """A shortest accepted string (smallest code points first), or None if empty."""
        parent: dict[int, tuple[int, int]] = {}
        order = [self.start]
        seen = {self.start}
        for s in order:
            if s in self._accepting:
                chars: list[str] = []
                while s != self.start:
                    s, cp = parent[s]
                    chars.append(chr(cp))
                return "".join(reversed(chars))
            for lo, _, t in self._table[s]:
                if t not in seen:
                    seen.add(t)
                    parent[t] = (s, lo)
                    order.append(t)
        return None

    def meets(self, nfa: NFA, *, max_pairs: int | None = None) -> bool:
        """Whether this automaton accepts some string of ``nfa``'s language.

        The product of the two is searched for a pair of accepting states, without
        determinizing ``nfa``: a language made of many parts costs the sum of their sizes,
        not their product. Past ``max_pairs`` pairs of states (default 50 times
        ``max_states``), :class:`StateLimitExceeded`.
        """
        limit = 50 * self.max_states if max_pairs is None else max_pairs
        live = self.live_states()
        if self.start not in live:
            return False
        eps, trans = nfa.eps, nfa.trans
        seen = {(nfa.start, self.start)}
        todo = [(nfa.start, self.start)]
        while todo:
            n, q = todo.pop()
            if n == nfa.accept and q in self._accepting:
                return True
            nexts = [(m, q) for m in eps[n]]
            row = self._table[q]
            for lo, hi, m in trans[n]:
                k = max(bisect.bisect_right(row, (lo, 0x110000, 0)) - 1, 0)
                while k < len(row) and row[k][0] <= hi:
                    if row[k][1] >= lo and row[k][2] in live:
                        nexts.append((m, row[k][2]))
                    k += 1
            for pair in nexts:
                if pair not in seen:
                    if len(seen) >= limit:
                        raise StateLimitExceeded(limit, "the product with the expression")
                    seen.add(pair)
                    todo.append(pair)
        return False

    def equivalent(self, other: DFA) -> bool:
        """Whether both automata accept the same language."""
        a, b = self.minimize(), other.minimize()
        return a._table == b._table and a._accepting == b._accepting and a.start == b.start

    def __repr__(self) -> str:
        return f"DFA(num_states={self.num_states}, accepting={len(self._accepting)})"

    # --- operations ---------------------------------------------------------------------

    def minimize(self) -> DFA:
        """The minimal equivalent DFA: unreachable and dead states dropped, equivalent
        states merged (Hopcroft), states numbered breadth-first from the start (so equal
        languages give equal automata)."""
        live = self.live_states()
        if self.start not in live:
            return DFA([[]], 0, (), max_states=self.max_states)
        keep = [s for s in self.reachable_states() if s in live]
        old_to_new = {s: i for i, s in enumerate(keep)}
        table = [
            [(lo, hi, old_to_new[t]) for lo, hi, t in self._table[s] if t in old_to_new]
            for s in keep
        ]
        blocks = _hopcroft(table, [old_to_new[s] for s in keep if s in self._accepting])
        # Quotient, then renumber breadth-first from the start.
        n_blocks = max(blocks) + 1
        rep: list[int] = [-1] * n_blocks
        for s, b in enumerate(blocks):
            if rep[b] < 0:
                rep[b] = s
        quotient: list[list[Transition]] = []
        for b in range(n_blocks):
            row: list[Transition] = []
            for lo, hi, t in table[rep[b]]:
                tb = blocks[t]
                if row and row[-1][2] == tb and row[-1][1] + 1 == lo:
                    row[-1] = (row[-1][0], hi, tb)
                else:
                    row.append((lo, hi, tb))
            quotient.append(row)
        q = DFA(quotient, blocks[0], (blocks[old_to_new[s]] for s in keep if s in self._accepting))
        order = q.reachable_states()
        renum = {s: i for i, s in enumerate(order)}
        return DFA(
            [[(lo, hi, renum[t]) for lo, hi, t in quotient[s]] for s in order],
            0,
            (renum[s] for s in q._accepting),
            max_states=self.max_states,
        )

    def complement(self, *, max_states: int | None = None, what: str = "the complement") -> DFA:
        """The DFA accepting every string of scalar values this one rejects (minimal)."""
        limit = self.max_states if max_states is None else max_states
        if self.num_states + 1 > limit:
            raise StateLimitExceeded(limit, what)
        dead = self.num_states
        table: list[list[Transition]] = []
        for row in [*self._table, ()]:
            full: list[Transition] = []
            for slo, shi in ANY_SCALAR:
                cur = slo
                for lo, hi, t in row:
                    if hi < slo or lo > shi:
                        continue
                    if lo > cur:
                        full.append((cur, lo - 1, dead))
                    full.append((lo, hi, t))
                    cur = hi + 1
                if cur <= shi:
                    full.append((cur, shi, dead))
            table.append(full)
        accepting = [s for s in range(dead + 1) if s not in self._accepting]
        return DFA(table, self.start, accepting, max_states=limit).minimize()

    def _product(self, other: DFA, union: bool, limit: int, what: str) -> DFA:
        index: dict[tuple[int, int], int] = {(self.start, other.start): 0}
        pairs = [(self.start, other.start)]
        table: list[list[Transition]] = []
        dead_row: tuple[Transition, ...] = ()
        for p, q in pairs:
            row: list[Transition] = []
            a = self._table[p] if p >= 0 else dead_row
            b = other._table[q] if q >= 0 else dead_row
            for lo, hi, at, bt in _join(a, b, union):
                key = (at, bt)
                target = index.get(key)
                if target is None:
                    if len(pairs) >= limit:
                        raise StateLimitExceeded(limit, what)
                    target = index[key] = len(pairs)
                    pairs.append(key)
                if row and row[-1][2] == target and row[-1][1] + 1 == lo:
                    row[-1] = (row[-1][0], hi, target)
                else:
                    row.append((lo, hi, target))
            table.append(row)
        if union:
            accepting = [
                k for k, (p, q) in enumerate(pairs) if p in self._accepting or q in other._accepting
            ]
        else:
            accepting = [
                k
                for k, (p, q) in enumerate(pairs)
                if p in self._accepting and q in other._accepting
            ]
        return DFA(table, 0, accepting, max_states=limit).minimize()

    def intersect(
        self, other: DFA, *, max_states: int | None = None, what: str = "the intersection"
    ) -> DFA:
        """The DFA of strings both accept (minimal; product bounded by ``max_states``)."""
        limit = self.max_states if max_states is None else max_states
        return self._product(other, False, limit, what)

    def union(self, other: DFA, *, max_states: int | None = None, what: str = "the union") -> DFA:
        """The DFA of strings either accepts (minimal; product bounded by ``max_states``)."""
        limit = self.max_states if max_states is None else max_states
        return self._product(other, True, limit, what)

    # --- printing -----------------------------------------------------------------------

    def to_rules(self, prefix: str, origins: tuple[str, ...] = ()) -> tuple[Rule, ...]:
        """Lowercase CFG rules deriving exactly this DFA's language, first the rule named
        ``prefix`` (the start state), then ``prefix_1``, ``prefix_2`` ... for the other
        live states in breadth-first order.

        A state's rule has one alternative per next state: the class of every code point
        leading there, then a reference to that state's rule; an accepting state adds
        ``Empty``. Raises ``ValueError`` for the empty language (no rule derives nothing)
        or a prefix that is not a lowercase rule name.
        """
        if not prefix or not (prefix[0].isalpha() or prefix[0] == "_"):
            raise ValueError(f"bad rule name {prefix!r}")
        if not all(c in "abcdefghijklmnopqrstuvwxyz0123456789_" for c in prefix):
            raise ValueError(f"bad rule name {prefix!r}: lowercase letters, digits, _ only")
        dfa = self.minimize()
        if dfa.is_empty():
            raise ValueError("the automaton accepts nothing; no rule can derive that")
        names = [prefix] + [f"{prefix}_{i}" for i in range(1, dfa.num_states)]
        rules: list[Rule] = []
        for state in range(dfa.num_states):
            by_target: dict[int, list[tuple[int, int]]] = {}
            for lo, hi, t in dfa._table[state]:
                by_target.setdefault(t, []).append((lo, hi))
            alts: list[Expr] = [
                Seq(items=(_class(ranges), Ref(name=names[t])))
                for t, ranges in sorted(by_target.items(), key=lambda kv: kv[1][0])
            ]
            if state in dfa._accepting:
                alts.append(Empty())
            body = alts[0] if len(alts) == 1 else Alt(items=tuple(alts))
            rules.append(Rule(name=names[state], body=body, origins=origins))
        return tuple(rules)


class NFA:
    """A nondeterministic automaton (Thompson's construction) of an expression, built once
    and never determinized; :meth:`DFA.meets` compares it with deterministic ones.

    States are ``0 .. num_states - 1``; ``eps[s]`` lists the states ``s`` reaches without
    reading, ``trans[s]`` its ``(lo, hi, target)`` intervals; a string is accepted when it
    leads from ``start`` to ``accept``.
    """

    __slots__ = ("accept", "eps", "start", "trans")

    def __init__(
        self,
        eps: Sequence[Sequence[int]],
        trans: Sequence[Sequence[Transition]],
        start: int,
        accept: int,
    ) -> None:
        self.eps = tuple(map(tuple, eps))
        self.trans = tuple(map(tuple, trans))
        self.start = start
        self.accept = accept

    @classmethod
    def from_expr(
        cls, expr: Expr, *, known: Mapping[str, DFA] | None = None, max_states: int = 10_000
    ) -> NFA:
        """The NFA of ``expr``: ``Ref`` names stand for the automata in ``known`` (each
        copied in whole, unknown names raise ``ValueError``), ``Not`` and ``And`` are
        built as DFAs first (bounded by ``max_states``), as in :meth:`DFA.from_expr`. More
        than ``max_states`` states: :class:`StateLimitExceeded`."""
        builder = _Builder({}, max_states)
        builder.cache.update(known or {})
        nfa = _NFA(max_states, "the expression")
        start, accept = builder.fragment(nfa, expr)
        return cls(nfa.eps, nfa.trans, start, accept)

    @property
    def num_states(self) -> int:
        return len(self.eps)

    def __repr__(self) -> str:
        return f"NFA(num_states={self.num_states})"


def _class(ranges: list[tuple[int, int]]) -> CharClass:
    """The shorter of a class and its negation (over scalar values)."""
    listed = CharClass(ranges=tuple(ranges))
    other = scalar_ranges(CharClass(ranges=tuple(ranges), negated=True))
    if other and len(other) < len(ranges) - 1:
        return CharClass(ranges=other, negated=True)
    return listed


def _hopcroft(table: list[list[Transition]], accepting: list[int]) -> list[int]:
    """Block number of every state of a trimmed partial DFA (all states live, so none is
    equivalent to the implicit dead state, which therefore never needs to be a splitter)."""
    n = len(table)
    # Elementary intervals: no transition boundary falls inside one.
    bounds = sorted(
        {lo for row in table for lo, _, _ in row} | {hi + 1 for row in table for _, hi, _ in row}
    )
    sym = {b: k for k, b in enumerate(bounds)}
    # Intervals covered by the same transitions behave alike: one symbol for all of them.
    edges: list[tuple[int, int]] = []
    cover: list[list[int]] = [[] for _ in bounds]
    for s, row in enumerate(table):
        for lo, hi, t in row:
            for k in range(sym[lo], sym[hi + 1]):
                cover[k].append(len(edges))
            edges.append((s, t))
    classes: dict[tuple[int, ...], int] = {}
    # inv[target] -> (symbol, source) for every transition into target
    inv: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for ids in cover:
        key = tuple(ids)
        if key and key not in classes:
            c = classes[key] = len(classes)
            for e in ids:
                s, t = edges[e]
                inv[t].append((c, s))
    acc = set(accepting)
    block_of = [0 if s in acc else 1 for s in range(n)]
    members: list[set[int]] = [set(accepting), set(range(n)) - acc]
    if not members[1]:
        members.pop()
    elif not members[0]:
        members = [members[1]]
        block_of = [0] * n
    waiting = list(range(len(members)))
    in_waiting = set(waiting)
    while waiting:
        a = waiting.pop()
        in_waiting.discard(a)
        by_symbol: dict[int, list[int]] = {}
        for t in members[a]:
            for c, s in inv[t]:
                by_symbol.setdefault(c, []).append(s)
        for sources in by_symbol.values():
            touched: dict[int, set[int]] = {}
            for s in sources:
                touched.setdefault(block_of[s], set()).add(s)
            for b, xs in touched.items():
                if len(xs) == len(members[b]):
                    continue
                new = len(members)
                members[b] -= xs
                members.append(xs)
                for s in xs:
                    block_of[s] = new
                if b in in_waiting:
                    waiting.append(new)
                    in_waiting.add(new)
                else:
                    pick = new if len(xs) <= len(members[b]) else b
                    waiting.append(pick)
                    in_waiting.add(pick)
    return block_of
