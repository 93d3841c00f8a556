"""Bad input never raises: every broken file gives an error diagnostic with a span, in
process and through `arc check` (exit 1 or 2, `file:line:col` in the short format)."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest
from ananke.ariadne import _parser, compile_source, read_source
from ananke.ir.compose import compose
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.source import SourceFile
from click.testing import CliRunner

from ananke.cli import cli
from tests.ariadne.ariadne_helpers import BROKEN
from tests.suite_helpers import calls

CORPUS = sorted(BROKEN.iterdir())


_BLOCK = 'constraint c {\n    forbid: ["eval", "exec"];\n}\n'
# Inputs too big to commit, each by the size it is generated at: nested brackets that
# never close, type arguments and parentheses nested too deep.
_DEEP = {
    "deep_open": (lambda n: "constraint a {\n    forbid: " + "[" * n + "\n", 100_000),
    "deep_closed": (
        lambda n: "constraint a {\n    returns: " + "A<" * n + "B" + ">" * n + ";\n}\n",
        100_000,
    ),
    "deep_default": (
        lambda n: "constraint a {\n    params: (x = " + "(" * n + ")" * n + ");\n}\n",
        5_000,
    ),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[pathlib.Path]:
    """Inputs too big to commit: a 10 MB file and 100k nested brackets."""
    tmp = tmp_path_factory.mktemp("generated")
    huge = tmp / "huge_10mb.ariadne"
    huge.write_text(_BLOCK * (10 * 1024 * 1024 // len(_BLOCK) + 1), "utf-8")
    out = [huge]
    for name, (make, n) in _DEEP.items():
        out.append(tmp / f"{name}.ariadne")
        out[-1].write_text(make(n), "utf-8")
    return out


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
        _check_in_process(path)


def test_a_file_too_large_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parser() -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(_parser, "get_parser", no_parser)
    diags = Diagnostics()
    text = _BLOCK * (_parser.MAX_SOURCE_CHARS // len(_BLOCK) + 1)
    assert compile_source(SourceFile("huge.ariadne", text), diags) is None
    assert [d.code for d in diags] == ["file-too-large"]


@pytest.mark.parametrize("name", _DEEP)
def test_deep_nesting_costs_work_linear_in_its_depth(name: str) -> None:
    """Twice as deep, twice the work to reject: the generated inputs above are rejected in
    time linear in their size (the time is in the benchmark report)."""
    make, _ = _DEEP[name]
    compile_source(SourceFile("warm.ariadne", make(10)), Diagnostics())

    def work(n: int) -> int:
        diags = Diagnostics()
        done = calls(lambda: compile_source(SourceFile("deep.ariadne", make(n)), diags))
        assert diags.has_errors
        return done

    assert work(2_000) <= 2.1 * work(1_000)


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
