"""The ``regular`` pass: a grammar inlined into one rule, for targets that take a regex.

Recursion that a regular language can hold is first rewritten into repeats
(:mod:`.recursion`): immediate left recursion (``A ::= b | A a``), and groups of rules that
recur only at their ends (right-linear, as automata print themselves: this is how a lexeme
with negation or intersection, lowered to an automaton by ``char-level``, becomes a regex).
Then every rule reference is replaced by the rule's body, starting from the start rule, so
the result is one rule (the start rule) whose body has no ``Ref``. A grammar whose start
rule still reaches a recursive rule (nesting, as in ``"(" A ")"``) is not regular: the
pass reports ``not-regular`` with the cycle of rule names. A grammar whose inlined body
would print as more than ``max_chars`` characters of regex (shared rules are copied at
every use, so inlining can grow exponentially) is reported as ``regex-too-large``; the
size is measured without building the copy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ananke.ir.automata import scalar_ranges
from ananke.ir.diagnostics import Diagnostics, quote
from ananke.ir.grammar import (
    Alt,
    And,
    CharClass,
    Empty,
    Expr,
    Grammar,
    Lit,
    Not,
    Ref,
    Regex,
    Repeat,
    Rule,
    Seq,
    refs,
)
from ananke.ir.lowerings.recursion import solve_right_linear, without_left_recursion

__all__ = ["Regular"]


@dataclass(frozen=True)
class Regular:
    """Inline every rule into the start rule."""

    name = "regular"
    max_chars: int = 100_000
    """Largest regex (in printed characters, estimated) the pass produces."""

    def run(self, grammar: Grammar, diags: Diagnostics) -> Grammar | None:
        rules = {r.name: r for r in solve_right_linear(without_left_recursion(grammar)).rules}
        cycle = _find_cycle(grammar.start, rules)
        if cycle:
            path = quote(" -> ".join(quote(n) for n in cycle), ticks=False, limit=300)
            diags.error(
                "not-regular",
                f"rule {quote(cycle[0])} refers to itself ({path}) other than at its start or end; "
                "a regular expression cannot express that recursion",
                notes=_origins(rules, cycle),
                help="use a grammar target (llguidance, xgrammar, gbnf, lark), or bound the "
                "nesting in the constraints",
            )
            return None

        total = _inlined_size(rules[grammar.start].body, rules)
        if total > self.max_chars:
            diags.error(
                "regex-too-large",
                f"the grammar inlined into one regular expression would be about {total:,} "
                f"characters (limit {self.max_chars:,})",
                help="use a grammar target (llguidance, xgrammar, gbnf, lark), or fewer "
                "alternatives",
            )
            return None

        @functools.cache
        def inline(expr: Expr) -> Expr | None:
            """``expr`` with every rule inlined; None when it matches no string at all
            (outlines-core refuses a pattern with a dead end, such as a class of nothing)."""
            if isinstance(expr, Ref):
                return inline(rules[expr.name].body)
            if isinstance(expr, CharClass):
                return expr if scalar_ranges(expr) else None
            if isinstance(expr, Seq | And):
                items = tuple(map(inline, expr.items))
                return None if None in items else type(expr)(items=items)  # type: ignore[arg-type]
            if isinstance(expr, Alt):
                kept = tuple(i for i in map(inline, expr.items) if i is not None)
                return Alt(items=kept) if kept else None
            if isinstance(expr, Repeat):
                item = inline(expr.item)
                if item is None:
                    return Empty() if expr.min == 0 else None
                return Repeat(item=item, min=expr.min, max=expr.max)
            if isinstance(expr, Not):
                item = inline(expr.item)
                return Not(item=Alt(items=()) if item is None else item)
            return expr

        start = rules[grammar.start]
        origins = tuple(dict.fromkeys(o for r in grammar.rules for o in r.origins))
        body = inline(start.body)
        if body is None:
            diags.error(
                "target-cannot-express",
                "the grammar matches no string at all, and outlines-core refuses a regular "
                "expression that matches nothing",
                notes=_origins(rules, (grammar.start,)),
                help="check the constraints or the grammar for a contradiction; "
                "grammar targets take it",
            )
            return None
        one = Rule(name=start.name, body=body, lexeme=start.lexeme, origins=origins)
        return Grammar(start=grammar.start, rules=(one,), comment=grammar.comment)


def _children(expr: Expr, rules: dict[str, Rule]) -> tuple[Expr, ...]:
    if isinstance(expr, Ref):
        return (rules[expr.name].body,)
    if isinstance(expr, Seq | Alt | And):
        return expr.items
    if isinstance(expr, Repeat | Not):
        return (expr.item,)
    return ()


def _inlined_size(root: Expr, rules: dict[str, Rule]) -> int:
    """Printed size of ``root`` with every rule inlined, each shared node counted at every
    use. Iterative: rule references chain deeper than Python's stack (the f-string fields
    of the Python grammar)."""
    sizes: dict[Expr, int] = {}
    stack = [root]
    while stack:
        expr = stack[-1]
        if expr in sizes:
            stack.pop()
            continue
        children = _children(expr, rules)
        todo = [c for c in children if c not in sizes]
        if todo:
            stack.extend(todo)
            continue
        stack.pop()
        sizes[expr] = _own_size(expr) + sum(sizes[c] for c in children)
    return sizes[root]


def _own_size(expr: Expr) -> int:
    """Characters a regex printer spends on the node itself (an upper estimate)."""
    if isinstance(expr, Lit):
        # Letters and digits print as themselves, punctuation as a \x{..} escape.
        return len(expr.text) + 6 * sum(not c.isalnum() for c in expr.text)
    if isinstance(expr, CharClass):
        return 3 + 20 * len(expr.ranges)
    if isinstance(expr, Regex):
        return len(expr.pattern) + 4
    if isinstance(expr, Seq | Alt | And):
        return 4 + len(expr.items)
    if isinstance(expr, Repeat | Not):
        return 16
    return 4


def _find_cycle(start: str, rules: dict[str, Rule]) -> tuple[str, ...]:
    """Rule names of a cycle reachable from ``start`` (first name repeated at the end), or
    ``()``. Iterative depth-first search: grammars nest deeper than Python's stack."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []
    stack: list[tuple[str, list[str]]] = [(start, sorted(refs(rules[start].body)))]
    state[start] = 1
    path.append(start)
    while stack:
        name, todo = stack[-1]
        if not todo:
            stack.pop()
            path.pop()
            state[name] = 2
            continue
        nxt = todo.pop()
        if nxt not in rules:
            continue
        if state.get(nxt) == 1:
            return (*path[path.index(nxt) :], nxt)
        if nxt not in state:
            state[nxt] = 1
            path.append(nxt)
            stack.append((nxt, sorted(refs(rules[nxt].body))))
    return ()


def _origins(rules: dict[str, Rule], names: tuple[str, ...]) -> tuple[str, ...]:
    ids = sorted({o for n in names for o in rules[n].origins})
    return (f"enforces constraint(s): {', '.join(ids)}",) if ids else ()
