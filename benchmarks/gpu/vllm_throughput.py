"""Throughput of vLLM with Ananke's grammar, against unconstrained decoding and a JSON
schema, on a GPU: ``python -m benchmarks.gpu.vllm_throughput [--out FILE]``.

A random Llama-shaped model of 8B parameters (Llama 3 8B's shape: hidden 4,096, 32 layers,
32 heads, 8 key-value heads) with a 128k byte-level BPE vocabulary trained here on the
standard library; vLLM fills its weights with random values (``load_format="dummy"``), so
nothing is downloaded and no weights are written. ``vllm.LLM`` in this process, the
``guidance`` structured-outputs backend, batches of 1, 16 and 64 prompts, each asking for
``--max-tokens`` tokens at temperature 1:

- ``unconstrained``: no grammar;
- ``ananke``: the seed example's grammar as ``arc emit --target vllm`` prints it;
- ``json``: a small JSON schema, the engine's own baseline.

Reports output tokens per second per mode and batch size, and the ratio of each
constrained mode to the unconstrained one measured in the same process (target for
``ananke``: at least 95 %). ``--tiny`` runs the same on the small model of
``ananke.runtime.models`` (on the CPU build of vLLM too), to check the script itself.

Needs vLLM (``pip install vllm torch``), transformers and tokenizers; a GPU with about
40 GB for the 8B model in bfloat16 at batch 64.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EIGHT_B = {
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "rope_theta": 500000.0,
    "max_position_embeddings": 8192,
}
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 8},
    },
    "required": ["name", "age", "tags"],
    "additionalProperties": False,
}


def make_8b(out: Path, vocab: int, cache: Path) -> Path:
    """A config and a tokenizer for an 8B Llama-shaped model (no weights: vLLM's dummy
    loader makes random ones)."""
    from ananke.engines.bpe import EOS_TOKEN, train_bpe
    from ananke.runtime.models import CHAT_TEMPLATE
    from transformers import LlamaConfig, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    tok: Any = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_file=str(train_bpe(vocab, cache)),
        eos_token=EOS_TOKEN,
        bos_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
    )
    tok.chat_template = CHAT_TEMPLATE
    eos = tok.convert_tokens_to_ids(EOS_TOKEN)
    config = LlamaConfig(
        vocab_size=len(tok), bos_token_id=eos, eos_token_id=eos, pad_token_id=eos, **EIGHT_B
    )
    config.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def prompts(n: int) -> tuple[list[str], str]:
    """``n`` prompts as ``arc generate`` builds them for the seed example, and the grammar."""
    from ananke.runtime.prompt import build_prompt

    import ananke

    module = ananke.load(ROOT / "examples" / "api_handler.ariadne")
    (lowered,) = ananke.lower(module, "vllm")
    body = json.loads(ananke.emit(module, "vllm"))
    intents = ["return the user's id", "list the orders", "delete the session", "count items"]
    texts = [
        build_prompt(intents[i % len(intents)], module.sets[0], lowered.enforcements).text
        for i in range(n)
    ]
    return texts, body["structured_outputs"]["grammar"]


def run(args: argparse.Namespace) -> dict[str, Any]:
    from vllm import LLM, SamplingParams
    from vllm.sampling_params import StructuredOutputsParams

    if args.tiny:
        from ananke.runtime.models import make_model

        model_dir = make_model(args.cache / "tiny")
        llm = LLM(
            model=str(model_dir),
            structured_outputs_config={"backend": "guidance"},
            max_model_len=1024,
            dtype="float32",
            seed=0,
        )
    else:
        model_dir = make_8b(args.cache / "llama-8b-random", args.vocab, args.cache / "bpe")
        llm = LLM(
            model=str(model_dir),
            load_format="dummy",
            structured_outputs_config={"backend": "guidance"},
            max_model_len=2048,
            dtype="bfloat16",
            gpu_memory_utilization=0.85,
            seed=0,
        )
    results: dict[str, Any] = {"model": "tiny" if args.tiny else "llama-8b-random", "rows": []}
    for batch in args.batch:
        texts, grammar = prompts(batch)
        modes: dict[str, StructuredOutputsParams | None] = {
            "unconstrained": None,
            "ananke": StructuredOutputsParams(grammar=grammar),
            "json": StructuredOutputsParams(json=SCHEMA),
        }
        per_mode: dict[str, float] = {}
        for mode, so in modes.items():
            rates = []
            for rep in range(args.repeats + 1):
                params = SamplingParams(
                    max_tokens=args.max_tokens, temperature=1.0, seed=rep, structured_outputs=so
                )
                t0 = time.perf_counter()
                outs = llm.generate(texts, params, use_tqdm=False)
                seconds = time.perf_counter() - t0
                tokens = sum(len(o.outputs[0].token_ids) for o in outs)
                if rep:  # the first run warms up (grammar compile, CUDA graphs)
                    rates.append(tokens / seconds)
            per_mode[mode] = statistics.median(rates)
        base = per_mode["unconstrained"]
        for mode, rate in per_mode.items():
            results["rows"].append(
                {"batch": batch, "mode": mode, "tokens_per_s": rate, "ratio": rate / base}
            )
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 16, 64])
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per cell (median)")
    ap.add_argument("--vocab", type=int, default=128000)
    ap.add_argument("--tiny", action="store_true", help="the small model, to check the script")
    ap.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / ".cache" / "gpu")
    ap.add_argument("--out", type=Path, default=None, help="write the figures here (JSON)")
    args = ap.parse_args(argv)
    results = run(args)
    lines = ["| batch | mode | tokens/s | vs unconstrained |", "| --- | --- | --- | --- |"]
    for r in results["rows"]:
        lines.append(f"| {r['batch']} | {r['mode']} | {r['tokens_per_s']:.0f} | {r['ratio']:.1%} |")
    print("\n".join(lines))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":  # vLLM starts worker processes: keep the guard
    sys.exit(main())
