"""GrammarIR invariants."""

from __future__ import annotations

import msgspec
import pytest
from ananke.ir.grammar import And, Grammar, Lit, Not, Ref, Regex, Repeat, Rule, Seq, refs, walk


def test_duplicate_rules_and_missing_start_are_rejected() -> None:
    a = Rule(name="start", body=Lit(text="a"))
    with pytest.raises(ValueError, match="duplicate rules: start"):
        Grammar(start="start", rules=(a, a))
    with pytest.raises(ValueError, match="start rule 'main' is not defined"):
        Grammar(start="main", rules=(a,))


def test_verify_finds_undefined_references() -> None:
    g = Grammar(start="start", rules=(Rule(name="start", body=Ref(name="X")),))
    with pytest.raises(ValueError, match="rule 'start' refers to undefined 'X'"):
        g.verify()
    ok = Grammar(
        start="start",
        rules=(
            Rule(name="start", body=Ref(name="X")),
            Rule(name="X", lexeme=True, body=Regex(pattern="[a-z]+")),
        ),
    )
    ok.verify()


def test_rule_invariants() -> None:
    with pytest.raises(ValueError, match="lexemes are UPPERCASE"):
        Rule(name="x", lexeme=True, body=Lit(text="a"))
    with pytest.raises(ValueError, match="negation and intersection need a lexeme"):
        Rule(name="x", body=Not(item=Lit(text="a")))
    with pytest.raises(ValueError, match="bad repeat bounds"):
        Repeat(item=Lit(text="a"), min=3, max=2)


def test_walk_and_refs() -> None:
    body = Seq(items=(Ref(name="A"), Repeat(item=And(items=(Ref(name="B"), Ref(name="A"))))))
    assert refs(body) == {"A", "B"}
    assert [type(n).__name__ for n in walk(body)] == ["Seq", "Ref", "Repeat", "And", "Ref", "Ref"]


def test_grammar_round_trips_through_json() -> None:
    g = Grammar(
        start="start",
        rules=(
            Rule(name="start", body=Seq(items=(Lit(text="a"), Ref(name="B"))), origins=("c.x",)),
            Rule(name="B", lexeme=True, body=Regex(pattern="b+")),
        ),
    )
    data = msgspec.json.encode(g)
    assert msgspec.json.decode(data, type=Grammar) == g
