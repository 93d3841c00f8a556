"""Request bodies for serving stacks: the grammar wrapped in the JSON fields each server
reads, ready to merge into a request.

Each is a backend with ``file_extension = ".json"`` whose output is pretty JSON with a
trailing newline; each runs the passes and has the capabilities of the dialect it wraps.
Checked against vLLM 0.33 and SGLang 0.5.23 (read from their wheels), llama.cpp's server
README and OpenAI's API reference for custom tools; see ``spec/backends.md`` for examples.

* ``vllm``: ``{"structured_outputs": {"grammar": <lark-vllm>}}`` for ``/v1/completions``
  and ``/v1/chat/completions`` (as extra body fields). Never the old ``guided_*`` fields:
  vLLM 0.12 removed them and now ignores them silently. Run the server with
  ``--structured-outputs-config.backend guidance``.
* ``sglang``: ``{"ebnf": <xgrammar EBNF>}`` for SGLang's OpenAI-compatible endpoints with
  the default XGrammar grammar backend (for the native ``/generate`` endpoint the same
  field goes inside ``sampling_params``).
* ``llamacpp``: ``{"grammar": <gbnf>}`` for llama.cpp's server ``/completion``.
* ``openai``: a custom tool for OpenAI's Responses API whose input must follow a Lark
  grammar: ``{"type": "custom", "name": ..., "description": ...,
  "format": {"type": "grammar", "syntax": "lark", "definition": <lark-vllm>}}``.

A constraint set whose output is JSON (``language: json``: the grammar is one embedded
JSON schema) uses each server's JSON-schema field instead, which every server enforces
with its own JSON machinery: ``vllm`` ``{"structured_outputs": {"json": schema}}``,
``sglang`` ``{"response_format": {"type": "json_schema", "json_schema": {"name": ...,
"schema": schema}}}``, ``llamacpp`` ``{"json_schema": schema}``, ``openai`` the Responses
API's ``{"text": {"format": {"type": "json_schema", "name": ..., "schema": schema,
"strict": true}}}``. OpenAI's strict mode needs every property of every object required:
a schema with optional fields is refused for ``openai`` (``target-cannot-express``) rather
than sent unenforced.

Known deviations: those of the wrapped dialect.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ananke.ir.grammar import Grammar, JsonSchema, Rule

from .base import Backend
from .gbnf import GBNFBackend
from .lark_vllm import LarkVLLMBackend
from .llguidance import LLGuidanceBackend
from .xgrammar import XGrammarBackend

__all__ = ["LlamaCppRequest", "OpenAIToolRequest", "RequestBackend", "SGLangRequest", "VLLMRequest"]


class RequestBackend(Backend):
    """A request body around the text of an inner dialect (``inner``)."""

    file_extension: ClassVar[str] = ".json"
    inner: ClassVar[type[Backend]] = LLGuidanceBackend
    json_output: ClassVar[bool] = True

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        # What the body can hold is what the wrapped dialect prints.
        cls.capabilities = cls.inner.capabilities
        cls.passes = cls.inner.passes
        cls.dialect = cls.inner.dialect

    def body(self, grammar: Grammar, text: str) -> dict[str, Any]:
        raise NotImplementedError

    def json_body(self, schema: dict[str, Any], rule: Rule) -> dict[str, Any]:
        """The body for JSON output validated by ``schema`` (``rule`` holds it)."""
        raise NotImplementedError

    def emit(self, grammar: Grammar) -> str:
        schema = _document_schema(grammar)
        if schema is not None:
            out = self.json_body(schema, grammar.rule(grammar.start))
        else:
            out = self.body(grammar, self.inner().emit(grammar))
        return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


def _document_schema(grammar: Grammar) -> dict[str, Any] | None:
    """The JSON schema when the whole grammar is one embedded schema, else None."""
    start = grammar.rule(grammar.start)
    if isinstance(start.body, JsonSchema):
        schema: dict[str, Any] = json.loads(start.body.schema)
        return schema
    return None


def _all_required(node: Any) -> bool:
    """Whether every object schema in ``node`` requires all of its properties."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and set(node.get("required", ())) != set(props):
            return False
        return all(_all_required(v) for v in node.values())
    if isinstance(node, list):
        return all(_all_required(v) for v in node)
    return True


class VLLMRequest(RequestBackend):
    name: ClassVar[str] = "vllm"
    inner: ClassVar[type[Backend]] = LarkVLLMBackend

    def body(self, grammar: Grammar, text: str) -> dict[str, Any]:
        return {"structured_outputs": {"grammar": text}}

    def json_body(self, schema: dict[str, Any], rule: Rule) -> dict[str, Any]:
        return {"structured_outputs": {"json": schema}}


class SGLangRequest(RequestBackend):
    name: ClassVar[str] = "sglang"
    inner: ClassVar[type[Backend]] = XGrammarBackend

    def body(self, grammar: Grammar, text: str) -> dict[str, Any]:
        return {"ebnf": text}

    def json_body(self, schema: dict[str, Any], rule: Rule) -> dict[str, Any]:
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": schema},
            }
        }


class LlamaCppRequest(RequestBackend):
    name: ClassVar[str] = "llamacpp"
    inner: ClassVar[type[Backend]] = GBNFBackend

    def body(self, grammar: Grammar, text: str) -> dict[str, Any]:
        return {"grammar": text}

    def json_body(self, schema: dict[str, Any], rule: Rule) -> dict[str, Any]:
        return {"json_schema": schema}


class OpenAIToolRequest(RequestBackend):
    name: ClassVar[str] = "openai"
    inner: ClassVar[type[Backend]] = LarkVLLMBackend
    tool_name: ClassVar[str] = "write_code"
    """The custom tool's name (OpenAI: letters, digits, ``_`` and ``-``)."""

    def body(self, grammar: Grammar, text: str) -> dict[str, Any]:
        summary = grammar.comment.strip().splitlines()[0] if grammar.comment.strip() else ""
        description = summary or "Write the output; it must follow the grammar."
        return {
            "type": "custom",
            "name": self.tool_name,
            "description": description,
            "format": {"type": "grammar", "syntax": "lark", "definition": text},
        }

    def json_body(self, schema: dict[str, Any], rule: Rule) -> dict[str, Any]:
        if not _all_required(schema):
            self.unsupported(
                rule,
                "OpenAI's strict JSON schemas need every property required, and this "
                "schema has optional ones; emit for vllm, sglang or llamacpp, or make "
                "the fields required",
            )
        return {
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": "output",
                    "schema": schema,
                    "strict": True,
                }
            }
        }
