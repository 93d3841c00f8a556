"""Regexes for pinned parts of a Python ``def`` line: parameters and return annotations."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ananke.ir.constraint import Param, TypeExpr

from .types import render_type

__all__ = ["params_regex", "returns_regex"]

# Whitespace runs are bounded as in the rest of the grammar (grammar.MAX_WHITESPACE_RUN).
_WS = r"[ \t\f\r\n]{0,256}"  # inside the parentheses, newlines are insignificant
_HWS = r"[ \t\f]{0,256}"


def type_regex(t: TypeExpr, ws: str = _WS) -> str:
    """Every accepted spelling of a type annotation, with free whitespace between tokens."""
    spellings = render_type(t)
    return "(?:" + "|".join(_spelling_regex(s, ws) for s in spellings) + ")"


def _spelling_regex(spelling: str, ws: str) -> str:
    # Whitespace is free around punctuation ("Result[A, B]" == "Result[A,B]").
    out: list[str] = []
    for tok in re.findall(r"[A-Za-z0-9_.]+|\S", spelling):
        out.append(re.escape(tok))
    return ws.join(out)


def returns_regex(t: TypeExpr) -> str:
    """The return annotation (the text after ``->``); may be quoted as a string."""
    bare = type_regex(t, _HWS)
    return f"(?:{bare}|\"{bare}\"|'{bare}')"


def params_regex(params: Sequence[Param]) -> str:
    """The text between the parentheses of the ``def``, pinned to ``params``.

    Names, annotations and default values are pinned exactly (a default as written in the
    constraint); whitespace and newlines between them and a trailing comma are free. A
    keyword-only parameter without a preceding ``*args`` gets the bare ``*`` separator.
    """
    pieces: list[str] = []
    seen_star = False
    for p in params:
        if p.kind == "keyword_only" and not seen_star:
            pieces.append(r"\*")
            seen_star = True
        prefix = {"var_positional": r"\*", "var_keyword": r"\*\*"}.get(p.kind, "")
        if p.kind == "var_positional":
            seen_star = True
        piece = prefix + _WS + re.escape(p.name)
        if p.type is not None:
            piece += _WS + ":" + _WS + type_regex(p.type)
        if p.default is not None:
            piece += _WS + "=" + _WS + re.escape(p.default)
        pieces.append(piece)
    if not pieces:
        return _WS
    sep = _WS + "," + _WS
    return _WS + sep.join(pieces) + f"(?:{_WS},)?" + _WS
