"""Properties every text backend keeps, checked in the real engines: any Unicode string as
a literal matches exactly itself."""

from __future__ import annotations

import re

import pytest
from ananke.backends import get_backend
from ananke.ir.grammar import And, Grammar, Not, Ref, Regex, Rule
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.backends.backend_helpers import ENGINES, REQUEST_FIELDS, languages, lit, rules, seq
from tests.hypothesis_profiles import examples

TARGETS = (*ENGINES, *REQUEST_FIELDS)

# Text without surrogates (UTF-8 cannot hold them), leaning on the characters that break
# escaping: quotes, backslashes, newlines, NUL, DEL, C1 controls, astral characters.
_AWKWARD = st.sampled_from(
    [
        '"',
        "'",
        "\\",
        "\n",
        "\r",
        "\0",
        "\x7f",
        "\x85",
        "é",
        "😀",
        "\U0010ffff",
        "*/",
        '"""',
        "]",
        "^",
        "-",
        "[",
        "/",
        "{",
        "}",
        "$",
        "x0",
        "\\x41",
        "`",
        "\u2028",
        "\ufeff",
    ]
)
_TEXT = st.lists(
    st.one_of(_AWKWARD, st.characters(exclude_categories=["Cs"])), min_size=1, max_size=8
).map("".join)


def _variants(text: str) -> list[str]:
    """Strings near ``text`` that are not ``text``."""
    out = [text + "!", text[:-1], "!" + text, text.replace(text[-1], "?", 1)]
    return [v for v in dict.fromkeys(out) if v != text]


@pytest.mark.parametrize("target", TARGETS)
@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=_TEXT)
@example(text='"\\\n\0\x7f😀*/"""')
@example(text="\x01B\0aé1")
def test_a_literal_is_exactly_itself(target: str, text: str) -> None:
    grammar = rules(start=seq(lit(text)))
    for engine, accepts in languages(target, grammar):
        assert accepts(text), (engine, text)
        for near in _variants(text):
            assert not accepts(near), (engine, text, near)


def test_lark_vllm_string_escapes_predate_llguidance_1_8() -> None:
    """llguidance 1.8 added ``\\xHH`` in string literals; vLLM pins 1.7."""
    text = get_backend("lark-vllm").emit(rules(start=lit("\0\x01\x7f\x85é\n\\x")))
    assert text.startswith("start:")
    strings = re.findall(r'"(?:[^"\\]|\\.)*"', text)
    assert strings
    assert not any(re.search(r"(?<!\\)(?:\\\\)*\\x", s) for s in strings)


LEXEME_GRAMMAR = Grammar(
    start="start",
    rules=(
        Rule(name="start", body=seq(Ref(name="WORD"), lit("="), Ref(name="NUM"))),
        Rule(
            name="WORD",
            lexeme=True,
            body=And(items=(Regex(pattern="[a-z_][a-z0-9_]*"), Not(item=Regex(pattern="eval")))),
        ),
        Rule(name="NUM", lexeme=True, body=Regex(pattern="0|[1-9][0-9]{0,3}")),
    ),
)


@pytest.mark.parametrize("target", TARGETS)
def test_lexemes_through_the_char_level_lowering(target: str) -> None:
    """The real char-level pass, then every dialect: negation and intersection survive."""
    from tests.backends.backend_helpers import validate

    # For regex, the automaton's rules (right-linear recursion) are solved back into one
    # regular expression by the `regular` pass.
    validate(
        target,
        LEXEME_GRAMMAR,
        accept=["x=0", "evaluate=10", "eva=9999", "_e=7"],
        reject=["eval=1", "x=01", "x=10000", "X=1", "x="],
    )


def test_regex_target_takes_lexemes_without_negation() -> None:
    from tests.backends.backend_helpers import validate

    grammar = Grammar(
        start="start",
        rules=(
            Rule(name="start", body=seq(Ref(name="WORD"), lit("="), Ref(name="NUM"))),
            Rule(name="WORD", lexeme=True, body=Regex(pattern="[a-z_][a-z0-9_]*")),
            Rule(name="NUM", lexeme=True, body=Regex(pattern="0|[1-9][0-9]{0,3}")),
        ),
    )
    validate("regex", grammar, accept=["x=0", "eval=9999"], reject=["x=01", "x=", "=1"])
