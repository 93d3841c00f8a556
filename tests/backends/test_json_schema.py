"""The json-schema target: a grammar that is one embedded schema prints the schema, which
the engines load; anything else is refused."""

from __future__ import annotations

import json

import pytest
from ananke.backends import UnsupportedFeature, get_backend
from ananke.engines.acceptance import ByteMatcher
from ananke.ir.grammar import Grammar, JsonSchema, Ref, Rule

from tests.backends.backend_helpers import lit, rules, seq

SCHEMA = '{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}'


def _schema_grammar(*extra: Rule) -> Grammar:
    return Grammar(
        start="start",
        rules=(
            Rule(name="start", body=Ref(name="value")),
            Rule(name="value", body=JsonSchema(schema=SCHEMA)),
            *extra,
        ),
    )


def test_schema_is_printed_and_loads() -> None:
    import llguidance
    import outlines_core

    text = get_backend("json-schema").emit(_schema_grammar())
    assert text.endswith("}\n")
    assert json.loads(text) == json.loads(SCHEMA)
    m = ByteMatcher(llguidance.grammar_from("json_schema", text))
    assert m.accepts('{"n": 3}')
    assert not m.accepts('{"n": "3"}')
    assert outlines_core.json_schema.build_regex_from_schema(text)


@pytest.mark.parametrize(
    "grammar",
    [
        rules(start=lit("x")),
        rules(start=seq(lit("```json\n"), lit("{}"))),
        Grammar(start="start", rules=(Rule(name="start", body=Ref(name="start")),)),
    ],
)
def test_anything_else_is_refused(grammar: Grammar) -> None:
    with pytest.raises(UnsupportedFeature) as info:
        get_backend("json-schema").emit(grammar)
    (d,) = info.value.diagnostics
    assert d.code == "target-cannot-express"
    assert "only JSON output" in d.message
