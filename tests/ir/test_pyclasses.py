"""``\\d``, ``\\w``, ``\\s`` and their negations are the ranges Python's ``re`` matches:
checked on every code point against ``re`` itself, on whatever Python runs the suite."""

from __future__ import annotations

import itertools
import re

import pytest
from ananke.ir.pyclasses import python_class


def _member(ranges: tuple[tuple[int, int], ...], cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _as_set(ranges: tuple[tuple[int, int], ...]) -> set[int]:
    return {cp for lo, hi in ranges for cp in range(lo, hi + 1)}


@pytest.mark.parametrize("escape", list("dDwWsS"))
def test_every_code_point_as_re_reads_it(escape: str) -> None:
    ranges = python_class(escape)
    assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(ranges))
    members = _as_set(ranges)
    oracle = re.compile(f"\\{escape}")
    wrong = [
        cp
        for cp in range(0x110000)
        if not 0xD800 <= cp <= 0xDFFF and (oracle.fullmatch(chr(cp)) is not None) != (cp in members)
    ]
    assert wrong == []
    assert not any(0xD800 <= cp <= 0xDFFF for cp in members)


@pytest.mark.parametrize("escape", list("dDwWsS"))
def test_ascii_flag(escape: str) -> None:
    ranges = python_class(escape, ascii=True)
    oracle = re.compile(f"\\{escape}", re.ASCII)
    for cp in [*range(0x200), 0x3000, 0x0660, 0x10FFFF]:
        assert (oracle.fullmatch(chr(cp)) is not None) == _member(ranges, cp), hex(cp)


def test_not_a_class() -> None:
    with pytest.raises(ValueError):
        python_class("x")
