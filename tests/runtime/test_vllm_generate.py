"""`arc generate`, the library and the examples against a real vLLM server on the CPU
(tests/runtime/vllm_server.py), serving the small model of examples/pure-local/ that knows
three intents of the seed example by heart.

Oracles that share no code with the runtime: Python's own parser for the functions, and
llguidance (through the byte-level matcher) reading the grammar `arc emit` prints."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ananke
from ananke import Ananke
from tests.runtime.vllm_server import VLLMServer

ROOT = Path(__file__).resolve().parents[2]
HANDLER = ROOT / "examples" / "api_handler.ariadne"
INTENTS = ("return the user's id", "list the user's orders", "delete the session")


@pytest.fixture(scope="module")
def grammar() -> object:
    from ananke.engines.acceptance import ByteMatcher

    body = json.loads(ananke.emit(ananke.load(HANDLER), "vllm"))
    return ByteMatcher(body["structured_outputs"]["grammar"])


def _arc(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ananke", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=300,
    )


def _is_verified_function(code: str, grammar: object) -> None:
    tree = ast.parse(code)  # Python's own parser
    (fn,) = tree.body
    assert isinstance(fn, ast.FunctionDef)
    assert ast.unparse(fn.returns) == "Result[Response, Error]"
    assert "input_schema" in {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    assert grammar.check(code).accepted  # type: ignore[attr-defined]
    assert ananke.validate(ananke.load(HANDLER), code) == []


def test_arc_generate_writes_a_verified_function(
    vllm_server: VLLMServer, grammar: object, tmp_path: Path
) -> None:
    out = tmp_path / "handler.py"
    r = _arc(
        "generate", "return the user's id", "--constraints", HANDLER,
        "--url", vllm_server.url, "-o", out, "--cache-dir", tmp_path / "c",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    _is_verified_function(out.read_text(), grammar)


def test_json_result_against_the_server(
    vllm_server: VLLMServer, grammar: object, tmp_path: Path
) -> None:
    r = _arc(
        "generate", "list the user's orders", "--constraints", HANDLER, "--url", vllm_server.url,
        "--output-format", "json", "--cache-dir", tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["status"] == "ok" and result["model"] == vllm_server.model
    assert result["grammar"] == {
        "status": "accepted",
        "engine": "llguidance-lark",
        "offset": len(result["code"].encode()),
        "reason": "",
    }
    assert 0 < result["completion_tokens"] <= 512
    _is_verified_function(result["code"], grammar)


def test_an_intent_it_does_not_know_is_cut_not_passed(
    vllm_server: VLLMServer, grammar: object, tmp_path: Path
) -> None:
    # The model writes what the grammar allows until the limit: a cut result, exit 1.
    r = _arc(
        "generate", "sort the invoices by date", "--constraints", HANDLER,
        "--url", vllm_server.url, "--max-tokens", "40", "--output-format", "json",
        "--temperature", "1", "--seed", "3", "--cache-dir", tmp_path,
    )  # fmt: skip
    result = json.loads(r.stdout)
    assert r.returncode == 1 and result["status"] in ("truncated", "failed"), result
    assert result["grammar"]["status"] in ("prefix", "accepted")
    if result["status"] == "truncated":
        check = grammar.check(result["code"])  # type: ignore[attr-defined]
        assert not check.accepted and check.offset == len(result["code"].encode())


def test_batch_with_requests_in_flight(
    vllm_server: VLLMServer, grammar: object, tmp_path: Path
) -> None:
    intents = tmp_path / "intents.jsonl"
    intents.write_text(
        "".join(json.dumps({"id": i, "intent": t}) + "\n" for i, t in enumerate(INTENTS))
    )
    results = tmp_path / "results.jsonl"
    r = _arc(
        "generate", "--batch", intents, "-o", results, "--constraints", HANDLER,
        "--url", vllm_server.url, "--concurrency", "3", "--cache-dir", tmp_path / "c",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in results.read_text().splitlines()]
    assert sorted(x["id"] for x in lines) == ["0", "1", "2"]
    for line in lines:
        _is_verified_function(line["code"], grammar)


def test_library_mode_against_the_server(
    vllm_server: VLLMServer, grammar: object, tmp_path: Path
) -> None:
    async def main() -> list[ananke.runtime.maze.Result]:
        async with Ananke(config=False, url=vllm_server.url, cache_dir=str(tmp_path)) as a:
            compiled = await a.compile(HANDLER)
            return await a.generate_many(list(INTENTS), compiled, concurrency=3)

    results = asyncio.run(main())
    assert [r.status for r in results] == ["ok"] * 3
    for r in results:
        _is_verified_function(r.code, grammar)
        assert {v.level for v in r.verification.verdicts} == {"token", "post"}  # type: ignore[union-attr]


def test_the_full_pipeline_example(
    vllm_server: VLLMServer, grammar: object, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    script = ROOT / "examples" / "full-pipeline" / "run.sh"
    run = subprocess.run(
        ["bash", str(script), vllm_server.url, str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "compiled.cir").is_file()
    _is_verified_function(json.loads(run.stdout)["code"], grammar)
    lib = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "full-pipeline" / "generate.py"), vllm_server.url],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert lib.returncode == 0, lib.stderr
    _is_verified_function(json.loads(lib.stdout)["code"], grammar)
