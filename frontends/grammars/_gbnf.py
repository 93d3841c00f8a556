"""GBNF (llama.cpp) and XGrammar EBNF grammars -> GrammarIR.

Both are character-level: no lexer. To keep that meaning under llguidance's greedy lexer,
every rule becomes a lowercase CFG rule and every terminal matches exactly one character
(string literals are split into one literal per character), so lexing is never ambiguous.

A small hand-written recursive-descent parser: rule ends are found by the next
``name ::=``, so rules may span lines wherever the engines allow it.
"""

from __future__ import annotations

import re

from ananke.ir.diagnostics import Diagnostics, quote
from ananke.ir.grammar import (
    Alt,
    CharClass,
    Empty,
    Expr,
    Grammar,
    Lit,
    Ref,
    Repeat,
    Rule,
    Seq,
    rename,
)
from ananke.ir.ranges import ANY_SCALAR
from ananke.ir.source import SourceFile

from ._common import (
    DUPLICATE,
    IGNORED,
    SYNTAX,
    UNDEFINED,
    UNSUPPORTED,
    alt,
    error,
    missing_start,
    warning,
)

__all__ = ["import_gbnf"]

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_RULE_START = re.compile(r"([A-Za-z0-9_-]+)[ \t]*::=")
_SPACE = re.compile(r"(?:[ \t\r\n]|#[^\n]*)*")
_BRACES = re.compile(r"\{[ \t]*([0-9]*)[ \t]*(,?)[ \t]*(-?[0-9]*)[ \t]*\}")
_MAX_DEPTH = 100
_MACROS = ("Regex", "TagDispatch", "Token", "ExcludeToken")
_ANY = CharClass(ranges=ANY_SCALAR)
_NOTHING = Empty()


class _Stop(Exception):
    """A syntax error was reported: stop parsing this file."""


