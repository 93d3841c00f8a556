"""Splitting large repeat bounds (``small-repeats`` for XGrammar, and ``llamacpp-shape``'s
bounds of 2,000 or more): the language is unchanged and no bound is left over the limit.

The oracle is exact: for a grammar over the single character ``a``, the set of lengths it
matches is computed from the rules by set arithmetic, independently of the pass.
"""

from __future__ import annotations

import functools

from ananke.ir.grammar import Alt, Empty, Expr, Grammar, Lit, Ref, Repeat, Rule, Seq, walk
from ananke.ir.passes.repeats import RepeatSplitter
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import examples

CAP = 1200
"""Lengths are compared up to here (every bound drawn below is smaller)."""

A = Lit(text="a")


def lengths(grammar: Grammar, cap: int = CAP) -> frozenset[int]:
    """The lengths of the strings of ``grammar`` (over ``a`` alone), up to ``cap``."""
    by_name = {r.name: r.body for r in grammar.rules}

    @functools.cache
    def of(expr: Expr) -> frozenset[int]:
        match expr:
            case Lit(text=text):
                return frozenset({len(text)})
            case Empty():
                return frozenset({0})
            case Ref(name=name):
                return of(by_name[name])
            case Seq(items=items):
                out = frozenset({0})
                for item in items:
                    out = frozenset(a + b for a in out for b in of(item) if a + b <= cap)
                return out
            case Alt(items=items):
                return frozenset().union(*map(of, items))
            case Repeat(item=item, min=lo, max=hi):
                one, reached, now = of(item), set(), frozenset({0})
                for count in range(cap + 1 if hi is None else hi + 1):
                    if count >= lo:
                        reached |= now
                    now = frozenset(a + b for a in now for b in one if a + b <= cap)
                    if not now or (hi is None and now <= reached and count >= lo):
                        break
                return frozenset(reached)
        raise AssertionError(f"unexpected node {expr!r}")

    return of(by_name[grammar.start])


def bounds(grammar: Grammar) -> list[int]:
    return [
        b
        for r in grammar.rules
        for n in walk(r.body)
        if isinstance(n, Repeat)
        for b in (n.min, n.max)
        if b is not None
    ]


def split(lo: int, hi: int | None, limit: int, rules: bool) -> tuple[Grammar, Grammar]:
    body = Seq(items=(Repeat(item=A, min=lo, max=hi), Repeat(item=A, min=0, max=1)))
    grammar = Grammar(start="start", rules=(Rule(name="start", body=body),))
    return grammar, RepeatSplitter(limit, rules=rules).run(grammar)


@settings(max_examples=examples(300), deadline=None)
@given(
    lo=st.integers(0, 500),
    extra=st.one_of(st.none(), st.integers(0, 500)),
    limit=st.integers(2, 40),
    rules=st.booleans(),
)
def test_split_repeats_match_the_same_lengths(
    lo: int, extra: int | None, limit: int, rules: bool
) -> None:
    before, after = split(lo, None if extra is None else lo + extra, limit, rules)
    assert lengths(after) == lengths(before)
    assert max(bounds(after)) <= limit
    after.verify()


def test_the_factored_forms() -> None:
    # 100 = 10 x 10: whole blocks of ten and a rest; 257 is prime, so one copy comes first.
    _, g = split(1, 100, 16, rules=False)
    x10 = Repeat(item=A, min=10, max=10)
    blocks = Seq(items=(Repeat(item=x10, min=0, max=9), Repeat(item=A, min=0, max=9)))
    assert g.rule("start").body == Seq(items=(A, *blocks.items, Repeat(item=A, min=0, max=1)))
    _, g = split(0, 256, 16, rules=False)
    x16 = Repeat(item=A, min=16, max=16)
    rest = Seq(items=(A, Repeat(item=x16, min=0, max=15), Repeat(item=A, min=0, max=15)))
    assert g.rule("start").body.items[0] == Alt(items=(Empty(), rest))  # type: ignore[union-attr]


def test_parts_become_shared_rules_only_when_asked() -> None:
    _, inline = split(0, 256, 16, rules=False)
    assert [r.name for r in inline.rules] == ["start"]
    _, ruled = split(0, 256, 16, rules=True)
    first, *made = (r.name for r in ruled.rules)
    assert first == "start" and made and all(name.startswith("rep") for name in made)
    assert lengths(ruled) == lengths(inline)


def test_bounds_within_the_limit_are_left_alone() -> None:
    before, after = split(3, 16, 16, rules=True)
    assert after == before
