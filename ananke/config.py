"""Project settings for every command and the library: ``ananke.toml``,
``ananke.config.yaml``, or ``[tool.ananke]`` in ``pyproject.toml``.

The nearest such file at or above the current folder is the project's; in one folder an
``ananke.toml`` comes first, then ``ananke.config.yaml`` (or ``.yml``), then a
``pyproject.toml`` with ``[tool.ananke]`` (one without it does not count). Its top-level
keys apply to every command that has the option of that name; a section named after a
command (``[emit]``, ``[test]``; in ``pyproject.toml`` ``[tool.ananke.emit]``) applies to
that command and wins over the top-level keys; an option given on the command line wins
over both::

    max-nesting = 12          # emit, explain and test
    output-format = "short"   # every command

    [emit]
    target = "xgrammar"
    strict = true

    [generation]              # the same as [generate]
    backend = "vllm"
    url = "http://127.0.0.1:8000"
    api-key = "${VLLM_API_KEY}"

The sections ``generation``, ``analysis`` and ``optimization`` are the shape of
``ananke.config.yaml`` (keys in snake_case or kebab-case); they may be written in TOML too.
Every string value may name environment variables (``${NAME}``; ``$${`` is a literal
``${``). Keys (``api-key``) come only from the environment or a file, and nothing this
module reports or prints shows one.

A key or section that does not exist, a key in a section whose command lacks that option,
and a value of the wrong kind are errors (``invalid-config``) at their place in the file,
with the closest known name as a suggestion.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

if TYPE_CHECKING:
    from ananke.ir import Diagnostic, Diagnostics, SourceFile

__all__ = [
    "ANALYSIS",
    "COMMANDS",
    "OPTIMIZATION",
    "SETTINGS",
    "Config",
    "ConfigError",
    "Secret",
    "Setting",
    "load",
    "load_file",
    "read_key",
]

COMMANDS = ("check", "compile", "emit", "explain", "transpile", "test", "generate", "validate")
"""The commands a section may be named after."""

PLAN_SECTIONS = ("generation", "analysis", "optimization")
"""The sections of ``ananke.config.yaml``'s shape; ``generation`` is ``generate``'s."""

CODE = "invalid-config"

_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")
_ONLY_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Secret(str):
    """A key from the environment or a file: a ``str`` whose ``repr`` does not show it,
    so that a :class:`Config` or the options of a command can be printed safely."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"


class _Invalid(Exception):
    """A value a setting does not take: ``takes`` says what it takes, or ``message``
    what is wrong, with ``hint`` a name close to what was written."""

    def __init__(self, takes: str = "", *, message: str = "", hint: str | None = None) -> None:
        super().__init__(takes or message)
        self.takes = takes
        self.message = message
        self.hint = hint


Kind = Literal["value", "path", "secret", "secret-file"]


@dataclass(frozen=True)
class Setting:
    """One key: the command-line option it stands for, in which commands."""

    key: str
    param: str
    """The option's parameter name in the commands (``max_nesting``)."""
    commands: tuple[str, ...]
    convert: Callable[[object, tuple[str, ...]], object]
    """The value as the command takes it, given the commands it will apply to;
    raises :class:`_Invalid`."""
    kind: Kind = "value"
    """``path``: a path, relative to the file's folder; ``secret``: only ``${NAME}``;
    ``secret-file``: a path to a file that holds a key."""


def _one_of(choices: Sequence[str], what: str) -> Callable[[object, tuple[str, ...]], object]:
    def convert(value: object, commands: tuple[str, ...]) -> object:
        if not isinstance(value, str) or value not in choices:
            raise _Invalid(f"{what}: {', '.join(choices)}")
        return value

    return convert


def _integer(lo: int, hi: int | None) -> Callable[[object, tuple[str, ...]], object]:
    def convert(value: object, commands: tuple[str, ...]) -> object:
        if type(value) is not int or value < lo or (hi is not None and value > hi):
            raise _Invalid(
                f"an integer from {lo:,} to {hi:,}"
                if hi is not None
                else f"an integer, {lo} or more"
            )
        return value

    return convert


