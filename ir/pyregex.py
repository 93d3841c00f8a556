"""Python ``re`` patterns, read as Python reads them, turned into GrammarIR.

Lark grammars write their regular expressions for Python's ``re`` (the ``lark`` package
compiles them with it). Other engines read the same text otherwise: Rust's ``regex``
(llguidance) has its own ``\\w``, ``\\s`` and case folding, XGrammar and GBNF have ASCII
classes or none. So a Lark regex is read here once, with Python's meaning, into an
expression of :class:`Lit`, :class:`CharClass`, :class:`Seq`, :class:`Alt`,
:class:`Repeat` and :class:`Empty`; :func:`portable_pattern` writes that back as a regex
every engine reads alike (explicit classes only).

Python's meaning, construct by construct (str patterns, the ``re`` of the running Python):

* ``\\d \\w \\s`` and their negations: :func:`ananke.ir.pyclasses.python_class`, Unicode
  unless the ``a`` flag is on (``(?a)``, ``(?a:...)``); the same inside classes;
* ``.``: any character but ``\\n``; any character with the ``s`` flag;
* the ``i`` flag: a character matches every character ``re`` matches it with under
  ``IGNORECASE`` (its simple lowercase and the extra pairs ``re`` knows, such as ``s``,
  ``S`` and ``ſ``, or ``k``, ``K`` and the Kelvin sign); only ASCII letters with ``a``;
* the ``x`` flag: whitespace and ``#`` comments outside classes are dropped;
* escapes: ``\\a \\f \\n \\r \\t \\v``, ``\\xHH``, ``\\uHHHH``, ``\\UHHHHHHHH``,
  ``\\N{NAME}``, octal ``\\0``, ``\\ooo``; in a class ``\\b`` is a backspace; a lone ``{``
  that starts no repetition is a literal; ``[`` inside a class is a literal;
* groups of every kind that only group (``(...)``, ``(?:...)``, ``(?P<name>...)``,
  flag groups) and ``(?#...)`` comments; ``m`` and ``u`` change nothing here.

What a grammar engine cannot express is reported, with its place in the pattern: anchors
(``^ $ \\A \\Z \\b \\B``), lookaround, backreferences, conditional and atomic groups, lazy
and possessive quantifiers, repeat counts above 100,000. A pattern Python's ``re`` itself
refuses is reported with ``re``'s own message and position (``invalid=True``).

Known deviation: CPython's ``re`` (3.11 to 3.13 at least) does not match an astral
(outside the Basic Multilingual Plane) letter case-insensitively when it is listed alone
among other members of a class (``(?i)[\\U00010400a]`` fails on U+10400 itself); here
it matches as it does everywhere else in Python.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

from ananke.ir.grammar import Alt, CharClass, Empty, Expr, Lit, Repeat, Seq, repeat_suffix
from ananke.ir.pyclasses import python_class
from ananke.ir.ranges import ANY_SCALAR, SURROGATES, Ranges, complement, merge, minus, union
from ananke.ir.regex import RegexError, _seq

__all__ = ["PythonRegexError", "fold_ranges", "parse_python_regex", "portable_pattern"]

_MAX_REPEAT = 100_000
_MAX_DEPTH = 100
_WHITESPACE = frozenset(" \t\n\r\v\f")
_OCT = "01234567"
_HEX = "0123456789abcdefABCDEF"
_ESCAPES = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}
_COMMENT = Empty()
"""What a ``(?#...)`` comment parses to: nothing, and nothing a quantifier can apply to."""


class PythonRegexError(RegexError):
    """A pattern Python's ``re`` refuses (``invalid``), or a construct no grammar engine
    can express; ``pos`` to ``end`` is its place in the pattern."""

    def __init__(self, message: str, pos: int, end: int, *, invalid: bool) -> None:
        super().__init__(message, pos)
        self.end = max(end, pos)
        self.invalid = invalid


@dataclass(frozen=True)
class _Flags:
    i: bool = False
    s: bool = False
    x: bool = False
    a: bool = False


# --- case folding -------------------------------------------------------------------------


@functools.cache
def _case_tables(ascii: bool) -> tuple[list[int], dict[int, int], list[int]]:
    """The code points case-insensitive matching involves (sorted), the key two of them
    share exactly when ``re`` matches one with the other, and the cased ones (sorted).

    Read from the running Python's ``re`` internals (its simple lowercase mapping and its
    table of extra case pairs), computed once."""
    if ascii:
        letters = [*range(0x41, 0x5B), *range(0x61, 0x7B)]
        return letters, {cp: cp | 0x20 for cp in letters}, letters
    # The primitives `re` folds case with (no public names: `re` keeps them internal).
    sre = importlib.import_module("_sre")
    extra: dict[int, tuple[int, ...]] = importlib.import_module("re._casefix")._EXTRA_CASES
    lower: Callable[[int], int] = sre.unicode_tolower
    iscased: Callable[[int], bool] = sre.unicode_iscased
    involved: set[int] = set()
    cased: list[int] = []
    for cp in range(0x110000):
        lo = lower(cp)
        if iscased(cp):
            cased.append(cp)
            involved.update((cp, lo))
        elif lo != cp:
            involved.update((cp, lo))
    for lo, others in extra.items():
        involved.add(lo)
        involved.update(others)
    key: dict[int, int] = {}
    for cp in involved:
        lo = lower(cp)
        key[cp] = min((lo, *extra.get(lo, ())))
    return sorted(involved), key, cased


def _contains(ranges: Ranges, cp: int) -> bool:
    i = bisect.bisect_right(ranges, (cp, 0x110000)) - 1
    return i >= 0 and ranges[i][0] <= cp <= ranges[i][1]


def fold_ranges(ranges: Ranges, *, ascii: bool = False) -> Ranges:
    """The code points that ``re`` matches, under ``IGNORECASE``, with a class (or a
    literal) listing ``ranges``: unchanged when none of them is a cased character."""
    involved, key, cased = _case_tables(ascii)
    if not any(
        bisect.bisect_left(cased, lo) < len(cased) and cased[bisect.bisect_left(cased, lo)] <= hi
        for lo, hi in ranges
    ):
        return ranges
    keys = {key[cp] for cp in involved if _contains(ranges, cp)}
    extra = merge((cp, cp) for cp in involved if key[cp] in keys)
    return union(minus(ranges, merge((cp, cp) for cp in involved)), extra)


# --- the parser ---------------------------------------------------------------------------


class _Parser:
    def __init__(self, pattern: str, flags: _Flags) -> None:
        self.p = pattern
        self.i = 0
        self.depth = 0
        self.flags = flags
        self.problems: list[PythonRegexError] = []

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.p[j] if j < len(self.p) else ""

    def no_equivalent(self, what: str, start: int, end: int) -> None:
        self.problems.append(
            PythonRegexError(
                f"regex {what} have no equivalent in grammar engines", start, end, invalid=False
            )
        )

    def invalid(self, message: str, pos: int) -> PythonRegexError:
        # `re` accepted the pattern: a refusal here is a construct this reader lacks.
        return PythonRegexError(message, pos, pos + 1, invalid=False)

    # --- structure ----------------------------------------------------------------------

    def parse(self) -> Expr:
        self.global_flags()
        expr = self.alternation(self.flags)
        if self.i < len(self.p):
            raise self.invalid("unbalanced parenthesis", self.i)
        return expr

    def global_flags(self) -> None:
        """``(?aimsux)`` groups at the start set flags for the whole pattern."""
        while True:
            self.skip_verbose(self.flags)
            m = re.compile(r"\(\?([aiLmsux]+)\)").match(self.p, self.i)
            if m is None:
                return
            self.flags = self.with_flags(self.flags, m.group(1), "")
            self.i = m.end()

    @staticmethod
    def with_flags(flags: _Flags, add: str, remove: str) -> _Flags:
        out = flags
        for f in "isx":
            if f in add:
                out = replace(out, **{f: True})
            if f in remove:
                out = replace(out, **{f: False})
        if "a" in add:
            out = replace(out, a=True)
        if "u" in add:
            out = replace(out, a=False)
        return out

    def skip_verbose(self, flags: _Flags) -> None:
        if not flags.x:
            return
        while self.i < len(self.p):
            c = self.p[self.i]
            if c in _WHITESPACE:
                self.i += 1
            elif c == "#":
                end = self.p.find("\n", self.i)
                self.i = len(self.p) if end < 0 else end + 1
            else:
                return

    def alternation(self, flags: _Flags) -> Expr:
        branches = [self.sequence(flags)]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence(flags))
        if len(branches) == 1:
            return branches[0]
        return Alt(items=tuple(dict.fromkeys(branches)))

    def sequence(self, flags: _Flags) -> Expr:
        items: list[Expr | None] = []  # None: a construct reported, or a comment
        while True:
            self.skip_verbose(flags)
            c = self.peek()
            if not c or c in "|)":
                break
            start = self.i
            if c in "*+?" or (c == "{" and self.repeat_bounds() is not None):
                self.quantifier(items, start, flags)
                continue
            atom = self.atom(flags)
            if atom is not _COMMENT:
                items.append(atom)
        return _seq([item for item in items if item is not None])

    def quantifier(self, items: list[Expr | None], start: int, flags: _Flags) -> None:
        c = self.peek()
        if c == "{":
            bounds = self.repeat_bounds()
            assert bounds is not None
            (lo, hi), self.i = bounds
        else:
            self.i += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        if self.peek() in ("?", "+"):
            kind = "lazy quantifiers" if self.peek() == "?" else "possessive quantifiers"
            self.i += 1
            self.no_equivalent(kind, start, self.i)
            if items:
                items[-1] = None
            return
        if not items:
            raise self.invalid("nothing to repeat", start)
        if max(lo, hi or 0) > _MAX_REPEAT:
            self.no_equivalent(f"repeat counts above {_MAX_REPEAT:,}", start, self.i)
            items[-1] = None
            return
        item = items[-1]
        if item is not None:
            items[-1] = Empty() if hi == 0 else Repeat(item=item, min=lo, max=hi)

    def repeat_bounds(self) -> tuple[tuple[int, int | None], int] | None:
        """``{m}``, ``{m,}``, ``{,n}``, ``{m,n}`` or ``{,}`` at the cursor, and the offset after
        it; None when the ``{`` is a literal."""
        m = re.compile(r"\{([0-9]*)(,?)([0-9]*)\}").match(self.p, self.i)
        if m is None or m.group() == "{}" or (not m.group(2) and not m.group(1)):
            return None
        lo = int(m.group(1) or 0)
        hi = lo if not m.group(2) else int(m.group(3)) if m.group(3) else None
        return (lo, hi), m.end()

    def atom(self, flags: _Flags) -> Expr | None:
        start = self.i
        c = self.p[self.i]
        if c == "(":
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                message = f"regex groups nested more than {_MAX_DEPTH} deep are not supported"
                raise PythonRegexError(message, start, start + 1, invalid=False)
            try:
                return self.group(flags)
            finally:
                self.depth -= 1
        if c == "[":
            self.i += 1
            return self.char_class(flags, start)
        self.i += 1
        if c == ".":
            return CharClass(ranges=ANY_SCALAR if flags.s else complement(((10, 10),)))
        if c in "^$":
            self.no_equivalent("anchors", start, self.i)
            return None
        if c == "\\":
            return self.escape(flags, start)
        return self.literal(ord(c), flags)

    def literal(self, cp: int, flags: _Flags) -> Expr:
        if 0xD800 <= cp <= 0xDFFF:
            return CharClass(ranges=())  # no text holds a lone surrogate
        ranges: Ranges = ((cp, cp),)
        if flags.i:
            ranges = fold_ranges(ranges, ascii=flags.a)
        return (
            Lit(text=chr(cp))
            if len(ranges) == 1 and ranges[0][0] == ranges[0][1]
            else (CharClass(ranges=ranges))
        )

    def group(self, flags: _Flags) -> Expr | None:
        start = self.i
        self.i += 1
        inner_flags = flags
        if self.peek() == "?":
            self.i += 1
            c = self.peek()
            if c == ":":
                self.i += 1
            elif c == "P" and self.peek(1) == "<":
                end = self.p.index(">", self.i)
                self.i = end + 1
            elif c == "P" and self.peek(1) == "=":
                self.i = self.p.index(")", self.i) + 1
                self.no_equivalent("named backreferences", start, self.i)
                return None
            elif c == "#":
                self.i = self.p.index(")", self.i) + 1
                return _COMMENT
            elif c in ("=", "!") or (c == "<" and self.peek(1) in ("=", "!")):
                self.i += 1 if c != "<" else 2
                self.no_equivalent("lookaround assertions", start, self.i)
                self.alternation(flags)
                self.close(start)
                return None
            elif c == "(":
                self.no_equivalent("conditional groups", start, self.i + 1)
                self.i = self.p.index(")", self.i) + 1
                self.alternation(flags)
                self.close(start)
                return None
            elif c == ">":
                self.i += 1
                self.no_equivalent("atomic groups", start, self.i)
                self.alternation(flags)
                self.close(start)
                return None
            else:
                m = re.compile(r"([aiLmsux]*)(?:-([imsx]*))?:").match(self.p, self.i)
                if m is None:
                    raise self.invalid("unknown group extension", start)
                inner_flags = self.with_flags(flags, m.group(1), m.group(2) or "")
                self.i = m.end()
        inner = self.alternation(inner_flags)
        self.close(start)
        return inner

    def close(self, start: int) -> None:
        if self.peek() != ")":
            raise self.invalid("missing ), unterminated subpattern", start)
        self.i += 1

    # --- escapes ------------------------------------------------------------------------

    def escape(self, flags: _Flags, start: int) -> Expr | None:
        """The escape whose backslash is at ``start`` (the cursor is after it)."""
        c = self.peek()
        if not c:
            raise self.invalid("bad escape (end of pattern)", start)
        self.i += 1
        if c in "dDwWsS":
            return CharClass(ranges=python_class(c, ascii=flags.a))
        if c in "AZ":
            self.no_equivalent("anchors", start, self.i)
            return None
        if c in "bB":
            self.no_equivalent("word-boundary assertions", start, self.i)
            return None
        if c in "123456789":
            digits = self.p[self.i - 1 : self.i + 2]
            if len(digits) == 3 and all(d in _OCT for d in digits):
                self.i += 2
                return self.literal(int(digits, 8), flags)
            while self.peek().isascii() and self.peek().isdigit():
                self.i += 1
            self.no_equivalent("backreferences", start, self.i)
            return None
        return self.literal(self.code_point(c, start, in_class=False), flags)

    def code_point(self, c: str, start: int, *, in_class: bool) -> int:
        """The character of a one-character escape ``\\c`` (the cursor is after ``c``)."""
        if c in _ESCAPES:
            return _ESCAPES[c]
        if c == "b" and in_class:
            return 8
        if c in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[c]
            text = self.p[self.i : self.i + width]
            self.i += width
            return int(text, 16)
        if c == "N":
            end = self.p.index("}", self.i)
            name = self.p[self.i + 1 : end]
            self.i = end + 1
            return ord(unicodedata.lookup(name))
        if c in _OCT:
            digits = c
            while len(digits) < 3 and self.peek() and self.peek() in _OCT:
                digits += self.peek()
                self.i += 1
            return int(digits, 8)
        if c.isascii() and c.isalnum():
            raise self.invalid(f"bad escape \\{c}", start)
        return ord(c)

    # --- classes ------------------------------------------------------------------------

    def char_class(self, flags: _Flags, start: int) -> Expr:
        """A class whose ``[`` is at ``start`` (the cursor is after it)."""
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        listed: list[tuple[int, int]] = []
        categories: list[Ranges] = []
        first = True
        while True:
            c = self.peek()
            if not c:
                raise self.invalid("unterminated character set", start)
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            lo = self.class_member(categories, flags)
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                hi = self.class_member(categories, flags)
                if lo is None or hi is None:
                    raise self.invalid("bad character range", self.i)
                listed.append((lo, hi))
            elif lo is not None:
                listed.append((lo, lo))
        members = minus(merge(listed), SURROGATES)
        if flags.i:
            members = fold_ranges(members, ascii=flags.a)
        for cat in categories:
            members = union(members, cat)
        if negated:
            members = complement(members)
        return CharClass(ranges=members)

    def class_member(self, categories: list[Ranges], flags: _Flags) -> int | None:
        """One member: its code point, or None for a class escape (added to
        ``categories``)."""
        start = self.i
        c = self.p[self.i]
        self.i += 1
        if c != "\\":
            return ord(c)
        e = self.peek()
        if not e:
            raise self.invalid("bad escape (end of pattern)", start)
        self.i += 1
        if e in "dDwWsS":
            categories.append(python_class(e, ascii=flags.a))
            return None
        return self.code_point(e, start, in_class=True)


