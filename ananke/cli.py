"""The ``arc`` command line.

Exit codes: 0 clean (warnings allowed), 1 findings (errors in the constraints), 2 usage or
input errors (bad flags, unreadable or corrupt files, a broken configuration), 3 internal
error (a bug in arc), 4 an inference service failed (``arc generate``).

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
    "error (a bug in arc; please report it), 4 an inference service failed (generate).",
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


# --- generation -----------------------------------------------------------------------------

_BACKENDS = ("vllm", "vllm-inprocess", "sglang", "llamacpp", "openai", "local")
"""For --help and parsing (the registry in ``ananke.runtime.generators`` decides; a test
keeps them equal)."""

_GEN_EPILOG = (
    "Exit codes: 0 every constraint holds, 1 some constraint still fails after every "
    "attempt (or the output was cut at --max-tokens), 2 usage or input error, 3 internal "
    "error, 4 the inference service failed (unreachable, timed out, refused the grammar)."
)


def _load_module(file: Path, report: _Report) -> Module:
    from ananke import driver

    module = driver.load(file, report)
    if module is None or report.failed:
        report.exit()
    assert module is not None
    return module


def _cache(cache_dir: str | None) -> Any:
    from ananke.generation import default_cache_dir
    from ananke.runtime.cache import GrammarCache

    return GrammarCache(Path(cache_dir) if cache_dir else default_cache_dir())


def _compile_set(
    module: Module,
    constraint: str | None,
    target: str,
    report: _Report,
    cache: Any,
    max_nesting: int | None,
) -> Any:
    """:func:`ananke.generation.compile_set`; an unknown set is a usage error."""
    from ananke import driver
    from ananke.generation import compile_set

    try:
        return compile_set(module, constraint, target, report, cache, max_nesting=max_nesting)
    except driver.UnknownSet as e:
        raise click.UsageError(str(e)) from None


def _write_text(path: Path, text: str, report: _Report) -> bool:
    try:
        _write_atomic(path, text.encode("utf-8"))
    except OSError as e:
        report.io_error("unwritable-file", str(path), e)
        return False
    return True


def _no_key_on_argv(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--api-key`` exists only so that the settings file can give ``api-key``
    (``${VARIABLE}``): a key typed on the command line lands in shell histories and
    process lists."""
    if value is not None:
        raise click.BadParameter(
            "a key is never taken from the command line: set the backend's environment "
            "variable (OPENAI_API_KEY, VLLM_API_KEY, ...) or use --api-key-file",
            ctx=ctx,
            param=param,
        )


def _key(api_key: str | None, api_key_file: Path | None, report: _Report) -> str | None:
    """The key from the settings, or read from ``api_key_file``."""
    from ananke import config

    if api_key:
        return api_key
    if api_key_file is None:
        return None
    try:
        return config.read_key(api_key_file)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        if isinstance(e, UnicodeDecodeError):
            reason = "not UTF-8 text"
        report.io_error("unreadable-file", str(api_key_file), OSError(0, reason))
        report.exit()


def _show_failed(code: str, status: str) -> None:
    """The code of a failed result, on stderr, marked as such (stdout stays empty so that
    nothing downstream mistakes it for a verified result)."""
    bar = "-" * 20
    sys.stderr.write(f"{bar} code NOT verified ({status}) {bar}\n")
    sys.stderr.write(code if code.endswith("\n") or not code else code + "\n")
    sys.stderr.write(f"{bar} end of the code that was NOT verified {bar}\n")


