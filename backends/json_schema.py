"""JSON Schema: the target for output that is one JSON value and nothing else.

Spec: JSON Schema as the engines take it (vLLM ``structured_outputs.json``, SGLang
``json_schema``, outlines-core ``json_schema.build_regex_from_schema``, llguidance
``json_schema``); checked against llguidance 1.9.1 and outlines-core 0.2.14. Takes the
reference grammar as it is (no lowerings) and prints the embedded schema, reformatted,
when the start rule is exactly one ``JsonSchema`` node (after following rules that only
refer to another rule).

Known deviations: none for schemas; every other grammar is refused
(``target-cannot-express``), because a JSON schema expresses only JSON output.
"""

from __future__ import annotations

import json
from typing import ClassVar

from ananke.ir.grammar import Grammar, JsonSchema, Ref

from .base import Backend

__all__ = ["JsonSchemaBackend"]


class JsonSchemaBackend(Backend):
    name: ClassVar[str] = "json-schema"
    readers: ClassVar[tuple[str, ...]] = ("llguidance-json", "xgrammar-json", "outlines-json")
    file_extension: ClassVar[str] = ".json"
    supports_json_schema: ClassVar[bool] = True
    json_output: ClassVar[bool] = True
    lowerings: ClassVar[tuple[str, ...]] = ("json-only",)
    supports_recursion: ClassVar[bool] = False

    def emit(self, grammar: Grammar) -> str:
        body = start_schema(grammar)
        if body is None:
            self.unsupported(
                "target-cannot-express",
                "a JSON schema expresses only JSON output, and this grammar's start rule is "
                "not one embedded schema; use a grammar target (llguidance, xgrammar, gbnf)",
            )
            raise AssertionError("unreachable")
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
