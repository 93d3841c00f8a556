"""`arc generate`: what it decides before any service is called (usage, inputs, batch
files). Generation itself is tested against real and fault-injecting servers in
tests/runtime/."""

from __future__ import annotations

from pathlib import Path

import pytest
from ananke.runtime.generators import NAMES

from ananke.cli import _BACKENDS
from tests.cli.cli_helpers import run_arc

ROOT = Path(__file__).resolve().parents[2]
HANDLER = ROOT / "examples" / "api_handler.ariadne"


def test_backend_names_match_the_registry() -> None:
    assert _BACKENDS == NAMES


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give an INTENT, or --batch FILE"),
        (("x", "--batch", "i.jsonl", "-o", "r.jsonl"), "not both"),
        (("--batch", "i.jsonl"), "--batch needs -o"),
        (("x", "--backend", "nope"), "'nope' is not one of"),
        (("x", "--temperature", "3"), "--temperature"),
        (("x", "--api-key", "sk-1"), "never taken from the command line"),
    ],
)
def test_usage_errors(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_arc(capsys, "generate", *args, "--constraints", HANDLER)
    assert code == 2 and out == "" and message in err
    assert "sk-1" not in err


def test_constraints_with_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.ariadne"
    bad.write_text("constraint a { max_lines: 0; }\n")
    code, out, err = run_arc(capsys, "generate", "x", "--constraints", bad)
    assert code == 1 and out == "" and "error[" in err


def test_unreadable_context(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_arc(
        capsys, "generate", "x", "--constraints", HANDLER, "--context", tmp_path / "none.py"
    )
    assert code == 2 and "error[unreadable-file]" in err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 1: not JSON"),
        ('{"id": 1}', 'line 1: expected {"intent": "..."}'),
        ('{"intent": "x", "constraint": "nope"}', "no constraint set named `nope`"),
    ],
)
def test_invalid_batch(
    line: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    intents = tmp_path / "intents.jsonl"
    intents.write_text(line + "\n")
    results = tmp_path / "results.jsonl"
    code, _, err = run_arc(
        capsys,
        "generate",
        "--batch",
        intents,
        "-o",
        results,
        "--constraints",
        HANDLER,
        "--url",
        "http://127.0.0.1:9",
    )
    assert code == 2 and "error[invalid-batch]" in err and message in err
    assert not results.exists()
