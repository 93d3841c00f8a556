"""The backend base class: capabilities as documented class attributes, one printer per node.

Modelled on sqlglot's dialects: a backend is a small class of feature flags plus printing
methods named after the node they print (``print_lit``, ``print_regex``, ...). A node with
no printer is an internal error, never skipped. Features a target lacks go through
:meth:`Backend.unsupported`, which raises by default: a quiet degradation would change what
the model may write.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from ananke.ir.diagnostics import Diagnostic, DiagnosticError
from ananke.ir.grammar import (
    And,
    Expr,
    Grammar,
    JsonSchema,
    Not,
    Regex,
    Rule,
    Special,
    name_map_id,
    repeat_suffix,
)

__all__ = ["Backend", "UnsupportedFeature", "repeat_suffix", "rule_names"]


class UnsupportedFeature(DiagnosticError):
    """A grammar feature the target cannot express."""


class Backend:
    name: ClassVar[str] = ""
    """Target name used by ``arc emit --target``."""
    file_extension: ClassVar[str] = ".txt"

    supports_negation: ClassVar[bool] = False
    """Lexeme negation (``~``)."""
    supports_intersection: ClassVar[bool] = False
    """Lexeme intersection (``&``)."""
    supports_lexemes: ClassVar[bool] = False
    """A lexer with greedy lexemes separate from CFG rules."""
    supports_bounded_repeat: ClassVar[bool] = False
    """``x{m,n}`` on rules."""
    supports_json_schema: ClassVar[bool] = False
    """Embedded JSON Schema."""
    supports_special_tokens: ClassVar[bool] = False
    """Special tokens by name."""
    supports_parametric: ClassVar[bool] = False
    """llguidance's parametric rules (``rule::_``). No backend prints them: the IR has none,
    and engines without them need the rules unrolled anyway."""
    supports_recursion: ClassVar[bool] = True
    """Recursive rules (every context-free target; not a regular expression)."""
    supports_dot: ClassVar[bool] = False
    """The dialect has an any-character ``.``. Printers never use it (nor ``\\w``, ``\\d``):
    engines disagree on whether it matches a newline and on what a word character is, so
    classes are always written out."""
    max_llguidance_version: ClassVar[tuple[int, int] | None] = None
    """For Lark read by a pinned llguidance: the newest ``(major, minor)`` whose features the
    output may use (None: no pin)."""
    json_output: ClassVar[bool] = False
    """A grammar that is one embedded JSON schema (JSON output) is printed through the
    target's own JSON-schema form, so the driver runs no lowerings for it."""
    lowerings: ClassVar[tuple[str, ...]] = ()
    """Names of the GrammarIR → GrammarIR passes the driver runs, in order, before
    :meth:`emit`: ``"char-level"`` turns every lexeme into CFG rules (for targets without a
    lexer: the printer then sees only lowercase rules of ``Lit``, ``CharClass``, ``Ref``,
    ``Seq``, ``Alt``, ``Repeat``, ``Empty``, plus ``JsonSchema``/``Special``, which it
    refuses); ``"regular"`` inlines the whole grammar into its start rule (for the regex
    target); ``"json-only"`` refuses anything but one embedded JSON schema (json-schema)."""
    readers: ClassVar[tuple[str, ...]] = ()
    """Names of the engines that read what :meth:`emit` prints (``ananke.engines`` maps
    them to engines; ``arc test``, the differential tests and the benchmarks ask here). A
    request body declares none: engines read the grammar of its ``inner`` dialect."""

    def emit(self, grammar: Grammar) -> str:
        raise NotImplementedError

    def print_expr(self, expr: Expr, rule: Rule) -> str:
        method = getattr(self, f"print_{expr.__struct_config__.tag}", None)
        if method is None:
            raise AssertionError(f"{self.name}: no printer for grammar node {type(expr).__name__}")
        result: str = method(expr, rule)
        return result

    def unsupported(self, code: str, message: str) -> None:
        raise UnsupportedFeature(
            [Diagnostic(code=code, severity="error", message=f"{self.name}: {message}")]
        )


