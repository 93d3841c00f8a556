"""The xgrammar printer: the shared corpus loaded in the real engine (see backend_helpers)."""

from __future__ import annotations

import re

import pytest
from ananke.backends import get_backend
from ananke.ir.grammar import Expr

from tests.backends.backend_helpers import (
    CORPUS,
    Case,
    cls,
    emit,
    lit,
    ref,
    rep,
    rules,
    seq,
    validate,
)
from tests.engine_worker import EngineCrash, worker

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


def test_hex_digit_after_two_ranges_ending_in_escapes() -> None:
    """Both ranges of ``[\\x1f0-\\x7f]`` end in a character XGrammar keeps as ``\\xHH``, so
    one of them is followed by a hex digit (found by the transpile fuzz)."""
    grammar = rules(start=cls("\x1f", (0x30, 0x7F), (0xC0, 0xE9)))
    validate(
        TARGET,
        grammar,
        accept=["\x1f", "0", "9", "A", "\x7f", "\xc0", "é"],
        reject=["\x1e", "/", "\x80", "\u01f0", "ê"],
    )


@pytest.mark.parametrize(
    ("lo", "hi", "accept", "reject"),
    [
        (0, 256, [0, 1, 16, 17, 255, 256], [257]),
        (1, 100, [1, 10, 11, 99, 100], [0, 101]),
        (40, 40, [40], [39, 41]),
        (20, None, [20, 21, 300], [19]),
    ],
)
def test_large_bounds_are_split_with_the_same_language(
    lo: int, hi: int | None, accept: list[int], reject: list[int]
) -> None:
    # XGrammar unrolls a bound into rules and precomputes a mask for each copy; the
    # small-repeats lowering keeps every bound at 16 or less.
    grammar = rules(start=seq(lit("<"), rep(seq(cls(" "), lit("x")), lo, hi), lit(">")))
    text = emit(TARGET, grammar)
    assert max(int(b) for b in re.findall(r"\d+(?=[,}])", text)) <= 16, text
    validate(TARGET, grammar, [f"<{' x' * n}>" for n in accept], [f"<{' x' * n}>" for n in reject])


@pytest.mark.parametrize(
    ("body", "accept"),
    [
        (rep(ref("start"), 0, 2), [""]),
        (rep(ref("start"), 2), []),
        (rep(ref("start"), 1, 2), []),
    ],
)
def test_a_rule_that_only_repeats_itself_is_what_it_matches(body: Expr, accept: list[str]) -> None:
    """XGrammar 0.2.9 crashes (SIGSEGV) compiling `root ::= root{0,2}`, `root{2}` or
    `root{1,2}` (found by the transpile fuzz). The `small-repeats` lowering writes such a
    rule as what it matches: the empty string, or nothing."""
    grammar = rules(start=body)
    assert "root{" not in emit(TARGET, grammar)
    validate(TARGET, grammar, accept, [s for s in ("", "a") if s not in accept])
    # As printed without the lowering, XGrammar dies: run it in the worker process.
    with pytest.raises(EngineCrash, match="died"):
        worker().compile("xgrammar-ebnf", get_backend(TARGET).emit(grammar))
