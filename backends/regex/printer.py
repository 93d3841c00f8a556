"""A regular expression in the syntax of Rust's ``regex`` crate, as outlines-core and
llguidance's ``regex`` grammar format read it.

Spec: Rust ``regex`` crate syntax (``docs.rs/regex``, "Syntax"); checked against
outlines-core 0.2.14 (``outlines_core.Index``) and llguidance 1.9.1
(``grammar_from("regex", ...)``). Both match the whole output, so no anchors are printed.

Lowerings: ``char-level`` then ``regular`` (the whole grammar inlined into the start rule;
recursion and oversized results are reported there). The whole pattern is written
``(?:R)$`` (``(?:R)$|`` with R the language minus the empty string, when that is in it):
outlines-core 0.2.14 builds its index with leftmost-first priority, so without the final
``$`` an alternative that completes the match drops later ones still in progress (``a|ab``
rejects ``ab``, ``a*|b`` rejects ``b``), and it refuses ``$`` in a pattern that matches the
empty string. llguidance reads all three forms the same. The printer sees one rule of
``Lit``, ``CharClass``, ``Seq``, ``Alt``, ``Repeat`` and ``Empty``. It writes letters,
digits, space and printable non-ASCII characters as they are and every other character as
``\\x{H...}``, groups with ``(?:...)``, repeats as ``* + ? {m} {m,} {m,n}`` (never
``{,n}``, which outlines-core refuses), and never ``.``, ``\\w``, ``\\d`` or ``\\s``.

A lexeme with negation or intersection is lowered to an automaton, printed as
right-linear rules, which ``regular`` solves back into one expression (Arden's rule).

Known deviations: surrogate code points are dropped from classes (no UTF-8 text holds
them). A printed regex longer than 100,000 characters is refused (``regex-too-large``).
outlines-core builds the pattern's whole automaton, unminimized, before its index, which
for some patterns with a small minimal automaton takes minutes (bounded repeats of wide
classes nested in repeats that overlap them); llguidance reads them lazily.
"""

from __future__ import annotations

from typing import ClassVar

from ananke.ir.grammar import (
    Alt,
    CharClass,
    Empty,
    Expr,
    Grammar,
    Lit,
    Ref,
    Repeat,
    Rule,
    Seq,
    ungrouped,
)
from ananke.ir.lowerings import GrammarPass
from ananke.ir.lowerings.boundaries import GreedyBoundaries
from ananke.ir.lowerings.charlevel import CharLevel
from ananke.ir.ranges import without_surrogates

from ..base import CharLevelBackend, repeat_suffix
from .regular import Regular

__all__ = ["RegexBackend"]

MAX_CHARS = 100_000
_NEVER = "[^\\x{0}-\\x{10ffff}]"
_ANY = "[\\x{0}-\\x{10ffff}]"


def _char(cp: int) -> str:
    ch = chr(cp)
    if (ch.isalnum() and cp < 0x80) or ch == " " or (cp >= 0x80 and ch.isprintable()):
        return ch
    return f"\\x{{{cp:x}}}"


class RegexBackend(CharLevelBackend):
    name: ClassVar[str] = "regex"
    readers: ClassVar[tuple[str, ...]] = ("outlines-regex", "llguidance-regex")
    file_extension: ClassVar[str] = ".regex"
    passes: ClassVar[tuple[GrammarPass, ...]] = (GreedyBoundaries(), CharLevel(), Regular())
    dialect: ClassVar[str] = "a regular expression"

    def emit(self, grammar: Grammar) -> str:
        if len(grammar.rules) != 1 or grammar.rules[0].name != grammar.start:
            raise AssertionError(f"{self.name}: the grammar was not inlined into one rule")
        rule = grammar.rules[0]
        # outlines-core drops later alternatives once an earlier one has matched (``a|ab``
        # rejects ``ab``). A final ``$`` defers every match to the end of the input, which
        # makes the order harmless; outlines-core refuses ``$`` when the empty string
        # matches, so that case is written ``(?:R)$|`` with R the language minus it.
        body = _without_empty(rule.body) if _nullable(rule.body) else rule.body
        if body is None:
            text = ""
        else:
            text = f"(?:{self.print_expr(body, rule)})$"
            if _nullable(rule.body):
                text += "|"
        if len(text) > MAX_CHARS:
            self.unsupported(
                rule,
                f"the regular expression is {len(text):,} characters (limit {MAX_CHARS:,})",
                code="regex-too-large",
            )
        return text + "\n"

    def print_lit(self, node: Lit, rule: Rule) -> str:
        return "".join(_char(ord(ch)) for ch in node.text) if node.text else "(?:)"

    def print_class(self, node: CharClass, rule: Rule) -> str:
        ranges = without_surrogates(node.ranges)
        if not ranges:
            return _ANY if node.negated else _NEVER
        body = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)
        return f"[{'^' if node.negated else ''}{body}]"

    def print_seq(self, node: Seq, rule: Rule) -> str:
        if not node.items:
            return "(?:)"
        return "".join(
            f"(?:{self.print_expr(i, rule)})"
            if isinstance(i, Alt) and len(i.items) > 1
            else self.print_expr(i, rule)
            for i in map(ungrouped, node.items)
        )

    def print_alt(self, node: Alt, rule: Rule) -> str:
        if not node.items:
            return _NEVER
        return "|".join(self.print_expr(i, rule) for i in node.items)

    def print_repeat(self, node: Repeat, rule: Rule) -> str:
        lo, hi = node.min, node.max
        if hi == 0:
            return "(?:)"
        item = ungrouped(node.item)
        inner = self.print_expr(item, rule)
        if not _is_atom(item):
            inner = f"(?:{inner})"
        return inner + repeat_suffix(lo, hi)

    def print_empty(self, node: Empty, rule: Rule) -> str:
        return "(?:)"

    def print_ref(self, node: Ref, rule: Rule) -> str:
        raise AssertionError(f"{self.name}: reference to `{node.name}` left after inlining")


def _nullable(expr: Expr) -> bool:
    """Whether ``expr`` matches the empty string."""
    if isinstance(expr, Lit):
        return not expr.text
    if isinstance(expr, Empty):
        return True
    if isinstance(expr, Seq):
        return all(map(_nullable, expr.items))
    if isinstance(expr, Alt):
        return any(map(_nullable, expr.items))
    if isinstance(expr, Repeat):
        return expr.min == 0 or expr.max == 0 or _nullable(expr.item)
    return False


def _without_empty(expr: Expr) -> Expr | None:
    """An expression for the language of ``expr`` minus the empty string (None: nothing
    left)."""
    if not _nullable(expr):
        return expr
    if isinstance(expr, Alt):
        items = [e for e in map(_without_empty, expr.items) if e is not None]
        return Alt(items=tuple(items)) if items else None
    if isinstance(expr, Seq):
        if not expr.items:
            return None
        head, tail = expr.items[0], Seq(items=expr.items[1:])
        # All items match the empty string: a non-empty word starts in some item.
        first = _without_empty(head)
        rest = _without_empty(tail)
        options = ([Seq(items=(first, tail))] if first is not None else []) + (
            [rest] if rest is not None else []
        )
        return Alt(items=tuple(options)) if options else None
    if isinstance(expr, Repeat):
        if expr.max == 0:
            return None
        item = _without_empty(expr.item)
        return None if item is None else Repeat(item=item, min=1, max=expr.max)
    return None


def _is_atom(item: Expr) -> bool:
    if isinstance(item, CharClass | Empty):
        return True
    return isinstance(item, Lit) and len(item.text) == 1
