"""The HTTP generators (vllm, sglang, llamacpp, openai) against a local fault-injecting
server that speaks each wire format: the exact bodies they send, the completions they read,
and one ServiceError code per failure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from ananke.engines.membership import get_engine
from ananke.runtime.generators import create, http
from ananke.runtime.generators.http import base_url, retry_delay, sse_data
from ananke.runtime.protocol import (
    Completion,
    GenerationRequest,
    Prompt,
    ServiceError,
    ServiceOptions,
)

import ananke

from .fault_server import (
    TEXT,
    Cut,
    Delay,
    Drop,
    FaultServer,
    Hang,
    Malformed,
    Overlong,
    Slow,
    Status,
    StreamError,
    closed_port,
    full_backlog,
    tokens_of,
)

ROOT = Path(__file__).resolve().parents[2]
PROMPT = Prompt(system="You write Python.", user="return the user's id", text="# id\n")
VLLM_GRAMMAR_ERROR = {
    # vLLM's ErrorResponse for a grammar llguidance rejects (HTTP 400).
    "error": {
        "message": "Grammar error: lark: unknown name: 'stmt' at line 3",
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }
}


@cache
def emitted(target: str) -> dict[str, Any]:
    """The body `arc emit --target` prints for the seed example."""
    body: dict[str, Any] = json.loads(
        ananke.emit(ananke.load(ROOT / "examples" / "api_handler.ariadne"), target)
    )
    return body


@pytest.fixture(scope="module")
def json_bodies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    source = tmp_path_factory.mktemp("json") / "record.ariadne"
    source.write_text(
        "schema User { id: int; email: str; }\n"
        "constraint user_record { language: json; returns: User; }\n",
        encoding="utf-8",
    )
    module = ananke.load(source)
    return {t: json.loads(ananke.emit(module, t)) for t in ("vllm", "sglang", "openai")}


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


def make(name: str, url: str | None, **options: Any) -> Any:
    gen = create(name, options=ServiceOptions(url=url, **options))
    gen.backoff_base = 0.01  # keep retries fast; the delays themselves are tested below
    return gen


def request(body: dict[str, Any], **fields: Any) -> GenerationRequest:
    return GenerationRequest(prompt=PROMPT, body=body, **fields)


def run(gen: Any, req: GenerationRequest) -> Completion:
    async def go() -> Completion:
        try:
            result: Completion = await gen.complete(req)
            return result
        finally:
            await gen.aclose()

    return asyncio.run(go())


def failure(gen: Any, req: GenerationRequest) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        run(gen, req)
    return info.value


def keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from keys(v)
    elif isinstance(node, list):
        for v in node:
            yield from keys(v)


def expected_text(limit: int) -> str:
    return "".join(tokens_of(TEXT)[:limit])


N_TOKENS = len(tokens_of(TEXT))


# -- the bodies each generator sends and what it reads back ---------------------------------


@pytest.mark.parametrize("stream", [True, False])
def test_vllm_completions(server: FaultServer, stream: bool) -> None:
    body = emitted("vllm")
    gen = make("vllm", server.url, stream=stream, api_key="key-123")
    out = run(gen, request(body, max_tokens=200, temperature=0.7, seed=5, stop=("\n\n\n",)))
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", "/v1/models"),
        ("POST", "/v1/completions"),
    ]
    sent = server.posts()[0]
    expected = {
        "model": "tiny-model",
        "prompt": PROMPT.text,
        "max_tokens": 200,
        "temperature": 0.7,
        "seed": 5,
        "stop": ["\n\n\n"],
        "stream": stream,
        "structured_outputs": body["structured_outputs"],
    }
    if stream:
        expected["stream_options"] = {"include_usage": True}
    assert sent.body == expected
    assert not [k for k in keys(sent.body) if k.startswith("guided_")]
    assert sent.headers["authorization"] == "Bearer key-123"
    assert out.text == TEXT
    assert (out.finish_reason, out.raw_finish_reason) == ("stop", "stop")
    assert (out.completion_tokens, out.prompt_tokens) == (N_TOKENS, 7)
    assert out.model == "tiny-model"
    assert (out.first_token_seconds is not None) == stream
    assert out.seconds > 0


@pytest.mark.parametrize("stream", [True, False])
def test_vllm_chat_cut_at_max_tokens(server: FaultServer, stream: bool) -> None:
    body = emitted("vllm")
    gen = make("vllm", server.url + "/v1/", chat=True, stream=stream, model="served")
    out = run(gen, request(body, max_tokens=4))
    assert [r.path for r in server.requests] == ["/v1/chat/completions"]  # no model lookup
    sent = server.posts()[0]
    assert sent.body["messages"] == [
        {"role": "system", "content": PROMPT.system},
        {"role": "user", "content": PROMPT.user},
    ]
    assert sent.body["model"] == "served"
    assert "seed" not in sent.body and "stop" not in sent.body and "prompt" not in sent.body
    assert "authorization" not in sent.headers
    assert sent.body["structured_outputs"] == body["structured_outputs"]
    assert out.text == expected_text(4)
    assert (out.finish_reason, out.completion_tokens) == ("length", 4)


def test_vllm_json_body(server: FaultServer, json_bodies: dict[str, dict[str, Any]]) -> None:
    body = json_bodies["vllm"]
    assert set(body["structured_outputs"]) == {"json"}
    run(make("vllm", server.url, model="m"), request(body))
    assert server.posts()[0].body["structured_outputs"] == body["structured_outputs"]


def test_vllm_several_models_need_a_name() -> None:
    with FaultServer(models=("a", "b")) as server:
        err = failure(make("vllm", server.url), request(emitted("vllm")))
    assert err.code == "inference-error"
    assert "2 models (a, b)" in err.message and err.help == "pass --model NAME"
    assert server.posts() == []


@pytest.mark.parametrize("stream", [True, False])
def test_sglang_openai_compatible(server: FaultServer, stream: bool) -> None:
    body = emitted("sglang")
    out = run(make("sglang", server.url, stream=stream), request(body, max_tokens=3, seed=1))
    sent = server.posts("/v1/completions")[0]
    assert sent.body["ebnf"] == body["ebnf"]  # at the top level, as SGLang reads it
    assert (sent.body["max_tokens"], sent.body["seed"], sent.body["model"]) == (3, 1, "tiny-model")
    assert out.text == expected_text(3) and out.finish_reason == "length"


def test_sglang_native_generate(server: FaultServer) -> None:
    body = emitted("sglang")
    gen = make("sglang", server.url + "/generate")
    out = run(gen, request(body, max_tokens=100, temperature=0.2, seed=9, stop=("###",)))
    assert [r.path for r in server.requests] == ["/generate"]
    assert server.posts()[0].body == {
        "text": PROMPT.text,
        "sampling_params": {
            "max_new_tokens": 100,
            "temperature": 0.2,
            "sampling_seed": 9,
            "stop": ["###"],
            "ebnf": body["ebnf"],
        },
        "stream": False,
    }
    assert out.text == TEXT
    assert (out.finish_reason, out.completion_tokens, out.prompt_tokens) == ("stop", N_TOKENS, 7)


def test_sglang_native_json_schema(
    server: FaultServer, json_bodies: dict[str, dict[str, Any]]
) -> None:
    body = json_bodies["sglang"]
    run(make("sglang", server.url + "/generate"), request(body, max_tokens=2))
    params = server.posts()[0].body["sampling_params"]
    # SamplingParams has no response_format: the schema goes in json_schema, as a string.
    assert "response_format" not in params
    assert json.loads(params["json_schema"]) == body["response_format"]["json_schema"]["schema"]


def test_sglang_native_has_no_chat(server: FaultServer) -> None:
    err = failure(make("sglang", server.url + "/generate", chat=True), request({}))
    assert err.code == "inference-error" and "chat" in err.message
    assert server.requests == []


# SGLang 0.5.23's request models, read from its source (sglang cannot be imported without
# torch and a GPU stack): the fields its OpenAI-compatible requests and SamplingParams take.
# Where sglang is installed, `python -m tests.runtime.sglang_check` parses the bodies with
# its own models.
SGLANG_COMPLETION_FIELDS = {
    "model", "prompt", "max_tokens", "temperature", "seed", "stop", "stream",
    "stream_options", "json_schema", "regex", "ebnf", "response_format",
}  # fmt: skip
SGLANG_CHAT_FIELDS = SGLANG_COMPLETION_FIELDS - {"prompt", "json_schema"} | {"messages"}
SGLANG_SAMPLING_FIELDS = {
    "max_new_tokens", "stop", "temperature", "json_schema", "regex", "ebnf", "sampling_seed",
}  # fmt: skip


@pytest.mark.parametrize("chat", [False, True])
def test_sglang_fields_are_sglangs(
    server: FaultServer, json_bodies: dict[str, dict[str, Any]], chat: bool
) -> None:
    allowed = SGLANG_CHAT_FIELDS if chat else SGLANG_COMPLETION_FIELDS
    for body in (emitted("sglang"), json_bodies["sglang"]):
        run(make("sglang", server.url, chat=chat), request(body, seed=1, stop=("x",)))
        run(make("sglang", server.url + "/generate"), request(body, seed=1, stop=("x",)))
    for sent in server.posts():
        if sent.path == "/generate":
            assert set(sent.body) == {"text", "sampling_params", "stream"}
            assert set(sent.body["sampling_params"]) <= SGLANG_SAMPLING_FIELDS
        else:
            assert set(sent.body) <= allowed, set(sent.body) - allowed


@pytest.mark.parametrize("stream", [True, False])
def test_llamacpp_completion(server: FaultServer, stream: bool) -> None:
    body = emitted("llamacpp")
    gen = make("llamacpp", server.url, stream=stream)
    out = run(gen, request(body, max_tokens=6, temperature=0.5, seed=3, stop=("\n\n",)))
    assert [r.path for r in server.requests] == ["/completion"]
    assert server.posts()[0].body == {
        "prompt": PROMPT.text,
        "n_predict": 6,
        "temperature": 0.5,
        "seed": 3,
        "stop": ["\n\n"],
        "stream": stream,
        "grammar": body["grammar"],
    }
    assert out.text == expected_text(6)
    assert (out.finish_reason, out.raw_finish_reason) == ("length", "limit")
    assert (out.completion_tokens, out.prompt_tokens, out.model) == (6, 7, "tiny.gguf")
    assert out.extra["timings"]["predicted_n"] == 6
    assert (out.first_token_seconds is not None) == stream


def test_llamacpp_eos_and_chat(server: FaultServer) -> None:
    body = emitted("llamacpp")
    out = run(make("llamacpp", server.url), request(body, max_tokens=500))
    assert (out.text, out.finish_reason, out.raw_finish_reason) == (TEXT, "stop", "eos")
    chat = run(make("llamacpp", server.url, chat=True, model="m"), request(body))
    sent = server.posts("/v1/chat/completions")[0]
    assert sent.body["grammar"] == body["grammar"] and "messages" in sent.body
    assert chat.text == expected_text(512)


def test_llamacpp_reads_the_grammar_it_was_sent(server: FaultServer) -> None:
    # llama.cpp's own grammar engine (through node-llama-cpp) loads the GBNF as received.
    engine = get_engine("llamacpp-gbnf")
    if not engine.available():
        pytest.skip("node-llama-cpp is not installed (npm ci --prefix engines/llamacpp)")
    run(make("llamacpp", server.url), request(emitted("llamacpp")))
    compiled = engine.compile(server.posts()[0].body["grammar"])
    head = "def get_user(user_id: int) -> Result[Response, Error]:\n"
    assert compiled.accepts(head + "    return Ok(Response(user_id))\n")
    assert not compiled.accepts(head + "    return eval(user_id)\n")


def test_openai_custom_tool_through_the_sdk(server: FaultServer) -> None:
    body = emitted("openai")
    gen = make("openai", server.url, model="gpt-5", api_key="sk-test")
    out = run(gen, request(body, max_tokens=300, temperature=1.0))
    sent = server.posts("/v1/responses")[0]
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.body == {
        "model": "gpt-5",
        "input": [
            {"role": "system", "content": PROMPT.system},
            {"role": "user", "content": PROMPT.user},
        ],
        "max_output_tokens": 300,
        "temperature": 1.0,
        "tools": [body],
        "tool_choice": {"type": "custom", "name": body["name"]},
    }
    assert body["format"]["syntax"] == "lark"
    assert out.text == TEXT
    assert (out.finish_reason, out.completion_tokens, out.prompt_tokens) == ("stop", N_TOKENS, 7)


def test_openai_model_that_refuses_temperature(server: FaultServer) -> None:
    message = (
        "Unsupported value: 'temperature' does not support 0 with this model. "
        "Only the default (1) value is supported."
    )
    refusal = {"message": message, "type": "invalid_request_error", "param": "temperature",
               "code": "unsupported_value"}  # fmt: skip
    server.plan("/v1/responses", Status(400, {"error": refusal}))
    gen = make("openai", server.url, model="gpt-5", api_key="sk")

    async def go() -> list[Completion]:
        outs = [await gen.complete(request(emitted("openai"))) for _ in range(2)]
        await gen.aclose()
        return outs

    first, second = asyncio.run(go())
    sent = [r.body for r in server.posts()]
    assert [("temperature" in b) for b in sent] == [True, False, False]
    assert first.text == second.text == TEXT
    assert first.extra == second.extra == {"ignored": {"temperature": message}}


def test_openai_json_and_truncation(
    server: FaultServer, json_bodies: dict[str, dict[str, Any]]
) -> None:
    body = json_bodies["openai"]
    gen = make("openai", server.url + "/v1", model="gpt-5", api_key="sk")
    out = run(gen, request(body, max_tokens=3))
    sent = server.posts("/v1/responses")[0]
    assert sent.body["text"] == body["text"] and "tools" not in sent.body
    assert (out.text, out.finish_reason) == (expected_text(3), "length")
    assert out.raw_finish_reason == "max_output_tokens"


# -- faults -----------------------------------------------------------------------------------


def test_connection_refused_is_retried_then_unreachable() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    err = failure(make("vllm", url, model="m", retries=2), request(emitted("vllm")))
    assert err.code == "inference-unreachable"
    assert err.message.endswith(f"cannot reach {url}/v1/completions: connection refused")
    assert err.retryable


def test_a_refused_connection_is_retried_until_the_server_is_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []

    def counted(*args: Any, **kwargs: Any) -> float:
        waits.append(retry_delay(*args, **kwargs))
        return waits[-1]

    monkeypatch.setattr(http, "retry_delay", counted)
    port = closed_port()
    gen = make("llamacpp", f"http://127.0.0.1:{port}", retries=8)
    gen.backoff_base = 0.1

    async def go() -> Completion:
        gen.client()  # made (and httpx imported) before the clock starts
        task = asyncio.create_task(gen.complete(request({})))
        await asyncio.sleep(0.05)  # the first try is refused
        with FaultServer(port=port) as server:
            out: Completion = await task
            await gen.aclose()
            assert len(server.posts()) == 1
        return out

    assert asyncio.run(go()).text == TEXT
    assert len(waits) >= 1  # refused at least once, then retried


def test_dns_failure_is_unreachable() -> None:
    err = failure(make("llamacpp", "http://no-such-host.invalid:8080"), request({}))
    assert err.code == "inference-unreachable"
    assert "no-such-host.invalid" in err.message and "does not resolve" in err.message
    assert not err.retryable


def test_connect_timeout() -> None:
    with full_backlog() as port:
        gen = make("vllm", f"http://127.0.0.1:{port}", model="m", connect_timeout=0.2)
        err = failure(gen, request({}))
    assert err.code == "inference-timeout"
    assert "0.2 s (connect timeout)" in err.message


def test_first_token_timeout(server: FaultServer) -> None:
    server.plan("/v1/completions", Delay(1.0))
    gen = make("vllm", server.url, model="m", first_token_timeout=0.2)
    err = failure(gen, request({}))
    assert err.code == "inference-timeout"
    assert "0.2 s (first-token timeout)" in err.message


def test_a_hang_times_out_and_the_connection_is_closed(server: FaultServer) -> None:
    server.plan("/v1/completions", Hang())
    gen = make("vllm", server.url, model="m", first_token_timeout=0.2)

    async def go() -> None:
        with pytest.raises(ServiceError) as info:
            await gen.complete(request({}))
        assert info.value.code == "inference-timeout"
        assert await asyncio.to_thread(server.wait_disconnect)
        await gen.aclose()

    asyncio.run(go())
    assert server.disconnects == ["/v1/completions"]


def test_total_timeout_mid_stream(server: FaultServer) -> None:
    server.plan("/v1/completions", Slow(0.05))
    gen = make("vllm", server.url, model="m", total_timeout=0.3)

    async def go() -> None:
        with pytest.raises(ServiceError) as info:
            await gen.complete(request({}))
        assert info.value.code == "inference-timeout"
        assert "0.3 s (total timeout)" in info.value.message
        assert await asyncio.to_thread(server.wait_disconnect)
        await gen.aclose()

    asyncio.run(go())


def test_cancellation_closes_the_connection(server: FaultServer, tmp_path: Path) -> None:
    server.plan("/v1/completions", Slow(0.02))
    gen = make("vllm", server.url, model="m", save_dir=str(tmp_path))

    async def go() -> None:
        task = asyncio.create_task(gen.complete(request(emitted("vllm"))))
        while not server.posts():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # mid-stream
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The server sees the connection close at once, not when the generator is closed.
        assert await asyncio.to_thread(server.wait_disconnect)
        # The generator still works after a cancelled request.
        out = await gen.complete(request({}, max_tokens=2))
        assert out.text == expected_text(2)
        await gen.aclose()

    asyncio.run(go())
    assert server.wait_disconnect()
    assert server.disconnects == ["/v1/completions"]
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_429_with_retry_after_then_success(server: FaultServer) -> None:
    busy = {"error": {"message": "busy", "type": "RateLimitError", "code": 429}}
    server.plan("/v1/completions", Status(429, busy, {"Retry-After": "0"}))
    out = run(make("vllm", server.url, model="m"), request({}))
    assert out.text == TEXT
    assert len(server.posts()) == 2
    assert server.posts()[0].body == server.posts()[1].body


def test_5xx_then_success_and_dropped_connection(server: FaultServer) -> None:
    server.plan("/completion", Status(503, {"error": {"message": "Loading model"}}), Drop())
    out = run(make("llamacpp", server.url), request({}))
    assert out.text == TEXT and len(server.posts()) == 3


def test_5xx_forever(server: FaultServer) -> None:
    server.plan("/v1/completions", *[Status(500, {"message": "CUDA out of memory"})] * 5)
    err = failure(make("vllm", server.url, model="m", retries=2), request({}))
    assert err.code == "inference-error"
    assert "HTTP 500" in err.message and "CUDA out of memory" in err.message
    assert len(server.posts()) == 3 and err.retryable


@pytest.mark.parametrize(
    ("name", "suffix", "path", "field", "extension"),
    [
        ("vllm", "", "/v1/completions", ("structured_outputs", "grammar"), ".lark"),
        ("sglang", "/generate", "/generate", ("ebnf",), ".ebnf"),
        ("llamacpp", "", "/completion", ("grammar",), ".gbnf"),
    ],
)
def test_refused_grammar_is_saved(
    server: FaultServer,
    tmp_path: Path,
    name: str,
    suffix: str,
    path: str,
    field: tuple[str, ...],
    extension: str,
) -> None:
    server.plan(path, Status(400, VLLM_GRAMMAR_ERROR))
    body = emitted(name)
    gen = make(name, server.url + suffix, model="m", save_dir=str(tmp_path / "saved"))
    err = failure(gen, request(body))
    assert err.code == "inference-refused"
    assert "HTTP 400" in err.message and "Grammar error: lark: unknown name" in err.message
    assert err.saved is not None and err.saved.endswith(extension)
    grammar: Any = body
    for key in field:
        grammar = grammar[key]
    assert Path(err.saved).read_text(encoding="utf-8") == grammar
    assert any(err.saved in note for note in err.notes)
    assert [p.name for p in (tmp_path / "saved").iterdir()] == [Path(err.saved).name]
    assert len(server.posts()) == 1  # a refusal is not retried


def test_422_is_refused_too(server: FaultServer, tmp_path: Path) -> None:
    detail = {"detail": [{"loc": ["body", "max_tokens"], "msg": "Input should be an integer"}]}
    server.plan("/v1/completions", Status(422, detail))
    err = failure(make("vllm", server.url, model="m", save_dir=str(tmp_path)), request({}))
    assert err.code == "inference-refused" and "Input should be an integer" in err.message


@pytest.mark.parametrize(
    ("status", "needle", "help_needle"),
    [
        (401, "refused the credentials (HTTP 401)", "VLLM_API_KEY"),
        (403, "refused the credentials (HTTP 403)", "VLLM_API_KEY"),
        (404, "not found (HTTP 404)", "--model"),
        (418, "failed (HTTP 418)", ""),
    ],
)
def test_other_statuses(server: FaultServer, status: int, needle: str, help_needle: str) -> None:
    server.plan("/v1/completions", Status(status, {"error": {"message": "the reason"}}))
    err = failure(make("vllm", server.url, model="m"), request({}))
    assert err.code == "inference-error"
    assert needle in err.message and "the reason" in err.message
    assert help_needle in (err.help or "")
    assert len(server.posts()) == 1


@pytest.mark.parametrize("stream", [True, False])
def test_malformed_json(server: FaultServer, stream: bool) -> None:
    server.plan("/v1/completions", Malformed())
    err = failure(make("vllm", server.url, model="m", stream=stream), request({}))
    assert err.code == "inference-bad-response" and "malformed JSON" in err.message


def test_unexpected_shape(server: FaultServer) -> None:
    server.plan("/v1/completions", Status(200, {"completions": []}))
    err = failure(make("vllm", server.url, model="m", stream=False), request({}))
    assert err.code == "inference-bad-response" and "unexpected response" in err.message


@pytest.mark.parametrize(
    ("name", "path", "stream"),
    [
        ("vllm", "/v1/completions", True),
        ("vllm", "/v1/completions", False),
        ("llamacpp", "/completion", True),
        ("sglang", "/v1/completions", True),
    ],
)
def test_stream_cut_midway(server: FaultServer, name: str, path: str, stream: bool) -> None:
    server.plan(path, Cut(events=3))
    err = failure(make(name, server.url, model="m", stream=stream), request({}))
    assert err.code == "inference-bad-response"
    assert "broke mid-response" in err.message
    assert len(server.posts()) == 1  # a started answer is not retried


def test_stream_without_its_end(server: FaultServer) -> None:
    # A stream that ends cleanly but without `data: [DONE]` (or llama.cpp's stop event).
    events = "data: " + json.dumps({"choices": []}) + "\n\n"
    server.plan("/v1/completions", Status(200, events, {"Content-Type": "text/event-stream"}))
    err = failure(make("vllm", server.url, model="m"), request({}))
    assert err.code == "inference-bad-response" and "ended before its last event" in err.message


def test_error_event_mid_stream(server: FaultServer) -> None:
    server.plan("/v1/chat/completions", StreamError("engine died"))
    err = failure(make("vllm", server.url, model="m", chat=True), request({}))
    assert err.code == "inference-error" and "engine died" in err.message


@pytest.mark.parametrize(
    ("name", "path", "options"),
    [
        ("vllm", "/v1/completions", {}),
        ("vllm", "/v1/chat/completions", {"chat": True, "stream": False}),
        ("sglang", "/generate", {}),
        ("llamacpp", "/completion", {}),
        ("openai", "/v1/responses", {"api_key": "sk"}),
    ],
)
def test_more_tokens_than_max_tokens(
    server: FaultServer, name: str, path: str, options: dict[str, Any]
) -> None:
    server.plan(path, Overlong(extra=10))
    suffix = "/generate" if path == "/generate" else ""
    err = failure(make(name, server.url + suffix, model="m", **options), request({}, max_tokens=4))
    assert err.code == "inference-bad-response"
    assert "returned 14 tokens for a request of at most 4" in err.message


def test_openai_faults(server: FaultServer, tmp_path: Path) -> None:
    body = emitted("openai")

    def gen(**options: Any) -> Any:
        return make("openai", server.url, model="gpt-5", api_key="sk", **options)

    busy = Status(429, {"error": {"message": "slow down"}}, {"retry-after-ms": "10"})
    server.plan("/v1/responses", busy)
    assert run(gen(), request(body)).text == TEXT  # the SDK retried the 429
    assert len(server.posts()) == 2
    bad = {"error": {"message": "Invalid grammar: bad rule", "type": "invalid_request_error"}}
    server.plan(
        "/v1/responses",
        Status(400, bad),
        Status(401, {"error": {"message": "Incorrect API key provided"}}),
        Delay(1.0),
    )
    refused = failure(gen(save_dir=str(tmp_path)), request(body))
    assert refused.code == "inference-refused" and "Invalid grammar: bad rule" in refused.message
    assert refused.saved is not None
    assert Path(refused.saved).read_text(encoding="utf-8") == body["format"]["definition"]
    denied = failure(gen(), request(body))
    assert denied.code == "inference-error" and "OPENAI_API_KEY" in (denied.help or "")
    slow = failure(gen(first_token_timeout=0.2, retries=0), request(body))
    assert slow.code == "inference-timeout" and "first-token timeout" in slow.message


def test_openai_unreachable_and_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    url = f"http://127.0.0.1:{closed_port()}"
    err = failure(make("openai", url, model="gpt-5", api_key="sk", retries=0), request({}))
    assert err.code == "inference-unreachable"
    assert err.message == f"openai: cannot reach {url}/v1/: connection refused"
    nokey = failure(make("openai", url, model="gpt-5"), request({}))
    assert nokey.code == "inference-error" and "OPENAI_API_KEY" in (nokey.help or "")


# -- the pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("http://h:8000", "http://h:8000"),
        ("http://h:8000/", "http://h:8000"),
        ("http://h:8000/v1", "http://h:8000"),
        ("http://h:8000/v1/", "http://h:8000"),
        ("h:8000", "http://h:8000"),
        ("https://x.example/api/v1", "https://x.example/api"),
    ],
)
def test_base_url(url: str, root: str) -> None:
    assert base_url(url) == root


def test_retry_delay() -> None:
    now = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(datetime(2026, 12, 7, 12, 0, 7, tzinfo=UTC), usegmt=True)
    earlier = format_datetime(datetime(2026, 12, 7, 11, 0, 0, tzinfo=UTC), usegmt=True)

    def delay(attempt: int, header: str | None) -> float:
        return retry_delay(attempt, header, base=0.5, cap=30.0, now=lambda: now, rand=max)

    assert delay(0, "3") == 3.0
    assert delay(0, "120") == 30.0  # capped
    assert delay(0, later) == 7.0
    assert delay(0, earlier) == 0.0
    # Without a usable header: full jitter, uniform(0, base * 2**attempt), capped.
    assert [delay(a, None) for a in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert delay(10, "soon") == 30.0
    low = retry_delay(3, None, base=0.5, cap=30.0, rand=min)
    assert low == 0.0


def test_sse_data() -> None:
    lines = [": ping", "event: x", "data: {\"a\": 1}", "", "data: one", "data:two", "", "",
             "data: [DONE]", ""]  # fmt: skip

    async def collect() -> list[str]:
        async def source() -> Any:
            for line in lines:
                yield line

        return [d async for d in sse_data(source())]

    assert asyncio.run(collect()) == ['{"a": 1}', "one\ntwo", "[DONE]"]
