"""The lark printer: the shared corpus loaded in the real engine (see backend_helpers)."""

from __future__ import annotations

import pytest
from ananke.backends import get_backend

from tests.backends.backend_helpers import CORPUS, Case, cls, lit, ref, rep, rules, seq, validate

TARGET = "lark"


@pytest.mark.parametrize("case", CORPUS, ids=str)
def test_corpus(case: Case) -> None:
    validate(TARGET, case.grammar, case.accept, case.reject)


def test_output_is_plain_lark() -> None:
    """Lowercase rules only, ``~`` repeats, ``()`` for the empty string."""
    text = get_backend(TARGET).emit(
        rules(start=seq(rep(ref("w"), 2, 3), rep(lit("b"), 2), lit("")), w=cls("-", "/"))
    )
    assert text == 'start: w~2..3 ("b"~2 "b"*) ()\nw: /[\\-\\/]/\n'
