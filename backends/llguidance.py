"""llguidance's Lark dialect: the reference target.

Spec: llguidance ``docs/syntax.md`` (checked against llguidance 1.9.1). Output starts
with a literal ``start:`` rule, so llguidance's format detection and vLLM's ``guidance``
backend both read it as Lark. Uses lexeme negation and intersection (``~``, ``&``) in
terminal definitions, terminals that reference terminals, and ``{m,n}`` repeats.

Known deviations: none (this target defines the reference semantics). Surrogate code
points are left out of classes, which llguidance refuses in a regex; no text holds one.
"""

from __future__ import annotations

import json
import re
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
    rename,
    ungrouped,
)
from ananke.ir.ranges import without_surrogates

from .base import Backend, Capabilities, repeat_suffix

__all__ = ["LLGuidanceBackend"]


def _lark_string(text: str) -> str:
    """A Lark string literal for ``text``: JSON escaping, which llguidance reads back, plus
    ``\\uXXXX`` (surrogate pairs above U+FFFF) for every character that is not printable,
    since its lexer refuses raw control characters such as DEL."""
    quoted = json.dumps(text, ensure_ascii=False)
    if quoted.isprintable():
        return quoted
    return "".join(ch if ch.isprintable() else _u_escape(ch) for ch in quoted)


def _u_escape(ch: str) -> str:
    cp = ord(ch)
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    cp -= 0x10000
    return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"


def _class_char(cp: int) -> str:
    if cp < 0x20 or cp == 0x7F or chr(cp) in "\\]^-[/":
        return f"\\x{{{cp:x}}}" if cp > 0xFF else f"\\x{cp:02x}"
    if cp > 0x7E:
        return f"\\x{{{cp:x}}}"
    return chr(cp)


_PRINTED: dict[tuple[str, Expr, str], str] = {}

# An escape (kept as it is, `\/` included) or a slash, which is then escaped. Escapes are
# read as units so that every slash of `//` is found, each after the one before.
_NEVER = "/[^\\x{0}-\\x{10ffff}]/"
"""A lexeme no string matches."""

_ESCAPE_OR_SLASH = re.compile(r"\\.|/", re.DOTALL)
_LEXEME_NAME = re.compile(r"[A-Z][A-Z0-9_]*\Z")
_RULE_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


def _escaped_slash(found: re.Match[str]) -> str:
    return "\\/" if found.group() == "/" else found.group()


def _lark_names(grammar: Grammar) -> Grammar:
    """``grammar`` with every rule name a Lark name (UPPERCASE for lexemes, lowercase for
    rules); names imported from GBNF such as ``a-b`` or ``9lives`` are rewritten, one to
    one, and so are the references to them. Grammars that need nothing are returned as
    they are."""
    bad = [
        r.name
        for r in grammar.rules
        if not (_LEXEME_NAME if r.lexeme else _RULE_NAME).match(r.name)
    ]
    if not bad:
        return grammar
    taken = {r.name for r in grammar.rules}
    names: dict[str, str] = {}
    for rule in grammar.rules:
        if rule.name not in bad:
            continue
        base = re.sub(r"[^A-Za-z0-9_]+", "_", rule.name).strip("_") or "rule"
        if not base[0].isalpha():
            base = f"r_{base}"
        base = base.upper() if rule.lexeme else base.lower()
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        names[rule.name] = candidate
    return rename(grammar, names)


_KNOWN: dict[Rule, str] = {}
"""Printed rules whose names are Lark names, by rule. Grammars lowered from one file
share most rule objects, and rules cache their hashes, so looking a rule up here is a
dictionary probe that ends at the object itself."""


def _remember(backend: LLGuidanceBackend, rule: Rule) -> str:
    text = _KNOWN.get(rule)
    if text is None:
        if len(_KNOWN) > 1 << 16:
            _KNOWN.clear()
        text = _KNOWN[rule] = _rule_text(backend, rule)
    return text


def _start_first(grammar: Grammar) -> tuple[Rule, ...]:
    # llguidance and vLLM read a grammar as Lark by its start rule, so it comes first.
    rules = grammar.rules
    if rules and rules[0].name == grammar.start:
        return rules
    return (
        *(r for r in rules if r.name == grammar.start),
        *(r for r in rules if r.name != grammar.start),
    )


