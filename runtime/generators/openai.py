"""OpenAI's Responses API, through the ``openai`` SDK: ``--backend openai``.

The grammar is the custom tool ``arc emit --target openai`` prints (``{"type": "custom",
"name": ..., "format": {"type": "grammar", "syntax": "lark", "definition": ...}}``), sent in
``tools`` with ``tool_choice`` forcing it; the input is the system and user messages, and
the code is the ``input`` of the ``custom_tool_call`` item of the output. For JSON output
the body is ``{"text": {"format": {"type": "json_schema", ...}}}`` and the code is the
response's text. ``max_tokens`` becomes ``max_output_tokens`` (reasoning tokens count
against it); a response ``incomplete`` for ``max_output_tokens`` finished at ``length``.
``temperature`` is sent as asked; the models that take grammar tools (GPT-5) are reasoning
models that refuse any but their default (a 400 naming ``param: "temperature"``): the
request is then sent again without it, later requests leave it out, and
``Completion.extra["ignored"]`` holds ``{"temperature": <the server's message>}`` so that
the caller can say so. The Responses API has no seed, and the answer is not streamed (the
tool's input arrives whole).

The key is ``options.api_key`` (the caller reads ``OPENAI_API_KEY``); the URL
``options.url`` (with or without ``/v1``), else the SDK's own default, which honours
``OPENAI_BASE_URL``. The SDK retries connection errors, 429 and 5xx itself
(``max_retries``, ``Retry-After`` honoured); its exceptions map to Ananke's codes.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any, ClassVar

from ..protocol import Completion, GenerationRequest, ServiceError, ServiceOptions
from .http import Call, HTTPGenerator, finish

__all__ = ["OpenAIGenerator"]


class OpenAIGenerator(HTTPGenerator):
    name: ClassVar[str] = "openai"
    target: ClassVar[str] = "openai"
    default_url: ClassVar[str] = "https://api.openai.com"
    key_variable: ClassVar[str] = "OPENAI_API_KEY"

    def __init__(self, options: ServiceOptions | None = None) -> None:
        super().__init__(options)
        self._sdk: Any = None
        self._default_temperature = ""
        """The model's message when it refused ``temperature``: not sent again."""

    def grammar_file(self, body: dict[str, Any]) -> tuple[str, str]:
        fmt = body.get("format")
        if isinstance(fmt, dict) and isinstance(fmt.get("definition"), str):
            return fmt["definition"], ".lark"
        return super().grammar_file(body)

    def sdk(self) -> Any:
        if self._sdk is None:
            import openai

            opts = self.options
            try:
                self._sdk = openai.AsyncOpenAI(
                    api_key=opts.api_key,
                    base_url=self.url + "/v1" if opts.url else None,
                    max_retries=opts.retries,
                    timeout=openai.Timeout(
                        opts.total_timeout,
                        connect=opts.connect_timeout,
                        read=opts.first_token_timeout,
                    ),
                )
            except openai.OpenAIError as exc:
                raise ServiceError(
                    code="inference-error",
                    message=f"openai: {exc}",
                    help=f"set the API key in the environment variable {self.key_variable}",
                ) from None
        return self._sdk

    def arguments(self, request: GenerationRequest) -> dict[str, Any]:
        """The keyword arguments of ``responses.create``."""
        if not self.model:
            raise ServiceError(
                code="inference-error",
                message="openai: no model named",
                help="pass --model (a model that supports custom tools with grammars)",
            )
        messages = []
        if request.prompt.system:
            messages.append({"role": "system", "content": request.prompt.system})
        messages.append({"role": "user", "content": request.prompt.user})
        args: dict[str, Any] = {
            "model": self.model,
            "input": messages,
            "max_output_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.body.get("type") == "custom":
            args["tools"] = [request.body]
            args["tool_choice"] = {"type": "custom", "name": request.body["name"]}
        else:
            args.update(request.body)
        return args

    async def _complete(self, request: GenerationRequest, call: Call) -> Completion:
        import openai

        args = self.arguments(request)
        client = self.sdk()
        ignored: dict[str, str] = {}
        if self._default_temperature:
            ignored["temperature"] = self._default_temperature
            del args["temperature"]
        while True:
            try:
                response = await client.responses.create(**args)
                break
            except openai.BadRequestError as exc:
                body = exc.body if isinstance(exc.body, dict) else {}
                if body.get("param") != "temperature" or "temperature" not in args:
                    raise self._status_error(exc, request) from None
                # The models that take grammar tools are reasoning models, which accept only
                # their default temperature: ask again without it, and say so in `extra`.
                said = str(body.get("message") or exc.message)
                self._default_temperature = ignored["temperature"] = said
                del args["temperature"]
            except openai.APIStatusError as exc:
                raise self._status_error(exc, request) from None
            except openai.APIConnectionError as exc:
                raise self._connection_error(exc) from None
        completion = self._read(response, request, call)
        if ignored:
            completion = dataclasses.replace(completion, extra={"ignored": ignored})
        return completion

    def _read(self, response: Any, request: GenerationRequest, call: Call) -> Completion:
        where = "/v1/responses"
        try:
            if request.body.get("type") == "custom":
                calls = [i for i in response.output or () if i.type == "custom_tool_call"]
                text = calls[0].input if calls else None
            else:
                text = response.output_text
            status = response.status or ""
            details = response.incomplete_details
            raw = (details.reason or status) if details is not None else status
            usage = response.usage
            tokens = usage.output_tokens if usage is not None else None
            prompt_tokens = usage.input_tokens if usage is not None else None
        except (AttributeError, TypeError, IndexError) as exc:
            raise self.bad_shape(where, str(response), f"{type(exc).__name__}: {exc}") from None
        if status == "failed":
            error = getattr(response, "error", None)
            raise ServiceError(
                code="inference-error",
                message=f"openai: the response failed: {getattr(error, 'message', error)}",
            )
        if text is None:
            if raw == "max_output_tokens":
                text = ""  # cut before the tool call began: a truncated, empty result
            else:
                raise self.bad_shape(where, str(response.output), "no custom_tool_call item")
        if not isinstance(text, str) or not isinstance(tokens, int | None):
            raise self.bad_shape(where, str(response), "text or usage of the wrong type")
        reason = {"completed": "stop"}.get(str(raw), str(raw))
        return Completion(
            text=text,
            finish_reason=finish(reason),
            completion_tokens=tokens,
            prompt_tokens=prompt_tokens if isinstance(prompt_tokens, int) else None,
            model=str(response.model or self.model),
            seconds=time.perf_counter() - call.started,
            raw_finish_reason=str(raw),
        )

    def _connection_error(self, exc: Exception) -> ServiceError:
        import openai

        url = str(self.sdk().base_url)
        if isinstance(exc, openai.APITimeoutError):
            cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else ""
            if "Connect" in cause:
                which, seconds = "connect timeout", self.options.connect_timeout
            else:
                which, seconds = "first-token timeout", self.options.first_token_timeout
            return ServiceError(
                code="inference-timeout",
                message=f"openai: no answer from {url} within {seconds:g} s ({which})",
                help="raise the timeout, or try again later",
                retryable=True,
            )
        return self._unreachable(url, exc)

    def _status_error(self, exc: Any, request: GenerationRequest) -> ServiceError:
        # The SDK has parsed the body already (``exc.body`` is its ``error`` object).
        body = json.dumps(exc.body) if exc.body is not None else str(exc.message)
        url = str(self.sdk().base_url) + "responses"
        try:
            self._raise_status(int(exc.status_code), body.encode(), url, request)
        except ServiceError as err:
            return err

    async def aclose(self) -> None:
        if self._sdk is not None:
            sdk, self._sdk = self._sdk, None
            await sdk.close()
