"""``arc test``: run the examples written in ``.ariadne`` files, and compare golden files.

For every ``.ariadne`` file: compile and compose it, then for each constraint set of the
file that has examples, check every example

* against the grammar each engine reads for its target (``llguidance-lark`` always; the
  GBNF target through llguidance's converter; XGrammar, outlines-core and the others when
  their packages are installed; see :data:`CHECKS`), and
* against the post checks (:func:`ananke.languages.validate.check`), which run after
  generation whatever the engine.

An ``accept`` example passes when every engine's grammar accepts it and no post check
rejects it. A ``reject`` example passes when, for every engine, the grammar or a post check
rejects it, and (with ``by``) when what rejects it is the expected property: the rejection
explainer (:mod:`ananke.engines.rejection`) names the constraint behind a grammar rejection;
a post check names its own.

Golden artifacts live in a folder beside the file, ``NAME.golden/`` for ``NAME.ariadne``:
``ir.txt`` (the composed IR of the file's own sets, in the text form),
``explain.TARGET.txt`` (the ``arc explain`` table) and ``SET.TARGET.EXT`` (the emitted
grammar) for each configured target. They are compared when the folder exists;
``update=True`` writes them (and removes files of the folder that no longer belong).
They hold what ``arc`` shows when run from the ``.ariadne`` file's folder (file names in
spans relative to it), so that ``arc test`` gives the same result from any folder.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec

from ananke.checks import CHECKS, REFERENCE, Check
from ananke.config import ConfigError
from ananke.ir import Diagnostics, Example, Label, Lowered, Module, SourceFile, Span
from ananke.ir.constraint import ConstraintSet, property_of
from ananke.ir.diagnostics import Diagnostic
from ananke.languages.validate import Violation

if TYPE_CHECKING:
    from ananke.engines.membership import Compiled
    from ananke.engines.rejection import Rejection

__all__ = [
    "CHECKS",
    "REFERENCE",
    "Check",
    "Config",
    "ConfigError",
    "ExampleResult",
    "FileResult",
    "Golden",
    "example_name",
    "examples_of",
    "failure_diagnostic",
    "find_files",
    "golden_folder",
    "grammar_text",
    "ir_text",
    "load",
    "load_config",
    "report_json",
    "report_junit",
    "report_text",
    "run_file",
    "run_paths",
    "summary",
]


@dataclass(frozen=True)
class Config:
    """What ``arc test`` runs: from the command line, else the project's settings
    (``[test]`` in ``ananke.toml``, ``[tool.ananke.test]`` in ``pyproject.toml``, or
    their top-level keys; see :mod:`ananke.config`)."""

    targets: tuple[str, ...] = ("llguidance",)
    """Targets whose emitted grammar and explain table are golden artifacts."""
    engines: tuple[str, ...] | None = None
    """Engines to run (None: every installed one, see :data:`CHECKS`)."""
    max_nesting: int | None = None


def load_config(start: Path) -> Config:
    """The ``arc test`` settings of the project that ``start`` (a folder) is in;
    :class:`ConfigError` when its configuration file is broken."""
    from ananke.config import load

    values = load(start).for_command("test")
    targets = values.get("targets")
    engines = values.get("engines")
    nesting = values.get("max_nesting")
    return Config(
        targets=tuple(targets) if isinstance(targets, tuple) and targets else Config.targets,
        engines=tuple(engines) if isinstance(engines, tuple) else None,
        max_nesting=nesting if isinstance(nesting, int) else None,
    )


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleResult:
    """One example checked by one engine (and the post checks)."""

    file: str
    set_name: str
    index: int
    """1-based, in the order the set's examples are written."""
    example: Example
    engine: str
    passed: bool
    grammar_accepts: bool
    violations: tuple[Violation, ...]
    message: str
    """Why it failed, or how it was decided when it passed."""
    rejected_by: tuple[str, ...] = ()
    """Constraint ids that reject it (``syntax`` when the language does)."""
    position: tuple[int, int] | None = None
    """1-based (line, column) in the example's text of the first byte the grammar cannot
    take; None when the grammar accepts it."""
    culprit: tuple[int, int, int] | None = None
    """(line, column, length) in the example's text of what the explainer blames."""

    @property
    def name(self) -> str:
        return example_name(self.set_name, self.index, self.example)


