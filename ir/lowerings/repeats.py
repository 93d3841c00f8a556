"""Large repeat bounds split into repeats of repeats, with the same language.

Two engines expand a bounded repeat ``X{m,n}`` into one rule per optional copy of ``X``:

* llama.cpp refuses a bound of 2,000 or more (the ``llamacpp-shape`` lowering splits
  those, :mod:`.llamacpp`);
* XGrammar (0.2.8) unrolls bounds up to 128 that way and writes larger ones as 128
  copies plus a counted repeat, and its compiler precomputes a token mask for every
  position of every copy, a walk of the whole vocabulary each. The ``small-repeats``
  lowering (for ``xgrammar``) splits every bound above :data:`XGRAMMAR_MAX_BOUND`. It
  first writes rules that only go round in circles as what they match
  (:func:`.recursion.without_idle_rules`): XGrammar 0.2.9 crashes compiling
  ``a ::= a{0,2}``.

The lark package writes a bound below 50 in place, as one alternative per count; the
``lark-shape`` lowering (:mod:`.larkshape`) splits every bound above 4 with this class.

With ``B`` the largest bound kept:

* ``X{k}`` = ``(X{B}){q} X{r}`` for ``k = qB + r``;
* ``X{m,n}`` = ``X{m} X{0,n-m}`` and ``X{m,}`` = ``X{m} X*``;
* ``X{0,n}`` = ``(X{w}){0,n/w} X{0,w-1}`` for the largest ``w <= B`` that divides ``n + 1``
  (``X{0,99}`` is ``(X{10}){0,9} X{0,9}``): every count up to ``n`` splits one way into
  whole blocks of ``w`` and a rest, so the result is as unambiguous as ``X{0,n}``. When
  ``n + 1`` has no such divisor, ``X{0,n}`` = ``"" | X X{0,n-1}``.

A part whose bound still exceeds ``B`` is split the same way. llama.cpp counts the rules a
group generates, so there each part is a rule of its own (``rep1``, ``rep2``, ...);
XGrammar compiled the seed example's grammar four times slower that way than with the
parts left inline as groups, so there they stay inline.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Alt, CharClass, Empty, Expr, Grammar, Lit, Ref, Repeat, Rule, Seq

from .recursion import seq, without_idle_rules

__all__ = ["XGRAMMAR_MAX_BOUND", "RepeatSplitter", "SmallRepeats"]

XGRAMMAR_MAX_BOUND = 16
"""The largest bound ``small-repeats`` leaves in place. The seed example's grammar, whose
whitespace runs are bounded at 256 and whose blocks at 100 statements, compiled in 5.9 s
at 32k tokens as it was written, and in about 0.5 s split with any bound from 4 to 32."""

SYMBOL = (Ref, CharClass, Lit, Empty)
"""What a repeat applies to without a group: one reference, class, literal or nothing (a
literal is one even when a printer splits it into strings and classes: llama.cpp then
reads one group with nothing inside)."""


class RepeatSplitter:
    """Rewrites every repeat whose bound exceeds ``limit``. With ``rules``, each distinct
    part it makes is one new rule (``rep1``, ``rep2``, ...) of the grammar being run;
    without, parts stay inline as groups and :meth:`convert` depends on nothing but the
    expression."""

    prefix = "rep"
    """How the names of the rules made start."""

    def __init__(self, limit: int, *, rules: bool) -> None:
        self.limit = limit
        self.rules = rules
        self.taken: set[str] = set()
        self.made: dict[Expr, str] = {}
        self.added: list[Rule] = []
        self.origins: tuple[str, ...] = ()
        """The origins of the rule being converted, given to the rules made for it."""

    def run(self, grammar: Grammar) -> Grammar:
        self.taken = {r.name for r in grammar.rules}
        bodies = []
        for rule in grammar.rules:
            self.origins = rule.origins
            bodies.append(self.convert(rule.body))
        return _rebuilt(grammar, bodies, self.added)

    def convert(self, expr: Expr) -> Expr:
        if isinstance(expr, Seq | Alt):
            items = tuple(map(self.convert, expr.items))
            if all(map(operator.is_, items, expr.items)):
                return expr
            return seq(*items) if isinstance(expr, Seq) else Alt(items=items)
        if isinstance(expr, Repeat):
            item = self.convert(expr.item)
            if max(expr.min, expr.max or 0) > self.limit:
                return self.ref(self.bounded(self.symbol(item), expr.min, expr.max))
            return self.repeat(expr, item)
        return expr

    def repeat(self, expr: Repeat, item: Expr) -> Expr:
        """``expr``, its bounds within the limit, with ``item`` (converted) repeated."""
        return expr if item is expr.item else Repeat(item=item, min=expr.min, max=expr.max)

    def symbol(self, expr: Expr) -> Expr:
        """``expr`` as one symbol: itself if it is one, else a reference to a new rule."""
        return expr if isinstance(expr, SYMBOL) else self.ref(expr)

    def bounded(self, item: Expr, lo: int, hi: int | None) -> Expr:
        """``item{lo,hi}`` with every bound within the limit (``item`` a symbol)."""
        b = self.limit
        if max(lo, hi or 0) <= b:
            return Repeat(item=item, min=lo, max=hi)
        if lo == hi:  # X{k} = (X{B}){q} X{r}
            q, r = divmod(lo, b)
            block = self.ref(Repeat(item=item, min=b, max=b))
            return seq(self.part(block, q, q), self.part(item, r, r))
        if lo > 0:  # X{m,n} = X{m} X{0,n-m}; X{m,} = X{m} X*
            rest = None if hi is None else hi - lo
            return seq(self.part(item, lo, lo), self.part(item, 0, rest))
        assert hi is not None
        width = next((w for w in range(b, 1, -1) if (hi + 1) % w == 0), None)
        if width is None:  # X{0,n} = "" | X X{0,n-1}
            return Alt(items=(Empty(), seq(item, self.part(item, 0, hi - 1))))
        block = self.ref(Repeat(item=item, min=width, max=width))
        return seq(self.part(block, 0, (hi + 1) // width - 1), self.part(item, 0, width - 1))

    def part(self, item: Expr, lo: int, hi: int | None) -> Expr:
        """``item{lo,hi}`` as one symbol, or a repeat of one within the limit."""
        if hi == 0:
            return Empty()
        if lo == hi == 1:
            return item
        if max(lo, hi or 0) <= self.limit:
            return Repeat(item=item, min=lo, max=hi)
        return self.ref(self.bounded(item, lo, hi))

    def ref(self, body: Expr) -> Expr:
        """A reference to a rule with ``body``, made once per distinct body (``body``
        itself without ``rules``)."""
        if not self.rules:
            return body
        name = self.made.get(body)
        if name is None:
            n = len(self.made) + 1
            name = f"{self.prefix}{n}"
            while name in self.taken:
                n += 1
                name = f"{self.prefix}{n}"
            self.taken.add(name)
            self.made[body] = name
            self.added.append(Rule(name=name, body=body, origins=self.origins))
        return Ref(name=name)


_INLINE = RepeatSplitter(XGRAMMAR_MAX_BOUND, rules=False)


@functools.lru_cache(maxsize=1 << 14)
def _small(body: Expr) -> Expr:
    """``body`` with no bound above the limit (cached: the grammars of many constraint
    sets share their rules)."""
    return _INLINE.convert(body)


@dataclass(frozen=True)
class SmallRepeats:
    """The ``small-repeats`` lowering: no repeat bound above :data:`XGRAMMAR_MAX_BOUND`."""

    name = "small-repeats"

    def run(self, grammar: Grammar, diags: Diagnostics) -> Grammar:
        # XGrammar 0.2.9 crashes compiling a rule that only repeats itself (`a ::= a{0,2}`).
        grammar = without_idle_rules(grammar)
        return _rebuilt(grammar, [_small(r.body) for r in grammar.rules])


def _rebuilt(grammar: Grammar, bodies: Sequence[Expr], added: Sequence[Rule] = ()) -> Grammar:
    """``grammar`` with each rule's body replaced by the one at its place in ``bodies``
    (rules whose body is the same object are kept), then the ``added`` rules."""
    rules = (
        rule if body is rule.body else msgspec.structs.replace(rule, body=body)
        for rule, body in zip(grammar.rules, bodies, strict=True)
    )
    return Grammar(start=grammar.start, rules=(*rules, *added), comment=grammar.comment)