@cli.command(epilog=_GEN_EPILOG)
@click.argument("intent", required=False)
@click.option(
    "--constraints",
    "constraints",
    required=True,
    type=click.Path(path_type=Path),
    help="The constraints: a .ariadne file, a .cir file, or an IR document in JSON.",
)
@click.option(
    "-c",
    "--constraint",
    metavar="NAME",
    help="The constraint set to use (needed when the file defines several).",
)
@click.option(
    "-b",
    "--backend",
    type=click.Choice(_BACKENDS),
    default="vllm",
    show_default=True,
    help="Where the code is generated: a vLLM server, vLLM in this process, an SGLang "
    "server, a llama.cpp server, OpenAI's API, or a model loaded here (local).",
)
@click.option(
    "--url",
    "--inference-url",
    "url",
    metavar="URL",
    help="The service's base URL (default: http://127.0.0.1:8000; openai: the SDK's).",
)
@click.option(
    "-m",
    "--model",
    metavar="M",
    help="The model: its name on the server (default: the server's only model), or "
    "for local and vllm-inprocess a folder or model name to load.",
)
@click.option(
    "--context",
    "context",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="A file to show the model (repeatable).",
)
@click.option(
    "-n",
    "count",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="How many independent results to generate for the intent.",
)
@click.option("--max-tokens", type=click.IntRange(1, 1_000_000), default=512, show_default=True)
@click.option("--temperature", type=click.FloatRange(0, 2), default=0.0, show_default=True)
@click.option(
    "--seed", type=click.IntRange(0), default=None, help="Sampling seed (attempt k uses SEED + k)."
)
@click.option(
    "--attempts",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Generations per intent when post checks fail (each retry is told what failed).",
)
@click.option(
    "--chat/--no-chat",
    default=False,
    show_default=True,
    help="Use the chat endpoint (system and user messages).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.001),
    default=600.0,
    show_default=True,
    help="Seconds one request may take in all.",
)
@click.option(
    "--batch",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help='A JSON Lines file of intents ({"intent": ..., "id": ...} or a '
    "string per line); -o names the results file.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Requests in flight at once (--batch, -n).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the code (--batch: the results) here, atomically, instead of stdout.",
)
@click.option(
    "--device",
    default=None,
    metavar="DEVICE",
    help="local and vllm-inprocess: where the model runs (cpu, cuda; default cpu for local).",
)
@click.option(
    "--api-key-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="FILE",
    help="A file holding the service's API key (default: the backend's environment "
    "variable, e.g. OPENAI_API_KEY or VLLM_API_KEY, else ANANKE_API_KEY).",
)
@click.option("--api-key", "api_key", hidden=True, default=None, callback=_no_key_on_argv)
@click.option(
    "--cache-dir",
    default=None,
    metavar="DIR",
    help="Where compiled grammars are cached (default ~/.cache/ananke/grammars).",
)
@click.option(
    "--max-nesting",
    type=click.IntRange(1, 64),
    default=None,
    metavar="N",
    help="Deepest block nesting the grammar accepts (default 16).",
)
@click.option(
    "--output-format",
    type=click.Choice(_FORMATS),
    default="full",
    show_default=True,
    help="full or short: the code on stdout, diagnostics on stderr; json: one JSON "
    "object per result on stdout.",
)
def generate(
    intent: str | None,
    constraints: Path,
    constraint: str | None,
    backend: str,
    url: str | None,
    model: str | None,
    context: tuple[Path, ...],
    count: int,
    max_tokens: int,
    temperature: float,
    seed: int | None,
    attempts: int,
    chat: bool,
    timeout: float,
    batch: Path | None,
    concurrency: int,
    output: Path | None,
    device: str | None,
    api_key_file: Path | None,
    api_key: str | None,
    cache_dir: str | Path | None,
    max_nesting: int | None,
    output_format: str,
) -> None:
    """Generate code for INTENT under the constraints, verify it, and print it.

    Every output is checked before it is shown: the grammar the service was sent (through
    a local engine) and every post check. When a post check fails, arc asks again with
    what failed, up to --attempts times. Code that fails is never printed as a result: it
    goes to stderr, marked, with the diagnostics.

    \b
    Examples:
      arc generate "return the user's id" --constraints examples/api_handler.ariadne
      arc generate "fetch a user" --constraints c.ariadne --url http://10.0.0.5:8000
      arc generate "parse the config" --constraints c.ariadne --backend local --model ./tiny
      arc generate --batch intents.jsonl -o results.jsonl --constraints c.cir
    """
    import asyncio

    from ananke.generation import GenerateOptions, target_of
    from ananke.runtime.prompt import ContextFile

    report = _report(output_format)
    if batch is None and intent is None:
        raise click.UsageError("give an INTENT, or --batch FILE")
    if batch is not None and intent is not None:
        raise click.UsageError("give an INTENT or --batch FILE, not both")
    if batch is not None and output is None:
        raise click.UsageError("--batch needs -o RESULTS.jsonl (the results file)")
    options = GenerateOptions(
        backend=backend,
        url=url,
        model=model,
        api_key=_key(api_key, api_key_file, report),
        chat=chat,
        max_tokens=max_tokens,
        temperature=temperature,
        seed=seed,
        attempts=attempts,
        concurrency=concurrency,
        timeout=timeout,
        cache_dir=None if cache_dir is None else str(cache_dir),
        max_nesting=max_nesting,
        device=device,
    )
    module = _load_module(constraints, report)
    files: list[ContextFile] = []
    for p in context:
        try:
            files.append(ContextFile(str(p), p.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as e:
            if isinstance(e, OSError):
                report.io_error("unreadable-file", str(p), e)
            else:
                report.io_error("unreadable-file", str(p), OSError(0, "not UTF-8 text"))
            report.exit()
    cache = _cache(options.cache_dir)
    compiled = _compile_set(module, constraint, target_of(backend), report, cache, max_nesting)
    if compiled is None:
        report.exit()
    assert compiled is not None
    try:
        if batch is not None:
            assert output is not None
            code = asyncio.run(
                _generate_batch(
                    batch, output, module, compiled, options, files, report, constraint, cache
                )
            )
        else:
            assert intent is not None
            code = asyncio.run(
                _generate_one(intent, module, compiled, options, files, count, output, report)
            )
    except KeyboardInterrupt:
        sys.stderr.write("arc: interrupted; nothing was written for unfinished requests\n")
        raise SystemExit(130) from None
    report.flush()
    raise SystemExit(code)


async def _generate_one(
    intent: str,
    module: Module,
    compiled: Any,
    options: Any,
    files: Sequence[Any],
    count: int,
    output: Path | None,
    report: _Report,
) -> int:
    import json

    from ananke.generation import result_diagnostics
    from ananke.ir import SourceFile
    from ananke.runtime.generators import create
    from ananke.runtime.maze import Maze, Settings

    gen = create(options.backend, options=options.service())
    run = Settings(options.max_tokens, options.temperature, options.seed, options.attempts)
    maze = Maze(gen)
    results: list[Any] = [None] * count
    try:
        jobs = [(intent, compiled)] * count
        if count == 1:
            results[0] = await maze.generate(intent, compiled, run, context=files)
        else:
            async for k, r in maze.generate_many(
                jobs, run, concurrency=options.concurrency, context=files
            ):
                results[k] = r
    finally:
        await gen.aclose()
    exit_code = 0
    for k, result in enumerate(results):
        name = _output_name(output, k, count) if output is not None else f"<generated {k + 1}>"
        if count == 1 and output is None:
            name = "<generated>"
        source = SourceFile(name, result.code)
        report.sources[name] = source
        for d in result_diagnostics(result, source, module, options.url):
            report.diags.add(d)
        if result.error is not None:
            report.service_error = True
        if not result.ok:
            exit_code = max(exit_code, 1)
        if report.fmt == "json":
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
            continue
        if not result.ok:
            if result.code:
                _show_failed(result.code, result.status)
            continue
        if output is not None:
            if not _write_text(Path(name), result.code, report):
                return 2
        else:
            if count > 1:
                click.echo(f"# --- result {k + 1} of {count} ---")
            click.echo(result.code, nl=not result.code.endswith("\n"))
    if report.service_error:
        return 4
    return exit_code


def _output_name(output: Path, k: int, count: int) -> str:
    if count == 1:
        return str(output)
    return str(output.with_name(f"{output.stem}-{k + 1}{output.suffix}"))


async def _generate_batch(
    batch: Path,
    output: Path,
    module: Module,
    default: Any,
    options: Any,
    files: Sequence[Any],
    report: _Report,
    constraint: str | None,
    cache: Any,
) -> int:
    import json

    from ananke import driver
    from ananke.generation import compile_set, intents_of, target_of
    from ananke.ir import Label, Span
    from ananke.runtime.generators import create
    from ananke.runtime.maze import Maze, Settings

    try:
        items = intents_of(batch.read_text(encoding="utf-8").splitlines())
    except OSError as e:
        report.io_error("unreadable-file", str(batch), e)
        return 2
    except (ValueError, UnicodeDecodeError) as e:
        report.diags.error(
            "invalid-batch", f"{_q(str(batch))}: {e}", Label(span=Span.start_of(str(batch)))
        )
        report.input_error = True
        return 2
    done = _finished(output)
    todo = [(ident, item) for ident, item in items if ident not in done]
    jobs = []
    for ident, item in todo:
        compiled = default
        if item.get("constraint") not in (None, constraint):
            try:
                compiled = compile_set(
                    module,
                    str(item["constraint"]),
                    target_of(options.backend),
                    report,
                    cache,
                    max_nesting=options.max_nesting,
                )
            except driver.UnknownSet as e:
                report.diags.error(
                    "invalid-batch",
                    f"{_q(str(batch))}, intent {_q(ident)}: {e}",
                    Label(span=Span.start_of(str(batch))),
                )
                report.input_error = True
                return 2
            if compiled is None:
                return report.exit_code
        jobs.append((ident, item["intent"], compiled))
    gen = create(options.backend, options=options.service())
    run = Settings(options.max_tokens, options.temperature, options.seed, options.attempts)
    failed = service = 0
    progress = _Progress(len(items), len(items) - len(todo))
    try:
        with output.open("a", encoding="utf-8") as out:
            async for k, result in Maze(gen).generate_many(
                [(intent, c) for _, intent, c in jobs],
                run,
                concurrency=options.concurrency,
                context=files,
            ):
                line = {"id": jobs[k][0], **result.to_json()}
                # One whole line per write: an interrupted run leaves whole lines only.
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                out.flush()
                failed += not result.ok
                service += result.error is not None
                progress.step(result.ok)
    except OSError as e:
        report.io_error("unwritable-file", str(output), e)
        return 2
    finally:
        progress.close()
        await gen.aclose()
    sys.stderr.write(
        f"{len(jobs)} generated ({len(items) - len(todo)} already in {output.name}), "
        f"{len(jobs) - failed} verified, {failed} not\n"
    )
    if service:
        return 4
    return 1 if failed else 0


def _finished(output: Path) -> set[str]:
    """The ids already in a results file; a last line cut short (an interrupted write) is
    removed so that the file stays JSON Lines."""
    import json

    try:
        data = output.read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    lines = data.split("\n")
    ids: set[str] = set()
    good: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        try:
            ids.add(str(json.loads(line)["id"]))
            good.append(line)
        except (ValueError, KeyError, TypeError):
            continue
    if len(good) != len([x for x in lines if x.strip()]):
        _write_atomic(output, "".join(x + "\n" for x in good).encode("utf-8"))
    return ids


class _Progress:
    """A one-line progress bar on stderr when it is a terminal."""

    def __init__(self, total: int, done: int) -> None:
        self.total, self.done, self.bad = total, done, 0
        self.live = sys.stderr.isatty()
        self._draw()

    def step(self, ok: bool) -> None:
        self.done += 1
        self.bad += not ok
        self._draw()

    def _draw(self) -> None:
        if not self.live or not self.total:
            return
        width = 30
        filled = width * self.done // self.total
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(f"\r[{bar}] {self.done}/{self.total} ({self.bad} not verified)")
        sys.stderr.flush()

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\n")


@cli.command(epilog=_EPILOG)
@click.argument("code_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--constraints",
    required=True,
    type=click.Path(path_type=Path),
    help="The constraints: a .ariadne file, a .cir file, or an IR document in JSON.",
)
@click.option(
    "-c",
    "--constraint",
    metavar="NAME",
    help="The constraint set to check against (needed when the file defines several).",
)
@click.option(
    "--max-nesting",
    type=click.IntRange(1, 64),
    default=None,
    metavar="N",
    help="Deepest block nesting the grammar accepts (default 16).",
)
@_output_format
def validate(
    code_file: Path,
    constraints: Path,
    constraint: str | None,
    max_nesting: int | None,
    output_format: str,
) -> None:
    """Check code a person or a tool wrote against the constraints.

    The grammar (llguidance's, the reference target) and every post check run on
    CODE_FILE (- for standard input); each violation is a diagnostic at its place in the
    code. Exits 0 when every constraint holds, 1 when one does not.

    \b
    Example:
      arc validate handler.py --constraints examples/api_handler.ariadne
    """
    from ananke import driver
    from ananke.generation import (
        constraint_spans,
        validate_code,
        verification_diagnostics,
    )

    report = _report(output_format)
    module = _load_module(constraints, report)
    if driver.is_stdin(code_file):
        data = driver.read_stdin(report)
        source = None if data is None else driver.decoded(driver.STDIN, data, report)
    else:
        source = driver.source_of(code_file, report)
    if source is None:
        report.exit()
    assert source is not None
    report.sources[source.name] = source
    compiled = _compile_set(module, constraint, "llguidance", report, _cache(None), max_nesting)
    if compiled is None:
        report.exit()
    assert compiled is not None
    verification = validate_code(source.text, compiled)
    for d in verification_diagnostics(verification, source, constraint_spans(module)):
        report.diags.add(d)
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
