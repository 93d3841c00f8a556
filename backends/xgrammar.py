"""XGrammar's EBNF: GBNF with repetition ranges, read by ``xgrammar.Grammar.from_ebnf``.

Spec: XGrammar ``docs/defining_structures/ebnf_grammar.md`` ("compatible with GBNF, with
extensions"); checked against xgrammar 0.2.8. The printed grammar is the GBNF printer's
(same rules, ``root``, classes, ``{m,n}`` repeats, never ``{,n}``, never ``.``), after
the ``small-repeats`` lowering (no bound above 16: XGrammar precomputes a token mask for
every copy a bound unrolls into). This backend only changes escaping, where the two
readers disagree:

* XGrammar reads ``\\x`` with as many hex digits as follow (``"\\x41B"`` is U+041B), so
  every escape here is ``\\uXXXX`` or ``\\UXXXXXXXX``, which have fixed widths;
* control characters and DEL may stay inside strings as ``\\uXXXX``.

Known deviations (engine bugs worked around, checked on 0.2.8):

* XGrammar keeps characters below U+0020 and from U+007F to U+00FF as ``\\xHH`` inside,
  and reads that back greedily: the literal ``"éB"`` does not match ``éB``, nor the class
  ``[éB]`` ``é`` or ``B``. A string is therefore split after such a character when a hex
  digit follows (``"é" "B"``), and in a class the ranges ending in such a character are
  written last (the one of them that starts with a hex digit first).
* NUL inside a string literal ends the string (``"a\\u0000b"`` reads as ``"a"``), and a
  class holding only NUL is turned into such a literal. NUL is therefore printed as
  ``[^\\u0001-\\U0010FFFF]``.
* Surrogate code points are dropped from classes (no UTF-8 text contains them).
"""

from __future__ import annotations

from typing import ClassVar

from ananke.ir.lowerings import GrammarPass
from ananke.ir.lowerings.boundaries import GreedyBoundaries
from ananke.ir.lowerings.charlevel import CharLevel
from ananke.ir.lowerings.repeats import SmallRepeats

from .gbnf import GBNFBackend

__all__ = ["XGrammarBackend"]

_NUL_CLASS = "[^\\u0001-\\U0010FFFF]"


def _u(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


class XGrammarBackend(GBNFBackend):
    name: ClassVar[str] = "xgrammar"
    readers: ClassVar[tuple[str, ...]] = ("xgrammar-ebnf",)
    file_extension: ClassVar[str] = ".ebnf"
    reserved_names: ClassVar[tuple[str, ...]] = ()
    keeps_nested_repeats_grouped: ClassVar[bool] = False
    passes: ClassVar[tuple[GrammarPass, ...]] = (GreedyBoundaries(), CharLevel(), SmallRepeats())
    """XGrammar reads left recursion and repeats of any shape and size (no
    ``llamacpp-shape``), but unrolls a repeat's bound into rules and precomputes a token
    mask for each: ``small-repeats`` keeps every bound at 16 or less."""

    def string_char(self, ch: str) -> str | None:
        if ch == "\0":
            return None
        if ch in '"\\':
            return "\\" + ch
        if not ch.isprintable():
            return _u(ord(ch))
        return ch

    def class_char(self, cp: int) -> str:
        ch = chr(cp)
        if ch in '\\]^-["' or not ch.isprintable():
            return _u(cp)
        return ch

    def single_class(self, cp: int) -> str:
        return _NUL_CLASS if cp == 0 else f"[{self.class_char(cp)}]"

    def splits_string(self, prev: str, ch: str) -> bool:
        return _kept_as_x(ord(prev)) and ch in _HEX_DIGITS

    def class_order(self, ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        # The ranges that end in such a character go last, and the one of them that starts
        # with a hex digit (there is at most one: it spans from below U+0067 to U+007F or
        # more) first among them, after a range that does not end in one. The transpile fuzz
        # found `[\x1f\x30-\x7f]` printed in that order, which XGrammar reads as a range
        # from U+01F0.
        return tuple(sorted(ranges, key=lambda r: (_kept_as_x(r[1]), chr(r[0]) not in _HEX_DIGITS)))


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _kept_as_x(cp: int) -> bool:
    """Whether XGrammar stores ``cp`` as a ``\\xHH`` escape (and misreads a hex digit after
    it)."""
    return cp < 0x20 or 0x7F <= cp <= 0xFF