_PY_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "u": re.UNICODE}


@functools.lru_cache(maxsize=4096)
def _parse_cached(pattern: str, flags: str) -> tuple[Expr, tuple[PythonRegexError, ...]]:
    py = 0
    for f in flags:
        py |= _PY_FLAGS.get(f, re.VERBOSE if f == "x" else 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern, py)
    except re.error as exc:
        pos = exc.pos if exc.pos is not None else 0
        raise PythonRegexError(exc.msg, pos, pos + 1, invalid=True) from None
    except (OverflowError, RecursionError, ValueError) as exc:
        raise PythonRegexError(str(exc) or type(exc).__name__, 0, 0, invalid=True) from None
    start = _Flags(i="i" in flags, s="s" in flags, x="x" in flags)
    parser = _Parser(pattern, start)
    try:
        expr = parser.parse()
    except PythonRegexError as exc:
        return Empty(), (*parser.problems, exc)
    except (ValueError, IndexError):
        # `re` took it, this reader cannot: a construct it does not know, not a crash.
        return Empty(), (PythonRegexError("regex construct not supported", 0, 0, invalid=False),)
    return expr, tuple(parser.problems)


def parse_python_regex(pattern: str, flags: str = "") -> tuple[Expr, tuple[PythonRegexError, ...]]:
    """The expression matching exactly the strings ``re.fullmatch(pattern, s, flags)``
    matches, and the constructs in it that no grammar engine can express (the expression
    then leaves them out: it is only meaningful when there are none).

    ``flags`` are Lark's regex flags (``imsux``). Raises :class:`PythonRegexError` with
    ``invalid=True`` when Python's ``re`` refuses the pattern.
    """
    return _parse_cached(pattern, flags)


