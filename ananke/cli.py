"""The ``arc`` command line.

Exit codes: 0 clean (warnings allowed), 1 findings (errors in the constraints), 2 usage or
input errors (bad flags, unreadable or corrupt files, a broken configuration), 3 internal
error (a bug in arc).

This module parses options and renders; what the commands do to their inputs is
:mod:`ananke.driver`. Only ``click`` is imported with this module, so ``arc --version``
stays fast; the compiler stages are imported by the commands that need them.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ananke.ir.files import write_atomic as _write_atomic

from . import __version__
from ._files import ariadne_files as _ariadne_files
from ._files import is_dir as _is_dir

if TYPE_CHECKING:
    from ananke._terminal import TerminalReport as _Report
    from ananke.ir import Module

__all__ = ["cli", "main"]

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


def _report(fmt: str) -> _Report:
    """A report of this invocation, shown on stderr in the ``--output-format`` ``fmt``;
    it carries the configuration's warnings, if no report has shown them yet."""
    from ananke._terminal import TerminalReport

    report = TerminalReport(fmt)
    ctx = click.get_current_context(silent=True)
    pending = ctx.meta.pop(_CONFIG_WARNINGS, None) if ctx is not None else None
    if pending is not None:
        warnings, source = pending
        report.add(warnings)
        if source is not None:
            report.sources[source.name] = source
    return report


# --- settings -----------------------------------------------------------------------------


class _Command(click.Command):
    """A command whose options not given on the command line take the project's settings
    (:mod:`ananke.config`) before its defaults."""

    def invoke(self, ctx: click.Context) -> Any:
        _configure(ctx)
        try:
            return super().invoke(ctx)
        finally:
            # A command that made no report (a clean `arc test`) still shows them.
            if _CONFIG_WARNINGS in ctx.meta:
                _report(str(ctx.params.get("output_format") or "full")).flush()


_CONFIG_WARNINGS = "ananke.config.warnings"
"""``ctx.meta`` key: the configuration's warnings and its source, until a report shows them."""


class _Group(click.Group):
    command_class = _Command


def _configure(ctx: click.Context) -> None:
    from click.core import ParameterSource

    from ananke import config

    try:
        settings_file = config.load(Path.cwd())
        settings = settings_file.for_command(ctx.command.name or "")
    except config.ConfigError as e:
        report = _report(str(ctx.params.get("output_format") or "full"))
        report.diags.add(e.diagnostic)
        if e.source is not None:
            report.sources[e.source.name] = e.source
        report.input_error = True
        report.exit()
    if settings_file.warnings:
        ctx.meta[_CONFIG_WARNINGS] = (settings_file.warnings, settings_file.source)
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


def _select(module: Module, constraint: str | None) -> Module:
    """:func:`ananke.driver.select`; an unknown set is a usage error."""
    from ananke import driver

    try:
        return driver.select(module, constraint)
    except driver.UnknownSet as e:
        raise click.UsageError(str(e)) from None


