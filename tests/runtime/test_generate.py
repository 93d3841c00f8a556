"""`arc generate` and `Ananke.generate` end to end, against the fault-injecting server
speaking vLLM's wire format: the request sent, verification, repair, the statuses and exit
codes, outputs, batches, and Ctrl-C. (The same against a real vLLM server:
test_vllm_generate.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ananke
from ananke import Ananke
from tests.cli.cli_helpers import run_arc
from tests.runtime.fault_server import FaultServer, Hang, Status
from tests.seed_example import FORBIDDEN, GOOD, HANDLER, UNVALIDATED


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(models=("tiny",)) as s:
        yield s


def generate(
    capsys: pytest.CaptureFixture[str], server: FaultServer, tmp_path: Path, *args: str | Path
) -> tuple[int, str, str]:
    return run_arc(
        capsys,
        "generate",
        *args,
        "--constraints",
        HANDLER,
        "--url",
        server.url,
        "--cache-dir",
        tmp_path / "cache",
    )


def test_a_verified_function(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.say(GOOD)
    code, out, err = generate(capsys, server, tmp_path, "return the user's id")
    assert (code, out, err) == (0, GOOD, "")
    (sent,) = server.posts("/v1/completions")
    body = sent.body
    # The grammar is the one `arc emit --target vllm` prints, in the field vLLM reads.
    emitted = json.loads(ananke.emit(ananke.load(HANDLER), "vllm"))
    assert body["structured_outputs"] == emitted["structured_outputs"]
    assert not [k for k in body if k.startswith("guided")]
    assert body["model"] == "tiny" and body["max_tokens"] == 512 and body["temperature"] == 0
    assert "return the user's id" in body["prompt"] and "`eval`, `exec`" in body["prompt"]


def test_json_output(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.say(GOOD)
    code, out, _ = generate(capsys, server, tmp_path, "x", "--output-format", "json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["status"] == "ok"
    assert result["code"] == GOOD and result["backend"] == "vllm" and result["model"] == "tiny"
    assert result["grammar"]["status"] == "accepted"
    assert result["grammar_hash"].startswith("sha256:") and len(result["grammar_hash"]) == 23
    ids = {c.id for c in ananke.load(HANDLER).sets[0].constraints}
    assert {v["id"] for v in result["verdicts"]} == ids
    assert all(v["held"] for v in result["verdicts"])
    assert [h["status"] for h in result["history"]] == ["ok"]


def test_repair_after_a_failed_post_check(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.say(UNVALIDATED, GOOD)
    code, out, _ = generate(capsys, server, tmp_path, "x", "--output-format", "json", "--seed", "4")
    result = json.loads(out)
    assert code == 0 and result["code"] == GOOD
    assert [h["status"] for h in result["history"]] == ["failed", "ok"]
    first, second = server.posts("/v1/completions")
    assert "previous answer" not in first.body["prompt"]
    assert UNVALIDATED.strip() in second.body["prompt"]
    assert "api_handler.validates" in second.body["prompt"]
    assert (first.body["seed"], second.body["seed"]) == (4, 5)


def test_still_failing_after_every_attempt(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.say(UNVALIDATED, UNVALIDATED)
    code, out, err = generate(
        capsys, server, tmp_path, "x", "--attempts", "2", "-o", tmp_path / "o.py"
    )
    assert code == 1 and out == ""
    assert len(server.posts()) == 2
    assert "error[constraint-violated]: api_handler.validates" in err
    # The code is shown, marked, on stderr; nothing is written where a result would go.
    assert "code NOT verified (failed)" in err and "    return request" in err
    assert not (tmp_path / "o.py").exists()


def test_a_server_that_ignores_the_grammar(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.say(FORBIDDEN)
    code, out, err = generate(capsys, server, tmp_path, "x")
    assert code == 1 and out == ""
    assert (
        "error[grammar-not-enforced]" in err
        and "--structured-outputs-config.backend guidance" in err
    )
    assert "error[grammar-rejected]" in err
    assert len(server.posts()) == 1  # not retried: it would be ignored again


def test_cut_at_max_tokens(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.say(GOOD)
    code, out, err = generate(
        capsys, server, tmp_path, "x", "--max-tokens", "6", "--output-format", "short"
    )
    assert code == 1 and out == ""
    assert "error[output-truncated]" in err and "grammar-not-enforced" not in err
    assert len(server.posts()) == 1


def test_written_to_a_file(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.say(GOOD)
    out_file = tmp_path / "handler.py"
    code, out, err = generate(capsys, server, tmp_path, "x", "-o", out_file)
    assert (code, out, err) == (0, "", "")
    assert out_file.read_text() == GOOD
    assert oct(out_file.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_several_results(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.say(GOOD, GOOD, GOOD)
    code, out, _ = generate(
        capsys, server, tmp_path, "x", "-n", "3", "--seed", "7", "-o", tmp_path / "h.py"
    )
    assert (code, out) == (0, "")
    assert [(tmp_path / f"h-{k}.py").read_text() for k in (1, 2, 3)] == [GOOD] * 3
    # Independent samples: no two requests share a seed.
    assert sorted(p.body["seed"] for p in server.posts()) == [7, 10, 13]


def test_a_failing_service_exits_4(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.plan("/v1/completions", *[Status(503, {"error": {"message": "overloaded"}})] * 10)
    code, out, err = generate(capsys, server, tmp_path, "x", "--output-format", "short")
    assert code == 4 and out == ""
    assert "error[inference-error]" in err and "503" in err


def test_chat(server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server.say(GOOD)
    code, out, _ = generate(capsys, server, tmp_path, "return the id", "--chat")
    assert (code, out) == (0, GOOD)
    (sent,) = server.posts("/v1/chat/completions")
    system, user = sent.body["messages"]
    assert system["role"] == "system" and "`eval`, `exec`" in system["content"]
    assert user == {"role": "user", "content": "return the id"}


def test_batch_and_resume(
    server: FaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    intents = tmp_path / "intents.jsonl"
    intents.write_text('{"id": "a", "intent": "one"}\n"two"\n\n{"id": 3, "intent": "three"}\n')
    results = tmp_path / "results.jsonl"
    server.say(GOOD, GOOD, UNVALIDATED, UNVALIDATED, UNVALIDATED)
    code, out, err = generate(
        capsys, server, tmp_path, "--batch", intents, "-o", results, "--concurrency", "2"
    )
    lines = [json.loads(x) for x in results.read_text().splitlines()]
    assert code == 1 and out == ""
    assert sorted(x["intent"] for x in lines) == ["one", "three", "two"]
    assert {x["id"] for x in lines} >= {"a", "3"}
    assert sum(x["ok"] for x in lines) == 2
    assert "3 generated" in err and "2 verified, 1 not" in err
    asked = len(server.posts())
    # A rerun skips what is there; a line cut short by an interruption is dropped first.
    failed_id = next(x["id"] for x in lines if not x["ok"])
    kept = [json.dumps(x) for x in lines if x["ok"]]
    results.write_text("\n".join(kept) + '\n{"id": "' + failed_id + '", "intent": "tw')
    server.say(GOOD)
    code, _, err = generate(capsys, server, tmp_path, "--batch", intents, "-o", results)
    assert code == 0 and len(server.posts()) == asked + 1
    again = [json.loads(x) for x in results.read_text().splitlines()]
    assert len(again) == 3 and all(x["ok"] for x in again)
    assert "1 generated (2 already in results.jsonl)" in err


def test_ctrl_c_cancels_the_request_and_writes_nothing(server: FaultServer, tmp_path: Path) -> None:
    server.plan("/v1/completions", Hang())
    out_file = tmp_path / "out.py"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ananke",
            "generate",
            "x",
            "--constraints",
            str(HANDLER),
            "--url",
            server.url,
            "-o",
            str(out_file),
            "--cache-dir",
            str(tmp_path / "c"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not server.posts("/v1/completions") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.posts("/v1/completions"), "the request never arrived"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert server.wait_disconnect(10)  # the server saw the client go: no orphaned request
    assert not out_file.exists()


def test_library_generate(server: FaultServer, tmp_path: Path) -> None:
    server.say(UNVALIDATED, GOOD, GOOD, GOOD)

    async def main() -> tuple[ananke.runtime.maze.Result, list[ananke.runtime.maze.Result]]:
        async with Ananke(config=False, url=server.url, cache_dir=str(tmp_path)) as a:
            one = await a.generate("x", constraints=HANDLER)
            many = await a.generate_many(["a", "b"], HANDLER, concurrency=1)
            return one, many

    one, many = asyncio.run(main())
    assert one.ok and one.code == GOOD and len(one.attempts) == 2
    assert one.attempts[0].verification.failures
    assert one.backend == "vllm" and one.model == "tiny"
    assert [r.intent for r in many] == ["a", "b"] and all(r.ok for r in many)
    assert one.to_json()["attempts"] == 2


def test_openai_backend_and_an_ignored_setting(
    server: FaultServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    message = "Unsupported value: 'temperature' does not support 0 with this model."
    refusal = {"message": message, "type": "invalid_request_error", "param": "temperature"}
    server.plan("/v1/responses", Status(400, {"error": refusal}))
    server.say(GOOD)
    code, out, err = run_arc(
        capsys, "generate", "x", "--backend", "openai", "--url", server.url + "/v1",
        "--model", "gpt-5", "--constraints", HANDLER, "--cache-dir", tmp_path,
    )  # fmt: skip
    assert (code, out) == (0, GOOD)
    assert "warning[setting-ignored]: openai does not take `temperature`" in err
    assert message in err
    sent = server.posts("/v1/responses")
    assert sent[-1].headers["authorization"] == "Bearer sk-test-123"
    assert "sk-test-123" not in err
    tool = sent[-1].body["tools"][0]
    assert (
        tool["format"]["definition"]
        == json.loads(ananke.emit(ananke.load(HANDLER), "openai"))["format"]["definition"]
    )