# --- printing -----------------------------------------------------------------------------

_META = frozenset("\\.+*?()|[]{}^$")
_CLASS_META = frozenset("\\[]^-&~")
_NEVER = "[^\\x00-\\U0010FFFF]"


def _char(cp: int, meta: frozenset[str]) -> str:
    ch = chr(cp)
    if cp < 0x80:
        if ch.isalnum() or ch in " _" or (ch.isprintable() and ch not in meta):
            return ch
        if ch in meta:
            return "\\" + ch
        return {9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}.get(cp, f"\\x{cp:02X}")
    if ch.isprintable() and meta is _META and unicodedata.category(ch)[0] != "M":
        return ch
    return f"\\u{cp:04X}" if cp <= 0xFFFF else f"\\U{cp:08X}"


def _bridged(ranges: Ranges) -> Ranges:
    """Scalar ranges with the surrogate gap closed where both sides are in: no text holds a
    surrogate, and one range reads shorter than two."""
    if _contains(ranges, 0xD7FF) and _contains(ranges, 0xE000):
        return union(ranges, SURROGATES)
    return ranges


def _class_text(ranges: Ranges) -> str:
    scalar = minus(ranges, SURROGATES)
    if not scalar:
        return _NEVER
    if len(scalar) == 1 and scalar[0][0] == scalar[0][1]:
        return _char(scalar[0][0], _META)
    rest = complement(scalar)
    negated = 0 < len(rest) < len(scalar)
    shown = _bridged(rest if negated else scalar)
    body = "".join(
        _char(lo, _CLASS_META)
        if lo == hi
        else _char(lo, _CLASS_META) + ("" if hi == lo + 1 else "-") + _char(hi, _CLASS_META)
        for lo, hi in shown
    )
    return f"[{'^' if negated else ''}{body}]"


