"""Project settings for ``arc``: ``ananke.toml``, or ``[tool.ananke]`` in ``pyproject.toml``.

The nearest such file at or above the current folder is the project's (an ``ananke.toml``
before a ``pyproject.toml`` of the same folder; a ``pyproject.toml`` without
``[tool.ananke]`` does not count). Its top-level keys apply to every command that has
the option of that name; a section named after a command (``[emit]``, ``[test]``; in
``pyproject.toml`` ``[tool.ananke.emit]``) applies to that command and wins over the
top-level keys; an option given on the command line wins over both::

    max-nesting = 12          # emit, explain and test
    output-format = "short"   # every command

    [emit]
    target = "xgrammar"
    strict = true

    [test]
    targets = ["llguidance", "gbnf"]

A key or section that does not exist, a key in a section whose command lacks that option,
and a value of the wrong kind are errors (``invalid-config``) at their place in the file,
with the closest known name as a suggestion.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from ananke.ir import Diagnostic, SourceFile

__all__ = ["COMMANDS", "SETTINGS", "Config", "ConfigError", "Setting", "load"]

COMMANDS = ("check", "compile", "emit", "explain", "transpile", "test")
"""The commands a section may be named after."""

CODE = "invalid-config"


class _Invalid(Exception):
    """A value a setting does not take: ``takes`` says what it takes, or ``message``
    what is wrong, with ``hint`` a name close to what was written."""

    def __init__(self, takes: str = "", *, message: str = "", hint: str | None = None) -> None:
        super().__init__(takes or message)
        self.takes = takes
        self.message = message
        self.hint = hint


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


def _one_of(choices: Sequence[str], what: str) -> Callable[[object, tuple[str, ...]], object]:
    def convert(value: object, commands: tuple[str, ...]) -> object:
        if not isinstance(value, str) or value not in choices:
            raise _Invalid(f"{what}: {', '.join(choices)}")
        return value

    return convert


def _integer(lo: int, hi: int) -> Callable[[object, tuple[str, ...]], object]:
    def convert(value: object, commands: tuple[str, ...]) -> object:
        if type(value) is not int or not lo <= value <= hi:
            raise _Invalid(f"an integer from {lo} to {hi}")
        return value

    return convert


def _boolean(value: object, commands: tuple[str, ...]) -> object:
    if not isinstance(value, bool):
        raise _Invalid("true or false")
    return value


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

    if not isinstance(value, list) or sorted(map(str, value)) != sorted(PRECEDENCE):
        raise _Invalid(f"a list ordering all of {', '.join(PRECEDENCE)}, each once")
    return tuple(value)


def _target_names() -> Sequence[str]:
    from ananke.backends import target_names

    return target_names()


def _engine_names() -> Sequence[str]:
    from ananke.checks import CHECKS

    return tuple(c.engine for c in CHECKS)


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
)
"""Every key, in the order the documentation lists them."""

_BY_KEY = {s.key: s for s in SETTINGS}


class ConfigError(Exception):
    """A configuration file that cannot be used: ``diagnostic`` says why and where,
    ``source`` is the file's text (None when it could not be read)."""

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
    """Command → its section's settings."""

    def for_command(self, command: str) -> dict[str, object]:
        """Parameter name → value for ``command``: its section over the top-level keys."""
        out: dict[str, object] = {}
        for values in (self.shared, self.sections.get(command, {})):
            for key, value in values.items():
                setting = _BY_KEY[key]
                if command in setting.commands:
                    out[setting.param] = value
        return out


def find(start: Path) -> tuple[Path, tuple[str, ...]] | None:
    """The nearest configuration file at or above ``start`` and the path of the ``arc``
    table in it (``()`` for ``ananke.toml``, ``("tool", "ananke")`` for pyproject)."""
    for folder in [start, *start.parents]:
        if (folder / "ananke.toml").is_file():
            return folder / "ananke.toml", ()
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


class _Loader:
    def __init__(self, path: Path, prefix: tuple[str, ...]) -> None:
        self.path = path
        self.prefix = prefix
        self.name = _shown(path)
        self.source: SourceFile | None = None

    def load(self) -> Config:
        from ananke.ir import SourceFile

        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
            self.fail(f"cannot read the configuration: {reason}", None)
        self.source = SourceFile(self.name, text)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            message = str(e)
            m = re.search(r"\(at (?:line (\d+), column (\d+)|end of document)\)$", message)
            at = (self.source.offset(int(m[1]), int(m[2])) if m[1] else len(text)) if m else None
            reason = message[: m.start()].strip() if m else message
            self.fail(f"the configuration is not valid TOML: {reason}", (at or 0, at or 0))
        table: object = data
        for k in self.prefix:
            table = table.get(k, {}) if isinstance(table, dict) else None
        if not isinstance(table, dict):
            self.fail("the settings must be a table", self.locate(self.prefix))
        assert isinstance(table, dict)
        shared: dict[str, object] = {}
        sections: dict[str, dict[str, object]] = {}
        for key, value in table.items():
            if isinstance(value, dict) and key not in _BY_KEY:
                if key not in COMMANDS:
                    hint = _close(key, COMMANDS)
                    self.fail(
                        f"unknown section {_quote(key)}"
                        + (f"; did you mean `{hint}`?" if hint else ""),
                        self.locate((*self.prefix, key)),
                        help=f"sections are named after commands: {', '.join(COMMANDS)}",
                    )
                sections[key] = {k: self.value((key,), k, v, (key,)) for k, v in value.items()}
            else:
                commands = _BY_KEY[key].commands if key in _BY_KEY else ()
                shared[key] = self.value((), key, value, commands)
        return Config(path=self.path, shared=shared, sections=sections)

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
        try:
            return setting.convert(value, commands)
        except _Invalid as e:
            self.fail(
                e.message or f"`{key}` takes {e.takes}",
                where,
                help=f"did you mean `{e.hint}`?" if e.hint else None,
            )

    def locate(self, path: tuple[str, ...]) -> tuple[int, int]:
        """Offsets of where the file writes the key or table ``path`` (its start when it
        cannot tell)."""
        if self.source is None:
            return 0, 0
        return _locate(self.source.text, path) or (0, 0)

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
_KEY = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*'))*)\s*="
)


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
            k = _KEY.match(line)
            if k:
                full = table + _parts(k[1])
                if full == path or (header is None and full[: len(path)] == path):
                    return offset + k.start(1), offset + len(line.rstrip("\r\n"))
        offset += len(line)
    return header
