"""The code point range algebra against sets of code points as plain integers.

Ranges are drawn near the surrogates and the ends of Unicode, where the algebra has its
edges; the oracle sets bit ``cp`` of an integer for every code point and uses ``|``, ``&``
and ``~``.
"""

from __future__ import annotations

import itertools

from ananke.ir.automata import scalar_ranges
from ananke.ir.grammar import CharClass
from ananke.ir.ranges import (
    ANY_SCALAR,
    complement,
    intersect,
    merge,
    minus,
    union,
    without_surrogates,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import examples

_SIZE = 0x110000
_NEAR = st.sampled_from([0, 0x7F, 0xD7F0, 0xD800, 0xDBFF, 0xDFF0, 0xE000, 0x10FFF0])


@st.composite
def _range(draw: st.DrawFn) -> tuple[int, int]:
    lo = min(draw(_NEAR) + draw(st.integers(0, 0x20)), _SIZE - 1)
    return lo, min(lo + draw(st.integers(0, 0x900)), _SIZE - 1)


_RANGES = st.lists(_range(), max_size=6)


def _bits(ranges: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> int:
    """The set as an integer: bit ``cp`` is set for each code point ``cp`` in it."""
    out = 0
    for lo, hi in ranges:
        out |= ((1 << (hi - lo + 1)) - 1) << lo
    return out


_ALL = (1 << _SIZE) - 1
_SCALARS = _ALL & ~(((1 << 0x800) - 1) << 0xD800)


def _canonical(ranges: tuple[tuple[int, int], ...]) -> bool:
    """Sorted, disjoint, and no two ranges adjacent."""
    return all(lo <= hi for lo, hi in ranges) and all(
        a[1] + 1 < b[0] for a, b in itertools.pairwise(ranges)
    )


@settings(max_examples=examples(40), deadline=None)
@given(_RANGES, _RANGES)
def test_set_operations(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
    ma, mb = merge(a), merge(b)
    assert _canonical(ma) and _bits(ma) == _bits(a)
    bits_a, bits_b = _bits(a), _bits(b)
    for result, expected in [
        (union(ma, mb), bits_a | bits_b),
        (intersect(ma, mb), bits_a & bits_b),
        (minus(ma, mb), bits_a & ~bits_b),
        (complement(ma), _SCALARS & ~bits_a),
    ]:
        assert _canonical(result)
        assert _bits(result) == expected


@settings(max_examples=examples(40), deadline=None)
@given(_RANGES)
def test_without_surrogates_keeps_the_order(ranges: list[tuple[int, int]]) -> None:
    out = without_surrogates(ranges)
    points = [cp for lo, hi in out for cp in range(lo, hi + 1)]
    assert points == [
        cp for lo, hi in ranges for cp in range(lo, hi + 1) if not 0xD800 <= cp <= 0xDFFF
    ]


@settings(max_examples=examples(40), deadline=None)
@given(_RANGES, st.booleans())
def test_scalar_ranges_of_a_class(ranges: list[tuple[int, int]], negated: bool) -> None:
    out = scalar_ranges(CharClass(ranges=tuple(ranges), negated=negated))
    listed = _ALL & ~_bits(ranges) if negated else _bits(ranges)
    assert _canonical(out)
    assert _bits(out) == listed & _SCALARS


def test_any_scalar_is_every_scalar_value() -> None:
    assert _bits(ANY_SCALAR) == _SCALARS
    assert all(chr(cp).encode("utf-8", "strict") for lo, hi in ANY_SCALAR for cp in (lo, hi))