def _number(lo: float, hi: float | None, what: str) -> Callable[[object, tuple[str, ...]], object]:
    """A float in ``[lo, hi]`` (``(lo, ∞)`` when ``hi`` is None); integers are accepted."""

    def convert(value: object, commands: tuple[str, ...]) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(what)
        number = float(value)
        if not math.isfinite(number) or not (lo <= number <= hi if hi is not None else number > lo):
            raise _Invalid(what)
        return number

    return convert


def _boolean(value: object, commands: tuple[str, ...]) -> object:
    if not isinstance(value, bool):
        raise _Invalid("true or false")
    return value


def _text(what: str) -> Callable[[object, tuple[str, ...]], object]:
    def convert(value: object, commands: tuple[str, ...]) -> object:
        if not isinstance(value, str) or not value.strip():
            raise _Invalid(what)
        return value

    return convert


def _set_name(value: object, commands: tuple[str, ...]) -> object:
    if not isinstance(value, str) or not re.fullmatch(
        r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", value
    ):
        raise _Invalid("a constraint set name (`api_handler`, `std.python.safe`)")
    return value


def _url(value: object, commands: tuple[str, ...]) -> object:
    from urllib.parse import urlsplit

    # The URL is not quoted back: it may carry a user name and password.
    takes = "an http or https URL with a host (`http://127.0.0.1:8000`)"
    if not isinstance(value, str):
        raise _Invalid(takes)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise _Invalid(takes) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or value != value.strip():
        raise _Invalid(takes)
    return value


def _backend(value: object, commands: tuple[str, ...]) -> object:
    from ananke.runtime.generators import NAMES

    # Modal's app serves vLLM's OpenAI-compatible API.
    names = (*NAMES, "modal")
    if not isinstance(value, str):
        raise _Invalid(f"a backend name: {', '.join(names)}")
    if value not in names:
        raise _Invalid(
            message=f"unknown backend {_quote(value)}; known: {', '.join(names)}",
            hint=_close(value, names),
        )
    return "vllm" if value == "modal" else value


def _target(value: object, commands: tuple[str, ...]) -> object:
    from ananke.backends import target_names

    names = target_names()
    if value == "all":
        if set(commands) <= {"emit", "explain"}:
            return value
        raise _Invalid(
            "a target name; `all` is a target of `arc emit` and `arc explain` only, so set "
            "it in their sections"
        )
    if not isinstance(value, str):
        raise _Invalid(f"a target name: {', '.join(names)}")
    if value not in names:
        raise _Invalid(
            message=f"unknown target {_quote(value)}; known: {', '.join(names)}",
            hint=_close(value, names),
        )
    return value


def _names(
    known: Callable[[], Sequence[str]], what: str
) -> Callable[[object, tuple[str, ...]], object]:
    def convert(value: object, commands: tuple[str, ...]) -> object:
        names = known()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Invalid(f"a list of {what} names: {', '.join(names)}")
        for v in value:
            if v not in names:
                raise _Invalid(
                    message=f"unknown {what} {_quote(v)}; known: {', '.join(names)}",
                    hint=_close(v, names),
                )
        return tuple(value)

    return convert


def _precedence(value: object, commands: tuple[str, ...]) -> object:
    from ananke.ir.compose import PRECEDENCE

    # Strings first: YAML aliases can make a short list of nested lists a huge text.
    if (
        not isinstance(value, list)
        or not all(isinstance(v, str) for v in value)
        or sorted(value) != sorted(PRECEDENCE)
    ):
        raise _Invalid(f"a list ordering all of {', '.join(PRECEDENCE)}, each once")
    return tuple(value)


def _target_names() -> Sequence[str]:
    from ananke.backends import target_names

    return target_names()


def _engine_names() -> Sequence[str]:
    from ananke.checks import CHECKS

    return tuple(c.engine for c in CHECKS)


