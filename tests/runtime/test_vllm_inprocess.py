"""The ``vllm-inprocess`` generator: ``vllm.LLM`` in the process, with the guidance backend.

vLLM imports only in its own environment (``.venv-vllm``), so the generation tests run a
script there (``vllm_worker.py inprocess``) on the tiny model; what needs no vLLM (the
registry, the checks of the request body, the error when vLLM is missing) runs here.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ananke.runtime.generators import create, generator_class
from ananke.runtime.protocol import GenerationRequest, Prompt, ServiceError, ServiceOptions

from tests.runtime.vllm_server import ENDED_EARLY, EXAMPLE, ROOT, WORKER

PROMPT = Prompt(
    system="Write one Python function.",
    user="Return the user's id from the request.",
    text="# Return the user's id from the request.\n",
)


def _body() -> dict[str, Any]:
    import ananke

    body: dict[str, Any] = json.loads(ananke.emit(ananke.load(EXAMPLE), "vllm"))
    return body


def test_registered_under_its_backend_name() -> None:
    cls = generator_class("vllm-inprocess")
    assert (cls.name, cls.target) == ("vllm-inprocess", "vllm")
    generator = create("vllm-inprocess", options=ServiceOptions(model="m", chat=True))
    assert generator.model == "m" and generator.chat is True
    asyncio.run(generator.aclose())


def test_a_model_is_required() -> None:
    with pytest.raises(ServiceError) as e:
        create("vllm-inprocess", options=ServiceOptions())
    assert e.value.code == "inference-error" and e.value.help


@pytest.mark.parametrize(
    "body",
    [
        {"structured_outputs": {"grammar": "start: x"}, "guided_grammar": "start: x"},
        {"structured_outputs": {"grammar": "start: x", "regex": "x"}},
        {"structured_outputs": {}},
        {"structured_outputs": "start: x"},
    ],
    ids=["unknown-field", "two-constraints", "no-constraint", "not-an-object"],
)
def test_a_body_vllm_cannot_read_is_refused_before_anything_loads(body: dict[str, Any]) -> None:
    async def run() -> None:
        generator = create("vllm-inprocess", options=ServiceOptions(model="m"))
        try:
            await generator.complete(GenerationRequest(prompt=PROMPT, body=body))
        finally:
            await generator.aclose()

    with pytest.raises(ServiceError) as e:
        asyncio.run(run())
    assert e.value.code == "inference-refused", e.value.message


@pytest.mark.skipif(
    importlib.util.find_spec("vllm") is not None, reason="vLLM is installed in this environment"
)
def test_without_vllm_the_error_says_what_to_install() -> None:
    async def run() -> None:
        generator = create("vllm-inprocess", options=ServiceOptions(model="m"))
        try:
            await generator.complete(GenerationRequest(prompt=PROMPT, body=_body()))
        finally:
            await generator.aclose()

    with pytest.raises(ServiceError) as e:
        asyncio.run(run())
    assert e.value.code == "inference-error"
    assert "vLLM is not installed" in e.value.message and "pip install" in (e.value.help or "")


def test_generates_under_the_grammar_in_vllms_environment(
    vllm_env: Path, vllm_model: Path, tmp_path: Path
) -> None:
    from ananke.engines.acceptance import ByteMatcher

    body = _body()
    bad_grammar = "start: missing_rule\n"
    requests = [
        {
            "text": PROMPT.text,
            "system": PROMPT.system,
            "user": PROMPT.user,
            "body": b,
            "max_tokens": 32,
            "temperature": 1.0,
            "seed": seed,
        }
        for seed, b in (
            (1, body),
            (2, body),
            # Refused by vLLM (an undefined rule): only this request may fail.
            (3, {"structured_outputs": {"grammar": bad_grammar}}),
        )
    ]
    saved = tmp_path / "saved"
    saved.mkdir()
    spec = {
        "model": str(vllm_model),
        "save_dir": str(saved),
        # Eager: torch.compile's warm-up would take longer than the generation.
        "engine_args": {"dtype": "float32", "max_model_len": 1024, "enforce_eager": True},
        "requests": requests,
        "chat_requests": 2,
    }
    env = {
        **os.environ,
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "VLLM_CACHE_ROOT": str(tmp_path / "cache"),
        "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor"),
    }
    done = subprocess.run(
        [str(vllm_env), str(WORKER), "inprocess"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    *generated, refused = result["generated"]
    chatted = result["chatted"]
    assert len(generated) == len(chatted) == 2
    # The three requests went to vLLM as one batch; the refusal failed it, and the
    # requests were sent again one by one. The chat requests went as one batch.
    assert result["calls"] == [
        ["generate", 3],
        ["generate", 1],
        ["generate", 1],
        ["generate", 1],
        ["chat", 2],
    ]
    assert refused["error"] == "inference-refused", refused
    assert Path(refused["saved"]).parent == saved
    assert Path(refused["saved"]).read_text(encoding="utf-8") == bad_grammar
    # The chat template wraps the system and user messages: a longer prompt.
    assert min(c["prompt_tokens"] for c in chatted) > max(c["prompt_tokens"] for c in generated)
    matcher = ByteMatcher(body["structured_outputs"]["grammar"])
    for completion in generated + chatted:
        assert "error" not in completion, completion
        assert completion["model"] == str(vllm_model)
        assert completion["prompt_tokens"] > 0
        assert 0 < completion["completion_tokens"] <= 32
        verdict = matcher.check(completion["text"])
        if completion["finish_reason"] == "length":
            assert completion["completion_tokens"] == 32
            assert verdict.accepted or verdict.error == ENDED_EARLY, (verdict, completion)
            assert verdict.offset == len(completion["text"].encode())
        else:
            assert completion["finish_reason"] == "stop", completion
            assert verdict.accepted, (verdict, completion)
