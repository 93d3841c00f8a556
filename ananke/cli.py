"""The ``arc`` command line.

Exit codes: 0 clean (warnings allowed), 1 findings (errors in the constraints), 2 usage or
input errors (bad flags, unreadable or corrupt files, a broken configuration), 3 internal
error (a bug in arc).

Only ``click`` is imported with this module, so ``arc --version`` stays fast; the compiler
stages are imported by the commands that need them.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, NoReturn

import click

from ananke.ir.files import write_atomic as _write_atomic

from . import __version__
from ._files import ariadne_files as _ariadne_files
from ._files import is_dir as _is_dir

if TYPE_CHECKING:
    from ananke.ir import Diagnostic, Enforcement, Lowered, Module, SourceFile
    from ananke.ir.constraint import Resolution

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_USAGE",
    "STDIN",
    "cli",
    "explain_json",
    "explain_matrix",
    "explain_table",
    "main",
]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

STDIN = "<stdin>"
"""The name diagnostics give the input read from standard input (a FILE of ``-``)."""

_FORMATS = ("full", "short", "json")
_TARGETS = (
    "llguidance",
    "lark-vllm",
    "xgrammar",
    "gbnf",
    "lark",
    "regex",
    "json-schema",
    "vllm",
    "sglang",
    "llamacpp",
    "openai",
)
"""For --help only (the registry in ``ananke.backends`` decides; a test keeps them equal):
importing the backends here would slow ``arc --version`` down."""
_CIR_FORMATS = ("json", "msgpack")
_BUG = "internal error: this is a bug in arc; please report it"


def _use_color(stream: IO[str]) -> bool:
    """Colour only on a terminal and only when ``NO_COLOR`` is unset or empty."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


