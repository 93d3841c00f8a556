"""Settings of `arc generate` and `arc validate`, the `ananke.config.yaml` shape
(generation, analysis, optimization), `${NAME}` in values, and keys: valid values, each
kind of invalid one with its place, the same settings in every format, and no output
that shows a key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ananke import config
from tests.cli.cli_helpers import run_arc

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "examples" / "api_handler.ariadne"

# What every test puts in a key: found in no output, whatever the format.
SECRET = "sk-test-5f3a9c0e7b2d41d8"
FORMATS = ("full", "short", "json")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "api.ariadne").write_bytes(API.read_bytes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("ANANKE_TEST_KEY", "ANANKE_TEST_HOST", "ANANKE_UNSET"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _short_error(capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run_arc(capsys, "check", "api.ariadne", "--output-format", "short")
    assert (code, out) == (2, ""), err
    return err


def _error(project: Path) -> config.ConfigError:
    with pytest.raises(config.ConfigError) as exc:
        config.load(project)
    return exc.value


# --- valid values -----------------------------------------------------------------------

EVERY_KEY = """\
output-format = "short"
constraint = "api_handler"

[generate]
backend = "openai"
url = "https://api.example.com/v1"
model = "gpt-5-mini"
api-key = "${ANANKE_TEST_KEY}"
max-tokens = 1000000
temperature = 1
seed = 0
attempts = 20
concurrency = 256
timeout = 2.5
chat = true
cache-dir = "cache"
"""


def test_every_generate_key(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANANKE_TEST_KEY", SECRET)
    (project / "ananke.toml").write_text(EVERY_KEY)
    settings = config.load(project).for_command("generate")
    assert settings == {
        "output_format": "short",
        "constraint": "api_handler",
        "backend": "openai",
        "url": "https://api.example.com/v1",
        "model": "gpt-5-mini",
        "api_key": SECRET,
        "max_tokens": 1_000_000,
        "temperature": 1.0,
        "seed": 0,
        "attempts": 20,
        "concurrency": 256,
        "timeout": 2.5,
        "chat": True,
        "cache_dir": project / "cache",
    }
    assert type(settings["temperature"]) is float
    assert isinstance(settings["api_key"], str) and str(settings["api_key"]) == SECRET
    # `validate` takes the set and the output format, nothing of the generation.
    assert config.load(project).for_command("validate") == {
        "output_format": "short",
        "constraint": "api_handler",
    }
    # The other commands' settings are untouched by these keys.
    assert config.load(project).for_command("emit") == {"output_format": "short"}


def test_modal_is_vllm_and_paths_start_at_the_files_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "ananke.toml").write_text(
        '[generate]\nbackend = "modal"\ncache-dir = "../shared/cache"\n'
        'api-key-file = "keys/k.txt"\n'
    )
    (project / "keys").mkdir()
    (project / "keys" / "k.txt").write_text(f"\n  {SECRET}  \n")
    (project / "sub").mkdir()
    settings = config.load(project / "sub").for_command("generate")
    assert settings["backend"] == "vllm"
    assert settings["cache_dir"] == project / ".." / "shared" / "cache"
    assert settings["api_key_file"] == project / "keys" / "k.txt"
    assert config.read_key(project / "keys" / "k.txt") == SECRET
    monkeypatch.setenv("HOME", str(project / "keys"))
    (project / "ananke.toml").write_text('[generate]\ncache-dir = "~/c"\n')
    assert config.load(project).for_command("generate") == {"cache_dir": project / "keys" / "c"}


# --- invalid values ---------------------------------------------------------------------

BACKENDS = "vllm, vllm-inprocess, sglang, llamacpp, openai, local, modal"
URL = "`url` takes an http or https URL with a host (`http://127.0.0.1:8000`)"
GENERATE_KEYS = (
    "output-format, constraint, backend, url, model, api-key, api-key-file, max-tokens, "
    "temperature, seed, attempts, concurrency, timeout, chat, cache-dir"
)


@pytest.mark.parametrize(
    ("text", "where", "message", "help"),
    [
        (
            '[generate]\nbackend = "vlm"\n',
            "2:1",
            f"unknown backend `vlm`; known: {BACKENDS}",
            "did you mean `vllm`?",
        ),
        ("backend = 3\n", "1:1", f"`backend` takes a backend name: {BACKENDS}", None),
        ('url = "ftp://example.com"\n', "1:1", URL, None),
        ('url = "http://"\n', "1:1", URL, None),
        ('url = "http://example.com:port"\n', "1:1", URL, None),
        ('url = "localhost:8000"\n', "1:1", URL, None),
        ("url = 8000\n", "1:1", URL, None),
        ('model = ""\n', "1:1", "`model` takes a model name or path", None),
        ("model = []\n", "1:1", "`model` takes a model name or path", None),
        ("max-tokens = 0\n", "1:1", "`max-tokens` takes an integer from 1 to 1,000,000", None),
        (
            "[generate]\nmax-tokens = 1000001\n",
            "2:1",
            "`max-tokens` takes an integer from 1 to 1,000,000",
            None,
        ),
        ('max-tokens = "5"\n', "1:1", "`max-tokens` takes an integer from 1 to 1,000,000", None),
        ("temperature = 2.5\n", "1:1", "`temperature` takes a number from 0 to 2", None),
        ("temperature = -0.1\n", "1:1", "`temperature` takes a number from 0 to 2", None),
        ("temperature = true\n", "1:1", "`temperature` takes a number from 0 to 2", None),
        ("temperature = nan\n", "1:1", "`temperature` takes a number from 0 to 2", None),
        ("seed = -1\n", "1:1", "`seed` takes an integer, 0 or more", None),
        ("seed = 1.0\n", "1:1", "`seed` takes an integer, 0 or more", None),
        ("attempts = 0\n", "1:1", "`attempts` takes an integer from 1 to 20", None),
        ("attempts = 21\n", "1:1", "`attempts` takes an integer from 1 to 20", None),
        ("concurrency = 257\n", "1:1", "`concurrency` takes an integer from 1 to 256", None),
        ("timeout = 0\n", "1:1", "`timeout` takes a number of seconds above 0", None),
        ('timeout = "10"\n', "1:1", "`timeout` takes a number of seconds above 0", None),
        ("timeout = inf\n", "1:1", "`timeout` takes a number of seconds above 0", None),
        ('chat = "yes"\n', "1:1", "`chat` takes true or false", None),
        ("cache-dir = 5\n", "1:1", "`cache-dir` takes a path", None),
        (
            '[validate]\nconstraint = "api handler"\n',
            "2:1",
            "`constraint` takes a constraint set name (`api_handler`, `std.python.safe`)",
            None,
        ),
        (
            "[generate]\nmax_tokens = 5\n",
            "2:1",
            "unknown setting `max_tokens` of `arc generate`; did you mean `max-tokens`?",
            f"the settings of `arc generate` are {GENERATE_KEYS}",
        ),
        (
            "[generate]\ntemprature = 0.5\n",
            "2:1",
            "unknown setting `temprature` of `arc generate`; did you mean `temperature`?",
            f"the settings of `arc generate` are {GENERATE_KEYS}",
        ),
        (
            '[emit]\nbackend = "vllm"\n',
            "2:1",
            "`arc emit` has no option `--backend`",
            "`backend` applies to `arc generate`",
        ),
        (
            '[validate]\nmodel = "m"\n',
            "2:1",
            "`arc validate` has no option `--model`",
            "`model` applies to `arc generate`",
        ),
        (
            "[generat]\nseed = 1\n",
            "1:2",
            "unknown section `generat`; did you mean `generate`?",
            "sections are named after commands: check, compile, emit, explain, transpile, "
            "test, generate, validate; or generation, analysis, optimization",
        ),
        (
            "[generate]\nseed = 1\n\n[generation]\nseed = 2\n",
            "4:2",
            "`generation` and `generate` set the same settings; keep one",
            None,
        ),
        (
            "[generation]\nmax_tokens = 5\nmax-tokens = 6\n",
            "3:1",
            "`max-tokens` sets `max-tokens` a second time",
            None,
        ),
        (
            "[generation]\nmax_tokes = 5\n",
            "2:1",
            "unknown setting `max_tokes` of `generation`; did you mean `max-tokens`?",
            f"the settings of `generation` are {GENERATE_KEYS}",
        ),
        ("generation = 5\n", "1:1", "`generation` must be a section of settings", None),
    ],
)
def test_an_invalid_generate_setting(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    where: str,
    message: str,
    help: str | None,
) -> None:
    (project / "ananke.toml").write_text(text)
    assert _short_error(capsys) == f"ananke.toml:{where}: error[invalid-config]: {message}\n"
    assert _error(project).diagnostic.help == help


@pytest.mark.parametrize(
    ("text", "where", "message", "help"),
    [
        (
            "generation:\n  backend: vllm\n  max_tokes: 5\n",
            "3:3",
            "unknown setting `max_tokes` of `generation`; did you mean `max-tokens`?",
            f"the settings of `generation` are {GENERATE_KEYS}",
        ),
        (
            "generaton:\n  seed: 1\n",
            "1:1",
            "unknown section `generaton`; did you mean `generation`?",
            "sections are named after commands: check, compile, emit, explain, transpile, "
            "test, generate, validate; or generation, analysis, optimization",
        ),
        (
            "generation:\n  temperature: hot\n",
            "2:3",
            "`temperature` takes a number from 0 to 2",
            None,
        ),
        (
            "generation:\n  seed: 1\n  seed: 2\n",
            "3:3",
            "`seed` is set twice",
            None,
        ),
        (
            "generation:\n  seed: 1\n generate: 2\n",
            "3:2",
            "the configuration is not valid YAML: expected <block end>, but found "
            "'<block mapping start>'",
            None,
        ),
        (
            "generation:\n  seed: 1:\n",
            "2:10",
            "the configuration is not valid YAML: mapping values are not allowed here",
            None,
        ),
        (
            "generation:\n  url: [unclosed\n",
            "3:1",
            "the configuration is not valid YAML: expected ',' or ']', but got '<stream end>'",
            None,
        ),
        ("- a\n- b\n", "1:1", "the settings must be a table", None),
        ("emit:\n  target: gbnf\n7: x\n", "3:1", "a key must be text", None),
        ("generation:\n  seed: 1\n  7: x\n", "3:3", "a key must be text", None),
        (
            "analysis:\n  provider: claud\n",
            "2:3",
            "`provider` takes one of: claude, anthropic, openai",
            None,
        ),
        (
            "analysis:\n  modle: x\n",
            "2:3",
            "unknown setting `modle` of `analysis`; did you mean `model`?",
            "the settings of `analysis` are provider, model, api-key, api-key-file, base-url, "
            "budget, cache",
        ),
        ("analysis:\n  budget: 0\n", "2:3", "`budget` takes an integer, 1 or more", None),
        (
            "analysis:\n  base_url: api.anthropic.com\n",
            "2:3",
            "`base-url` takes an http or https URL with a host (`http://127.0.0.1:8000`)",
            None,
        ),
        (
            "optimization:\n  use_llm_for_conflicts: maybe\n",
            "2:3",
            "`use-llm-for-conflicts` takes true or false",
            None,
        ),
        (
            "optimization:\n  use_llm_for_conflict: true\n",
            "2:3",
            "unknown setting `use_llm_for_conflict` of `optimization`; did you mean "
            "`use-llm-for-conflicts`?",
            "the settings of `optimization` are use-llm-for-conflicts, "
            "use-llm-for-semantic-analysis",
        ),
        (
            "max_nesting: 3\n",
            "1:1",
            "unknown setting `max_nesting`; did you mean `max-nesting`?",
            None,
        ),
    ],
)
def test_an_invalid_yaml_setting(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    where: str,
    message: str,
    help: str | None,
) -> None:
    (project / "ananke.config.yaml").write_text(text)
    err = _short_error(capsys)
    assert err == f"ananke.config.yaml:{where}: error[invalid-config]: {message}\n"
    if help is not None:
        assert _error(project).diagnostic.help == help
    # The full format shows the line the position names.
    _, _, err = run_arc(capsys, "check", "api.ariadne")
    line = int(where.split(":")[0])
    shown = [*text.splitlines(), ""][line - 1]
    assert f"\n{line} | {shown}".rstrip() + "\n" in err


# --- the same settings in every format --------------------------------------------------

TOML_GENERATION = """\
[generation]
backend = "modal"
endpoint = "http://${ANANKE_TEST_HOST}:8000"
model = "tiny"
api_key = "${ANANKE_TEST_KEY}"
max_tokens = 256
temperature = 0
cache-dir = "cache"