_GENERATE = ("generate",)
_PATH = _text("a path")
_KEY = _text("`${NAME}`, an environment variable")

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "output-format",
        "output_format",
        COMMANDS,
        _one_of(("full", "short", "json"), "one of"),
    ),
    Setting("target", "target", ("emit", "explain", "transpile"), _target),
    Setting("strict", "strict", ("emit", "explain"), _boolean),
    Setting("max-nesting", "max_nesting", ("emit", "explain", "test"), _integer(1, 64)),
    Setting("precedence", "precedence", ("compile", "emit", "explain"), _precedence),
    Setting("format", "cir_format", ("compile",), _one_of(("json", "msgpack"), "one of")),
    Setting("targets", "targets", ("test",), _names(_target_names, "target")),
    Setting("engines", "engines", ("test",), _names(_engine_names, "engine")),
    Setting("jobs", "jobs", ("test",), _integer(0, 256)),
    Setting("constraint", "constraint", ("generate", "validate"), _set_name),
    Setting("backend", "backend", _GENERATE, _backend),
    Setting("url", "url", _GENERATE, _url),
    Setting("model", "model", _GENERATE, _text("a model name or path")),
    Setting("api-key", "api_key", _GENERATE, _KEY, "secret"),
    Setting("api-key-file", "api_key_file", _GENERATE, _PATH, "secret-file"),
    Setting("max-tokens", "max_tokens", _GENERATE, _integer(1, 1_000_000)),
    Setting("temperature", "temperature", _GENERATE, _number(0, 2, "a number from 0 to 2")),
    Setting("seed", "seed", _GENERATE, _integer(0, None)),
    Setting("attempts", "attempts", _GENERATE, _integer(1, 20)),
    Setting("concurrency", "concurrency", _GENERATE, _integer(1, 256)),
    Setting("timeout", "timeout", _GENERATE, _number(0, None, "a number of seconds above 0")),
    Setting("chat", "chat", _GENERATE, _boolean),
    Setting("cache-dir", "cache_dir", _GENERATE, _PATH, "path"),
)
"""Every key, in the order the documentation lists them."""

ANALYSIS: tuple[Setting, ...] = (
    Setting("provider", "provider", (), _one_of(("claude", "anthropic", "openai"), "one of")),
    Setting("model", "model", (), _text("a model name")),
    Setting("api-key", "api_key", (), _KEY, "secret"),
    Setting("api-key-file", "api_key_file", (), _PATH, "secret-file"),
    Setting("base-url", "base_url", (), _url),
    Setting("budget", "budget", (), _integer(1, None)),
    Setting("cache", "cache", (), _PATH, "path"),
)
"""The keys of ``analysis:``; ``param`` is the key of :attr:`Config.analysis`."""

OPTIMIZATION: tuple[Setting, ...] = (
    Setting("use-llm-for-conflicts", "use_llm_for_conflicts", (), _boolean),
    Setting("use-llm-for-semantic-analysis", "use_llm_for_semantic_analysis", (), _boolean),
)
"""The keys of ``optimization:``; ``param`` is the key of :attr:`Config.optimization`."""

_BY_KEY = {s.key: s for s in SETTINGS}
_PLAN_KEYS = {
    "generation": {s.key: s for s in SETTINGS if "generate" in s.commands},
    "analysis": {s.key: s for s in ANALYSIS},
    "optimization": {s.key: s for s in OPTIMIZATION},
}


class ConfigError(Exception):
    """A configuration file that cannot be used: ``diagnostic`` says why and where,
    ``source`` is the file's text (None when it could not be read), with any key in it
    masked."""

    def __init__(self, diagnostic: Diagnostic, source: SourceFile | None) -> None:
        span = diagnostic.primary_span
        where = f"{span.file}:{span.line}:{span.column}: " if span else ""
        super().__init__(f"{where}{diagnostic.message}")
        self.diagnostic = diagnostic
        self.source = source