def example_name(set_name: str, index: int, example: Example) -> str:
    """How reports name an example: ``api_handler example 2 (reject by forbid.eval)``."""
    verdict = "accept" if example.accept else "reject"
    by = f" by {example.by}" if example.by else ""
    return f"{set_name} example {index} ({verdict}{by})"


@dataclass(frozen=True)
class Golden:
    """One golden artifact compared (or written)."""

    path: str
    status: Literal["same", "differs", "missing", "obsolete", "written", "removed"]
    diff: str = ""

    @property
    def passed(self) -> bool:
        return self.status in ("same", "written", "removed")


@dataclass
class FileResult:
    path: str
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    examples: list[ExampleResult] = field(default_factory=list)
    goldens: list[Golden] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Check label (``engine on set``) → why it did not run."""
    sources: dict[str, SourceFile] = field(default_factory=dict)
    unreadable: bool = False
    """The file itself could not be read (an input error, not a finding)."""

    @property
    def passed(self) -> bool:
        return (
            not self.diagnostics.has_errors
            and all(r.passed for r in self.examples)
            and all(g.passed for g in self.goldens)
        )


# --- running ------------------------------------------------------------------------------


def find_files(paths: Iterable[Path]) -> Iterator[Path]:
    """``.ariadne`` files: each path given, and those under each folder (sorted, hidden
    folders skipped)."""
    from ananke._files import ariadne_files

    return ariadne_files(paths)


def run_paths(
    files: Sequence[Path], config: Config, *, update: bool = False, jobs: int = 1
) -> list[FileResult]:
    """:func:`run_file` for each file, in order; ``jobs`` processes share the files.

    Workers are forked where the platform allows it (they start with the modules already
    imported), else spawned; call it before this process has run an engine, whose threads a
    fork would not carry. Files are independent: each worker compiles and checks its own,
    with its own grammar caches."""
    jobs = max(1, min(jobs, len(files)))
    if jobs == 1:
        return [run_file(f, config, update=update) for f in files]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    work = functools.partial(run_file, config=config, update=update)
    chunk = max(1, len(files) // (jobs * 4))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        return list(pool.map(work, files, chunksize=chunk))


def _checks(config: Config, cset: ConstraintSet) -> tuple[list[Check], dict[str, str]]:
    """The checks to run for ``cset``, and the others with why they do not run."""
    from ananke.engines.membership import get_engine

    run: list[Check] = []
    skipped: dict[str, str] = {}
    python = cset.language == "python" and not any(
        property_of(c) == "grammar" for c in cset.constraints
    )
    for check in CHECKS:
        if check.target == "json-schema" and cset.language != "json":
            continue
        if config.engines is not None:
            if check is not REFERENCE and check.engine not in config.engines:
                continue
        elif python and not check.python:
            skipped[check.engine] = (
                "the lark package takes about 25 s to build a Python function grammar; "
                "ask for it with --engine lark"
            )
            continue
        if not get_engine(check.engine).available():
            skipped[check.engine] = f"not installed (package {get_engine(check.engine).package})"
            continue
        run.append(check)
    return run, skipped


class _Lowerings:
    """Each (set, target) lowered once; a target that cannot express a set says why."""

    def __init__(self, module: Module, max_nesting: int | None) -> None:
        self.module = module
        self.max_nesting = max_nesting
        self.done: dict[tuple[str, str], Lowered | str] = {}
        self.errors: dict[tuple[str, str], list[Diagnostic]] = {}
        """The error diagnostics of each lowering that failed."""

    def get(self, cset: ConstraintSet, target: str) -> Lowered | str:
        key = (cset.name, target)
        if key not in self.done:
            from ananke import driver

            report = driver.Report()
            one = driver.with_sets(self.module, (cset,))
            lowered = driver.lower(one, target, report, max_nesting=self.max_nesting)
            errors = [d for d in report.diags if d.severity == "error"]
            self.errors[key] = errors
            self.done[key] = (
                lowered[0]
                if lowered and not errors
                else (errors[0].message if errors else f"{target} cannot lower it")
            )
        return self.done[key]


_COMPILED: dict[tuple[str, str], Compiled | Exception] = {}


def _compiled(engine: str, text: str) -> Compiled:
    """The grammar compiled by ``engine``, cached by its text for the process (an
    :class:`EngineError` is cached and raised again)."""
    from ananke.engines.membership import EngineError, get_engine

    key = (engine, text)
    if key not in _COMPILED:
        try:
            _COMPILED[key] = get_engine(engine).compile(text)
        except EngineError as e:
            _COMPILED[key] = e
        if len(_COMPILED) > 512:
            _COMPILED.pop(next(iter(_COMPILED)))
    found = _COMPILED[key]
    if isinstance(found, Exception):
        raise found
    return found


def load(path: Path, diags: Diagnostics) -> tuple[SourceFile | None, Module | None]:
    """``path`` read, compiled and composed as ``arc`` does: its source (None when it
    cannot be read) and module (None when it has errors, all in ``diags``)."""
    from ananke import driver

    report = driver.Report(diags)
    source = driver.source_of(path, report)
    if source is None:
        return None, None
    return source, driver.compile_source(source, report)


def examples_of(cset: ConstraintSet, file: str) -> list[tuple[int, Example]]:
    """The examples of ``cset`` written in ``file`` (an imported set's examples belong to
    its own file), each with its 1-based index among the set's examples."""
    return [(i, e) for i, e in enumerate(cset.examples, 1) if e.span.file == file]


