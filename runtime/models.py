"""Small randomly initialised models made offline, for trying ``arc generate`` and testing it.

``python -m ananke.runtime.models OUT`` writes a Llama-shaped causal language model with
random weights and a byte-level BPE tokenizer trained on the Python standard library of
the running interpreter (nothing is downloaded), in the Hugging Face layout that
transformers (the ``local`` backend), vLLM (``--model OUT``) and llguidance read. Its
output is random text: what the grammar allows, not what the intent asks for. Needs the
``local`` extra (transformers, torch, tokenizers).

Defaults: a 4,096-token vocabulary, hidden size 128, 2 layers, 4 attention heads with
2 key-value heads (about 1M parameters, 4 MB, made in seconds). ``--vocab 32000
--hidden 768 --layers 12`` makes a model of about 110M parameters for benchmarks.

``--train FILE...`` then trains it for a few seconds on those texts (each file one
document, ending with the end-of-sequence token), so that a demonstration can show a model
that writes something like them: a random model mostly writes what the grammar allows
anywhere (blank lines, comments) until ``max_tokens``. It learns the files by heart, nothing
more.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["CHAT_TEMPLATE", "make_model"]

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
"""A plain chat template, so that chat endpoints (vLLM's ``/v1/chat/completions``) work."""


def make_model(
    out: Path,
    *,
    vocab_size: int = 4096,
    hidden: int = 128,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    max_positions: int = 2048,
    seed: int = 0,
    train: Sequence[str] = (),
    steps: int = 200,
) -> Path:
    """Write a random Llama-shaped model and its tokenizer to ``out``; returns ``out``.

    The same arguments give the same weights and the same tokenizer on the same versions
    of torch and tokenizers. ``train`` texts, when given, are learnt for ``steps`` steps
    (see the module's docstring)."""
    import torch
    from ananke.engines.bpe import EOS_TOKEN, train_bpe
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    out.mkdir(parents=True, exist_ok=True)
    tokenizer_json = train_bpe(vocab_size, out / ".bpe")
    # Any: transformers' annotations vary between its releases.
    tokenizer: Any = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_file=str(tokenizer_json),
        eos_token=EOS_TOKEN,
        bos_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    eos: int = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 4,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    if train:
        _train(model, tokenizer, train, steps)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "generation_config.json").write_text(
        json.dumps({"bos_token_id": eos, "eos_token_id": eos, "pad_token_id": eos}) + "\n"
    )
    return out


def _train(model: Any, tokenizer: Any, texts: Sequence[str], steps: int) -> None:
    """A few steps of causal language modelling on ``texts`` (the whole set each step)."""
    import torch

    eos = tokenizer.eos_token_id
    rows = [tokenizer(t)["input_ids"] + [eos] for t in texts]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), eos, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        labels[i, : len(r)] = torch.tensor(r)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ananke.runtime.models",
        description="Write a small random Llama-shaped model and a BPE tokenizer trained "
        "offline on the standard library.",
    )
    parser.add_argument("out", type=Path, help="the folder to write")
    parser.add_argument("--vocab", type=int, default=4096, help="vocabulary size (4096)")
    parser.add_argument("--hidden", type=int, default=128, help="hidden size (128)")
    parser.add_argument("--layers", type=int, default=2, help="decoder layers (2)")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (4)")
    parser.add_argument("--kv-heads", type=int, default=2, help="key-value heads (2)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument(
        "--train",
        nargs="+",
        type=Path,
        default=[],
        metavar="FILE",
        help="text files to learn (each one document)",
    )
    parser.add_argument("--steps", type=int, default=200, help="training steps (200)")
    args = parser.parse_args(argv)
    try:
        texts = [p.read_text(encoding="utf-8") for p in args.train]
    except (OSError, UnicodeDecodeError) as e:
        print(f"error: cannot read a --train file: {e}", file=sys.stderr)
        return 2
    try:
        make_model(
            args.out,
            vocab_size=args.vocab,
            hidden=args.hidden,
            layers=args.layers,
            heads=args.heads,
            kv_heads=args.kv_heads,
            seed=args.seed,
            train=texts,
            steps=args.steps,
        )
    except ImportError as e:
        print(
            f"error: {e.name or e} is not installed: pip install 'ananke-arc[local]'",
            file=sys.stderr,
        )
        return 2
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