class _Parser:
    def __init__(self, source: SourceFile, diags: Diagnostics, ebnf: bool) -> None:
        self.src = source
        self.text = source.text
        self.diags = diags
        self.ebnf = ebnf
        self.pos = 0
        self.refs: list[tuple[str, int, int]] = []
        self.failed = False
        self.depth = 0

    # --- helpers ------------------------------------------------------------------------

    def fail(self, message: str, start: int, end: int | None = None) -> _Stop:
        error(self.diags, SYNTAX, message, self.src, start, start + 1 if end is None else end)
        return _Stop()

    def unsupported(self, message: str, start: int, end: int) -> None:
        error(self.diags, UNSUPPORTED, message, self.src, start, end)
        self.failed = True

    def skip(self) -> None:
        m = _SPACE.match(self.text, self.pos)
        assert m is not None
        self.pos = m.end()

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def at_rule_start(self) -> bool:
        return _RULE_START.match(self.text, self.pos) is not None

    def found(self) -> str:
        ch = self.peek()
        if not ch:
            return "end of file"
        return "end of line" if ch == "\n" else f"`{_show(ch)}`"

    # --- grammar ------------------------------------------------------------------------

    def rules(self) -> list[tuple[str, int, int, Expr]]:
        out: list[tuple[str, int, int, Expr]] = []
        self.skip()
        while self.pos < len(self.text):
            m = _RULE_START.match(self.text, self.pos)
            if m is None:
                raise self.fail(f"expected a rule `name ::= ...`, found {self.found()}", self.pos)
            name_start, name_end = m.span(1)
            self.pos = m.end()
            self.skip()
            body = self.alternatives(nested=False)
            if self.peek() == ")":
                raise self.fail("unmatched `)`", self.pos)
            out.append((m.group(1), name_start, name_end, body))
            self.skip()
        return out

    def alternatives(self, nested: bool) -> Expr:
        items = [self.sequence(nested)]
        while self.peek() == "|":
            bar = self.pos
            self.pos += 1
            self.skip()
            items.append(self.sequence(nested))
            if self.ebnf and (items[-1] is _NOTHING or items[-2] is _NOTHING):
                # XGrammar wants an element on both sides of `|` ("" is one).
                raise self.fail("expected an element on both sides of `|`", bar)
        return alt(items)

    def sequence(self, nested: bool) -> Expr:
        items: list[Expr] = []
        while True:
            self.skip()
            ch = self.peek()
            if not ch or ch in "|)" or (not nested and self.at_rule_start()):
                break
            item = self.postfix(self.atom())
            if item is not None:
                items.append(item)
        if not items:
            return _NOTHING
        return items[0] if len(items) == 1 else Seq(items=tuple(items))

    def atom(self) -> Expr | None:
        start = self.pos
        ch = self.peek()
        if ch == '"':
            return self.string()
        if ch == "[":
            return self.char_class()
        if ch == ".":
            self.pos += 1
            if self.ebnf:
                error(
                    self.diags,
                    SYNTAX,
                    "XGrammar's EBNF has no `.`: write `[^]`",
                    self.src,
                    start,
                    start + 1,
                )
                self.failed = True
                return Empty()
            return _ANY
        if ch == "(":
            # The parser and the passes after it recurse once per group (a _Stop ends
            # the parse, so the count is not restored then).
            if self.depth >= _MAX_DEPTH:
                raise self.fail(f"groups nested more than {_MAX_DEPTH} deep", start)
            self.depth += 1
            self.pos += 1
            self.skip()
            if self.peek() == "=" and self.ebnf:
                self.pos += 1
                self.skip()
                self.alternatives(nested=True)
                self.close(start)
                self.depth -= 1
                warning(
                    self.diags,
                    IGNORED,
                    "lookahead `(= ...)` ignored: XGrammar does not restrict the language "
                    "with it either",
                    self.src,
                    start,
                    self.pos,
                )
                return None
            inner = self.alternatives(nested=True)
            self.close(start)
            self.depth -= 1
            return inner
        if ch in "<!" and (ch == "<" or self.text.startswith("!<", self.pos)):
            end = self.text.find(">", self.pos)
            end = len(self.text) if end < 0 else end + 1
            self.pos = end
            self.unsupported(
                "token references have no equivalent: they depend on the tokenizer", start, end
            )
            return Empty()
        m = _NAME.match(self.text, self.pos)
        if m is None:
            raise self.fail(f"expected an element, found {self.found()}", start)
        name = m.group()
        self.pos = m.end()
        if self.ebnf and name in _MACROS and self.peek() == "(":
            return self.macro(name, start)
        self.refs.append((name, start, self.pos))
        return Ref(name=name)

    def close(self, open_at: int) -> None:
        self.skip()
        if self.peek() != ")":
            error(
                self.diags,
                SYNTAX,
                f"expected `)`, found {self.found()}",
                self.src,
                self.pos,
                self.pos + 1,
                secondary=(self.src, open_at, open_at + 1, "group opened here"),
            )
            raise _Stop
        self.pos += 1

    def macro(self, name: str, start: int) -> Expr | None:
        args_start = self.pos
        depth = 0
        i = self.pos
        while i < len(self.text):
            c = self.text[i]
            if c == '"':
                i = self._string_end(i)
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        if i >= len(self.text):
            raise self.fail(f"unclosed `(` after {quote(name)}", args_start)
        self.pos = i + 1
        if name != "Regex":
            self.unsupported(
                f"{quote(name + '(...)')} has no equivalent in GrammarIR", start, self.pos
            )
            return Empty()
        self.pos = args_start + 1
        self.skip()
        if self.peek() != '"':
            raise self.fail("`Regex(...)` takes one string", self.pos)
        lit_start = self.pos
        pattern_expr = self.string(split=False)
        lit_end = self.pos
        self.skip()
        if self.peek() != ")":
            self.pos = i + 1
            self.unsupported("`Regex(...)` options have no equivalent in GrammarIR", start, i + 1)
            return Empty()
        self.pos += 1
        assert isinstance(pattern_expr, Lit | Empty)
        pattern = pattern_expr.text if isinstance(pattern_expr, Lit) else ""
        # XGrammar's regex always matches whole: anchors at the ends add nothing.
        if pattern.startswith("^"):
            pattern = pattern[1:]
        if pattern.endswith("$") and not pattern.endswith("\\$"):
            pattern = pattern[:-1]
        return self.regex(pattern, lit_start, lit_end)

    def regex(self, written: str, at: int, end: int) -> Expr:
        from ananke.ir.regex import RegexError, parse_regex

        pattern, offsets = _xgrammar_classes(written)
        try:
            expr = parse_regex(pattern)
        except RegexError as exc:
            exc.pos = offsets[min(exc.pos, len(offsets) - 1)]
            pattern = written
            if exc.message.startswith("unclosed character class"):
                # Without escapes the pattern is the literal's text: point at its `[`.
                full = self.text[at + 1 : end - 1]
                lead = len(full) - len(full.removeprefix("^"))
                raw = full[lead : lead + len(pattern)]
                s = at + 1 + lead + exc.pos if raw == pattern else at
                error(
                    self.diags,
                    SYNTAX,
                    "invalid regex: unterminated character class",
                    self.src,
                    s,
                    end - 1 if raw == pattern else end,
                )
                self.failed = True
                return Empty()
            self.unsupported(f"`Regex(...)`: {exc}", at, self.pos)
            return Empty()
        return _split(expr)

    def _string_end(self, i: int) -> int:
        i += 1
        while i < len(self.text) and self.text[i] != '"':
            i += 2 if self.text[i] == "\\" else 1
        return i + 1

    def string(self, split: bool = True) -> Expr:
        start = self.pos
        self.pos += 1
        chars: list[str] = []
        while True:
            ch = self.peek()
            # llama.cpp takes a raw newline inside a string; XGrammar does not.
            if not ch or (ch == "\n" and self.ebnf):
                raise self.fail("unterminated string", start, self.pos)
            if ch == '"':
                self.pos += 1
                break
            at = self.pos
            chars.append(self.char())
            if 0xD800 <= ord(chars[-1]) <= 0xDFFF:
                # Printed into a target it would be text UTF-8 cannot encode.
                raise self.fail(
                    f"`{self.text[at : self.pos]}` is a surrogate, not a character: "
                    "no UTF-8 text contains it",
                    at,
                    self.pos,
                )
        if not chars:
            return Empty()
        if not split:
            return Lit(text="".join(chars))
        lits: list[Expr] = [Lit(text=c) for c in chars]
        return lits[0] if len(lits) == 1 else Seq(items=tuple(lits))

    def char(self) -> str:
        """One possibly escaped character of a string or class."""
        start = self.pos
        ch = self.peek()
        if ch != "\\":
            self.pos += 1
            return ch
        esc = self.text[self.pos + 1 : self.pos + 2]
        simple = {
            "n": "\n",
            "t": "\t",
            "r": "\r",
            "\\": "\\",
            '"': '"',
            "[": "[",
            "]": "]",
            "-": "-",
            "^": "^",
            "'": "'",
            "/": "/",
            "0": "\0",
        }
        if esc in simple:
            self.pos += 2
            return simple[esc]
        width = {"x": 2, "u": 4, "U": 8}.get(esc)
        if width is not None:
            digits = self.text[self.pos + 2 : self.pos + 2 + width]
            if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                cp = int(digits, 16)
                if cp <= 0x10FFFF:
                    self.pos += 2 + width
                    return chr(cp)
        raise self.fail(f"invalid escape `\\{_show(esc)}`", start, start + 2)

    def char_class(self) -> Expr:
        start = self.pos
        self.pos += 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        while self.peek() != "]":
            if not self.peek() or (self.peek() == "\n" and self.ebnf):
                raise self.fail("unterminated character class", start, self.pos)
            lo_at = self.pos
            lo = self.char()
            hi = lo
            if self.peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.pos += 1
                hi = self.char()
            if ord(hi) < ord(lo):
                message = f"character range `{_show(lo)}-{_show(hi)}` is out of order"
                raise self.fail(message, lo_at, self.pos)
            ranges.append((ord(lo), ord(hi)))
        self.pos += 1
        if not ranges:
            if not negated:
                raise self.fail("empty character class `[]` matches nothing", start, self.pos)
            return _ANY
        return CharClass(ranges=tuple(ranges), negated=negated)

    def postfix(self, item: Expr | None) -> Expr | None:
        while True:
            ch = self.peek()
            start = self.pos
            if ch in ("*", "+", "?"):
                self.pos += 1
                lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
            elif ch == "{":
                lo, hi = self.braces()
            else:
                return item
            if item is not None:
                if hi is not None and hi < lo:
                    raise self.fail(f"bad repetition bounds {{{lo},{hi}}}", start, self.pos)
                item = Repeat(item=item, min=lo, max=hi)

    def braces(self) -> tuple[int, int | None]:
        start = self.pos
        m = _BRACES.match(self.text, start)
        if m is None or not (m.group(1) or m.group(3)):
            raise self.fail("expected a repetition `{m}`, `{m,}` or `{m,n}`", start)
        if self.ebnf and not m.group(1):
            raise self.fail("XGrammar's EBNF needs a lower bound: write `{0,n}`", start, m.end())
        self.pos = m.end()
        lo = int(m.group(1) or 0)
        if not m.group(2):
            return lo, lo
        if m.group(3) == "-1" and self.ebnf:
            return lo, None  # XGrammar prints an unbounded repeat as `{m, -1}`
        if m.group(3).startswith("-"):
            raise self.fail("a repetition bound cannot be negative", start, m.end())
        return lo, int(m.group(3)) if m.group(3) else None


