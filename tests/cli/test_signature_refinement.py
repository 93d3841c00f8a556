"""A child's `name:` (or `params:`, `returns:`) refines the signature it inherits: only that
part changes, and the grammar still pins the rest (async-ness, parameters, return type)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ananke.runtime.acceptance import ByteMatcher

from tests.cli.cli_helpers import run_arc

LIB = (
    "constraint request_handler {\n    signature: async handle(request: Request) -> Response;\n}\n"
)


def _grammar(capsys: pytest.CaptureFixture[str], tmp_path: Path, body: str) -> ByteMatcher:
    (tmp_path / "lib.ariadne").write_text(LIB, encoding="utf-8")
    main = tmp_path / "main.ariadne"
    main.write_text(
        f'import "lib.ariadne";\nconstraint c extends request_handler {{\n    {body}\n}}\n',
        encoding="utf-8",
    )
    code, out, err = run_arc(capsys, "emit", main, "-c", "c")
    assert code == 0, err
    assert err == ""
    return ByteMatcher(out)


@pytest.mark.parametrize("body", ["name: process;", "override name: process;"])
def test_a_name_renames_the_inherited_signature(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, body: str
) -> None:
    m = _grammar(capsys, tmp_path, body)
    assert m.accepts("async def process(request: Request) -> Response:\n    return request\n")
    for wrong in (
        "def process(request: Request) -> Response:\n    return request\n",  # not async
        "async def process(x):\n    return x\n",  # parameters
        "async def process(request: Request) -> int:\n    return 1\n",  # return type
        "async def handle(request: Request) -> Response:\n    return request\n",  # name
    ):
        assert not m.accepts(wrong), wrong


def test_params_and_returns_refine_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    m = _grammar(capsys, tmp_path, "params: (request: Request, timeout: float);\n    returns: int;")
    assert m.accepts("async def handle(request: Request, timeout: float) -> int:\n    return 1\n")
    assert not m.accepts("def handle(request: Request, timeout: float) -> int:\n    return 1\n")
    assert not m.accepts("async def handle(request: Request) -> Response:\n    return 1\n")


def test_explain_says_what_was_refined(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _grammar(capsys, tmp_path, "name: process;")
    code, out, _ = run_arc(capsys, "explain", tmp_path / "main.ariadne", "-c", "c")
    assert code == 0
    assert (
        "decided (override): name: process from "
        f"{tmp_path / 'main.ariadne'}:3 refines the inherited signature: async handle(...) -> "
        f"Response from {tmp_path / 'lib.ariadne'}:2: the function is async "
        "process(request) -> Response"
    ) in out
