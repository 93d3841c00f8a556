"""The Python function grammar, built as GrammarIR.

Shape (chosen for llguidance's mask cost; ``benchmarks/tried.md`` has the measurements):

* A *logical line* is one lexeme. Brackets, strings, comments inside brackets, backslash
  continuations and the newlines that brackets make insignificant all live inside it, so
  the Earley parser only steps once per line and most mask computations stay inside one
  lexeme, where llguidance's mask cache and precomputed lexer states apply.
* Bracket nesting inside a line is counted by the lexer up to :data:`MAX_BRACKET_DEPTH`;
  bracket kinds are not matched against each other (a mismatched pair is a syntax error
  that the post-generation syntax check reports, and it cannot hide a constraint
  violation).
* Indentation is a CFG over exact-width indentation lexemes: the body's first line fixes
  the function's indentation unit, a block nested ``k`` deep is indented ``k`` units and
  its lines repeat that. Rules are written out per unit and depth (no parametric rules),
  which keeps Earley rows flat on long functions and small after every block opener.
* Every line that opens a block starts with a block keyword (``if``, ``for``, ``def``, ...)
  and ends in ``:``; a statement starts with a word, a bracket, a string, ``.``, or one of
  ``* + - ~ @``. Both keep the lines a single token can complete rare, which matters for
  the parser work llguidance does per mask with large vocabularies.
* Forbidden names are excluded from the identifier lexeme that may stand bare; after a
  dot any identifier is allowed (attributes) but a forbidden hard keyword. A forbidden
  keyword is also removed from the keywords that open a block and from those that may
  touch a string in f-string fields: it is excluded everywhere it can stand. Strings and
  comments are separate pieces of the line, so words inside them are never identifiers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from ananke.ir.grammar import Alt, And, Expr, Grammar, Lit, Ref, Regex, Repeat, Rule, Seq, refs

from .keywords import BLOCK_KEYWORDS, KEYWORDS, KEYWORDS_BEFORE_STRINGS

__all__ = [
    "DOUBLE_FIRST_UNITS",
    "IDENTIFIER",
    "MAX_BRACKET_DEPTH",
    "MAX_INDENT_UNIT",
    "MAX_NESTING",
    "MAX_SPACE_COLUMNS",
    "MAX_TAB_COLUMNS",
    "FunctionShape",
    "PythonGrammarOptions",
    "build_grammar",
]

MAX_BRACKET_DEPTH = 16
"""Deepest bracket nesting inside one logical line that the grammar accepts."""
MAX_SPACE_COLUMNS = 64
"""Deepest indentation, in spaces, that the grammar accepts."""
MAX_TAB_COLUMNS = 16
"""Deepest indentation, in tabs, that the grammar accepts."""
MAX_INDENT_UNIT = 8
"""Widest indentation unit, in spaces, that the grammar accepts."""
MAX_WHITESPACE_RUN = 256
"""Most whitespace characters in a row in code (strings and comments are text, not code):
a bound, so that no engine lets a model loop on blanks forever. The longest run in the
standard library and the installed third-party packages is 126 (a continuation line
aligned far to the right)."""
MAX_BLANK_LINES = 16
"""Most blank lines in a row between statements (comment lines do not count). The
standard library has at most 2, the installed third-party packages at most 3."""
MAX_NESTING = 16
"""Deepest block nesting (a function body is depth 1) that the grammar accepts."""
DOUBLE_FIRST_UNITS = (2, 4)
"""Units (in spaces) whose function body may be indented two units, nested blocks one more."""

# --- regex fragments (Rust regex syntax, as llguidance reads it) ------------------------

_ID_START = r"[^\x00-\x40\x5B-\x5E\x60\x7B-\x7F]"  # ASCII letters, _, any non-ASCII
_ID_CONT = r"[^\x00-\x2F\x3A-\x40\x5B-\x5E\x60\x7B-\x7F]"
_IDENT = f"{_ID_START}{_ID_CONT}*"
IDENTIFIER = _IDENT
"""Identifiers as the grammar reads them (before NFKC): ASCII letters, ``_``, digits after
the first character, and any non-ASCII character."""
_DIGITS = r"[0-9](?:_?[0-9])*"
_EXP = rf"[eE][+\-]?{_DIGITS}"
_NUMBER = (
    r"(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+"
    rf"|(?:(?:{_DIGITS})?\.{_DIGITS}(?:{_EXP})?|{_DIGITS}\.(?:{_EXP})?|{_DIGITS}(?:{_EXP})?)[jJ]?)"
)
_ANY = r"[^\x00]"
_ESC = rf"\\{_ANY}"
_CONT = r"\\\r?\n"
_OPCH = r"[!$%&*+,\-/:;<=>?@^`|~]"
_OPCH_NO_COLON = r"[!$%&*+,\-/;<=>?@^`|~]"
_PREFIX = r"(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])?"
_W = MAX_WHITESPACE_RUN
_HWS = rf"[ \t\f]{{0,{_W}}}"
"""Spaces, tabs and form feeds, at most a bounded run of them."""
_WS0 = r"(?:[ \t\f]|\\\r?\n)"
"""One whitespace unit of code outside brackets (a backslash continuation counts as one)."""


def _ws_runs(ws: str, other: str, least: int = 0) -> str:
    """``(?:ws|other)*`` with every run of ``ws`` bounded by :data:`MAX_WHITESPACE_RUN`.

    ``least=1`` gives the non-empty runs, ``(?:ws|other)+``.
    """
    if least == 0:
        return rf"(?:{ws}{{0,{_W}}}(?:{other}))*{ws}{{0,{_W}}}"
    return rf"(?:(?:{ws}{{0,{_W}}}(?:{other}))+{ws}{{0,{_W}}}|{ws}{{1,{_W}}})"


_NW0_RUN = _ws_runs(_WS0, rf"{_OPCH}|\.")
"""Non-word characters of code outside brackets: operators, dots and whitespace."""
_STMT_OP = r"[*+\-~@]"
"""Operators a statement may start with (``*a, b = c``, ``-x``, ``@decorator``)."""


def _block_keyword(forbid: Sequence[str]) -> str:
    """What every line that opens a block starts with: a block keyword that is not
    forbidden, after ``async`` unless that is forbidden. ``def`` stays (the lowering
    refuses to forbid it: every output is a function definition)."""
    words = "|".join(k for k in BLOCK_KEYWORDS if k == "def" or k not in forbid)
    prefix = "" if "async" in forbid else rf"(?:async[ \t\f]{{1,{MAX_WHITESPACE_RUN}}})?"
    return f"{prefix}(?:{words})"


_F_PREFIX = r"(?:[fF]|[rR][fF]|[fF][rR])"
_NON_F_PREFIX1 = r"(?:[rRuUbB]|[rR][bB]|[bB][rR])"
_PREFIX1 = r"(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])"


def _long_string(q: str) -> str:
    c = rf"(?:[^{q}\\\x00]|{_ESC})"
    return rf"{q}{q}{q}(?:{c}|{q}{c}|{q}{q}{c})*{q}{q}{q}"


def _short_string(q: str) -> str:
    """A short string with at least one character (the empty one is handled apart)."""
    return rf"{q}(?:[^{q}\\\r\n\x00]|{_ESC})+{q}"


def _strings(b: _Builder, fstrings: dict[str, Expr] | None) -> Expr:
    """Adjacent string literals (``"a" 'b'`` without the space), tokenized as Python does.

    Python reads ``''''x'''`` as one triple-quoted string, never as the empty string
    ``''`` followed by another string: after an empty short string the same quote cannot
    start a string. A grammar that allowed that split would accept a line and also the
    start of a longer one (a triple-quoted string running on), and a greedy lexer would
    then read past the line's end. So strings are matched in groups, a group is never
    directly followed by another (the lines' element sequences ensure that), and inside
    a group an empty short string is followed only by a string that starts with a prefix
    or the other quote.

    ``fstrings`` (when names are forbidden) maps each quote to the non-empty f-strings of
    that quote, whose replacement fields are checked; otherwise f-strings are plain
    prefixed strings.
    """
    prefix1 = _PREFIX1 if fstrings is None else _NON_F_PREFIX1
    tag = {"'": "S", '"': "D"}
    other = {"'": '"', '"': "'"}
    body = {q: f"(?:{_long_string(q)}|{_short_string(q)})" for q in tag}
    bare = {
        q: b.add(f"STR{tag[q]}", _rx(body[q]), comment=f"a non-empty string quoted by {q}")
        for q in tag
    }
    prefixed: Expr = _rx(f"{prefix1}(?:{body[chr(39)]}|{body[chr(34)]})")
    if fstrings is not None:
        prefixed = _alt(prefixed, *fstrings.values())
    pre = b.add("STRP", prefixed, comment="a non-empty string with a prefix")
    empty = {q: b.add(f"EMPTY{tag[q]}", _rx(f"{_PREFIX}{q}{q}")) for q in tag}
    empty_p = {q: b.add(f"EMPTYP{tag[q]}", _rx(f"{_PREFIX1}{q}{q}")) for q in tag}
    chains: dict[str, Expr] = {}
    for q in tag:
        # Runs of empty strings ending with one quoted by q: after an empty string quoted
        # by q, an empty one quoted by q needs a prefix.
        to_q = _seq(empty[other[q]], _star(empty_p[other[q]]), empty[q])
        chains[q] = b.add(
            f"STRE{tag[q]}",
            _seq(_alt(empty[q], to_q), _star(empty_p[q]), _star(_seq(to_q, _star(empty_p[q])))),
            comment=f"empty strings next to each other, the last quoted by {q}",
        )
    unit = _alt(*bare.values(), pre, *(_seq(chains[q], _alt(pre, bare[other[q]])) for q in tag))
    tail = _alt(*chains.values())
    return _alt(_seq(Repeat(item=unit, min=1), _opt(tail)), tail)


MAX_FIELD_BRACKET_DEPTH = 8
"""Deepest bracket nesting inside one f-string replacement field that the grammar accepts
when names are forbidden (fields are read as code then)."""

_QUOTES = ("'", '"')
_WORD_CHARS = r"0-9A-Za-z_\x80-\x{10FFFF}"


@dataclass(frozen=True)
class _FCtx:
    """What the text inside a string nested in f-string fields may hold.

    In Python 3.11 the tokenizer reads an f-string as one string token before its fields
    are parsed, so no text inside it may end it: the quote of every enclosing short string
    is barred, and so are three quotes in a row of every enclosing triple-quoted one.
    """

    blocked: frozenset[str] = frozenset()
    """Quote characters that may not appear."""
    triple: frozenset[str] = frozenset()
    """Quote characters that may not appear three times in a row."""
    newline: bool = False
    """Whether a line may end (only where every enclosing string is triple-quoted)."""

    @property
    def tag(self) -> str:
        return "".join(
            "B" if q in self.blocked else "T" if q in self.triple else "A" for q in _QUOTES
        ) + ("L" if self.newline else "N")

    def inside(self, delim: str) -> _FCtx:
        """The text of a string delimited by ``delim`` written here."""
        if len(delim) == 1:
            return _FCtx(self.blocked | {delim}, self.triple - {delim}, False)
        return _FCtx(self.blocked, self.triple | {delim[0]}, self.newline)

    def delimiters(self) -> list[str]:
        """The delimiters a string written here may have."""
        out = []
        for q in _QUOTES:
            if q not in self.blocked:
                out.append(q)
                if q not in self.triple:
                    out.append(q * 3)
        return out

    def text_class(self, also: str) -> str:
        """One character of text that is no quote barred here, no backslash, no NUL, no
        line end unless allowed, and none of ``also``."""
        quotes = "".join(sorted(self.blocked | self.triple))
        nl = "" if self.newline else r"\r\n"
        return f"[^{quotes}\\\\\\x00{nl}{also}]"

    @property
    def ws(self) -> str:
        return r"[ \t\f\r\n]" if self.newline else r"[ \t\f]"


def _quote_runs(ctx: _FCtx, unit: Expr, closing: str | None, least: int = 0) -> Expr:
    """``unit`` and the quotes of ``ctx.triple`` in any order and number, no quote three
    times in a row; with ``closing``, not ending in that quote (the string's own closing
    triple quote follows, and Python ends the string at the first three). ``least=1``
    gives the non-empty ones."""
    qs = sorted(ctx.triple)
    if not qs:
        return Repeat(item=unit, min=least)
    # An optional run of one quote is `q{0,2}`, not `(q{1,2})?`: llguidance's GBNF reader
    # drops the parentheses of a repeated repeat and fails (see backends/gbnf/printer.py).
    if len(qs) == 1:
        q = qs[0]
        run = f"{q}{{1,2}}"
        tail = None if closing == q else run
        opt_run = opt_tail = f"{q}{{0,2}}"
    else:
        p, q = qs

        def alternating(a: str, b: str, last: str) -> str:
            return f"{a}{{1,2}}(?:{b}{{1,2}}{a}{{1,2}})*{last}"

        run = f"(?:{alternating(p, q, f'{q}{{0,2}}')}|{alternating(q, p, f'{p}{{0,2}}')})"
        if closing is None:
            tail = run
        else:
            c, o = closing, (p if closing == q else q)
            tail = f"(?:{alternating(c, o, f'{o}{{1,2}}')}|{alternating(o, c, '')})"
        opt_run, opt_tail = f"{run}?", f"{tail}?"
    item = _seq(_rx(opt_run), unit)
    if tail is None:
        return Repeat(item=item, min=least)
    if least == 0:
        return _seq(_star(item), _rx(opt_tail))
    return _alt(_seq(Repeat(item=item, min=1), _rx(opt_tail)), _rx(tail))


class _FStrings:
    """The f-strings of the forbid grammar, read by Python 3.11's rules (PEP 498 as
    CPython 3.11 implements it, before PEP 701).

    * Literal text: ``{{`` and ``}}`` are braces; a single ``{`` opens a replacement
      field. Outside raw strings ``\\N{NAME}`` is a named escape and opens none; any other
      backslash escapes the next character, except a brace: ``\\{`` is a backslash and
      then a field (raw or not), ``\\{{`` a backslash and a brace.
    * A field: ``{`` expression, optional ``=`` (and whitespace), optional ``!s``, ``!r``
      or ``!a``, optional ``:`` format spec, ``}``. The expression ends at a ``:``, ``!``
      or ``=`` outside brackets and strings, except in ``!=``, ``==``, ``<=``, ``>=``.
      It holds no backslash and no ``#``, and no quote that would end the f-string.
    * A format spec is literal text (escapes as above) with fields of its own, whose
      specs hold literal text only.
    * Inside an expression: words (bare ones must not be forbidden), attributes (a word
      after ``.`` is any word), operators, brackets nested up to
      :data:`MAX_FIELD_BRACKET_DEPTH`, and strings, whose text is text, except that the
      fields of a nested f-string are expressions again.
    """

    def __init__(self, b: _Builder, forbid: Sequence[str]) -> None:
        self.b = b
        self.keywords = [k for k in KEYWORDS_BEFORE_STRINGS if k not in forbid]
        """The keywords that may stand directly before a string: those not forbidden."""

    def _rule(self, name: str, make: Callable[[], Expr]) -> Ref:
        if name not in self.b.rules:
            self.b.add(name, make())
        return Ref(name=name)

    def expr(self, ctx: _FCtx, depth: int) -> Ref:
        """A field's expression at bracket ``depth`` (0: outside brackets)."""

        def make() -> Expr:
            ws = ctx.ws
            # Quotes start strings, brackets nest; outside brackets `:`, `!` and `=` end
            # the expression, except in the operators `!=`, `==`, `<=` and `>=`.
            code = _WORD_CHARS + r"\\#'" + '"' + r"()\[\]{} \t\f\r\n\x00"
            op = f"[^{code}:!=<>]|[<>!=]=|[<>]" if depth == 0 else f"[^{code}]"
            others: list[Expr] = [_rx(op), self._dot(ctx)]
            if depth < MAX_FIELD_BRACKET_DEPTH:
                inner = self.expr(ctx, depth + 1)
                others.append(_seq(_rx(r"[(\[{]"), inner, _rx(r"[)\]}]")))
            other = _alt(*others)
            # Runs of operators, attributes, brackets and bounded whitespace, between
            # words and strings; a word is never directly followed by another.
            orun = self._rule(
                f"FO{ctx.tag}{depth}",
                lambda: _alt(
                    _seq(
                        Repeat(item=_seq(_rx(f"{ws}{{0,{_W}}}"), other), min=1),
                        _rx(f"{ws}{{0,{_W}}}"),
                    ),
                    _rx(f"{ws}{{1,{_W}}}"),
                ),
            )
            word = Ref(name="FWORD")
            touching: Expr = word
            if ctx.delimiters():
                # Words and strings with nothing between: a string may be followed by a
                # word, but follows a word only if that word is a keyword (`x if'a'else
                # 'b'`); `f'{x}'` is never the word `f` then a string.
                strings = self.strings(ctx)
                run: list[Expr] = [strings]
                if self.keywords:
                    kw = _rx(f"(?:{'|'.join(self.keywords)})")
                    run = [_opt(kw), strings, _star(_seq(kw, strings))]
                touching = _alt(_seq(*run, _opt(word)), word)
            return _seq(_opt(orun), _star(_seq(touching, orun)), _opt(touching))

        return self._rule(f"FX{ctx.tag}{depth}", make)

    def _dot(self, ctx: _FCtx) -> Ref:
        return self._rule(
            f"FDOT{'L' if ctx.newline else 'N'}",
            lambda: _rx(rf"\.{ctx.ws}{{0,{_W}}}[{_WORD_CHARS}]+"),
        )

    def strings(self, ctx: _FCtx) -> Ref:
        """Adjacent string literals inside an expression."""

        def make() -> Expr:
            kinds: list[Expr] = []
            for d in ctx.delimiters():
                inner = ctx.inside(d)
                closing = d[0] if len(d) == 3 else None
                # Three quotes in a row would end the enclosing string: an empty string
                # quoted by such a quote stands alone, never next to another string.
                least = 1 if d in ctx.triple else 0
                plain = _quote_runs(inner, _rx(inner.text_class("")), closing, least)
                text = _rx(inner.text_class("{}") + r"|\{\{|\}\}")
                fbody = _quote_runs(inner, _alt(text, self.field(inner, "X", 1)), closing, least)
                kinds.append(_seq(_rx(f"{_NON_F_PREFIX1}?"), Lit(text=d), plain, Lit(text=d)))
                kinds.append(_seq(_rx(_F_PREFIX), Lit(text=d), fbody, Lit(text=d)))
            group: Expr = Repeat(item=_alt(*kinds), min=1)
            empties = [_rx(f"{_PREFIX}{q}{q}") for q in sorted(ctx.triple)]
            return _alt(group, *empties)

        return self._rule(f"FSG{ctx.tag}", make)

    def field(self, ctx: _FCtx, mode: str, level: int) -> Ref:
        """A replacement field; ``mode`` is E (escapes), R (raw) or X (inside an
        expression: no backslash at all); ``level`` 2 is a field inside a format spec."""

        def make() -> Expr:
            return _seq(
                Lit(text="{"),
                self.expr(ctx, 0),
                _opt(_rx(f"={ctx.ws}{{0,{_W}}}")),
                _opt(_rx("![sra]")),
                _opt(_seq(Lit(text=":"), self.spec(ctx, mode, level))),
                Lit(text="}"),
            )

        return self._rule(f"FF{ctx.tag}{mode}{level}", make)

    def spec(self, ctx: _FCtx, mode: str, level: int) -> Ref:
        def make() -> Expr:
            units: list[Expr] = [_rx(ctx.text_class("{}")), *self._escapes(mode)]
            lone = _opt(_rx(r"\\")) if mode != "X" else None
            if level == 1:
                nested = self.field(ctx, mode, 2)
                units.append(nested if lone is None else _seq(lone, nested))
            body = _quote_runs(ctx, _alt(*units), None)
            return body if lone is None else _seq(body, lone)

        return self._rule(f"FS{ctx.tag}{mode}{level}", make)

    @staticmethod
    def _escapes(mode: str) -> list[Expr]:
        if mode == "X":
            return []
        out: list[Expr] = [_rx(r"\\(?:\r\n|[^{}\x00])")]
        if mode == "E":
            out.append(_rx(r"\\N\{[A-Za-z0-9 \-]+\}"))
        return out

    def literal(self, ctx: _FCtx, mode: str) -> Ref:
        """One unit of an f-string's own text: a character, an escape, a doubled brace
        or a replacement field."""

        def make() -> Expr:
            lone = "" if mode == "X" else r"\\?"
            units: list[Expr] = [
                _rx(ctx.text_class("{}")),
                *self._escapes(mode),
                _rx(rf"{lone}\{{\{{|{lone}\}}\}}"),
                self.field(ctx, mode, 1)
                if mode == "X"
                else _seq(_rx(lone), self.field(ctx, mode, 1)),
            ]
            return _alt(*units)

        return self._rule(f"FL{ctx.tag}{mode}", make)


def _fstring_lexemes(b: _Builder, forbid: Sequence[str]) -> dict[str, Expr]:
    """Non-empty f-strings whose replacement fields are checked for forbidden names (see
    :class:`_FStrings`). Returns the f-strings of each quote character."""
    b.add("FWORD", _rx(identifier_except(forbid, first=_ID_CONT)))
    fs = _FStrings(b, forbid)
    out: dict[str, Expr] = {}
    for q in _QUOTES:
        alts: list[Expr] = []
        for prefix, mode in ((r"[fF]", "E"), (r"(?:[rR][fF]|[fF][rR])", "R")):
            short = _FCtx(blocked=frozenset(q))
            long = _FCtx(triple=frozenset(q), newline=True)
            alts.append(
                _seq(
                    _rx(prefix),
                    _alt(
                        _seq(
                            Lit(text=q * 3),
                            _quote_runs(long, fs.literal(long, mode), q),
                            Lit(text=q * 3),
                        ),
                        _seq(Lit(text=q), Repeat(item=fs.literal(short, mode), min=1), Lit(text=q)),
                    ),
                )
            )
        out[q] = _alt(*alts)
    return out


@dataclass(frozen=True)
class FunctionShape:
    """What the ``def`` line is pinned to; None leaves that part free."""

    name: str | None = None
    """Exact function name."""
    name_pattern: str | None = None
    """Regex (Rust syntax) the function name must match when the name is not pinned."""
    params: str | None = None
    """Regex for the text between the parentheses, when pinned."""
    returns: tuple[str, ...] | None = None
    """Accepted spellings of the return annotation; () forbids an annotation."""
    is_async: bool | None = None


@dataclass(frozen=True)
class PythonGrammarOptions:
    shape: FunctionShape = field(default_factory=FunctionShape)
    forbid: tuple[str, ...] = ()
    """Plain names that must never appear as a bare identifier."""
    forbid_origins: tuple[str, ...] = ()
    shape_origins: tuple[str, ...] = ()
    name_origins: tuple[str, ...] = ()
    """Recorded on ``FNAME``, the function name restricted by a naming rule."""
    max_block_lines: int | None = None
    """At most this many statements in any one block."""
    max_block_origins: tuple[str, ...] = ()
    """Recorded on ``body``, the rule every block hangs from."""
    bracket_depth: int = MAX_BRACKET_DEPTH
    space_columns: int = MAX_SPACE_COLUMNS
    tab_columns: int = MAX_TAB_COLUMNS
    max_nesting: int = MAX_NESTING
    """Deepest block nesting; every depth is a rule of its own (no engine needs parametric
    rules)."""


class _Builder:
    def __init__(self) -> None:
        self.rules: dict[str, Rule] = {}

    def add(self, name: str, body: Expr, *, comment: str = "") -> Ref:
        self.rules[name] = Rule(name=name, body=body, lexeme=name.isupper(), comment=comment)
        return Ref(name=name)


def _alt(*items: Expr) -> Expr:
    return items[0] if len(items) == 1 else Alt(items=tuple(items))


def _seq(*items: Expr) -> Expr:
    return items[0] if len(items) == 1 else Seq(items=tuple(items))


def _opt(item: Expr) -> Repeat:
    return Repeat(item=item, min=0, max=1)


def _star(item: Expr) -> Repeat:
    return Repeat(item=item, min=0, max=None)


def _rx(pattern: str) -> Regex:
    return Regex(pattern=pattern)


def _name_lexemes(b: _Builder, forbid: tuple[str, ...]) -> None:
    """The lexemes that depend on the forbidden names: bare identifiers and strings."""
    b.add("ID", _rx(_IDENT))
    if forbid:
        b.add(
            "STR",
            _strings(b, _fstring_lexemes(b, forbid)),
            comment="adjacent string literals; f-string fields are checked for forbidden names",
        )
        b.add(
            "IDOK",
            _rx(identifier_except(forbid)),
            comment="an identifier that may stand bare: not " + ", ".join(sorted(forbid)),
        )
    else:
        b.add("STR", _strings(b, None), comment="adjacent string literals, any prefix or quotes")
        b.add("IDOK", Ref(name="ID"))


def _lexemes(b: _Builder, has_forbid: bool, depth: int, keywords: tuple[str, ...]) -> None:
    """Line-level lexemes and the fragments they are made of; ``keywords`` are the
    forbidden names that are keywords of a block opener or hard keywords.

    No lexeme uses negation or intersection: llguidance checks every lexeme for emptiness
    and precomputes large ones when a matcher is built, within a fixed fuel budget, and
    ``&``/``~`` inside a line-sized lexeme exhaust it. Every distinction (a line that
    opens a block, a line that starts without whitespace, an identifier that is not a
    forbidden name) is spelled out as plain regular structure instead.
    """
    b.add("NUM", _rx(_NUMBER))
    # Inside brackets a comment runs to the end of its line and takes the newline: with
    # the newline outside it, a shorter match ("#" then "(") read a bracket in the comment.
    b.add("COMMENT", _rx(r"#[^\x00\r\n]*\r?\n"))
    b.add("WORDA", _alt(Ref(name="IDOK"), Ref(name="NUM")), comment="a word in bare position")
    hard = [k for k in keywords if k in KEYWORDS]
    attribute = Ref(name="ID")
    if hard:
        # No attribute is spelled like a hard keyword (`x.if` is a syntax error), but a
        # keyword may follow a dot: `from . import x`.
        attribute = b.add(
            "IDATTR",
            _rx(identifier_except(hard, nfkc=False)),
            comment="an identifier after a dot: not the keyword " + ", ".join(hard),
        )
    b.add("WORDD", _alt(attribute, Ref(name="NUM")), comment="a word after a dot")

    def R(name: str) -> Ref:
        return Ref(name=name)

    def run_family(sfx: str, ws: str, op: str, first_op: str = _OPCH) -> None:
        """Runs of code (words, operators, spaces) between strings, brackets and comments.

        Words are maximal: a word is always followed by a non-word segment. A word after a
        segment ending in ``.`` is an attribute (any identifier); elsewhere it is bare.
        """
        nw = _ws_runs(ws, f"{op}|\\.")
        ws_ = f"{ws}{{0,{_W}}}"
        b.add(f"NWP{sfx}", _rx(f"(?:{nw}{op}{ws_}|{ws}{{1,{_W}}})"))
        b.add(f"NWD{sfx}", _rx(f"{nw}\\.{ws_}"))
        b.add(f"NWPS{sfx}", _rx(f"(?:{first_op}{ws_}|(?:{first_op}|\\.){nw}{op}{ws_})"))
        b.add(f"NWDS{sfx}", _rx(f"(?:(?:{first_op}|\\.){nw})?\\.{ws_}"))
        item = _alt(_seq(R(f"NWP{sfx}"), R("WORDA")), _seq(R(f"NWD{sfx}"), R("WORDD")))
        b.add(f"ITEM{sfx}", item)
        items = _star(R(f"ITEM{sfx}"))
        tail = _alt(R(f"NWP{sfx}"), R(f"NWD{sfx}"))
        b.add(f"RUN{sfx}", _seq(_opt(R("WORDA")), items, _opt(tail)))
        b.add(f"RUNNWP{sfx}", _seq(_opt(R("WORDA")), items, tail))
        b.add(f"RUNNW{sfx}", _opt(R(f"RUNNWP{sfx}")))

    def start_family(sfx: str) -> None:
        """Runs that start with a non-whitespace character (a statement's first run)."""
        item_s = _alt(_seq(R(f"NWPS{sfx}"), R("WORDA")), _seq(R(f"NWDS{sfx}"), R("WORDD")))
        b.add(f"HEAD{sfx}", _alt(R("WORDA"), item_s), comment="first word or item of a statement")
        items = _star(R(f"ITEM{sfx}"))
        tail = _alt(R(f"NWP{sfx}"), R(f"NWD{sfx}"))
        tail_s = _alt(R(f"NWPS{sfx}"), R(f"NWDS{sfx}"))
        b.add(f"RUNS{sfx}", _alt(_seq(R(f"HEAD{sfx}"), items, _opt(tail)), tail_s))
        b.add(f"RUNNWS{sfx}", _alt(_seq(R(f"HEAD{sfx}"), items, tail), tail_s))

    # Inside brackets a run is the same at every depth: one definition serves them all.
    run_family("1", r"(?:[ \t\f\r\n]|\\\r?\n)", _OPCH)
    ws0 = _WS0
    run_family("0", ws0, _OPCH, _STMT_OP)
    run_family("0X", ws0, _OPCH_NO_COLON)
    start_family("0")
    for d in range(depth, 0, -1):
        others: list[Expr] = [_seq(_opt(R("RUN1")), R("COMMENT"))]
        if d < depth:
            others.append(_seq(_opt(R("RUN1")), R(f"GROUP{d + 1}")))
        elems, _ = _elements(_alt(*others), "1")
        b.add(f"IN{d}", _seq(elems, _opt(R("RUN1"))))
        b.add(f"GROUP{d}", _seq(_rx(r"[(\[{]"), R(f"IN{d}"), _rx(r"[)\]}]")))
    group0 = _seq(_opt(R("RUN0")), R("GROUP1"))
    elems, after_str = _elements(group0, "0")
    b.add("ELEMS0", elems, comment="strings and bracket groups on a line, with the runs before")
    b.add("ELEMS0S", after_str, comment="the same after a string")
    first = _alt(
        _seq(_opt(R("RUNNWS0")), R("STR"), R("ELEMS0S")),
        _seq(_opt(R("RUNS0")), R("GROUP1"), R("ELEMS0")),
    )
    b.add("FIRST0", first, comment="a statement up to its last string or bracket group")
    ws_tail = _HWS
    # The last run of a line decides whether it opens a block: ':' as its last character.
    wordy = _alt(_seq(R("WORDA"), _star(R("ITEM0"))), Repeat(item=R("ITEM0"), min=1))
    b.add("ENDC", _seq(_opt(R("WORDA")), _star(R("ITEM0")), _rx(f"{_NW0_RUN}:{ws_tail}")))
    b.add(
        "ENDX",
        _alt(
            wordy,
            _seq(_opt(R("WORDA")), _star(R("ITEM0")), _alt(R("NWP0X_LAST"), R("NWD0"))),
        ),
    )
    b.add("NWP0X_LAST", _rx(f"(?:{_NW0_RUN}{_OPCH_NO_COLON}{ws_tail}|{ws0}{{1,{_W}}})"))
    b.add(
        "ENDXS",
        _alt(
            _seq(R("HEAD0"), _star(R("ITEM0"))),
            _seq(R("HEAD0"), _star(R("ITEM0")), _alt(R("NWP0X_LAST"), R("NWD0"))),
            _rx(f"(?:{_STMT_OP}|(?:{_STMT_OP}|\\.){_NW0_RUN}{_OPCH_NO_COLON}){ws0}{{0,{_W}}}"),
            R("NWDS0"),
        ),
    )
    if not has_forbid:
        _relaxed_runs(b)
    b.add("EOL", _rx(rf"{_HWS}(?:#[^\x00\r\n]*)?\r?\n"))
    b.add(
        "SIMPLE",
        _seq(_alt(_seq(R("FIRST0"), _opt(R("ENDX"))), R("ENDXS")), R("EOL")),
        comment="a logical line that does not open a block",
    )
    b.add(
        "HEADER",
        _seq(_rx(_block_keyword(keywords)), R("ELEMS0"), R("ENDC"), R("EOL")),
        comment="a logical line that opens a block: a block keyword, ..., ':'",
    )
    b.add(
        "BODY0X",
        _seq(
            _elements(_seq(_opt(R("RUN0X")), R("GROUP1")), "0X")[0],
            _opt(R("RUN0X")),
        ),
    )
    b.add(
        "BLANK",
        _rx(_SOME_BLANK_LINES),
        comment=f"blank and comment-only lines, at most {MAX_BLANK_LINES} blank ones in a row",
    )
    b.add(
        "DECORATOR",
        _seq(
            _rx(f"@{_HWS}"),
            R("IDOK"),
            _star(_seq(_rx(f"{_HWS}\\.{_HWS}"), R("ID"))),
            _rx(_HWS),
            _opt(R("GROUP1")),
            R("EOL"),
        ),
    )


def _elements(others: Expr, sfx: str) -> tuple[Expr, Expr]:
    """Strings and ``others`` (each with the run before it) in any order and number.

    A string's run may be empty, except right after another string: two adjacent
    strings are one ``STR`` (see :func:`_strings`). Returns the sequences that may
    start anywhere and those that may start right after a string.
    """
    string = _seq(Ref(name=f"RUNNW{sfx}"), Ref(name="STR"))
    strings = _seq(string, _star(_seq(Ref(name=f"RUNNWP{sfx}"), Ref(name="STR"))))
    anywhere = _seq(_star(_alt(others, _seq(strings, others))), _opt(strings))
    after = _seq(
        _star(_seq(Ref(name=f"RUNNWP{sfx}"), Ref(name="STR"))), _opt(_seq(others, anywhere))
    )
    return anywhere, after


def _relaxed_runs(b: _Builder) -> None:
    """Runs as plain character loops, when no name is forbidden.

    Without forbidden names the words of a run need no structure, and a loop over one
    character class keeps the lexer in the same state from token to token, which lets
    llguidance reuse the previous mask (its mask cache is keyed by lexer state).
    """
    cont = r"\\\r?\n"
    code = r"()\[\]{}\"'#\\\r\n\x00"
    blank = r" \t\f"
    # Every run of whitespace is bounded: whitespace, then one character that is not.
    ws = rf"(?:[{blank}]|{cont})"
    other = rf"[^{blank}{code}]"
    last = rf"[^:{blank}{code}]"
    for sfx, w, o in (
        ("1", rf"(?:[{blank}\r\n]|{cont})", other),
        ("0", ws, other),
        ("0X", ws, last),
    ):
        b.add(f"RUN{sfx}", _rx(_ws_runs(w, o)))
        b.add(f"RUNNW{sfx}", _rx(_ws_runs(w, o)))
        b.add(f"RUNNWP{sfx}", _rx(_ws_runs(w, o, 1)))
    ch0 = _ws_runs(ws, other)
    nonws = rf"(?:[0-9A-Za-z_\x80-\x{{10FFFF}}.]|{_STMT_OP})"
    ws_ = f"{ws}{{0,{_W}}}"
    b.add("RUNS0", _rx(f"{nonws}{ch0}"))
    b.add("RUNNWS0", _rx(f"{nonws}{ch0}"))
    b.add("ENDC", _rx(f"{ch0}:{ws_}"))
    b.add("ENDX", _rx(f"(?:{ch0}{last}{ws_}|{ws}{{1,{_W}}})"))
    b.add("ENDXS", _rx(f"{nonws}(?:{ch0}{last})?{ws_}"))


def identifier_except(words: Sequence[str], first: str = _ID_START, *, nfkc: bool = True) -> str:
    """A regex for every identifier except ``words``, without negation or intersection.

    Python reads identifiers after NFKC normalization, so ``ｅval`` is ``eval`` and ``ﬁle``
    is ``file``: every spelling of a word is excluded (with ``nfkc=False``, the words as
    written only: Python never normalizes keywords). The regex is written out from the
    automaton of those spellings (the trie of the words, where a character moves by the
    text it normalizes to, one letter or several): at a state, a character that leaves
    the automaton leads to "any identifier continuation"; a state that ends a word is not
    accepting. Negation inside lexemes multiplies the lexer's derivative states (and
    llguidance's start-up checks run out of fuel on it), so the complement is spelled out.
    """
    from .nfkc import ascii_spellings

    spellings = ascii_spellings() if nfkc else {}
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def edges(node: dict[str, Any]) -> list[tuple[list[tuple[int, int]], dict[str, Any]]]:
        """(characters, next state) leaving ``node``: each child's letter itself, and every
        character whose NFKC form is a text that the trie spells from here."""
        out: list[tuple[list[tuple[int, int]], dict[str, Any]]] = []
        for k in sorted(c for c in node if c):
            out.append(([(ord(k), ord(k)), *spellings.get(k, ())], node[k]))
        for text in sorted(t for t in spellings if len(t) > 1):
            target: dict[str, Any] | None = node
            for ch in text:
                target = target.get(ch) if target is not None else None
            if target is not None:
                out.append((list(spellings[text]), target))
        return out

    def walk(node: dict[str, Any], at_root: bool) -> str:
        out = edges(node)
        base = first if at_root else _ID_CONT
        leaving = [r for chars, _ in out for r in chars]
        # base is a negated class "[^...]": exclude more by adding to it
        alts = [
            f"{base[:-1]}{_class_ranges(leaving)}]{_ID_CONT}*" if leaving else f"{base}{_ID_CONT}*"
        ]
        for chars, target in out:
            alts.append(f"[{_class_ranges(chars)}]" + walk(target, False))
        if not at_root and "" not in node:
            alts.append("")
        return "(?:" + "|".join(alts) + ")"

    return walk(trie, True)


def _class_ranges(ranges: Sequence[tuple[int, int]]) -> str:
    """The inside of a character class holding ``ranges``."""

    def one(cp: int) -> str:
        ch = chr(cp)
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            return ch
        return f"\\x{{{cp:x}}}"

    return "".join(one(lo) if lo == hi else f"{one(lo)}-{one(hi)}" for lo, hi in sorted(ranges))


def _escape_class(ch: str) -> str:
    return "\\" + ch if ch in "\\]^-[" else ch


def _escape(text: str) -> str:
    out = []
    for ch in text:
        out.append("\\" + ch if ch in r".^$*+?()[]{}|\/-&~#" else ch)
    return "".join(out)


def _def_lexemes(b: _Builder, shape: FunctionShape) -> None:
    ws = r"[ \t\f]"
    some, any_ = f"{ws}{{1,{_W}}}", _HWS
    parts: list[Expr] = []
    if shape.is_async is None:
        parts.append(_rx(rf"(?:async{some})?def{some}"))
    elif shape.is_async:
        parts.append(_rx(rf"async{some}def{some}"))
    else:
        parts.append(_rx(rf"def{some}"))
    if shape.name is not None:
        parts.append(Lit(text=shape.name))
    elif shape.name_pattern is not None:
        # The def binds its name, so a forbidden name may not be defined either. A lexeme
        # of its own, so that targets without intersection build an automaton for the
        # name alone.
        b.add(
            "FNAME",
            And(items=(Ref(name="IDOK"), _rx(shape.name_pattern))),
            comment="the function's name: an identifier that matches the naming rule",
        )
        parts.append(Ref(name="FNAME"))
    else:
        parts.append(Ref(name="IDOK"))
    if shape.params is not None:
        parts.append(_rx(rf"{any_}\({shape.params}\){any_}"))
    else:
        parts.append(_rx(any_))
        parts.append(Ref(name="GROUP1"))
        parts.append(_rx(any_))
    if shape.returns is None:
        parts.append(_opt(_seq(_rx(rf"->{any_}"), Ref(name="BODY0X"))))
    elif shape.returns:
        spellings = "|".join(shape.returns)
        parts.append(_rx(rf"->{any_}(?:{spellings}){any_}"))
    parts.append(_rx(rf":{any_}"))
    b.add(
        "DEFHEAD",
        _seq(*parts),
        comment="the def line up to its ':'; a block or a one-line body follows",
    )


_BLANK = rf"{_HWS}\r?\n"
_COMMENT_LINE = rf"{_HWS}#[^\x00\r\n]*\r?\n"
_BLANK_LINES = (
    rf"(?:(?:{_BLANK}){{0,{MAX_BLANK_LINES}}}{_COMMENT_LINE})*(?:{_BLANK}){{0,{MAX_BLANK_LINES}}}"
)
"""Blank and comment-only lines (maybe none), at most MAX_BLANK_LINES blank ones in a row."""
_SOME_BLANK_LINES = (
    rf"(?:(?:(?:{_BLANK}){{0,{MAX_BLANK_LINES}}}{_COMMENT_LINE})+(?:{_BLANK}){{0,{MAX_BLANK_LINES}}}"
    rf"|(?:{_BLANK}){{1,{MAX_BLANK_LINES}}})"
)
"""At least one such line."""


def _blocks(
    b: _Builder,
    max_block_lines: int | None,
    space_columns: int,
    tab_columns: int,
    max_nesting: int,
) -> None:
    """Blocks written out per indentation unit and depth (no parametric rules).

    The body's first line fixes the function's indentation unit (1 to
    :data:`MAX_INDENT_UNIT` spaces, or one tab); a block nested ``k`` deep is indented
    ``k`` units (``k + 1`` for a body indented two units, see
    :data:`DOUBLE_FIRST_UNITS`), and every line of a block repeats its block's
    indentation. So after a line that opens a block the parser predicts one block, not one
    per possible column: with a 128k vocabulary many tokens end in ``:\n``, each such token
    makes llguidance compute a row, and predicting every deeper column there exceeded its
    default limit of 50,000 items per mask.

    A line's indentation lexeme also takes the blank and comment-only lines before it,
    so blank lines never make a parser step of their own.
    """
    # (tag, unit, extra): a block nested k deep is indented k + extra units. extra = 1 is
    # a body indented twice the unit of its nested blocks (8 then 12, 4 then 6), as code
    # moved out of a class keeps it; allowed for the common 2- and 4-space units.
    families = [(f"s{w}", " " * w, 0) for w in range(1, MAX_INDENT_UNIT + 1)]
    families += [(f"s{w}x", " " * w, 1) for w in DOUBLE_FIRST_UNITS] + [("t1", "\t", 0)]
    limits = {" ": space_columns, "\t": tab_columns}
    for tag, unit, extra in families:
        depth = min(limits[unit[0]] // len(unit) - extra, max_nesting)
        for k in range(1, depth + 1):
            ind_name = f"IND{'T' if unit[0] == chr(9) else ''}{len(unit) * (k + extra)}"
            if ind_name not in b.rules:
                b.add(ind_name, _seq(_rx(_BLANK_LINES), Lit(text=unit * (k + extra))))
            line: Expr = Ref(name="SIMPLE")
            if k < depth:
                line = _alt(line, _seq(Ref(name="HEADER"), Ref(name=f"block_{tag}_{k + 1}")))
            stmt = _seq(Ref(name=ind_name), line)
            name = f"block_{tag}_{k}"
            if max_block_lines is not None:
                b.add(name, Repeat(item=stmt, min=1, max=max_block_lines))
            else:
                b.add(name, _alt(stmt, _seq(Ref(name=name), stmt)))
    # The blank lines after the function end the body: llguidance's GBNF reader makes
    # `body` one greedy lexeme, which must be able to end where the function does.
    blocks = _alt(*(Ref(name=f"block_{tag}_1") for tag, _, _ in families))
    b.add("body", _seq(blocks, _opt(Ref(name="TRAIL"))))


def build_grammar(opts: PythonGrammarOptions) -> Grammar:
    """The grammar of one Python function definition under ``opts``.

    The grammar is assembled from four parts, each cached by what it depends on: sets of
    constraints mostly share them, so lowering a file of a thousand blocks builds each
    distinct part once and the printer sees the same rule objects again.
    """
    parts = (
        _start_rules(),
        _name_part(opts.forbid),
        _line_part(
            bool(opts.forbid),
            opts.bracket_depth,
            tuple(k for k in opts.forbid if k in KEYWORDS or k in BLOCK_KEYWORDS),
        ),
        _def_part(opts.shape),
        _block_part(opts.max_block_lines, opts.space_columns, opts.tab_columns, opts.max_nesting),
    )
    # Origins differ from one constraint set to the next (they are its constraint ids), so
    # they go on the few rules that carry them after the shared parts are looked up.
    origins = {
        "IDOK": opts.forbid_origins,
        "STR": opts.forbid_origins if opts.forbid else (),
        "DEFHEAD": opts.shape_origins,
        "FNAME": opts.name_origins,
        "body": opts.max_block_origins,
    }
    start, names, lines, head, blocks = parts
    *blocks_rest, body = blocks  # the block part ends with `body`
    rules = (
        *start,
        *_with_origins(names, origins),
        *lines,
        *_with_origins(head, origins),
        *blocks_rest,
        *_with_origins((body,), origins),
    )
    return Grammar(start="start", rules=rules)


def _with_origins(rules: Sequence[Rule], origins: dict[str, tuple[str, ...]]) -> list[Rule]:
    return [
        msgspec.structs.replace(r, origins=origins[r.name]) if origins.get(r.name) else r
        for r in rules
    ]


@functools.cache
def _start_rules() -> tuple[Rule, ...]:
    b = _Builder()
    b.add(
        "start",
        _seq(
            _opt(Ref(name="BLANK")),
            _star(_seq(Ref(name="DECORATOR"), _opt(Ref(name="BLANK")))),
            Ref(name="DEFHEAD"),
            _alt(
                _seq(Ref(name="SIMPLE"), _opt(Ref(name="TRAIL"))),
                _seq(Ref(name="EOL"), Ref(name="body")),
            ),
        ),
    )
    b.add("TRAIL", _rx(_SOME_BLANK_LINES), comment="blank lines at the end")
    return tuple(b.rules.values())


_LINE_ROOTS = ("SIMPLE", "HEADER", "EOL", "BLANK", "DECORATOR", "BODY0X", "GROUP1")
"""The rules of the line part that the other parts refer to."""


def _built(build: Callable[..., None], *args: Any, roots: Sequence[str] = ()) -> tuple[Rule, ...]:
    """Run one builder; with ``roots``, keep only the rules reachable from them."""
    b = _Builder()
    build(b, *args)
    if not roots:
        return tuple(b.rules.values())
    seen = set(roots)
    todo = list(roots)
    while todo:
        for name in refs(b.rules[todo.pop()].body) - seen:
            if name in b.rules:
                seen.add(name)
                todo.append(name)
    return tuple(r for name, r in b.rules.items() if name in seen)


@functools.lru_cache(maxsize=256)
def _name_part(forbid: tuple[str, ...]) -> tuple[Rule, ...]:
    return _built(_name_lexemes, forbid)


@functools.lru_cache(maxsize=32)
def _line_part(has_forbid: bool, depth: int, keywords: tuple[str, ...]) -> tuple[Rule, ...]:
    return _built(_lexemes, has_forbid, depth, keywords, roots=_LINE_ROOTS)


@functools.lru_cache(maxsize=2048)
def _def_part(shape: FunctionShape) -> tuple[Rule, ...]:
    return _built(_def_lexemes, shape)


@functools.lru_cache(maxsize=256)
def _block_part(
    max_lines: int | None, space_columns: int, tab_columns: int, max_nesting: int
) -> tuple[Rule, ...]:
    return _built(_blocks, max_lines, space_columns, tab_columns, max_nesting)
