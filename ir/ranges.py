"""Sets of code points as sorted, disjoint, inclusive ranges, and the set operations on them."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ANY_SCALAR",
    "SURROGATES",
    "Ranges",
    "complement",
    "intersect",
    "merge",
    "minus",
    "union",
    "without_surrogates",
]

Ranges = tuple[tuple[int, int], ...]
"""Code points as sorted, disjoint, inclusive ranges (adjacent ranges joined)."""

ANY_SCALAR: Ranges = ((0, 0xD7FF), (0xE000, 0x10FFFF))
"""Every Unicode scalar value, as code point ranges."""

SURROGATES: Ranges = ((0xD800, 0xDFFF),)
"""The surrogate code points, which are no scalar values: no UTF-8 text holds them."""


def merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """``ranges`` in any order, overlapping or not, as one sorted, disjoint set."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def union(a: Ranges, b: Ranges) -> Ranges:
    return merge((*a, *b))


def intersect(a: Ranges, b: Ranges) -> Ranges:
    out = []
    for lo, hi in a:
        for blo, bhi in b:
            if blo <= hi and lo <= bhi:
                out.append((max(lo, blo), min(hi, bhi)))
    return merge(out)


def minus(a: Ranges, b: Ranges) -> Ranges:
    """The code points of ``a`` that are not in ``b`` (``b`` sorted and disjoint)."""
    out: list[tuple[int, int]] = []
    for lo, hi in a:
        cur = lo
        for blo, bhi in b:
            if bhi < cur or blo > hi:
                continue
            if blo > cur:
                out.append((cur, blo - 1))
            cur = max(cur, bhi + 1)
        if cur <= hi:
            out.append((cur, hi))
    return merge(out)


def complement(ranges: Ranges) -> Ranges:
    """The scalar values not in ``ranges`` (sorted and disjoint)."""
    return minus(ANY_SCALAR, ranges)


def without_surrogates(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """``ranges`` without the surrogates, each range cut in place: the order of the
    others is kept (printers write ranges in the order they are given)."""
    return tuple(piece for r in ranges for piece in minus((r,), SURROGATES))
