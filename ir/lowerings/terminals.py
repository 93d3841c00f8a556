"""The lexemes of a grammar as terminals: FIRST and FOLLOW over them, and the first
characters of an automaton; the analysis that the lexeme-boundary check
(:mod:`.boundaries`) and the greedy rewrite (:mod:`.greedy`) share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ananke.ir.grammar import Alt, CharClass, Empty, Expr, Grammar, Lit, Ref, Regex, Repeat, Seq
from ananke.ir.ranges import Ranges, merge

if TYPE_CHECKING:
    from ananke.ir.automata import DFA

__all__ = ["END", "Terminals", "first_chars"]

END = "<end>"
"""What follows the last terminal, in follow sets."""


def first_chars(dfa: DFA) -> Ranges:
    """The characters a string of ``dfa`` may start with."""
    live = dfa.live_states()
    return merge((lo, hi) for lo, hi, to in dfa.transitions(dfa.start) if to in live)


class Terminals:
    """FIRST and FOLLOW over the grammar's lexemes (named ones and the anonymous ones that
    literals and regexes in CFG rules are)."""

    def __init__(self, grammar: Grammar) -> None:
        self.rules = {r.name: r for r in grammar.rules}
        self.expr: dict[str, Expr] = {}
        self._anon: dict[Expr, str] = {}
        self._nullable: dict[str, bool] = {}
        self._first: dict[str, set[str]] = {}
        self._fixpoint_first()
        self.first_of_start = self.first_of(Ref(name=grammar.start))[0]
        self.follow: dict[str, set[str]] = {}
        self.self_follow: set[str] = set()
        """Terminals that may follow themselves other than inside their own ``X*``."""
        rule_follow: dict[str, set[str]] = {grammar.start: {END}}

        def size() -> int:
            return sum(map(len, self.follow.values())) + sum(map(len, rule_follow.values()))

        # Sets only grow: a sweep that leaves their total size unchanged is the fixpoint.
        before = -1
        while before != (before := size()):
            for rule in self.rules.values():
                if not rule.lexeme:
                    self._walk(rule.body, set(rule_follow.get(rule.name, ())), rule_follow)

    def terminal(self, expr: Expr) -> str | None:
        """The terminal ``expr`` is (a lexeme's name, or a literal's, class's or regex's
        own name), or None for a CFG expression."""
        if isinstance(expr, Ref) and self.rules[expr.name].lexeme:
            self.expr.setdefault(expr.name, expr)
            return expr.name
        if isinstance(expr, Lit | CharClass | Regex):
            name = self._anon.get(expr)
            if name is None:
                shown = expr.text if isinstance(expr, Lit) else expr.__struct_config__.tag
                name = self._anon[expr] = f"{shown!r}#{len(self._anon)}"
                self.expr[name] = expr
            return name
        return None  # JsonSchema, Special: opaque, never a plain lexeme

    def _fixpoint_first(self) -> None:
        changed = True
        while changed:
            changed = False
            for rule in self.rules.values():
                if rule.lexeme:
                    continue
                first, nullable = self.first_of(rule.body)
                old = self._first.get(rule.name, set())
                if first - old or nullable != self._nullable.get(rule.name, False):
                    self._first[rule.name] = old | first
                    self._nullable[rule.name] = nullable
                    changed = True

    def first_of(self, expr: Expr) -> tuple[set[str], bool]:
        """The terminals ``expr`` may start with, and whether it may match nothing."""
        term = self.terminal(expr)
        if term is not None:
            return {term}, False
        match expr:
            case Ref():
                return set(self._first.get(expr.name, ())), self._nullable.get(expr.name, False)
            case Seq():
                out: set[str] = set()
                for item in expr.items:
                    first, nullable = self.first_of(item)
                    out |= first
                    if not nullable:
                        return out, False
                return out, True
            case Alt():
                out = set()
                nullable = False
                for item in expr.items:
                    first, n = self.first_of(item)
                    out |= first
                    nullable |= n
                return out, nullable
            case Repeat():
                first, nullable = self.first_of(expr.item)
                return first, nullable or expr.min == 0
            case Empty():
                return set(), True
        return set(), False  # JsonSchema, Special: opaque

    def _walk(self, expr: Expr, follow: set[str], rule_follow: dict[str, set[str]]) -> None:
        term = self.terminal(expr)
        if term is not None:
            self.follow.setdefault(term, set()).update(follow)
            if term in follow:
                self.self_follow.add(term)
            return
        match expr:
            case Ref():
                rule_follow.setdefault(expr.name, set()).update(follow)
            case Seq():
                after = set(follow)
                for item in reversed(expr.items):
                    self._walk(item, after, rule_follow)
                    first, nullable = self.first_of(item)
                    after = first | after if nullable else set(first)
            case Alt():
                for item in expr.items:
                    self._walk(item, follow, rule_follow)
            case Repeat():
                first, _ = self.first_of(expr.item)
                term = self.terminal(expr.item)
                if term is not None and expr.max is None:
                    # X* / X+: X follows X by the loop itself; note only other ways.
                    if term in follow:
                        self.self_follow.add(term)
                    self.follow.setdefault(term, set()).update(follow | {term})
                    return
                again = follow | first if expr.max is None or expr.max > 1 else follow
                self._walk(expr.item, again, rule_follow)
