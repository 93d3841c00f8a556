"""`arc validate`: the grammar and the post checks on code from elsewhere, reported as
`arc check` reports, with the same exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.cli_helpers import run_arc, run_arc_stdin
from tests.seed_example import GOOD, HANDLER


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "code.py"
    p.write_text(text)
    return p


def test_clean_code_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_arc(capsys, "validate", _write(tmp_path, GOOD), "--constraints", HANDLER)
    assert (code, out, err) == (0, "", "")


def test_forbidden_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, GOOD.replace("return data", "return eval(data)"))
    code, out, err = run_arc(
        capsys, "validate", path, "--constraints", HANDLER, "--output-format", "short"
    )
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert (
        f"{path}:3:12: error[constraint-violated]: api_handler.forbid.eval: `eval` is forbidden"
        in lines
    )
    assert any(
        line.startswith(f"{path}:3:") and "error[grammar-rejected]" in line for line in lines
    )


def test_post_level_violation_names_its_definition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path, "def handler(request) -> Result[Response, Error]:\n    return request\n"
    )
    code, _, err = run_arc(capsys, "validate", path, "--constraints", HANDLER)
    assert code == 1
    assert "error[constraint-violated]: api_handler.validates" in err
    assert "`api_handler.validates` is defined at" in err and "api_handler.ariadne:3:5" in err
    assert "grammar-rejected" not in err  # the grammar cannot see `validates`


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "def handler(x):\n    return x\n")
    code, _, err = run_arc(
        capsys, "validate", path, "--constraints", HANDLER, "--output-format", "json"
    )
    assert code == 1
    found = {d["code"] for d in json.loads(err)}
    assert found == {"constraint-violated", "grammar-rejected"}


def test_syntax_error_in_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "def handler(request) -> Result[Response, Error]:\n    return (\n")
    code, _, err = run_arc(capsys, "validate", path, "--constraints", HANDLER)
    assert code == 1 and "not valid Python" in err


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_arc_stdin(
        capsys, monkeypatch, GOOD.encode(), "validate", "-", "--constraints", HANDLER
    )
    assert (code, err) == (0, "")


def test_unreadable_code_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_arc(capsys, "validate", tmp_path / "missing.py", "--constraints", HANDLER)
    assert code == 2 and "error[unreadable-file]" in err


def test_several_sets_need_a_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cons = tmp_path / "c.ariadne"
    cons.write_text("constraint a { max_lines: 5; }\nconstraint b { max_lines: 6; }\n")
    path = _write(tmp_path, "def f(x):\n    return x\n")
    code, _, err = run_arc(capsys, "validate", path, "--constraints", cons)
    assert code == 2 and "--constraint NAME" in err
    code, _, err = run_arc(capsys, "validate", path, "--constraints", cons, "-c", "b")
    assert (code, err) == (0, "")
    code, _, err = run_arc(capsys, "validate", path, "--constraints", cons, "-c", "zz")
    assert code == 2 and "no constraint set named `zz`" in err
