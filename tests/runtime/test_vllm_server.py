"""A real vLLM server enforces the request body ``arc emit --target vllm`` prints.

The server (``vllm_server.py``) serves a tiny random model with the guidance backend; the
requests here are plain HTTP, as any client sends them. Every output is checked with
llguidance on the grammar inside the body: accepted, or, when cut at ``max_tokens``, a
prefix the grammar allows. A control shows the check is not vacuous: the same prompts
without the grammar produce text the grammar rejects.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.vllm_server import (
    ENDED_EARLY,
    EXAMPLE,
    ROOT,
    WORKER,
    VLLMServer,
    vllm_python,
)
from tests.suite_helpers import require_module

PROMPT = "# Return the user's id from the request.\n"
SYSTEM = "Write one Python function."
MAX_TOKENS = 48

JSON_SOURCE = """\
schema User {
    id: int;
    email: str;
}

constraint user_json {
    language: json;
    returns: User;
}
"""


def _body(target: str = "vllm", source: str | None = None) -> dict[str, Any]:
    import ananke

    module = ananke.compile(source) if source else ananke.load(EXAMPLE)
    body: dict[str, Any] = json.loads(ananke.emit(module, target))
    return body


@pytest.fixture(scope="module")
def body() -> dict[str, Any]:
    return _body()


@pytest.fixture(scope="module")
def matcher(body: dict[str, Any]) -> Any:
    from ananke.engines.acceptance import ByteMatcher

    return ByteMatcher(body["structured_outputs"]["grammar"])


def _request(
    server: VLLMServer, chat: bool, stream: bool, seed: int, extra: dict[str, Any]
) -> dict[str, Any]:
    """A request as a client builds it: the sampling settings, then the grammar's body."""
    request: dict[str, Any] = {
        "model": server.model,
        "max_tokens": MAX_TOKENS,
        "temperature": 1.0,
        "seed": seed,
        "stream": stream,
    }
    if chat:
        request["messages"] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": PROMPT},
        ]
    else:
        request["prompt"] = PROMPT
    if stream:
        request["stream_options"] = {"include_usage": True}
    return {**request, **extra}


def _generate(server: VLLMServer, request: dict[str, Any]) -> tuple[str, str, int]:
    """(text, finish reason, completion tokens) of one request, streamed or not."""
    import httpx

    chat = "messages" in request
    url = f"{server.url}/v1/{'chat/completions' if chat else 'completions'}"
    if not request["stream"]:
        response = httpx.post(url, json=request, timeout=120)
        assert response.status_code == 200, response.text
        data = response.json()
        [choice] = data["choices"]
        text = choice["message"]["content"] if chat else choice["text"]
        return text or "", choice["finish_reason"], data["usage"]["completion_tokens"]
    parts: list[str] = []
    finish = ""
    tokens = -1
    done = False
    with httpx.stream("POST", url, json=request, timeout=120) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            payload = line.removeprefix("data: ")
            if payload == "[DONE]":
                done = True
                break
            chunk = json.loads(payload)
            for choice in chunk["choices"]:
                delta = choice["delta"].get("content") if chat else choice["text"]
                parts.append(delta or "")
                finish = choice.get("finish_reason") or finish
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    assert done, "the stream ended without [DONE]"
    return "".join(parts), finish, tokens


def _allowed(matcher: Any, text: str, finish: str) -> tuple[bool, str]:
    """Whether the grammar accepts ``text``, or (cut at max_tokens) allows it as a prefix."""
    verdict = matcher.check(text)
    if verdict.accepted:
        return True, "accepted"
    if finish == "length" and verdict.offset == len(text.encode()) and verdict.error == ENDED_EARLY:
        return True, "allowed prefix"
    return False, f"rejected at byte {verdict.offset}: {verdict.error}"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("chat", [False, True], ids=["completions", "chat"])
def test_the_server_enforces_the_emitted_grammar(
    vllm_server: VLLMServer, body: dict[str, Any], matcher: Any, chat: bool, stream: bool
) -> None:
    for seed in (1, 2):
        request = _request(vllm_server, chat, stream, seed, body)
        text, finish, tokens = _generate(vllm_server, request)
        assert finish in ("stop", "length"), finish
        assert 0 < tokens <= MAX_TOKENS
        if finish == "length":
            assert tokens == MAX_TOKENS
        ok, why = _allowed(matcher, text, finish)
        assert ok, f"seed {seed}: {why}\n{text!r}"


