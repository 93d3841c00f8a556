"""A fast lexer for the Ariadne grammar, plugged into lark's LALR parser.

lark's own contextual lexer costs about two thirds of the parse time. This one is a
single compiled regular expression; keywords are contextual exactly as with lark's
contextual lexer: ``constraint``, ``schema``, ``async``, ``import``, ``let``, ``extends``,
``override`` and ``example`` are keywords only in parser states that accept them, and plain names
everywhere else. The terminal names are those of ``ariadne.lark``; a test keeps the two
in step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lark import Token, UnexpectedCharacters
from lark.lexer import Lexer, LexerState

__all__ = ["TOKEN_RE", "FastLexer"]

TOKEN_RE = re.compile(
    r"""(?P<_WS>[ \t\r\n\f]+)
    |(?P<_COMMENT>//[^\n]*|/\*[\s\S]*?\*/)
    |(?P<TEXT_BLOCK>(?P<_HASHES>\#*)\"\"\"[\s\S]*?\"\"\"(?P=_HASHES))
    |(?P<_OPEN_BLOCK>\#*\"\"\")
    |(?P<RAW_STRING>r"[^"\n]*")
    |(?P<NAME>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<FLOAT>[0-9](?:_?[0-9])*(?:\.[0-9]*(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+))
    |(?P<INT>[0-9](?:_?[0-9])*)
    |(?P<STRING>"(?:[^"\\\n]|\\.)*")
    |(?P<ARROW>->)|(?P<DSTAR>\*\*)
    |(?P<SEMI>;)|(?P<COLON>:)|(?P<COMMA>,)|(?P<DOT>\.)|(?P<QMARK>\?)|(?P<EQUAL>=)
    |(?P<MINUS>-)|(?P<STAR>\*)|(?P<LBRACE>\{)|(?P<RBRACE>\})|(?P<LSQB>\[)|(?P<RSQB>\])
    |(?P<LPAR>\()|(?P<RPAR>\))|(?P<LESSTHAN><)|(?P<MORETHAN>>)|(?P<AT>@)
    |(?P<_BAD>[\s\S])""",
    re.VERBOSE,
)

_KEYWORDS = {
    "constraint": "CONSTRAINT",
    "schema": "SCHEMA",
    "async": "ASYNC",
    "import": "IMPORT",
    "let": "LET",
    "extends": "EXTENDS",
    "override": "OVERRIDE",
    "example": "EXAMPLE",
}


class FastLexer(Lexer):
    """Tokens for lark's LALR parser; positions are character offsets (no line counting)."""

    # lark's interface version 2: lex(lexer_state, parser_state), the text as a TextSlice.
    __future_interface__ = 2

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        text = lexer_state.text.text
        states = parser_state.parse_conf.states
        for m in TOKEN_RE.finditer(text):
            kind = m.lastgroup
            if kind is None or kind[0] == "_":
                if kind in ("_BAD", "_OPEN_BLOCK"):
                    pos = m.start()
                    raise UnexpectedCharacters(  # type: ignore[no-untyped-call]
                        text, pos, 0, 0, state=parser_state
                    )
                continue
            value = m.group()
            if kind == "NAME" and value in _KEYWORDS:
                kw = _KEYWORDS[value]
                if kw in states[parser_state.position]:
                    kind = kw
            yield Token(kind, value, m.start(), None, None, None, None, m.end())
