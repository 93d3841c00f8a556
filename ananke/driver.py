"""The compile driver: read an input, compile and compose it, lower it for a target, emit
the grammar, and collect the diagnostics of it all in one :class:`Report`.

The ``arc`` command line, ``arc test``, the pytest plugin and the Python API
(:mod:`ananke`) all go through it, so that they agree on what a file means. It prints
nothing and never exits: rendering the report is the caller's business.

Only the standard library is imported with this module; the compiler stages are imported
by the functions that need them, so that ``arc --version`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ananke.ir import Diagnostic, Diagnostics, Lowered, Module, SourceFile

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_SERVICE",
    "EXIT_USAGE",
    "STDIN",
    "Compose",
    "Each",
    "Report",
    "UnknownSet",
    "compile_path",
    "compile_source",
    "compose",
    "each_target",
    "emit_texts",
    "is_stdin",
    "load",
    "lower",
    "no_sets",
    "read_stdin",
    "select",
    "shown",
    "skipped",
    "transpile",
    "with_sets",
]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_SERVICE = 4

STDIN = "<stdin>"
"""The name diagnostics give the input read from standard input (a path of ``-``)."""


class Report:
    """Diagnostics of one invocation, the sources they point into, and the exit status
    they decide (:attr:`exit_code`)."""

    def __init__(self, diags: Diagnostics | None = None) -> None:
        from ananke.ir import Diagnostics

        self.diags = diags if diags is not None else Diagnostics()
        self.sources: dict[str, SourceFile] = {}
        self.input_error = False
        """An input could not be read or decoded (exit 2 rather than 1)."""
        self.service_error = False
        """An inference service failed (exit 4)."""

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

    def attach_label_sources(self) -> None:
        """The text of every file a label points into (imported files, the standard
        library), so that a renderer can show the lines."""
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
        return self.input_error or self.service_error or self.diags.has_errors

    @property
    def exit_code(self) -> int:
        """2 when an input could not be read, 4 when an inference service failed, 1 when
        there are errors, else 0."""
        if self.input_error:
            return EXIT_USAGE
        if self.service_error:
            return EXIT_SERVICE
        return EXIT_FINDINGS if self.diags.has_errors else EXIT_OK


# --- reading inputs -----------------------------------------------------------------------


def is_stdin(path: Path) -> bool:
    return str(path) == "-"


def shown(path: Path) -> str:
    """How diagnostics and messages name an input."""
    return STDIN if is_stdin(path) else str(path)


def read_stdin(report: Report) -> bytes | None:
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


def decoded(name: str, data: bytes, report: Report) -> SourceFile | None:
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


def source_of(path: Path, report: Report) -> SourceFile | None:
    """The ``.ariadne`` text of ``path`` (standard input for ``-``); None (reported)
    when it cannot be read or decoded."""
    from ananke.ariadne import read_source

    if is_stdin(path):
        data = read_stdin(report)
        return None if data is None else decoded(STDIN, data, report)
    source = read_source(path, report.diags)
    if source is None:
        report.input_error = True
        _attach_undecodable(path, report)
        return None
    report.sources[source.name] = source
    return source


def _attach_undecodable(path: Path, report: Report) -> None:
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


# --- compiling and composing --------------------------------------------------------------


class Compose(NamedTuple):
    """Which composition passes run (None: all), the provenance precedence, and the one
    constraint set asked for (``-c NAME``; None: all of them)."""

    passes: tuple[str, ...] | None = None
    precedence: tuple[str, ...] | None = None
    only: str | None = None


def compile_path(path: Path, report: Report, how: Compose | None = None) -> Module | None:
    """An ``.ariadne`` file (standard input for ``-``) and its imports compiled, then
    composed (all passes unless ``how`` says otherwise); None when it has errors."""
    source = source_of(path, report)
    return None if source is None else compile_source(source, report, how)


def compile_source(source: SourceFile, report: Report, how: Compose | None = None) -> Module | None:
    """Ariadne ``source`` and its imports compiled, then composed."""
    from ananke.ariadne import compile_source as compile_ariadne
    from ananke.ir import DiagnosticError

    try:
        module = compile_ariadne(source, report.diags)
    except DiagnosticError as e:
        report.add(e.diagnostics)
        return None
    return compose(module, report, how or Compose())


def compose(module: Module | None, report: Report, how: Compose) -> Module | None:
    """``module`` through the composition passes. With ``how.only``, what concerns other
    sets fails nothing: their errors are reported as warnings, and the set asked for is
    composed from what it extends alone."""
    from ananke.ir import Diagnostics
    from ananke.ir.compose import PRECEDENCE, pass_names
    from ananke.ir.compose import compose as run_passes

    if module is None:
        return None
    precedence = how.precedence or PRECEDENCE
    every = Diagnostics()
    composed = run_passes(module, every, passes=how.passes, precedence=precedence)
    only = how.only
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
        rest = [p for p in how.passes or pass_names() if p != "inline-extends"]
        alone = run_passes(with_sets(inlined, (chosen,)), mine, passes=rest, precedence=precedence)
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
    return with_sets(module, tuple(s for s in module.sets if s.name in keep))


def with_sets(module: Module, sets: tuple[Any, ...]) -> Module:
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


def load(path: Path, report: Report, how: Compose | None = None) -> Module | None:
    """An ``.ariadne`` file compiled, or a ``.cir`` file decoded (standard input for
    ``-``: either, told apart by its first byte); composed either way."""
    from ananke.ir import cir

    how = how or Compose()
    if is_stdin(path):
        data = read_stdin(report)
        if data is None:
            return None
        if not _looks_like_cir(data[:4096]):
            source = decoded(STDIN, data, report)
            return None if source is None else compile_source(source, report, how)
        name = STDIN
    elif not _is_cir(path):
        return compile_path(path, report, how)
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
    return compose(module, report, how)


class UnknownSet(LookupError):
    """No constraint set of that name; the message names the sets there are."""


def select(module: Module, constraint: str | None) -> Module:
    """The module restricted to one constraint set (:class:`UnknownSet` if it has none
    of that name), or to the sets of the compiled file itself (not those its imports
    brought)."""
    from ananke.ir import quote

    if constraint is None:
        return with_sets(module, module.own_sets)
    chosen = module.get_set(constraint)
    if chosen is None:
        names = ", ".join(s.name for s in module.sets) or "(none)"
        raise UnknownSet(f"no constraint set named {quote(constraint)}; the input defines: {names}")
    return with_sets(module, (chosen,))


def no_sets(report: Report, name: str) -> None:
    """``no-constraint-set``: the input ``name`` defines nothing to emit."""
    from ananke.ir import Label, Span, quote

    report.diags.error(
        "no-constraint-set",
        f"{quote(name)} defines no constraint set, so there is nothing to emit",
        Label(span=Span.start_of(name)),
        help="add a `constraint NAME { ... }` block",
    )


# --- lowering and emitting ----------------------------------------------------------------


def lower(
    module: Module,
    target: str,
    report: Report,
    *,
    strict: bool = False,
    max_nesting: int | None = None,
) -> tuple[Lowered, ...] | None:
    """Every set of ``module`` lowered for ``target``; None when that fails."""
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


def emit_texts(lowered: Sequence[Lowered], target: str, report: Report) -> list[tuple[str, str]]:
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


Each = list[tuple[str, dict[str, "Lowered"]]]
"""Per target that can express at least one set: set name → its lowering."""


def each_target(
    module: Module, report: Report, *, strict: bool, max_nesting: int | None
) -> tuple[Each, dict[tuple[str, str], str]]:
    """Every constraint set lowered for every target (set name → lowered, per target),
    and why a target was skipped for a set ((target, set name) → reason). A set a target
    cannot express at all is skipped for it with a warning (``target-skipped``);
    demotions are reported as usual."""
    from ananke.backends import target_names

    out: Each = []
    skips: dict[tuple[str, str], str] = {}
    for target in target_names():
        done: dict[str, Lowered] = {}
        for cset in module.sets:
            sub = Report()
            lowered = lower(
                with_sets(module, (cset,)), target, sub, strict=strict, max_nesting=max_nesting
            )
            why = skipped(target, cset.name, sub, report)
            if why is not None:
                skips[(target, cset.name)] = why
            elif lowered is not None:
                done[cset.name] = lowered[0]
        if done:
            out.append((target, done))
    return out, skips


def skipped(target: str, set_name: str, sub: Report, report: Report) -> str | None:
    """Move ``sub``'s diagnostics into ``report``. When ``target`` failed for a reason
    other than a demotion under ``strict``, that becomes one ``target-skipped`` warning,
    and the reason is returned."""
    from ananke.ir import Diagnostics, quote

    errors = [d for d in sub.diags if d.severity == "error"]
    if errors and not any(d.code == "demoted-to-post" for d in errors):
        warning = Diagnostics()
        first = errors[0].message.removeprefix(
            f"{target} cannot express constraint set {quote(set_name)}: "
        )
        what = f"target `{target}` skipped" + (f" for {quote(set_name)}" if set_name else "")
        warning.warning(
            "target-skipped",
            f"{what}: {first}",
            *errors[0].labels,
            notes=tuple(dict.fromkeys(d.message for d in errors[1:] if d.message != first)),
            help=f"run `arc emit --target {target}` for the full diagnostics",
        )
        report.add(list(warning))
        return first
    report.add(list(sub.diags))
    return "it cannot be lowered without errors" if errors else None


def transpile(
    path: Path, dialect: str, target: str, report: Report, *, start: str | None = None
) -> str | None:
    """The grammar at ``path`` (standard input for ``-``), written in ``dialect``
    (``lark``, ``gbnf`` or ``ebnf``), printed for ``target``; None (reported) when it
    cannot be read, imported or expressed."""
    from ananke.ariadne import read_source
    from ananke.frontends.grammars import import_grammar
    from ananke.ir import DiagnosticError
    from ananke.pipeline import transpile_grammar

    source: SourceFile | None
    if is_stdin(path):
        data = read_stdin(report)
        source = None if data is None else decoded(STDIN, data, report)
    else:
        source = read_source(path, report.diags)
    if source is None:
        report.input_error = True
        return None
    report.sources[source.name] = source
    grammar = import_grammar(source, dialect, report.diags, start=start)  # type: ignore[arg-type]
    if grammar is None or report.failed:
        return None
    try:
        return transpile_grammar(grammar, target, report.diags)
    except DiagnosticError as e:
        report.add(e.diagnostics)
        return None
