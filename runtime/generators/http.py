"""What every generator that talks HTTP shares: the client, timeouts, retries, server-sent
events, and the mapping of every failure to a :class:`ServiceError`.

* URLs: ``http://host:port`` with or without a trailing ``/v1`` (and a trailing ``/``).
* ``Authorization: Bearer <api_key>`` when the options carry a key.
* Timeouts: ``connect_timeout`` to open the connection, ``first_token_timeout`` for the
  first byte of the response (and for any silence after it), ``total_timeout`` for the
  whole call, retries and the model lookup included.
* Retries: a dropped or refused connection, 429 and 5xx are retried up to
  ``options.retries`` times, after ``uniform(0, min(cap, base * 2**attempt))`` seconds
  ("full jitter"), or after the server's ``Retry-After`` (seconds or an HTTP date), capped.
  A response that has started is never retried: generation is not free.
* Failures, each with a page under ``spec/diagnostics/``: ``inference-unreachable``,
  ``inference-timeout``, ``inference-refused`` (400 and 422: the server refused the request
  or the grammar; the grammar is saved to a file), ``inference-error``,
  ``inference-bad-response``.
* Cancellation (the task cancelled, Ctrl-C) closes the response and its connection, so the
  server sees the client go and aborts the request; nothing is written.

:class:`OpenAICompatible` holds the OpenAI-style ``/v1/completions`` and
``/v1/chat/completions`` exchange that vLLM, SGLang and llama.cpp all speak.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import hashlib
import json
import os
import random
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from ..protocol import Completion, FinishReason, GenerationRequest, ServiceError, ServiceOptions

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Call",
    "HTTPGenerator",
    "OpenAICompatible",
    "base_url",
    "finish",
    "retry_delay",
    "save_grammar",
    "sse_data",
]

_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_SNIPPET = 300


def base_url(url: str) -> str:
    """``url`` without a trailing ``/`` or ``/v1``: the server's root."""
    root = url.strip().rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    if "://" not in root:
        root = "http://" + root
    return root


def retry_delay(
    attempt: int,
    retry_after: str | None,
    *,
    base: float,
    cap: float,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    rand: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first): the server's
    ``Retry-After`` when it sent one (capped at ``cap``), else full jitter."""
    if retry_after:
        value = retry_after.strip()
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            seconds = (when - now()).total_seconds() if when is not None else -1.0
            if when is not None and seconds < 0:
                seconds = 0.0
        if seconds >= 0:
            return min(seconds, cap)
    return rand(0.0, min(cap, base * 2**attempt))


def save_grammar(text: str, suffix: str, save_dir: str | None) -> str:
    """Write ``text`` to ``save_dir`` (default: the temporary folder) atomically; its path.

    The name holds the text's hash, so saving the same grammar twice writes one file."""
    folder = Path(save_dir) if save_dir else Path(tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    final = folder / f"ananke-refused-{digest}{suffix}"
    fd, tmp = tempfile.mkstemp(prefix=".ananke-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return str(final)


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The ``data`` of each server-sent event in ``lines``, ``[DONE]`` included.

    Comment lines (``:`` pings) and other fields are skipped; the ``data:`` lines of one
    event are joined with newlines, as the standard says."""
    data: list[str] = []
    async for line in lines:
        if line == "":
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def server_message(body: bytes) -> str:
    """The server's own error message in ``body``: OpenAI's and vLLM's ``{"error":
    {"message": ...}}``, vLLM's older flat ``{"message": ...}``, FastAPI's ``{"detail":
    ...}``, or the body's text."""
    text = body.decode("utf-8", "replace").strip()
    try:
        doc = json.loads(text)
    except ValueError:
        return _snippet(text) or "(empty body)"
    if isinstance(doc, dict):
        error = doc.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        for key in ("message", "detail"):
            if isinstance(doc.get(key), str):
                return str(doc[key])
        if isinstance(doc.get("detail"), list):
            return _snippet(json.dumps(doc["detail"]))
    return _snippet(text)


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"


def _is_dns_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, socket.gaierror):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


