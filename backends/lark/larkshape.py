"""The ``lark-shape`` lowering: a char-level grammar the ``lark`` package can build a parser for.

The lark package turns a grammar into plain BNF before it builds a parser
(``load_grammar.py``, checked against lark 1.3.1). Three forms are expanded in place, into
alternatives of the rule that holds them:

* a group of alternatives inside a sequence: ``a (b | c) d`` becomes ``a b d | a c d``;
* an optional part: ``a b? c`` becomes ``a b c | a c``;
* a repeat with an upper bound under 50: ``b~0..16`` becomes 17 alternatives holding 0 to
  16 copies of ``b``; a bound of 50 or more, ``*`` and ``+`` become rules of their own.

Every expansion multiplies: a sequence of parts with ``w1, w2, ...`` alternatives becomes
``w1 * w2 * ...`` alternatives, and ``b~0..16`` of a ``b`` with ``w`` alternatives becomes
``w^0 + ... + w^16``. Long alternatives cost too: lark computes its FOLLOW sets in time
cubic in an alternative's length, and ``(ind simple)~1..40`` holds alternatives of 80
symbols. The seed example's grammar, printed as it is, gave no parser within three
minutes, and one example's took 40 s once only the products were kept small.

This pass keeps every alternative short and every expansion small:

* every repeat bound above :data:`LARK_MAX_BOUND` is split into repeats of repeats, each
  part a rule (:class:`.repeats.RepeatSplitter`; ``group1: x~4``, then ``group1~0..3``);
* the part of a repeat that may hold several copies becomes a rule when it has more than
  one alternative;
* in a sequence that would expand into more than :data:`LARK_MAX_ALTERNATIVES`
  alternatives, the widest parts become rules, one at a time, until it does not.

Identical parts share one rule, and a reference to a rule counts as one alternative. The
language of every rule is unchanged; only where the rules split differs.
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass

from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Alt, Expr, Grammar, Repeat, Seq
from ananke.ir.lowerings.repeats import RepeatSplitter

__all__ = ["LARK_MAX_ALTERNATIVES", "LARK_MAX_BOUND", "LarkShape"]

LARK_MAX_ALTERNATIVES = 16
"""The most alternatives one sequence may expand into before its widest parts become rules."""

LARK_MAX_BOUND = 4
"""The largest repeat bound kept; larger ones are split into repeats of repeats."""


@dataclass(frozen=True)
class LarkShape:
    name = "lark-shape"

    def run(self, grammar: Grammar, diags: Diagnostics) -> Grammar:
        return _Shaper().run(grammar)


@functools.lru_cache(maxsize=1 << 16)
def width(expr: Expr) -> int:
    """How many alternatives lark expands ``expr`` into in place, once every repeat bound
    is within :data:`LARK_MAX_BOUND`."""
    if isinstance(expr, Seq):
        return math.prod(map(width, expr.items))
    if isinstance(expr, Alt):
        return sum(map(width, expr.items)) if expr.items else 1
    if isinstance(expr, Repeat):
        w = width(expr.item)
        if expr.max is not None:
            counts: int = sum(w**k for k in range(expr.min, expr.max + 1))
            return counts
        # ``x+`` is a rule of lark's; ``x*`` is ``(x+)?``; ``x{m,}`` is printed ``x~m x*``.
        if expr.min == 1:
            return 1
        copies: int = w**expr.min
        return 2 * copies
    return 1


class _Shaper(RepeatSplitter):
    """Splits every bound above :data:`LARK_MAX_BOUND`, and makes rules of the parts that
    would expand into too many alternatives."""

    prefix = "group"

    def __init__(self) -> None:
        super().__init__(LARK_MAX_BOUND, rules=True)
        self.converted: dict[Expr, Expr] = {}
        """What each expression became: rules repeat the same parts (one run of blanks in
        hundreds of places), each converted once."""

    def convert(self, expr: Expr) -> Expr:
        out = self.converted.get(expr)
        if out is None:
            out = self.converted[expr] = self._convert(expr)
        return out

    def _convert(self, expr: Expr) -> Expr:
        if not isinstance(expr, Seq):
            return super().convert(expr)
        items = tuple(map(self.convert, expr.items))
        if all(map(operator.is_, items, expr.items)):
            return self.narrow(expr)
        return self.narrow(Seq(items=items))

    def bounded(self, item: Expr, lo: int, hi: int | None) -> Expr:
        return self.narrow(super().bounded(item, lo, hi))

    def narrow(self, expr: Expr) -> Expr:
        """``expr`` with the widest parts of a sequence made rules, one at a time, until it
        expands into at most :data:`LARK_MAX_ALTERNATIVES` alternatives."""
        if not isinstance(expr, Seq) or width(expr) <= LARK_MAX_ALTERNATIVES:
            return expr
        items = list(expr.items)
        widths = list(map(width, items))
        while math.prod(widths) > LARK_MAX_ALTERNATIVES:
            widest = max(range(len(items)), key=widths.__getitem__)
            items[widest] = self.ref(items[widest])
            widths[widest] = 1
        return Seq(items=tuple(items))

    def repeat(self, expr: Repeat, item: Expr) -> Expr:
        if (expr.max or expr.min) > 1 and width(item) > 1:
            item = self.ref(item)
        return super().repeat(expr, item)
