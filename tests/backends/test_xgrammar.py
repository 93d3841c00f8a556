"""The xgrammar printer: the shared corpus loaded in the real engine (see backend_helpers)."""

from __future__ import annotations

import pytest
from ananke.backends import get_backend
from backend_helpers import CORPUS, Case, cls, lit, rep, rules, seq, validate

TARGET = "xgrammar"


@pytest.mark.parametrize("case", CORPUS, ids=str)
def test_corpus(case: Case) -> None:
    validate(TARGET, case.grammar, case.accept, case.reject)


def test_nul_and_hex_digit_after_an_escape() -> None:
    """XGrammar reads ``\\x`` greedily and cuts strings at NUL: both are worked around."""
    grammar = rules(start=seq(lit("\x01B\0a"), cls("\0"), cls("\0", "a")))
    validate(TARGET, grammar, accept=["\x01B\0a\0\0", "\x01B\0a\0a"], reject=["\x01Ba", "\x01B\0a"])


def test_bounded_repeat_is_never_open_at_the_bottom() -> None:
    text = get_backend(TARGET).emit(rules(start=rep(lit("a"), 0, 4)))
    assert text == 'root ::= "a"{0,4}\n'


def test_latin1_character_before_a_hex_digit() -> None:
    """XGrammar misreads ``"éB"`` and ``[éB]`` (it stores é as ``\\xe9``): worked around."""
    grammar = rules(start=seq(lit("éB\x7f0caf\x01é1"), cls("B", "é"), cls((0x01, 0x02), "7")))
    validate(
        TARGET,
        grammar,
        accept=["éB\x7f0caf\x01é1B\x01", "éB\x7f0caf\x01é1é7"],
        reject=["éB\x7f0caf\x01é1\x007", "éB"],
    )