class _Report:
    """Diagnostics of one invocation, printed to stderr once, deciding the exit code."""

    def __init__(self, fmt: str) -> None:
        from ananke.ir import Diagnostics

        self.fmt = fmt
        self.diags = Diagnostics()
        self.sources: dict[str, SourceFile] = {}
        self.input_error = False

    def add(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diags.extend(diagnostics)

    def io_error(self, code: str, path: str, exc: OSError) -> None:
        """``unreadable-file`` or ``unwritable-file`` for ``path``, at its start."""
        from ananke.ir import Label, Span, quote

        reason = exc.strerror or type(exc).__name__
        span = Span.start_of(path)
        what = "read" if code == "unreadable-file" else "write"
        self.diags.error(
            code,
            f"cannot {what} {quote(path)}: {reason}",
            Label(span=span),
            help="check the path and its permissions",
        )
        self.input_error = True

    def _attach_label_sources(self) -> None:
        """The text of every file a label points into (imported files, the standard
        library), so that the renderer can show the lines."""
        from ananke.ariadne import read_source, std_source
        from ananke.ir import Diagnostics

        for d in self.diags:
            for label in d.labels:
                name = label.span.file
                if name in self.sources:
                    continue
                source = std_source(name)
                try:
                    if source is None and name != STDIN and Path(name).is_file():
                        source = read_source(Path(name), Diagnostics())
                except OSError:  # a name the file system refuses: shown by position only
                    continue
                if source is not None:
                    self.sources[name] = source

    @property
    def failed(self) -> bool:
        return self.input_error or self.diags.has_errors

    def flush(self) -> None:
        from ananke.ir.render import render

        if not self.diags and self.fmt != "json":
            return
        self._attach_label_sources()
        stream = sys.stderr
        # The same problem met twice (a file checked, and imported by another) shows once.
        unique = list(dict.fromkeys(self.diags))
        text = render(unique, self.sources, self.fmt, _use_color(stream))  # type: ignore[arg-type]
        stream.write(text)
        stream.flush()

    def exit(self) -> NoReturn:
        """Print the diagnostics and exit with the code they decide."""
        self.flush()
        if self.input_error:
            raise SystemExit(EXIT_USAGE)
        raise SystemExit(EXIT_FINDINGS if self.diags.has_errors else EXIT_OK)


# --- settings -----------------------------------------------------------------------------


class _Command(click.Command):
    """A command whose options not given on the command line take the project's settings
    (:mod:`ananke.config`) before its defaults."""

    def invoke(self, ctx: click.Context) -> Any:
        _configure(ctx)
        return super().invoke(ctx)


class _Group(click.Group):
    command_class = _Command


def _configure(ctx: click.Context) -> None:
    from click.core import ParameterSource

    from ananke import config

    try:
        settings = config.load(Path.cwd()).for_command(ctx.command.name or "")
    except config.ConfigError as e:
        report = _Report(str(ctx.params.get("output_format") or "full"))
        report.diags.add(e.diagnostic)
        if e.source is not None:
            report.sources[e.source.name] = e.source
        report.input_error = True
        report.exit()
    for name, value in settings.items():
        if name in ctx.params and ctx.get_parameter_source(name) in (
            ParameterSource.DEFAULT,
            None,
        ):
            ctx.params[name] = value


# --- reading inputs -----------------------------------------------------------------------


def _q(text: str) -> str:
    """A command-line argument quoted as messages quote input: bounded and escaped."""
    from ananke.ir import quote

    return quote(text)


def _is_stdin(path: Path) -> bool:
    return str(path) == "-"


def _shown(path: Path) -> str:
    """How diagnostics and messages name an input."""
    return STDIN if _is_stdin(path) else str(path)


def _read_stdin(report: _Report) -> bytes | None:
    """Standard input, whole; None (reported) when it cannot be read or is too large."""
    from ananke.ariadne import MAX_SOURCE_CHARS as MAX_SOURCE_BYTES
    from ananke.ir import Label, Span

    try:
        data: bytes = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
    except (OSError, AttributeError, ValueError) as e:
        # No usable standard input (closed, or text only): an input error all the same.
        reason = e if isinstance(e, OSError) else OSError(0, "standard input is not readable")
        report.io_error("unreadable-file", STDIN, reason)
        return None
    if len(data) > MAX_SOURCE_BYTES:
        report.diags.error(
            "file-too-large",
            f"standard input is larger than the limit of {MAX_SOURCE_BYTES:,} bytes",
            Label(span=Span.start_of(STDIN), message="refused"),
            help="split the constraints into several files",
        )
        report.input_error = True
        return None
    return data


def _decoded(name: str, data: bytes, report: _Report) -> SourceFile | None:
    """``data`` decoded as Ariadne source; on failure its text decoded lossily is kept,
    so that the diagnostics show the line (their spans index that text)."""
    from ananke.ariadne import decode_source
    from ananke.ir import SourceFile

    source = decode_source(name, data, report.diags)
    if source is None:
        report.input_error = True
        lossy = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
        report.sources[name] = SourceFile(name, lossy)
        return None
    report.sources[name] = source
    return source


def _source(path: Path, report: _Report) -> SourceFile | None:
    """The ``.ariadne`` text of ``path`` (standard input for ``-``); None (reported)
    when it cannot be read or decoded."""
    from ananke.ariadne import read_source

    if _is_stdin(path):
        data = _read_stdin(report)
        return None if data is None else _decoded(STDIN, data, report)
    source = read_source(path, report.diags)
    if source is None:
        report.input_error = True
        _attach_undecodable(path, report)
        return None
    report.sources[source.name] = source
    return source


def _looks_like_cir(head: bytes) -> bool:
    """The first bytes of a ``.cir`` file: JSON (``{``) or a MessagePack map."""
    first = head.lstrip(b" \t\r\n")[:1]
    return first in (b"{", b"\xde", b"\xdf") or (first != b"" and 0x80 <= first[0] <= 0x8F)


def _is_cir(path: Path) -> bool:
    """A ``.cir`` file by extension; for other extensions, by the first byte."""
    if path.suffix == ".cir":
        return True
    if path.suffix == ".ariadne":
        return False
    try:
        with path.open("rb") as f:
            return _looks_like_cir(f.read(4096))
    except OSError:
        return False


class _Compose(NamedTuple):
    """Which composition passes run (None: all), the provenance precedence, and the one
    constraint set asked for (``-c NAME``; None: all of them)."""

    passes: tuple[str, ...] | None = None
    precedence: tuple[str, ...] | None = None
    only: str | None = None


def _compile(path: Path, report: _Report, compose: _Compose | None = None) -> Module | None:
    """An ``.ariadne`` file (standard input for ``-``) and its imports compiled, then
    composed (all passes unless ``compose`` says otherwise)."""
    source = _source(path, report)
    return None if source is None else _compile_source(source, report, compose)


def _compile_source(
    source: SourceFile, report: _Report, compose: _Compose | None = None
) -> Module | None:
    from ananke.ariadne import compile_source
    from ananke.ir import DiagnosticError

    try:
        module = compile_source(source, report.diags)
    except DiagnosticError as e:
        report.add(e.diagnostics)
        return None
    return _composed(module, report, compose or _Compose())


def _composed(module: Module | None, report: _Report, compose: _Compose) -> Module | None:
    """``module`` through the composition passes. With ``compose.only``, what concerns
    other sets fails nothing: their errors are reported as warnings, and the set asked
    for is composed from what it extends alone."""
    from ananke.ir import Diagnostics
    from ananke.ir.compose import PRECEDENCE, pass_names
    from ananke.ir.compose import compose as run_passes

    if module is None:
        return None
    precedence = compose.precedence or PRECEDENCE
    every = Diagnostics()
    composed = run_passes(module, every, passes=compose.passes, precedence=precedence)
    only = compose.only
    if not every.has_errors or only is None or module.get_set(only) is None:
        report.add(list(every))
        return None if every.has_errors else composed
    mine = Diagnostics()
    # Inheritance first, among the set and its ancestors; then the rest of the pipeline
    # on the set alone, so that its ancestors' own conflicts are not its errors.
    family = _lineage(module, only)
    inlined = run_passes(family, mine, passes=("inline-extends",), precedence=precedence)
    alone: Module | None = None
    if not mine.has_errors:
        chosen = inlined.get_set(only)
        assert chosen is not None
        rest = [p for p in compose.passes or pass_names() if p != "inline-extends"]
        alone = run_passes(_with_sets(inlined, (chosen,)), mine, passes=rest, precedence=precedence)
    own = list(mine)
    report.add(own)
    report.add([_elsewhere(d, only) for d in every if d not in own])
    return None if mine.has_errors else alone


def _lineage(module: Module, name: str) -> Module:
    """``module`` with only the set ``name`` and the sets it extends, at any depth."""
    keep: set[str] = set()
    todo = [name]
    while todo:
        current = module.get_set(todo.pop())
        if current is None or current.name in keep:
            continue
        keep.add(current.name)
        todo.extend(current.extends)
    return _with_sets(module, tuple(s for s in module.sets if s.name in keep))


def _with_sets(module: Module, sets: tuple[Any, ...]) -> Module:
    import msgspec

    return msgspec.structs.replace(module, sets=sets)


def _elsewhere(d: Diagnostic, only: str) -> Diagnostic:
    """An error of a set other than ``only`` (the one asked for), as a warning."""
    import msgspec

    if d.severity != "error":
        return d
    note = (
        f"a warning here: it concerns another constraint set than `{only}`, the one asked "
        "for with --constraint"
    )
    return msgspec.structs.replace(d, severity="warning", notes=(*d.notes, note))


def _attach_undecodable(path: Path, report: _Report) -> None:
    """Text of a file that failed to decode (lossily), so its diagnostics show the line.

    ``read_source`` gives spans into the text decoded with replacement characters after
    dropping a byte-order mark; this decodes the same way.
    """
    from ananke.ariadne import MAX_SOURCE_CHARS
    from ananke.ir import SourceFile

    try:
        if not path.is_file() or path.stat().st_size > MAX_SOURCE_CHARS:
            return
        data = path.read_bytes()
    except OSError:
        return
    data = data.removeprefix(b"\xef\xbb\xbf")
    report.sources[str(path)] = SourceFile(str(path), data.decode("utf-8", errors="replace"))


def _load(path: Path, report: _Report, compose: _Compose | None = None) -> Module | None:
    """An ``.ariadne`` file compiled, or a ``.cir`` file decoded (standard input for
    ``-``: either, told apart by its first byte); composed either way."""
    from ananke.ir import cir

    compose = compose or _Compose()
    if _is_stdin(path):
        data = _read_stdin(report)
        if data is None:
            return None
        if not _looks_like_cir(data[:4096]):
            source = _decoded(STDIN, data, report)
            return None if source is None else _compile_source(source, report, compose)
        name = STDIN
    elif not _is_cir(path):
        return _compile(path, report, compose)
    else:
        name = str(path)
        try:
            data = path.read_bytes()
        except OSError as e:
            report.io_error("unreadable-file", name, e)
            return None
    module = cir.loads(data, name, report.diags)
    if module is None:
        report.input_error = True
        source = cir.source_of(data, name)
        if source is not None:
            report.sources[source.name] = source
    return _composed(module, report, compose)


def _select(module: Module, constraint: str | None) -> Module:
    """The module restricted to one constraint set (a usage error if it is unknown), or to
    the sets of the compiled file itself (not those its imports brought)."""
    import msgspec

    if constraint is None:
        return msgspec.structs.replace(module, sets=module.own_sets)

    chosen = module.get_set(constraint)
    if chosen is None:
        names = ", ".join(s.name for s in module.sets) or "(none)"
        raise click.UsageError(
            f"no constraint set named {_q(constraint)}; the input defines: {names}"
        )
    return msgspec.structs.replace(module, sets=(chosen,))


def _lower(
    module: Module,
    target: str,
    report: _Report,
    *,
    strict: bool = False,
    max_nesting: int | None = None,
) -> tuple[Lowered, ...] | None:
    from ananke.ir import DiagnosticError
    from ananke.pipeline import lower_for_target

    try:
        lowered = lower_for_target(
            module, target, report.diags, strict=strict, max_nesting=max_nesting
        )
    except DiagnosticError as e:
        report.add(e.diagnostics)
        return None
    return None if report.diags.has_errors else lowered


def _emit_texts(lowered: Sequence[Lowered], target: str, report: _Report) -> list[tuple[str, str]]:
    """(set name, text) per lowered set; a feature the printer lacks is a diagnostic."""
    from ananke.ir import DiagnosticError
    from ananke.pipeline import emit

    texts: list[tuple[str, str]] = []
    for low in lowered:
        try:
            texts.append((low.set_name, emit(low, target)))
        except DiagnosticError as e:
            report.add(e.diagnostics)
    return texts


def _check_target(ctx: click.Context, param: click.Parameter, target: str) -> str:
    from ananke.backends import target_names

    allowed = (
        (*target_names(), "all") if ctx.command.name in ("emit", "explain") else target_names()
    )
    if target not in allowed:
        known = ", ".join(sorted(allowed)) or "(none)"
        raise click.BadParameter(
            f"unknown target {_q(target)}; known targets: {known}", ctx=ctx, param=param
        )
    return target


def _lowering_options(f: Any) -> Any:
    f = click.option(
        "--strict/--no-strict",
        default=False,
        help="Make `demoted-to-post` an error: a constraint the target cannot enforce in "
        "its grammar (which would be checked after generation only) fails the command "
        "(exit 1) instead of a warning. No other diagnostic changes.",
    )(f)
    return click.option(
        "--max-nesting",
        type=click.IntRange(1, 64),
        default=None,
        metavar="N",
        help="Deepest block nesting the grammar accepts (default 16); every depth is "
        "written out as rules of its own.",
    )(f)


def _check_passes(ctx: Any, param: Any, value: str | None) -> tuple[str, ...] | None:
    from ananke.ir.compose import pass_names

    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in pass_names()]
    if unknown or not names:
        what = f"unknown pass {_q(unknown[0])}" if unknown else "no pass named"
        raise click.BadParameter(f"{what}; the passes are {', '.join(pass_names())}")
    return names


