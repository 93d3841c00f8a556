"""The xgrammar printer: the shared corpus loaded in the real engine (see backend_helpers)."""

from __future__ import annotations

import pytest

from backend_helpers import CORPUS, Case, validate

TARGET = "xgrammar"


@pytest.mark.parametrize("case", CORPUS, ids=str)
def test_corpus(case: Case) -> None:
    validate(TARGET, case.grammar, case.accept, case.reject)
