"""Bad input never raises: any text gives a grammar or diagnostics with spans."""

from __future__ import annotations

from ananke.backends import get_backend
from ananke.frontends.grammars import Dialect
from hypothesis import given, settings
from hypothesis import strategies as st
from import_helpers import run

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
]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, dialect=st.sampled_from(["lark", "gbnf", "ebnf"]))
def test_any_text_imports_or_reports(text: str, dialect: Dialect) -> None:
    grammar, diags = run(text, dialect)
    assert all(d.primary_span is not None for d in diags)
    if grammar is None:
        assert diags.has_errors
    else:
        assert not diags.has_errors
        grammar.verify()
        get_backend("llguidance").emit(grammar)


@settings(max_examples=150, deadline=None)
@given(body=_TEXT)
def test_any_rule_body_imports_or_reports(body: str) -> None:
    for dialect, text in (("lark", f"start: {body}"), ("gbnf", f"root ::= {body}")):
        grammar, diags = run(text, dialect)  # type: ignore[arg-type]
        assert (grammar is None) == diags.has_errors