def _check_precedence(ctx: Any, param: Any, value: str | None) -> tuple[str, ...] | None:
    from ananke.ir.compose import PRECEDENCE

    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(","))
    if sorted(names) != sorted(PRECEDENCE):
        raise click.BadParameter(
            f"order all of {', '.join(PRECEDENCE)}, each once (strongest first)"
        )
    return names


def _precedence_option(f: Any) -> Any:
    return click.option(
        "--precedence",
        metavar="ORDER",
        callback=_check_precedence,
        help="How conflicts between constraints of equal strength and priority are settled "
        "by where they come from, strongest first: a comma-separated order of file (the "
        "compiled file), library (imported files), extracted, llm. Default: "
        "file,library,extracted,llm.",
    )(f)


def _output_format(f: Any) -> Any:
    return click.option(
        "--output-format",
        type=click.Choice(_FORMATS),
        default="full",
        show_default=True,
        help="How diagnostics are printed on stderr: full (with source excerpts), "
        "short (one line each) or json (one array).",
    )(f)


def _target_option(f: Any) -> Any:
    return click.option(
        "--target",
        "-t",
        default="llguidance",
        show_default=True,
        metavar="NAME",
        callback=_check_target,
        help=f"Target to lower for: {', '.join(_TARGETS)}; or all (`arc emit --target all "
        "-o DIR` writes every target).",
    )(f)


