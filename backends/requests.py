"""Request bodies for serving stacks: the grammar wrapped in the JSON fields each server
reads, ready to merge into a request.

Each is a backend with ``file_extension = ".json"`` whose output is pretty JSON with a
trailing newline; each runs the lowerings of the dialect it wraps. Checked against vLLM
0.33 and SGLang 0.5.23 (read from their wheels), llama.cpp's server README and OpenAI's
API reference for custom tools; see ``spec/backends.md`` for examples.

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

Known deviations: those of the wrapped dialect.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ananke.ir.grammar import Grammar

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

    def body(self, grammar: Grammar, text: str) -> dict[str, Any]:
        raise NotImplementedError

    def emit(self, grammar: Grammar) -> str:
        text = self.inner().emit(grammar)
        return json.dumps(self.body(grammar, text), indent=2, ensure_ascii=False) + "\n"


def _like(inner: type[Backend]) -> dict[str, Any]:
    """The capability flags and lowerings of ``inner``, to copy onto a request class."""
    return {k: getattr(inner, k) for k in vars(Backend) if k.startswith(("supports_", "max_"))}


class VLLMRequest(RequestBackend):
    name: ClassVar[str] = "vllm"
    inner: ClassVar[type[Backend]] = LarkVLLMBackend
    lowerings: ClassVar[tuple[str, ...]] = LarkVLLMBackend.lowerings

    def body(self, grammar: Grammar, text: str) -> dict[str, Any]:
        return {"structured_outputs": {"grammar": text}}


class SGLangRequest(RequestBackend):
    name: ClassVar[str] = "sglang"
    inner: ClassVar[type[Backend]] = XGrammarBackend
    lowerings: ClassVar[tuple[str, ...]] = XGrammarBackend.lowerings

    def body(self, grammar: Grammar, text: str) -> dict[str, Any]:
        return {"ebnf": text}


class LlamaCppRequest(RequestBackend):
    name: ClassVar[str] = "llamacpp"
    inner: ClassVar[type[Backend]] = GBNFBackend
    lowerings: ClassVar[tuple[str, ...]] = GBNFBackend.lowerings

    def body(self, grammar: Grammar, text: str) -> dict[str, Any]:
        return {"grammar": text}


class OpenAIToolRequest(RequestBackend):
    name: ClassVar[str] = "openai"
    inner: ClassVar[type[Backend]] = LarkVLLMBackend
    lowerings: ClassVar[tuple[str, ...]] = LarkVLLMBackend.lowerings
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


for _cls, _inner in (
    (VLLMRequest, LarkVLLMBackend),
    (SGLangRequest, XGrammarBackend),
    (LlamaCppRequest, GBNFBackend),
    (OpenAIToolRequest, LarkVLLMBackend),
):
    for _key, _value in _like(_inner).items():
        setattr(_cls, _key, _value)
