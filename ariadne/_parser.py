"""Parsing: text → :class:`FileAst`, with every syntax error turned into one diagnostic.

The lark parser is built once per process from the packaged ``ariadne.lark`` (LALR(1),
contextual lexer) with :class:`AstBuilder` embedded, so the tree is built during the parse
without recursion. Parse errors are caught in exactly one place, :func:`parse`, and
explained by :mod:`._syntax_errors`.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from typing import cast

from ananke.ir.diagnostics import Diagnostics, Label, quote
from ananke.ir.source import SourceFile
from lark import Lark, UnexpectedInput

from ._ast import MAX_DEPTH, FileAst, StringValue, Value
from ._build import AstBuilder
from ._lexer import FastLexer
from ._syntax_errors import explain

__all__ = ["MAX_SOURCE_CHARS", "get_parser", "parse"]

MAX_SOURCE_CHARS = 8 * 1024 * 1024
"""Larger sources are refused with ``file-too-large`` (no real constraint file is near)."""


@functools.cache
def get_parser() -> Lark:
    """The process-wide parser; building it takes tens of milliseconds, so do it once."""
    text = importlib.resources.files(__package__).joinpath("ariadne.lark").read_text("utf-8")
    return Lark(
        text,
        parser="lalr",
        lexer=FastLexer,
        keep_all_tokens=True,
        maybe_placeholders=False,
        transformer=AstBuilder(),
        # Positions come from the tokens themselves (every AST node records its offsets);
        # lark's propagate_positions only annotates lark trees, which this parser never builds.
        propagate_positions=False,
    )


def parse(source: SourceFile, diags: Diagnostics) -> FileAst | None:
    """Parse ``source``; on a syntax error add one diagnostic and return None.

    Lexical errors inside strings (bad escapes) are reported too, but the tree is still
    returned so that checking can go on; ``diags.has_errors`` tells.
    """
    text = source.text
    if len(text) > MAX_SOURCE_CHARS:
        diags.error(
            "file-too-large",
            f"file is {len(text):,} characters; the limit is {MAX_SOURCE_CHARS:,}",
            Label(span=source.span(MAX_SOURCE_CHARS, MAX_SOURCE_CHARS), message="limit here"),
            help="split the constraints into several files",
        )
        return None
    try:
        tree = cast(FileAst, get_parser().parse(text))
    except UnexpectedInput as exc:
        diags.add(explain(exc, source))
        return None
    if not _check_depth(tree, source, diags):
        return None
    _decode_strings(tree, source, diags)
    return tree


def _values(tree: FileAst) -> list[Value]:
    from ._ast import ConstraintBlock, ImportItem, LetItem, SchemaBlock

    out: list[Value] = []
    for item in tree.items:
        if isinstance(item, ConstraintBlock):
            out.extend(p.value for p in item.properties)
            out.extend(e.text for e in item.examples)
        elif isinstance(item, SchemaBlock):
            out.extend(f.type for f in item.fields)
        elif isinstance(item, LetItem):
            out.append(item.value)
        elif isinstance(item, ImportItem) and item.path is not None:
            out.append(item.path)
    return out


def _check_depth(tree: FileAst, source: SourceFile, diags: Diagnostics) -> bool:
    for value in _values(tree):
        if value.depth > MAX_DEPTH:
            diags.error(
                "nesting-too-deep",
                f"value nested {value.depth} levels deep; at most {MAX_DEPTH} are allowed",
                Label(span=source.span(value.start, value.start + 1), message="outermost here"),
            )
            return False
    return True


# --- strings ----------------------------------------------------------------------------

_ESCAPE_RE = re.compile(r"\\(u\{[^}\"]*\}?|.)")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "0": "\0"}


def _decode_strings(tree: FileAst, source: SourceFile, diags: Diagnostics) -> None:
    # An explicit stack: values nest (lists of lists), and the tree may be deep.
    stack: list[object] = list(_values(tree))
    from ._ast import ListValue, ObjectValue

    while stack:
        v = stack.pop()
        if isinstance(v, StringValue):
            v.value = decode_string(v, source, diags)
        elif isinstance(v, ListValue):
            stack.extend(v.items)
        elif isinstance(v, ObjectValue):
            stack.extend(e.value for e in v.entries)


def decode_string(lit: StringValue, source: SourceFile, diags: Diagnostics) -> str:
    """The value of a string literal; each invalid escape is an ``invalid-escape`` error."""
    if lit.is_raw and not lit.raw.startswith("r"):
        return _decode_block(lit, source, diags)
    if lit.is_raw:
        return lit.raw[2:-1]
    body = lit.raw[1:-1]
    if "\\" not in body:
        return body
    base = lit.start + 1
    out: list[str] = []
    pos = 0
    for m in _ESCAPE_RE.finditer(body):
        out.append(body[pos : m.start()])
        pos = m.end()
        esc = m.group(1)
        decoded = _decode_escape(esc)
        if decoded is None:
            shown = "\\" + esc
            diags.error(
                "invalid-escape",
                f"invalid escape {quote(shown)} in string",
                Label(span=source.span(base + m.start(), base + m.end()), message="here"),
                help=(
                    'valid escapes: \\n \\t \\r \\0 \\" \\\\ and \\u{XXXX} (1 to 6 hex digits); '
                    'for a literal backslash write \\\\ or use a raw string r"..."'
                ),
            )
            out.append(m.group(0))
        else:
            out.append(decoded)
    out.append(body[pos:])
    return "".join(out)


def _decode_block(lit: StringValue, source: SourceFile, diags: Diagnostics) -> str:
    """The value of a text block ``#\"""`` ... ``\"""#`` (any number of ``#``, none too).

    The opening delimiter ends its line. When the closing delimiter stands on a line of
    its own, the whitespace before it is the block's indentation: it is removed from every
    line, and the text ends with the line break before the delimiter. Otherwise the
    indentation is what all non-blank lines share, and the text ends where the delimiter
    starts. Line breaks are ``\n`` (a file with CRLF endings included). Nothing else is
    changed: no escapes, trailing whitespace kept.
    """
    hashes = len(lit.raw) - len(lit.raw.lstrip("#"))
    delim = hashes + 3
    body = lit.raw[delim:-delim]
    crlf = "\r\n" in body
    first, newline, rest = body.partition("\n")
    if first.strip() or not newline:
        at = lit.start + delim
        diags.error(
            "invalid-text-block",
            "a text block starts on the line after its opening delimiter",
            Label(span=source.span(at, at + max(len(first.rstrip()), 1)), message="text here"),
            help='break the line after `"""`',
        )
        return body
    lines = rest.split("\n")
    last = lines[-1]
    if not last.strip():  # the closing delimiter on its own line
        indent = last
        lines = lines[:-1]
        ending = "\n"
    else:
        shared = [ln[: len(ln) - len(ln.lstrip(" \t"))] for ln in lines if ln.strip()]
        indent = min(shared, key=len) if shared else ""
        if any(not s.startswith(indent) for s in shared):
            indent = ""
        ending = ""
    out: list[str] = []
    offset = lit.start + delim + len(first) + 1
    for ln in lines:
        if ln.startswith(indent):
            out.append(ln[len(indent) :])
        elif not ln.strip():
            out.append("")
        else:
            diags.error(
                "invalid-text-block",
                "a line of the text block is indented less than its closing delimiter",
                Label(span=source.span(offset, offset + len(ln)), message="this line"),
                help='indent every line at least as far as the closing `"""`, or move '
                "the delimiter left",
            )
            out.append(ln.lstrip(" \t"))
        offset += len(ln) + 1
    lit.block_indent = len(indent)
    text = "\n".join(out) + ending if out else ""
    # Line breaks are `\n` whatever the file uses (a file saved with CRLF endings).
    return text.replace("\r\n", "\n").removesuffix("\r") if crlf else text


def _decode_escape(esc: str) -> str | None:
    if esc in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[esc]
    if esc.startswith("u{") and esc.endswith("}"):
        digits = esc[2:-1]
        if 1 <= len(digits) <= 6 and all(c in "0123456789abcdefABCDEF" for c in digits):
            cp = int(digits, 16)
            if cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF:
                return chr(cp)
    return None