def _rule_text(backend: LLGuidanceBackend, rule: Rule) -> str:
    # Grammars lowered from many constraint sets share most rules: print each once. The
    # key leaves out the rule's origins, which differ from one set to the next.
    key = (rule.name, rule.body, rule.comment)
    text = _PRINTED.get(key)
    if text is None:
        if len(_PRINTED) > 1 << 16:
            _PRINTED.clear()
        notes = "".join(f"// {c}\n" for c in rule.comment.splitlines())
        text = _PRINTED[key] = f"{notes}{rule.name}: {backend.print_expr(rule.body, rule)}"
    return text


class LLGuidanceBackend(Backend):
    name: ClassVar[str] = "llguidance"
    readers: ClassVar[tuple[str, ...]] = ("llguidance-lark",)
    file_extension: ClassVar[str] = ".lark"
    capabilities: ClassVar[Capabilities] = Capabilities(
        lexemes=True, negation=True, intersection=True, json_schema=True, special_tokens=True
    )

    def emit(self, grammar: Grammar) -> str:
        rules = _start_first(grammar)
        try:
            texts = list(map(_KNOWN.__getitem__, rules))
        except KeyError:
            named = _lark_names(grammar)
            if named is grammar:
                texts = [_remember(self, r) for r in rules]
            else:  # names imported from GBNF, rewritten: printed, not remembered
                grammar, rules = named, _start_first(named)
                texts = [_rule_text(self, r) for r in rules]
        lines: list[str] = []
        if grammar.comment:
            lines.extend(f"// {c}" for c in grammar.comment.splitlines())
        if grammar.start != "start":
            lines.append(f"start: {grammar.start}")
        lines.extend(texts)
        return "\n".join(lines) + "\n"

    # --- one printer per node tag ------------------------------------------------------

    def print_lit(self, node: Lit, rule: Rule) -> str:
        return _lark_string(node.text)

    def print_class(self, node: CharClass, rule: Rule) -> str:
        # Surrogates are no scalar values: llguidance refuses `\x{d800}`, and no UTF-8 text
        # holds one, so a class without them has the same strings.
        ranges = without_surrogates(node.ranges)
        if not ranges:
            return "/(?s:.)/" if node.negated else _NEVER
        body = "".join(
            _class_char(lo) if lo == hi else f"{_class_char(lo)}-{_class_char(hi)}"
            for lo, hi in ranges
        )
        return f"/[{'^' if node.negated else ''}{body}]/"

    def print_regex(self, node: Regex, rule: Rule) -> str:
        if not node.pattern:
            return '""'  # `//` would start a comment
        # Escape only the slashes that are not escaped already (`\/` stays as it is).
        return "/" + _ESCAPE_OR_SLASH.sub(_escaped_slash, node.pattern) + "/"

    def print_ref(self, node: Ref, rule: Rule) -> str:
        return node.name

    def print_seq(self, node: Seq, rule: Rule) -> str:
        return " ".join(
            f"({self.print_expr(item, rule)})"
            if isinstance(item, Alt | And) and len(item.items) > 1
            else self.print_expr(item, rule)
            for item in map(ungrouped, node.items)
        )

    def print_alt(self, node: Alt, rule: Rule) -> str:
        if not node.items:
            return _NEVER  # no alternative matches nothing, not the empty string
        return " | ".join(self._seq_item(item, rule) for item in node.items)

    def print_repeat(self, node: Repeat, rule: Rule) -> str:
        if node.max == 0:
            return '""'  # llguidance refuses x{0}: "End number in range cannot be 0"
        return self._atom(node.item, rule) + repeat_suffix(node.min, node.max)

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
        expr = ungrouped(expr)
        if isinstance(expr, Alt):
            return f"({self.print_expr(expr, rule)})"
        return self.print_expr(expr, rule)

    def _atom(self, expr: Expr, rule: Rule) -> str:
        expr = ungrouped(expr)
        if isinstance(expr, Seq | Alt | And) and len(expr.items) > 1:
            return f"({self.print_expr(expr, rule)})"
        if isinstance(expr, Repeat | Not):
            return f"({self.print_expr(expr, rule)})"
        return self.print_expr(expr, rule)
