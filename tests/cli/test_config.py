"""Project settings (`ananke.toml`, `[tool.ananke]` in `pyproject.toml`): which keys reach
which commands, what wins, and the errors a mistyped file gives (with its place)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ananke import config
from tests.cli.cli_helpers import run_arc

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "examples" / "api_handler.ariadne"

# \w in a naming pattern: xgrammar and gbnf cannot enforce it in their grammar (demoted).
NAMING = 'constraint n {\n    naming: r"^[a-z]\\w*$";\n    forbid: ["eval"];\n}\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "api.ariadne").write_bytes(API.read_bytes())
    (tmp_path / "n.ariadne").write_text(NAMING)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def _settings(project: Path, text: str) -> None:
    (project / "ananke.toml").write_text(text)


def test_a_section_sets_its_commands_defaults(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gbnf = run_arc(capsys, "emit", "api.ariadne", "--target", "gbnf")
    lark = run_arc(capsys, "emit", "api.ariadne", "--target", "llguidance")
    assert gbnf[0] == lark[0] == 0 and gbnf != lark
    _settings(project, '[emit]\ntarget = "gbnf"\n')
    assert run_arc(capsys, "emit", "api.ariadne") == gbnf
    # The command line wins; other commands keep their own defaults.
    assert run_arc(capsys, "emit", "api.ariadne", "-t", "llguidance") == lark
    code, out, _ = run_arc(capsys, "explain", "api.ariadne")
    assert code == 0 and "(target llguidance)" in out


def test_top_level_keys_reach_every_command_with_the_option(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _settings(project, "max-nesting = 3\n")
    code, out, _ = run_arc(capsys, "explain", "api.ariadne")
    assert code == 0 and "blocks nested at most 3 deep" in out
    limited = run_arc(capsys, "emit", "api.ariadne")
    assert limited == run_arc(capsys, "emit", "api.ariadne", "--max-nesting", "3")
    assert limited != run_arc(capsys, "emit", "api.ariadne", "--max-nesting", "16")
    # `check` has no --max-nesting: the key does not concern it.
    assert run_arc(capsys, "check", "api.ariadne") == (0, "", "")


def test_section_over_top_level_over_default(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _settings(project, 'output-format = "short"\n\n[check]\noutput-format = "json"\n')
    assert config.load(project).for_command("check") == {"output_format": "json"}
    assert config.load(project).for_command("emit") == {"output_format": "short"}
    (project / "bad.ariadne").write_text("constraint b {\n    retuns: int;\n}\n")
    _, _, err = run_arc(capsys, "check", "bad.ariadne")
    assert err.lstrip().startswith("[")  # json, from [check]
    _, _, err = run_arc(capsys, "compile", "bad.ariadne", "-o", "b.cir")
    assert err.startswith("bad.ariadne:2:5: error[unknown-property]")  # short, top level
    _, _, err = run_arc(capsys, "check", "bad.ariadne", "--output-format", "full")
    assert " --> bad.ariadne:2:5" in err


def test_strict_from_the_settings_and_no_strict(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_arc(capsys, "explain", "n.ariadne", "-t", "gbnf")[0] == 0
    _settings(project, "[explain]\nstrict = true\n")
    code, _, err = run_arc(capsys, "explain", "n.ariadne", "-t", "gbnf")
    assert code == 1 and "error[demoted-to-post]" in err
    code, _, err = run_arc(capsys, "explain", "n.ariadne", "-t", "gbnf", "--no-strict")
    assert code == 0 and "warning[demoted-to-post]" in err


def test_precedence_from_the_settings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "lib.ariadne").write_text('constraint base {\n    forbid: ["print"];\n}\n')
    (project / "web.ariadne").write_text(
        'import "lib.ariadne";\nconstraint web extends base {\n    require: ["print"];\n}\n'
    )
    _, out, _ = run_arc(capsys, "explain", "web.ariadne")
    assert "web.require.print" in out and "base.forbid.print" not in out
    _settings(project, 'precedence = ["library", "file", "extracted", "llm"]\n')
    _, out, _ = run_arc(capsys, "explain", "web.ariadne")
    assert "base.forbid.print" in out and "web.require.print" not in out


def test_pyproject_tool_ananke(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.ananke]\nmax-nesting = 4\n\n[tool.ananke.emit]\n'
        'target = "xgrammar"\n'
    )
    assert config.load(project).for_command("emit") == {"max_nesting": 4, "target": "xgrammar"}
    assert run_arc(capsys, "emit", "api.ariadne") == run_arc(
        capsys, "emit", "api.ariadne", "-t", "xgrammar", "--max-nesting", "4"
    )
    # An ananke.toml of the same folder comes first; a pyproject.toml without
    # [tool.ananke] does not count, and the search goes on upward.
    _settings(project, "")
    assert config.load(project).for_command("emit") == {}
    (project / "ananke.toml").unlink()
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (project / "sub").mkdir()
    found = config.find(project / "sub")
    assert found is None or found[0] != project / "pyproject.toml"


@pytest.mark.parametrize(
    ("text", "where", "message", "help"),
    [
        (
            "max_nesting = 12\n",
            "ananke.toml:1:1",
            "unknown setting `max_nesting`; did you mean `max-nesting`?",
            "the settings are output-format, target, strict, max-nesting, precedence, "
            "format, targets, engines, jobs, constraint, backend, url, model, api-key, "
            "api-key-file, max-tokens, temperature, seed, attempts, concurrency, timeout, chat, "
            "cache-dir",
        ),
        (
            "strict = true\n\n[emti]\ntarget = 'gbnf'\n",
            "ananke.toml:3:2",
            "unknown section `emti`; did you mean `emit`?",
            "sections are named after commands: check, compile, emit, explain, transpile, "
            "test, generate, validate; or generation, analysis, optimization",
        ),
        (
            "[test]\nengine = ['lark']\n",
            "ananke.toml:2:1",
            "unknown setting `engine` of `arc test`; did you mean `engines`?",
            "the settings of `arc test` are output-format, max-nesting, targets, engines, jobs",
        ),
        (
            "[check]\nstrict = true\n",
            "ananke.toml:2:1",
            "`arc check` has no option `--strict`",
            "`strict` applies to `arc emit`, `arc explain`",
        ),
        (
            "[emit]\n  max-nesting = 100\n",
            "ananke.toml:2:3",
            "`max-nesting` takes an integer from 1 to 64",
            None,
        ),
        ("strict = 'yes'\n", "ananke.toml:1:1", "`strict` takes true or false", None),
        (
            "[test]\ntargets = ['gbfn']\n",
            "ananke.toml:2:1",
            "unknown target `gbfn`; known: llguidance, lark-vllm, xgrammar, gbnf, lark, regex, "
            "json-schema, vllm, sglang, llamacpp, openai",
            "did you mean `gbnf`?",
        ),
        (
            "target = 'all'\n",
            "ananke.toml:1:1",
            "`target` takes a target name; `all` is a target of `arc emit` and `arc explain` "
            "only, so set it in their sections",
            None,
        ),
        (
            "[emit]\ntarget = 'gbnf'\n\n[explain]\nprecedence = ['file']\n",
            "ananke.toml:5:1",
            "`precedence` takes a list ordering all of file, library, extracted, llm, each once",
            None,
        ),
        (
            "max-nesting = 3\ntarget = \n",
            "ananke.toml:2:10",
            "the configuration is not valid TOML: Invalid value",
            None,
        ),
        (
            "max-nesting = 3\nprecedence = [1\n",
            "ananke.toml:3:1",
            "the configuration is not valid TOML: Unclosed array",
            None,
        ),
    ],
)
def test_a_broken_configuration_is_an_error_with_its_place(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    where: str,
    message: str,
    help: str | None,
) -> None:
    _settings(project, text)
    code, out, err = run_arc(capsys, "check", "api.ariadne", "--output-format", "short")
    assert (code, out) == (2, "")
    assert err == f"{where}: error[invalid-config]: {message}\n"
    with pytest.raises(config.ConfigError) as exc:
        config.load(project)
    assert exc.value.diagnostic.help == help
    # The full format shows the line of the file.
    _, _, err = run_arc(capsys, "check", "api.ariadne")
    line = int(where.split(":")[1])
    shown = [*text.splitlines(), ""][line - 1]
    assert f"\n{line} | {shown}".rstrip() + "\n" in err


def test_a_broken_configuration_in_pyproject(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.ananke]\nstrict = true\n\n[tool.ananke.tset]\nengines = []\n"
    )
    code, _, err = run_arc(capsys, "emit", "api.ariadne", "--output-format", "short")
    assert code == 2
    assert err == (
        "pyproject.toml:4:2: error[invalid-config]: unknown section `tset`; did you mean `test`?\n"
    )


def test_every_setting_names_an_option_of_its_commands() -> None:
    from ananke.cli import cli

    for setting in config.SETTINGS:
        for command in setting.commands:
            params = {p.name for p in cli.commands[command].params}
            assert setting.param in params, (setting.key, command)
    # And the other way round: every command named has a section.
    assert set(config.COMMANDS) == set(cli.commands)


def test_the_documented_settings_are_the_settings() -> None:
    import re

    spec = (ROOT / "spec" / "ariadne.md").read_text(encoding="utf-8")
    section = spec.split("#### Settings", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| .* \| ([a-z, ]+) \|$", section, re.M)
    assert [(key, tuple(commands.split(", "))) for key, commands in rows] == [
        (s.key, s.commands) for s in config.SETTINGS
    ]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("k" * 5000 + " = 1\n", "k" * 5000),
        ('[test]\ntargets = ["' + "\\u0007" * 3000 + '"]\n', "\x07" * 3000),
        ("[" + "s" * 5000 + "]\nstrict = true\n", "s" * 5000),
    ],
)
def test_the_file_is_quoted_bounded_and_escaped(
    project: Path, capsys: pytest.CaptureFixture[str], text: str, written: str
) -> None:
    _settings(project, text)
    code, _, err = run_arc(capsys, "check", "api.ariadne", "--output-format", "short")
    assert code == 2
    [line] = err.splitlines()
    assert len(line) < 400, line
    assert "\x07" not in err
    assert f"({len(written):,} characters)" in line


def test_command_line_arguments_are_quoted_bounded(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "q" * 4000
    for args in (
        ("emit", "api.ariadne", "-c", name),
        ("emit", "api.ariadne", "--target", name),
        ("check", name + "/"),
        ("test", name, "--engine", "llguidance-lark"),
    ):
        code, out, err = run_arc(capsys, *args)
        assert (code, out) == (2, ""), args
        # The message quotes the argument bounded; a location line (`--> PATH`) names
        # the file as given, for editors to open.
        message = next(line for line in err.splitlines() if "(4,00" in line)
        assert name not in message and len(message) < 400, (args, err[:300])