def run_file(path: Path, config: Config, *, update: bool = False) -> FileResult:
    """Compile ``path``, check its examples and its golden artifacts."""
    result = FileResult(str(path))
    source, module = load(path, result.diagnostics)
    if source is None:
        result.unreadable = True
        return result
    result.sources[source.name] = source
    if module is None:
        return result
    lowerings = _Lowerings(module, config.max_nesting)
    for cset in module.sets:
        mine = examples_of(cset, source.name)
        if mine:
            _run_set(result, module, cset, mine, config, lowerings)
    _goldens(result, path, module, config, lowerings, update)
    return result


def _from_its_folder(path: Path, module: Module) -> Module | None:
    """``module`` (``path`` compiled) as compiled from ``path``'s folder: the file names
    in its spans, and in what composition decided, are then relative to that folder.
    None when it does not compile from there (it does from here: not expected)."""
    if not path.is_absolute() and str(path.parent) in ("", "."):
        return module
    here = os.getcwd()
    try:
        os.chdir(path.parent)
        _, again = load(Path(path.name), Diagnostics())
    except OSError:
        return None
    finally:
        os.chdir(here)
    return again


def _run_set(
    result: FileResult,
    module: Module,
    cset: ConstraintSet,
    examples: Sequence[tuple[int, Example]],
    config: Config,
    lowerings: _Lowerings,
) -> None:
    from ananke.engines.membership import EngineError, LlguidanceCompiled
    from ananke.engines.rejection import explain_rejection, unexplained
    from ananke.languages.validate import check as post_check
    from ananke.pipeline import emit

    checks, skipped = _checks(config, cset)
    for engine, why in skipped.items():
        result.skipped[f"{engine} on {cset.name}"] = why
    grammars: dict[Check, Compiled | Exception] = {}
    for c in checks:
        lowered = lowerings.get(cset, c.target)
        if isinstance(lowered, str):
            result.skipped[f"{c.engine} on {cset.name}"] = lowered
            continue
        text = emit(lowered, c.target)
        if c.target == "regex":  # the file holds the pattern and a newline
            text = text.removesuffix("\n")
        try:
            grammars[c] = _compiled(c.engine, text)
        except EngineError as e:
            grammars[c] = e
    reference = lowerings.get(cset, REFERENCE.target)
    if isinstance(reference, str):  # the reference cannot lower it: nothing was checked
        result.diagnostics.extend(lowerings.errors[(cset.name, REFERENCE.target)])
        return
    checker = grammars.get(REFERENCE)
    for index, example in examples:
        violations = tuple(post_check(example.text, cset).violations)
        verdict = rejection = None
        named = False
        if isinstance(checker, LlguidanceCompiled):
            verdict = checker.check(example.text)
            if not verdict.accepted:
                explain = functools.partial(
                    explain_rejection,
                    example.text,
                    cset,
                    reference,
                    verdict,
                    schemas=module.schemas,
                    max_nesting=config.max_nesting,
                    violations=violations,
                )
                # Asking why costs grammars: only when the verdict depends on it (a `by`
                # that no post check names), or for a failure's report (below, with the
                # grammar rule too).
                needs_cause = example.by is not None and not any(
                    _matches(example.by, v.constraint_id, cset) for v in violations
                )
                rejection = (
                    explain(name_rule=False) if needs_cause else unexplained(example.text, verdict)
                )
        for c, compiled in grammars.items():
            if isinstance(compiled, Exception):
                passed, accepts, message = (
                    False,
                    False,
                    f"{c.engine} refuses the grammar: {_one_line(str(compiled))}",
                )
                by: tuple[str, ...] = ()
            else:
                if c is REFERENCE and verdict is not None:
                    accepts = verdict.accepted
                else:
                    accepts = compiled.accepts(example.text)
                passed, message, by = _judge(cset, example, c, accepts, violations, rejection)
                if not passed and rejection is not None and not named:
                    rejection, named = explain(name_rule=True), True
                    passed, message, by = _judge(cset, example, c, accepts, violations, rejection)
            shown = rejection if rejection is not None and not accepts else None
            result.examples.append(
                ExampleResult(
                    file=result.path,
                    set_name=cset.name,
                    index=index,
                    example=example,
                    engine=c.engine,
                    passed=passed,
                    grammar_accepts=accepts,
                    violations=violations,
                    message=message,
                    rejected_by=by,
                    position=(shown.line, shown.column) if shown else None,
                    culprit=(
                        (shown.culprit_line, shown.culprit_column, len(shown.culprit))
                        if shown and shown.culprit
                        else None
                    ),
                )
            )