_EPILOG = (
    "FILE may be - to read standard input (shown as <stdin>; its imports are relative to "
    "the current folder). Diagnostics go to stderr. Exit codes: 0 clean (warnings "
    "allowed), 1 errors in the constraints, 2 usage or input error, 3 internal error (a "
    "bug in arc; please report it)."
)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: 0 clean (warnings allowed), 1 errors in the constraints, 2 usage or "
    "input error (bad flags, unreadable or corrupt files, a broken ananke.toml), 3 internal "
    "error (a bug in arc; please report it).",
)
@click.version_option(
    __version__, "--version", "-V", prog_name="arc", message="%(prog)s %(version)s"
)
def cli() -> None:
    """arc: compile Ariadne constraints into grammars that LLM inference engines enforce.

    Options not given on the command line come from the nearest ananke.toml (or
    [tool.ananke] in pyproject.toml) at or above the current folder: its top-level keys
    apply to every command with that option, a [COMMAND] section to that command
    (spec/ariadne.md, "Settings").

    \b
    Example:
      arc emit examples/api_handler.ariadne --target llguidance
    """


@cli.command(epilog=_EPILOG)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_output_format
def check(files: tuple[Path, ...], output_format: str) -> None:
    """Compile FILES and report their diagnostics; write nothing.

    A folder stands for the .ariadne files under it (hidden folders skipped), as with
    `arc test`. Exits 0 when clean (warnings allowed), 1 when a file has errors, 2 when a
    file cannot be read.

    \b
    Examples:
      arc check examples/api_handler.ariadne --output-format short
      arc check constraints/
      generate-constraints | arc check -
    """
    report = _Report(output_format)
    for path in _inputs(files):
        _compile(path, report)
    report.exit()


def _inputs(paths: Sequence[Path]) -> list[Path]:
    """The files named, each folder replaced by the ``.ariadne`` files under it; standard
    input (``-``) at most once."""
    if sum(_is_stdin(p) for p in paths) > 1:
        raise click.UsageError("`-` (standard input) can be read only once")
    out: list[Path] = []
    for path in paths:
        if not _is_stdin(path) and _is_dir(path):
            found = list(_ariadne_files([path]))
            if not found:
                raise click.UsageError(f"no .ariadne files in {_q(str(path))}")
            out.extend(found)
        else:
            out.append(path)
    return out


@cli.command("compile", epilog=_EPILOG)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The .cir file to write (replaced atomically).",
)
@click.option(
    "--format",
    "cir_format",
    type=click.Choice(_CIR_FORMATS),
    default="json",
    show_default=True,
    help="Serialization of the .cir file: pretty JSON or compact MessagePack.",
)
@click.option(
    "-p",
    "--passes",
    metavar="NAMES",
    callback=_check_passes,
    help="Run only these composition passes (comma-separated, run in pipeline order): "
    "inline-extends, merge, detect-conflicts, resolve-conflicts. Default: all.",
)
@_precedence_option
@_output_format
def compile_cmd(
    file: Path,
    output: Path,
    cir_format: str,
    passes: tuple[str, ...] | None,
    precedence: tuple[str, ...] | None,
    output_format: str,
) -> None:
    """Compile FILE (.ariadne) to the ConstraintIR and write it to a .cir file.

    Nothing is written when FILE has errors.

    \b
    Example:
      arc compile examples/api_handler.ariadne -o api_handler.cir --format msgpack
    """
    from ananke.ir import cir

    report = _Report(output_format)
    module = _compile(file, report, _Compose(passes, precedence))
    if module is None or report.failed:
        report.exit()
    try:
        _write_atomic(output, cir.dumps(module, cir_format))  # type: ignore[arg-type]
    except OSError as e:
        report.io_error("unwritable-file", str(output), e)
    report.exit()


