"""Mutated examples never make the compiler raise: each gives a module or an error with a span."""

from __future__ import annotations

import re

from ananke.ariadne import compile_source
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.source import SourceFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ariadne.ariadne_helpers import EXAMPLES

TEXTS = [p.read_text("utf-8") for p in sorted(EXAMPLES.glob("*.ariadne"))]
TOKEN_RE = re.compile(r'r?"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|[0-9]+|->|\*\*|\S')
TOKENS = sorted({t for text in TEXTS for t in TOKEN_RE.findall(text)})
NOISE = [
    '"""',
    '#"""',
    '"""#',
    "example",
    "accept",
    "reject",
    "file",
    "by",
    "\r\n",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "<",
    ">",
    ";",
    ":",
    ",",
    '"',
    "'",
    "/*",
    "//",
    "\\",
    "\\u{",
    "\x00",
    "\n",
    "é",
    "-",
    "0",
    "constraint",
    "schema",
    "async",
    'r"',
    "*/",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "replace", "tokens"]))
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 12)))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            piece = draw(st.sampled_from(NOISE + TOKENS) | st.text(max_size=3))
            text = text[:i] + piece + text[i:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "replace":
            text = text[:i] + draw(st.sampled_from(NOISE + TOKENS)) + text[j:]
        else:
            toks = [m for m in TOKEN_RE.finditer(text)]
            if toks:
                m = toks[draw(st.integers(0, len(toks) - 1))]
                new = draw(st.sampled_from([*TOKENS, ""]))
                text = text[: m.start()] + new + text[m.end() :]
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_examples_compile_or_report_an_error_with_a_span(text: str) -> None:
    diags = Diagnostics()
    module = compile_source(SourceFile("m.ariadne", text), diags)
    errors = [d for d in diags if d.severity == "error"]
    if module is None:
        assert errors
        for d in errors:
            span = d.primary_span
            assert span is not None
            assert 0 <= span.start <= span.end <= len(text)
            assert "\n" not in d.message
    else:
        assert not errors
    for d in diags:
        assert d.primary_span is not None
