"""The backend base class: what a target is (its capabilities and the passes it runs),
one printer per node.

Modelled on sqlglot's dialects: a backend is a small class of declarations plus printing
methods named after the node they print (``print_lit``, ``print_regex``, ...). A node with
no printer is an internal error, never skipped. A node the target's :class:`Capabilities`
lack is refused before it reaches a printer, through :meth:`Backend.unsupported`, which
always raises: a quiet degradation would change what the model may write.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, NoReturn

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
from ananke.ir.lowerings import GrammarPass
from ananke.ir.lowerings.boundaries import GreedyBoundaries
from ananke.ir.lowerings.charlevel import CharLevel
from ananke.ir.source import Span

__all__ = [
    "Backend",
    "Capabilities",
    "CharLevelBackend",
    "UnsupportedFeature",
    "repeat_suffix",
    "rule_names",
]


_GUARDED = frozenset({JsonSchema, Special, Regex, Not, And})
"""The nodes a capability stands for."""


class UnsupportedFeature(DiagnosticError):
    """A grammar feature the target cannot express, found while printing. ``rule`` is the
    rule that holds it, ``span`` where a grammar file defines that rule (None for the rules
    Ananke builds) and ``origins`` the constraints it enforces, as :class:`CannotLower`
    has them for a refusal found while lowering."""

    def __init__(
        self,
        diagnostics: Iterable[Diagnostic],
        *,
        rule: str,
        span: Span | None = None,
        origins: tuple[str, ...] = (),
    ) -> None:
        super().__init__(diagnostics)
        self.rule = rule
        self.span = span
        self.origins = origins


@dataclass(frozen=True)
class Capabilities:
    """What a dialect writes as it is. The printer refuses a node whose capability is
    missing before any printer method sees it, and the capability matrix of
    ``spec/backends.md`` is rendered from these (:mod:`.matrix`)."""

    lexemes: bool = False
    """A lexer with greedy lexemes separate from CFG rules (``Regex`` nodes printed)."""
    negation: bool = False
    """Lexeme negation (``~``)."""
    intersection: bool = False
    """Lexeme intersection (``&``)."""
    json_schema: bool = False
    """Embedded JSON Schema."""
    special_tokens: bool = False
    """Special tokens by name."""


class Backend:
    name: ClassVar[str] = ""
    """Target name used by ``arc emit --target``."""
    file_extension: ClassVar[str] = ".txt"
    dialect: ClassVar[str] = "this dialect"
    """How messages name the dialect ("plain Lark", "a regular expression")."""
    capabilities: ClassVar[Capabilities] = Capabilities()
    json_output: ClassVar[bool] = False
    """A grammar that is one embedded JSON schema (JSON output) is printed through the
    target's own JSON-schema form, so the driver runs no passes for it."""
    passes: ClassVar[tuple[GrammarPass, ...]] = ()
    """The GrammarIR → GrammarIR lowerings the driver runs, in order, before :meth:`emit`
    (:mod:`ananke.ir.lowerings`, or beside the printer for one target only)."""
    readers: ClassVar[tuple[str, ...]] = ()
    """Names of the engines that read what :meth:`emit` prints (``ananke.engines`` maps
    them to engines; ``arc test``, the differential tests and the benchmarks ask here). A
    request body declares none: engines read the grammar of its ``inner`` dialect."""

    def emit(self, grammar: Grammar) -> str:
        raise NotImplementedError

    def print_expr(self, expr: Expr, rule: Rule) -> str:
        self._refuse_missing(expr, rule)
        method = getattr(self, f"print_{expr.__struct_config__.tag}", None)
        if method is None:
            raise AssertionError(f"{self.name}: no printer for grammar node {type(expr).__name__}")
        result: str = method(expr, rule)
        return result

    def _refuse_missing(self, expr: Expr, rule: Rule) -> None:
        if type(expr) not in _GUARDED:
            return
        caps = self.capabilities
        if isinstance(expr, JsonSchema) and not caps.json_schema:
            self.unsupported(
                rule,
                f"rule `{rule.name}` embeds a JSON schema, which {self.dialect} cannot hold; "
                "use the llguidance or json-schema target",
            )
        if isinstance(expr, Special) and not caps.special_tokens:
            self.unsupported(
                rule,
                f"rule `{rule.name}` uses the special token <|{expr.name}|>, which "
                f"{self.dialect} cannot name; use the llguidance target",
            )
        # The lowerings leave none of these for a target without them: a bug, not input.
        for node, has, what in (
            (Regex, caps.lexemes, "regex"),
            (Not, caps.negation, "negation"),
            (And, caps.intersection, "intersection"),
        ):
            if isinstance(expr, node) and not has:
                raise AssertionError(f"{self.name}: {what} in `{rule.name}` left after char-level")

    def unsupported(
        self, rule: Rule, reason: str, *, code: str = "target-cannot-express"
    ) -> NoReturn:
        """Refuse what ``rule`` holds: ``reason`` says what and what to do instead."""
        raise UnsupportedFeature(
            [Diagnostic(code=code, severity="error", message=f"{self.name}: {reason}")],
            rule=rule.name,
            span=rule.span,
            origins=rule.origins,
        )


class CharLevelBackend(Backend):
    """A target without a lexer: it prints the output of the ``char-level`` lowering, where
    no regex, negation or intersection is left, and cannot hold an embedded JSON schema or
    name a special token (``target-cannot-express``)."""

    passes: ClassVar[tuple[GrammarPass, ...]] = (GreedyBoundaries(), CharLevel())
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
