"""llama.cpp's grammar sampler driven in process over a real BPE vocabulary (the token
masks themselves are compared with llguidance's in tests/differential/test_token_masks.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ananke.engines.llamacpp_sampler import LlamaVocab


def _gpt2_chars() -> dict[str, int]:
    """GPT-2's byte-to-character table, reversed: how byte-level BPE writes each byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    chars = {b: b for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = 0x100 + extra
            extra += 1
    return {chr(c): b for b, c in chars.items()}


_GPT2_BYTE = _gpt2_chars()


def gpt2_bytes(piece: str) -> bytes:
    """The bytes of a byte-level BPE token string."""
    return bytes(_GPT2_BYTE[ch] for ch in piece)


def test_the_vocabulary_is_the_tokenizers(bpe32k: Path, llama32k: LlamaVocab) -> None:
    spec = json.loads(bpe32k.read_text(encoding="utf-8"))
    assert llama32k.n_tokens == len(spec["model"]["vocab"]) == 32000
    assert llama32k.eos == 0
    want = {i: gpt2_bytes(p) for p, i in spec["model"]["vocab"].items() if i != llama32k.eos}
    got = {i: llama32k.piece(i) for i in want}
    assert [i for i in want if got[i] != want[i]] == []
    assert llama32k.piece(llama32k.eos) == b""  # a control token has no text


def test_a_grammar_llama_cpp_refuses_gives_its_reason(llama32k: LlamaVocab) -> None:
    with pytest.raises(ValueError, match="Undefined rule identifier 'digits'"):
        llama32k.grammar("root ::= digits")
    with pytest.raises(ValueError, match="empty"):
        llama32k.grammar("  ")


def test_accept_checks_first_and_clones_are_independent(llama32k: LlamaVocab) -> None:
    pieces = {llama32k.piece(i): i for i in range(llama32k.n_tokens)}
    g = llama32k.grammar('root ::= "ab" [0-9]+')
    assert {llama32k.piece(int(i)) for i in g.mask().nonzero()[0]} == {b"a", b"ab"}
    with pytest.raises(ValueError, match="not allowed"):
        g.accept(pieces[b"b"])
    with pytest.raises(ValueError, match="not allowed"):
        g.accept(llama32k.eos)  # would abort the process inside llama.cpp
    g.accept(pieces[b"ab"])
    copy = g.clone()
    copy.accept(pieces[b"1"])
    assert copy.accepting() and not g.accepting()
    assert g.allows(pieces[b"1"]) and not g.allows(pieces[b"a"])