def _post_text(violations: Sequence[Violation]) -> str:
    return "; ".join(f"{v.constraint_id}: {v.message} at {v.line}:{v.column}" for v in violations)


def _matches(expected: str, constraint_id: str, cset: ConstraintSet) -> bool:
    """Whether ``constraint_id`` is what ``by expected`` names (``syntax`` included)."""
    if constraint_id in ("syntax", f"{cset.name}.syntax"):
        return expected == "syntax"
    c = cset.get(constraint_id)
    if c is None:
        return False
    head, _, item = expected.partition(".")
    return property_of(c) == head and (not item or constraint_id.endswith(f".{head}.{item}"))


def _judge(
    cset: ConstraintSet,
    example: Example,
    check: Check,
    accepts: bool,
    violations: tuple[Violation, ...],
    rejection: Rejection | None,
) -> tuple[bool, str, tuple[str, ...]]:
    """Whether one engine's outcome is what the example expects: (passed, how it went or
    why it failed, what rejects it)."""
    undecided = [v for v in violations if v.undecided]
    if undecided:  # neither outcome is known: whatever the example expects, it fails
        by = tuple(dict.fromkeys(v.constraint_id for v in violations if not v.undecided))
        why = "; ".join(f"{v.constraint_id}: {v.message}" for v in undecided)
        return False, f"the post checks cannot decide it: {why}", by
    if accepts:
        by = tuple(dict.fromkeys(v.constraint_id for v in violations))
        how = "the grammar accepts it"
        if violations:
            how += f", the post checks reject it ({_post_text(violations)})"
        if rejection is not None:  # another engine than the reference
            how += f" ({REFERENCE.engine}'s grammar rejects it: {rejection.message})"
    elif rejection is not None:
        # What rejects it: the grammar's cause (when it was asked), and every post check
        # it breaks too.
        causes = (rejection.constraint_ids or ("syntax",)) if rejection.explained else ()
        by = tuple(dict.fromkeys([*causes, *(v.constraint_id for v in violations)]))
        how = f"the grammar rejects it: {rejection.message}"
    else:
        by = tuple(dict.fromkeys(v.constraint_id for v in violations))
        how = f"{check.engine}'s grammar rejects it, where {REFERENCE.engine}'s accepts it"
    if example.accept:
        passed = accepts and not violations
        return passed, "accepted" if passed else how, by
    if example.by not in (None, "syntax") and not any(
        _matches(example.by, c.id, cset) for c in cset.constraints
    ):
        return False, f"no constraint of {cset.name} is {example.by}: nothing can reject it", by
    if accepts and not violations:
        return False, "accepted by the grammar and the post checks", ()
    if example.by is not None and not any(_matches(example.by, r, cset) for r in by):
        syntax = by and all(_matches("syntax", r, cset) for r in by)
        got = "syntax" if syntax else ", ".join(by) or "an unexplained rejection"
        return False, f"rejected by {got}, not by {example.by}: {how}", by
    return True, how, by


