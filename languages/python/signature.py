"""Regexes for pinned parts of a Python ``def`` line: parameters and return annotations;
the names such a line cannot do without."""

from __future__ import annotations

import functools
import io
import re
import tokenize
import unicodedata
from collections.abc import Collection, Sequence

from ananke.ir.constraint import Param, TypeExpr
from ananke.ir.diagnostics import quote

from .types import render_type

__all__ = ["params_regex", "pinned_words", "returns_regex"]

# Whitespace runs are bounded as in the rest of the grammar (grammar.MAX_WHITESPACE_RUN).
_WS = r"[ \t\f\r\n]{0,256}"  # inside the parentheses, newlines are insignificant
_HWS = r"[ \t\f]{0,256}"


@functools.lru_cache(maxsize=1024)
def _words(code: str) -> frozenset[str]:
    """The names ``code`` spells bare (not after a dot), as Python reads them (NFKC), and
    the keywords it spells; words in strings are none."""
    out: set[str] = set()
    prev = ""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.NAME and prev != ".":
                out.add(unicodedata.normalize("NFKC", tok.string))
            prev = tok.string
    except (tokenize.TokenError, SyntaxError):
        pass
    return frozenset(out)


def _alternatives(spellings: Sequence[str], ws: str) -> str:
    return "(?:" + "|".join(_spelling_regex(s, ws) for s in spellings) + ")"


def _quoted(regex: str) -> str:
    return f"(?:\"{regex}\"|'{regex}')"


def type_regex(t: TypeExpr, ws: str = _WS, avoid: Collection[str] = ()) -> str:
    """Every accepted spelling of a type annotation, with free whitespace between tokens.

    A spelling that spells a name of ``avoid`` (a forbidden name) is left out; when every
    spelling does, the annotation is a string (``x: "int"``), whose words are no uses.
    """
    spellings = render_type(t)
    bare = [s for s in spellings if not _words(s) & set(avoid)]
    return _alternatives(bare, ws) if bare else _quoted(_alternatives(spellings, ws))


def pinned_words(params: Sequence[Param] | None, is_async: bool | None) -> list[tuple[str, str]]:
    """The names and keywords every ``def`` line pinned this way spells, each with where
    it stands (``("x", "parameter `x`")``): a forbidden one admits no output.

    Annotations spell none for sure: every annotation may be written as a string, whose
    words are no uses (:func:`type_regex`)."""
    out: list[tuple[str, str]] = []
    if is_async:
        out.append(("async", "`async def`"))
    for p in params or ():
        out.append((unicodedata.normalize("NFKC", p.name), f"parameter {quote(p.name)}"))
        if p.default is not None:
            where = f"the default of {quote(p.name)}"
            out += [(w, where) for w in sorted(_words(p.default))]
    return out


def _spelling_regex(spelling: str, ws: str) -> str:
    # Whitespace is free around punctuation ("Result[A, B]" == "Result[A,B]").
    out: list[str] = []
    for tok in re.findall(r"[A-Za-z0-9_.]+|\S", spelling):
        out.append(re.escape(tok))
    return ws.join(out)


def returns_regex(t: TypeExpr, avoid: Collection[str] = ()) -> str:
    """The return annotation (the text after ``->``); may be quoted as a string. Bare
    spellings that spell a name of ``avoid`` are left out (see :func:`type_regex`)."""
    spellings = render_type(t)
    every = _alternatives(spellings, _HWS)
    quoted = f"\"{every}\"|'{every}'"
    bare = [s for s in spellings if not _words(s) & set(avoid)]
    return f"(?:{_alternatives(bare, _HWS)}|{quoted})" if bare else f"(?:{quoted})"


def params_regex(params: Sequence[Param], avoid: Collection[str] = ()) -> str:
    """The text between the parentheses of the ``def``, pinned to ``params``.

    Names, annotations and default values are pinned exactly (a default as written in the
    constraint); whitespace and newlines between them and a trailing comma are free. A
    keyword-only parameter without a preceding ``*args`` gets the bare ``*`` separator.
    Annotation spellings that spell a name of ``avoid`` are left out (see
    :func:`type_regex`).
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
            piece += _WS + ":" + _WS + type_regex(p.type, avoid=avoid)
        if p.default is not None:
            piece += _WS + "=" + _WS + re.escape(p.default)
        pieces.append(piece)
    if not pieces:
        return _WS
    sep = _WS + "," + _WS
    return _WS + sep.join(pieces) + f"(?:{_WS},)?" + _WS
