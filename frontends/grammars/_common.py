"""Helpers shared by the grammar importers: diagnostics, literals, regex checks."""

from __future__ import annotations

import re

from ananke.ir.diagnostics import Diagnostics, Label, quote
from ananke.ir.grammar import Alt, Expr, Lit, Regex
from ananke.ir.source import SourceFile

__all__ = [
    "CODES",
    "DUPLICATE",
    "IGNORED",
    "IMPORT",
    "SYNTAX",
    "TERMINAL",
    "UNDEFINED",
    "UNSUPPORTED",
    "case_insensitive",
    "check_regex",
    "error",
    "warning",
]

UNSUPPORTED = "unsupported-grammar-construct"
SYNTAX = "grammar-syntax-error"
UNDEFINED = "undefined-grammar-rule"
DUPLICATE = "duplicate-grammar-rule"
IMPORT = "unresolved-grammar-import"
TERMINAL = "invalid-grammar-terminal"
IGNORED = "ignored-grammar-construct"
CODES = (UNSUPPORTED, SYNTAX, UNDEFINED, DUPLICATE, IMPORT, TERMINAL, IGNORED)
"""Every diagnostic code the grammar importers emit (each has a page in spec/diagnostics)."""


def error(
    diags: Diagnostics,
    code: str,
    message: str,
    source: SourceFile,
    start: int,
    end: int,
    *,
    help: str | None = None,
    secondary: tuple[SourceFile, int, int, str] | None = None,
) -> None:
    labels = [Label(span=source.span(start, end))]
    if secondary is not None:
        src, s, e, text = secondary
        labels.append(Label(span=src.span(s, e), message=text, primary=False))
    diags.error(code, message, *labels, help=help)


def missing_start(diags: Diagnostics, source: SourceFile, start: str) -> None:
    """The grammar defines no rule named ``start`` (its first byte carries the label)."""
    error(
        diags,
        UNDEFINED,
        f"start rule {quote(start)} is not defined",
        source,
        0,
        0,
        help="name the start rule with `--start RULE`",
    )


def warning(
    diags: Diagnostics,
    code: str,
    message: str,
    source: SourceFile,
    start: int,
    end: int,
    *,
    help: str | None = None,
) -> None:
    diags.warning(code, message, Label(span=source.span(start, end)), help=help)


def case_insensitive(text: str) -> Expr:
    """``text`` matched without regard to case, as one regex (so that it stays one lexeme):
    letters become two-letter classes."""
    parts: list[str] = []
    plain = True
    for ch in text:
        variants = sorted({v for v in (ch, ch.lower(), ch.upper()) if len(v) == 1}, key=ord)
        if len(variants) > 1:
            plain = False
            parts.append("[" + "".join(_class_escape(v) for v in variants) + "]")
        else:
            parts.append(_escape(ch))
    return Lit(text=text) if plain else Regex(pattern="".join(parts))


def _escape(ch: str) -> str:
    if ch in "\\.^$|?*+()[]{}":
        return "\\" + ch
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"\\x{ord(ch):02x}"
    return ch


def _class_escape(ch: str) -> str:
    return ch if ch.isalnum() else _escape(ch)


def alt(items: list[Expr]) -> Expr:
    return items[0] if len(items) == 1 else Alt(items=tuple(items))


# Python `re` features that Rust's regex (llguidance) lacks or reads differently. Each
# entry: a pattern matched at a position outside character classes, and the message.
_PY_ONLY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\(\?<?[=!]"), "lookaround assertions"),
    (re.compile(r"\(\?P="), "named backreferences"),
    (re.compile(r"\(\?\("), "conditional groups"),
    (re.compile(r"\(\?#"), "regex comments"),
    (re.compile(r"\(\?>"), "atomic groups"),
    (re.compile(r"\\[1-9]"), "backreferences"),
    (re.compile(r"\\[bB]"), "word-boundary assertions"),
    (re.compile(r"\\[AZz]"), "anchors"),
    (re.compile(r"[\^$]"), "anchors"),
)
_QUANT = re.compile(r"(?:[*+?]|\{[0-9]*,?[0-9]*\})([?+])")