[analysis]
provider = "claude"
api-key-file = "key.txt"
base_url = "https://api.anthropic.com"
budget = 50000
cache = ".ananke/analysis"

[optimization]
use_llm_for_conflicts = false
use-llm-for-semantic-analysis = false
"""

TOML_GENERATE = """\
[generate]
backend = "vllm"
url = "http://${ANANKE_TEST_HOST}:8000"
model = "tiny"
api-key = "${ANANKE_TEST_KEY}"
max-tokens = 256
temperature = 0.0
cache-dir = "cache"

[analysis]
provider = "claude"
api_key_file = "key.txt"
base-url = "https://api.anthropic.com"
budget = 50000
cache = ".ananke/analysis"

[optimization]
use-llm-for-conflicts = false
use_llm_for_semantic_analysis = false
"""

YAML = """\
generation:
  backend: modal
  endpoint: http://${ANANKE_TEST_HOST}:8000
  model: tiny
  api_key: ${ANANKE_TEST_KEY}
  max_tokens: 256
  temperature: 0
  cache_dir: cache
analysis:
  provider: claude
  api_key_file: key.txt
  base_url: https://api.anthropic.com
  budget: 50000
  cache: .ananke/analysis
optimization:
  use_llm_for_conflicts: false
  use_llm_for_semantic_analysis: false
