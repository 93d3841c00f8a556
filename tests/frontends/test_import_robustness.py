"""Bad input never raises: any text gives a grammar or diagnostics with spans, and a
grammar imported without an error prints as Lark that llguidance loads."""

from __future__ import annotations

from ananke.backends import get_backend
from ananke.frontends.grammars import Dialect
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine_worker import worker
from tests.frontends.import_helpers import run
from tests.hypothesis_profiles import examples

_PIECES = [
    *'()[]{}|*+?~.:"/\\%-<>@&!,^$ \n\taAzZ019_#=',
    "::=",
    "%import common.",
    "%ignore ",
    "%declare ",
    "%override ",
    "%extend ",
    "start",
    "root",
    "->",
    "..",
    "%json {}",
    "%json {",
    "Regex(",
    "Token(",
    "(=",
    "<|x|>",
    "<[1]>",
    "\\x4",
    "\\u00e9",
    "/a+?/",
    "/[a-z]+/i",
    '"ab"i',
    "{2,3}",
    "~ 2..3",
    ".2",
    # Characters and escapes that printers must carry through: non-ASCII, NUL, astral,
    # quotes, backslashes.
    "é",
    "中",
    "\x00",
    "\U0001d4b6",
    "😀",
    "'",
    '"\\"',
    '"a\\"b"',
    "\\\\",
    "\\x00",
    "\\U0001F600",
    "\\u{1F600}",
    '"é\x00"',
    "[^é]",
    "/[é-中]+/",
]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


# Quoted strings and classes holding any character (surrogates and all), so that whole
# bodies of them often import: the printers then carry the characters through.
_AWKWARD = st.one_of(
    st.sampled_from(["é", "中", "\x00", "\U0001d4b6", "😀", '"', "'", "\\", "]", "-", "^"]),
    st.characters(),
)
_QUOTED = st.lists(_AWKWARD, max_size=4).map(lambda cs: '"' + "".join(cs) + '"')
_CLASS = st.lists(_AWKWARD, min_size=1, max_size=3).map(lambda cs: "[" + "".join(cs) + "]")
_BODY = st.lists(
    st.one_of(_QUOTED, _CLASS, st.sampled_from([" ", " | ", "*", "+", "?", "(", ")"])),
    min_size=1,
    max_size=8,
).map("".join)


def _imports_or_reports(text: str, dialect: Dialect) -> None:
    """A grammar and no error, or an error and no grammar, every diagnostic with a span;
        an imported grammar prints as Lark that llguidance's validator takes (with no tokenizer,
    which special tokens such as `<|x|>` would need)."""
    grammar, diags = run(text, dialect)
    assert all(d.primary_span is not None for d in diags)
    if grammar is None:
        assert diags.has_errors
        return
    assert not diags.has_errors
    grammar.verify()
    printed = get_backend("llguidance").emit(grammar)
    problem = worker().validate("llguidance-lark", printed)
    assert not problem, f"llguidance refuses the print: {problem}\n{printed}"


@settings(max_examples=examples(300), deadline=None)
@given(text=_TEXT, dialect=st.sampled_from(["lark", "gbnf", "ebnf"]))
def test_any_text_imports_or_reports(text: str, dialect: Dialect) -> None:
    _imports_or_reports(text, dialect)


@settings(max_examples=examples(150), deadline=None)
@given(body=st.one_of(_TEXT, _BODY))
def test_any_rule_body_imports_or_reports(body: str) -> None:
    for dialect, text in (
        ("lark", f"start: {body}"),
        ("gbnf", f"root ::= {body}"),
        ("ebnf", f"root ::= {body}"),
    ):
        _imports_or_reports(text, dialect)  # type: ignore[arg-type]