@dataclass
class Call:
    """One call's clock: when it started and when the first byte of content came."""

    started: float = field(default_factory=time.perf_counter)
    first: float | None = None


class HTTPGenerator:
    """The shared machinery; a subclass builds the request and reads the response."""

    name: ClassVar[str]
    target: ClassVar[str]
    default_url: ClassVar[str] = "http://127.0.0.1:8000"
    key_variable: ClassVar[str] = "ANANKE_API_KEY"
    """The environment variable the key is read from, named in the advice for a 401."""
    token_slack: ClassVar[int] = 0
    """Tokens a response may run past ``max_tokens`` before it counts as malformed."""
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 30.0

    def __init__(self, options: ServiceOptions | None = None) -> None:
        self.options = options or ServiceOptions()
        self.chat = self.options.chat
        self.url = base_url(self.options.url or self.default_url)
        self.model = self.options.model or ""
        self._model_lock = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None

    # -- to be written by each generator -------------------------------------------------

    async def _complete(self, request: GenerationRequest, call: Call) -> Completion:
        raise NotImplementedError

    def grammar_file(self, body: dict[str, Any]) -> tuple[str, str]:
        """The grammar in ``body`` as a file's text and suffix, for a refused request."""
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n", ".json"

    # -- the public protocol ---------------------------------------------------------------

    async def complete(self, request: GenerationRequest) -> Completion:
        call = Call()
        opts = self.options
        try:
            async with asyncio.timeout(opts.total_timeout):
                completion = await self._complete(request, call)
        except TimeoutError:
            raise ServiceError(
                code="inference-timeout",
                message=f"{self.name}: no complete response from {self.url} within "
                f"{opts.total_timeout:g} s (total timeout)",
                help="raise the total timeout, or lower --max-tokens",
                retryable=True,
            ) from None
        except ServiceError:
            raise
        except Exception as exc:
            # A transport failure once the answer has started; anything else is a bug.
            error = self._transport_error(exc)
            if error is None:
                raise
            raise error from None
        limit = request.max_tokens + self.token_slack
        if completion.completion_tokens is not None and completion.completion_tokens > limit:
            raise ServiceError(
                code="inference-bad-response",
                message=f"{self.name}: the service returned {completion.completion_tokens} "
                f"tokens for a request of at most {request.max_tokens}",
                help="the server does not honour max_tokens; check its version and settings",
            )
        return completion

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    # -- HTTP ------------------------------------------------------------------------------

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            opts = self.options
            headers = {"User-Agent": "ananke-arc"}
            if opts.api_key:
                headers["Authorization"] = f"Bearer {opts.api_key}"
            self._client = httpx.AsyncClient(
                headers=headers,
                timeout=httpx.Timeout(
                    connect=opts.connect_timeout,
                    read=opts.first_token_timeout,
                    write=opts.connect_timeout,
                    pool=opts.total_timeout,
                ),
            )
        return self._client

    async def open(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        request: GenerationRequest | None = None,
    ) -> httpx.Response:
        """The response to ``method path`` once its status is 2xx, body unread (the caller
        closes it); retries what may be retried, raises :class:`ServiceError` otherwise."""
        import httpx

        client = self.client()
        url = self.url + path
        opts = self.options
        for attempt in range(opts.retries + 1):
            last = attempt == opts.retries
            retry_after: str | None = None
            try:
                response = await client.send(
                    client.build_request(method, url, json=payload), stream=True
                )
            except httpx.ConnectTimeout:
                raise ServiceError(
                    code="inference-timeout",
                    message=f"{self.name}: could not connect to {url} within "
                    f"{opts.connect_timeout:g} s (connect timeout)",
                    help="check that the server is running and reachable, or raise the "
                    "connect timeout",
                    retryable=True,
                ) from None
            except httpx.ReadTimeout:
                raise self._first_token_timeout(url) from None
            except httpx.ConnectError as exc:
                if _is_dns_failure(exc) or last:
                    raise self._unreachable(url, exc) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if last:
                    raise ServiceError(
                        code="inference-unreachable",
                        message=f"{self.name}: {url} closed the connection before it "
                        f"answered ({exc or type(exc).__name__})",
                        help="check the server's log: it may have crashed or restarted",
                        retryable=True,
                    ) from None
            else:
                if response.is_success:
                    return response
                try:
                    body = await response.aread()
                finally:
                    await response.aclose()
                if response.status_code not in _RETRY_STATUSES or last:
                    self._raise_status(response.status_code, body, url, request)
                retry_after = response.headers.get("retry-after")
            await asyncio.sleep(
                retry_delay(
                    attempt,
                    retry_after,
                    base=self.backoff_base,
                    cap=self.retry_after_cap if retry_after else self.backoff_cap,
                )
            )
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_json(self, path: str) -> Any:
        response = await self.open("GET", path)
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        return self.parse_json(body, path)

    async def post_json(
        self, path: str, payload: dict[str, Any], request: GenerationRequest
    ) -> Any:
        response = await self.open("POST", path, payload, request)
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        return self.parse_json(body, path)

    @contextlib.asynccontextmanager
    async def post_stream(
        self, path: str, payload: dict[str, Any], request: GenerationRequest
    ) -> AsyncIterator[AsyncIterator[str]]:
        """The ``data`` of each event of the streamed response to ``POST path``."""
        response = await self.open("POST", path, payload, request)
        try:
            if "event-stream" not in response.headers.get("content-type", ""):
                doc = self.parse_json(await response.aread(), path)
                raise self.bad_shape(path, doc, "one JSON document for a streamed request")
            yield sse_data(response.aiter_lines())
        finally:
            # On cancellation too: closing an unfinished response drops its connection,
            # which is how the server learns to abort the request.
            await response.aclose()

    def parse_json(self, data: bytes | str, where: str) -> Any:
        try:
            return json.loads(data)
        except ValueError:
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            raise ServiceError(
                code="inference-bad-response",
                message=f"{self.name}: {where} answered with malformed JSON: "
                f"{_snippet(text) or '(empty body)'}",
                help="check that the URL points at the service --backend names",
            ) from None

    def bad_shape(self, where: str, doc: Any, what: str) -> ServiceError:
        return ServiceError(
            code="inference-bad-response",
            message=f"{self.name}: unexpected response from {where} ({what}): "
            f"{_snippet(json.dumps(doc, ensure_ascii=False, default=str))}",
            help="check that the URL points at the service --backend names",
        )

    def stream_cut(self, where: str) -> ServiceError:
        return ServiceError(
            code="inference-bad-response",
            message=f"{self.name}: the stream from {where} ended before its last event",
            help="the server may have crashed or restarted mid-request: check its log",
            retryable=True,
        )

    # -- the model -------------------------------------------------------------------------

    async def resolve_model(self) -> str:
        """``options.model``, or the one model ``GET /v1/models`` lists."""
        if self.model:
            return self.model
        async with self._model_lock:
            if not self.model:
                doc = await self.get_json("/v1/models")
                try:
                    ids = [str(m["id"]) for m in doc["data"]]
                except (KeyError, TypeError) as exc:
                    raise self.bad_shape("/v1/models", doc, f"no {exc}") from None
                if len(ids) != 1:
                    listed = ", ".join(ids) if ids else "none"
                    raise ServiceError(
                        code="inference-error",
                        message=f"{self.name}: {self.url} serves {len(ids)} models "
                        f"({listed}); say which one",
                        help="pass --model NAME",
                    )
                self.model = ids[0]
        return self.model

    # -- failures --------------------------------------------------------------------------

    def _unreachable(self, url: str, exc: BaseException) -> ServiceError:
        dns = _is_dns_failure(exc)
        root: BaseException = exc
        while root.__cause__ is not None or root.__context__ is not None:
            root = root.__cause__ or root.__context__  # type: ignore[assignment]
        if dns:
            reason = "the host name does not resolve"
        elif isinstance(root, ConnectionRefusedError):
            reason = "connection refused"
        else:
            reason = str(root) or type(root).__name__
        return ServiceError(
            code="inference-unreachable",
            message=f"{self.name}: cannot reach {url}: {reason}",
            help="check the host name in --url"
            if dns
            else "start the server, or check --url and the port it listens on",
            retryable=not dns,
        )

    def _first_token_timeout(self, url: str) -> ServiceError:
        return ServiceError(
            code="inference-timeout",
            message=f"{self.name}: {url} sent nothing for {self.options.first_token_timeout:g} s "
            "(first-token timeout)",
            help="the server may be overloaded or queueing; raise the first-token timeout",
            retryable=True,
        )

    def _transport_error(self, exc: Exception) -> ServiceError | None:
        import httpx

        if isinstance(exc, httpx.ReadTimeout):
            return self._first_token_timeout(self.url)
        if isinstance(exc, httpx.TransportError):
            return ServiceError(
                code="inference-bad-response",
                message=f"{self.name}: the connection to {self.url} broke mid-response "
                f"({exc or type(exc).__name__})",
                help="the server may have crashed or restarted mid-request: check its log",
                retryable=True,
            )
        if isinstance(exc, httpx.HTTPError | UnicodeDecodeError):
            return ServiceError(
                code="inference-bad-response",
                message=f"{self.name}: could not read the response of {self.url}: {exc}",
            )
        return None

    def _raise_status(
        self, status: int, body: bytes, url: str, request: GenerationRequest | None
    ) -> NoReturn:
        message = server_message(body)
        if status in (400, 422) and request is not None:
            text, suffix = self.grammar_file(request.body)
            saved: str | None
            try:
                saved = save_grammar(text, suffix, self.options.save_dir)
                note = f"the grammar sent is saved in {saved}"
            except OSError as exc:
                saved, note = None, f"the grammar could not be saved: {exc}"
            raise ServiceError(
                code="inference-refused",
                message=f"{self.name}: the server refused the request (HTTP {status}): {message}",
                help="run `arc check` on the constraints; check the server's grammar backend "
                "and the target --backend uses",
                notes=(note,),
                saved=saved,
            )
        if status in (401, 403):
            raise ServiceError(
                code="inference-error",
                message=f"{self.name}: {url} refused the credentials (HTTP {status}): {message}",
                help=f"set the API key in the environment variable {self.key_variable}",
            )
        if status == 404:
            raise ServiceError(
                code="inference-error",
                message=f"{self.name}: {url} not found (HTTP 404): {message}",
                help="check --model against the models the server lists (GET /v1/models), "
                "and that --url and --backend name the right service",
            )
        raise ServiceError(
            code="inference-error",
            message=f"{self.name}: {url} failed (HTTP {status}): {message}",
            help="check the server's log" if status >= 500 else None,
            retryable=status in _RETRY_STATUSES,
        )


