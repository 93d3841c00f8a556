"""A regular expression in the syntax of Rust's ``regex`` crate, as outlines-core and
llguidance's ``regex`` grammar format read it.

Spec: Rust ``regex`` crate syntax (``docs.rs/regex``, "Syntax"); checked against
outlines-core 0.2.14 (``outlines_core.Index``) and llguidance 1.9.1
(``grammar_from("regex", ...)``). Both match the whole output, so no anchors are printed.

Lowerings: ``char-level`` then ``regular`` (the whole grammar inlined into the start rule;
recursion and oversized results are reported there). The printer sees one rule of
``Lit``, ``CharClass``, ``Seq``, ``Alt``, ``Repeat`` and ``Empty``. It writes letters,
digits, space and printable non-ASCII characters as they are and every other character as
``\\x{H...}``, groups with ``(?:...)``, repeats as ``* + ? {m} {m,} {m,n}`` (never
``{,n}``, which outlines-core refuses), and never ``.``, ``\\w``, ``\\d`` or ``\\s``.

Known deviations: surrogate code points are dropped from classes (no UTF-8 text holds
them). A printed regex longer than 100,000 characters is refused (``regex-too-large``).
"""

from __future__ import annotations

from typing import ClassVar

from ananke.ir.grammar import (
    Alt,
    And,
    CharClass,
    Empty,
    Expr,
    Grammar,
    JsonSchema,
    Lit,
    Not,
    Ref,
    Regex,
    Repeat,
    Rule,
    Seq,
    Special,
)

from .base import Backend, scalar_ranges

__all__ = ["RegexBackend"]

MAX_CHARS = 100_000
_NEVER = "[^\\x{0}-\\x{10ffff}]"
_ANY = "[\\x{0}-\\x{10ffff}]"


def _char(cp: int) -> str:
    ch = chr(cp)
    if (ch.isalnum() and cp < 0x80) or ch == " " or (cp >= 0x80 and ch.isprintable()):
        return ch
    return f"\\x{{{cp:x}}}"


class RegexBackend(Backend):
    name: ClassVar[str] = "regex"
    file_extension: ClassVar[str] = ".regex"
    supports_bounded_repeat: ClassVar[bool] = True
    supports_recursion: ClassVar[bool] = False
    lowerings: ClassVar[tuple[str, ...]] = ("char-level", "regular")

    def emit(self, grammar: Grammar) -> str:
        if len(grammar.rules) != 1 or grammar.rules[0].name != grammar.start:
            raise AssertionError(f"{self.name}: the grammar was not inlined into one rule")
        rule = grammar.rules[0]
        text = self.print_expr(rule.body, rule)
        if len(text) > MAX_CHARS:
            self.unsupported(
                "regex-too-large",
                f"the regular expression is {len(text):,} characters (limit {MAX_CHARS:,})",
            )
        return text + "\n"

    def print_lit(self, node: Lit, rule: Rule) -> str:
        return "".join(_char(ord(ch)) for ch in node.text) if node.text else "(?:)"

    def print_class(self, node: CharClass, rule: Rule) -> str:
        ranges = scalar_ranges(node.ranges)
        if not ranges:
            return _ANY if node.negated else _NEVER
        body = "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)
        return f"[{'^' if node.negated else ''}{body}]"

    def print_seq(self, node: Seq, rule: Rule) -> str:
        if not node.items:
            return "(?:)"
        return "".join(
            f"(?:{self.print_expr(i, rule)})"
            if isinstance(i, Alt) and len(i.items) > 1
            else self.print_expr(i, rule)
            for i in node.items
        )

    def print_alt(self, node: Alt, rule: Rule) -> str:
        if not node.items:
            return _NEVER
        return "|".join(self.print_expr(i, rule) for i in node.items)

    def print_repeat(self, node: Repeat, rule: Rule) -> str:
        lo, hi = node.min, node.max
        if hi == 0:
            return "(?:)"
        inner = self.print_expr(node.item, rule)
        if not _is_atom(node.item):
            inner = f"(?:{inner})"
        if (lo, hi) == (0, None):
            return f"{inner}*"
        if (lo, hi) == (1, None):
            return f"{inner}+"
        if (lo, hi) == (0, 1):
            return f"{inner}?"
        if hi is None:
            return f"{inner}{{{lo},}}"
        if lo == hi:
            return f"{inner}{{{lo}}}"
        return f"{inner}{{{lo},{hi}}}"

    def print_empty(self, node: Empty, rule: Rule) -> str:
        return "(?:)"

    def print_json(self, node: JsonSchema, rule: Rule) -> str:
        self.unsupported(
            "target-cannot-express",
            f"rule `{rule.name}` embeds a JSON schema, which a regular expression here cannot "
            "hold; use the llguidance or json-schema target",
        )
        raise AssertionError("unreachable")

    def print_special(self, node: Special, rule: Rule) -> str:
        self.unsupported(
            "target-cannot-express",
            f"rule `{rule.name}` uses the special token <|{node.name}|>, which a regular "
            "expression cannot name; use the llguidance target",
        )
        raise AssertionError("unreachable")

    def print_ref(self, node: Ref, rule: Rule) -> str:
        raise AssertionError(f"{self.name}: reference to `{node.name}` left after inlining")

    def print_regex(self, node: Regex, rule: Rule) -> str:
        raise AssertionError(f"{self.name}: regex in `{rule.name}` left after char-level")

    def print_not(self, node: Not, rule: Rule) -> str:
        raise AssertionError(f"{self.name}: negation in `{rule.name}` left after char-level")

    def print_and(self, node: And, rule: Rule) -> str:
        raise AssertionError(f"{self.name}: intersection in `{rule.name}` left after char-level")


def _is_atom(item: Expr) -> bool:
    if isinstance(item, CharClass | Empty):
        return True
    return isinstance(item, Lit) and len(item.text) == 1
