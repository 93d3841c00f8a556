"""The ``arc`` command line, run in process through :func:`ananke.cli.main`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from ananke.ariadne import compile_source, read_source
from ananke.backends import get_backend
from ananke.ir import Diagnostics, Module
from ananke.ir.cir import loads
from ananke.ir.lower import lower

import ananke
from ananke._explain import explain_table
from ananke._terminal import use_color
from ananke.cli import main
from tests.suite_helpers import missing

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
API = EXAMPLES / "api_handler.ariadne"
MULTI = EXAMPLES / "multi.ariadne"
COMMANDS = ["check", "compile", "emit", "explain"]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def arc(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(*args: str | Path) -> Result:
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
        out, err = capsys.readouterr()
        code = exc.value.code
        return Result(code if isinstance(code, int) else 1, out, err)

    return run


def _module(path: Path) -> Module:
    diags = Diagnostics()
    source = read_source(path, diags)
    assert source is not None
    module = compile_source(source, diags)
    assert module is not None and not diags.has_errors
    return module


def _grammars(path: Path) -> dict[str, str]:
    diags = Diagnostics()
    backend = get_backend("llguidance")
    return {
        low.set_name: backend.emit(low.grammar)
        for low in lower(_module(path), target="llguidance", diags=diags)
    }


# --- version and help -------------------------------------------------------------------


def test_version(arc) -> None:  # type: ignore[no-untyped-def]
    r = arc("--version")
    assert (r.code, r.out, r.err) == (0, f"arc {ananke.__version__}\n", "")


def test_version_imports_no_heavy_module() -> None:
    probe = (
        "import sys, atexit\n"
        # The registry of languages (ananke.ir.lower.language) is loaded; the IR, the lower
        # pass and the languages themselves are not.
        "heavy = ('lark', 'llguidance', 'tree_sitter', 'rich', 'msgspec', 'ananke.ir.constraint',"
        " 'ananke.ir.grammar', 'ananke.ir.lower.to_grammar', 'ananke.languages.python')\n"
        "atexit.register(lambda: print(sorted(m for m in heavy if m in sys.modules)))\n"
        "from ananke.cli import main\n"
        "main(['--version'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd="/"
    ).stdout
    assert out.splitlines() == [f"arc {ananke.__version__}", "[]"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_an_example(arc, command: str | None) -> None:  # type: ignore[no-untyped-def]
    r = arc(*([command] if command else []), "--help")
    assert r.code == 0
    assert "Example" in r.out
    assert "arc " in r.out.split("Example", 1)[1]


@pytest.mark.parametrize("command", ["check", "compile", "emit", "explain"])
def test_every_reporting_command_takes_output_format(arc, command: str) -> None:  # type: ignore[no-untyped-def]
    assert "--output-format [full|short|json]" in arc(command, "--help").out


def test_usage_errors_exit_2(arc) -> None:  # type: ignore[no-untyped-def]
    assert arc("check").code == 2
    assert arc("frobnicate").code == 2
    r = arc("compile", API)
    assert r.code == 2 and "Missing option '-o'" in r.err
    assert arc("check", "--output-format", "xml", API).code == 2


# --- check ------------------------------------------------------------------------------


def test_check_examples_clean(arc) -> None:  # type: ignore[no-untyped-def]
    r = arc("check", *sorted(EXAMPLES.glob("*.ariadne")))
    assert (r.code, r.out, r.err) == (0, "", "")


def test_check_reports_errors_with_exit_1(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.ariadne"
    bad.write_text("constraint f {\n    retuns: int;\n}\n")
    r = arc("check", "--output-format", "short", bad)
    assert r.code == 1
    assert r.out == ""
    assert r.err.startswith(f"{bad}:2:5: error[unknown-property]: ")
    full = arc("check", bad)
    assert "2 |     retuns: int;" in full.err and "^^^^^^" in full.err


def test_check_json_output(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert json.loads(arc("check", "--output-format", "json", API).err) == []
    bad = tmp_path / "bad.ariadne"
    bad.write_text("constraint f { max_lines: 0; }")
    r = arc("check", "--output-format", "json", bad)
    assert r.code == 1
    (d,) = json.loads(r.err)
    assert d["severity"] == "error" and d["labels"][0]["file"] == str(bad)


def test_check_several_files_reports_all(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = tmp_path / "a.ariadne", tmp_path / "b.ariadne"
    a.write_text("constraint f { retuns: int; }")
    b.write_text("constraint g { max_lines: 0; }")
    r = arc("check", "--output-format", "short", a, API, b)
    assert r.code == 1
    assert [line.split(":")[0] for line in r.err.splitlines()] == [str(a), str(b)]


def test_check_unreadable_inputs_exit_2(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = arc("check", "--output-format", "short", tmp_path / "nope.ariadne")
    assert missing.code == 2 and "error[unreadable-file]" in missing.err
    latin1 = tmp_path / "latin1.ariadne"
    latin1.write_bytes('constraint f { doc: "café"; }'.encode("latin-1"))
    r = arc("check", "--output-format", "short", latin1, API)
    assert r.code == 2 and "error[invalid-utf8]" in r.err
    assert arc("check", tmp_path).code == 2


def test_no_colour_when_not_a_terminal(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.ariadne"
    bad.write_text("constraint f { retuns: int; }")
    assert "\x1b" not in arc("check", bad).err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_needs_a_terminal_and_no_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(_Tty()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(_Tty()) is False
    monkeypatch.setenv("NO_COLOR", "")
    assert use_color(_Tty()) is True


# --- compile ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "msgpack"])
def test_compile_writes_a_cir_that_loads_back(arc, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "api.cir"
    r = arc("compile", API, "-o", out, "--format", fmt)
    assert (r.code, r.out, r.err) == (0, "", "")
    data = out.read_bytes()
    assert data.startswith(b"{") == (fmt == "json")
    diags = Diagnostics()
    assert loads(data, str(out), diags) == _module(API)
    assert not diags
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api.cir"]


def test_compile_replaces_an_existing_file(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "api.cir"
    out.write_text("old")
    assert arc("compile", API, "-o", out).code == 0
    assert out.read_bytes().startswith(b"{\n")


def test_compile_with_errors_writes_nothing(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.ariadne"
    bad.write_text("constraint f { retuns: int; }")
    out = tmp_path / "bad.cir"
    assert arc("compile", bad, "-o", out).code == 1
    assert not out.exists()


def test_compile_to_a_missing_folder_exits_2(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "missing" / "api.cir"
    r = arc("compile", API, "-o", out, "--output-format", "short")
    assert r.code == 2
    assert r.err == (
        f"{out}:1:1: error[unwritable-file]: cannot write `{out}`: No such file or directory\n"
    )


def test_compile_reads_an_ir_document(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`ananke compile constraints.json -o compiled.cir`: the JSON of the IR, as the
    library writes it, under any name."""
    from ananke.ir.cir import dumps

    document = tmp_path / "constraints.json"
    document.write_bytes(dumps(ananke.load(API), "json"))
    for fmt in ("json", "msgpack"):
        out = tmp_path / f"compiled-{fmt}.cir"
        assert (arc("compile", document, "-o", out, "--format", fmt).code) == 0
        diags = Diagnostics()
        assert loads(out.read_bytes(), str(out), diags) == _module(API)
        assert arc("emit", out).out == arc("emit", API).out
    # A broken document is reported as a .cir is, and nothing is written.
    document.write_text('{"version": 99}')
    r = arc("compile", document, "-o", tmp_path / "x.cir", "--output-format", "short")
    assert r.code == 2 and "error[cir-version]" in r.err
    assert not (tmp_path / "x.cir").exists()