def _show(ch: str) -> str:
    """A character as a message can show it (messages are one printable line)."""
    return ch if ch.isprintable() else repr(ch)[1:-1]


# XGrammar's own classes (measured on every code point with XGrammar 0.2.9): ASCII `\d`
# and `\w`, and for `\s` ECMAScript's white space and line terminators.
_XGRAMMAR_CLASSES: dict[str, tuple[tuple[int, int], ...]] = {
    "d": ((0x30, 0x39),),
    "w": ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)),
    "s": (
        (0x9, 0xD),
        (0x20, 0x20),
        (0xA0, 0xA0),
        (0x1680, 0x1680),
        (0x2000, 0x200A),
        (0x2028, 0x2029),
        (0x202F, 0x202F),
        (0x205F, 0x205F),
        (0x3000, 0x3000),
        (0xFEFF, 0xFEFF),
    ),
}


def _xgrammar_classes(pattern: str) -> tuple[str, list[int]]:
    """``pattern`` with XGrammar's ``\\d \\w \\s`` (and negations) written as explicit
    ranges, inside classes and out, and the offset in ``pattern`` of each character."""
    from ananke.ir.ranges import complement

    out: list[str] = []
    offsets: list[int] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        step = 2 if c == "\\" and i + 1 < len(pattern) else 1
        piece = pattern[i : i + step]
        if step == 2 and pattern[i + 1].lower() in _XGRAMMAR_CLASSES:
            ranges = _XGRAMMAR_CLASSES[pattern[i + 1].lower()]
            if pattern[i + 1].isupper():
                ranges = complement(ranges)
            piece = "".join(
                f"\\u{{{a:X}}}" + ("" if a == b else f"-\\u{{{b:X}}}") for a, b in ranges
            )
            if not in_class:
                piece = f"[{piece}]"
        elif c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class and not (out and out[-1] == "[" and offsets[-1] == i - 1):
            in_class = False
        out.append(piece)
        offsets.extend([i] * len(piece))
        i += step
    offsets.append(len(pattern))
    return "".join(out), offsets


