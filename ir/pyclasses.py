"""The character classes ``\\d``, ``\\w`` and ``\\s`` as Python's ``re`` reads them.

Lark grammars and Ariadne's ``matches:`` and ``naming:`` patterns are Python regular
expressions, in which these classes are Unicode-aware (a ``str`` pattern without the
``ASCII`` flag). The engines Ananke prints for read them otherwise: Rust's ``regex``
(llguidance) takes Unicode properties that differ from Python's for ``\\w`` and ``\\s``,
XGrammar and GBNF take ASCII or nothing. So every pattern is lowered to explicit ranges,
computed here from the running Python's Unicode database, exactly as its ``re`` module
decides them:

* ``\\d``: ``str.isdecimal`` (general category Nd);
* ``\\w``: ``str.isalnum`` or ``_``;
* ``\\s``: ``str.isspace``.

The upper-case escapes are the complements over the Unicode scalar values. With the
``ASCII`` flag (``(?a)``) the classes are ``[0-9]``, ``[0-9A-Za-z_]`` and
``[ \\t\\n\\r\\f\\v]``, as ``re`` documents them.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable

from .ranges import Ranges, complement

__all__ = ["ASCII_CLASSES", "UNICODE_VERSION", "python_class"]

UNICODE_VERSION: str = unicodedata.unidata_version
"""The Unicode version the classes follow: the running Python's."""

ASCII_CLASSES: dict[str, Ranges] = {
    "d": ((0x30, 0x39),),
    "w": ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)),
    "s": ((0x09, 0x0D), (0x20, 0x20)),
}
"""The classes under ``re.ASCII``."""

_PREDICATES: dict[str, Callable[[str], bool]] = {
    "d": str.isdecimal,
    "w": lambda ch: ch.isalnum() or ch == "_",
    "s": str.isspace,
}


@functools.cache
def _unicode(letter: str) -> Ranges:
    pred = _PREDICATES[letter]
    out: list[tuple[int, int]] = []
    start = -1
    for cp in range(0x110000):
        if pred(chr(cp)) and not 0xD800 <= cp <= 0xDFFF:
            if start < 0:
                start = cp
        elif start >= 0:
            out.append((start, cp - 1))
            start = -1
    if start >= 0:
        out.append((start, 0x10FFFF))
    return tuple(out)


def python_class(escape: str, *, ascii: bool = False) -> Ranges:
    """The code points ``re`` matches with ``\\<escape>`` (one of ``dDwWsS``), as sorted
    disjoint ranges of Unicode scalar values. Computed once per class (a few tenths of a
    second for ``\\w``)."""
    letter = escape.lower()
    if letter not in _PREDICATES:
        raise ValueError(f"not a class escape: \\{escape}")
    ranges = ASCII_CLASSES[letter] if ascii else _unicode(letter)
    return complement(ranges) if escape.isupper() else ranges