# --- golden artifacts ---------------------------------------------------------------------


def golden_folder(path: Path) -> Path:
    return path.with_name(path.stem + ".golden")


def _artifacts(
    module: Module, config: Config, lowerings: _Lowerings, result: FileResult
) -> dict[str, str]:
    """File name in the golden folder → expected content."""
    from ananke._explain import explain_table
    from ananke.backends import get_backend

    out = {"ir.txt": ir_text(module)}
    decisions = {s.name: s.resolutions for s in module.own_sets}
    for target in config.targets:
        lowered: list[Lowered] = []
        for cset in module.own_sets:
            low = lowerings.get(cset, target)
            if isinstance(low, str):
                result.skipped[f"golden {target} for {cset.name}"] = low
                continue
            lowered.append(low)
            ext = get_backend(target).file_extension
            out[f"{cset.name}.{target}{ext}"] = grammar_text(low)
        out[f"explain.{target}.txt"] = explain_table(lowered, decisions)
    return out


def ir_text(module: Module) -> str:
    """The IR text form of the sets of the compiled file itself (not those it imports)."""
    from ananke.ir.text import to_text

    return to_text(msgspec.structs.replace(module, sets=module.own_sets))


def grammar_text(lowered: Lowered) -> str:
    """The grammar printed for ``lowered``'s target, ending with a line break."""
    from ananke.pipeline import emit

    text = emit(lowered, lowered.target)
    return text if text.endswith("\n") else text + "\n"


def _goldens(
    result: FileResult,
    path: Path,
    module: Module,
    config: Config,
    lowerings: _Lowerings,
    update: bool,
) -> None:
    folder = golden_folder(path)
    if not update and not folder.is_dir():
        return
    relative = _from_its_folder(path, module)
    if relative is None:
        result.skipped[f"golden files of {path}"] = "it does not compile from its own folder"
        return
    expected = _artifacts(relative, config, lowerings, result)
    try:
        present = {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()
        for name, text in expected.items():
            _golden(result, folder / name, text, name in present, update)
        for name in sorted(present - set(expected)):
            target = folder / name
            if update:
                target.unlink()
                result.goldens.append(Golden(target.as_posix(), "removed"))
            else:
                result.goldens.append(Golden(target.as_posix(), "obsolete"))
    except OSError as e:
        where = e.filename or folder
        span = Span.start_of(str(where))
        what = "write" if update else "read"
        result.unreadable = True
        result.diagnostics.error(
            "unwritable-file" if update else "unreadable-file",
            f"cannot {what} golden file `{where}`: {e.strerror or type(e).__name__}",
            Label(span=span),
            help="check the path and its permissions",
        )


def _golden(result: FileResult, target: Path, text: str, present: bool, update: bool) -> None:
    """Compare (or write) one golden file."""
    from ananke.ir.files import write_atomic

    shown = target.as_posix()
    try:
        old = target.read_text(encoding="utf-8") if present else None
    except UnicodeDecodeError:
        old = ""  # not text: it differs from any artifact
    if old == text:
        result.goldens.append(Golden(shown, "same"))
    elif update:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text.encode("utf-8"))
        result.goldens.append(Golden(shown, "written"))
    elif old is None:
        result.goldens.append(Golden(shown, "missing"))
    else:
        diff = "".join(
            line if line.endswith("\n") else line + "\n"
            for line in difflib.unified_diff(
                old.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"{shown} (checked in)",
                tofile=f"{shown} (compiled now)",
            )
        )
        result.goldens.append(Golden(shown, "differs", diff or "(not UTF-8 text)\n"))


