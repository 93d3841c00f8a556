"""SGLang's server (``python -m sglang.launch_server``): ``--backend sglang``.

Two endpoints; the URL picks one:

* ``--url http://host:30000`` (or ``.../v1``): the OpenAI-compatible endpoints,
  ``/v1/completions`` or with ``options.chat`` ``/v1/chat/completions``, with the grammar
  fields ``arc emit --target sglang`` prints at the top level of the body (``ebnf``, or
  ``response_format`` for JSON output), as SGLang's ``CompletionRequest`` and
  ``ChatCompletionRequest`` read them. Streamed like vLLM's.
* ``--url http://host:30000/generate``: the native ``/generate`` endpoint, ``{"text":
  Prompt.text, "sampling_params": {...}}`` with ``max_new_tokens``, ``temperature``,
  ``sampling_seed``, ``stop`` and the grammar inside ``sampling_params`` (``ebnf``, or
  ``json_schema`` as a JSON string: SGLang's ``SamplingParams`` has no ``response_format``).
  It takes text only (no chat messages) and is not streamed: its stream carries the whole
  text so far or only the new part depending on a server flag the client cannot see.
  The answer's ``meta_info`` holds ``finish_reason`` (``{"type": "stop"|"length"|...}``)
  and the token counts.

Errors come back as ``{"object": "error", "message": ..., "code": 400}`` (OpenAI-compatible)
or ``{"error": {"message": ...}}`` (native). SGLang runs Ananke's EBNF with its default
XGrammar grammar backend.
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

from ..protocol import Completion, GenerationRequest, ServiceError, ServiceOptions
from .http import Call, OpenAICompatible, finish

__all__ = ["SGLangGenerator"]


class SGLangGenerator(OpenAICompatible):
    name: ClassVar[str] = "sglang"
    target: ClassVar[str] = "sglang"
    default_url: ClassVar[str] = "http://127.0.0.1:30000"
    key_variable: ClassVar[str] = "SGLANG_API_KEY"

    def __init__(self, options: ServiceOptions | None = None) -> None:
        super().__init__(options)
        self.native = self.url.endswith("/generate")
        if self.native:
            self.url = self.url[: -len("/generate")]

    def grammar_file(self, body: dict[str, Any]) -> tuple[str, str]:
        if isinstance(body.get("ebnf"), str):
            return body["ebnf"], ".ebnf"
        return super().grammar_file(body)

    def sampling_params(self, request: GenerationRequest) -> dict[str, Any]:
        """The native endpoint's ``sampling_params``, the grammar included."""
        params: dict[str, Any] = {
            "max_new_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.seed is not None:
            params["sampling_seed"] = request.seed
        if request.stop:
            params["stop"] = list(request.stop)
        for key, value in request.body.items():
            if key == "response_format" and isinstance(value, dict):
                schema = (value.get("json_schema") or {}).get("schema")
                params["json_schema"] = json.dumps(schema)
            else:
                params[key] = value
        return params

    async def _complete(self, request: GenerationRequest, call: Call) -> Completion:
        if not self.native:
            return await super()._complete(request, call)
        if self.chat:
            raise ServiceError(
                code="inference-error",
                message="sglang: the native /generate endpoint takes text, not chat messages",
                help="drop the chat option, or use the OpenAI-compatible URL (without /generate)",
            )
        payload = {
            "text": request.prompt.text,
            "sampling_params": self.sampling_params(request),
            "stream": False,
        }
        doc = await self.post_json("/generate", payload, request)
        try:
            if isinstance(doc, list):  # a batch of one
                (doc,) = doc
            text = doc["text"]
            meta = doc["meta_info"]
            reason = meta.get("finish_reason")
            raw = reason.get("type", "") if isinstance(reason, dict) else str(reason or "")
            tokens = meta.get("completion_tokens")
            prompt_tokens = meta.get("prompt_tokens")
            if not isinstance(text, str) or not isinstance(tokens, int | None):
                raise TypeError("text or completion_tokens of the wrong type")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self.bad_shape("/generate", doc, f"{type(exc).__name__}: {exc}") from None
        return Completion(
            text=text,
            finish_reason=finish(raw),
            completion_tokens=tokens,
            prompt_tokens=prompt_tokens if isinstance(prompt_tokens, int) else None,
            model=self.model,
            seconds=time.perf_counter() - call.started,
            raw_finish_reason=raw,
        )
