"""llama.cpp's grammar sampler driven in process over a real BPE vocabulary (the token
masks themselves are compared with llguidance's in tests/differential/test_token_masks.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from ananke.runtime.bpe import train_bpe
from ananke.runtime.engines import llamacpp_modules
from ananke.runtime.llamacpp_sampler import LlamaVocab, library_path, vocab_gguf

pytest.importorskip("tokenizers")
pytest.importorskip("gguf")
LIBRARY = library_path(llamacpp_modules())
pytestmark = pytest.mark.skipif(LIBRARY is None, reason="llama.cpp (node-llama-cpp) not installed")


@pytest.fixture(scope="module")
def bpe32k(request: pytest.FixtureRequest) -> Path:
    return train_bpe(32000, Path(request.config.cache.mkdir("ananke-bpe")))


@pytest.fixture(scope="module")
def vocab(bpe32k: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaVocab]:
    assert LIBRARY is not None
    with LlamaVocab(LIBRARY, vocab_gguf(bpe32k, tmp_path_factory.mktemp("gguf"))) as v:
        yield v


def gpt2_bytes(piece: str) -> bytes:
    """The bytes of a byte-level BPE token string (GPT-2's byte-to-character table)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    chars = {b: b for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = 0x100 + extra
            extra += 1
    decode = {chr(c): b for b, c in chars.items()}
    return bytes(decode[ch] for ch in piece)


def test_the_vocabulary_is_the_tokenizers(bpe32k: Path, vocab: LlamaVocab) -> None:
    spec = json.loads(bpe32k.read_text(encoding="utf-8"))
    assert vocab.n_tokens == len(spec["model"]["vocab"]) == 32000
    assert vocab.eos == 0
    want = {i: gpt2_bytes(p) for p, i in spec["model"]["vocab"].items() if i != vocab.eos}
    got = {i: vocab.piece(i) for i in want}
    assert [i for i in want if got[i] != want[i]] == []
    assert vocab.piece(vocab.eos) == b""  # a control token has no text


def test_a_grammar_llama_cpp_refuses_gives_its_reason(vocab: LlamaVocab) -> None:
    with pytest.raises(ValueError, match="Undefined rule identifier 'digits'"):
        vocab.grammar("root ::= digits")
    with pytest.raises(ValueError, match="empty"):
        vocab.grammar("  ")


def test_accept_checks_first_and_clones_are_independent(vocab: LlamaVocab) -> None:
    pieces = {vocab.piece(i): i for i in range(vocab.n_tokens)}
    g = vocab.grammar('root ::= "ab" [0-9]+')
    assert {vocab.piece(int(i)) for i in g.mask().nonzero()[0]} == {b"a", b"ab"}
    with pytest.raises(ValueError, match="not allowed"):
        g.accept(pieces[b"b"])
    with pytest.raises(ValueError, match="not allowed"):
        g.accept(vocab.eos)  # would abort the process inside llama.cpp
    g.accept(pieces[b"ab"])
    copy = g.clone()
    copy.accept(pieces[b"1"])
    assert copy.accepting() and not g.accepting()
    assert g.allows(pieces[b"1"]) and not g.allows(pieces[b"a"])
