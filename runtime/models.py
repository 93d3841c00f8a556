"""Small randomly initialised models made offline, for trying ``arc generate`` and testing it.

``python -m ananke.runtime.models OUT`` writes a Llama-shaped causal language model with
random weights and a byte-level BPE tokenizer trained on the Python standard library of
the running interpreter (nothing is downloaded), in the Hugging Face layout that
transformers (the ``local`` backend), vLLM (``--model OUT``) and llguidance read. Its
output is random text: what the grammar allows, not what the intent asks for. Needs the
``local`` extra (transformers, torch, tokenizers).

Defaults: a 4,096-token vocabulary, hidden size 128, 2 layers, 4 attention heads with
2 key-value heads (about 1.3M parameters, 5.5 MB, made in seconds). ``--vocab 32000
--hidden 768 --layers 12`` makes a model of about 110M parameters for benchmarks.
"""

from __future__ import annotations

import argparse
import json
import sys
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
) -> Path:
    """Write a random Llama-shaped model and its tokenizer to ``out``; returns ``out``.

    The same arguments give the same weights and the same tokenizer on the same versions
    of torch and tokenizers."""
    import torch
    from ananke.engines.bpe import EOS_TOKEN, train_bpe
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

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
    eos = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    config_args: dict[str, Any] = dict(
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
        torch_dtype="float32",
    )
    config = LlamaConfig(**config_args)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "generation_config.json").write_text(
        json.dumps({"bos_token_id": eos, "eos_token_id": eos, "pad_token_id": eos}) + "\n"
    )
    return out


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
    args = parser.parse_args(argv)
    try:
        make_model(
            args.out,
            vocab_size=args.vocab,
            hidden=args.hidden,
            layers=args.layers,
            heads=args.heads,
            kv_heads=args.kv_heads,
            seed=args.seed,
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
