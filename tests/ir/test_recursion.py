"""The recursion rewrites of ``ananke.ir.lowerings.recursion``: each keeps the language of
every rule and removes the shape it is named after.

The oracle is independent of the module: the strings of each rule up to :data:`N`
characters over a two-letter alphabet, computed from the rules by a fixpoint over finite
sets (every rule starts with no string; each round rebuilds every body from the last
round's sets, until none changes).
"""

from __future__ import annotations

from ananke.ir.grammar import Alt, CharClass, Empty, Expr, Grammar, Lit, Ref, Repeat, Rule, Seq
from ananke.ir.grammar import refs as _refs
from ananke.ir.lowerings.recursion import (
    nullable_rules,
    recursive_groups,
    solve_right_linear,
    without_empty_loops,
    without_idle_rules,
    without_left_recursion,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import examples

N = 5
"""Strings are compared up to this length."""
ALPHABET = "ab"
"""The characters a class contributes (literals are what they are)."""

Lang = frozenset[str]


def _cat(a: Lang, b: Lang) -> Lang:
    return frozenset(x + y for x in a for y in b if len(x) + len(y) <= N)


def _strings(expr: Expr, env: dict[str, Lang]) -> Lang:
    match expr:
        case Lit(text=text):
            return frozenset({text}) if len(text) <= N else frozenset()
        case CharClass(ranges=ranges, negated=negated):
            # Strings over ALPHABET only: the restriction composes, so both sides agree.
            return frozenset(
                ch for ch in ALPHABET if any(lo <= ord(ch) <= hi for lo, hi in ranges) != negated
            )
        case Empty():
            return frozenset({""})
        case Ref(name=name):
            return env[name]
        case Seq(items=items):
            out: Lang = frozenset({""})
            for item in items:
                out = _cat(out, _strings(item, env))
            return out
        case Alt(items=items):
            return frozenset().union(*(_strings(i, env) for i in items))
        case Repeat(item=item, min=lo, max=hi):
            one = _strings(item, env)
            out, power = (frozenset({""}) if lo == 0 else frozenset()), frozenset({""})
            top = N + 1 if hi is None else min(hi, N + 1 + lo)
            for k in range(1, top + 1):
                power = _cat(power, one)
                if k >= lo:
                    out |= power
            return out
    raise AssertionError(f"the oracle has no case for {expr!r}")


def languages(grammar: Grammar) -> dict[str, Lang]:
    env: dict[str, Lang] = {r.name: frozenset() for r in grammar.rules}
    while True:
        new = {r.name: _strings(r.body, env) for r in grammar.rules}
        if new == env:
            return env
        env = new


def _same_rules(before: Grammar, after: Grammar) -> None:
    """Every rule of ``before`` matches the same strings in ``after``."""
    old, new = languages(before), languages(after)
    for name, strings in old.items():
        assert new[name] == strings, name


A, B = Lit(text="a"), Lit(text="b")
NAMES = ("s", "t", "u")
leaves = st.sampled_from([A, B, Lit(text=""), Lit(text="ab"), Empty()]) | st.sampled_from(
    [Ref(name=n) for n in NAMES]
)
exprs = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Seq(items=tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Alt(items=tuple(xs))),
        st.tuples(inner, st.integers(0, 2), st.sampled_from([None, 0, 1, 2, 3])).map(
            lambda t: Repeat(item=t[0], min=t[1], max=None if t[2] is None else t[1] + t[2])
        ),
    ),
    max_leaves=6,
)
grammars = st.lists(exprs, min_size=3, max_size=3).map(
    lambda bodies: Grammar(
        start="s", rules=tuple(Rule(name=n, body=b) for n, b in zip(NAMES, bodies, strict=True))
    )
)


def _alternatives(body: Expr) -> tuple[Expr, ...]:
    return body.items if isinstance(body, Alt) else (body,)


def _first_item(alt: Expr) -> Expr | None:
    items = alt.items if isinstance(alt, Seq) else (alt,)
    return items[0] if items else None


@settings(max_examples=examples(200), deadline=None)
@given(grammars)
@example(  # A ::= A | (a | A): the A inside the group was left (found by a random seed)
    Grammar(
        start="s",
        rules=(
            Rule(name="s", body=Alt(items=(Ref(name="s"), Alt(items=(A, Ref(name="s")))))),
            Rule(name="t", body=A),
            Rule(name="u", body=A),
        ),
    )
)
def test_left_recursion_becomes_a_repeat(grammar: Grammar) -> None:
    out = without_left_recursion(grammar)
    _same_rules(grammar, out)
    for rule in out.rules:
        for alt in _alternatives(rule.body):
            assert _first_item(alt) != Ref(name=rule.name), rule


