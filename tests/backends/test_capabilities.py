"""What backends declare: their passes, their capabilities (consulted by the printers), and
the capability matrix of spec/backends.md rendered from both."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import pytest
from ananke.backends import UnsupportedFeature, get_backend, target_names
from ananke.backends.base import Capabilities
from ananke.backends.llguidance import LLGuidanceBackend
from ananke.backends.matrix import BEGIN, END, capability_matrix, replace_matrix
from ananke.ir.grammar import CharClass, Grammar, JsonSchema, Lit, Not, Ref, Regex, Rule, Seq
from ananke.ir.lowerings import GrammarPass
from ananke.ir.source import Span

SPEC = Path(__file__).resolve().parents[2] / "spec" / "backends.md"


def test_the_spec_holds_the_rendered_matrix() -> None:
    text = SPEC.read_text(encoding="utf-8")
    _, _, rest = text.partition(BEGIN + "\n")
    written, found, _ = rest.partition(END)
    assert found, f"spec/backends.md lost its markers {BEGIN!r} ... {END!r}"
    assert written == capability_matrix(), (
        "spec/backends.md's capability matrix differs from the backends' declarations; "
        "regenerate it with `python -m ananke.backends.matrix --write spec/backends.md`"
    )


def test_replacing_the_matrix_touches_only_the_table() -> None:
    stale = f"before\n{BEGIN}\n| old | table |\n{END}\nafter\n"
    out = replace_matrix(stale)
    assert out.startswith(f"before\n{BEGIN}\n| Feature |")
    assert out.endswith(f"{END}\nafter\n")
    assert "| old | table |" not in out
    with pytest.raises(ValueError):
        replace_matrix("no markers here")


def test_the_matrix_has_a_column_for_every_target() -> None:
    header = capability_matrix().splitlines()[0]
    named = [n.strip() for col in header.split("|")[2:-1] for n in col.split(",")]
    assert sorted(named) == sorted(target_names())


@pytest.mark.parametrize("target", target_names())
def test_passes_are_frozen_grammar_passes_with_distinct_names(target: str) -> None:
    passes = get_backend(target).passes
    assert len({p.name for p in passes}) == len(passes)
    for p in passes:
        assert isinstance(p, GrammarPass)
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.name = "renamed"  # type: ignore[misc]


@pytest.mark.parametrize("target", target_names())
def test_char_level_runs_exactly_where_lexemes_are_missing(target: str) -> None:
    backend = get_backend(target)
    names = [p.name for p in backend.passes]
    if backend.capabilities.lexemes or "json-only" in names:
        assert "char-level" not in names and "greedy-boundaries" not in names
    else:
        # The greedy reading is written in while the lexemes are still there.
        assert names[:2] == ["greedy-boundaries", "char-level"]


_SPAN = Span(file="g.lark", start=0, end=5, line=2, column=1, end_line=2, end_column=6)


@pytest.mark.parametrize("target", ["xgrammar", "gbnf", "lark", "regex"])
def test_a_missing_capability_is_refused_with_the_rule(target: str) -> None:
    rule = Rule(
        name="value", body=JsonSchema(schema='{"type": "object"}'), origins=("c1",), span=_SPAN
    )
    grammar = Grammar(start="value", rules=(rule,))
    with pytest.raises(UnsupportedFeature) as info:
        get_backend(target).emit(grammar)
    assert (info.value.rule, info.value.span, info.value.origins) == ("value", _SPAN, ("c1",))
    [d] = info.value.diagnostics
    assert d.code == "target-cannot-express"
    assert "rule `value` embeds a JSON schema" in d.message


def test_llguidance_prints_what_it_declares() -> None:
    rules = (
        Rule(name="start", body=Seq(items=(Ref(name="A"), Lit(text=";")))),
        Rule(name="A", body=Not(item=Regex(pattern="[a-z]*x")), lexeme=True),
        Rule(name="b", body=JsonSchema(schema='{"type": "integer"}')),
    )
    text = get_backend("llguidance").emit(Grammar(start="start", rules=rules))
    assert "~" in text and "%json" in text


class _NoNegation(LLGuidanceBackend):
    name: ClassVar[str] = "no-negation"
    capabilities: ClassVar[Capabilities] = dataclasses.replace(
        LLGuidanceBackend.capabilities, negation=False
    )


def test_the_printer_consults_the_capabilities() -> None:
    """The same printer without negation refuses it before printing anything: the
    declaration, not the printer methods, decides."""
    rules = (
        Rule(name="start", body=Ref(name="A")),
        Rule(name="A", body=Not(item=CharClass(ranges=((97, 97),))), lexeme=True),
    )
    grammar = Grammar(start="start", rules=rules)
    # First: the llguidance printer remembers the rules it printed.
    with pytest.raises(AssertionError, match="negation in `A`"):
        _NoNegation().emit(grammar)
    assert "~" in get_backend("llguidance").emit(grammar)