def test_without_the_grammar_the_output_is_rejected(vllm_server: VLLMServer, matcher: Any) -> None:
    # The control: the check above must be able to fail. The random model's free text is
    # not a Python function; for each seed, the grammar's verdict on it is recorded.
    verdicts = []
    for seed in range(1, 6):
        text, finish, _ = _generate(vllm_server, _request(vllm_server, False, False, seed, {}))
        verdicts.append(_allowed(matcher, text, finish))
    assert any(not ok for ok, _ in verdicts), verdicts


def test_a_json_schema_body_is_enforced(vllm_server: VLLMServer) -> None:
    from ananke.engines.acceptance import ByteMatcher

    body = _body(source=JSON_SOURCE)
    schema = body["structured_outputs"]["json"]
    import llguidance

    # The schema through llguidance's JSON-schema compiler, with whitespace as vLLM's
    # server allows it by default, checks the outputs.
    grammar = llguidance.LLMatcher.grammar_from_json_schema(
        json.dumps(schema), defaults={"whitespace_flexible": True}
    )
    matcher = ByteMatcher(grammar)
    for seed in (1, 2):
        text, finish, _ = _generate(vllm_server, _request(vllm_server, False, False, seed, body))
        ok, why = _allowed(matcher, text, finish)
        assert ok, f"seed {seed}: {why}\n{text!r}"
        if finish == "stop":
            document = json.loads(text)
            assert isinstance(document["id"], int) and isinstance(document["email"], str)


def _worker(server_python: Path, command: str, data: Any) -> Any:
    done = subprocess.run(
        [str(server_python), str(WORKER), command],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def offline() -> VLLMServer:
    """The vLLM environment without a server: what the request-model checks need."""
    return VLLMServer(url="http://127.0.0.1:9", model="tiny", python=vllm_python())


def test_request_bodies_pass_vllms_own_request_models(offline: VLLMServer) -> None:
    grammar_body = _body()
    json_body = _body(source=JSON_SOURCE)
    requests = [
        {"endpoint": "chat" if chat else "completions", "body": _request(offline, chat, s, 1, b)}
        for chat in (False, True)
        for s in (False, True)
        for b in (grammar_body, json_body)
    ]
    # The control: a removed field, which vLLM would silently ignore, is reported.
    removed = {"guided_grammar": grammar_body["structured_outputs"]["grammar"]}
    control = {"endpoint": "completions", "body": _request(offline, False, False, 1, removed)}
    requests.append(control)
    results = _worker(offline.python, "requests", requests)
    assert len(results) == len(requests)
    *ours, control = results
    for request, result in zip(requests[:-1], ours, strict=True):
        assert "error" not in result, result
        assert result["unknown"] == [], result["unknown"]
        assert result["structured_outputs"] == request["body"]["structured_outputs"]
        assert result["max_tokens"] == MAX_TOKENS
    assert control["unknown"] == ["guided_grammar"]
    assert control["structured_outputs"] is None


def test_request_models_refuse_two_constraints(offline: VLLMServer) -> None:
    # The control of the check above: vLLM's validation runs, and refuses what it must.
    both = {"structured_outputs": {"grammar": 'start: "a"', "regex": "a"}}
    [result] = _worker(
        offline.python,
        "requests",
        [{"endpoint": "completions", "body": _request(offline, False, False, 1, both)}],
    )
    assert "error" in result and "one kind of structured outputs" in result["error"]


require_module("httpx")


def test_a_grammar_the_server_refuses_is_a_400_with_its_reason(vllm_server: VLLMServer) -> None:
    import httpx

    body = {"structured_outputs": {"grammar": "start: missing_rule\n"}}
    request = _request(vllm_server, False, False, 1, body)
    response = httpx.post(f"{vllm_server.url}/v1/completions", json=request, timeout=120)
    assert response.status_code == 400, response.text
    assert "missing_rule" in response.json()["error"]["message"]


def test_the_removed_guided_fields_are_ignored(vllm_server: VLLMServer, matcher: Any) -> None:
    # Why the bodies never carry them: vLLM answers 200 and does not constrain the output.
    grammar = matcher.grammar
    verdicts = []
    for seed in (1, 2, 3):
        request = _request(vllm_server, False, False, seed, {"guided_grammar": grammar})
        text, finish, _ = _generate(vllm_server, request)
        verdicts.append(_allowed(matcher, text, finish))
    assert any(not ok for ok, _ in verdicts), verdicts
