"""The ``char-level`` lowering: every lexeme written out as rules over characters, with the
same strings, and nothing a target without a lexer cannot print left over.

The oracle is Python's ``re`` for each regex (negation and intersection as set operations
on its answers) against the strings of the lowered grammar, computed by the fixpoint of
test_recursion.py; neither shares code with the automata the pass uses.
"""

from __future__ import annotations

import itertools
import re

import pytest
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import (
    And,
    Expr,
    Grammar,
    JsonSchema,
    Lit,
    Not,
    Ref,
    Regex,
    Rule,
    Seq,
    Special,
    walk,
)
from ananke.ir.lowerings import CannotLower
from ananke.ir.lowerings.charlevel import CharLevel
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import examples
from tests.ir.test_recursion import ALPHABET, N, languages

STRINGS = ["".join(p) for k in range(N + 1) for p in itertools.product(ALPHABET, repeat=k)]


def _matches(expr: Expr, s: str) -> bool:
    match expr:
        case Regex(pattern=pattern):
            return re.fullmatch(pattern, s) is not None
        case Lit(text=text):
            return s == text
        case Not(item=item):
            return not _matches(item, s)
        case And(items=items):
            return all(_matches(i, s) for i in items)
    raise AssertionError(f"the oracle has no case for {expr!r}")


atoms = st.sampled_from(["a", "b", "[ab]", "a*", "b+", "(ab)*", "a?b", "(a|bb)+", "[ab]{1,3}"])
regexes = st.lists(atoms, min_size=1, max_size=3).map("".join).map(lambda p: Regex(pattern=p))
lexemes = st.recursive(
    regexes,
    lambda inner: st.one_of(
        inner.map(lambda e: Not(item=e)),
        st.lists(inner, min_size=2, max_size=2).map(lambda xs: And(items=tuple(xs))),
    ),
    max_leaves=3,
)


def _lowered(body: Expr) -> Grammar | None:
    """``start: ID`` with ``ID`` = ``body``, lowered; None when the pass refused ``ID`` for
    matching no string at all."""
    grammar = Grammar(
        start="start",
        rules=(Rule(name="start", body=Ref(name="ID")), Rule(name="ID", body=body, lexeme=True)),
    )
    try:
        out = CharLevel().run(grammar, Diagnostics())
    except CannotLower as exc:
        assert "matches no string at all" in exc.message
        return None
    out.verify()
    return out


@settings(max_examples=examples(200), deadline=None)
@given(lexemes)
def test_a_lexeme_keeps_its_strings(body: Expr) -> None:
    expected = {s for s in STRINGS if _matches(body, s)}
    out = _lowered(body)
    assert (languages(out)["start"] if out is not None else frozenset()) == expected


@settings(max_examples=examples(100), deadline=None)
@given(lexemes)
def test_no_lexeme_regex_negation_or_intersection_is_left(body: Expr) -> None:
    out = _lowered(body)
    if out is None:
        return
    assert not any(r.lexeme for r in out.rules)
    for rule in out.rules:
        assert not [n for n in walk(rule.body) if isinstance(n, Regex | Not | And)], rule


def test_lexemes_get_lowercase_names_that_clash_with_no_rule() -> None:
    grammar = Grammar(
        start="start",
        rules=(
            Rule(name="start", body=Seq(items=(Ref(name="ID"), Ref(name="id")))),
            Rule(name="ID", body=Regex(pattern="a"), lexeme=True),
            Rule(name="id", body=Lit(text="b")),
        ),
    )
    out = CharLevel().run(grammar, Diagnostics())
    assert sorted(r.name for r in out.rules) == ["id", "id_", "start"]
    assert languages(out)["start"] == {"ab"}


@pytest.mark.parametrize("node", [JsonSchema(schema="{}"), Special(name="eos")])
def test_what_no_character_rule_holds_is_refused_with_nothing_to_demote(node: Expr) -> None:
    grammar = Grammar(
        start="start", rules=(Rule(name="start", body=node, origins=("python.naming",)),)
    )
    with pytest.raises(CannotLower) as info:
        CharLevel().run(grammar, Diagnostics())
    assert (info.value.code, info.value.rule) == ("target-cannot-express", "start")
    # The output itself is JSON (or the token is the language's): no constraint to demote.
    assert info.value.origins == ()


def test_a_lexeme_over_the_state_bound_is_refused() -> None:
    body = And(items=(Regex(pattern="[ab]*a[ab]{12}"), Not(item=Regex(pattern="b*"))))
    grammar = Grammar(
        start="start",
        rules=(Rule(name="start", body=Ref(name="ID")), Rule(name="ID", body=body, lexeme=True)),
    )
    with pytest.raises(CannotLower, match="automaton"):
        CharLevel(max_states=100).run(grammar, Diagnostics())
