"""Regular expressions, read as llguidance reads them, turned into GrammarIR.

:func:`parse_regex` accepts the subset of Rust ``regex`` syntax (the dialect llguidance
uses for lexemes) that means the same thing in every engine Ananke targets, and returns an
expression made only of :class:`Lit`, :class:`CharClass`, :class:`Seq`, :class:`Alt`,
:class:`Repeat` and :class:`Empty`. Anything else raises :class:`RegexError` with the
offset of the offending construct.

Accepted: literal characters; escapes of any ASCII punctuation (``\\.``, ``\\/``, ``\\-``
...); ``\\a \\f \\t \\n \\r \\v``; ``\\xHH``, ``\\x{H...}``, ``\\uHHHH``, ``\\u{H...}``,
``\\UHHHHHHHH``, ``\\U{H...}``; ``.`` (any character except ``\\n``); the ``s`` flag as
``(?s)``, ``(?-s)``, ``(?s:...)``, ``(?-s:...)``; groups ``(...)``, ``(?:...)``,
``(?P<n>...)``, ``(?<n>...)`` (all non-capturing here: only the language matters); ``|``;
the greedy quantifiers ``? * + {m} {m,} {m,n}`` (not ``{,n}``, which Rust refuses);
character classes with ranges, negation, escapes, nested classes (union) and ASCII classes
such as ``[[:alpha:]]``.

Refused: ``\\d \\w \\s`` and their negations (Unicode-aware in llguidance, ASCII in other
engines), ``\\p{..}``, ``\\b`` and other assertions, anchors ``^ $`` (a lexeme always
matches whole), lookaround, backreferences, lazy quantifiers, flags other than ``s``, and
class set operations (``&&``, ``--``, ``~~``).

Alphabet: Unicode scalar values (code points except the surrogates U+D800-U+DFFF), which
is what Rust's ``char`` ranges over. A negated class ``[^...]`` becomes
``CharClass(negated=True)`` over the listed ranges; its meaning is "every scalar value not
listed". ``.`` is ``CharClass(ranges=((10, 10),), negated=True)``; ``(?s:.)`` is the two
ranges of all scalar values.
"""

from __future__ import annotations

import functools

from ananke.ir.grammar import Alt, CharClass, Empty, Expr, Lit, Repeat, Seq
from ananke.ir.ranges import ANY_SCALAR, complement, merge

__all__ = ["RegexError", "grammar_regex", "parse_regex"]

_MAX_REPEAT = 100_000
_MAX_DEPTH = 100
"""Groups and classes nest at most this deep (the parser and the automata recurse)."""
_PERL = "dDwWsS"
_ASSERTIONS = "bBAzZ<>"
_SIMPLE_ESCAPES = {"a": 0x07, "f": 0x0C, "t": 0x09, "n": 0x0A, "r": 0x0D, "v": 0x0B}
_ASCII_CLASSES: dict[str, tuple[tuple[int, int], ...]] = {
    "alnum": ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)),
    "alpha": ((0x41, 0x5A), (0x61, 0x7A)),
    "ascii": ((0x00, 0x7F),),
    "blank": ((0x09, 0x09), (0x20, 0x20)),
    "cntrl": ((0x00, 0x1F), (0x7F, 0x7F)),
    "digit": ((0x30, 0x39),),
    "graph": ((0x21, 0x7E),),
    "lower": ((0x61, 0x7A),),
    "print": ((0x20, 0x7E),),
    "punct": ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)),
    "space": ((0x09, 0x0D), (0x20, 0x20)),
    "upper": ((0x41, 0x5A),),
    "word": ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)),
    "xdigit": ((0x30, 0x39), (0x41, 0x46), (0x61, 0x66)),
}