@dataclass(frozen=True)
class Config:
    """The settings of one file (none when no file was found)."""

    path: Path | None = None
    shared: Mapping[str, object] = field(default_factory=dict)
    """Top-level settings: key → value as the commands take it."""
    sections: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    """Command → its section's settings (``generation`` is ``generate``'s)."""
    analysis: Mapping[str, object] = field(default_factory=dict)
    """``analysis:``, parameter name (``base_url``) → value, for LLM analysis."""
    optimization: Mapping[str, object] = field(default_factory=dict)
    """``optimization:``, parameter name → value."""
    warnings: tuple[Diagnostic, ...] = ()
    """``invalid-config`` warnings: settings that are valid but have no effect."""
    source: SourceFile | None = field(default=None, repr=False, compare=False)
    """The file's text, keys masked, for showing :attr:`warnings`."""

    def for_command(self, command: str) -> dict[str, object]:
        """Parameter name → value for ``command``: its section over the top-level keys."""
        out: dict[str, object] = {}
        section = self.sections.get(command, {})
        for values in (self.shared, section):
            for key, value in values.items():
                setting = _BY_KEY[key]
                if command in setting.commands:
                    out[setting.param] = value
        # The section says where the key comes from, as it says everything else.
        if "api-key" in section:
            out.pop("api_key_file", None)
        elif "api-key-file" in section:
            out.pop("api_key", None)
        return out


def read_key(path: Path) -> Secret:
    """The key a file holds (``api-key-file``): its text without surrounding whitespace.
    Raises ``OSError``, ``UnicodeDecodeError``, or ``ValueError`` when it is empty."""
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise ValueError("the file is empty")
    return Secret(key)


def find(start: Path) -> tuple[Path, tuple[str, ...]] | None:
    """The nearest configuration file at or above ``start`` and the path of the settings
    table in it (``()`` for ``ananke.toml`` and ``ananke.config.yaml``,
    ``("tool", "ananke")`` for pyproject)."""
    for folder in [start, *start.parents]:
        for name in ("ananke.toml", "ananke.config.yaml", "ananke.config.yml"):
            if (folder / name).is_file():
                return folder / name, ()
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = pyproject.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return pyproject, ("tool", "ananke")  # load() reports it
            if re.search(r"^\s*\[\s*tool\s*\.\s*ananke\b|^\s*tool\s*\.\s*ananke\b", text, re.M):
                return pyproject, ("tool", "ananke")
    return None


def load(start: Path) -> Config:
    """The settings that apply in ``start`` (the current folder); :class:`ConfigError`
    when the file that holds them is broken."""
    found = find(start)
    if found is None:
        return Config()
    path, prefix = found
    return _Loader(path, prefix).load()


def load_file(path: str | os.PathLike[str]) -> Config:
    """The settings of the file ``path``: ``*.yaml``/``*.yml`` (YAML), ``pyproject.toml``
    (its ``[tool.ananke]``) or another ``*.toml``; :class:`ConfigError` when it is broken,
    missing or of none of these kinds."""
    file = Path(path)
    loader = _Loader(file, ("tool", "ananke") if file.name == "pyproject.toml" else ())
    if file.suffix not in (".toml", ".yaml", ".yml"):
        loader.fail(
            f"cannot tell the format of {_quote(loader.name)}",
            None,
            help="a configuration file is named *.toml, *.yaml or *.yml",
        )
    return loader.load()


