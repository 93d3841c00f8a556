"""Shared helpers of the grammar-import tests: import, print with the llguidance backend,
validate with llguidance, and describe diagnostics compactly."""

from __future__ import annotations

from ananke.backends import get_backend
from ananke.engines.acceptance import ByteMatcher, byte_tokenizer
from ananke.frontends.grammars import Dialect, import_grammar
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Grammar
from ananke.ir.source import SourceFile


def run(
    text: str, dialect: Dialect, *, name: str = "g", start: str | None = None
) -> tuple[Grammar | None, Diagnostics]:
    diags = Diagnostics()
    grammar = import_grammar(SourceFile(name, text), dialect, diags, start=start)
    return grammar, diags


def emitted(text: str, dialect: Dialect, **kw: str) -> str:
    """The llguidance text of an import that must succeed without any diagnostic."""
    grammar, diags = run(text, dialect, **kw)
    assert not diags, describe(diags)
    assert grammar is not None
    grammar.verify()
    return get_backend("llguidance").emit(grammar)


def describe(diags: Diagnostics) -> list[tuple[str, str, str, int, int]]:
    """(severity, code, message, start, end) of every diagnostic."""
    out = []
    for d in diags:
        span = d.primary_span
        assert span is not None, d
        out.append((d.severity, d.code, d.message, span.start, span.end))
    return out


def validate(lark_text: str) -> str:
    """llguidance's own verdict on a Lark grammar ('' when valid)."""
    import llguidance

    grammar = llguidance.grammar_from("lark", lark_text)
    return str(llguidance.LLMatcher.validate_grammar(grammar, byte_tokenizer()))


def matcher(grammar: Grammar) -> ByteMatcher:
    text = get_backend("llguidance").emit(grammar)
    assert validate(text) == "", text
    return ByteMatcher(text)
