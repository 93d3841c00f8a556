"""XGrammar's EBNF: GBNF with repetition ranges, read by ``xgrammar.Grammar.from_ebnf``.

Spec: XGrammar ``docs/defining_structures/ebnf_grammar.md`` ("compatible with GBNF, with
extensions"); checked against xgrammar 0.2.8. The printed grammar is the GBNF printer's
(same rules, ``root``, classes, ``{m,n}`` repeats, never ``{,n}``, never ``.``), so this
backend only changes escaping, where the two readers disagree:

* XGrammar reads ``\\x`` with as many hex digits as follow (``"\\x41B"`` is U+041B), so
  every escape here is ``\\uXXXX`` or ``\\UXXXXXXXX``, which have fixed widths;
* control characters and DEL may stay inside strings as ``\\uXXXX``.

Known deviations (engine bugs worked around, checked on 0.2.8):

* NUL inside a string literal ends the string (``"a\\u0000b"`` reads as ``"a"``), and a
  class holding only NUL is turned into such a literal. NUL is therefore printed as
  ``[^\\u0001-\\U0010FFFF]``.
* Surrogate code points are dropped from classes (no UTF-8 text contains them).
"""

from __future__ import annotations

from typing import ClassVar

from .gbnf import GBNFBackend

__all__ = ["XGrammarBackend"]

_NUL_CLASS = "[^\\u0001-\\U0010FFFF]"


def _u(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


class XGrammarBackend(GBNFBackend):
    name: ClassVar[str] = "xgrammar"
    file_extension: ClassVar[str] = ".ebnf"
    reserved_names: ClassVar[tuple[str, ...]] = ()

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