# --- emit -------------------------------------------------------------------------------


def test_emit_prints_the_grammar(arc) -> None:  # type: ignore[no-untyped-def]
    r = arc("emit", API, "--target", "llguidance")
    assert r.code == 0 and r.err == ""
    (grammar,) = _grammars(API).values()
    assert r.out.rstrip("\n") == grammar.rstrip("\n")


@pytest.mark.parametrize("fmt", ["json", "msgpack"])
def test_emit_from_cir_matches_emit_from_source(arc, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    cir = tmp_path / "api.cir"
    assert arc("compile", API, "-o", cir, "--format", fmt).code == 0
    from_cir = arc("emit", cir)
    assert from_cir.code == 0
    assert from_cir.out == arc("emit", API).out
    # Without the .cir extension the format is recognised by its first byte.
    renamed = tmp_path / "api.bin"
    cir.rename(renamed)
    assert arc("emit", renamed).out == from_cir.out


def test_emit_to_a_file(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "api.lark"
    r = arc("emit", API, "-o", out)
    assert (r.code, r.out) == (0, "")
    (grammar,) = _grammars(API).values()
    assert out.read_text() == grammar


def test_emit_several_sets_needs_a_choice(arc) -> None:  # type: ignore[no-untyped-def]
    r = arc("emit", MULTI)
    assert r.code == 2
    assert "get_user, list_users, render_banner" in r.err
    assert "--constraint" in r.err


def test_emit_one_of_several_sets(arc) -> None:  # type: ignore[no-untyped-def]
    r = arc("emit", MULTI, "--constraint", "list_users")
    assert r.code == 0
    assert r.out.rstrip("\n") == _grammars(MULTI)["list_users"].rstrip("\n")


def test_emit_unknown_constraint_lists_names(arc) -> None:  # type: ignore[no-untyped-def]
    r = arc("emit", MULTI, "--constraint", "nope")
    assert r.code == 2
    assert "no constraint set named `nope`" in r.err and "get_user" in r.err


def test_emit_several_sets_to_a_folder(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "grammars"
    r = arc("emit", MULTI, "-o", f"{folder}/")
    assert r.code == 0
    expected = _grammars(MULTI)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.lark" for n in expected)
    for name, grammar in expected.items():
        assert (folder / f"{name}.lark").read_text() == grammar


def test_emit_unknown_target_lists_targets(arc) -> None:  # type: ignore[no-untyped-def]
    r = arc("emit", API, "--target", "gbnff")
    assert r.code == 2
    assert "unknown target `gbnff`; known targets: all, gbnf, json-schema, lark," in r.err


def test_emit_without_constraint_sets(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    only = tmp_path / "schemas.ariadne"
    only.write_text("schema S { name: str; }\n")
    assert arc("check", only).code == 0
    r = arc("emit", only, "--output-format", "short")
    assert r.code == 1 and "error[no-constraint-set]" in r.err


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "cir-corrupt"),
        (b'{"version": 1,', "cir-corrupt"),
        (b"\x84\xa7version", "cir-corrupt"),
        (b'{"version": 99}', "cir-version"),
        (b'{"version": 1, "sets": [{"name": 3}]}', "cir-invalid"),
    ],
)
def test_emit_bad_cir_exits_2(arc, tmp_path: Path, content: bytes, code: str) -> None:  # type: ignore[no-untyped-def]
    cir = tmp_path / "bad.cir"
    cir.write_bytes(content)
    r = arc("emit", cir, "--output-format", "json")
    assert r.code == 2 and r.out == ""
    (d,) = json.loads(r.err)
    assert d["code"] == code and d["labels"][0]["file"] == str(cir)


def test_bad_json_cir_shows_an_excerpt(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cir = tmp_path / "bad.cir"
    cir.write_bytes(b'{\n  "version": 1,\n  oops\n}\n')
    r = arc("emit", cir)
    assert r.code == 2
    assert f" --> {cir}:3:3\n" in r.err
    assert "3 |   oops\n" in r.err


def test_emit_missing_cir_exits_2(arc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = arc("emit", tmp_path / "none.cir", "--output-format", "short")
    assert r.code == 2 and "error[unreadable-file]" in r.err


# --- explain ----------------------------------------------------------------------------


def test_explain_lists_every_constraint(arc) -> None:  # type: ignore[no-untyped-def]
    r = arc("explain", API)
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines[0] == "constraint set api_handler (target llguidance)"
    header = lines[1].split()
    assert header == ["ID", "KIND", "LEVEL", "REASON", "DETAIL"]
    ids = [c.id for c in _module(API).sets[0].constraints]
    rows = lines[2 : 2 + len(ids)]
    assert [row.split()[0] for row in rows] == ids
    (lowered,) = lower(_module(API), target="llguidance", diags=Diagnostics())
    assert lines[2 + len(ids) :] == ([""] if lowered.notes else []) + [
        f"  note: {note}" for note in lowered.notes
    ]
    for row in rows:
        assert row.split()[2] in {"token", "post", "prompt"}
    # Columns are aligned: LEVEL starts at the same offset on every line.
    offset = lines[1].index("LEVEL")
    assert all(row[offset:].split()[0] in {"token", "post", "prompt"} for row in rows)


def test_explain_one_set(arc) -> None:  # type: ignore[no-untyped-def]
    r = arc("explain", MULTI, "-c", "render_banner")
    assert r.code == 0
    assert r.out.startswith("constraint set render_banner (target llguidance)\n")
    assert "constraint set get_user" not in r.out


def test_explain_all_sets_matches_table(arc) -> None:  # type: ignore[no-untyped-def]
    r = arc("explain", MULTI)
    lowered = lower(_module(MULTI), target="llguidance", diags=Diagnostics())
    assert r.out == explain_table(lowered)
    assert r.out.count("constraint set ") == 3


# --- internal errors --------------------------------------------------------------------


def test_unexpected_exception_is_an_internal_error(arc, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import ananke.ariadne

    def boom(*_: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(ananke.ariadne, "compile_source", boom)
    r = arc("check", API)
    assert r.code == 3
    lines = r.err.splitlines()
    assert lines[0] == "internal error: this is a bug in arc; please report it"
    assert lines[1] == "  RuntimeError: kaboom"
    assert any("in boom" in line for line in lines)


def test_arc_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("arc")
    if not script.exists():
        missing("the arc script is not installed next to this interpreter")
    env = {**os.environ, "NO_COLOR": "1"}
    r = subprocess.run(
        [str(script), "check", str(API)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_ananke_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("ananke")
    if not script.exists():
        missing("the ananke script is not installed next to this interpreter")
    env = {**os.environ, "NO_COLOR": "1"}
    r = subprocess.run(
        [str(script), "check", str(API)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    r = subprocess.run([str(script), "emit"], capture_output=True, text=True, env=env)
    assert r.returncode == 2
    assert r.stderr.startswith("Usage: ananke emit [OPTIONS] FILE\nTry 'ananke emit --help'")


@pytest.mark.parametrize("program", ["arc", "ananke"])
def test_messages_name_the_program_as_invoked(  # type: ignore[no-untyped-def]
    arc, monkeypatch: pytest.MonkeyPatch, program: str
) -> None:
    monkeypatch.setattr(sys, "argv", [f"/somewhere/bin/{program}"])
    assert arc("--version").out == f"{program} {ananke.__version__}\n"
    r = arc("emit")
    assert r.code == 2 and r.err.startswith(f"Usage: {program} emit [OPTIONS] FILE\n")
    assert f"Try '{program} emit --help' for help." in r.err
    assert arc("--help").out.startswith(f"Usage: {program} [OPTIONS] COMMAND [ARGS]...")


# --- the README's command table -----------------------------------------------------------


def test_readme_command_table_names_real_commands_and_options() -> None:
    import re

    from ananke.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(arc [^`]*)` \|", readme, re.M)
    assert rows
    seen = set()
    for row in rows:
        words = row.replace("\\|", "|").split()
        if words[1].startswith("-"):
            assert words[1] in ("--version", "-V"), row
            continue
        command = cli.commands[words[1]]
        seen.add(words[1])
        options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for flag in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", " ".join(words[2:])):
            assert flag in options, (row, flag)
    assert seen == set(cli.commands)
