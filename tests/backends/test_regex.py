"""The regex target: the ``regular`` lowering, then a Rust-syntax regex loaded by
outlines-core and by llguidance's regex reader."""

from __future__ import annotations

import pytest
from ananke.backends import UnsupportedFeature, get_backend
from ananke.backends.regex.regular import Regular
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Empty, Expr, Grammar, JsonSchema, Rule

from tests.backends.backend_helpers import (
    CORPUS,
    Case,
    alt,
    cls,
    emit,
    lit,
    ref,
    rep,
    rules,
    seq,
    validate,
)

TARGET = "regex"


@pytest.mark.parametrize("case", [c for c in CORPUS if c.regular], ids=str)
def test_corpus(case: Case) -> None:
    validate(TARGET, case.grammar, case.accept, case.reject)


def test_inlining_keeps_every_use() -> None:
    grammar = rules(start=seq(ref("d"), lit("-"), ref("d")), d=alt(lit("0"), lit("1")))
    out = Regular().run(grammar, Diagnostics())
    assert out is not None
    assert [r.name for r in out.rules] == ["start"]
    validate(TARGET, grammar, accept=["0-1", "1-1"], reject=["0-", "2-1", "01"])


@pytest.mark.parametrize(
    ("grammar", "cycle"),
    [
        (rules(start=seq(lit("("), ref("start"), lit(")"))), "`start` -> `start`"),
        (
            rules(start=ref("a"), a=seq(lit("x"), ref("b"), lit("y")), b=alt(Empty(), ref("a"))),
            "`a` -> `b` -> `a`",
        ),
        (  # recursion at both ends of one rule: x^n y^n again
            rules(start=alt(lit(""), seq(lit("x"), ref("start"), lit("y")))),
            "`start` -> `start`",
        ),
    ],
)
def test_recursion_is_not_regular(grammar: Grammar, cycle: str) -> None:
    diags = Diagnostics()
    assert Regular().run(grammar, diags) is None
    (d,) = diags
    assert d.code == "not-regular"
    assert cycle in d.message


def test_right_linear_recursion_is_solved_into_repeats() -> None:
    # a = x b, b = "" | y a | z b: (x (z* y x)* z*) in regex terms; the rules recur only at
    # their ends, as the automata of negated lexemes print themselves.
    grammar = rules(
        start=seq(ref("a"), lit(";")),
        a=seq(lit("x"), ref("b")),
        b=alt(Empty(), seq(lit("y"), ref("a")), seq(lit("z"), ref("b"))),
    )
    validate(
        TARGET,
        grammar,
        accept=["x;", "xz;", "xyx;", "xzzyxz;", "xyxyx;"],
        reject=[";", "xy;", "y;", "xx;", "xzy;"],
    )
    out = Regular().run(grammar, Diagnostics())
    assert out is not None and [r.name for r in out.rules] == ["start"]


def test_recursion_at_the_end_of_an_optional_tail_is_solved() -> None:
    # lst = "a" lst? -- written so where `lst = "a" | "a" lst` would make an engine that
    # follows every alternative carry the "a" twice.
    grammar = rules(start=seq(ref("lst"), lit(";")), lst=seq(lit("a"), rep(ref("lst"), 0, 1)))
    validate(TARGET, grammar, accept=["a;", "aaa;"], reject=[";", "a", "ab;"])


def test_left_recursion_is_solved_into_a_repeat() -> None:
    grammar = rules(start=ref("lst"), lst=alt(lit("b"), seq(ref("lst"), lit(","), lit("b"))))
    validate(TARGET, grammar, accept=["b", "b,b,b"], reject=["", ",b", "b,", "bb"])


def test_unreachable_recursion_is_fine() -> None:
    grammar = rules(start=lit("a"), loop=seq(lit("b"), ref("loop")))
    validate(TARGET, grammar, accept=["a"], reject=["b", ""])


def test_exponential_inlining_is_refused_before_it_is_built() -> None:
    bodies = {f"r{i}": seq(ref(f"r{i + 1}"), ref(f"r{i + 1}")) for i in range(40)}
    grammar = rules(**bodies, r40=lit("ab"))
    diags = Diagnostics()
    assert Regular(max_chars=100_000).run(grammar, diags) is None
    assert [d.code for d in diags] == ["regex-too-large"]


def test_printed_size_limit() -> None:
    # One rule already: the backend alone, past the pass's estimate.
    grammar = rules(start=alt(*(lit(f"w{i}") for i in range(20_000))))
    with pytest.raises(UnsupportedFeature) as info:
        get_backend(TARGET).emit(grammar)
    assert [d.code for d in info.value.diagnostics] == ["regex-too-large"]


def test_no_json_schema_in_a_regex() -> None:
    grammar = Grammar(start="start", rules=(Rule(name="start", body=JsonSchema(schema="{}")),))
    with pytest.raises(UnsupportedFeature) as info:
        get_backend(TARGET).emit(grammar)
    assert [d.code for d in info.value.diagnostics] == ["target-cannot-express"]


def test_printed_form() -> None:
    text = emit(
        TARGET, rules(start=seq(rep(cls("a", "-"), 0, 3), lit("a.b"), alt(lit("x"), Empty())))
    )
    assert text == "(?:[a\\x{2d}]{0,3}a\\x{2e}b(?:x|(?:)))$\n"


@pytest.mark.parametrize(
    ("body", "accept", "reject"),
    [
        (alt(lit("a"), lit("ab")), ["a", "ab"], ["", "b", "abb"]),
        (alt(rep(lit("a")), lit("b")), ["", "a", "aa", "b"], ["ab", "bb"]),
        (alt(Empty(), lit("x"), lit("y")), ["", "x", "y"], ["xy"]),
        (seq(lit("x"), alt(Empty(), lit("b"))), ["x", "xb"], ["", "xbb"]),
        (seq(rep(lit("a"), 0, 1), rep(lit("b"))), ["", "a", "ab", "bbb"], ["ba", "aa"]),
    ],
)
def test_alternative_order_does_not_matter(
    body: Expr, accept: list[str], reject: list[str]
) -> None:
    """outlines-core's leftmost-first index would reject ``ab`` for ``a|ab``: the printed
    form defers every match to the end."""
    validate(TARGET, rules(start=body), accept, reject)