@cli.command(epilog=_EPILOG)
@click.argument("file", type=click.Path(path_type=Path))
@_target_option
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="Write the grammar here instead of stdout; a folder (existing, or ending with /) "
    "gets one file per constraint set (and one folder per target with --target all).",
)
@click.option(
    "--constraint",
    "-c",
    metavar="NAME",
    help="Emit only this constraint set (needed when FILE has several and -o is no "
    "folder); what only other sets get wrong is then a warning.",
)
@_lowering_options
@_precedence_option
@_output_format
def emit(
    file: Path,
    target: str,
    output: str | None,
    constraint: str | None,
    strict: bool,
    max_nesting: int | None,
    precedence: tuple[str, ...] | None,
    output_format: str,
) -> None:
    """Lower FILE (.ariadne or .cir) and print the grammar for the target engine.

    A constraint the target cannot enforce in its grammar is checked after generation
    instead, with a warning (demoted-to-post); --strict makes it an error.

    \b
    Examples:
      arc emit examples/api_handler.ariadne --target llguidance
      arc emit examples/api_handler.ariadne --target xgrammar
      arc emit handlers.cir --constraint api_handler -o api_handler.lark
      arc emit handlers.ariadne --target all -o grammars/
    """
    report = _Report(output_format)
    module = _load(file, report, _Compose(precedence=precedence, only=constraint))
    if module is None or report.failed:
        report.exit()
    module = _select(module, constraint)
    # A trailing slash is significant, so the option stays a string until here.
    to_folder = output is not None and (os.path.isdir(output) or output.endswith(("/", os.sep)))
    if not module.sets:
        _no_sets(report, file)
    if target == "all":
        if output is None:
            raise click.UsageError("--target all writes one folder per target: give -o DIR")
        _emit_all(module, Path(output), report, strict=strict, max_nesting=max_nesting)
        report.exit()
    if len(module.sets) > 1 and not to_folder:
        names = ", ".join(s.name for s in module.sets)
        raise click.UsageError(
            f"{_q(_shown(file))} defines {len(module.sets)} constraint sets ({names}); choose "
            "one with --constraint NAME, or give -o a folder to write one file per set"
        )
    lowered = _lower(module, target, report, strict=strict, max_nesting=max_nesting)
    if lowered is None:
        report.exit()
    texts = _emit_texts(lowered, target, report)
    if report.failed:
        report.exit()
    from ananke.backends import get_backend

    extension = get_backend(target).file_extension
    try:
        if output is None:
            for _, text in texts:
                click.echo(text, nl=not text.endswith("\n"))
        elif to_folder:
            folder = Path(output)
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in texts:
                _write_atomic(folder / f"{name}{extension}", text.encode("utf-8"))
        else:
            _write_atomic(Path(output), texts[0][1].encode("utf-8"))
    except OSError as e:
        report.io_error("unwritable-file", str(output), e)
    report.exit()


def _emit_all(
    module: Module, folder: Path, report: _Report, *, strict: bool, max_nesting: int | None
) -> None:
    """Every target into ``folder/TARGET/SET.EXT``."""
    from ananke.backends import get_backend

    each, _ = _each_target(module, report, strict=strict, max_nesting=max_nesting)
    for target, lowered in each:
        sub = _Report(report.fmt)
        texts = _emit_texts(list(lowered.values()), target, sub)
        if _skipped(target, "", sub, report) is not None:
            continue
        extension = get_backend(target).file_extension
        try:
            (folder / target).mkdir(parents=True, exist_ok=True)
            for name, text in texts:
                _write_atomic(folder / target / f"{name}{extension}", text.encode("utf-8"))
        except OSError as e:
            report.io_error("unwritable-file", str(folder / target), e)
            return


_Each = list[tuple[str, dict[str, "Lowered"]]]


def _each_target(
    module: Module, report: _Report, *, strict: bool, max_nesting: int | None
) -> tuple[_Each, dict[tuple[str, str], str]]:
    """Every constraint set lowered for every target (set name → lowered, per target),
    and why a target was skipped for a set ((target, set name) → reason). A set a target
    cannot express at all is skipped for it with a warning (``target-skipped``);
    demotions are reported as usual."""
    from ananke.backends import target_names

    out: _Each = []
    skipped: dict[tuple[str, str], str] = {}
    for target in target_names():
        done: dict[str, Lowered] = {}
        for cset in module.sets:
            sub = _Report(report.fmt)
            lowered = _lower(
                _with_sets(module, (cset,)), target, sub, strict=strict, max_nesting=max_nesting
            )
            why = _skipped(target, cset.name, sub, report)
            if why is not None:
                skipped[(target, cset.name)] = why
            elif lowered is not None:
                done[cset.name] = lowered[0]
        if done:
            out.append((target, done))
    return out, skipped


def _skipped(target: str, set_name: str, sub: _Report, report: _Report) -> str | None:
    """Move ``sub``'s diagnostics into ``report``. When ``target`` failed for a reason
    other than a demotion under --strict, that becomes one ``target-skipped`` warning,
    and the reason is returned."""
    from ananke.ir import Diagnostics, quote

    errors = [d for d in sub.diags if d.severity == "error"]
    if errors and not any(d.code == "demoted-to-post" for d in errors):
        skipped = Diagnostics()
        first = errors[0].message.removeprefix(
            f"{target} cannot express constraint set {quote(set_name)}: "
        )
        what = f"target `{target}` skipped" + (f" for {quote(set_name)}" if set_name else "")
        skipped.warning(
            "target-skipped",
            f"{what}: {first}",
            *errors[0].labels,
            notes=tuple(dict.fromkeys(d.message for d in errors[1:] if d.message != first)),
            help=f"run `arc emit --target {target}` for the full diagnostics",
        )
        report.add(list(skipped))
        return first
    report.add(list(sub.diags))
    return "it cannot be lowered without errors" if errors else None