# --- reporting ----------------------------------------------------------------------------


def failure_diagnostic(
    r: ExampleResult, sources: dict[str, SourceFile], engines: Sequence[str] = ()
) -> Diagnostic:
    """A failed example as a diagnostic pointing into its text: the first byte the grammar
    cannot take, and what the explainer blames; ``engines`` are all that failed alike."""
    e = r.example
    labels: list[Label] = []
    src = sources.get(e.at.file)
    if src is None and e.at.file != e.span.file:
        src = sources[e.at.file] = SourceFile(e.at.file, e.text)
    if src is not None and e.mapped and r.position is not None:
        if r.culprit is not None and r.culprit[:2] != r.position:
            line, column = e.where(*r.culprit[:2])
            span = _span_at(src, line, column, r.culprit[2])
            if span is not None:
                labels.append(Label(span=span, message="rejected for this", primary=False))
        span = _span_at(src, *e.where(*r.position))
        if span is not None:
            labels.insert(0, Label(span=span, message="the grammar takes no more from here"))
    if not labels:
        labels.append(Label(span=e.span))
    code = (
        "example-undecided"
        if any(v.undecided for v in r.violations)
        else "example-rejected"
        if e.accept
        else "example-accepted"
        if not r.rejected_by
        else "example-wrong-rejection"
    )
    notes = [f"engines: {', '.join(engines or (r.engine,))}"]
    if r.position is not None:
        notes.append(f"at {r.position[0]}:{r.position[1]} of the example's text")
    return Diagnostic(
        code=code,
        severity="error",
        message=f"{r.name}: {r.message}",
        labels=tuple(labels),
        notes=tuple(notes),
    )