class CharLevelBackend(Backend):
    """A target without a lexer: it prints the output of the ``char-level`` lowering, where
    no regex, negation or intersection is left, and cannot hold an embedded JSON schema or
    name a special token (``target-cannot-express``)."""

    lowerings: ClassVar[tuple[str, ...]] = ("char-level",)
    dialect: ClassVar[str] = "this dialect"
    """How messages name the dialect ("plain Lark", "a regular expression")."""
    start_name: ClassVar[str] = "root"
    """What the start rule is called."""
    name_chars: ClassVar[str] = "a-z0-9"
    """The characters of rule names (a regex class body); others become ``name_sep``."""
    name_sep: ClassVar[str] = "-"
    reserved_names: ClassVar[tuple[str, ...]] = ()
    """Names no rule but the start rule may take."""
    defines: ClassVar[str] = " ::= "
    """What stands between a rule's name and its body."""
    comment_prefix: ClassVar[str] = "# "
    """How a line comment starts."""

    _names: dict[str, str]

    def emit(self, grammar: Grammar) -> str:
        """The start rule first, then the others, each named per the dialect."""
        for rule in grammar.rules:
            if rule.lexeme:
                raise AssertionError(f"{self.name}: lexeme {rule.name} left after char-level")
        # The shared instance stays stateless: the names live on a copy made for this call.
        printer = type(self)()
        printer._names = rule_names(
            (r.name for r in grammar.rules),
            grammar.start,
            root=self.start_name,
            allowed=self.name_chars,
            sep=self.name_sep,
            reserved=self.reserved_names,
        )
        names_id = name_map_id(printer._names)
        first = [r for r in grammar.rules if r.name == grammar.start]
        rest = [r for r in grammar.rules if r.name != grammar.start]
        prefix = self.comment_prefix
        lines = [f"{prefix}{c}".rstrip() for c in grammar.comment.splitlines()]
        for rule in (*first, *rest):
            lines.extend(f"{prefix}{c}".rstrip() for c in rule.comment.splitlines())
            body = printer.body_text(names_id, rule)
            lines.append(f"{printer._names[rule.name]}{self.defines}{body}")
        return "\n".join(lines) + "\n"

    def body_text(self, names_id: int, rule: Rule) -> str:
        """``rule``'s body printed, cached by the id of the rule-name map it is printed
        with (:func:`name_map_id`): the grammars of many constraint sets share most rules
        and name them alike."""
        key = (self.name, names_id, rule.body)
        text = _BODIES.get(key)
        if text is None:
            if len(_BODIES) > 1 << 16:
                _BODIES.clear()
            text = _BODIES[key] = self.print_expr(rule.body, rule)
        return text

    def print_json(self, node: JsonSchema, rule: Rule) -> str:
        self.unsupported(
            "target-cannot-express",
            f"rule `{rule.name}` embeds a JSON schema, which {self.dialect} cannot hold; "
            "use the llguidance or json-schema target",
        )
        raise AssertionError("unreachable")

    def print_special(self, node: Special, rule: Rule) -> str:
        self.unsupported(
            "target-cannot-express",
            f"rule `{rule.name}` uses the special token <|{node.name}|>, which {self.dialect} "
            "cannot name; use the llguidance target",
        )
        raise AssertionError("unreachable")

    def print_regex(self, node: Regex, rule: Rule) -> str:
        raise AssertionError(f"{self.name}: regex in `{rule.name}` left after char-level")

    def print_not(self, node: Not, rule: Rule) -> str:
        raise AssertionError(f"{self.name}: negation in `{rule.name}` left after char-level")

    def print_and(self, node: And, rule: Rule) -> str:
        raise AssertionError(f"{self.name}: intersection in `{rule.name}` left after char-level")


_BODIES: dict[tuple[str, int, Expr], str] = {}


def rule_names(
    names: Iterable[str], start: str, *, root: str, allowed: str, sep: str, reserved: Iterable[str]
) -> dict[str, str]:
    """A one-to-one map from GrammarIR rule names to a dialect's names.

    ``start`` becomes ``root``; every other name keeps the characters matching the regex
    class ``allowed`` (others become ``sep``), starts with a letter, and avoids ``root``,
    ``reserved`` and every name already given (a numeric suffix settles clashes).
    """
    bad = re.compile(f"[^{allowed}]+")
    taken = {root, *reserved}
    out = {start: root}
    for name in names:
        if name in out:
            continue
        base = bad.sub(sep, name.lower()).strip(sep) or "rule"
        if not base[0].isalpha():
            base = f"r{sep}{base}"
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}{sep}{n}"
        taken.add(candidate)
        out[name] = candidate
    return out
