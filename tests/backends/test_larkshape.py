"""The ``lark-shape`` lowering: the language is unchanged, and the lark package expands
every rule it prints into few alternatives.

The language oracle is :func:`test_repeats.lengths` (grammars over ``a`` alone, their
length sets computed by set arithmetic). The expansion counts are lark's own: the rules
the lark package builds from the printed grammar.
"""

from __future__ import annotations

from collections import Counter

import lark
from ananke.backends import get_backend
from ananke.backends.lark.larkshape import LARK_MAX_ALTERNATIVES, LARK_MAX_BOUND, LarkShape, width
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Alt, Empty, Expr, Grammar, Lit, Ref, Repeat, Rule, Seq, walk
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import examples
from tests.ir.test_repeats import lengths

A, AA = Lit(text="a"), Lit(text="aa")


def _repeat(item: Expr, lo: int, extra: int | None) -> Repeat:
    return Repeat(item=item, min=lo, max=None if extra is None else lo + extra)


exprs = st.recursive(
    st.sampled_from([A, AA, Empty()]),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=4).map(lambda xs: Seq(items=tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Alt(items=tuple(xs))),
        st.builds(_repeat, inner, st.integers(0, 5), st.one_of(st.none(), st.integers(0, 60))),
    ),
    max_leaves=10,
)


def _grammar(body: Expr) -> Grammar:
    return Grammar(start="start", rules=(Rule(name="start", body=body),))


def _shaped(grammar: Grammar) -> Grammar:
    return LarkShape().run(grammar, Diagnostics())


def lark_alternatives(grammar: Grammar) -> Counter[str]:
    """How many alternatives the lark package builds for each rule of ``grammar`` printed
    by the ``lark`` backend (rules it makes for ``*`` and ``+`` left out)."""
    parser = lark.Lark(get_backend("lark").emit(grammar), parser="earley", lexer="dynamic")
    names = {r.name for r in grammar.rules}
    return Counter(r.origin.name for r in parser.rules if r.origin.name in names)


@settings(max_examples=examples(150), deadline=None)
@given(body=exprs)
def test_the_language_is_unchanged(body: Expr) -> None:
    before = _grammar(body)
    after = _shaped(before)
    after.verify()
    assert lengths(after, cap=300) == lengths(before, cap=300)


@settings(max_examples=examples(60), deadline=None)
@given(body=exprs)
def test_every_sequence_and_repeat_expands_into_few_alternatives(body: Expr) -> None:
    after = _shaped(_grammar(body))
    for rule in after.rules:
        for node in walk(rule.body):
            if isinstance(node, Seq):
                assert width(node) <= LARK_MAX_ALTERNATIVES
            if isinstance(node, Repeat):
                assert max(node.min, node.max or 0) <= LARK_MAX_BOUND
                assert width(node.item) == 1 or (node.max or node.min) <= 1
    # The model of lark's expansion is an upper bound on what lark builds.
    counts = lark_alternatives(after)
    for rule in after.rules:
        assert counts[rule.name] <= width(rule.body)


def test_a_grammar_lark_could_not_expand_builds_small() -> None:
    # Six runs of `a | b` in one sequence: lark would write (2^17 - 1)^6 alternatives for
    # it, and a bounded block of such lines repeats the whole sequence up to 40 times.
    ab = Alt(items=(Lit(text="a"), Lit(text="b")))
    line = Seq(items=(*[Repeat(item=ab, min=0, max=16)] * 6, Lit(text=";")))
    body = Seq(items=(Repeat(item=Ref(name="line"), min=1, max=40), Lit(text=".")))
    before = Grammar(
        start="start", rules=(Rule(name="start", body=body), Rule(name="line", body=line))
    )
    assert width(line) > 10**7
    after = _shaped(before)
    counts = lark_alternatives(after)
    assert sum(counts.values()) < 200
    assert max(counts.values()) <= LARK_MAX_ALTERNATIVES
    parser = lark.Lark(get_backend("lark").emit(after), parser="earley", lexer="dynamic")
    parser.parse("ab" * 48 + ";" + "b;" * 39 + ".")
    for wrong in ("ab" * 49 + ";.", "b;" * 41 + ".", ";" * 40, "."):
        try:
            parser.parse(wrong)
        except lark.exceptions.UnexpectedInput:
            continue
        raise AssertionError(f"accepted {wrong!r}")


def test_small_grammars_are_left_alone() -> None:
    # 5 x 2 x 1 alternatives (``aa+`` is a rule of lark's); one more part would be 20.
    body = Seq(items=(Repeat(item=A, min=0, max=4), Alt(items=(A, AA)), Repeat(item=AA, min=1)))
    before = _grammar(body)
    assert _shaped(before) == before
    wider = _grammar(Seq(items=(*body.items, Repeat(item=A, min=0, max=1))))
    assert _shaped(wider) != wider
