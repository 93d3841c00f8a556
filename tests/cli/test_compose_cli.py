"""Composition from the command line: imports, `extends`, decisions in `arc explain`,
`arc compile -p`, `--precedence`, and the errors a user meets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.cli_helpers import run_arc

LIB = """\
constraint api_handler {
    max_lines: 100;
    forbid: ["eval", "print"];
}
"""

WEB = """\
import "lib/api.ariadne";
constraint web extends api_handler {
    max_lines: 80;
    require: ["print"];
}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "api.ariadne").write_text(LIB)
    (tmp_path / "web.ariadne").write_text(WEB)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def test_explain_shows_what_composition_decided(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_arc(capsys, "explain", "web.ariadne")
    assert (code, err) == (0, "")
    # Only the compiled file's set is explained; the library's is not.
    assert "constraint set web " in out and "constraint set api_handler" not in out
    assert (
        "decided (intersect): max_lines: 80 from web.ariadne:3 intersected with 100 from "
        "lib/api.ariadne:2" in out
    )
    assert (
        'decided (provenance): require: "print" from web.ariadne:4 overrides forbid: "print" '
        "from lib/api.ariadne:3 (provenance precedence)" in out
    )
    assert "api_handler.forbid.eval" in out and "api_handler.forbid.print" not in out


def test_precedence_changes_the_winner(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_arc(
        capsys, "explain", "web.ariadne", "--precedence", "library,file,extracted,llm"
    )
    assert code == 0
    assert "api_handler.forbid.print" in out and "web.require.print" not in out
    code, _, err = run_arc(capsys, "explain", "web.ariadne", "--precedence", "file,llm")
    assert code == 2 and "--precedence" in err


def test_compile_runs_named_passes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_arc(
        capsys,
        "compile",
        "web.ariadne",
        "-o",
        "web.cir",
        "-p",
        "inline-extends,merge,detect-conflicts",
    )
    assert (code, err) == (0, "")
    data = json.loads((project / "web.cir").read_text())
    web = next(s for s in data["sets"] if s["name"] == "web")
    assert [c["kind"] for c in web["conflicts"]] == ["forbid-require"]
    assert [r["rule"] for r in web["resolutions"]] == ["intersect"]
    # The rest of the pipeline runs when the .cir is used.
    code, out, _ = run_arc(capsys, "explain", "web.cir")
    assert code == 0 and "decided (provenance)" in out
    code, _, err = run_arc(capsys, "compile", "web.ariadne", "-o", "x.cir", "-p", "merge,bogus")
    assert code == 2 and "unknown pass `bogus`" in err


def test_undecidable_conflict_is_an_error_with_both_places(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "same.ariadne").write_text(
        'constraint a { forbid: ["eval"]; }\nconstraint b extends a { require: ["eval"]; }\n'
    )
    code, _, err = run_arc(capsys, "check", "same.ariadne")
    assert code == 1
    assert "error[constraint-conflict]: `eval` is both required and forbidden in `b`" in err
    assert "forbidden here" in err and "required here" in err
    assert 'note: forbid: "eval" from same.ariadne:1: hard, priority 0' in err


def test_import_errors(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "a.ariadne").write_text('import "b.ariadne";\nconstraint a { max_lines: 3; }\n')
    (project / "b.ariadne").write_text('import "a.ariadne";\nconstraint b { max_lines: 3; }\n')
    code, _, err = run_arc(capsys, "check", "a.ariadne")
    assert code == 1
    assert "error[import-cycle]: import cycle: a.ariadne imports b.ariadne imports a.ariadne" in err
    # The second label is shown with its line, in the other file.
    assert 'import "a.ariadne";' in err and "imported here" in err
    (project / "c.ariadne").write_text("import std.pyhton;\nconstraint c { max_lines: 3; }\n")
    code, _, err = run_arc(capsys, "check", "c.ariadne")
    assert code == 1 and "no module `std.pyhton` in the standard library" in err


def test_standard_library(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "s.ariadne").write_text(
        "import std.python;\n"
        "constraint s extends std.python.sandboxed {\n"
        '    forbid: [std.python.network, "pickle"];\n'
        "}\n"
    )
    code, out, err = run_arc(capsys, "explain", "s.ariadne")
    assert (code, err) == (0, "")
    for cid in (
        "std.python.no_dynamic_code.forbid.eval",
        "std.python.safe.forbid.os.system",
        "std.python.sandboxed.forbid.shutil.rmtree",
        "s.forbid.pickle",
    ):
        assert cid in out
    # The network names given twice (by `safe` and by the set itself) are kept once.
    assert 'decided (duplicate): forbid: "socket.socket"' in out


def test_errors_in_an_imported_file_are_reported_once(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "bad.ariadne").write_text("constraint base { max_lines: -1; }\n")
    (project / "one.ariadne").write_text('import "bad.ariadne";\nconstraint one extends base {}\n')
    (project / "two.ariadne").write_text(
        'import "bad.ariadne";\nimport "one.ariadne";\nconstraint two extends base {}\n'
    )
    code, _, err = run_arc(capsys, "check", "two.ariadne", "--output-format", "short")
    assert code == 1
    # The imported file's own error, once, and no follow-on error about `base` missing.
    assert [line.split(": ", 1)[1].split(":")[0] for line in err.splitlines()] == [
        "error[invalid-value]"
    ]
    assert err.startswith("bad.ariadne:1:")


def test_a_set_defined_in_two_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "other.ariadne").write_text("constraint web { max_lines: 4; }\n")
    (project / "main.ariadne").write_text(
        'import "other.ariadne";\nconstraint web { max_lines: 3; }\n'
    )
    code, _, err = run_arc(capsys, "check", "main.ariadne")
    assert code == 1
    assert "error[duplicate-definition]: constraint `web` is defined in two files" in err
    assert "defined again here" in err and "first defined here" in err


def test_a_warning_is_given_once_when_resolution_runs_again(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The soft `forbid` gives way, so detection runs a second round; the pattern it cannot
    # compare is reported once, not once per round.
    (project / "w.ariadne").write_text(
        'constraint base { naming: snake; @soft forbid: ["eval"]; }\n'
        'constraint web extends base { naming: r"^[a-z]\\w*$"; require: ["eval"]; }\n'
    )
    code, _, err = run_arc(capsys, "check", "w.ariadne", "--output-format", "short")
    assert code == 0
    assert err.count("warning[undecided-conflict]") == 1


TWO = """\
constraint good {
    forbid: ["eval"];
}
constraint bad {
    forbid: ["print"];
    require: ["print"];
}
constraint child extends bad {
    max_lines: 10;
}
constraint cousin extends good {
    max_lines: 10;
}
"""


@pytest.mark.parametrize("command", ["emit", "explain"])
def test_a_conflict_in_another_set_does_not_fail_the_one_asked_for(
    command: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "two.ariadne").write_text(TWO)
    (project / "good.ariadne").write_text(TWO.split("constraint bad")[0])
    code, out, err = run_arc(capsys, command, "two.ariadne", "-c", "good")
    assert code == 0, err
    # What it prints is what the set alone gives.
    assert out == run_arc(capsys, command, "good.ariadne")[1]
    # The other sets' conflicts are warnings here, each saying why.
    assert err.count("warning[constraint-conflict]: `print` is both required and forbidden") == 2
    assert "error" not in err.replace("\n", " ").split("warning[")[0]
    assert err.count("it concerns another constraint set than `good`, the one asked for") == 2
    # A set that extends a healthy one is fine; one that inherits the conflict fails.
    assert run_arc(capsys, command, "two.ariadne", "-c", "cousin")[0] == 0
    code, _, err = run_arc(
        capsys, command, "two.ariadne", "-c", "child", "--output-format", "short"
    )
    assert code == 1
    assert "error[constraint-conflict]: `print` is both required and forbidden in `child`" in err
    # `bad`'s own conflict is not `child`'s: a warning.
    assert "warning[constraint-conflict]: `print` is both required and forbidden in `bad`" in err
    code, _, err = run_arc(capsys, command, "two.ariadne", "-c", "bad", "--output-format", "short")
    assert code == 1 and "error[constraint-conflict]" in err


def test_without_a_choice_every_conflict_fails(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "two.ariadne").write_text(TWO)
    code, _, err = run_arc(capsys, "check", "two.ariadne", "--output-format", "short")
    assert code == 1 and err.count("error[constraint-conflict]") == 2
    code, _, err = run_arc(capsys, "emit", "two.ariadne", "-o", "out/", "--output-format", "short")
    assert code == 1 and err.count("error[constraint-conflict]") == 2
    assert not (project / "out").exists()