def _no_sets(report: _Report, file: Path) -> NoReturn:
    from ananke import driver

    driver.no_sets(report, driver.shown(file))
    report.exit()


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


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    # click's version_option keeps the first program name it saw, for the whole process.
    if value and not ctx.resilient_parsing:
        click.echo(f"{ctx.find_root().info_name} {__version__}")
        ctx.exit()


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Exit codes: 0 clean (warnings allowed), 1 errors in the constraints, 2 usage or "
    "input error (bad flags, unreadable or corrupt files, a broken settings file), 3 internal "
    "error (a bug in arc; please report it).",
)
@click.option(
    "--version",
    "-V",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
def cli() -> None:
    """arc: compile Ariadne constraints into grammars that LLM inference engines enforce.

    Options not given on the command line come from the nearest ananke.toml,
    ananke.config.yaml (or [tool.ananke] in pyproject.toml) at or above the current folder:
    its top-level keys apply to every command with that option, a [COMMAND] section to that
    command (spec/ariadne.md, "Settings"). The same program is installed as `ananke`.

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
    from ananke import driver

    report = _report(output_format)
    for path in _inputs(files):
        driver.compile_path(path, report)
    report.exit()


def _inputs(paths: Sequence[Path]) -> list[Path]:
    """The files named, each folder replaced by the ``.ariadne`` files under it; standard
    input (``-``) at most once."""
    from ananke import driver

    if sum(driver.is_stdin(p) for p in paths) > 1:
        raise click.UsageError("`-` (standard input) can be read only once")
    out: list[Path] = []
    for path in paths:
        if not driver.is_stdin(path) and _is_dir(path):
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

    FILE may also be an IR document (a .cir file, or its JSON under any name, as
    `ananke compile constraints.json -o compiled.cir`): it is checked and composed again,
    and written in the --format asked for. Nothing is written when FILE has errors.

    \b
    Example:
      arc compile examples/api_handler.ariadne -o api_handler.cir --format msgpack
    """
    from ananke import driver
    from ananke.ir import cir

    report = _report(output_format)
    module = driver.load(file, report, driver.Compose(passes, precedence))
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
    from ananke import driver

    report = _report(output_format)
    module = driver.load(file, report, driver.Compose(precedence=precedence, only=constraint))
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
            f"{_q(driver.shown(file))} defines {len(module.sets)} constraint sets ({names}); "
            "choose one with --constraint NAME, or give -o a folder to write one file per set"
        )
    lowered = driver.lower(module, target, report, strict=strict, max_nesting=max_nesting)
    if lowered is None:
        report.exit()
    texts = driver.emit_texts(lowered, target, report)
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
    from ananke import driver
    from ananke.backends import get_backend

    each, _ = driver.each_target(module, report, strict=strict, max_nesting=max_nesting)
    for target, lowered in each:
        sub = driver.Report()
        texts = driver.emit_texts(list(lowered.values()), target, sub)
        if driver.skipped(target, "", sub, report) is not None:
            continue
        extension = get_backend(target).file_extension
        try:
            (folder / target).mkdir(parents=True, exist_ok=True)
            for name, text in texts:
                _write_atomic(folder / target / f"{name}{extension}", text.encode("utf-8"))
        except OSError as e:
            report.io_error("unwritable-file", str(folder / target), e)
            return


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
    from ananke import driver
    from ananke.frontends.grammars import dialect_for_path

    dialect = from_ or (None if driver.is_stdin(file) else dialect_for_path(str(file)))
    if dialect is None:
        raise click.UsageError(
            "standard input has no extension to tell its dialect: pass --from lark, gbnf or ebnf"
            if driver.is_stdin(file)
            else f"cannot tell the dialect of {_q(str(file))} from its extension: pass --from "
            "lark, gbnf or ebnf"
        )
    report = _report(output_format)
    text = driver.transpile(file, dialect, target, report, start=start)
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
    from ananke import driver, testing
    from ananke._terminal import use_color
    from ananke.backends import target_names
    from ananke.checks import CHECKS

    roots = paths or (Path("."),)
    for p in roots:
        if not os.path.exists(p):  # False, not an error, for a name too long
            raise click.UsageError(f"no such file or folder: {_q(str(p))}")
    chosen = _names_option(engines, tuple(c.engine for c in CHECKS), "engine")
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
        click.echo(testing.report_text(results, output_format, use_color(sys.stdout)), nl=False)
    if junit_xml is not None:
        try:
            _write_atomic(junit_xml, testing.report_junit(results))
        except OSError as e:
            report = _report(output_format)
            report.io_error("unwritable-file", str(junit_xml), e)
            report.exit()
    if any(r.unreadable for r in results):
        raise SystemExit(driver.EXIT_USAGE)
    raise SystemExit(driver.EXIT_OK if all(r.passed for r in results) else driver.EXIT_FINDINGS)


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
    from ananke import driver

    report = _report(output_format)
    module = driver.load(file, report, driver.Compose(precedence=precedence, only=constraint))
    if module is None or report.failed:
        report.exit()
    module = _select(module, constraint)
    if not module.sets:
        _no_sets(report, file)
    decisions = {s.name: s.resolutions for s in module.sets}
    names = [s.name for s in module.sets]
    if target == "all":
        each, skipped = driver.each_target(module, report, strict=strict, max_nesting=max_nesting)
    else:
        lowered = driver.lower(module, target, report, strict=strict, max_nesting=max_nesting)
        if lowered is None:
            report.exit()
        each, skipped = [(target, {low.set_name: low for low in lowered})], {}
    if report.failed:
        report.exit()
    from ananke._explain import explain_json, explain_matrix, explain_table

    if output_format == "json":
        text = explain_json(driver.shown(file), names, each, skipped, decisions)
    elif target == "all":
        text = explain_matrix(names, each, decisions)
    else:
        text = explain_table(list(each[0][1].values()), decisions)
    click.echo(text, nl=False)
    report.exit()


def _program() -> str:
    """The name the program was invoked by: ``ananke`` (the plan's name) or ``arc``."""
    return "ananke" if Path(sys.argv[0]).stem == "ananke" else "arc"


def _internal_error(exc: BaseException, prog: str) -> None:
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    lines = [_BUG, f"  {type(exc).__name__}: {exc}"]
    lines += [f"    at {Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames]
    lines.append(f"  {prog} {__version__}, Python {sys.version.split()[0]}")
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the ``arc`` and ``ananke`` scripts: run the CLI; exit 3 on an
    unexpected exception."""
    # The driver is imported by the commands, not here: `arc --version` needs none of it.
    prog = _program()
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name=prog)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted\n")
        raise SystemExit(130) from None
    except Exception as exc:
        from ananke.driver import EXIT_INTERNAL

        _internal_error(exc, prog)
        raise SystemExit(EXIT_INTERNAL) from None
    from ananke.driver import EXIT_OK

    raise SystemExit(EXIT_OK)
