"""What `arc` reads: `-` for standard input (named `<stdin>`, imports relative to the
current folder), folders for `arc check`; and what `--help` promises about it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.cli_helpers import run_arc, run_arc_stdin

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
API = EXAMPLES / "api_handler.ariadne"
MULTI = EXAMPLES / "multi.ariadne"

LIB = 'constraint api_handler {\n    max_lines: 100;\n    forbid: ["eval"];\n}\n'
WEB = 'import "lib/api.ariadne";\nconstraint web extends api_handler {\n    max_lines: 80;\n}\n'


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)  # no ananke.toml of this checkout applies


# --- standard input -----------------------------------------------------------------------


def test_check_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_arc_stdin(capsys, monkeypatch, API.read_bytes(), "check", "-") == (0, "", "")
    code, out, err = run_arc_stdin(
        capsys, monkeypatch, b"constraint a {\n    retuns: int;\n}\n", "check", "-",
        "--output-format", "short",
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err == (
        "<stdin>:2:5: error[unknown-property]: unknown property `retuns` in constraint `a`\n"
    )


def test_full_output_shows_the_line_read_from_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_arc_stdin(
        capsys, monkeypatch, b"constraint a {\n    retuns: int;\n}\n", "check", "-"
    )
    assert code == 1
    assert " --> <stdin>:2:5\n" in err and "2 |     retuns: int;\n" in err


@pytest.mark.parametrize("command", ["emit", "explain"])
def test_standard_input_gives_what_the_file_gives(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from_file = run_arc(capsys, command, API, "--target", "gbnf")
    from_stdin = run_arc_stdin(capsys, monkeypatch, API.read_bytes(), command, "-", "-t", "gbnf")
    assert from_file[0] == 0 and from_file[1]
    assert from_stdin == from_file


def test_a_cir_document_on_standard_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for fmt in ("json", "msgpack"):
        cir = tmp_path / f"multi.{fmt}.cir"
        assert run_arc(capsys, "compile", MULTI, "-o", cir, "--format", fmt)[0] == 0
        expected = run_arc(capsys, "emit", MULTI, "-c", "get_user")
        got = run_arc_stdin(capsys, monkeypatch, cir.read_bytes(), "emit", "-", "-c", "get_user")
        assert got == expected and got[0] == 0


def test_compile_reads_standard_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_arc_stdin(
        capsys, monkeypatch, API.read_bytes(), "compile", "-", "-o", "a.cir"
    )
    assert (code, err) == (0, "")
    doc = json.loads((tmp_path / "a.cir").read_text())
    assert doc["sources"] == ["<stdin>"]
    assert [s["name"] for s in doc["sets"]] == ["api_handler"]


def test_imports_from_standard_input_are_relative_to_the_current_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "api.ariadne").write_text(LIB)
    code, out, err = run_arc_stdin(capsys, monkeypatch, WEB.encode(), "explain", "-")
    assert (code, err) == (0, "")
    assert "api_handler.forbid.eval" in out
    assert "max_lines: 80 from <stdin>:3 intersected with 100 from lib/api.ariadne:2" in out
    # From another folder the same text imports nothing.
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, _, err = run_arc_stdin(
        capsys, monkeypatch, WEB.encode(), "check", "-", "--output-format", "short"
    )
    assert code == 1
    assert err.startswith(
        "<stdin>:1:8: error[unresolved-import]: cannot import `lib/api.ariadne`: no such file"
    )


@pytest.mark.parametrize(
    ("data", "code", "diagnostic"),
    [
        (b"\xff\xfe", 2, "<stdin>:1:1: error[invalid-utf8]:"),
        (b"constraint a {\0}", 2, "<stdin>:1:15: error[binary-file]:"),
        (b"", 1, "<stdin>:1:1: error[empty-file]:"),
    ],
)
def test_bad_standard_input_is_a_diagnostic(
    data: bytes,
    code: int,
    diagnostic: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    got, out, err = run_arc_stdin(
        capsys, monkeypatch, data, "emit", "-", "--output-format", "short"
    )
    assert (got, out) == (code, "")
    assert err.startswith(diagnostic), err


def test_standard_input_is_read_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_arc_stdin(capsys, monkeypatch, API.read_bytes(), "check", "-", "-")
    assert code == 2 and "`-` (standard input) can be read only once" in err


def test_emit_from_standard_input_without_sets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_arc_stdin(
        capsys, monkeypatch, b"schema S { a: int; }\n", "emit", "-", "--output-format", "short"
    )
    assert code == 1
    assert err == (
        "<stdin>:1:1: error[no-constraint-set]: `<stdin>` defines no constraint set, so "
        "there is nothing to emit\n"
    )


def test_transpile_reads_standard_input_with_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    grammar = b'root ::= "a" [0-9]+\n'
    (tmp_path / "g.gbnf").write_bytes(grammar)
    expected = run_arc(capsys, "transpile", "g.gbnf", "--target", "lark")
    assert expected[0] == 0 and expected[1]
    got = run_arc_stdin(
        capsys, monkeypatch, grammar, "transpile", "-", "--from", "gbnf", "-t", "lark"
    )
    assert got == expected
    code, _, err = run_arc_stdin(capsys, monkeypatch, grammar, "transpile", "-")
    assert code == 2 and "standard input has no extension to tell its dialect" in err


# --- folders ------------------------------------------------------------------------------


def test_check_a_folder_checks_the_ariadne_files_under_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "constraints"
    shutil.copytree(EXAMPLES, tree / "examples")
    (tree / "lib").mkdir()
    (tree / "lib" / "api.ariadne").write_text(LIB)
    (tree / "web.ariadne").write_text(WEB)
    (tree / "bad.ariadne").write_text("constraint b {\n    retuns: int;\n}\n")
    (tree / ".hidden").mkdir()
    (tree / ".hidden" / "worse.ariadne").write_text("}")
    (tree / "notes.txt").write_text("}")
    code, out, err = run_arc(capsys, "check", tree, "--output-format", "short")
    assert (code, out) == (1, "")
    # Only bad.ariadne is broken (the hidden folder and notes.txt are not read); the
    # library imported by web.ariadne is checked once, on its own and through web.
    assert err.splitlines() == [
        f"{tree / 'bad.ariadne'}:2:5: error[unknown-property]: unknown property `retuns` in "
        "constraint `b`"
    ]
    (tree / "bad.ariadne").unlink()
    assert run_arc(capsys, "check", tree) == (0, "", "")


def test_check_a_folder_reports_an_imported_error_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "api.ariadne").write_text(LIB.replace("max_lines", "max_line"))
    (tmp_path / "web.ariadne").write_text(WEB)
    code, _, err = run_arc(capsys, "check", ".", "--output-format", "short")
    assert code == 1
    assert err.count("error[unknown-property]") == 1, err


def test_check_a_folder_without_ariadne_files_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = run_arc(capsys, "check", "empty")
    assert code == 2 and "no .ariadne files in `empty`" in err


# --- transpile takes --target like every command --------------------------------------------


def test_transpile_target_option_and_its_aliases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "g.lark").write_text('start: "a" NUMBER\nNUMBER: /[0-9]+/\n')
    outputs = {
        run_arc(capsys, "transpile", "g.lark", *flag, "xgrammar")
        for flag in (["--target"], ["-t"], ["--to"])
    }
    assert len(outputs) == 1
    code, out, err = outputs.pop()
    assert (code, err) == (0, "") and "::=" in out
    code, _, err = run_arc(capsys, "transpile", "g.lark", "-t", "all")
    assert code == 2 and "unknown target `all`" in err


# --- help ---------------------------------------------------------------------------------


def test_help_lists_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ([], ["check"], ["compile"], ["emit"], ["explain"], ["transpile"], ["test"]):
        code, out, _ = run_arc(capsys, *command, "--help")
        text = " ".join(out.split())
        assert code == 0
        for exit_code in ("0 ", "1 ", "2 usage or input error", "3 internal error"):
            assert exit_code in text.split("Exit codes:", 1)[1], (command, exit_code)


def test_strict_help_says_what_it_turns_into_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("emit", "explain"):
        _, out, _ = run_arc(capsys, command, "--help")
        text = " ".join(out.split())
        assert "--strict / --no-strict Make `demoted-to-post` an error" in text
        assert "No other diagnostic changes." in text
