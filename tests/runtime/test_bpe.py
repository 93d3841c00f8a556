"""Tests of the offline byte-level BPE vocabularies used for mask measurements."""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from ananke.runtime import bpe
from ananke.runtime.bpe import EOS_TOKEN, hf_tokenizer, llg_tokenizer, train_bpe

from tests.suite_helpers import require_module

require_module("tokenizers")


@pytest.fixture(scope="module")
def llg32k(bpe32k: Path) -> Any:
    return llg_tokenizer(bpe32k)


def test_vocab_size_and_eos(bpe32k: Path, llg32k: Any) -> None:
    hf = hf_tokenizer(bpe32k)
    assert hf.get_vocab_size() == 32000
    assert llg32k.vocab_size == 32000
    assert hf.token_to_id(EOS_TOKEN) == llg32k.eos_token == 0
    assert llg32k.is_special_token(0)


def test_every_byte_is_a_token(bpe32k: Path, llg32k: Any) -> None:
    vocab = hf_tokenizer(bpe32k).get_vocab()
    byte_chars = [ch for ch in vocab if len(ch) == 1]
    assert len(byte_chars) == 256
    singles = set()
    for tid in range(llg32k.vocab_size):
        b = llg32k.decode_bytes([tid])
        if len(b) == 1 and not llg32k.is_special_token(tid):
            singles.add(b)
    # llguidance reserves the byte 0xFF (never part of UTF-8) to mark special tokens in its
    # token trie, so the 0xFF token is not an ordinary token there; every other byte is.
    assert singles == {bytes([i]) for i in range(255)}


def test_any_text_round_trips(bpe32k: Path) -> None:
    hf = hf_tokenizer(bpe32k)
    rng = random.Random(0)
    texts = [
        "def f(x):\n\treturn x  # ünïcödé ✓\n",
        "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(300)),
        "\x00\x01\x7f\r\n\x0c",
    ]
    for t in texts:
        ids = hf.encode(t).ids
        assert hf.decode(ids) == t


def test_merges_are_code_shaped(bpe32k: Path) -> None:
    hf = hf_tokenizer(bpe32k)
    toks = hf.encode("def f(self, x):\n        return self._x\n").tokens
    assert "Ġreturn" in toks  # a word with its leading space
    assert len(toks) < 16  # far fewer tokens than bytes


def test_cached_by_size(bpe32k: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A vocabulary of a size already trained is read back, never trained again."""

    def no_training(root: Path | None = None) -> Any:
        raise AssertionError("trained again")

    monkeypatch.setattr(bpe, "training_texts", no_training)
    written = bpe32k.stat().st_mtime_ns
    assert train_bpe(32000, bpe32k.parent) == bpe32k
    assert bpe32k.stat().st_mtime_ns == written
    # Another size is not the cached one: it is trained (and here refused).
    with pytest.raises(AssertionError, match="trained again"):
        train_bpe(31000, bpe32k.parent)


def test_training_is_deterministic(tmp_path: Path) -> None:
    root = Path(sysconfig.get_paths()["stdlib"]) / "json"
    a = train_bpe(600, tmp_path / "a", root=root)
    b = train_bpe(600, tmp_path / "b", root=root)
    assert a.read_bytes() == b.read_bytes()
    assert hf_tokenizer(a).get_vocab_size() == 600


def test_too_small_a_vocab_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        train_bpe(100, tmp_path)
