"""Explains a parse error: what was found, what was expected, which block is still open.

Only the error path runs this. It re-scans the text before the error with a small
tokenizer to know the open delimiters (and what they belong to) and the token before the
error, then picks the first matching entry of a table of typical mistakes; anything else
gets a generic "unexpected X, expected Y".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from ananke.ir.diagnostics import Diagnostic, Label, quote
from ananke.ir.source import SourceFile
from lark import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

__all__ = ["explain"]

CODE = "syntax-error"

_TERMINALS = {
    "SEMI": "`;`",
    "COLON": "`:`",
    "COMMA": "`,`",
    "DOT": "`.`",
    "QMARK": "`?`",
    "EQUAL": "`=`",
    "MINUS": "`-`",
    "ARROW": "`->`",
    "STAR": "`*`",
    "DSTAR": "`**`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LESSTHAN": "`<`",
    "MORETHAN": "`>`",
    "CONSTRAINT": "`constraint`",
    "SCHEMA": "`schema`",
    "ASYNC": "`async`",
    "IMPORT": "`import`",
    "LET": "`let`",
    "EXTENDS": "`extends`",
    "OVERRIDE": "`override`",
    "AT": "`@`",
    "NAME": "a name",
    "INT": "an integer",
    "FLOAT": "a number",
    "STRING": "a string",
    "RAW_STRING": "a string",
    "TEXT_BLOCK": "a text block",
    "EXAMPLE": "`example`",
    "$END": "end of file",
}
_VALUE_START = {"STRING", "INT", "LSQB", "LBRACE", "LPAR"}
_CLOSERS = {"{": "}", "[": "]", "(": ")", "<": ">"}

_SCAN_RE = re.compile(
    r"""(?P<ws>\s+)|(?P<comment>//[^\n]*|/\*[\s\S]*?(?:\*/|\Z))
    |(?P<string>(?P<hashes>\#*)\"\"\"[\s\S]*?(?:\"\"\"(?P=hashes)|\Z)|r?"(?:[^"\\\n]|\\.)*"?)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<number>[0-9][0-9_.eE]*)
    |(?P<punct>->|\*\*|.)""",
    re.VERBOSE,
)


@dataclass(slots=True)
class _Tok:
    kind: str  # name, string, number, punct
    text: str
    start: int
    end: int


@dataclass(slots=True)
class _Open:
    """An unclosed delimiter and what it belongs to."""

    char: str
    start: int
    owner: str  # "constraint `x`", "schema `x`", "the value of `forbid`", ...
    member: str = ""  # "`forbid`", "field `x`": what a delimiter inside a block belongs to
    is_block: bool = False


@dataclass(slots=True)
class _Context:
    prev: _Tok | None
    prev2: _Tok | None
    stack: list[_Open]
    member: str | None  # the property or field being written, if any
    in_schema: bool

    @property
    def innermost(self) -> _Open | None:
        return self.stack[-1] if self.stack else None

    @property
    def block(self) -> _Open | None:
        return self.stack[0] if self.stack and self.stack[0].is_block else None


def _scan(text: str, upto: int) -> _Context:
    toks: list[_Tok] = []
    stack: list[_Open] = []
    member: str | None = None
    in_schema = False
    for m in _SCAN_RE.finditer(text, 0, upto):
        kind = m.lastgroup or "punct"
        if kind in ("ws", "comment"):
            continue
        tok = _Tok(kind, m.group(), m.start(), m.end())
        if tok.text in _CLOSERS and kind == "punct":
            stack.append(_open(tok, toks, stack, member, in_schema))
            if stack[-1].is_block:
                in_schema = stack[-1].owner.startswith("schema")
                member = None
        elif kind == "punct" and tok.text in ("}", "]", ")", ">") and stack:
            if _CLOSERS[stack[-1].char] == tok.text:
                stack.pop()
                if not stack:
                    member = None
        elif tok.text in (";",) and len(stack) == 1:
            member = None
        elif tok.text == ":" and len(stack) == 1 and toks and toks[-1].kind == "name":
            member = toks[-1].text
        elif tok.text == ":" and len(stack) == 1 and len(toks) > 1 and toks[-1].text == "?":
            member = toks[-2].text
        toks.append(tok)
    prev = toks[-1] if toks else None
    prev2 = toks[-2] if len(toks) > 1 else None
    return _Context(prev, prev2, stack, member, in_schema)


def _open(tok: _Tok, toks: list[_Tok], stack: list[_Open], member: str | None, sch: bool) -> _Open:
    if tok.text == "{" and not stack:
        if len(toks) >= 2 and toks[-2].text in ("constraint", "schema"):
            owner = f"{toks[-2].text} {quote(toks[-1].text)}"
            return _Open("{", tok.start, owner, owner, is_block=True)
        return _Open("{", tok.start, "a block", "a block", is_block=True)
    if member is None:
        return _Open(tok.text, tok.start, "a value", "a value")
    shown = quote(member)
    what = f"the type of field {shown}" if sch else f"the value of {shown}"
    return _Open(tok.text, tok.start, what, f"field {shown}" if sch else shown)


def _found(exc: UnexpectedToken) -> str:
    tok = exc.token
    if tok.type == "$END":
        return "end of file"
    text = str(tok)
    if tok.type in ("STRING", "RAW_STRING"):
        return f"string {quote(text, limit=20)}"
    if tok.type == "TEXT_BLOCK":
        return "a text block"
    if tok.type in ("INT", "FLOAT"):
        return f"number {quote(text)}"
    return quote(text)


def _expected(exc: UnexpectedToken) -> set[str]:
    # lark's `expected` is the LALR lookahead set of the state, which merges contexts;
    # asking the parser which terminals it would really accept is exact.
    ip = exc.interactive_parser
    if ip is not None:
        accepts: set[str] = ip.accepts()  # type: ignore[no-untyped-call]
        return {t for t in accepts if t in _TERMINALS}
    return set(exc.expected or ())


def _describe(expected: set[str]) -> str:
    if expected >= _VALUE_START:
        return "a value"
    names = sorted({_TERMINALS.get(t, t) for t in expected if t != "$END"})
    if "$END" in expected:
        names.append("end of file")
    if not names:
        return "nothing more"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


@dataclass(slots=True)
class _Err:
    """What the rules see: the exception's facts plus the scanned context."""

    source: SourceFile
    kind: str  # token type that was found
    text: str
    start: int
    end: int
    found: str
    expected: set[str]
    ctx: _Context

    def tok_label(self, message: str = "") -> Label:
        return Label(span=self.source.span(self.start, self.end), message=message)

    def after_prev(self, message: str) -> Label:
        at = self.ctx.prev.end if self.ctx.prev else 0
        return Label(span=self.source.span(at, at), message=message)

    def opened_here(self, o: _Open, message: str) -> Label:
        return Label(span=self.source.span(o.start, o.start + 1), message=message, primary=False)


def _diag(
    message: str, *labels: Label, help: str | None = None, notes: tuple[str, ...] = ()
) -> Diagnostic:
    return Diagnostic(
        code=CODE, severity="error", message=message, labels=labels, help=help, notes=notes
    )


# --- the table of typical mistakes (first match wins) ------------------------------------


def _unclosed_at_eof(e: _Err) -> Diagnostic | None:
    o = e.ctx.innermost
    if e.kind != "$END" or o is None:
        return None
    what = f"of {o.owner}" if o.is_block else f"in {o.owner}"
    closer = _CLOSERS[o.char]
    return _diag(
        f"unclosed `{o.char}` {what}",
        e.after_prev("the file ends here"),
        e.opened_here(o, f"{o.owner} opened here" if o.is_block else "opened here"),
        help=(
            f"add `}}` to close {o.owner}"
            if o.is_block
            else f"expected {_describe(e.expected)} before the end of the file; "
            f"close with `{closer}`"
        ),
    )


def _next_block_inside_block(e: _Err) -> Diagnostic | None:
    # `constraint a { ...  constraint b {`: the `}` of `a` is missing.
    p, b = e.ctx.prev, e.ctx.block
    if (
        b is None
        or len(e.ctx.stack) != 1
        or p is None
        or p.text not in ("constraint", "schema")
        or e.kind != "NAME"
        or "COLON" not in e.expected
        or (e.ctx.prev2 is not None and e.ctx.prev2.text not in (";", "{"))
    ):
        return None
    header = f"{p.text} {e.text}"
    return _diag(
        f"unclosed `{{` of {b.owner}",
        Label(span=e.source.span(p.start, e.end), message=f"{quote(header)} starts here"),
        e.opened_here(b, f"{b.owner} opened here"),
        help=f"add `}}` before {quote(header)}",
    )


def _stray_close(e: _Err) -> Diagnostic | None:
    if e.ctx.stack or e.kind not in ("RBRACE", "RSQB", "RPAR", "MORETHAN"):
        return None
    return _diag(f"unexpected {e.found}: no block is open", e.tok_label("nothing to close"))


def _missing_semicolon(e: _Err) -> Diagnostic | None:
    if "SEMI" not in e.expected or e.kind == "SEMI" or e.ctx.member is None:
        return None
    if len(e.ctx.stack) != 1:
        return None
    after = "the type of field" if e.ctx.in_schema else "the value of"
    return _diag(
        f"expected `;` after {after} {quote(e.ctx.member)}, found {e.found}",
        e.after_prev("expected `;` here"),
    )


def _missing_colon(e: _Err) -> Diagnostic | None:
    p = e.ctx.prev
    if "COLON" not in e.expected or p is None or p.kind != "name" or len(e.ctx.stack) != 1:
        return None
    what = "field name" if e.ctx.in_schema else "property name"
    help = None
    if e.kind == "EQUAL":
        value = "Type" if e.ctx.in_schema else "value"
        help = f"write `{quote(p.text, ticks=False)}: {value};`"
    return _diag(
        f"expected `:` after {what} {quote(p.text)}, found {e.found}",
        e.tok_label("expected `:`"),
        help=help,
    )


def _missing_value(e: _Err) -> Diagnostic | None:
    p = e.ctx.prev
    if p is None or p.text != ":" or e.ctx.member is None or "NAME" not in e.expected:
        return None
    thing = "a type" if e.ctx.in_schema or not (e.expected >= _VALUE_START) else "a value"
    return _diag(f"expected {thing} for {quote(e.ctx.member)}, found {e.found}", e.tok_label())


def _python_generics(e: _Err) -> Diagnostic | None:
    if e.kind != "LSQB" or "LESSTHAN" not in e.expected:
        return None
    name = e.ctx.prev.text if e.ctx.prev else "List"
    return _diag(
        "type arguments are written with `<...>`, found `[`",
        e.tok_label("expected `<`"),
        help=f"for example `{quote(name, ticks=False)}<str>`",
    )


def _top_level(e: _Err) -> Diagnostic | None:
    if e.ctx.stack or not e.expected <= {"CONSTRAINT", "SCHEMA", "IMPORT", "LET", "$END"}:
        return None
    help = None
    if e.kind == "NAME":
        words = ["constraint", "schema", "import", "let"]
        close = difflib.get_close_matches(e.text, words, n=1, cutoff=0.6)
        after = e.source.text[e.end : e.end + 40].lstrip()
        if close:
            help = f"did you mean `{close[0]}`?"
        elif after.startswith(":"):
            help = "properties go inside a block: `constraint NAME { property: value; }`"
    return _diag(
        f"expected `constraint`, `schema`, `import` or `let`, found {e.found}",
        e.tok_label(),
        help=help,
    )


def _block_header(e: _Err) -> Diagnostic | None:
    p = e.ctx.prev
    if e.ctx.stack or p is None:
        return None
    if p.text in ("constraint", "schema") and e.expected == {"NAME"}:
        return _diag(f"expected a name after `{p.text}`, found {e.found}", e.tok_label())
    if e.expected in ({"LBRACE"}, {"LBRACE", "EXTENDS"}) and e.ctx.prev2 is not None:
        header = quote(f"{e.ctx.prev2.text} {p.text}")
        what = "`{` or `extends`" if "EXTENDS" in e.expected else "`{`"
        return _diag(f"expected {what} after {header}, found {e.found}", e.tok_label())
    return None


def _in_delimiter(e: _Err) -> Diagnostic | None:
    o = e.ctx.innermost
    if o is None or o.is_block:
        return None
    closer = _CLOSERS[o.char]
    kind = {"[": "list", "(": "parentheses", "<": "type arguments", "{": "object"}[o.char]
    exp = _describe(e.expected)
    return _diag(
        f"expected {exp} in the {kind} of {o.member}, found {e.found}",
        e.tok_label(),
        e.opened_here(o, f"`{o.char}` opened here; close it with `{closer}`"),
    )


def _in_block(e: _Err) -> Diagnostic | None:
    b = e.ctx.block
    if b is None or len(e.ctx.stack) != 1 or e.ctx.member is not None:
        return None
    what = "a field name" if e.ctx.in_schema else "a property name"
    return _diag(f"expected {what} or `}}` in {b.owner}, found {e.found}", e.tok_label())


_RULES: tuple[Callable[[_Err], Diagnostic | None], ...] = (
    _unclosed_at_eof,
    _stray_close,
    _next_block_inside_block,
    _python_generics,
    _missing_semicolon,
    _missing_colon,
    _missing_value,
    _top_level,
    _block_header,
    _in_delimiter,
    _in_block,
)


def explain(exc: UnexpectedInput, source: SourceFile) -> Diagnostic:
    """The diagnostic for a lark parse error (the only place parse errors are handled)."""
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc.pos_in_stream or 0, source)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            start = end = len(source.text)
        else:
            start = tok.start_pos if tok.start_pos is not None else 0
            end = tok.end_pos if tok.end_pos is not None else start
        ctx = _scan(source.text, start)
        e = _Err(source, tok.type, str(tok), start, end, _found(exc), _expected(exc), ctx)
        for rule in _RULES:
            d = rule(e)
            if d is not None:
                return d
        return _diag(
            f"unexpected {e.found}, expected {_describe(e.expected)}",
            e.tok_label() if e.kind != "$END" else e.after_prev("the file ends here"),
        )
    pos = getattr(exc, "pos_in_stream", None) or 0
    return _diag("syntax error", Label(span=source.span(pos, pos + 1)))


def _bad_character(pos: int, source: SourceFile) -> Diagnostic:
    text = source.text
    ch = text[pos] if pos < len(text) else ""
    hashes = len(text[pos:]) - len(text[pos:].lstrip("#"))
    if text.startswith('"""', pos + hashes):
        end = pos + hashes + 3
        closing = '"""' + "#" * hashes
        return _diag(
            "unterminated text block",
            Label(span=source.span(pos, end), message="the text block starts here"),
            help=f'close it with `{closing}`; a text block holding `"""` is written '
            '`#"""` ... `"""#`',
        )
    if ch == '"' or text.startswith('r"', pos):
        eol = text.find("\n", pos)
        eol = len(text) if eol == -1 else eol
        return _diag(
            "unterminated string",
            Label(span=source.span(pos, eol), message="the string starts here"),
            help='close the string with `"` on the same line; write a newline as \\n',
        )
    if text.startswith("/*", pos):
        return _diag(
            "unterminated block comment",
            Label(span=source.span(pos, pos + 2), message="the comment starts here"),
            help="close it with `*/`",
        )
    label = Label(span=source.span(pos, pos + 1))
    if ch == "'":
        return _diag("unexpected `'`: strings are written in double quotes", label)
    if ch == "#":
        return _diag("unexpected `#`: comments start with `//`", label)
    if ch.isprintable() and not ch.isspace():
        return _diag(f"unexpected character `{ch}`", label)
    return _diag(f"unexpected character U+{ord(ch):04X}" if ch else "unexpected input", label)
