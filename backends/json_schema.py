"""JSON Schema: the target for output that is one JSON value and nothing else.

Spec: JSON Schema as the engines take it (vLLM ``structured_outputs.json``, SGLang
``json_schema``, outlines-core ``json_schema.build_regex_from_schema``, llguidance
``json_schema``); checked against llguidance 1.9.1 and outlines-core 0.2.14. Takes the
reference grammar as it is (its one pass, ``json-only``, refuses any other grammar) and
prints the embedded schema, reformatted, when the start rule is exactly one ``JsonSchema``
node (after following rules that only refer to another rule).

Known deviations: none for schemas; every other grammar is refused
(``target-cannot-express``), because a JSON schema expresses only JSON output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ananke.ir.grammar import Grammar, JsonSchema, Ref
from ananke.ir.lowerings import CannotLower, GrammarPass

from .base import Backend, Capabilities

if TYPE_CHECKING:
    from ananke.ir.diagnostics import Diagnostics

__all__ = ["JsonOnly", "JsonSchemaBackend"]


@dataclass(frozen=True)
class JsonOnly:
    """The ``json-only`` lowering: the grammar unchanged when it is one embedded JSON
    schema, refused otherwise (``target-cannot-express``)."""

    name = "json-only"

    def run(self, grammar: Grammar, diags: Diagnostics) -> Grammar:
        if start_schema(grammar) is None:
            raise CannotLower(
                "target-cannot-express",
                "a JSON schema expresses one JSON document only, and this grammar's start rule "
                "is not one embedded schema",
                grammar.start,
                (),
            )
        return grammar


class JsonSchemaBackend(Backend):
    name: ClassVar[str] = "json-schema"
    readers: ClassVar[tuple[str, ...]] = ("llguidance-json", "xgrammar-json", "outlines-json")
    file_extension: ClassVar[str] = ".json"
    capabilities: ClassVar[Capabilities] = Capabilities(json_schema=True)
    json_output: ClassVar[bool] = True
    passes: ClassVar[tuple[GrammarPass, ...]] = (JsonOnly(),)

    def emit(self, grammar: Grammar) -> str:
        body = start_schema(grammar)
        if body is None:
            self.unsupported(
                grammar.rule(grammar.start),
                "a JSON schema expresses only JSON output, and this grammar's start rule is "
                "not one embedded schema; use a grammar target (llguidance, xgrammar, gbnf)",
            )
        return json.dumps(json.loads(body.schema), indent=2, ensure_ascii=False) + "\n"


def start_schema(grammar: Grammar) -> JsonSchema | None:
    """The JSON schema ``grammar`` stands for: its start rule's body, through rules that
    only refer to another (as the printer writes it), when that is one embedded schema."""
    body = grammar.rule(grammar.start).body
    seen = {grammar.start}
    while isinstance(body, Ref) and body.name not in seen:
        seen.add(body.name)
        body = grammar.rule(body.name).body
    return body if isinstance(body, JsonSchema) else None
