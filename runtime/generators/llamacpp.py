"""llama.cpp's server (``llama-server``): ``--backend llamacpp``.

Without ``options.chat``: its own ``POST /completion`` with ``prompt`` (``Prompt.text``),
``n_predict``, ``temperature``, ``seed``, ``stop``, ``stream`` and the grammar as ``arc emit
--target llamacpp`` prints it (``grammar``: GBNF, or ``json_schema``). The answer holds
``content``, ``stop_type`` (``eos``, ``word``: stopped; ``limit``: ``n_predict`` reached),
``tokens_predicted``, ``tokens_evaluated`` and ``timings`` (kept in ``Completion.extra``).
Streamed, each event carries the next piece of ``content`` and the last one ``"stop":
true`` with the totals. With ``options.chat``: the OpenAI-compatible
``/v1/chat/completions``, which takes the same ``grammar`` field.

Fields as the server's README (``tools/server/README.md``) describes them. ``n_predict`` may
be exceeded by a token or two when the last token ends inside a multibyte character, so a
small excess is not reported as a malformed response.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from ..protocol import Completion, GenerationRequest
from .http import Call, OpenAICompatible, finish

__all__ = ["LlamaCppGenerator"]


class LlamaCppGenerator(OpenAICompatible):
    name: ClassVar[str] = "llamacpp"
    target: ClassVar[str] = "llamacpp"
    default_url: ClassVar[str] = "http://127.0.0.1:8080"
    key_variable: ClassVar[str] = "LLAMA_API_KEY"
    token_slack: ClassVar[int] = 3

    def grammar_file(self, body: dict[str, Any]) -> tuple[str, str]:
        if isinstance(body.get("grammar"), str):
            return body["grammar"], ".gbnf"
        return super().grammar_file(body)

    def completion_payload(self, request: GenerationRequest) -> dict[str, Any]:
        out: dict[str, Any] = {
            "prompt": request.prompt.text,
            "n_predict": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.seed is not None:
            out["seed"] = request.seed
        if request.stop:
            out["stop"] = list(request.stop)
        out["stream"] = self.options.stream
        out.update(request.body)
        return out

    async def _complete(self, request: GenerationRequest, call: Call) -> Completion:
        if self.chat:
            return await super()._complete(request, call)
        path = "/completion"
        payload = self.completion_payload(request)
        if not self.options.stream:
            doc = await self.post_json(path, payload, request)
            return self._completion(
                doc, doc.get("content") if isinstance(doc, dict) else None, call
            )
        parts: list[str] = []
        last: Any = None
        async with self.post_stream(path, payload, request) as events:
            async for data in events:
                if data == "[DONE]":
                    break
                chunk = self.parse_json(data, path)
                if not isinstance(chunk, dict):
                    raise self.bad_shape(path, chunk, "an event is not an object")
                if "error" in chunk:
                    self._stream_error(chunk, path)
                piece = chunk.get("content")
                if not isinstance(piece, str | None):
                    raise self.bad_shape(path, chunk, "content is not a string")
                if piece:
                    call.first = call.first or time.perf_counter()
                    parts.append(piece)
                if chunk.get("stop") is True:
                    last = chunk
                    break
        if last is None:
            raise self.stream_cut(path)
        return self._completion(last, "".join(parts), call)

    def _completion(self, doc: Any, text: Any, call: Call) -> Completion:
        try:
            if "error" in doc and "content" not in doc:
                self._stream_error(doc, "/completion")
            raw = doc.get("stop_type") or ""
            if not raw:  # servers before stop_type said it with booleans
                raw = next((k for k in ("eos", "word", "limit") if doc.get(f"stopped_{k}")), "")
            tokens = doc.get("tokens_predicted")
            prompt_tokens = doc.get("tokens_evaluated")
            if not isinstance(text, str) or not isinstance(tokens, int | None):
                raise TypeError("content or tokens_predicted of the wrong type")
        except (TypeError, AttributeError) as exc:
            raise self.bad_shape("/completion", doc, f"{type(exc).__name__}: {exc}") from None
        timings = doc.get("timings")
        return Completion(
            text=text,
            finish_reason=finish(raw),
            completion_tokens=tokens,
            prompt_tokens=prompt_tokens if isinstance(prompt_tokens, int) else None,
            model=str(doc.get("model") or self.model),
            seconds=time.perf_counter() - call.started,
            first_token_seconds=None if call.first is None else call.first - call.started,
            raw_finish_reason=str(raw),
            extra={"timings": timings} if isinstance(timings, dict) else {},
        )
