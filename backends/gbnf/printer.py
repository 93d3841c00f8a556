"""llama.cpp's GBNF, read by llama.cpp and by llguidance's GBNF converter.

Spec: llama.cpp ``grammars/README.md`` (GBNF) and llguidance's ``gbnf_to_lark.py``, the
converter behind ``grammar_from("gbnf", ...)``; checked against llama.cpp itself (its
grammar parser and matcher as built into node-llama-cpp 3.21.1, engine ``llamacpp-gbnf``)
and llguidance 1.9.1.

The printer takes a char-level grammar in llama.cpp's shape (lowerings ``char-level`` and
``llamacpp-shape``: no left recursion, no repeated group over llama.cpp's rule count, no
bound of 2,000 or more): lowercase rules whose
bodies are ``Lit``, ``CharClass``, ``Ref``, ``Seq``, ``Alt``, ``Repeat`` and ``Empty``. It
writes only the forms both readers accept: ``name ::= ...`` with the start rule named
``root``, names of ``[a-z0-9-]`` (starting with a letter, never ``start``, which the
converter gives to ``root``), ``"..."`` strings, ``[...]`` classes, ``( )``, ``|``,
``* + ?``, ``{m}``, ``{m,}``, ``{m,n}``. Never ``.``: classes are written out.

Escaping: ``\\" \\\\ \\n \\r \\t`` in strings; other control characters and DEL go into a
one-character class as ``\\xHH`` (the converter copies a string's escapes into a Lark
string, where llguidance before 1.8 has no ``\\x``). Other characters are written as they
are, except in classes, where ``\\ ] [ ^ - "`` are ``\\xHH`` and a character of U+1000 to
U+FFFF that is not printable is ``\\uXXXX``. (The converter strips the leading zeros of
``\\u`` and ``\\U`` escapes, which breaks ``\\u00e9``; raw characters avoid it.)

Known deviations:

* llguidance's converter turns every non-recursive rule other than ``root`` into a *lexeme*
  (a greedy token). A GBNF grammar read through llguidance therefore lexes greedily where
  llama.cpp does not: ``root ::= w "x"`` with ``w ::= [a-z]+`` accepts ``abx`` in llama.cpp
  and rejects it in llguidance.
* llguidance's converter drops the parentheses of a group that holds only a repeat, so
  ``([c]{0,2}){0,2}`` or ``([c]*)*`` fails to load there ("Expected value"); llama.cpp
  reads them. The char-level lowering never writes a repeat of a repeat for the grammars
  ``arc`` builds itself; an imported grammar that has one loads in llama.cpp only.
* The same lexemes can hang llguidance 1.9.1: before each mask it computes the bytes the
  grammar forces next, which never ends when a lexeme forces bytes forever. ``root ::= r r``
  with ``r ::= "a"{2,}`` becomes ``R: /a{2,}/``: the greedy lexer reads every ``a`` into the
  first ``R``, so only ``a`` may follow, without end, and no mask comes back.
* Surrogate code points are dropped from classes (no UTF-8 text contains them).

Token by token (llama.cpp's grammar sampler over a model's vocabulary, compared with
llguidance's masks in ``tests/differential/test_token_masks.py``):

* llama.cpp never allows a token whose text starts with NUL, and reads a token with a NUL
  inside as ending there, so a grammar whose strings need NUL cannot be completed through
  llama.cpp. (The Python grammars refuse NUL, as Python does; on them every token is
  allowed exactly where llguidance allows it.)
* llama.cpp reads bytes, not UTF-8: a token that ends inside a character is allowed when
  some code point it could still become fits the class that comes next. Negated classes
  are therefore written as the ranges they allow; through ``[^...]`` llama.cpp would let
  bytes F5 to FF (never UTF-8) through. Overlong sequences (``E0 82``) still pass where a
  class holds the code point they spell; no vocabulary trained on UTF-8 text has such a
  token other than single bytes. The one negated class left is the one that matches
  nothing, ``[^\\x00-\\U0010ffff]`` (GBNF has no empty class): llama.cpp reads the bytes
  F5 to FF through it too. Ananke's own grammars never contain it.
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
    ungrouped,
)
from ananke.ir.lowerings import GrammarPass
from ananke.ir.lowerings.boundaries import GreedyBoundaries
from ananke.ir.lowerings.charlevel import CharLevel
from ananke.ir.ranges import complement, merge, without_surrogates

from ..base import CharLevelBackend, repeat_suffix
from .llamacpp import LlamaCppShape

__all__ = ["GBNFBackend"]

_MAX = 0x10FFFF


class GBNFBackend(CharLevelBackend):
    name: ClassVar[str] = "gbnf"
    readers: ClassVar[tuple[str, ...]] = ("llguidance-gbnf", "llamacpp-gbnf")
    file_extension: ClassVar[str] = ".gbnf"
    passes: ClassVar[tuple[GrammarPass, ...]] = (GreedyBoundaries(), CharLevel(), LlamaCppShape())
    """llama.cpp refuses left recursion, a bounded repeat of a group that holds other
    repeats, and any bound of 2,000 or more (:mod:`.llamacpp`)."""

    reserved_names: ClassVar[tuple[str, ...]] = ("start",)
    """llguidance's converter renames ``root`` to ``start``."""
    keeps_nested_repeats_grouped: ClassVar[bool] = True
    """llguidance's GBNF converter drops the parentheses around a lone repeat inside a
    repeat (``(x*)*`` becomes ``x**``, which it then refuses): an empty literal beside the
    inner repeat keeps the group."""

    # --- escaping: the parts XGrammar's EBNF prints differently ---------------------------

    def string_char(self, ch: str) -> str | None:
        """``ch`` inside ``"..."``, or None when it must be printed as a class instead."""
        if ch in '"\\':
            return "\\" + ch
        if ch in "\n\r\t":
            return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch]
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return None
        return ch

    def class_char(self, cp: int) -> str:
        """Code point ``cp`` inside ``[...]``."""
        if cp < 0x20 or 0x7F <= cp <= 0xA0 or chr(cp) in '\\]^-["':
            return f"\\x{cp:02x}"
        if 0x1000 <= cp <= 0xFFFF and not chr(cp).isprintable():
            return f"\\u{cp:04x}"
        return chr(cp)

    def single_class(self, cp: int) -> str:
        """A class matching exactly ``cp``."""
        return f"[{self.class_char(cp)}]"

    def splits_string(self, prev: str, ch: str) -> bool:
        """Whether ``ch`` must start a new string literal after ``prev``."""
        return False

    def class_order(self, ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        """The order in which a class's ranges are written."""
        return ranges

    # --- the grammar ----------------------------------------------------------------------

    # --- one printer per node tag ---------------------------------------------------------

    def print_lit(self, node: Lit, rule: Rule) -> str:
        return " ".join(self._lit_parts(node.text))

    def _lit_parts(self, text: str) -> list[str]:
        """``text`` as strings and one-character classes, in order."""
        if not text:
            return ['""']
        parts: list[str] = []
        run = ""
        prev = ""
        for ch in text:
            esc = self.string_char(ch)
            if run and self.splits_string(prev, ch):
                parts.append(f'"{run}"')
                run = ""
            prev = ch
            if esc is None:
                if run:
                    parts.append(f'"{run}"')
                    run = ""
                parts.append(self.single_class(ord(ch)))
            else:
                run += esc
        if run:
            parts.append(f'"{run}"')
        return parts

    def print_class(self, node: CharClass, rule: Rule) -> str:
        # A negated class is written as the ranges it allows: llama.cpp lets a token that
        # ends inside a UTF-8 sequence through a negated class whenever the code points
        # the sequence could still become are all outside it, and the first byte of one
        # that is not UTF-8 (F5 to FF) reads as a code point above U+10FFFF. A positive
        # class never allows those.
        ranges = complement(merge(node.ranges)) if node.negated else without_surrogates(node.ranges)
        if not ranges:
            return self._nothing()
        if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
            return self.single_class(ranges[0][0])
        body = "".join(
            self.class_char(lo) if lo == hi else f"{self.class_char(lo)}-{self.class_char(hi)}"
            for lo, hi in self.class_order(ranges)
        )
        return f"[{body}]"

    def _nothing(self) -> str:
        """A class that matches no character (GBNF has no empty class)."""
        return f"[^{self.class_char(0)}-{self.class_char(_MAX)}]"

    def print_ref(self, node: Ref, rule: Rule) -> str:
        return self._names[node.name]

    def print_seq(self, node: Seq, rule: Rule) -> str:
        if not node.items:
            return '""'
        return " ".join(
            f"({self.print_expr(item, rule)})" if _is_alt(item) else self.print_expr(item, rule)
            for item in node.items
        )

    def print_alt(self, node: Alt, rule: Rule) -> str:
        if not node.items:
            return self._nothing()
        return " | ".join(
            f"({self.print_expr(item, rule)})" if _is_alt(item) else self.print_expr(item, rule)
            for item in node.items
        )

    def print_repeat(self, node: Repeat, rule: Rule) -> str:
        item = ungrouped(node.item)
        if node.max == 0 or isinstance(item, Empty) or (isinstance(item, Lit) and not item.text):
            return '""'  # llama.cpp refuses `""?`: an empty literal is no item to repeat
        inner = self.print_expr(node.item, rule)
        if self.keeps_nested_repeats_grouped and isinstance(ungrouped(node.item), Repeat):
            inner = f'({inner} "")'
        elif not self._is_atom(node.item):
            inner = f"({inner})"
        return inner + repeat_suffix(node.min, node.max)

    def print_empty(self, node: Empty, rule: Rule) -> str:
        return '""'

    def _is_atom(self, item: Expr) -> bool:
        if isinstance(item, Ref | CharClass | Empty):
            return True
        return isinstance(item, Lit) and len(self._lit_parts(item.text)) == 1


def _is_alt(item: Expr) -> bool:
    return isinstance(item, Alt) and len(item.items) > 1
