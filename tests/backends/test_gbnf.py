"""The GBNF printer: the shared corpus loaded by llama.cpp and by llguidance's GBNF reader
(its ``llamacpp-shape`` lowering: test_llamacpp_shape.py)."""

from __future__ import annotations

import pytest
from ananke.backends import get_backend

from tests.backends.backend_helpers import (
    CORPUS,
    Case,
    cls,
    emit,
    lit,
    load,
    ref,
    rep,
    rules,
    seq,
    validate,
)

TARGET = "gbnf"


@pytest.mark.parametrize("case", [c for c in CORPUS if not c.lexing], ids=str)
def test_corpus(case: Case) -> None:
    validate(TARGET, case.grammar, case.accept, case.reject)


def test_llguidance_reads_non_recursive_rules_as_greedy_lexemes() -> None:
    """The documented deviation: llguidance's converter turns ``word`` into a lexeme, so the
    word swallows the final ``x``; llama.cpp reads GBNF per character and accepts ``abx``."""
    grammar = rules(start=seq(ref("word"), lit("x")), word=rep(cls((0x61, 0x7A)), 1))
    text = emit(TARGET, grammar)
    assert [load("llguidance-gbnf", text)(s) for s in ("abx", "xx")] == [False, False]
    assert [load("llamacpp-gbnf", text)(s) for s in ("abx", "xx")] == [True, True]
    # Inlined into the start rule, each class is its own one-character lexeme again.
    inlined = rules(start=seq(rep(cls((0x61, 0x7A)), 1), lit("x")))
    validate(TARGET, inlined, accept=["abx", "xx"], reject=["x", "ab"])


def test_forms_both_readers_take() -> None:
    text = get_backend(TARGET).emit(
        rules(
            start=seq(rep(lit("a"), 0, 3), rep(ref("b-c"), 2), rep(lit("\\x\n"), 1, 1), lit("\0")),
            **{"b-c": cls("-", "]", (0x1000, 0xFFFF), negated=True)},
        )
    )
    assert text == (
        'root ::= "a"{0,3} b-c{2,} "\\\\x\\n"{1} [\\x00]\n'
        # A negated class is written as what it allows (llama.cpp lets bytes that are not
        # UTF-8 through a negated class; see GBNFBackend.print_class).
        "b-c ::= [\\x00-,.-\\x5c\\x5e-\u0fff\U00010000-\U0010ffff]\n"
    )
