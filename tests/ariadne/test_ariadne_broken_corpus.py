"""Bad input never raises: every broken file gives an error diagnostic with a span, in
process and through `arc check` (exit 1 or 2, `file:line:col` in the short format)."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import time

import pytest
from ananke.ariadne import compile_source, read_source
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.passes import compose
from ariadne_helpers import BROKEN
from click.testing import CliRunner

from ananke.cli import cli

CORPUS = sorted(BROKEN.iterdir())


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[pathlib.Path]:
    """Inputs too big to commit: a 10 MB file and 100k nested brackets."""
    tmp = tmp_path_factory.mktemp("generated")
    huge = tmp / "huge_10mb.ariadne"
    block = 'constraint c {\n    forbid: ["eval", "exec"];\n}\n'
    huge.write_text(block * (10 * 1024 * 1024 // len(block) + 1), "utf-8")
    deep_open = tmp / "deep_100k_open.ariadne"
    deep_open.write_text("constraint a {\n    forbid: " + "[" * 100_000 + "\n", "utf-8")
    deep_closed = tmp / "deep_100k_closed.ariadne"
    deep_closed.write_text(
        "constraint a {\n    returns: " + "A<" * 100_000 + "B" + ">" * 100_000 + ";\n}\n",
        "utf-8",
    )
    deep_default = tmp / "deep_default.ariadne"
    deep_default.write_text(
        "constraint a {\n    params: (x = " + "(" * 5_000 + ")" * 5_000 + ");\n}\n", "utf-8"
    )
    return [huge, deep_open, deep_closed, deep_default]


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 40


def _check_in_process(path: pathlib.Path) -> None:
    diags = Diagnostics()
    source = read_source(path, diags)
    if source is not None:
        module = compile_source(source, diags)
        # Errors of composition (conflicts, cycles of extends) come from the passes.
        assert module is None or compose(module, diags) is not None
    errors = [d for d in diags if d.severity == "error"]
    assert errors, f"{path.name}: no error"
    for d in errors:
        span = d.primary_span
        assert span is not None, f"{path.name}: {d.code} has no span"
        assert span.line >= 1 and span.column >= 1
        assert d.code and "\n" not in d.message


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_broken_file_in_process(path: pathlib.Path) -> None:
    _check_in_process(path)


def test_generated_broken_files_in_process(generated: list[pathlib.Path]) -> None:
    for path in generated:
        start = time.perf_counter()
        _check_in_process(path)
        assert time.perf_counter() - start < 10, path.name


def test_generated_codes(generated: list[pathlib.Path]) -> None:
    huge, deep_open, deep_closed, deep_default = generated
    codes = []
    for path in (huge, deep_open, deep_closed, deep_default):
        diags = Diagnostics()
        source = read_source(path, diags)
        if source is not None:
            compile_source(source, diags)
        codes.append([d.code for d in diags])
    assert codes == [
        ["file-too-large"],
        ["syntax-error"],
        ["nesting-too-deep"],
        ["nesting-too-deep"],
    ]


_SHORT = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): error\[(?P<code>[a-z0-9-]+)\]: ")


def _arc_check(path: pathlib.Path) -> None:
    result = CliRunner().invoke(cli, ["check", str(path), "--output-format", "short"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (1, 2), (path.name, result.exit_code, result.output)
    lines = [m for line in result.output.splitlines() if (m := _SHORT.match(line))]
    assert lines, (path.name, result.output)
    assert any(m["file"] == str(path) for m in lines), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_broken_file_through_arc_check(path: pathlib.Path) -> None:
    _arc_check(path)


def test_generated_broken_files_through_arc_check(generated: list[pathlib.Path]) -> None:
    for path in generated:
        _arc_check(path)


def test_arc_check_subprocess_on_a_few_files() -> None:
    # The real entry point once, for what CliRunner cannot show (exit status of the process).
    for name in ("missing_semicolon.ariadne", "binary.ariadne", "empty.ariadne"):
        path = BROKEN / name
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "from ananke.cli import main; main()",
                "check",
                str(path),
                "--output-format",
                "short",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode in (1, 2), proc.stderr
        assert _SHORT.match(proc.stderr.splitlines()[0]), proc.stderr
        assert "Traceback" not in proc.stderr
