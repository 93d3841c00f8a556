"""Helpers shared by the Ariadne tests."""

from __future__ import annotations

import pathlib

from ananke.ariadne import compile_source
from ananke.ir.constraint import Module
from ananke.ir.diagnostics import Diagnostic, Diagnostics
from ananke.ir.source import SourceFile

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BROKEN = ROOT / "tests" / "fixtures" / "broken"


def compile_text(text: str, name: str = "t.ariadne") -> tuple[Module | None, list[Diagnostic]]:
    diags = Diagnostics()
    module = compile_source(SourceFile(name, text), diags)
    return module, list(diags)


def one_error(text: str) -> Diagnostic:
    """The single error ``text`` produces (fails the test when there is not exactly one)."""
    module, diags = compile_text(text)
    errors = [d for d in diags if d.severity == "error"]
    assert module is None
    assert len(errors) == 1, [(d.code, d.message) for d in errors]
    return errors[0]


def compile_ok(text: str) -> Module:
    """The module ``text`` compiles to, with no diagnostic at all."""
    module, diags = compile_text(text)
    assert diags == [], [(d.code, d.message) for d in diags]
    assert module is not None
    return module
