"""The ``llamacpp-shape`` lowering: a char-level grammar in the shape llama.cpp's parser takes.

llama.cpp reads GBNF with its own parser (``src/llama-grammar.cpp``) and refuses two shapes
that llguidance and XGrammar read well:

* **Left recursion.** llama.cpp matches with a stack per parse, not an Earley chart, and
  refuses a rule that can reach itself before a character ("unsupported grammar, left
  recursion detected"). The grammars ``arc`` builds write unbounded statement lists as
  ``block ::= stmt | block stmt``. This pass rewrites immediate left recursion into a
  repeat: ``A ::= b1 | ... | A a1 | ...`` becomes ``A ::= (b1 | ...) (a1 | ...)*``.
  llama.cpp also counts an unbounded repeat of something that may match nothing
  (``("a" | "")*``) as left recursion: it becomes a repeat of the non-empty strings.
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
  into repeats of repeats with the same language (``B`` = 1,999):
  ``X{k}`` = ``(X{B}){q} X{r}`` for ``k = qB + r``, and ``X{0,n}`` =
  ``(X{B}){0,q-1} X{0,B-1} | (X{B}){q} X{0,r}`` for ``n = qB + r``, each part a rule.

The language of every rule is unchanged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import msgspec
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Alt, CharClass, Empty, Expr, Grammar, Lit, Ref, Repeat, Rule, Seq

from .recursion import seq, without_empty_loops, without_left_recursion

__all__ = ["LLAMACPP_MAX_BOUND", "LlamaCppShape"]

LLAMACPP_MAX_BOUND = 1999
"""The largest bound llama.cpp takes for a repeat of one symbol."""


_SYMBOL = (Ref, CharClass, Lit, Empty)
"""What llama.cpp reads as one symbol, generating no rules (a literal is one even when the
printer splits it into strings and classes: it is then one group with nothing inside)."""


def _bound(node: Repeat) -> int:
    """The number llama.cpp multiplies the repeated symbol's rules by."""
    return node.max if node.max is not None and node.max > 0 else max(node.min, 1)


@dataclass(frozen=True)
class LlamaCppShape:
    name = "llamacpp-shape"

    def run(self, grammar: Grammar, diags: Diagnostics) -> Grammar:
        return _Rewriter(without_empty_loops(without_left_recursion(grammar))).run()


class _Rewriter:
    def __init__(self, grammar: Grammar) -> None:
        self.grammar = grammar
        self.taken = {r.name for r in grammar.rules}
        self.made: dict[Expr, str] = {}
        self.added: list[Rule] = []

    def run(self) -> Grammar:
        rules = []
        for rule in self.grammar.rules:
            body = self.convert(rule.body, rule)
            rules.append(rule if body == rule.body else msgspec.structs.replace(rule, body=body))
        return Grammar(
            start=self.grammar.start, rules=(*rules, *self.added), comment=self.grammar.comment
        )

    def convert(self, expr: Expr, rule: Rule) -> Expr:
        if isinstance(expr, Seq | Alt):
            items = tuple(self.convert(i, rule) for i in expr.items)
            return expr if items == expr.items else type(expr)(items=items)
        if isinstance(expr, Repeat):
            item = self.convert(expr.item, rule)
            if max(expr.min, expr.max or 0) > LLAMACPP_MAX_BOUND:
                return self.ref(
                    self.bounded(self.symbol(item, rule), expr.min, expr.max, rule), rule
                )
            if _generated(item) * _bound(expr) > LLAMACPP_MAX_BOUND:
                item = self.ref(item, rule)
            return expr if item == expr.item else Repeat(item=item, min=expr.min, max=expr.max)
        return expr

    def symbol(self, expr: Expr, rule: Rule) -> Expr:
        """``expr`` as one symbol that generates no rules in llama.cpp."""
        return expr if isinstance(expr, _SYMBOL) else self.ref(expr, rule)

    def bounded(self, item: Expr, lo: int, hi: int | None, rule: Rule) -> Expr:
        """``item{lo,hi}`` with every bound under 2,000 (``item`` a symbol)."""
        b = LLAMACPP_MAX_BOUND
        if max(lo, hi or 0) <= b:
            return Repeat(item=item, min=lo, max=hi)
        if lo == hi:  # X{k} = (X{B}){q} X{r}
            q, r = divmod(lo, b)
            block = self.ref(Repeat(item=item, min=b, max=b), rule)
            return seq(self.part(block, q, q, rule), self.part(item, r, r, rule))
        if lo > 0:  # X{m,n} = X{m} X{0,n-m}; X{m,} = X{m} X*
            rest = None if hi is None else hi - lo
            return seq(self.part(item, lo, lo, rule), self.part(item, 0, rest, rule))
        assert hi is not None
        q, r = divmod(hi, b)
        block = self.ref(Repeat(item=item, min=b, max=b), rule)
        below = seq(self.part(block, 0, q - 1, rule), self.part(item, 0, b - 1, rule))
        top = seq(self.part(block, q, q, rule), self.part(item, 0, r, rule))
        return Alt(items=(below, top))

    def part(self, item: Expr, lo: int, hi: int | None, rule: Rule) -> Expr:
        """``item{lo,hi}`` as one symbol, or a repeat of one within the bound."""
        if hi == 0:
            return Empty()
        if lo == hi == 1:
            return item
        if max(lo, hi or 0) <= LLAMACPP_MAX_BOUND:
            return Repeat(item=item, min=lo, max=hi)
        return self.ref(self.bounded(item, lo, hi, rule), rule)

    def ref(self, body: Expr, rule: Rule) -> Ref:
        """A reference to a rule with ``body``, made once per distinct body."""
        name = self.made.get(body)
        if name is None:
            n = len(self.made) + 1
            name = f"rep{n}"
            while name in self.taken:
                n += 1
                name = f"rep{n}"
            self.taken.add(name)
            self.made[body] = name
            self.added.append(Rule(name=name, body=body, origins=rule.origins))
        return Ref(name=name)


@functools.cache
def _generated(item: Expr) -> int:
    """How many rules llama.cpp counts for ``item`` when a repeat applies to it: 1 for a
    single symbol; for a group, every rule generated while parsing it (the group itself,
    the groups inside it, and each repeat's expansion: one rule per optional copy)."""
    return 1 if isinstance(item, _SYMBOL) else 1 + _inside(item)


def _inside(expr: Expr) -> int:
    """Rules generated while parsing ``expr``: a nested group is one rule and what is
    inside it; a repeat generates one rule per optional copy (one for ``*`` and ``+``)."""
    if isinstance(expr, Seq | Alt):
        return sum(
            _generated(i) if isinstance(i, Alt) and len(i.items) > 1 else _inside(i)
            for i in expr.items
        )
    if isinstance(expr, Repeat):
        group = 0 if isinstance(expr.item, _SYMBOL) else _generated(expr.item)
        return group + (1 if expr.max is None else expr.max - expr.min)
    return 0
