"""A local HTTP server that speaks the wire formats of the inference services and injects
faults on request.

It runs on 127.0.0.1 on a free port, in a thread with its own event loop, over real sockets
(asyncio streams, one request per connection: every response says ``Connection: close``).
It records every request (method, path, headers, JSON body) and answers, per path, the
faults queued with :meth:`FaultServer.plan` first, then normal answers in each format:

* vLLM and SGLang ``/v1/completions`` and ``/v1/chat/completions``, streamed (server-sent
  events, ``data: [DONE]``) or not, ``GET /v1/models``;
* SGLang's native ``/generate``; llama.cpp's ``/completion`` (streamed or not);
* OpenAI's ``/v1/responses`` (a ``custom_tool_call`` for a custom tool, a message for JSON).

The "model" writes :attr:`FaultServer.text` (or the next of the texts queued with
:meth:`FaultServer.say`), split into tokens at word, space and punctuation boundaries, and
stops at the request's token limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Cut",
    "Delay",
    "Drop",
    "FaultServer",
    "Hang",
    "Malformed",
    "Overlong",
    "Recorded",
    "Slow",
    "Status",
    "StreamError",
    "closed_port",
    "full_backlog",
    "tokens_of",
]

TEXT = "def get_user_id(user):\n    return user.id\n"


def tokens_of(text: str) -> list[str]:
    """The fake model's tokens: runs of word characters, of spaces, and single others."""
    return re.findall(r"\w+| +|\n|[^\w \n]", text)


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A port whose listen queue is full and never accepted: connecting to it hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port: int = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Status:
    """Answer with ``code`` and ``body`` (JSON when not a string), and ``headers``."""

    code: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` before answering normally."""

    seconds: float


@dataclass(frozen=True)
class Hang:
    """Never answer; record when the client goes away."""


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering."""


@dataclass(frozen=True)
class Malformed:
    """200 with a body that is not JSON."""


@dataclass(frozen=True)
class Cut:
    """Stream ``events`` events (or half the body, not streamed), then close the socket."""

    events: int = 2


@dataclass(frozen=True)
class Overlong:
    """A normal answer whose token count is ``extra`` more than the request allowed."""

    extra: int = 10


@dataclass(frozen=True)
class Slow:
    """Stream one event every ``interval`` seconds forever; record when the client goes."""

    interval: float = 0.05


@dataclass(frozen=True)
class StreamError:
    """Stream one event, then an ``{"error": ...}`` event, as vLLM does on a failure."""

    message: str = "engine died"


Fault = Status | Delay | Hang | Drop | Malformed | Cut | Overlong | Slow | StreamError


class FaultServer:
    """Start with ``with FaultServer() as server:``; ``server.url`` is its root."""

    def __init__(
        self, *, text: str = TEXT, models: tuple[str, ...] = ("tiny-model",), port: int = 0
    ) -> None:
        self.text = text
        self.models = models
        self.requests: list[Recorded] = []
        self.disconnects: list[str] = []
        """The paths of the requests whose client closed the connection mid-answer."""
        self.disconnected = threading.Event()
        self._plans: dict[str, deque[Fault]] = {}
        self._texts: deque[str] = deque()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = port

    # -- control ---------------------------------------------------------------------------

    def __enter__(self) -> FaultServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", self.port), self._loop
        ).result(5)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def plan(self, path: str, *faults: Fault) -> None:
        """Answer the next requests to ``path`` with ``faults``, in order."""
        with self._lock:
            self._plans.setdefault(path, deque()).extend(faults)

    def say(self, *texts: str) -> None:
        """Write ``texts`` as the next answers, one per generation, then :attr:`text`."""
        with self._lock:
            self._texts.extend(texts)

    def next_text(self) -> str:
        with self._lock:
            return self._texts.popleft() if self._texts else self.text

    def posts(self, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and path in (None, r.path)]

    def wait_disconnect(self, timeout: float = 5.0) -> bool:
        return self.disconnected.wait(timeout)

    # -- the connection --------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            raw = await reader.readexactly(int(headers.get("content-length", "0")))
            body = json.loads(raw) if raw else None
            path = target.split("?", 1)[0]
            with self._lock:
                self.requests.append(Recorded(method, path, headers, body))
                plan = self._plans.get(path)
                fault = plan.popleft() if plan else None
            await self._answer(method, path, body, fault, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
                await writer.wait_closed()

    async def _gone(self, reader: asyncio.StreamReader, path: str, wait: float | None) -> bool:
        """Whether the client closed the connection (within ``wait`` seconds)."""
        try:
            data = await asyncio.wait_for(reader.read(1), wait)
        except TimeoutError:
            return False
        except ConnectionError:
            data = b""
        if data == b"":
            with self._lock:
                self.disconnects.append(path)
            self.disconnected.set()
            return True
        return False

    async def _answer(
        self,
        method: str,
        path: str,
        body: Any,
        fault: Fault | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        if isinstance(fault, Drop):
            return
        if isinstance(fault, Hang):
            await self._gone(reader, path, None)
            return
        if isinstance(fault, Delay):
            await asyncio.sleep(fault.seconds)
        if isinstance(fault, Status):
            payload = fault.body if isinstance(fault.body, str) else json.dumps(fault.body)
            await self._send(writer, fault.code, payload.encode(), fault.headers)
            return
        if isinstance(fault, Malformed) and not (body or {}).get("stream"):
            await self._send(writer, 200, b'{"choices": [{"text": "def f(', {})
            return
        if method == "GET" and path == "/v1/models":
            data = [{"id": m, "object": "model", "owned_by": "test"} for m in self.models]
            await self._send(writer, 200, json.dumps({"object": "list", "data": data}).encode())
            return
        answer = _FORMATS.get(path)
        if answer is None or method != "POST":
            error = {
                "error": {"message": f"Not Found: {path}", "type": "NotFoundError", "code": 404}
            }
            await self._send(writer, 404, json.dumps(error).encode())
            return
        extra = fault.extra if isinstance(fault, Overlong) else 0
        events, whole = answer(self, body, extra)
        stream = bool(body.get("stream")) and path != "/v1/responses"
        if not stream:
            data = json.dumps(whole).encode()
            if isinstance(fault, Cut):
                await self._cut_body(writer, data)
                return
            await self._send(writer, 200, data)
            return
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        if isinstance(fault, Slow):
            n = 0
            while True:
                self._chunk(writer, _event(events[n % max(1, len(events) - 1)]))
                n += 1
                await writer.drain()
                if await self._gone(reader, path, fault.interval):
                    return
        if isinstance(fault, Malformed):
            events = [*events[:1], '{"choices": [{"text": "def f(']
        if isinstance(fault, StreamError):
            events = [
                *events[:1],
                {"error": {"message": fault.message, "type": "InternalServerError", "code": 500}},
            ]
        for i, event in enumerate(events):
            if isinstance(fault, Cut) and i == fault.events:
                await writer.drain()
                _abort(writer)
                return
            self._chunk(writer, _event(event))
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    @staticmethod
    def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    @staticmethod
    async def _send(
        writer: asyncio.StreamWriter, code: int, data: bytes, headers: dict[str, str] | None = None
    ) -> None:
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(code, "Status")
        headers = {"Content-Type": "application/json", **(headers or {})}
        head = [f"HTTP/1.1 {code} {reason}", f"Content-Length: {len(data)}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()

    @staticmethod
    async def _cut_body(writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data[: len(data) // 2]
        )
        await writer.drain()
        _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    transport.abort()


def _event(doc: Any) -> bytes:
    return ("data: " + (doc if isinstance(doc, str) else json.dumps(doc)) + "\n\n").encode()


def _generate(server: FaultServer, limit: int) -> tuple[list[str], bool]:
    """The tokens the fake model writes within ``limit``, and whether it was cut."""
    tokens = tokens_of(server.next_text())
    return tokens[:limit], len(tokens) > limit


def _openai_compatible(server: FaultServer, body: Any, extra: int, chat: bool) -> Any:
    tokens, cut = _generate(server, int(body.get("max_tokens") or 16))
    reason = "length" if cut else "stop"
    usage = {
        "prompt_tokens": 7,
        "completion_tokens": len(tokens) + extra,
        "total_tokens": 7 + len(tokens) + extra,
    }
    model = body.get("model", "")
    common = {"id": "cmpl-1", "created": int(time.time()), "model": model}
    if chat:
        whole = {
            **common,
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(tokens)},
                    "finish_reason": reason,
                    "stop_reason": None,
                }
            ],
            "usage": usage,
        }
        first: list[Any] = [
            {
                **common,
                "object": "chat.completion.chunk",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            }
        ]
        pieces = [
            {
                **common,
                "object": "chat.completion.chunk",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"content": t},
                        "finish_reason": reason if i == len(tokens) - 1 else None,
                    }
                ],
            }
            for i, t in enumerate(tokens)
        ]
    else:
        whole = {
            **common,
            "object": "text_completion",
            "choices": [
                {
                    "index": 0,
                    "text": "".join(tokens),
                    "logprobs": None,
                    "finish_reason": reason,
                    "stop_reason": None,
                }
            ],
            "usage": usage,
        }
        first = []
        pieces = [
            {
                **common,
                "object": "text_completion",
                "choices": [
                    {
                        "index": 0,
                        "text": t,
                        "logprobs": None,
                        "finish_reason": reason if i == len(tokens) - 1 else None,
                    }
                ],
            }
            for i, t in enumerate(tokens)
        ]
    events: list[Any] = first + pieces
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**common, "object": "text_completion", "choices": [], "usage": usage})
    events.append("[DONE]")
    return events, whole


def _sglang_native(server: FaultServer, body: Any, extra: int) -> Any:
    params = body.get("sampling_params") or {}
    tokens, cut = _generate(server, int(params.get("max_new_tokens", 128)))
    reason = {"type": "length", "length": len(tokens)} if cut else {"type": "stop", "matched": 0}
    whole = {
        "text": "".join(tokens),
        "meta_info": {
            "id": "1",
            "finish_reason": reason,
            "prompt_tokens": 7,
            "completion_tokens": len(tokens) + extra,
            "cached_tokens": 0,
        },
    }
    return [whole], whole


def _llamacpp(server: FaultServer, body: Any, extra: int) -> Any:
    n_predict = int(body.get("n_predict", -1))
    tokens, cut = _generate(server, n_predict if n_predict >= 0 else 1 << 30)
    timings = {
        "prompt_n": 7,
        "prompt_ms": 1.5,
        "predicted_n": len(tokens),
        "predicted_ms": 3.0,
        "predicted_per_second": 1000.0,
    }
    final = {
        "index": 0,
        "content": "".join(tokens),
        "tokens": [],
        "id_slot": 0,
        "stop": True,
        "model": "tiny.gguf",
        "tokens_predicted": len(tokens) + extra,
        "tokens_evaluated": 7,
        "generation_settings": {"n_predict": n_predict},
        "prompt": body.get("prompt", ""),
        "truncated": False,
        "stop_type": "limit" if cut else "eos",
        "stopping_word": "",
        "tokens_cached": 7,
        "timings": timings,
    }
    events = [
        {
            "index": 0,
            "content": t,
            "tokens": [i],
            "stop": False,
            "id_slot": 0,
            "tokens_predicted": i + 1,
            "tokens_evaluated": 7,
        }
        for i, t in enumerate(tokens)
    ]
    events.append({**final, "content": ""})
    return events, final


def _responses(server: FaultServer, body: Any, extra: int) -> Any:
    tokens, cut = _generate(server, int(body.get("max_output_tokens") or 1 << 30))
    text = "".join(tokens)
    if body.get("tools"):
        tool = body["tools"][0]
        output: list[Any] = [
            {
                "type": "custom_tool_call",
                "id": "ctc_1",
                "call_id": "call_1",
                "name": tool["name"],
                "input": text,
                "status": "completed",
            }
        ]
    else:
        output = [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ]
    whole = {
        "id": "resp_1",
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if cut else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "model": body.get("model", ""),
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "usage": {
            "input_tokens": 7,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": len(tokens) + extra,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 7 + len(tokens) + extra,
        },
    }
    return [whole], whole


_FORMATS: dict[str, Any] = {
    "/v1/completions": lambda s, b, e: _openai_compatible(s, b, e, chat=False),
    "/v1/chat/completions": lambda s, b, e: _openai_compatible(s, b, e, chat=True),
    "/generate": _sglang_native,
    "/completion": _llamacpp,
    "/v1/responses": _responses,
}
