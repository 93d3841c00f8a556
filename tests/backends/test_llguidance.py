"""The llguidance printer: every node prints to Lark that llguidance reads back exactly."""

from __future__ import annotations

import pytest
from ananke.backends import get_backend, target_names
from ananke.engines.acceptance import ByteMatcher
from ananke.ir.grammar import (
    Alt,
    And,
    CharClass,
    Empty,
    Grammar,
    Lit,
    Not,
    Ref,
    Regex,
    Repeat,
    Rule,
    Seq,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import examples

BACKEND = get_backend("llguidance")


def language(*rules: Rule) -> ByteMatcher:
    text = BACKEND.emit(Grammar(start="start", rules=rules))
    assert text.startswith("start:"), "vLLM and llguidance detect Lark by a leading start:"
    return ByteMatcher(text)


def test_registry() -> None:
    assert "llguidance" in target_names()
    with pytest.raises(KeyError):
        get_backend("no-such-target")


def test_precedence_of_sequences_alternatives_and_repeats() -> None:
    m = language(
        Rule(
            name="start",
            body=Seq(
                items=(
                    Repeat(item=Alt(items=(Lit(text="a"), Lit(text="b"))), min=1, max=None),
                    Repeat(item=Seq(items=(Lit(text="c"), Lit(text="d"))), min=0, max=1),
                    Repeat(item=Lit(text="e"), min=2, max=3),
                )
            ),
        )
    )
    assert m.accepts("abee")
    assert m.accepts("bcdeee")
    assert not m.accepts("ee"), "(a|b)+ needs one"
    assert not m.accepts("acee"), "(c d)? is all or nothing"
    assert not m.accepts("aeeee"), "e{2,3}"


def test_one_item_groups_take_their_items_precedence() -> None:
    """A sequence, alternative or intersection of one item binds as its item does: a
    repeat of `Alt((a*,))` is not `a**` (which llguidance refuses), and an alternative
    inside a one-item group inside a sequence stays grouped."""
    a, b = Lit(text="a"), Lit(text="b")
    starred = language(
        Rule(name="start", body=Repeat(item=Alt(items=(Repeat(item=a, min=0, max=None),)), min=0))
    )
    assert starred.accepts("") and starred.accepts("aaa")
    assert not starred.accepts("ab")
    grouped = language(Rule(name="start", body=Seq(items=(a, Alt(items=(Alt(items=(a, b)),))))))
    assert grouped.accepts("aa") and grouped.accepts("ab")
    assert not grouped.accepts("a") and not grouped.accepts("b"), "a (a | b), not a a | b"


def test_grammars_sharing_rules_print_them_alike() -> None:
    # Lowering a file prints many grammars that share rule objects; each prints as if alone.
    word = Rule(name="WORD", body=Regex(pattern="[a-z]+"), lexeme=True)
    start = Rule(name="start", body=Ref(name="WORD"))
    plain = BACKEND.emit(Grammar(start="start", rules=(start, word)))
    assert BACKEND.emit(Grammar(start="start", rules=(word, start))).startswith("start:")
    dash = Rule(name="a-b", body=Lit(text="-"))
    odd = Grammar(
        start="start",
        rules=(Rule(name="start", body=Seq(items=(Ref(name="WORD"), Ref(name="a-b")))), word, dash),
    )
    text = BACKEND.emit(odd)
    assert "a-b" not in text, "a GBNF name is renamed even beside rules printed before"
    assert ByteMatcher(text).accepts("abc-")
    assert BACKEND.emit(Grammar(start="start", rules=(start, word))) == plain


def test_lexeme_negation_intersection_and_classes() -> None:
    m = language(
        Rule(name="start", body=Seq(items=(Ref(name="WORD"), Lit(text=";")))),
        Rule(
            name="WORD",
            lexeme=True,
            body=And(
                items=(
                    Repeat(item=CharClass(ranges=((0x61, 0x7A), (0xE9, 0xE9))), min=1),
                    Not(item=Regex(pattern="eval|exec")),
                )
            ),
        ),
    )
    assert m.accepts("evaluate;")
    assert m.accepts("café;")
    assert not m.accepts("eval;")
    assert not m.accepts("Eval;")


def test_empty_and_negated_class() -> None:
    m = language(
        Rule(
            name="start",
            body=Seq(items=(Alt(items=(Empty(), Lit(text="x"))), Ref(name="NOTDIGIT"))),
        ),
        Rule(name="NOTDIGIT", lexeme=True, body=CharClass(ranges=((0x30, 0x39),), negated=True)),
    )
    assert m.accepts("a")
    assert m.accepts("x-")
    assert not m.accepts("7")


@pytest.mark.parametrize("lexeme", [False, True])
def test_no_alternative_matches_nothing(lexeme: bool) -> None:
    # An empty Alt printed as nothing was the empty string: "a" followed by it matched "a".
    name = "NONE" if lexeme else "none"
    m = language(
        Rule(name="start", body=Seq(items=(Lit(text="a"), Ref(name=name)))),
        Rule(name=name, lexeme=lexeme, body=Alt(items=())),
    )
    for text in ("", "a", "ab", "a\n"):
        assert not m.accepts(text), text


@pytest.mark.parametrize(
    ("pattern", "inside", "outside"),
    [
        # Lark's CPP_COMMENT: the second of two slashes was left unescaped and ended the
        # regex (found by the transpile fuzz, which loads every print in its engines).
        ("//[^\n]*", ["//", "// x/y"], ["/", "/ /"]),
        ("a//b", ["a//b"], ["a/b"]),
        (r"\\//", [r"\//"], [r"\/", "//"]),  # an escaped backslash, then two slashes
        (r"\/[/]", ["//"], ["/"]),  # already escaped, and in a class
    ],
)
def test_every_unescaped_slash_of_a_regex_is_escaped(
    pattern: str, inside: list[str], outside: list[str]
) -> None:
    m = language(
        Rule(name="start", body=Ref(name="R")),
        Rule(name="R", lexeme=True, body=Regex(pattern=pattern)),
    )
    assert all(map(m.accepts, inside))
    assert not any(map(m.accepts, outside))


def test_an_empty_regex_is_the_empty_string() -> None:
    """`//` starts a comment in Lark: an imported `/a{0}/` printed so hid the rest of its
    line from llguidance (found by the transpile fuzz)."""
    m = language(
        Rule(
            name="start",
            body=Seq(items=(Repeat(item=Regex(pattern="")), Regex(pattern=""), Lit(text="b"))),
        )
    )
    assert m.accepts("b")
    assert not m.accepts("") and not m.accepts("bb")


def test_surrogates_are_left_out_of_classes() -> None:
    """llguidance refuses `[\\x{dfff}]` (no scalar value): an imported `[\\uDFFF]` made it
    refuse the whole print (found by the transpile fuzz). No text holds a surrogate, so the
    class without them has the same strings; with none left it is no character, or any."""
    m = language(
        Rule(
            name="start",
            body=Alt(
                items=(
                    Seq(items=(Lit(text="x"), CharClass(ranges=((0xDFFF, 0xDFFF),)))),
                    Seq(items=(Lit(text="y"), CharClass(ranges=((0xD800, 0xDFFF),), negated=True))),
                    Seq(items=(Lit(text="z"), CharClass(ranges=((0x61, 0x61), (0xD900, 0xE000))))),
                )
            ),
        )
    )
    assert [s for s in ("y\n", "yé", "y😀", "za", "z\ue000") if not m.accepts(s)] == []
    assert [s for s in ("x", "xa", "y", "yab", "zb", "z\ud7ff") if m.accepts(s)] == []


@settings(max_examples=examples(60), deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_any_literal_matches_exactly_itself(text: str) -> None:
    """Quotes, backslashes, newlines, NUL, astral characters: a literal is that string."""
    m = language(Rule(name="start", body=Seq(items=(Lit(text=text), Lit(text="!")))))
    assert m.accepts(text + "!")
    assert not m.accepts(text + "?")
    assert not m.accepts(text[:-1] + "!")


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=0x10FFFF), min_size=1, max_size=4))
def test_any_character_class_matches_its_members(points: list[int]) -> None:
    points = [p for p in points if not 0xD800 <= p <= 0xDFFF] or [0x41]
    ranges = tuple((p, p) for p in sorted(set(points)))
    m = language(
        Rule(name="start", body=Ref(name="C")),
        Rule(name="C", lexeme=True, body=CharClass(ranges=ranges)),
    )
    for p in points:
        assert m.accepts(chr(p))
    outside = next(c for c in range(0x20, 0x110000) if c not in points)
    assert not m.accepts(chr(outside))