def portable_pattern(expr: Expr) -> str:
    """``expr`` (of :class:`Lit`, :class:`CharClass`, :class:`Seq`, :class:`Alt`,
    :class:`Repeat`, :class:`Empty`) as a regex in the portable subset that Rust's
    ``regex``, Python's ``re`` and :func:`ananke.ir.regex.parse_regex` read alike:
    explicit classes, ``(?:...)`` groups, never ``.``, ``\\d``, ``\\w`` or ``\\s``."""
    if isinstance(expr, Lit):
        return "".join(_char(ord(c), _META) for c in expr.text)
    if isinstance(expr, CharClass):
        ranges = complement(expr.ranges) if expr.negated else expr.ranges
        return _class_text(merge(ranges))
    if isinstance(expr, Seq):
        return "".join(
            f"(?:{portable_pattern(item)})" if isinstance(item, Alt) else portable_pattern(item)
            for item in expr.items
        )
    if isinstance(expr, Alt):
        if not expr.items:
            return _NEVER
        return "|".join(portable_pattern(item) for item in expr.items)
    if isinstance(expr, Repeat):
        if expr.max == 0 or isinstance(expr.item, Empty):
            return ""
        inner = portable_pattern(expr.item)
        atom = isinstance(expr.item, CharClass) or (
            isinstance(expr.item, Lit) and len(expr.item.text) == 1
        )
        if not atom:
            inner = f"(?:{inner})"
        return inner + repeat_suffix(expr.min, expr.max)
    if isinstance(expr, Empty):
        return ""
    raise TypeError(f"not a regex node: {type(expr).__name__}")
