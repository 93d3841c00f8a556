"""Byte-level BPE vocabularies trained offline, for measuring grammars as a model sees them.

Mask cost and parser limits depend on the vocabulary: how many tokens span several
lexemes, how many hold brackets, how long whitespace runs get. Ananke measures its grammars
with BPE vocabularies of realistic sizes (32k and 128k) trained here, with no download, on
the Python standard library of the running interpreter, using the HF ``tokenizers``
package (an optional dependency: ``pip install ananke-arc[bench]``).

The vocabularies are byte-level (every byte is a token, so any text can be encoded) and
split text before merging with the pattern of Llama 3's tokenizer (words with one leading
non-letter, up to three digits, punctuation runs with the newlines that follow them,
whitespace runs), so tokens such as ``"):\\n"``, ``"(self"`` and long indentation runs
exist as in production vocabularies. Token 0 is the end-of-sequence token ``<|endoftext|>``.
"""

from __future__ import annotations

import hashlib
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ananke.ir.files import replacing

__all__ = [
    "EOS_TOKEN",
    "SPLIT_PATTERN",
    "hf_tokenizer",
    "llg_tokenizer",
    "train_bpe",
    "training_texts",
]

EOS_TOKEN = "<|endoftext|>"

SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""Pre-tokenization regex (Llama 3's): BPE merges never cross these pieces."""

_FORMAT = 1  # bump when the training recipe changes, to invalidate caches


def training_texts(root: Path | None = None) -> Iterator[str]:
    """Every UTF-8 ``.py`` file under ``root`` (default: the standard library), sorted.

    ``site-packages`` is excluded.
    """
    root = root or Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)
    for p in files:
        try:
            yield p.read_bytes().decode("utf-8")
        except (UnicodeDecodeError, OSError):
            continue


def _cache_name(vocab_size: int, root: Path | None) -> str:
    v = sys.version_info
    corpus = "" if root is None else "-" + hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return f"bpe-v{_FORMAT}-{vocab_size}-py{v.major}{v.minor}{corpus}.json"


def train_bpe(vocab_size: int, cache_dir: Path, *, root: Path | None = None) -> Path:
    """Train (or reuse) a byte-level BPE tokenizer of ``vocab_size`` tokens; its tokenizer.json.

    The file is cached in ``cache_dir`` under a name holding the vocabulary size, the Python
    version and the recipe version, and written atomically. Training is deterministic for
    a given corpus and ``tokenizers`` version. The vocabulary can come out smaller than
    asked when the corpus runs out of pairs to merge (it does not at 128k on CPython 3.11).
    ``root`` trains on another directory's ``.py`` files instead of the standard library.
    """
    if vocab_size < 300:
        raise ValueError("vocab_size must leave room for the 256 byte tokens")
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / _cache_name(vocab_size, root)
    if out.exists():
        return out

    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        special_tokens=[EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(training_texts(root), trainer)
    with replacing(out) as tmp:
        tok.save(str(tmp))
    return out


def llg_tokenizer(path: Path) -> Any:
    """An ``llguidance.LLTokenizer`` for a tokenizer.json, with llguidance's default slices.

    The default slices are what vLLM and SGLang use, so mask timings match production.
    """
    import llguidance

    return llguidance.LLTokenizer(str(path))


def hf_tokenizer(path: Path) -> Any:
    """The ``tokenizers.Tokenizer`` for a tokenizer.json (to encode text as a model would)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))