def _split(expr: Expr) -> Expr:
    """Literals of more than one character become one literal per character."""
    if isinstance(expr, Lit) and len(expr.text) > 1:
        return Seq(items=tuple(Lit(text=c) for c in expr.text))
    if isinstance(expr, Seq):
        return Seq(items=tuple(map(_split, expr.items)))
    if isinstance(expr, Alt):
        return Alt(items=tuple(map(_split, expr.items)))
    if isinstance(expr, Repeat):
        return Repeat(item=_split(expr.item), min=expr.min, max=expr.max)
    return expr


def _ir_names(names: list[str], start: str) -> dict[str, str]:
    out: dict[str, str] = {}
    # Printers write `start: <start rule>` first when the start rule has another name: a
    # rule of the grammar called `start` must then give way.
    taken: set[str] = set() if start.replace("-", "_").lower() == "start" else {"start"}
    for name in names:
        base = name.replace("-", "_").lower()
        if not base.islower():
            base = "r_" + base
        ir, k = base, 1
        while ir in taken:
            k += 1
            ir = f"{base}_{k}"
        taken.add(ir)
        out[name] = ir
    return out


def import_gbnf(
    source: SourceFile, diags: Diagnostics, *, ebnf: bool = False, start: str = "root"
) -> Grammar | None:
    parser = _Parser(source, diags, ebnf)
    try:
        parsed = parser.rules()
    except _Stop:
        return None
    bad = parser.failed
    first: dict[str, tuple[int, int]] = {}
    bodies: dict[str, Expr] = {}
    for name, s, e, body in parsed:
        if name in first:
            fs, fe = first[name]
            error(
                diags,
                DUPLICATE,
                f"{quote(name)} is defined twice",
                source,
                s,
                e,
                secondary=(source, fs, fe, "first defined here"),
            )
            bad = True
            continue
        first[name] = (s, e)
        bodies[name] = body
    for name, s, e in parser.refs:
        if name not in bodies:
            error(diags, UNDEFINED, f"{quote(name)} is not defined", source, s, e)
            bad = True
    if start not in bodies:
        missing_start(diags, source, start)
        bad = True
    if bad:
        return None
    names = _ir_names(list(bodies), start)
    written = Grammar(
        start=start,
        rules=tuple(Rule(name=n, body=b, span=source.span(*first[n])) for n, b in bodies.items()),
    )
    return rename(written, names)
