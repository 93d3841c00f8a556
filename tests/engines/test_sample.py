"""Sampling members of an llguidance grammar's language, and mutating them."""

from __future__ import annotations

import random
import re

import pytest
from ananke.engines.acceptance import ByteMatcher
from ananke.engines.sample import mutate, sample_strings

ARRAYS = 'start: "[" (NUM ("," NUM)*)? "]"\nNUM: /-?[0-9]+/'
TEXT_REGEX = r"[^\x01-\x1f]{0,6}(;[a-z]+)?"  # any character but most controls: NUL, é, 😀
TEXT = f"start: /{TEXT_REGEX}/"
NESTED = 'start: item*\nitem: "(" start ")" | "[" start "]" | /[a-c]/'


@pytest.mark.parametrize("grammar", [ARRAYS, TEXT, NESTED])
def test_samples_are_members(grammar: str) -> None:
    samples = sample_strings(grammar, 40, seed=7)
    assert len(samples) == len(set(samples)) > 10
    m = ByteMatcher(grammar)
    assert [s for s in samples if not m.accepts(s)] == []


def test_regex_samples_match_python_re() -> None:
    samples = sample_strings(TEXT, 60, seed=3)
    assert len(samples) > 30
    assert [s for s in samples if not re.fullmatch(TEXT_REGEX, s)] == []
    # The sampler reaches beyond ASCII: multi-byte characters come out whole.
    assert any(any(ord(c) > 0x7F for c in s) for s in samples)


def test_deterministic_per_seed() -> None:
    assert sample_strings(NESTED, 30, seed=1) == sample_strings(NESTED, 30, seed=1)
    assert sample_strings(NESTED, 30, seed=1) != sample_strings(NESTED, 30, seed=2)


def test_small_language_gives_what_there_is() -> None:
    assert sorted(sample_strings('start: "a" | "b" | ""', 10, seed=0)) == ["", "a", "b"]


def test_max_len_bounds_lengths() -> None:
    samples = sample_strings('start: /[a-z]+/ ("," /[a-z]+/)*', 30, seed=5, max_len=20)
    # Past max_len a walk ends as soon as the grammar allows; a lexeme may still be open.
    assert samples and max(len(s) for s in samples) <= 20 * 4


def test_invalid_grammar_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not valid"):
        sample_strings("start: (", 3, seed=0)


def test_mutate_is_deterministic_and_mostly_changes() -> None:
    base = "[12,-3,45]"
    a = [mutate(base, random.Random(i)) for i in range(200)]
    b = [mutate(base, random.Random(i)) for i in range(200)]
    assert a == b
    assert sum(s != base for s in a) > 180
    assert len(set(a)) > 100
    assert mutate("", random.Random(0)) != ""


def test_mutations_are_mostly_rejected() -> None:
    m = ByteMatcher(ARRAYS)
    rng = random.Random(11)
    samples = sample_strings(ARRAYS, 30, seed=11)
    mutants = [mutate(s, rng) for s in samples for _ in range(5)]
    rejected = sum(not m.accepts(s) for s in mutants)
    assert rejected > len(mutants) // 3
