"""Diagnostics never echo unbounded input: every token of real inputs (the examples, the
broken corpus, the examples of the diagnostic pages, Ariadne and grammars alike) is blown
up in turn, to 5,000 characters with control characters in strings, and every message,
label, note and help of what the compiler then reports stays one bounded, visible line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from ananke.ariadne import compile_source
from ananke.frontends.grammars import import_grammar
from ananke.ir.diagnostics import Diagnostic, Diagnostics, quote
from ananke.ir.passes import compose
from ananke.ir.source import SourceFile

from tests.ariadne.ariadne_helpers import BROKEN, EXAMPLES, ROOT

PAGES = ROOT / "spec" / "diagnostics"
_BLOCK = re.compile(r"```(ariadne|lark|gbnf|ebnf)\n(.*?)```", re.S)
_TOKEN = re.compile(r'(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>[0-9]+)|(?P<string>"[^"\n]*")')
_LONG = 5_000
LIMIT = 600
"""Longest text a diagnostic may carry: a line of input quoted (80 characters), the
message around it, and the lists some notes give (the known properties)."""


def _inputs() -> list[tuple[str, str, str]]:
    """(name, dialect, text) of every real input."""
    out = [(p.name, "ariadne", p.read_text("utf-8")) for p in sorted(EXAMPLES.glob("*.ariadne"))]
    for p in sorted(BROKEN.iterdir()):
        data = p.read_bytes()
        if b"\0" not in data:
            out.append((p.name, "ariadne", data.decode("utf-8", errors="replace")))
    for page in sorted(PAGES.glob("*.md")):
        for i, m in enumerate(_BLOCK.finditer(page.read_text("utf-8"))):
            out.append((f"{page.stem}#{i}", m.group(1), m.group(2)))
            if m.group(1) == "gbnf":  # XGrammar's EBNF reads GBNF, with its own errors
                out.append((f"{page.stem}#{i}-ebnf", "ebnf", m.group(2)))
    return out


def _blown_up(text: str) -> Iterator[str]:
    """``text`` with one token at a time made 5,000 characters long; a string also gets
    an escape sequence, a bidi override and a BEL."""
    seen: set[tuple[str, str]] = set()
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or ""
        if (kind, m.group()) in seen:
            continue
        seen.add((kind, m.group()))
        token = m.group()
        if kind == "name":
            new = token + "q" * _LONG
        elif kind == "number":
            new = "9" * _LONG
        else:
            new = token[:-1] + "\x1b[2J\u202e\x07" + "s" * _LONG + '"'
        yield text[: m.start()] + new + text[m.end() :]


def _diagnostics(dialect: str, text: str) -> list[Diagnostic]:
    diags = Diagnostics()
    source = SourceFile("t.ariadne" if dialect == "ariadne" else f"g.{dialect}", text)
    if dialect == "ariadne":
        module = compile_source(source, diags)
        if module is not None:
            compose(module, diags)
    else:
        import_grammar(source, dialect, diags)  # type: ignore[arg-type]
    return list(diags)


def _texts(d: Diagnostic) -> Iterator[str]:
    yield d.message
    for label in d.labels:
        yield label.message
    yield from d.notes
    if d.help is not None:
        yield d.help


INPUTS = _inputs()


def test_the_inputs_cover_every_dialect() -> None:
    dialects = {dialect for _, dialect, _ in INPUTS}
    assert dialects == {"ariadne", "lark", "gbnf", "ebnf"}
    assert len(INPUTS) > 100


@pytest.mark.parametrize(("name", "dialect", "text"), INPUTS, ids=[n for n, _, _ in INPUTS])
def test_no_diagnostic_echoes_a_blown_up_token(name: str, dialect: str, text: str) -> None:
    reported = 0
    for variant in _blown_up(text):
        for d in _diagnostics(dialect, variant):
            reported += 1
            for shown in _texts(d):
                assert len(shown) <= LIMIT, (d.code, shown[:200])
                assert shown.isprintable(), (d.code, shown[:200])
    if dialect == "ariadne" and _TOKEN.search(text):
        # Blowing up a token must break something: the test checks messages, not silence.
        assert reported > 0


def test_quote_bounds_and_escapes() -> None:
    assert quote("eval") == "`eval`"
    assert quote("a\x1b[31mb\u202ec\n") == "`a\\x1b[31mb\\u202ec\\n`"
    assert quote("9" * 5_000) == "`" + "9" * 80 + "\u2026` (5,000 characters)"
    assert quote("x" * 80) == "`" + "x" * 80 + "`"
    assert quote("\x00" * 30, ticks=False) == "\\x00" * 20 + "\u2026 (30 characters)"
    assert quote("\U0001f600\U000e0001") == "`\U0001f600\\U000e0001`"


def test_a_huge_number_is_quoted_briefly(tmp_path: Path) -> None:
    diags = _diagnostics("ariadne", "constraint a {\n    max_lines: " + "9" * _LONG + ";\n}\n")
    assert [d.message for d in diags] == [
        "`max_lines` is at most 100,000, found " + "9" * 80 + "\u2026 (5,000 characters)"
    ]