class _Loader:
    def __init__(self, path: Path, prefix: tuple[str, ...]) -> None:
        from ananke.ir import Diagnostics

        self.path = path
        self.prefix = prefix
        self.name = _shown(path)
        self.yaml = path.suffix in (".yaml", ".yml")
        self.text = ""
        self.source: SourceFile | None = None
        self.spans: dict[tuple[str, ...], tuple[tuple[int, int], tuple[int, int]]] = {}
        """YAML: key path → the spans of the key and of its value."""
        self.diags: Diagnostics = Diagnostics()

    def load(self) -> Config:
        from ananke.ir import SourceFile

        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
            self.fail(f"cannot read the configuration: {reason}", None)
        self.text = text
        # Offsets stay those of the file: only what a key's value writes is masked.
        self.source = SourceFile(self.name, _mask_keys(text))
        data = self.parse_yaml(text) if self.yaml else self.parse_toml(text)
        table: object = data
        for k in self.prefix:
            table = table.get(k, {}) if isinstance(table, dict) else None
        if not isinstance(table, dict):
            self.fail("the settings must be a table", self.locate(self.prefix))
        assert isinstance(table, dict)
        shared: dict[str, object] = {}
        sections: dict[str, dict[str, object]] = {}
        written: dict[str, str] = {}
        """Command → the name of the section that set it (``generate`` or ``generation``)."""
        analysis: dict[Setting, object] = {}
        optimization: dict[Setting, object] = {}
        for key, value in table.items():
            if not isinstance(key, str):
                self.fail("a key must be text", self.locate((*self.prefix, str(key))))
            if value is None and key in (*COMMANDS, *PLAN_SECTIONS):
                value = {}  # YAML: a section whose keys are all commented out
            if key in PLAN_SECTIONS or (isinstance(value, dict) and key not in _BY_KEY):
                if key not in (*COMMANDS, *PLAN_SECTIONS):
                    hint = _close(key, (*COMMANDS, *PLAN_SECTIONS))
                    self.fail(
                        f"unknown section {_quote(key)}"
                        + (f"; did you mean `{hint}`?" if hint else ""),
                        self.locate((*self.prefix, key)),
                        help="sections are named after commands: "
                        f"{', '.join(COMMANDS)}; or {', '.join(PLAN_SECTIONS)}",
                    )
                if not isinstance(value, dict):
                    self.fail(
                        f"`{key}` must be a section of settings", self.locate((*self.prefix, key))
                    )
                if key == "analysis":
                    analysis = self.plan_section(key, value)
                elif key == "optimization":
                    optimization = self.plan_section(key, value)
                    self.no_effect(optimization)
                else:
                    command = "generate" if key == "generation" else key
                    if command in written:
                        self.fail(
                            f"`{key}` and `{written[command]}` set the same settings; keep one",
                            self.locate((*self.prefix, key)),
                        )
                    written[command] = key
                    if key == "generation":
                        sections[command] = {
                            setting.key: v for setting, v in self.plan_section(key, value).items()
                        }
                    else:
                        sections[command] = {
                            k: self.value((key,), k, v, (key,)) for k, v in value.items()
                        }
            else:
                commands = _BY_KEY[key].commands if key in _BY_KEY else ()
                shared[key] = self.value((), key, value, commands)
        scopes = [((), shared), *(((written[c],), s) for c, s in sections.items())]
        scopes.append((("analysis",), {s.key: v for s, v in analysis.items()}))
        for scope, values in scopes:
            if "api-key" in values and "api-key-file" in values:
                self.fail(
                    "`api-key` and `api-key-file` both give the key; keep one",
                    self.locate((*self.prefix, *scope, *self.written_key(scope, "api-key-file"))),
                )
        return Config(
            path=self.path,
            shared=shared,
            sections=sections,
            analysis={s.param: v for s, v in analysis.items()},
            optimization={s.param: v for s, v in optimization.items()},
            warnings=tuple(self.diags),
            source=self.source,
        )

    def parse_toml(self, text: str) -> dict[str, Any]:
        assert self.source is not None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            message = str(e)
            m = re.search(r"\(at (?:line (\d+), column (\d+)|end of document)\)$", message)
            at = (self.source.offset(int(m[1]), int(m[2])) if m[1] else len(text)) if m else None
            reason = message[: m.start()].strip() if m else message
            self.fail(f"the configuration is not valid TOML: {reason}", (at or 0, at or 0))

    def parse_yaml(self, text: str) -> object:
        import yaml

        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                # Before constructing: that merges `<<:` keys into the mappings' nodes.
                self.yaml_spans(node, (), depth=2)
            data = loader.construct_document(node) if node is not None else {}
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            at = mark.index if mark is not None else 0
            reason = e.problem or e.context or "unreadable"
            self.fail(f"the configuration is not valid YAML: {reason}", (at, at))
        except (yaml.YAMLError, ValueError, RecursionError) as e:
            reason = "nested too deeply" if isinstance(e, RecursionError) else str(e)
            self.fail(f"the configuration is not valid YAML: {reason}", (0, 0))
        finally:
            loader.dispose()
        return data

    def yaml_spans(self, node: Any, path: tuple[str, ...], depth: int) -> None:
        """The spans of the keys of the mapping ``node`` and of their values, ``depth``
        levels down (no deeper: aliases can make a small file a huge tree)."""
        import yaml

        if not isinstance(node, yaml.MappingNode):
            return
        seen: set[str] = set()
        for k, v in node.value:
            key = str(k.value) if isinstance(k, yaml.ScalarNode) else ""
            where = (k.start_mark.index, k.end_mark.index)
            if key in seen and key != "<<":
                self.fail(f"{_quote(key)} is set twice", where)
            seen.add(key)
            self.spans.setdefault((*path, key), (where, (v.start_mark.index, v.end_mark.index)))
            if depth > 1:
                self.yaml_spans(v, (*path, key), depth - 1)

    def plan_section(self, section: str, values: dict[object, object]) -> dict[Setting, object]:
        """A section of the YAML shape: keys in snake_case or kebab-case."""
        known = _PLAN_KEYS[section]
        out: dict[Setting, object] = {}
        for written, value in values.items():
            if not isinstance(written, str):
                self.fail("a key must be text", self.locate((*self.prefix, section, str(written))))
            key = written.replace("_", "-")
            if section == "generation" and key == "endpoint":
                key = "url"  # the plan's name for it
            where = self.locate((*self.prefix, section, written))
            setting = known.get(key)
            if setting is None:
                hint = _close(key, list(known))
                self.fail(
                    f"unknown setting {_quote(written)} of `{section}`"
                    + (f"; did you mean `{hint}`?" if hint else ""),
                    where,
                    help=f"the settings of `{section}` are {', '.join(known)}",
                )
            if setting in out:
                self.fail(f"{_quote(written)} sets `{key}` a second time", where)
            out[setting] = self.convert(setting, (section, written), value, setting.commands)
        return out

    def no_effect(self, optimization: dict[Setting, object]) -> None:
        from ananke.ir import Label

        for setting, value in optimization.items():
            if value is True:
                where = self.locate(
                    (
                        *self.prefix,
                        "optimization",
                        *self.written_key(("optimization",), setting.key),
                    )
                )
                assert self.source is not None
                self.diags.warning(
                    CODE,
                    f"`{setting.key}` has no effect: this release has no LLM analysis yet",
                    Label(span=self.source.span(*where)),
                    help="remove it, or set it to false",
                )

    def written_key(self, scope: tuple[str, ...], key: str) -> tuple[str, ...]:
        """``key`` as the file writes it in ``scope`` (``api_key_file`` for
        ``api-key-file`` in a section of the YAML shape)."""
        for candidate in (key, key.replace("-", "_")):
            if self.locate_exact((*self.prefix, *scope, candidate)) is not None:
                return (candidate,)
        return (key,)

    def value(
        self, section: tuple[str, ...], key: str, value: object, commands: tuple[str, ...]
    ) -> object:
        where = self.locate((*self.prefix, *section, key))
        setting = _BY_KEY.get(key)
        command = section[0] if section else None
        if setting is None:
            known = [s.key for s in SETTINGS if command is None or command in s.commands]
            hint = _close(key, known)
            scope = f" of `arc {command}`" if command else ""
            self.fail(
                f"unknown setting {_quote(key)}{scope}"
                + (f"; did you mean `{hint}`?" if hint else ""),
                where,
                help=f"the settings{scope} are {', '.join(known)}",
            )
        assert setting is not None
        if command is not None and command not in setting.commands:
            self.fail(
                f"`arc {command}` has no option `--{key}`",
                where,
                help=f"`{key}` applies to {', '.join(f'`arc {c}`' for c in setting.commands)}",
            )
        return self.convert(setting, (*section, key), value, commands)

    def convert(
        self, setting: Setting, path: tuple[str, ...], value: object, commands: tuple[str, ...]
    ) -> object:
        """``value`` interpolated, converted, and resolved for the kind of ``setting``;
        ``path`` is where the file writes it."""
        where = self.locate((*self.prefix, *path))
        key = setting.key
        if setting.kind == "secret":
            # Never quoted back: whatever is written here may be a key.
            m = _ONLY_VARIABLE.fullmatch(value) if isinstance(value, str) else None
            if m is None:
                if isinstance(value, str) and value.strip():
                    self.mask(value)
                self.fail(
                    f"`{key}` is a literal key in the file; write `${{OPENAI_API_KEY}}` or "
                    "use `api-key-file`",
                    where,
                    help="a key is read from an environment variable (`${NAME}`) or from the "
                    "file `api-key-file` names, never from this file",
                )
            name = m[1]
            if name not in os.environ:
                self.fail(
                    f"the environment variable `{name}` is not set (`{key}`)",
                    self.locate_text(path, m[0]),
                )
            if not os.environ[name].strip():
                self.fail(f"the environment variable `{name}` is empty (`{key}`)", where)
            return Secret(os.environ[name].strip())
        value = self.interpolate(path, value)
        try:
            converted = setting.convert(value, commands)
        except _Invalid as e:
            self.fail(
                e.message or f"`{key}` takes {e.takes}",
                where,
                help=f"did you mean `{e.hint}`?" if e.hint else None,
            )
        if setting.kind in ("path", "secret-file"):
            assert isinstance(converted, str)
            resolved = self.path.parent.absolute() / Path(converted).expanduser()
            if setting.kind == "secret-file":
                try:
                    read_key(resolved)
                except (OSError, UnicodeDecodeError, ValueError) as e:
                    reason = (
                        e.strerror or type(e).__name__
                        if isinstance(e, OSError)
                        else "not UTF-8 text"
                        if isinstance(e, UnicodeDecodeError)
                        else str(e)
                    )
                    self.fail(
                        f"cannot read the key in {_quote(converted)} (`{key}`): {reason}",
                        where,
                        help="a relative path starts at the folder of the configuration file",
                    )
            return resolved
        return converted

    def interpolate(self, path: tuple[str, ...], value: object) -> object:
        """``${NAME}`` in a string value, or in the strings of a list, replaced by the
        environment variable's value; ``$${`` is a literal ``${``."""
        if isinstance(value, list):
            return [self.interpolate(path, v) if isinstance(v, str) else v for v in value]
        if not isinstance(value, str) or "${" not in value:
            return value

        def substitute(m: re.Match[str]) -> str:
            if m[0] == "$${":
                return "${"
            if m[1] is None:
                self.fail(
                    "`${` starts an environment variable, written `${NAME}`",
                    self.locate_text(path, m[0]),
                    help="write `$${` for a literal `${`",
                )
            if m[1] not in os.environ:
                self.fail(
                    f"the environment variable `{m[1]}` is not set",
                    self.locate_text(path, m[0]),
                    help="set it, or write `$${` for a literal `${`",
                )
            return os.environ[m[1]]

        return _VARIABLE.sub(substitute, value)

    def locate(self, path: tuple[str, ...]) -> tuple[int, int]:
        """Offsets of where the file writes the key or table ``path`` (its start when it
        cannot tell)."""
        return self.locate_exact(path) or (0, 0)

    def locate_exact(self, path: tuple[str, ...]) -> tuple[int, int] | None:
        if self.yaml:
            spans = self.spans.get(path)
            return spans[0] if spans else None
        return _locate(self.text, path) if self.text else None

    def locate_text(self, path: tuple[str, ...], needle: str) -> tuple[int, int]:
        """Offsets of ``needle`` in the value of the key ``path`` (of the key when the
        value does not show it as written: an escape in a quoted string)."""
        key = self.locate((*self.prefix, *path))
        if self.yaml:
            spans = self.spans.get((*self.prefix, *path))
            start, end = spans[1] if spans else key
        else:
            start = key[0]
            following = _NEXT_KEY.search(self.text, key[1])
            end = following.start() if following else len(self.text)
        at = self.text.find(needle, start, end)
        return (at, at + len(needle)) if at >= 0 else key

    def mask(self, value: str) -> None:
        """Every place the file writes ``value`` masked in the text diagnostics show
        (a literal key the line-by-line masking missed: a TOML multi-line string)."""
        from ananke.ir import SourceFile

        assert self.source is not None
        text = self.source.text
        for piece in value.splitlines():
            piece = piece.strip()
            if len(piece) >= 4:  # shorter: masking every match would garble the excerpt
                text = text.replace(piece, "*" * len(piece))
        self.source = SourceFile(self.name, text)

    def fail(
        self, message: str, where: tuple[int, int] | None, *, help: str | None = None
    ) -> NoReturn:
        from ananke.ir import Diagnostics, Label, Span

        span = (
            self.source.span(*where)
            if self.source is not None and where is not None
            else Span.start_of(self.name)
        )
        diags = Diagnostics()
        diagnostic = diags.error(CODE, message, Label(span=span), help=help)
        raise ConfigError(diagnostic, self.source)