def _one_line(text: str, limit: int = 300) -> str:
    """An engine's complaint as one diagnostic line (engines quote whole grammars)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    half = (limit - 5) // 2
    return f"{line[:half]} ... {line[-half:]}"


def _span_at(source: SourceFile, line: int, column: int, length: int = 1) -> Span | None:
    offset = source.offset(line, column)
    return None if offset is None else source.span(offset, offset + max(length, 1))


def summary(results: Sequence[FileResult]) -> str:
    """One line: ``PASSED`` or ``FAILED``, what failed first (files with errors, golden
    files that do not match and how many ``.ariadne`` files they belong to), then what
    passed and over what."""
    examples = [r for f in results for r in f.examples]
    goldens = [g for f in results for g in f.goldens]
    broken = sum(f.diagnostics.has_errors for f in results)
    mismatched = sum(any(not g.passed for g in f.goldens) for f in results)
    failed = sum(not r.passed for r in examples)
    engines = list(dict.fromkeys(r.engine for r in examples))
    count = len({(r.file, r.set_name, r.index) for r in examples})
    parts = []
    if broken:
        parts.append(f"{_files(broken)} with errors")
    if mismatched:
        bad = sum(not g.passed for g in goldens)
        parts.append(
            f"{bad} golden file{'s' if bad != 1 else ''} mismatched in {_files(mismatched)}"
        )
    scope = f"{count} example" + ("s" if count != 1 else "") + f" in {_files(len(results))}"
    if engines:
        scope += f"; engines {', '.join(engines)}"
    tally = f"{failed} failed, {len(examples) - failed} passed" if examples else "no examples"
    parts.append(f"{tally} ({scope})")
    if goldens:
        counts: dict[str, int] = {}
        for g in goldens:
            counts[g.status] = counts.get(g.status, 0) + 1
        parts.append("golden files: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    ok = not failed and not broken and not mismatched
    return ("PASSED " if ok else "FAILED ") + "; ".join(parts)


def _files(n: int) -> str:
    return f"{n} file" + ("s" if n != 1 else "")


def report_text(results: Sequence[FileResult], fmt: str, color: bool = False) -> str:
    """The summary line, then every failure: compile errors, failed examples (with where
    the grammar stops), golden files that differ (a unified diff); skipped engines last."""
    from ananke.ir.render import render

    lines = [summary(results)]
    for f in results:
        diags: list[Diagnostic] = list(f.diagnostics)
        alike: dict[tuple[str, int, str], list[ExampleResult]] = {}
        for r in f.examples:
            if not r.passed:
                alike.setdefault((r.set_name, r.index, r.message), []).append(r)
        for group in alike.values():
            diags.append(failure_diagnostic(group[0], f.sources, [r.engine for r in group]))
        for g in f.goldens:
            if not g.passed:
                diags.append(_golden_diagnostic(g))
        if diags:
            lines.append("")
            lines.append(render(diags, f.sources, fmt, color).rstrip("\n"))  # type: ignore[arg-type]
        for g in f.goldens:
            if g.diff and fmt == "full":
                lines.append(g.diff.rstrip("\n"))
    skipped = {k: v for f in results for k, v in f.skipped.items()}
    if skipped:
        lines.append("")
        lines.extend(f"skipped: {k}: {v}" for k, v in skipped.items())
    return "\n".join(lines) + "\n"


def _golden_diagnostic(g: Golden) -> Diagnostic:
    message = {
        "differs": f"golden file `{g.path}` differs from what the file compiles to now",
        "missing": f"golden file `{g.path}` is missing",
        "obsolete": f"golden file `{g.path}` belongs to nothing the file compiles to",
    }[g.status]
    return Diagnostic(
        code="golden-mismatch",
        severity="error",
        message=message,
        labels=(Label(span=Span.start_of(g.path)),),
        help="review the change, then run `arc test --update` to accept it",
    )


def report_json(results: Sequence[FileResult]) -> str:
    """The whole run as one JSON document (``arc test --output-format json``)."""
    import json

    def example(r: ExampleResult) -> dict[str, object]:
        return {
            "set": r.set_name,
            "index": r.index,
            "expect": "accept" if r.example.accept else "reject",
            "by": r.example.by,
            "engine": r.engine,
            "passed": r.passed,
            "grammar_accepts": r.grammar_accepts,
            "rejected_by": list(r.rejected_by),
            "position": list(r.position) if r.position else None,
            "message": r.message,
            "violations": [
                {
                    "constraint": v.constraint_id,
                    "message": v.message,
                    "line": v.line,
                    "column": v.column,
                    "undecided": v.undecided,
                }
                for v in r.violations
            ],
            "at": {
                "file": r.example.span.file,
                "line": r.example.span.line,
                "column": r.example.span.column,
            },
        }

    doc = {
        "summary": summary(results),
        "passed": all(f.passed for f in results),
        "files": [
            {
                "path": f.path,
                "passed": f.passed,
                "diagnostics": [msgspec.to_builtins(d) for d in f.diagnostics],
                "examples": [example(r) for r in f.examples],
                "golden": [{"path": g.path, "status": g.status, "diff": g.diff} for g in f.goldens],
                "skipped": f.skipped,
            }
            for f in results
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (shown as ``\\xNN``)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def report_junit(results: Sequence[FileResult]) -> bytes:
    """JUnit XML: one test case per example and engine, per golden file, and per file that
    does not compile."""
    import xml.etree.ElementTree as ET

    suite = ET.Element("testsuite", name="arc test")
    tests = failures = 0
    for f in results:
        cases: list[tuple[str, str, str | None, str]] = []
        if f.diagnostics.has_errors:
            first = next(d for d in f.diagnostics if d.severity == "error")
            cases.append(("compile", f.path, f"{first.code}: {first.message}", ""))
        for r in f.examples:
            detail = "" if r.passed else r.message
            cases.append(
                (f"{r.name} [{r.engine}]", f.path, None if r.passed else r.message, detail)
            )
        for g in f.goldens:
            cases.append((f"golden {g.path}", f.path, None if g.passed else g.status, g.diff))
        for name, classname, failure, detail in cases:
            case = ET.SubElement(suite, "testcase", classname=_xml(classname), name=_xml(name))
            tests += 1
            if failure is not None:
                failures += 1
                element = ET.SubElement(case, "failure", message=_xml(failure))
                element.text = _xml(detail or failure)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    data: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
