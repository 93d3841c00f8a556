"""Token masks, not just strings: at every token of real functions, llama.cpp's grammar
sampler reading the gbnf target allows exactly the tokens llguidance allows reading the
llguidance target, over a 32k BPE vocabulary trained on the standard library.

Agreement on whole strings (the other differential tests) does not imply this: a model
meets the grammar one token at a time, and tokens cross lexeme boundaries, end inside a
UTF-8 sequence, or stop at the end of sequence. llama.cpp reads only code points and has
two documented token-level deviations (``backends/gbnf/printer.py``): no token that starts with
NUL is ever allowed, and bytes that are not UTF-8 are read as code points. Neither may
show here: the Python grammars refuse NUL as Python does, and the gbnf backend writes no
negated class. The masks are compared over the whole vocabulary.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ananke.engines.bpe import hf_tokenizer, llg_tokenizer
from ananke.engines.llamacpp_sampler import LlamaVocab

from benchmarks import common
from benchmarks.engines import llamacpp_masks_against_llguidance

ROOT = Path(__file__).resolve().parents[2]

FUNCTIONS = 3
"""Standard-library functions per set, the first of those the mask benchmark consumes:
llama.cpp takes about 0.1 s per 32k mask on the Python grammar."""


@pytest.mark.parametrize("example", [None, "api_handler"], ids=["no-constraint", "api_handler"])
def test_llamacpp_masks_equal_llguidances(
    example: str | None, bpe32k: Path, llama32k: LlamaVocab
) -> None:
    if example is None:
        gbnf = common.unconstrained_grammar("gbnf")
        lark = common.unconstrained_grammar("llguidance")
        texts = [(f.key, f.text) for f in common.mask_functions(40)]
    else:
        source = (ROOT / "examples" / f"{example}.ariadne").read_text(encoding="utf-8")
        gbnf = common.grammar_of_source(source, target="gbnf")
        lark = common.grammar_of_source(source, target="llguidance")
        texts = common.adapted_for_api_handler(common.mask_functions(40))
    short = [(k, t) for k, t in texts if t.count("\n") <= 8][:FUNCTIONS]
    assert len(short) == FUNCTIONS
    hf = hf_tokenizer(bpe32k)
    encoded = [(k, hf.encode(t).ids) for k, t in short]
    result = llamacpp_masks_against_llguidance(llama32k, gbnf, llg_tokenizer(bpe32k), lark, encoded)
    assert result.errors == []
    assert result.texts_ok == FUNCTIONS
    assert result.masks == sum(len(ids) + 1 for _, ids in encoded)
    assert result.differences == []