def check_regex(pattern: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Scan a Python/Rust regex pattern for constructs llguidance cannot read.

    Returns the pattern with named groups ``(?P<name>`` rewritten to ``(?:`` (the name
    has no meaning for the language) and a list of ``(start, end, what)`` offsets into
    ``pattern`` for every unsupported construct.
    """
    problems: list[tuple[int, int, str]] = []
    out: list[str] = []
    i = 0
    in_class = False
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            if not in_class:
                for rx, what in _PY_ONLY:
                    m = rx.match(pattern, i)
                    if m and m.group().startswith("\\"):
                        problems.append((i, m.end(), what))
                        break
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            # A `]` or `^]` right after the bracket is a literal.
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append("]")
                i += 1
            continue
        named = re.compile(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>").match(pattern, i)
        if named:
            out.append("(?:")
            i = named.end()
            continue
        m = _QUANT.match(pattern, i)
        if m:
            kind = "lazy quantifiers" if m.group(1) == "?" else "possessive quantifiers"
            problems.append((i, m.end(), kind))
            out.append(m.group())
            i = m.end()
            continue
        for rx, what in _PY_ONLY:
            m = rx.match(pattern, i)
            if m and not m.group().startswith("\\"):
                problems.append((i, m.end(), what))
                break
        out.append(ch)
        i += 1
    return "".join(out), problems


_CASELESS_ESCAPES = frozenset("dDwWsSntrfvae0")


def fold_case(pattern: str) -> str | None:
    """``pattern`` with the ``i`` flag spelt out for ASCII letters: ``a`` becomes ``[aA]``
    and classes get the other case of their letters. None when the pattern has anything
    this cannot fold exactly (non-ASCII letters, numeric or property escapes, nested
    classes, inline flags): the caller then keeps a ``(?i:...)`` group."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            esc = pattern[i + 1 : i + 2]
            if esc.isalnum() and esc not in _CASELESS_ESCAPES:
                return None
            out.append(pattern[i : i + 2])
            i += 2
        elif ch == "[":
            folded = _fold_class(pattern, i)
            if folded is None:
                return None
            text, i = folded
            out.append(text)
        elif ch == "(" and pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
            return None
        elif ch == "{":
            end = pattern.find("}", i)
            if end < 0:
                return None
            out.append(pattern[i : end + 1])
            i = end + 1
        else:
            variants = {ch.lower(), ch.upper()} - {ch}
            if variants and not (ch.isascii() and ch.isalpha()):
                return None
            out.append(f"[{ch}{''.join(variants)}]" if variants else ch)
            i += 1
    return "".join(out)


def _fold_class(pattern: str, i: int) -> tuple[str, int] | None:
    """The class starting at ``pattern[i] == "["`` with both cases of its ASCII letters,
    and the offset after it."""
    j = i + 1
    if pattern.startswith("^", j):
        j += 1
    if pattern.startswith("]", j):
        j += 1
    head = j  # the other cases go here: after `[`, `^` and a literal `]`, before any `-`
    extra: list[str] = []
    while j < len(pattern) and pattern[j] != "]":
        if pattern[j] == "[" or pattern.startswith(("&&", "--", "~~"), j):
            return None
        lo, j = _class_char(pattern, j)
        if lo is None:
            return None
        hi = lo
        if pattern.startswith("-", j) and not pattern.startswith("-]", j):
            end, j = _class_char(pattern, j + 1)
            if end is None or end < 0 or lo < 0:
                return None
            hi = end
        if lo < 0:
            continue  # \d, \w, \s ...: the same in both cases
        for a, b, shift in ((0x61, 0x7A, -32), (0x41, 0x5A, 32)):
            s, e = max(lo, a), min(hi, b)
            if s <= e:
                extra.append(chr(s + shift) if s == e else f"{chr(s + shift)}-{chr(e + shift)}")
        if hi > 0x7F and any(_has_case(c) for c in range(max(lo, 0x80), hi + 1)):
            return None
    if j >= len(pattern):
        return None
    return pattern[i:head] + "".join(extra) + pattern[head:j] + "]", j + 1


def _class_char(pattern: str, j: int) -> tuple[int | None, int]:
    """One class member: its code point, -1 for a case-closed escape such as ``\\d``, or
    None for what cannot be folded here."""
    if pattern[j] == "\\":
        esc = pattern[j + 1 : j + 2]
        if esc in _CASELESS_ESCAPES:
            return -1, j + 2
        if esc.isalnum() or not esc:
            return None, j
        return ord(esc), j + 2
    return ord(pattern[j]), j + 1


def _has_case(cp: int) -> bool:
    return chr(cp).lower() != chr(cp).upper()
