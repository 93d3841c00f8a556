"""vLLM's OpenAI-compatible server (``vllm serve``): ``--backend vllm``.

``POST /v1/completions`` with ``Prompt.text``, or with ``options.chat``
``POST /v1/chat/completions`` with the system and user messages; ``model``,
``max_tokens``, ``temperature``, ``seed`` and ``stop`` when set, ``stream`` (with
``stream_options: {"include_usage": true}``, so that a streamed answer still says how many
tokens it used), and the grammar as ``arc emit --target vllm`` prints it:
``{"structured_outputs": {"grammar": ...}}`` or ``{"structured_outputs": {"json": ...}}``.
The ``guided_*`` fields are never sent: vLLM 0.12 removed them and ignores them silently.
Without ``--model`` the server's one model (``GET /v1/models``) is used.

A grammar vLLM refuses comes back as HTTP 400 with ``{"error": {"message": "Grammar
error: ...", "type": "BadRequestError", "code": 400}}``: ``inference-refused``. Serve with
``--structured-outputs-config.backend guidance`` for Ananke's grammars.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .http import OpenAICompatible

__all__ = ["VLLMGenerator"]


class VLLMGenerator(OpenAICompatible):
    name: ClassVar[str] = "vllm"
    target: ClassVar[str] = "vllm"
    default_url: ClassVar[str] = "http://127.0.0.1:8000"
    key_variable: ClassVar[str] = "VLLM_API_KEY"

    def grammar_file(self, body: dict[str, Any]) -> tuple[str, str]:
        outputs = body.get("structured_outputs")
        if isinstance(outputs, dict) and isinstance(outputs.get("grammar"), str):
            return outputs["grammar"], ".lark"
        return super().grammar_file(body)
