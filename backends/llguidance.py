"""llguidance's Lark dialect: the reference target.

Spec: llguidance ``docs/syntax.md`` (checked against llguidance 1.9.1). Output starts
with a literal ``start:`` rule, so llguidance's format detection and vLLM's ``guidance``
backend both read it as Lark. Uses lexeme negation and intersection (``~``, ``&``) in
terminal definitions, terminals that reference terminals, and ``{m,n}`` repeats.

Known deviations: none (this target defines the reference semantics).
"""

from __future__ import annotations

import json
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

from .base import Backend

__all__ = ["LLGuidanceBackend"]


def _lark_string(text: str) -> str:
    # JSON string escaping is a subset llguidance's Lark lexer reads back exactly.
    return json.dumps(text, ensure_ascii=False)


def _class_char(cp: int) -> str:
    if cp < 0x20 or cp == 0x7F or chr(cp) in "\\]^-[/":
        return f"\\x{{{cp:x}}}" if cp > 0xFF else f"\\x{cp:02x}"
    if cp > 0x7E:
        return f"\\x{{{cp:x}}}"
    return chr(cp)


class LLGuidanceBackend(Backend):
    name: ClassVar[str] = "llguidance"
    file_extension: ClassVar[str] = ".lark"
    supports_negation: ClassVar[bool] = True
    supports_intersection: ClassVar[bool] = True
    supports_lexemes: ClassVar[bool] = True
    supports_bounded_repeat: ClassVar[bool] = True
    supports_json_schema: ClassVar[bool] = True
    supports_special_tokens: ClassVar[bool] = True

    def emit(self, grammar: Grammar) -> str:
        lines: list[str] = []
        if grammar.comment:
            lines.extend(f"// {c}" for c in grammar.comment.splitlines())
        rules = sorted(grammar.rules, key=lambda r: r.name != grammar.start)
        if grammar.start != "start":
            lines.append(f"start: {grammar.start}")
        for rule in rules:
            if rule.comment:
                lines.extend(f"// {c}" for c in rule.comment.splitlines())
            lines.append(f"{rule.name}: {self.print_expr(rule.body, rule)}")
        return "\n".join(lines) + "\n"

    # --- one printer per node tag ------------------------------------------------------

    def print_lit(self, node: Lit, rule: Rule) -> str:
        return _lark_string(node.text)

    def print_class(self, node: CharClass, rule: Rule) -> str:
        body = "".join(
            _class_char(lo) if lo == hi else f"{_class_char(lo)}-{_class_char(hi)}"
            for lo, hi in node.ranges
        )
        return f"/[{'^' if node.negated else ''}{body}]/"

    def print_regex(self, node: Regex, rule: Rule) -> str:
        return "/" + node.pattern.replace("/", "\\/") + "/"

    def print_ref(self, node: Ref, rule: Rule) -> str:
        return node.name

    def print_seq(self, node: Seq, rule: Rule) -> str:
        return " ".join(
            f"({self.print_expr(item, rule)})"
            if isinstance(item, Alt | And) and len(item.items) > 1
            else self.print_expr(item, rule)
            for item in node.items
        )

    def print_alt(self, node: Alt, rule: Rule) -> str:
        return " | ".join(self._seq_item(item, rule) for item in node.items)

    def print_repeat(self, node: Repeat, rule: Rule) -> str:
        inner = self._atom(node.item, rule)
        if (node.min, node.max) == (0, None):
            return f"{inner}*"
        if (node.min, node.max) == (1, None):
            return f"{inner}+"
        if (node.min, node.max) == (0, 1):
            return f"{inner}?"
        if node.max is None:
            return f"{inner}{{{node.min},}}"
        if node.min == node.max:
            return f"{inner}{{{node.min}}}"
        return f"{inner}{{{node.min},{node.max}}}"

    def print_not(self, node: Not, rule: Rule) -> str:
        return f"~{self._atom(node.item, rule)}"

    def print_and(self, node: And, rule: Rule) -> str:
        return " & ".join(self._atom(item, rule) for item in node.items)

    def print_empty(self, node: Empty, rule: Rule) -> str:
        return '""'

    def print_json(self, node: JsonSchema, rule: Rule) -> str:
        return f"%json {node.schema}"

    def print_special(self, node: Special, rule: Rule) -> str:
        return f"<|{node.name}|>"

    # --- precedence ---------------------------------------------------------------------

    def _seq_item(self, expr: Expr, rule: Rule) -> str:
        if isinstance(expr, Alt):
            return f"({self.print_expr(expr, rule)})"
        return self.print_expr(expr, rule)

    def _atom(self, expr: Expr, rule: Rule) -> str:
        if isinstance(expr, Seq | Alt | And) and len(expr.items) > 1:
            return f"({self.print_expr(expr, rule)})"
        if isinstance(expr, Repeat | Not):
            return f"({self.print_expr(expr, rule)})"
        return self.print_expr(expr, rule)