@cli.command(epilog=_EPILOG)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--from",
    "from_",
    type=click.Choice(("lark", "gbnf", "ebnf")),
    default=None,
    help="Dialect of FILE: lark (llguidance's or the lark package's), gbnf (llama.cpp) or "
    "ebnf (XGrammar). Default: by its extension (.lark, .gbnf, .ebnf); needed for -.",
)
@click.option(
    "--target",
    "-t",
    "--to",
    "target",
    default="llguidance",
    show_default=True,
    metavar="NAME",
    callback=_check_target,
    help="Target to print the grammar for (any `arc emit` target but all); --to is the "
    "same option.",
)
@click.option("--start", metavar="RULE", help="Start rule (default: start, or root for GBNF).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the grammar here (atomically) instead of stdout.",
)
@_output_format
def transpile(
    file: Path,
    from_: str | None,
    target: str,
    start: str | None,
    output: Path | None,
    output_format: str,
) -> None:
    """Read a grammar someone else wrote and print it for another engine.

    A construct with no equivalent in the target is a diagnostic at its place in FILE;
    nothing is written then.

    \b
    Examples:
      arc transpile json.lark --target xgrammar
      arc transpile arithmetic.gbnf -t lark-vllm -o arithmetic.lark
      make-grammar | arc transpile - --from gbnf --target xgrammar
    """
    from ananke.ariadne import read_source
    from ananke.frontends.grammars import dialect_for_path, import_grammar
    from ananke.ir import DiagnosticError
    from ananke.pipeline import transpile_grammar

    dialect = from_ or (None if _is_stdin(file) else dialect_for_path(str(file)))
    if dialect is None:
        raise click.UsageError(
            "standard input has no extension to tell its dialect: pass --from lark, gbnf or ebnf"
            if _is_stdin(file)
            else f"cannot tell the dialect of {_q(str(file))} from its extension: pass --from "
            "lark, gbnf or ebnf"
        )
    report = _Report(output_format)
    source: SourceFile | None
    if _is_stdin(file):
        data = _read_stdin(report)
        source = None if data is None else _decoded(STDIN, data, report)
    else:
        source = read_source(file, report.diags)
    if source is None:
        report.input_error = True
        report.exit()
    report.sources[source.name] = source
    grammar = import_grammar(source, dialect, report.diags, start=start)  # type: ignore[arg-type]
    if grammar is None or report.failed:
        report.exit()
    try:
        text = transpile_grammar(grammar, target, report.diags)
    except DiagnosticError as e:
        report.add(e.diagnostics)
        text = None
    if text is None or report.failed:
        report.exit()
    try:
        if output is None:
            click.echo(text, nl=not text.endswith("\n"))
        else:
            _write_atomic(output, text.encode("utf-8"))
    except OSError as e:
        report.io_error("unwritable-file", str(output), e)
    report.exit()


