"""The ``lexeme-boundaries`` check: where llguidance's greedy lexer and character-level
engines could disagree.

llguidance reads the longest lexeme it can: after a lexeme ``A`` matched ``a``, a next
character ``c`` that continues some lexeme allowed at that point is read into it, so a
grammar with ``A`` followed by ``B`` rejects ``a`` + ``c...`` even when ``c...`` is a ``B``.
XGrammar, GBNF and plain Lark match characters and accept it. The two agree exactly when no
boundary of the grammar is *ambiguous*: no string ``a`` of a lexeme ``A``, followed by the
first character ``c`` of a lexeme ``B`` that may come next, is itself the beginning of a
lexeme the lexer is still considering.

:meth:`LexemeBoundaries.rewrite` first writes what it can of the greedy reading into the
grammar (:mod:`.greedy`: after a lexeme, characters that always continue it are banned),
then reports the boundaries still ambiguous with those characters left out.

This check decides that on automata, over-approximating the lexer's state (the lexemes
allowed after the previous lexeme are all lexemes that may follow it anywhere in the
grammar), so it never misses an ambiguous boundary; it may report one that is harmless
(the greedy reading goes on and still succeeds, as when two lexemes may both take the
spaces between them). Every boundary it reports names the two lexemes and a witness: the
shortest string of ``A`` and the character that makes it ambiguous. A lexeme that meets
itself only inside its own unbounded repetition (``X*``, ``X+``) and is closed under
concatenation (``X X`` ⊆ ``X``, like whitespace) is harmless and not reported: reading two
of them as one leaves a run of ``X`` all the same.

Lexemes whose automata exceed ``max_states`` are not analysed, and the report says which:
the Python function grammar's line lexemes (a whole logical line with nested brackets and
every kind of string) determinize to hundreds of thousands of states. Agreement for those
grammars is measured instead, by the differential tests on real code.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ananke.ir.grammar import (
    Alt,
    Expr,
    Grammar,
    Seq,
)
from ananke.ir.ranges import Ranges, minus

from .greedy import banned_after, with_greedy_boundaries
from .terminals import END, Terminals, first_chars

if TYPE_CHECKING:
    from ananke.ir.automata import DFA
    from ananke.ir.diagnostics import Diagnostics

__all__ = ["Boundary", "BoundaryReport", "GreedyBoundaries", "LexemeBoundaries"]

_BOS = "<start>"


@dataclass(frozen=True)
class Boundary:
    """``before`` may be followed by ``after``, and the lexer could read on past it."""

    before: str
    after: str
    witness: str
    """A string of ``before`` that some allowed lexeme continues with ``char``."""
    char: str
    """The first character of ``after`` that continues it."""

    def describe(self) -> str:
        return (
            f"{self.before} then {self.after}: after {self.witness!r} the greedy lexer reads "
            f"{self.char!r} on into a lexeme where a character-level engine may start "
            f"{self.after}"
        )


@dataclass(frozen=True)
class BoundaryReport:
    ambiguous: tuple[Boundary, ...]
    unanalysed: tuple[str, ...]
    """Lexemes whose boundaries were not analysed (automaton over the bound)."""
    exprs: Mapping[str, Expr] = field(default_factory=dict)
    """What each lexeme named in the report is (the analysis names anonymous ones)."""


@dataclass(frozen=True)
class LexemeBoundaries:
    name = "lexeme-boundaries"
    max_states: int = 2_000

    def _closed(self, expr: Expr, lexemes: Mapping[str, Expr]) -> bool:
        return _closed_under_concatenation(expr, lexemes, self.max_states)

    def run(self, grammar: Grammar) -> BoundaryReport:
        """Every ambiguous boundary of ``grammar`` (reference semantics), sorted."""
        terms, dfa_of = self._analysis(grammar)
        return self._report(terms, dfa_of, {})

    def rewrite(self, grammar: Grammar) -> tuple[Grammar, BoundaryReport]:
        """``grammar`` with the boundaries the greedy lexer settles written in
        (:mod:`.greedy`), and the ambiguous boundaries left after that."""
        terms, dfa_of = self._analysis(grammar)
        banned = banned_after(grammar, terms, dfa_of)
        rewritten = with_greedy_boundaries(grammar, terms, banned, dfa_of)
        if rewritten is None:
            return grammar, self._report(terms, dfa_of, {})
        return rewritten, self._report(terms, dfa_of, banned)

    def _analysis(
        self, grammar: Grammar
    ) -> tuple[Terminals, Callable[[Iterable[str]], DFA | None]]:
        """The grammar's terminals, and the automaton of a union of them (None: over the
        state bound), cached."""
        from ananke.ir.automata import DFA, StateLimitExceeded
        from ananke.ir.regex import RegexError

        terms = Terminals(grammar)
        lexemes = {r.name: r.body for r in grammar.rules if r.lexeme}
        dfas: dict[tuple[str, ...], DFA | None] = {}

        def dfa_of(key: Iterable[str]) -> DFA | None:
            names = tuple(sorted(key))
            if names not in dfas:
                body = Alt(items=tuple(terms.expr[n] for n in names))
                try:
                    dfas[names] = DFA.from_expr(body, lexemes, max_states=self.max_states)
                # A regex only llguidance reads (`\p{L}`): the lowering reports it.
                except (StateLimitExceeded, RegexError):
                    dfas[names] = None
            return dfas[names]

        return terms, dfa_of

    def _report(
        self,
        terms: Terminals,
        dfa_of: Callable[[Iterable[str]], DFA | None],
        banned: Mapping[str, Ranges],
    ) -> BoundaryReport:
        """The ambiguous boundaries, leaving out a character ``banned`` after the lexeme
        before it (the rewrite keeps the two apart there)."""
        lexemes = {n: r.body for n, r in terms.rules.items() if r.lexeme}
        found: dict[tuple[str, str], Boundary] = {}
        skipped: set[str] = set()
        sets = {_BOS: terms.first_of_start, **terms.follow}
        for allowed in sorted({frozenset(s - {END}) for s in sets.values()}, key=sorted):
            if not allowed:
                continue
            union = dfa_of(allowed)
            for before in sorted(allowed):
                nexts = sorted(terms.follow.get(before, set()) - {END})
                if not nexts:
                    continue
                alone = dfa_of([before])
                firsts = {n: dfa_of([n]) for n in nexts}
                if union is None or alone is None or None in firsts.values():
                    skipped.update(n for n in (before, *nexts, *allowed) if dfa_of([n]) is None)
                    if union is None or alone is None:
                        skipped.add(before)
                    continue
                ban = banned.get(before, ())
                chars = {n: minus(first_chars(d), ban) for n, d in firsts.items() if d is not None}
                for after, (witness, char) in _ambiguous(alone, union, chars).items():
                    if (
                        after == before
                        and before not in terms.self_follow
                        and self._closed(terms.expr[before], lexemes)
                    ):
                        continue
                    key = (before, after)
                    if key not in found or len(witness) < len(found[key].witness):
                        found[key] = Boundary(before, after, witness, char)
        return BoundaryReport(
            ambiguous=tuple(found[k] for k in sorted(found)),
            unanalysed=tuple(sorted(skipped)),
            exprs=dict(terms.expr),
        )


@dataclass(frozen=True)
class GreedyBoundaries:
    """The ``greedy-boundaries`` lowering: :meth:`LexemeBoundaries.rewrite` as a pass, run
    before ``char-level`` by every target that matches characters.

    The driver runs it on grammars someone wrote (imported, or given with ``grammar:``)
    and reads its report through :meth:`rewrite`, to warn where a boundary stays open; the
    grammars Ananke builds keep their lexemes apart by construction, so the driver skips
    it for them."""

    name = "greedy-boundaries"
    check: LexemeBoundaries = LexemeBoundaries()

    def run(self, grammar: Grammar, diags: Diagnostics) -> Grammar:
        return self.check.rewrite(grammar)[0]

    def rewrite(self, grammar: Grammar) -> tuple[Grammar, BoundaryReport]:
        return self.check.rewrite(grammar)


def _closed_under_concatenation(expr: Expr, lexemes: Mapping[str, Expr], limit: int) -> bool:
    """Whether ``X X`` ⊆ ``X``: then a run of ``X`` split anywhere is still a run of ``X``,
    and where the greedy lexer reads two of them as one, the strings accepted are the same
    (whitespace that ``%ignore`` allows between lexemes is the common case)."""
    from ananke.ir.automata import DFA, StateLimitExceeded

    try:
        twice = DFA.from_expr(Seq(items=(expr, expr)), lexemes, max_states=limit)
        once = DFA.from_expr(expr, lexemes, max_states=limit)
        return twice.intersect(once.complement()).is_empty()
    except StateLimitExceeded:
        return False


def _ambiguous(a: DFA, union: DFA, firsts: Mapping[str, Ranges]) -> dict[str, tuple[str, str]]:
    """For each follower, the shortest string of ``a`` after which ``union`` continues with
    one of the follower's first characters."""
    live = union.live_states()
    start = (a.start, union.start)
    seen = {start: ""}
    queue = deque([start])
    result: dict[str, tuple[str, str]] = {}
    while queue:
        pair = queue.popleft()
        qa, qu = pair
        text = seen[pair]
        u_moves = [(lo, hi, to) for lo, hi, to in union.transitions(qu) if to in live]
        if qa in a.accepting:
            for name, ranges in firsts.items():
                if name in result:
                    continue
                c = _overlap(ranges, u_moves)
                if c is not None:
                    result[name] = (text, chr(c))
        if len(result) == len(firsts):
            break
        for lo, hi, to_a in a.transitions(qa):
            for ulo, uhi, to_u in u_moves:
                if ulo <= hi and lo <= uhi:
                    nxt = (to_a, to_u)
                    if nxt not in seen:
                        seen[nxt] = text + chr(max(lo, ulo))
                        queue.append(nxt)
    return result


def _overlap(ranges: Ranges, moves: list[tuple[int, int, int]]) -> int | None:
    for lo, hi in ranges:
        for ulo, uhi, _ in moves:
            if ulo <= hi and lo <= uhi:
                return max(lo, ulo)
    return None