def test_left_recursion_in_the_documented_form() -> None:
    # block ::= stmt | block stmt
    grammar = Grammar(
        start="block",
        rules=(
            Rule(
                name="block",
                body=Alt(
                    items=(Ref(name="stmt"), Seq(items=(Ref(name="block"), Ref(name="stmt"))))
                ),
            ),
            Rule(name="stmt", body=A),
        ),
    )
    out = without_left_recursion(grammar)
    assert out.rule("block").body == Seq(
        items=(Ref(name="stmt"), Repeat(item=Ref(name="stmt"), min=0, max=None))
    )
    _same_rules(grammar, out)


@settings(max_examples=examples(200), deadline=None)
@given(grammars)
def test_no_unbounded_loop_over_the_empty_string_is_left(grammar: Grammar) -> None:
    out = without_empty_loops(grammar)
    _same_rules(grammar, out)
    env = languages(out)
    for rule in out.rules:
        stack = [rule.body]
        while stack:
            e = stack.pop()
            if isinstance(e, Repeat) and e.max is None:
                assert "" not in _strings(e.item, env), (rule.name, e)
            if isinstance(e, Seq | Alt):
                stack.extend(e.items)
            elif isinstance(e, Repeat):
                stack.append(e.item)


@settings(max_examples=examples(200), deadline=None)
@given(grammars)
def test_idle_rules_are_written_as_what_they_match(grammar: Grammar) -> None:
    out = without_idle_rules(grammar)
    _same_rules(grammar, out)
    # Computed without a length bound: a rule's strings up to N decide it only when none
    # is longer, so the check is on the rules the rewrite changed.
    for old, new in zip(grammar.rules, out.rules, strict=True):
        if new != old:
            assert _refs(old.body) and new.body in (Empty(), Alt(items=()))


def test_rules_that_go_round_in_circles() -> None:
    grammar = Grammar(
        start="a",
        rules=(
            Rule(name="a", body=Ref(name="b")),
            Rule(name="b", body=Ref(name="a")),
            Rule(name="c", body=Repeat(item=Ref(name="c"), min=0, max=2)),
            Rule(name="d", body=Seq(items=(A, Ref(name="d")))),
        ),
    )
    out = without_idle_rules(grammar)
    assert [r.body for r in out.rules] == [Alt(items=()), Alt(items=()), Empty(), Alt(items=())]


@settings(max_examples=examples(200), deadline=None)
@given(grammars)
def test_nullable_rules_are_those_matching_the_empty_string(grammar: Grammar) -> None:
    env = languages(grammar)
    assert nullable_rules(grammar) == {n for n, strings in env.items() if "" in strings}


@settings(max_examples=examples(200), deadline=None)
@given(grammars)
def test_recursive_groups_are_the_cycles_the_start_reaches(grammar: Grammar) -> None:
    rules = {r.name: r for r in grammar.rules}
    step = {n: set(_refs(r.body)) & rules.keys() for n, r in rules.items()}
    reach = {n: set(s) for n, s in step.items()}
    for _ in rules:  # transitive closure, one step at a time
        for n in reach:
            reach[n] |= set().union(*(reach[m] for m in reach[n]))
    from_start = {"s"} | reach["s"]
    expected = {
        frozenset(m for m in from_start if m == n or (m in reach[n] and n in reach[m]))
        for n in from_start
        if n in reach[n]
    }
    assert {frozenset(g) for g in recursive_groups("s", rules)} == expected


def test_right_linear_rules_are_solved_into_expressions() -> None:
    # x ::= "a" y | ""   y ::= "b" x: (ab)*, and y is b(ab)*.
    grammar = Grammar(
        start="x",
        rules=(
            Rule(name="x", body=Alt(items=(Seq(items=(A, Ref(name="y"))), Lit(text="")))),
            Rule(name="y", body=Seq(items=(B, Ref(name="x")))),
        ),
    )
    out = solve_right_linear(grammar)
    for rule in out.rules:
        assert not _refs(rule.body) & {"x", "y"}, rule
    _same_rules(grammar, out)
    assert languages(out)["x"] == {"", "ab", "abab"}


@settings(max_examples=examples(200), deadline=None)
@given(grammars)
def test_solving_keeps_every_language(grammar: Grammar) -> None:
    _same_rules(grammar, solve_right_linear(grammar))


def test_the_oracle_counts_what_it_should() -> None:
    grammar = Grammar(
        start="s",
        rules=(Rule(name="s", body=Alt(items=(Lit(text=""), Seq(items=(A, Ref(name="s"), B))))),),
    )
    assert languages(grammar)["s"] == {"", "ab", "aabb"}
