"""The hand-written functions of tests/seed_example.py are what their names say, read by
Python's own parser (no Ananke code)."""

from __future__ import annotations

import ast

from tests.seed_example import FORBIDDEN, GOOD, UNVALIDATED


def _names(code: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}


def test_samples() -> None:
    for code in (GOOD, UNVALIDATED, FORBIDDEN):
        (fn,) = ast.parse(code).body
        assert isinstance(fn, ast.FunctionDef)
        assert ast.unparse(fn.returns) == "Result[Response, Error]"
        assert len(code.splitlines()) <= 100
    assert "input_schema" in _names(GOOD) and not {"eval", "exec"} & _names(GOOD)
    assert "input_schema" not in _names(UNVALIDATED)
    assert "eval" in _names(FORBIDDEN) and "input_schema" in _names(FORBIDDEN)