_SECRET_LINE = re.compile(
    r"""(?P<key>(?<![\w-])["']?api[-_]key["']?)[ \t]*[:=][ \t]*(?P<value>[^\r\n]*)""", re.I
)


def _mask_keys(text: str) -> str:
    """``text`` with the values of its ``api-key`` keys replaced by ``*`` (the same
    length, so that offsets hold), unless a value is only ``${NAME}``: the text as
    diagnostics show it, whatever they point at."""
    out = list(text)
    for m in _SECRET_LINE.finditer(text):
        value = m["value"].strip().strip("\"'")
        if _ONLY_VARIABLE.fullmatch(value):
            continue
        start, end = m.span("value")
        # A YAML block scalar or a value on the next lines: those indented deeper too.
        line_start = text.rfind("\n", 0, m.start()) + 1
        indent = len(text[line_start : m.start()]) - len(text[line_start : m.start()].lstrip())
        rest = end
        while rest < len(text):
            following = text.find("\n", rest + 1)
            following = len(text) if following < 0 else following
            line = text[rest + 1 : following]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            rest = following
        for i in range(start, min(rest, len(text))):
            if text[i] not in "\r\n":
                out[i] = "*"
    return "".join(out)


def _quote(text: str) -> str:
    # A key or value of the file, shown bounded and escaped like any input.
    from ananke.ir import quote

    return quote(text)


