"""Plain Lark, for the ``lark`` parsing library (``Lark(text, parser="earley",
lexer="dynamic")``).

Spec: Lark's grammar reference (``docs/grammar.md``); checked against lark 1.3.1. Takes a
char-level grammar (lowering ``char-level``), so every rule is a lowercase Lark rule and
the only terminals are inline string literals and ``/[...]/`` classes of one character:
each terminal has one fixed length, so Earley's dynamic lexer cannot lex greedily and
the parser accepts exactly the strings the char-level grammar describes.

Forms: ``name: ...`` with the start rule named ``start``, names of ``[a-z0-9_]`` starting
with a letter, ``"..."`` with ``\\\\ \\" \\n \\r \\t \\uXXXX`` escapes for what is not
printable (astral characters as they are, NUL as a class of its own), ``( )``, ``|``,
``* + ?``, ``x~n`` and ``x~m..n`` for bounded repeats (``{m,n}`` is llguidance's, not
Lark's), ``()`` for the empty string (Lark refuses empty terminals). Classes are Python
``re`` classes; ``\\ ] [ ^ - /`` in them are backslash-escaped, since Lark turns escapes
in a regex into the raw character first.

The same text loads in XGrammar's Lark reader (``Grammar.from_lark``), which has no
``\\x`` or ``\\U`` in strings and reads a class's ``\\x`` with every hex digit that
follows: escapes are fixed-width, and the differential tests read this target with both.

Lark writes groups, optional parts and bounded repeats in place as alternatives of the
rule that holds them, and these multiply; the ``lark-shape`` lowering
(:mod:`.larkshape`) splits rules so that each expands into a few.

Known deviations: surrogate code points are dropped from classes (no UTF-8 text holds
them).
"""

from __future__ import annotations

from typing import ClassVar

from ananke.ir.grammar import (
    Alt,
    CharClass,
    Empty,
    Expr,
    Lit,
    Ref,
    Repeat,
    Rule,
    Seq,
)
from ananke.ir.lowerings import GrammarPass
from ananke.ir.lowerings.boundaries import GreedyBoundaries
from ananke.ir.lowerings.charlevel import CharLevel
from ananke.ir.ranges import without_surrogates

from ..base import CharLevelBackend
from .larkshape import LarkShape

__all__ = ["LarkBackend"]

_NEVER = "/[^\\u0000-\\U0010ffff]/"
_ANY = "/[\\u0000-\\U0010ffff]/"
_NUL = "/[^\\u0001-\\U0010ffff]/"
"""NUL alone: XGrammar's Lark reader ends a string at NUL and empties a class of only NUL."""


def _escape(cp: int) -> str:
    # Fixed-width escapes only: XGrammar reads \x with every hex digit that follows.
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


_STRING_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _string(text: str) -> str:
    """``text`` as string literals both the lark package and XGrammar's Lark reader take:
    ``\\n \\r \\t \\" \\\\``, ``\\uXXXX`` for other unprintable characters of the
    BMP, astral characters as they are (XGrammar refuses ``\\U`` in strings), and NUL as a
    class of its own between strings."""
    parts: list[str] = []
    out: list[str] = []
    for ch in text:
        if ch == "\0":
            if out:
                parts.append('"' + "".join(out) + '"')
                out = []
            parts.append(_NUL)
        elif ch in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[ch])
        elif ch.isprintable() or ord(ch) > 0xFFFF:
            out.append(ch)
        else:
            out.append(_escape(ord(ch)))
    if out:
        parts.append('"' + "".join(out) + '"')
    return parts[0] if len(parts) == 1 else "(" + " ".join(parts) + ")"


def _class_char(cp: int) -> str:
    # Lark turns \uXXXX and \UXXXXXXXX in a regex into the character itself before
    # Python's re sees it, so a special character needs its backslash, never an escape.
    ch = chr(cp)
    if ch in "\\]^-[/":
        return "\\" + ch
    if not ch.isprintable() or ch.isspace():
        return _escape(cp)
    return ch


class LarkBackend(CharLevelBackend):
    name: ClassVar[str] = "lark"
    readers: ClassVar[tuple[str, ...]] = ("lark", "xgrammar-lark")
    file_extension: ClassVar[str] = ".lark"
    passes: ClassVar[tuple[GrammarPass, ...]] = (GreedyBoundaries(), CharLevel(), LarkShape())
    dialect: ClassVar[str] = "plain Lark"
    start_name: ClassVar[str] = "start"
    name_sep: ClassVar[str] = "_"
    defines: ClassVar[str] = ": "
    comment_prefix: ClassVar[str] = "// "

    # --- one printer per node tag ---------------------------------------------------------

    def print_lit(self, node: Lit, rule: Rule) -> str:
        return _string(node.text) if node.text else "()"

    def print_class(self, node: CharClass, rule: Rule) -> str:
        ranges = without_surrogates(node.ranges)
        if not ranges:
            return _ANY if node.negated else _NEVER
        if ranges == ((0, 0),) and not node.negated:
            return _NUL
        body = "".join(
            _class_char(lo) if lo == hi else f"{_class_char(lo)}-{_class_char(hi)}"
            for lo, hi in ranges
        )
        return f"/[{'^' if node.negated else ''}{body}]/"

    def print_ref(self, node: Ref, rule: Rule) -> str:
        return self._names[node.name]

    def print_seq(self, node: Seq, rule: Rule) -> str:
        if not node.items:
            return "()"
        return " ".join(self._seq_item(item, rule) for item in node.items)

    def print_alt(self, node: Alt, rule: Rule) -> str:
        if not node.items:
            return _NEVER
        return " | ".join(self._seq_item(item, rule) for item in node.items)

    def print_repeat(self, node: Repeat, rule: Rule) -> str:
        lo, hi = node.min, node.max
        if hi == 0:
            return "()"
        inner = self.print_expr(node.item, rule)
        if not isinstance(node.item, Lit | Ref | CharClass | Empty):
            inner = f"({inner})"
        if (lo, hi) == (0, None):
            return f"{inner}*"
        if (lo, hi) == (1, None):
            return f"{inner}+"
        if (lo, hi) == (0, 1):
            return f"{inner}?"
        if hi is None:
            return f"({inner}~{lo} {inner}*)"
        if lo == hi:
            return f"{inner}~{lo}"
        return f"{inner}~{lo}..{hi}"

    def print_empty(self, node: Empty, rule: Rule) -> str:
        return "()"

    def _seq_item(self, expr: Expr, rule: Rule) -> str:
        text = self.print_expr(expr, rule)
        return f"({text})" if isinstance(expr, Alt) and len(expr.items) > 1 else text
