"""The ``llamacpp-shape`` lowering: a char-level grammar in the shape llama.cpp's parser takes.

llama.cpp reads GBNF with its own parser (``src/llama-grammar.cpp``) and refuses two shapes
that llguidance and XGrammar read well:

* **Left recursion.** llama.cpp matches with a stack per parse, not an Earley chart, and
  refuses a rule that can reach itself before a character ("unsupported grammar, left
  recursion detected"). The grammars ``arc`` builds write unbounded statement lists as
  ``block ::= stmt | block stmt``. This pass rewrites immediate left recursion into a
  repeat: ``A ::= b1 | ... | A a1 | ...`` becomes ``A ::= (b1 | ...) (a1 | ...)*``.
  llama.cpp also counts an unbounded repeat of something that may match nothing
  (``("a" | "")*``) as left recursion: it becomes a repeat of the non-empty strings. Rules
  that only go round in circles (``a ::= b``, ``b ::= a``: no string; ``a ::= a{0,2}``:
  only the empty one) are written as what they match first. Left recursion through other
  rules (``a ::= b "x" | "y"``, ``b ::= a``) is refused (``target-cannot-express``).
* **Large repeats.** llama.cpp expands ``S{m,n}`` into one rule per optional copy, and
  refuses a grammar when a repeat's bound times the rules already generated for ``S``
  reaches 2,000 (``MAX_REPETITION_THRESHOLD``: "number of rules that are going to be
  repeated multiplied by the new repetition exceeds sane defaults"). A parenthesised group
  counts every rule generated inside it, so ``([ ]{0,256} "x"){0,16}`` is refused although
  each repeat alone is fine, and a bound of 2,000 or more is refused outright. The bound
  that counts is ``n`` for ``{m,n}`` and ``m`` for ``{m,}``; ``*``, ``+`` and ``?`` count 1.
  This pass counts the rules llama.cpp generates for each repeated group and, where the
  product would reach 2,000, makes the group a rule of its own (``r ::= [ ]{0,256} "x"``,
  then ``r{0,16}``), which counts 1. Only those groups move: a rule that llguidance's GBNF
  converter reads as a lexeme is a greedy token there, so every rule made here can change
  how that converter lexes (``start ::= r "a"+`` with ``r ::= [a]{2,}`` even hangs
  llguidance 1.9.1). Identical groups share one rule. A bound of 2,000 or more is split
  into repeats of repeats with the same language (:mod:`.repeats`, with ``B`` = 1,999).

The language of every rule is unchanged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Alt, Expr, Grammar, Ref, Repeat, Seq
from ananke.ir.lowerings.base import CannotLower
from ananke.ir.lowerings.recursion import (
    nullable,
    nullable_rules,
    without_empty_loops,
    without_idle_rules,
    without_left_recursion,
)
from ananke.ir.lowerings.repeats import SYMBOL, RepeatSplitter

__all__ = ["LLAMACPP_MAX_BOUND", "LlamaCppShape"]

LLAMACPP_MAX_BOUND = 1999
"""The largest bound llama.cpp takes for a repeat of one symbol."""


def _bound(node: Repeat) -> int:
    """The number llama.cpp multiplies the repeated symbol's rules by."""
    return node.max if node.max is not None and node.max > 0 else max(node.min, 1)


@dataclass(frozen=True)
class LlamaCppShape:
    name = "llamacpp-shape"

    def run(self, grammar: Grammar, diags: Diagnostics) -> Grammar:
        grammar = without_empty_loops(without_left_recursion(without_idle_rules(grammar)))
        cycle = _left_cycle(grammar)
        if cycle:
            rule = next(r for r in grammar.rules if r.name == cycle[0])
            path = " -> ".join(f"`{n}`" for n in cycle)
            raise CannotLower(
                "target-cannot-express",
                f"llama.cpp refuses left recursion, and rule {cycle[0]} may start with itself "
                f"through other rules ({path}) before a character is read; only a rule "
                "that starts with itself is rewritten",
                rule.name,
                rule.origins,
                also=cycle[1:-1],
            )
        return _Rewriter(LLAMACPP_MAX_BOUND, rules=True).run(grammar)


def _left_cycle(grammar: Grammar) -> tuple[str, ...]:
    """A cycle of rules each of which may start with the next before reading a character
    (the last is the first again); empty when there is none."""
    empty = nullable_rules(grammar)

    def first(e: Expr) -> set[str]:
        if isinstance(e, Ref):
            return {e.name}
        if isinstance(e, Alt):
            return set().union(*map(first, e.items))
        if isinstance(e, Seq):
            found: set[str] = set()
            for item in e.items:
                found |= first(item)
                if not nullable(item, empty):
                    break
            return found
        if isinstance(e, Repeat) and e.max != 0:
            return first(e.item)
        return set()

    rules = {r.name: r for r in grammar.rules}
    starts = {name: sorted(first(r.body) & rules.keys()) for name, r in rules.items()}
    done: set[str] = set()
    for root in rules:
        path: list[str] = []
        on_path: set[str] = set()
        work = [(root, iter(starts[root]))]
        if root in done:
            continue
        path.append(root)
        on_path.add(root)
        while work:
            name, todo = work[-1]
            nxt = next(todo, None)
            if nxt is None:
                work.pop()
                done.add(path.pop())
                on_path.discard(name)
            elif nxt in on_path:
                return (*path[path.index(nxt) :], nxt)
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                work.append((nxt, iter(starts[nxt])))
    return ()


class _Rewriter(RepeatSplitter):
    """Splits bounds of 2,000 or more, and makes a rule of each repeated group whose
    generated rules times the bound would reach 2,000."""

    def repeat(self, expr: Repeat, item: Expr) -> Expr:
        if _generated(item) * _bound(expr) > self.limit:
            item = self.ref(item)
        return super().repeat(expr, item)


@functools.cache
def _generated(item: Expr) -> int:
    """How many rules llama.cpp counts for ``item`` when a repeat applies to it: 1 for a
    single symbol; for a group, every rule generated while parsing it (the group itself,
    the groups inside it, and each repeat's expansion: one rule per optional copy)."""
    return 1 if isinstance(item, SYMBOL) else 1 + _inside(item)


def _inside(expr: Expr) -> int:
    """Rules generated while parsing ``expr``: a nested group is one rule and what is
    inside it; a repeat generates one rule per optional copy (one for ``*`` and ``+``)."""
    if isinstance(expr, Seq | Alt):
        return sum(
            _generated(i) if isinstance(i, Alt) and len(i.items) > 1 else _inside(i)
            for i in expr.items
        )
    if isinstance(expr, Repeat):
        group = 0 if isinstance(expr.item, SYMBOL) else _generated(expr.item)
        return group + (1 if expr.max is None else expr.max - expr.min)
    return 0