class RegexError(ValueError):
    """A pattern outside the accepted syntax; ``pos`` is the offset in the pattern."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(f"{message} (at offset {pos} of the pattern)")
        self.message = message
        self.pos = pos


def _seq(items: list[Expr]) -> Expr:
    merged: list[Expr] = []
    for item in items:
        if isinstance(item, Empty):
            continue
        if isinstance(item, Lit) and merged and isinstance(merged[-1], Lit):
            merged[-1] = Lit(text=merged[-1].text + item.text)
        else:
            merged.append(item)
    if not merged:
        return Empty()
    return merged[0] if len(merged) == 1 else Seq(items=tuple(merged))


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.dotall = False
        self.depth = 0

    # --- helpers ------------------------------------------------------------------------

    def error(self, message: str, pos: int | None = None) -> RegexError:
        return RegexError(message, self.i if pos is None else pos)

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.p[j] if j < len(self.p) else ""

    def eat(self, s: str) -> bool:
        if self.p.startswith(s, self.i):
            self.i += len(s)
            return True
        return False

    # --- grammar ------------------------------------------------------------------------

    def parse(self) -> Expr:
        if self.peek() == "^":
            raise self.error("anchors are implicit: a lexeme always matches whole; remove `^`")
        expr = self.alternation()
        if self.i < len(self.p):
            if self.peek() == ")":
                raise self.error("unopened group: `)` without `(`")
            raise self.error(f"unexpected `{self.peek()}`")  # pragma: no cover - defensive
        return expr

    def alternation(self) -> Expr:
        saved = self.dotall
        branches = [self.concat()]
        while self.eat("|"):
            branches.append(self.concat())
        # A flag set with (?s) lasts to the end of the enclosing group.
        self.dotall = saved
        if len(branches) == 1:
            return branches[0]
        unique = list(dict.fromkeys(branches))
        return unique[0] if len(unique) == 1 else Alt(items=tuple(unique))

    def concat(self) -> Expr:
        items: list[Expr] = []
        while self.i < len(self.p) and self.peek() not in "|)":
            start = self.i
            atom = self.atom()
            if atom is None:
                continue
            items.append(self.quantified(atom, start))
        return _seq(items)

    def quantified(self, atom: Expr, start: int) -> Expr:
        quantified = False
        while True:
            c = self.peek()
            pos = self.i
            if c == "?":
                self.i += 1
                bounds: tuple[int, int | None] = (0, 1)
            elif c == "*":
                self.i += 1
                bounds = (0, None)
            elif c == "+":
                self.i += 1
                bounds = (1, None)
            elif c == "{":
                bounds = self.counted()
            else:
                return atom
            if quantified:
                if c == "?":
                    raise self.error("lazy quantifiers are not supported; remove the `?`", pos)
                raise self.error("a quantifier cannot follow a quantifier; use a group", pos)
            quantified = True
            lo, hi = bounds
            atom = Empty() if hi == 0 else Repeat(item=atom, min=lo, max=hi)
            if self.peek() == "+":
                raise self.error("possessive quantifiers are not supported", self.i)

    def counted(self) -> tuple[int, int | None]:
        open_pos = self.i
        self.i += 1
        lo_text = self.digits()
        if not lo_text:
            raise self.error("counted repetition needs a number: `{m}`, `{m,}`, `{m,n}`")
        lo = int(lo_text)
        hi: int | None = lo
        if self.eat(","):
            hi_text = self.digits()
            hi = int(hi_text) if hi_text else None
        if not self.eat("}"):
            raise self.error("unclosed counted repetition: expected `}`")
        if hi is not None and hi < lo:
            raise self.error(
                f"bad repetition bounds {{{lo},{hi}}}: minimum above maximum", open_pos
            )
        if max(lo, hi or 0) > _MAX_REPEAT:
            raise self.error(f"repetition count above {_MAX_REPEAT}", open_pos)
        return lo, hi

    def digits(self) -> str:
        start = self.i
        while self.peek().isascii() and self.peek().isdigit():
            self.i += 1
        return self.p[start : self.i]

    def nest(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error(f"groups or classes nested more than {_MAX_DEPTH} deep")

    def atom(self) -> Expr | None:
        c = self.peek()
        if c in "([":
            self.nest()
            try:
                return self.group() if c == "(" else self.char_class()
            finally:
                self.depth -= 1
        if c in "?*+":
            raise self.error(f"`{c}` has nothing to repeat")
        if c == "{":
            raise self.error("`{` has nothing to repeat; write `\\{` for a literal brace")
        if c == ".":
            self.i += 1
            if self.dotall:
                return CharClass(ranges=ANY_SCALAR)
            return CharClass(ranges=((10, 10),), negated=True)
        if c == "^":
            raise self.error("`^` anchors are not supported")
        if c == "$":
            if self.i == len(self.p) - 1:
                raise self.error("anchors are implicit: a lexeme always matches whole; remove `$`")
            raise self.error("`$` anchors are not supported; write `\\$` for a dollar sign")
        if c == "\\":
            return Lit(text=chr(self.escape(in_class=False)))
        self.i += 1
        return Lit(text=c)

    def group(self) -> Expr | None:
        open_pos = self.i
        self.i += 1
        if self.eat("?"):
            if self.eat(":"):
                pass
            elif self.eat("P<") or (self.peek() == "<" and self.peek(1) not in "=!"):
                if self.peek() == "<":
                    self.i += 1
                end = self.p.find(">", self.i)
                name = self.p[self.i : end] if end >= 0 else ""
                if end < 0 or not name or not all(ch.isalnum() or ch in "_.[]" for ch in name):
                    raise self.error("bad capture group name", open_pos)
                self.i = end + 1
            elif (
                self.peek() in ("=", "!")
                or self.p.startswith("<=", self.i)
                or self.p.startswith("<!", self.i)
            ):
                raise self.error("lookaround is not supported", open_pos)
            else:
                return self.flags(open_pos)
        saved = self.dotall
        inner = self.alternation()
        self.dotall = saved
        if not self.eat(")"):
            raise self.error("unclosed group: expected `)`", open_pos)
        return inner

    def flags(self, open_pos: int) -> Expr | None:
        negate = False
        value: bool | None = None
        while True:
            c = self.peek()
            if c == "-":
                if negate:
                    raise self.error("repeated `-` in flags")
                negate = True
            elif c == "s":
                value = not negate
            elif c in (":", ")"):
                break
            elif c == "":
                raise self.error("unclosed flag group", open_pos)
            else:
                raise self.error(f"flag `{c}` is not supported; only `s` is")
            self.i += 1
        if value is None:
            raise self.error("empty flag group", open_pos)
        if self.eat(")"):
            self.dotall = value  # until the end of the enclosing group
            return None
        self.i += 1  # ':'
        saved = self.dotall
        self.dotall = value
        inner = self.alternation()
        self.dotall = saved
        if not self.eat(")"):
            raise self.error("unclosed group: expected `)`", open_pos)
        return inner

    def escape(self, *, in_class: bool) -> int:
        """The code point a backslash escape stands for (the parser is at the backslash)."""
        pos = self.i
        self.i += 1
        c = self.peek()
        if not c:
            raise self.error("trailing backslash", pos)
        self.i += 1
        if c in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[c]
        if c in _PERL:
            fix = {"d": "[0-9]", "w": "[0-9A-Za-z_]", "s": "[\\t\\n\\f\\r ]"}[c.lower()]
            raise self.error(
                f"\\{c} is Unicode-aware in llguidance and ASCII in other engines; "
                f"write an explicit class such as {fix}",
                pos,
            )
        if c in "pP":
            raise self.error(f"Unicode classes \\{c}{{..}} are not supported", pos)
        if c in _ASSERTIONS and not in_class:
            raise self.error(f"the assertion \\{c} is not supported", pos)
        if c.isascii() and c.isdigit():
            raise self.error("backreferences and octal escapes are not supported", pos)
        if c == "x":
            return self.hex_escape(pos, 2)
        if c == "u":
            return self.hex_escape(pos, 4)
        if c == "U":
            return self.hex_escape(pos, 8)
        if c.isascii() and not c.isalnum() and c not in "<>":
            return ord(c)
        raise self.error(f"unknown escape \\{c}", pos)

    def hex_escape(self, pos: int, width: int) -> int:
        if self.eat("{"):
            end = self.p.find("}", self.i)
            text = self.p[self.i : end] if end >= 0 else ""
            if end < 0 or not text or len(text) > 8:
                raise self.error("bad hexadecimal escape: expected `{` hex digits `}`", pos)
            self.i = end + 1
        else:
            text = self.p[self.i : self.i + width]
            if len(text) < width:
                raise self.error(f"bad hexadecimal escape: expected {width} hex digits", pos)
            self.i += width
        if not all(ch in "0123456789abcdefABCDEF" for ch in text):
            raise self.error("bad hexadecimal escape: not a hex digit", pos)
        cp = int(text, 16)
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            raise self.error(f"\\x{{{cp:X}}} is not a Unicode scalar value", pos)
        return cp

    # --- character classes --------------------------------------------------------------

    def char_class(self) -> CharClass:
        open_pos = self.i
        ranges, negated = self.class_body()
        if not negated and not ranges:
            raise self.error("empty character class", open_pos)  # pragma: no cover
        return CharClass(ranges=ranges, negated=negated)

    def class_body(self) -> tuple[tuple[tuple[int, int], ...], bool]:
        """Parse ``[...]`` from its ``[``: the listed ranges and whether it is negated."""
        open_pos = self.i
        self.i += 1
        negated = self.eat("^")
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            c = self.peek()
            if not c:
                raise self.error("unclosed character class: expected `]`", open_pos)
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if self.p.startswith(("&&", "--", "~~"), self.i):
                raise self.error("set operations in character classes are not supported")
            if c == "[":
                if self.peek(1) == ":":
                    end = self.p.find(":]", self.i + 2)
                    if end >= 0:
                        ranges.extend(self.ascii_class(end))
                        continue
                self.nest()
                inner, inner_neg = self.class_body()
                self.depth -= 1
                ranges.extend(complement(merge(list(inner))) if inner_neg else inner)
                continue
            lo = self.class_atom()
            if self.p.startswith("--", self.i):
                raise self.error("set operations in character classes are not supported")
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                dash = self.i
                self.i += 1
                if self.peek() == "[":
                    raise self.error("bad range: `-` before a nested class", dash)
                hi = self.class_atom()
                if hi < lo:
                    raise self.error(f"bad range {chr(lo)!r}-{chr(hi)!r}: end before start", dash)
                ranges.append((lo, hi))
            else:
                ranges.append((lo, lo))
        merged = merge(ranges)
        if not merged and not negated:
            raise self.error("empty character class", open_pos)
        return merged, negated

    def ascii_class(self, end: int) -> tuple[tuple[int, int], ...]:
        start = self.i
        name = self.p[self.i + 2 : end]
        negated = name.startswith("^")
        ranges = _ASCII_CLASSES.get(name.removeprefix("^"))
        if ranges is None:
            raise self.error(f"unknown ASCII class [:{name}:]", start)
        self.i = end + 2
        return complement(ranges) if negated else ranges

    def class_atom(self) -> int:
        c = self.peek()
        if c == "\\":
            return self.escape(in_class=True)
        self.i += 1
        return ord(c)


@functools.lru_cache(maxsize=4096)
def parse_regex(pattern: str) -> Expr:
    """The GrammarIR expression matching exactly the strings ``pattern`` fully matches.

    Raises :class:`RegexError` (a ``ValueError``) for syntax outside the accepted subset.
    Results are cached: grammars reuse the same patterns many times.
    """
    return _Parser(pattern).parse()


def grammar_regex(pattern: str) -> str | None:
    """A user regex for a whole name, made embeddable in a lexeme; None when it cannot be.

    Leading ``^``/``\\A`` and trailing ``$``/``\\Z`` anchors are implied by the lexeme
    and dropped; lookaround, backreferences and word boundaries have no lexeme equivalent.
    """
    body = pattern
    for anchor in ("^", "\\A"):
        body = body.removeprefix(anchor)
    for anchor in ("$", "\\Z"):
        if body.endswith(anchor) and not body.endswith("\\" + anchor):
            body = body[: -len(anchor)]
    if any(tok in body for tok in ("(?=", "(?!", "(?<", "\\b", "\\B")):
        return None
    if any(f"\\{d}" in body for d in "123456789"):
        return None
    return f"(?:{body})"