"""


def _pyproject(toml: str) -> str:
    return '[project]\nname = "x"\n\n' + re.sub(
        r"^\[(\w+)\]$", r"[tool.ananke.\1]", toml, flags=re.M
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("ananke.toml", TOML_GENERATION),
        ("ananke.toml", TOML_GENERATE),
        ("pyproject.toml", _pyproject(TOML_GENERATION)),
        ("ananke.config.yaml", YAML),
        ("ananke.config.yml", YAML),
    ],
)
def test_every_format_says_the_same(
    project: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str
) -> None:
    monkeypatch.setenv("ANANKE_TEST_HOST", "10.0.0.7")
    monkeypatch.setenv("ANANKE_TEST_KEY", SECRET)
    (project / "key.txt").write_text(SECRET + "\n")
    (project / name).write_text(text)
    loaded = config.load(project)
    assert loaded.path == project / name
    assert loaded.for_command("generate") == {
        "backend": "vllm",
        "url": "http://10.0.0.7:8000",
        "model": "tiny",
        "api_key": SECRET,
        "max_tokens": 256,
        "temperature": 0.0,
        "cache_dir": project / "cache",
    }
    assert loaded.analysis == {
        "provider": "claude",
        "api_key_file": project / "key.txt",
        "base_url": "https://api.anthropic.com",
        "budget": 50000,
        "cache": project / ".ananke" / "analysis",
    }
    assert loaded.optimization == {
        "use_llm_for_conflicts": False,
        "use_llm_for_semantic_analysis": False,
    }
    assert loaded.warnings == ()
    assert config.load_file(project / name) == loaded


def test_which_file_is_the_projects(project: Path) -> None:
    (project / "ananke.toml").write_text("[generate]\nseed = 1\n")
    (project / "ananke.config.yaml").write_text("generation:\n  seed: 2\n")
    (project / "ananke.config.yml").write_text("generation:\n  seed: 3\n")
    (project / "pyproject.toml").write_text("[tool.ananke.generate]\nseed = 4\n")
    (project / "sub").mkdir()
    (project / "sub" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    seeds = []
    for name in ("ananke.toml", "ananke.config.yaml", "ananke.config.yml", "pyproject.toml"):
        seeds.append(config.load(project / "sub").for_command("generate")["seed"])
        (project / name).unlink()
    assert seeds == [1, 2, 3, 4]
    # A nearer folder wins whatever the format.
    (project / "ananke.toml").write_text("[generate]\nseed = 5\n")
    (project / "sub" / "ananke.config.yaml").write_text("generation:\n  seed: 6\n")
    assert config.load(project / "sub").for_command("generate") == {"seed": 6}


def test_load_file(project: Path) -> None:
    (project / "settings.yaml").write_text("generation:\n  seed: 7\n")
    (project / "other.toml").write_text("[generate]\nseed = 8\n")
    (project / "pyproject.toml").write_text("[tool.ananke.generate]\nseed = 9\n")
    assert config.load_file("settings.yaml").for_command("generate") == {"seed": 7}
    assert config.load_file(project / "other.toml").for_command("generate") == {"seed": 8}
    assert config.load_file(project / "pyproject.toml").for_command("generate") == {"seed": 9}
    (project / "settings.json").write_text("{}")
    for name, message in (
        ("settings.json", "cannot tell the format of `settings.json`"),
        ("missing.toml", "cannot read the configuration: No such file or directory"),
    ):
        with pytest.raises(config.ConfigError) as exc:
            config.load_file(name)
        assert exc.value.diagnostic.message == message
        assert exc.value.diagnostic.primary_span is not None


def test_an_empty_yaml_file_and_empty_sections(project: Path) -> None:
    (project / "ananke.config.yaml").write_text("# nothing yet\n")
    assert config.load(project) == config.Config(path=project / "ananke.config.yaml")
    (project / "ananke.config.yaml").write_text("generation:\nanalysis:\nemit:\n")
    assert config.load(project).for_command("generate") == {}


def test_yaml_command_sections_and_merge_keys(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "ananke.config.yaml").write_text("emit:\n  target: gbnf\n  strict: false\n")
    assert run_arc(capsys, "emit", "api.ariadne") == run_arc(
        capsys, "emit", "api.ariadne", "--target", "gbnf"
    )
    # A merged key that the mapping sets again is no key set twice.
    (project / "ananke.config.yaml").write_text(
        "emit: &e\n  target: gbnf\n  max-nesting: 3\nexplain:\n  <<: *e\n  target: lark\n"
    )
    assert config.load(project).for_command("explain") == {"target": "lark", "max_nesting": 3}


# --- ${NAME} ----------------------------------------------------------------------------


def test_environment_variables_in_values(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANANKE_TEST_HOST", "gbnf")
    (project / "ananke.toml").write_text(
        '[emit]\ntarget = "${ANANKE_TEST_HOST}"\n\n[test]\ntargets = ["${ANANKE_TEST_HOST}"]\n'
        '\n[generate]\nmodel = "a$${b}$c$$d"\n'
    )
    loaded = config.load(project)
    assert loaded.for_command("emit") == {"target": "gbnf"}
    assert loaded.for_command("test") == {"targets": ("gbnf",)}
    assert loaded.for_command("generate") == {"model": "a${b}$c$$d"}
    assert run_arc(capsys, "emit", "api.ariadne") == run_arc(
        capsys, "emit", "api.ariadne", "-t", "gbnf"
    )
    (project / "ananke.toml").unlink()
    (project / "ananke.config.yaml").write_text(
        "generation:\n  url: https://${ANANKE_TEST_HOST}.example\n"
    )
    assert config.load(project).for_command("generate") == {"url": "https://gbnf.example"}


@pytest.mark.parametrize(
    ("name", "text", "where", "message"),
    [
        (
            "ananke.toml",
            '[generate]\nurl = "http://${ANANKE_UNSET}:8000"\n',
            "2:15",
            "the environment variable `ANANKE_UNSET` is not set",
        ),
        (
            "ananke.toml",
            '[test]\ntargets = [\n  "gbnf",\n  "${ANANKE_UNSET}",\n]\n',
            "4:4",
            "the environment variable `ANANKE_UNSET` is not set",
        ),
        (
            "ananke.config.yaml",
            "generation:\n  model: ${ANANKE_UNSET}\n",
            "2:10",
            "the environment variable `ANANKE_UNSET` is not set",
        ),
        (
            "ananke.toml",
            'model = "x${ANANKE UNSET}"\n',
            "1:11",
            "`${` starts an environment variable, written `${NAME}`",
        ),
        (
            "ananke.config.yaml",
            "generation:\n  api_key: ${ANANKE_UNSET}\n",
            "2:12",
            "the environment variable `ANANKE_UNSET` is not set (`api-key`)",
        ),
    ],
)
def test_an_unset_variable_is_an_error_at_it(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    where: str,
    message: str,
) -> None:
    (project / name).write_text(text)
    assert _short_error(capsys) == f"{name}:{where}: error[invalid-config]: {message}\n"


# --- keys -------------------------------------------------------------------------------

LITERAL = "`api-key` is a literal key in the file; write `${OPENAI_API_KEY}` or use `api-key-file`"


@pytest.mark.parametrize(
    ("name", "text", "where", "message"),
    [
        ("ananke.toml", f'api-key = "{SECRET}"\n', "1:1", LITERAL),
        ("ananke.toml", f'[generate]\nmodel = "m"\napi-key = "{SECRET}"\n', "3:1", LITERAL),
        ("ananke.toml", f"[generation]\napi_key = '''{SECRET}'''\n", "2:1", LITERAL),
        ("ananke.toml", f'[generate]\napi-key = "${{X}}{SECRET}"\n', "2:1", LITERAL),
        (
            "pyproject.toml",
            f'[tool.ananke.generate]\n"api-key" = "{SECRET}"\n',
            "2:1",
            LITERAL,
        ),
        ("ananke.config.yaml", f"generation:\n  api_key: {SECRET}\n", "2:3", LITERAL),
        ("ananke.config.yaml", f"generation:\n  api-key: '{SECRET}'\n", "2:3", LITERAL),
        ("ananke.config.yaml", f"generation:\n  api_key: |\n    {SECRET}\n", "2:3", LITERAL),
        ("ananke.config.yaml", f"analysis:\n  api_key: {SECRET}\n", "2:3", LITERAL),
        ("ananke.toml", f'[generate]\napi-key = """\n{SECRET}\n"""\n', "2:1", LITERAL),
        ("ananke.toml", f'[generate]\napi-key = [\n  "{SECRET}",\n]\n', "2:1", LITERAL),
        (
            "ananke.config.yaml",
            f"generation: {{api_key: {SECRET}, seed: 1}}\n",
            "1:14",
            LITERAL,
        ),
        # Broken files: the reader stops on the line that holds the key.
        (
            "ananke.toml",
            f'[generate]\napi-key = "{SECRET}\n',
            "2:36",
            "the configuration is not valid TOML: Illegal character '\\n'",
        ),
        (
            "ananke.config.yaml",
            f"generation:\n  api_key: {SECRET}: x\n",
            "2:36",
            "the configuration is not valid YAML: mapping values are not allowed here",
        ),
        # Another error next to a literal key.
        (
            "ananke.toml",
            f'[generate]\nmodle = "m"\napi-key = "{SECRET}"\n',
            "2:1",
            "unknown setting `modle` of `arc generate`; did you mean `model`?",
        ),
    ],
)
def test_a_key_is_never_shown(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    where: str,
    message: str,
) -> None:
    (project / name).write_text(text)
    outputs = []
    for fmt in FORMATS:
        code, out, err = run_arc(capsys, "check", "api.ariadne", "--output-format", fmt)
        assert (code, out) == (2, "")
        outputs.append(err)
    assert outputs[1] == f"{name}:{where}: error[invalid-config]: {message}\n"
    assert json.loads(outputs[2])[0]["message"] == message
    # The full format shows the line, the key masked.
    line = int(where.split(":")[0])
    assert f"\n{line} | " in outputs[0]
    error = _error(project)
    assert error.source is not None
    outputs += [
        str(error),
        repr(error),
        error.diagnostic.message,
        str(error.diagnostic.help),
        repr(error.diagnostic),
        error.source.text,
    ]
    for output in outputs:
        assert SECRET not in output
        assert SECRET[3:12] not in output


def test_a_key_from_the_environment_or_a_file(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANANKE_TEST_KEY", SECRET + "\n")
    (project / "ananke.config.yaml").write_text(
        "generation:\n  api_key: ${ANANKE_TEST_KEY}\n  model: m\n"
        "analysis:\n  api_key_file: secret/key\n"
        "optimization:\n  use_llm_for_conflicts: true\n"
    )
    (project / "secret").mkdir()
    (project / "secret" / "key").write_text(SECRET)
    loaded = config.load(project)
    settings = loaded.for_command("generate")
    assert settings["api_key"] == SECRET  # without the newline
    assert loaded.analysis == {"api_key_file": project / "secret" / "key"}
    for shown in (repr(loaded), str(loaded), repr(settings), str(settings), repr(loaded.sections)):
        assert SECRET not in shown
    assert "Secret('***')" in repr(settings)
    # The warning the file gives shows its line; the variable name is no secret.
    code, out, err = run_arc(capsys, "check", "api.ariadne")
    assert code == 0 and SECRET not in out + err and "warning[invalid-config]" in err


def test_a_section_chooses_where_the_key_comes_from(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANANKE_TEST_KEY", SECRET)
    (project / "key.txt").write_text(SECRET)
    (project / "ananke.toml").write_text(
        'api-key-file = "key.txt"\n\n[generate]\napi-key = "${ANANKE_TEST_KEY}"\n'
    )
    assert config.load(project).for_command("generate") == {"api_key": SECRET}
    (project / "ananke.toml").write_text(
        'api-key = "${ANANKE_TEST_KEY}"\n\n[generate]\napi-key-file = "key.txt"\n'
    )
    assert config.load(project).for_command("generate") == {"api_key_file": project / "key.txt"}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            '[generate]\napi-key-file = "missing.txt"\n',
            "2:1",
            "cannot read the key in `missing.txt` (`api-key-file`): No such file or directory",
        ),
        (
            '[generate]\napi-key-file = "empty.txt"\n',
            "2:1",
            "cannot read the key in `empty.txt` (`api-key-file`): the file is empty",
        ),
        (
            '[generate]\napi-key-file = "."\n',
            "2:1",
            "cannot read the key in `.` (`api-key-file`): Is a directory",
        ),
        (
            '[analysis]\napi-key-file = "missing.txt"\n',
            "2:1",
            "cannot read the key in `missing.txt` (`api-key-file`): No such file or directory",
        ),
        (
            '[generate]\napi-key = "${ANANKE_TEST_KEY}"\napi-key-file = "key.txt"\n',
            "3:1",
            "`api-key` and `api-key-file` both give the key; keep one",
        ),
        (
            '[analysis]\napi_key = "${ANANKE_TEST_KEY}"\napi_key_file = "key.txt"\n',
            "3:1",
            "`api-key` and `api-key-file` both give the key; keep one",
        ),
        (
            'api-key = "${ANANKE_EMPTY}"\n',
            "1:1",
            "the environment variable `ANANKE_EMPTY` is empty (`api-key`)",
        ),
        ("api-key = 12345\n", "1:1", LITERAL),
    ],
)
def test_a_key_that_cannot_be_had(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    where: str,
    message: str,
) -> None:
    monkeypatch.setenv("ANANKE_TEST_KEY", SECRET)
    monkeypatch.setenv("ANANKE_EMPTY", " ")
    (project / "key.txt").write_text(SECRET)
    (project / "empty.txt").write_text("\n \n")
    (project / "ananke.toml").write_text(text)
    err = _short_error(capsys)
    assert err == f"ananke.toml:{where}: error[invalid-config]: {message}\n"
    assert SECRET not in err


# --- optimization: valid, without effect ------------------------------------------------


def test_llm_switches_are_warnings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "ananke.config.yaml").write_text(
        "optimization:\n  use_llm_for_conflicts: true\n  use-llm-for-semantic-analysis: true\n"
    )
    loaded = config.load(project)
    assert loaded.optimization == {
        "use_llm_for_conflicts": True,
        "use_llm_for_semantic_analysis": True,
    }
    assert [(w.severity, w.code) for w in loaded.warnings] == [("warning", "invalid-config")] * 2
    code, out, err = run_arc(capsys, "check", "api.ariadne", "--output-format", "short")
    assert (code, out) == (0, "")
    assert err == (
        "ananke.config.yaml:2:3: warning[invalid-config]: `use-llm-for-conflicts` has no "
        "effect: this release has no LLM analysis yet\n"
        "ananke.config.yaml:3:3: warning[invalid-config]: `use-llm-for-semantic-analysis` has "
        "no effect: this release has no LLM analysis yet\n"
    )
    # One JSON document on stderr, the warnings in it; a command that makes no report of
    # its own shows them too.
    code, _, err = run_arc(capsys, "check", "api.ariadne", "--output-format", "json")
    assert code == 0 and [d["severity"] for d in json.loads(err)] == ["warning"] * 2
    code, out, err = run_arc(capsys, "emit", "api.ariadne")
    assert code == 0 and out and err.count("warning[invalid-config]") == 2
    assert "2 |   use_llm_for_conflicts: true" in err
    code, _, err = run_arc(capsys, "test", "api.ariadne", "--output-format", "short")
    assert err.count("warning[invalid-config]") == 2
    # False: nothing to say.
    (project / "ananke.config.yaml").write_text("optimization:\n  use_llm_for_conflicts: false\n")
    assert config.load(project).warnings == ()
    assert run_arc(capsys, "check", "api.ariadne") == (0, "", "")


def test_yaml_aliases_that_nest_are_refused_without_expanding_them(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nine levels of nine aliases: 9^9 strings if anything walked or printed them."""
    items = ["&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    items += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    for key in ("precedence", "targets", "model", "url"):
        section = "test" if key == "targets" else "generate" if key in ("model", "url") else "emit"
        (project / "ananke.config.yaml").write_text(f"{section}:\n  {key}: [{', '.join(items)}]\n")
        err = _short_error(capsys)
        assert err.startswith(f"ananke.config.yaml:2:3: error[invalid-config]: `{key}` takes ")


def test_the_documented_files_load(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = (ROOT / "spec" / "ariadne.md").read_text(encoding="utf-8")
    settings = spec.split("#### Settings", 1)[1].split("\n### ", 1)[0]
    (toml,) = re.findall(r"```toml\n(.*?)```", settings, re.S)
    (yaml,) = re.findall(r"```yaml\n(.*?)```", settings, re.S)
    for name in ("VLLM_API_KEY", "MODAL_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(name, SECRET)
    (project / "ananke.toml").write_text(toml)
    assert config.load(project).for_command("generate") == {
        "output_format": "short",
        "backend": "vllm",
        "url": "http://127.0.0.1:8000",
        "api_key": SECRET,
        "max_tokens": 512,
    }
    (project / "ananke.toml").unlink()
    (project / "ananke.config.yaml").write_text(yaml)
    loaded = config.load(project)
    assert loaded.for_command("generate")["backend"] == "vllm"
    assert loaded.analysis["provider"] == "claude" and loaded.warnings == ()