@cli.command(
    "test",
    epilog="Exit codes: 0 every check passed, 1 a check failed, 2 usage or input error, 3 "
    "internal error (a bug in arc; please report it).",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--update", is_flag=True, help="Write the golden files instead of comparing them.")
@click.option(
    "--engine",
    "engines",
    multiple=True,
    metavar="NAME",
    help="Run only these engines (repeat, or separate with commas); llguidance-lark always "
    "runs. Default: every installed engine (lark only on request for Python sets).",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="NAME",
    help="Targets whose grammar and explain table are golden files (repeat, or separate with "
    "commas). Default: llguidance.",
)
@click.option(
    "--max-nesting",
    type=click.IntRange(1, 64),
    default=None,
    metavar="N",
    help="Deepest block nesting the grammars accept (default 16).",
)
@click.option(
    "--output-format",
    type=click.Choice(_FORMATS),
    default="full",
    show_default=True,
    help="full (failures with source excerpts and diffs), short (one line each) or json "
    "(one document on stdout).",
)
@click.option(
    "--junit-xml",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write a JUnit XML report here.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(0, 256),
    default=0,
    metavar="N",
    help="Files checked in N processes at once (default 0: one per CPU).",
)
def test_cmd(
    paths: tuple[Path, ...],
    update: bool,
    engines: tuple[str, ...],
    targets: tuple[str, ...],
    max_nesting: int | None,
    output_format: str,
    junit_xml: Path | None,
    jobs: int,
) -> None:
    """Run the examples of PATHS' .ariadne files in every engine, and compare golden files.

    PATHS are .ariadne files or folders searched for them (default: the current folder).
    Every example is checked against each engine's grammar and against the post checks; a
    rejection is explained (where, which grammar rule, which constraint). Golden files
    (NAME.golden/ beside NAME.ariadne: the IR text, the explain table and the grammar of
    each configured target) are compared when the folder exists; --update writes them.
    Their paths are relative to the .ariadne file, so any folder gives the same result.

    \b
    Examples:
      arc test examples/
      arc test constraints/ --update
      arc test --engine llguidance-lark --junit-xml arc-test.xml
    """
    from ananke import testing
    from ananke.backends import target_names

    roots = paths or (Path("."),)
    for p in roots:
        if not os.path.exists(p):  # False, not an error, for a name too long
            raise click.UsageError(f"no such file or folder: {_q(str(p))}")
    chosen = _names_option(engines, tuple(c.engine for c in testing.CHECKS), "engine")
    wanted = _names_option(targets, target_names(), "target")
    config = testing.Config(
        targets=wanted or testing.Config.targets, engines=chosen or None, max_nesting=max_nesting
    )
    files = list(testing.find_files(roots))
    if not files:
        raise click.UsageError(f"no .ariadne files in {', '.join(str(p) for p in roots)}")
    results = testing.run_paths(files, config, update=update, jobs=jobs or os.cpu_count() or 1)
    if output_format == "json":
        click.echo(testing.report_json(results), nl=False)
    else:
        click.echo(testing.report_text(results, output_format, _use_color(sys.stdout)), nl=False)
    if junit_xml is not None:
        try:
            _write_atomic(junit_xml, testing.report_junit(results))
        except OSError as e:
            report = _Report(output_format)
            report.io_error("unwritable-file", str(junit_xml), e)
            report.exit()
    if any(r.unreadable for r in results):
        raise SystemExit(EXIT_USAGE)
    raise SystemExit(EXIT_OK if all(r.passed for r in results) else EXIT_FINDINGS)


def _names_option(values: Sequence[str], known: Sequence[str], what: str) -> tuple[str, ...]:
    """The names given to a repeatable ``--WHAT`` option (commas also separate them); a
    usage error for a name not in ``known``."""
    names = tuple(n.strip() for v in values for n in v.split(",") if n.strip())
    for name in names:
        if name not in known:
            raise click.BadParameter(
                f"unknown {what} {_q(name)}; known: {', '.join(known)}", param_hint=f"--{what}"
            )
    return names


def _no_sets(report: _Report, file: Path) -> None:
    from ananke.ir import Label, Span, quote

    span = Span.start_of(_shown(file))
    report.diags.error(
        "no-constraint-set",
        f"{quote(_shown(file))} defines no constraint set, so there is nothing to emit",
        Label(span=span),
        help="add a `constraint NAME { ... }` block",
    )
    report.exit()


@cli.command(epilog=_EPILOG)
@click.argument("file", type=click.Path(path_type=Path))
@_target_option
@click.option(
    "--constraint",
    "-c",
    metavar="NAME",
    help="Explain only this constraint set; what only other sets get wrong is then a warning.",
)
@_lowering_options
@_precedence_option
@click.option(
    "--output-format",
    type=click.Choice(_FORMATS),
    default="full",
    show_default=True,
    help="full or short: the plan as tables on stdout, diagnostics on stderr (with source "
    "excerpts, or one line each); json: the plan as one JSON document on stdout "
    '(spec/ir.md, "The plan as JSON"), diagnostics as one JSON array on stderr.',
)
def explain(
    file: Path,
    target: str,
    constraint: str | None,
    strict: bool,
    max_nesting: int | None,
    precedence: tuple[str, ...] | None,
    output_format: str,
) -> None:
    """Show how each constraint of FILE (.ariadne or .cir) is enforced for the target.

    Levels: token (the grammar makes every violation impossible), post (checked after
    generation; the detail says what the grammar still narrows), prompt (advice only).
    With --target all, one table per constraint set with a column per target, where
    post/narrowed (the grammar narrows it, the check after generation decides) and
    post/demoted (this target's grammar cannot enforce it: only the check after
    generation does) tell the two kinds of post apart.

    \b
    Examples:
      arc explain examples/api_handler.ariadne
      arc explain examples/multi.ariadne --target gbnf
      arc explain examples/multi.ariadne --target all --output-format json
    """
    report = _Report(output_format)
    module = _load(file, report, _Compose(precedence=precedence, only=constraint))
    if module is None or report.failed:
        report.exit()
    module = _select(module, constraint)
    if not module.sets:
        _no_sets(report, file)
    decisions = {s.name: s.resolutions for s in module.sets}
    names = [s.name for s in module.sets]
    if target == "all":
        each, skipped = _each_target(module, report, strict=strict, max_nesting=max_nesting)
    else:
        lowered = _lower(module, target, report, strict=strict, max_nesting=max_nesting)
        if lowered is None:
            report.exit()
        each, skipped = [(target, {low.set_name: low for low in lowered})], {}
    if report.failed:
        report.exit()
    if output_format == "json":
        text = explain_json(_shown(file), names, each, skipped, decisions)
    elif target == "all":
        text = explain_matrix(names, each, decisions)
    else:
        text = explain_table(list(each[0][1].values()), decisions)
    click.echo(text, nl=False)
    report.exit()


def explain_table(
    lowered: Sequence[Lowered], decisions: Mapping[str, Sequence[Resolution]] | None = None
) -> str:
    """One aligned plain-text table per constraint set, then the grammar's overall notes
    and what composition decided (``decisions``, per set name)."""
    blocks: list[str] = []
    header = ("ID", "KIND", "LEVEL", "REASON", "DETAIL")
    for low in lowered:
        rows = [header] + [
            (e.constraint_id, e.kind, e.level, e.reason, e.detail) for e in low.enforcements
        ]
        lines = [f"constraint set {low.set_name} (target {low.target})", *_aligned(rows)]
        if low.notes:
            lines.append("")
            lines.extend(f"  note: {note}" for note in low.notes)
        lines.extend(_decided((decisions or {}).get(low.set_name, ())))
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """A header and rows as indented, aligned text lines; a table with no rows says so."""
    if len(rows) == 1:
        return ["  (no constraints)"]
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return [
        ("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))).rstrip()
        for row in rows
    ]


_KINDS_OF_POST = {
    "post/narrowed": "the grammar narrows it, and the check after generation decides",
    "post/demoted": "this target's grammar cannot enforce it (demoted-to-post), so only the "
    "check after generation does",
}


def _cell(e: Enforcement) -> str:
    """A constraint's level in the matrix: ``post`` tells narrowing and demotion apart."""
    if e.demoted:
        return "post/demoted"
    if e.narrows:
        return "post/narrowed"
    return e.level


def explain_matrix(
    set_names: Sequence[str],
    each: Sequence[tuple[str, Mapping[str, Lowered]]],
    decisions: Mapping[str, Sequence[Resolution]] | None = None,
) -> str:
    """Per constraint set, one row per constraint and one column per target that can
    express the set: its level (``post/narrowed`` and ``post/demoted`` for the two kinds
    of ``post`` that involve the grammar, then a legend). Where a target enforces a
    constraint otherwise than the first one (the reference), how follows the table;
    notes that only some targets have name them; then what composition decided
    (``decisions``, per set name)."""
    blocks: list[str] = []
    for set_name in set_names:
        per_target = {t: low[set_name] for t, low in each if set_name in low}
        if not per_target:
            blocks.append(f"constraint set {set_name}\n  (no target can express it)\n")
            continue
        targets = list(per_target)
        reference = per_target[targets[0]]
        header = ("ID", "KIND", *targets)
        rows = [header]
        differs: list[str] = []
        for e in reference.enforcements:
            levels = {
                t: next(x for x in low.enforcements if x.constraint_id == e.constraint_id)
                for t, low in per_target.items()
            }
            rows.append((e.constraint_id, e.kind, *(_cell(levels[t]) for t in targets)))
            for t, x in levels.items():
                if (x.level, x.reason) != (e.level, e.reason):
                    detail = f" ({x.detail})" if x.detail else ""
                    differs.append(f"{e.constraint_id} on {t}: {x.level}, {x.reason}{detail}")
        lines = [f"constraint set {set_name}", *_aligned(rows)]
        shown = {cell for row in rows[1:] for cell in row[2:]}
        legend = [f"{k}: {v}" for k, v in _KINDS_OF_POST.items() if k in shown]
        if legend:
            lines.append("")
            lines.extend(f"  {line}" for line in legend)
        if differs:
            lines.append("")
            lines.extend(f"  differs: {d}" for d in differs)
        notes: dict[str, list[str]] = {}
        for t, low in per_target.items():
            for note in low.notes:
                notes.setdefault(note, []).append(t)
        lines.append("")
        for note, where in notes.items():
            scope = "" if len(where) == len(targets) else f"[{', '.join(where)}] "
            lines.append(f"  note: {scope}{note}")
        lines.extend(_decided((decisions or {}).get(set_name, ())))
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _decided(resolutions: Sequence[Resolution]) -> list[str]:
    if not resolutions:
        return []
    return ["", *(f"  decided ({r.rule}): {r.summary}" for r in resolutions)]


EXPLAIN_JSON_VERSION = 1
"""Version of the document ``arc explain --output-format json`` prints (spec/ir.md)."""


def _grammar_role(e: Enforcement) -> str:
    if e.level == "token":
        return "enforces"
    if e.demoted:
        return "demoted"
    return "narrows" if e.narrows else "none"


def explain_json(
    file: str,
    set_names: Sequence[str],
    each: Sequence[tuple[str, Mapping[str, Lowered]]],
    skipped: Mapping[tuple[str, str], str],
    decisions: Mapping[str, Sequence[Resolution]],
) -> str:
    """The plan as one JSON document (``arc explain --output-format json``): per
    constraint set, per target, every constraint's level, what the grammar does about it
    and why; the targets that cannot express the set, with the reason; what composition
    decided."""
    import json

    from ananke.backends import target_names

    lowered = {(t, name): low for t, lows in each for name, low in lows.items()}
    present = {t for t, _ in each} | {t for t, _ in skipped}
    targets = [t for t in target_names() if t in present]
    sets = []
    for name in set_names:
        plans: list[dict[str, object]] = []
        for t in targets:
            low = lowered.get((t, name))
            if low is not None:
                plans.append(
                    {
                        "target": t,
                        "constraints": [
                            {
                                "id": e.constraint_id,
                                "kind": e.kind,
                                "level": e.level,
                                "grammar": _grammar_role(e),
                                "reason": e.reason,
                                "detail": e.detail,
                            }
                            for e in low.enforcements
                        ],
                        "notes": list(low.notes),
                    }
                )
            elif (t, name) in skipped:
                plans.append({"target": t, "skipped": skipped[(t, name)]})
        sets.append(
            {
                "name": name,
                "targets": plans,
                "decided": [
                    {
                        "rule": r.rule,
                        "kept": r.kept,
                        "dropped": list(r.dropped),
                        "summary": r.summary,
                    }
                    for r in decisions.get(name, ())
                ],
            }
        )
    doc = {"version": EXPLAIN_JSON_VERSION, "file": file, "sets": sets}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _internal_error(exc: BaseException) -> None:
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    lines = [_BUG, f"  {type(exc).__name__}: {exc}"]
    lines += [f"    at {Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames]
    lines.append(f"  arc {__version__}, Python {sys.version.split()[0]}")
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the ``arc`` script: run the CLI; exit 3 on an unexpected exception."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="arc")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("arc: interrupted\n")
        raise SystemExit(130) from None
    except Exception as exc:
        _internal_error(exc)
        raise SystemExit(EXIT_INTERNAL) from None
    raise SystemExit(EXIT_OK)