def finish(raw: object) -> FinishReason:
    if raw in ("stop", "eos", "word", "end_turn", "tool_calls"):
        return "stop"
    if raw in ("length", "limit", "max_tokens", "max_output_tokens"):
        return "length"
    return "other"


class OpenAICompatible(HTTPGenerator):
    """``/v1/completions`` (``Prompt.text``) or ``/v1/chat/completions`` (system and user
    messages), streamed or not, with ``request.body`` merged into the request."""

    completions_path: ClassVar[str] = "/v1/completions"
    chat_path: ClassVar[str] = "/v1/chat/completions"
    send_model: ClassVar[bool] = True

    def payload(self, request: GenerationRequest, model: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.send_model:
            out["model"] = model
        if self.chat:
            messages = []
            if request.prompt.system:
                messages.append({"role": "system", "content": request.prompt.system})
            messages.append({"role": "user", "content": request.prompt.user})
            out["messages"] = messages
        else:
            out["prompt"] = request.prompt.text
        out["max_tokens"] = request.max_tokens
        out["temperature"] = request.temperature
        if request.seed is not None:
            out["seed"] = request.seed
        if request.stop:
            out["stop"] = list(request.stop)
        out["stream"] = self.options.stream
        if self.options.stream:
            out["stream_options"] = {"include_usage": True}
        out.update(request.body)
        return out

    async def model_for(self) -> str:
        return await self.resolve_model() if self.send_model else self.model

    async def _complete(self, request: GenerationRequest, call: Call) -> Completion:
        model = await self.model_for()
        path = self.chat_path if self.chat else self.completions_path
        payload = self.payload(request, model)
        if not self.options.stream:
            doc = await self.post_json(path, payload, request)
            return self._parse(doc, path, call)
        parts: list[str] = []
        raw_finish = ""
        usage: Any = None
        served = model
        done = False
        async with self.post_stream(path, payload, request) as events:
            async for data in events:
                if data == "[DONE]":
                    done = True
                    break
                chunk = self.parse_json(data, path)
                try:
                    if isinstance(chunk, dict) and "error" in chunk:
                        self._stream_error(chunk, path)
                    served = chunk.get("model") or served
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or ():
                        piece = (
                            (choice.get("delta") or {}).get("content")
                            if self.chat
                            else choice.get("text")
                        )
                        if piece:
                            if call.first is None:
                                call.first = time.perf_counter()
                            parts.append(piece)
                        raw_finish = choice.get("finish_reason") or raw_finish
                except (AttributeError, TypeError) as exc:
                    raise self.bad_shape(path, chunk, str(exc)) from None
        if not done:
            raise self.stream_cut(path)
        tokens, prompt_tokens = self._usage(usage, path)
        return Completion(
            text="".join(parts),
            finish_reason=finish(raw_finish),
            completion_tokens=tokens,
            prompt_tokens=prompt_tokens,
            model=str(served),
            seconds=time.perf_counter() - call.started,
            first_token_seconds=None if call.first is None else call.first - call.started,
            raw_finish_reason=str(raw_finish or ""),
        )

    def _stream_error(self, chunk: dict[str, Any], path: str) -> NoReturn:
        error = chunk["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise ServiceError(
            code="inference-error",
            message=f"{self.name}: the server reported an error mid-stream on {path}: {message}",
            help="check the server's log",
        )

    def _usage(self, usage: Any, path: str) -> tuple[int | None, int | None]:
        if usage is None:
            return None, None
        if not isinstance(usage, dict):
            raise self.bad_shape(path, usage, "usage is not an object")
        tokens, prompt = usage.get("completion_tokens"), usage.get("prompt_tokens")
        if not isinstance(tokens, int | None) or not isinstance(prompt, int | None):
            raise self.bad_shape(path, usage, "token counts are not integers")
        return tokens, prompt

    def _parse(self, doc: Any, path: str, call: Call) -> Completion:
        try:
            if "error" in doc and "choices" not in doc:
                self._stream_error(doc, path)
            choice = doc["choices"][0]
            text = choice["message"]["content"] if self.chat else choice["text"]
            raw_finish = choice.get("finish_reason") or ""
            if not isinstance(text, str | None):
                raise TypeError("the text is not a string")
        except (KeyError, IndexError, TypeError) as exc:
            raise self.bad_shape(path, doc, f"{type(exc).__name__}: {exc}") from None
        tokens, prompt_tokens = self._usage(doc.get("usage"), path)
        return Completion(
            text=text or "",
            finish_reason=finish(raw_finish),
            completion_tokens=tokens,
            prompt_tokens=prompt_tokens,
            model=str(doc.get("model") or self.model),
            seconds=time.perf_counter() - call.started,
            raw_finish_reason=str(raw_finish),
        )
