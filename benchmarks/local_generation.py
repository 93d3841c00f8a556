"""The ``local`` generator: tokens/s with and without a grammar, and what the grammar costs
per token with each strategy and each set of slices.

Models are random Llama-shaped models made offline by ``ananke.runtime.models.make_model``
and cached beside the BPE vocabularies: the tiny default (4k vocabulary, 1.0M parameters)
and two larger ones (hidden 768, 12 layers; 32k vocabulary: 128M parameters, 128k: 202M).

* Generation: each model writes 64 tokens (the tiny one 192) for each of six prompts at
  temperature 1 with a fixed seed, the runs taking turns (each goes first once):
  unconstrained (the generator's own loop with no grammar), under a small JSON schema
  (llguidance's JSON grammar), and under the seed example's Python grammar (``arc emit
  --target llguidance``) with code slices and with llguidance's default slices; then with
  ``mask-first``, with the next mask computed in a background thread during the forward
  pass and in line after it. Random models write random text, so refusal rates here are
  the worst case, not what a trained model shows.
* Teacher forcing: standard-library functions made to satisfy the seed example, fed as
  the model's choices through the generator's token chooser (no forward pass): the cost
  of every full mask with default and code slices (``mask-first``), and the constraint
  cost per token of ``check-then-mask`` (one check per token, a mask only on a refusal).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    EXAMPLE,
    adapted_for_api_handler,
    grammar_of_source,
    mask_functions,
    summary,
)
from benchmarks.reporting import Report

TINY = {"vocab_size": 4096, "hidden": 128, "layers": 2, "heads": 4, "kv_heads": 2}
LARGE = {"hidden": 768, "layers": 12, "heads": 12, "kv_heads": 4}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string", "maxLength": 40},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 4},
        "active": {"type": "boolean"},
    },
    "required": ["id", "name", "active"],
    "additionalProperties": False,
}
"""The JSON-schema baseline: a small record."""

PROMPTS = (
    "# return the user's id\n",
    "def handler(request):\n",
    "import json\n\n",
    "# Parse the request body.\n",
    "class Handler:\n    ",
    "from typing import Any\n\n\n",
)
"""Six prompts: each of the six runs goes first once."""


def cached_model(cache: Path, **args: int) -> Path:
    """A random model made with ``args`` (kept under ``cache``, keyed by them)."""
    from ananke.runtime.models import make_model

    key = "-".join(f"{k}{v}" for k, v in sorted(args.items()))
    out = cache / key
    if not (out / "config.json").is_file():
        tmp = cache / f".{key}.{os.getpid()}"
        make_model(tmp, **args)
        os.replace(tmp, out)
    return out


def parameters(model_dir: Path) -> int:
    from safetensors import safe_open

    n = 0
    with safe_open(str(model_dir / "model.safetensors"), "pt") as f:
        for k in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
            n += _numel(f.get_slice(k).get_shape())
    return n


def _numel(shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _json_grammar() -> str:
    import llguidance

    return str(llguidance.LLMatcher.grammar_from_json_schema(SCHEMA))


def _one(gen: Any, grammar: str | None, text: str, seed: int, tokens: int) -> Any:
    from ananke.runtime.protocol import GenerationRequest, Prompt

    body = {"grammar": grammar} if grammar is not None else {}
    req = GenerationRequest(
        Prompt("", "", text), body, max_tokens=tokens, temperature=1.0, seed=seed
    )
    # Both in the generator's worker thread: torch runs differently in the main thread.
    if grammar is None:
        return asyncio.run(gen.complete_unconstrained(req))
    return asyncio.run(gen.complete(req))


def _totals(completions: list[Any], constrained: bool) -> dict[str, Any]:
    done = sum(c.completion_tokens or 0 for c in completions)
    seconds = sum(c.seconds for c in completions)
    out: dict[str, Any] = {
        "tokens": done,
        "seconds": seconds,
        "tokens_per_s": done / seconds if seconds else float("nan"),
        "finishes": [c.finish_reason for c in completions],
    }
    if constrained:
        chosen = sum(c.extra["tokens"] for c in completions)
        masks = [x for c in completions for x in c.extra["mask_us"]]
        out |= {
            "refusal_rate": sum(c.extra["refusals"] for c in completions) / max(chosen, 1),
            "constraint_us": summary([x for c in completions for x in c.extra["constraint_us"]]),
            "mask_us": summary(masks),
            "masks": len(masks),
        }
    return out


def bench_generation(r: Report, label: str, model_dir: Path, tokens: int) -> dict[str, Any]:
    from ananke.runtime.generators.local import LocalGenerator
    from ananke.runtime.protocol import GenerationRequest, Prompt, ServiceOptions

    api = grammar_of_source(EXAMPLE.read_text())
    opts = ServiceOptions(model=str(model_dir))
    code = LocalGenerator(opts, slices="code")
    runs: dict[str, tuple[Any, str | None]] = {
        "unconstrained": (code, None),
        "json schema": (code, _json_grammar()),
        "api_handler, code slices": (code, api),
        "api_handler, default slices": (LocalGenerator(opts, slices="default"), api),
        "api_handler, mask-first, background mask": (
            LocalGenerator(opts, strategy="mask-first"),
            api,
        ),
        "api_handler, mask-first, mask in line": (
            LocalGenerator(opts, strategy="mask-first", prefetch=False),
            api,
        ),
    }
    for gen, _ in runs.values():  # load, and one short warm-up generation
        warm = GenerationRequest(Prompt("", "", "x"), {"grammar": api}, max_tokens=4)
        asyncio.run(gen.complete(warm))
    # Round robin, each round starting one run later, so that a change in the machine's
    # load, or going first, falls on every run alike.
    done: dict[str, list[Any]] = {name: [] for name in runs}
    names = list(runs)
    for i, text in enumerate(PROMPTS):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            gen, grammar = runs[name]
            done[name].append(_one(gen, grammar, text, i, tokens))
    for gen, _ in runs.values():
        asyncio.run(gen.aclose())
    res = {name: _totals(cs, runs[name][1] is not None) for name, cs in done.items()}
    base = res["unconstrained"]["tokens_per_s"]
    r.metric(f"local tokens/s unconstrained, {label}", base, "tok/s", higher_is_better=True)
    for name, v in res.items():
        if name == "unconstrained":
            continue
        share = 100 * v["tokens_per_s"] / base
        target = 90.0 if "32k" in label and name == "api_handler, code slices" else None
        r.metric(
            f"local tokens/s, {name}, {label} (% of unconstrained)",
            share,
            "%",
            target,
            higher_is_better=True,
            note=f"{v['tokens_per_s']:.1f} tok/s; {v['tokens']} tokens; refusals "
            f"{100 * v['refusal_rate']:.1f} %; constraint per token mean "
            f"{v['constraint_us']['mean']:.0f} µs, p99 {v['constraint_us']['p99']:.0f} µs; "
            f"{v['masks']} masks, mean {v['mask_us']['mean']:.0f} µs",
        )
    return res


def bench_teacher_forcing(r: Report, label: str, model_dir: Path, n_funcs: int) -> dict[str, Any]:
    import llguidance
    import llguidance.hf
    import torch
    from ananke.runtime.generators.local import Sampler, TokenChooser, slices_for
    from transformers import AutoTokenizer

    class Forced(Sampler):
        """The text's next token, whatever the logits."""

        def __init__(self, ids: list[int]) -> None:
            self.temperature = 0.0
            self._ids = iter(ids)

        def pick(self, logits: Any) -> int:
            return next(self._ids)

    api = grammar_of_source(EXAMPLE.read_text())
    hf = AutoTokenizer.from_pretrained(str(model_dir))
    funcs = adapted_for_api_handler(mask_functions(n_funcs))
    encoded = [hf.encode(text, add_special_tokens=False) for _, text in funcs]
    out: dict[str, Any] = {"functions": len(funcs), "tokens": sum(len(e) + 1 for e in encoded)}
    for slices in ("default", "code"):
        tok = llguidance.hf.from_tokenizer(hf, slices=slices_for(slices))
        logits = torch.zeros(tok.vocab_size)
        base = llguidance.LLMatcher(tok, api, log_level=0)
        for strategy in ("mask-first", "check-then-mask"):
            constraint: list[float] = []
            masks: list[float] = []
            refusals = errors = 0
            for ids in encoded:
                forced = [*ids, tok.eos_token]
                chooser = TokenChooser(
                    base.deep_copy(), tok.vocab_size, tok.vocab_size, Forced(forced), strategy
                )
                try:
                    for _ in forced:
                        chooser.choose(logits)
                except Exception:
                    errors += 1
                constraint += [x / 1000 for x in chooser.stats.constraint_ns]
                masks += [x / 1000 for x in chooser.stats.mask_ns]
                refusals += chooser.stats.refusals
            out[f"{strategy}, {slices} slices"] = {
                "constraint_us": summary(constraint),
                "mask_us": summary(masks),
                "refusals": refusals,
                "errors": errors,
            }
    for slices in ("default", "code"):
        m = out[f"mask-first, {slices} slices"]["mask_us"]
        r.metric(
            f"local mask mean, {slices} slices, teacher forcing, {label}",
            m["mean"],
            "µs",
            note=f"p50 {m['p50']:.1f} µs, p99 {m['p99']:.0f} µs; {m['n']} masks on "
            f"{len(funcs)} functions",
        )
        r.metric(f"local mask p99, {slices} slices, teacher forcing, {label}", m["p99"], "µs")
    for strategy in ("mask-first", "check-then-mask"):
        v = out[f"{strategy}, code slices"]
        c = v["constraint_us"]
        r.metric(
            f"local constraint cost per token, {strategy}, teacher forcing, {label}",
            c["mean"],
            "µs",
            100.0 if strategy == "check-then-mask" and "128k" in label else None,
            note=f"p50 {c['p50']:.1f} µs, p99 {c['p99']:.0f} µs; {v['refusals']} refusals, "
            f"{v['errors']} functions not consumed, of {len(funcs)}",
        )
    return out


def bench_local_generation(r: Report, cache: Path) -> None:
    print("local generation", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    models = {"tiny 4k": cached_model(cache, **TINY)}
    if not r.quick:
        for vocab in (32000, 128000):
            models[f"{vocab // 1000}k"] = cached_model(cache, vocab_size=vocab, **LARGE)
    details: dict[str, Any] = {
        "models_s": time.perf_counter() - t0,
        "method": __doc__,
    }
    for label, path in models.items():
        details[label] = {"parameters": parameters(path)}
        tokens = 16 if r.quick else (192 if label.startswith("tiny") else 64)
        details[label]["generation"] = bench_generation(r, label, path, tokens)
    forcing = {"tiny 4k": models["tiny 4k"]} if r.quick else {k: models[k] for k in ("32k", "128k")}
    for label, path in forcing.items():
        details[label]["teacher_forcing"] = bench_teacher_forcing(
            r, label, path, 4 if r.quick else 60
        )
    r.details["local_generation"] = details