def _close(word: str, known: Sequence[str]) -> str | None:
    # `max_nesting` for `max-nesting`: the spelling of a Python name for a TOML key.
    for k in known:
        if word.replace("_", "-") == k:
            return k
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def _shown(path: Path) -> str:
    """``path`` as diagnostics name it: relative to the current folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_KEY_LINE = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*'))*)\s*="
)
_NEXT_KEY = re.compile(r"^\s*(?:\[|(?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*')\s*[.=])", re.M)


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(
        p.strip().strip("\"'")
        for p in re.split(r"\s*\.\s*(?=(?:[^\"']|\"[^\"]*\"|'[^']*')*$)", dotted)
    )


def _locate(text: str, path: tuple[str, ...]) -> tuple[int, int] | None:
    """Offsets of the key (or table header) that ``path`` names in TOML ``text``."""
    table: tuple[str, ...] = ()
    offset = 0
    header: tuple[int, int] | None = None
    for line in text.splitlines(keepends=True):
        m = _HEADER.match(line)
        if m:
            table = _parts(m[1])
            if table == path and header is None:
                header = (offset + m.start(1), offset + m.end(1))
        else:
            k = _KEY_LINE.match(line)
            if k:
                full = table + _parts(k[1])
                if full == path or (header is None and full[: len(path)] == path):
                    return offset + k.start(1), offset + len(line.rstrip("\r\n"))
        offset += len(line)
    return header
