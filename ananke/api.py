"""The Python API, imported as :mod:`ananke` (``from ananke import load, emit``); see
spec/api.md.

Each function does what the ``arc`` command of the same name does, through the same
driver (:mod:`ananke.driver`), so that its results are those ``arc`` prints. Errors in
the input raise :class:`~ananke.ir.DiagnosticError` carrying every diagnostic of the
call; a value that is not an input (an unknown target, a constraint set the module does
not have) raises :class:`ValueError`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import ananke.driver as driver

if TYPE_CHECKING:
    from ananke.ir import Diagnostics, Lowered, Module
    from ananke.languages.validate import Violation

__all__ = ["check", "compile", "emit", "explain", "load", "lower", "validate"]

_SOURCE_NAME = "<string>"


def _done(report: driver.Report, sink: Diagnostics | None) -> None:
    """The call's diagnostics added to ``sink``; then :class:`DiagnosticError` with them
    when the call failed, its message their one-line form (file, line and column)."""
    from ananke.ir import DiagnosticError
    from ananke.ir.render import render

    if sink is not None:
        sink.extend(report.diags)
    if not report.failed:
        return
    error = DiagnosticError(report.diags)
    report.attach_label_sources()
    unique = list(dict.fromkeys(report.diags))
    error.args = (render(unique, report.sources, "short", False).rstrip(),)
    raise error


def _how(
    constraint: str | None, precedence: Sequence[str] | None, passes: Sequence[str] | None
) -> driver.Compose:
    from ananke.ir.compose import PRECEDENCE, pass_names

    if precedence is not None and sorted(precedence) != sorted(PRECEDENCE):
        raise ValueError(f"precedence must order all of {', '.join(PRECEDENCE)}, each once")
    unknown = [p for p in passes or () if p not in pass_names()]
    if unknown:
        raise ValueError(f"unknown pass {unknown[0]!r}; the passes are {', '.join(pass_names())}")
    return driver.Compose(
        passes=tuple(passes) if passes is not None else None,
        precedence=tuple(precedence) if precedence is not None else None,
        only=constraint,
    )


def load(
    path: str | os.PathLike[str],
    *,
    constraint: str | None = None,
    precedence: Sequence[str] | None = None,
    passes: Sequence[str] | None = None,
    diagnostics: Diagnostics | None = None,
) -> Module:
    """The ``.ariadne`` file at ``path`` and its imports compiled, or a ``.cir`` file
    read, then composed, as ``arc emit`` reads its FILE.

    ``constraint`` names the one set you mean to use: errors of other sets are then
    warnings. ``precedence`` orders the provenances (``file``, ``library``,
    ``extracted``, ``llm``) strongest first; ``passes`` runs only these composition
    passes. Warnings (and, before the raise, errors) are added to ``diagnostics`` when
    given. Raises :class:`DiagnosticError` when the file cannot be read or has errors.
    """
    report = driver.Report()
    module = driver.load(Path(path), report, _how(constraint, precedence, passes))
    _done(report, diagnostics)
    assert module is not None
    return module


def compile(  # shadows the builtin on purpose: `arc compile`
    source: str,
    *,
    name: str = _SOURCE_NAME,
    constraint: str | None = None,
    precedence: Sequence[str] | None = None,
    passes: Sequence[str] | None = None,
    diagnostics: Diagnostics | None = None,
) -> Module:
    """Ariadne ``source`` text compiled and composed. ``name`` is the file name its
    diagnostics give; its imports are found from the current folder. The other
    arguments are those of :func:`load`."""
    from ananke.ir import SourceFile

    report = driver.Report()
    text = SourceFile(name, source)
    report.sources[name] = text
    module = driver.compile_source(text, report, _how(constraint, precedence, passes))
    _done(report, diagnostics)
    assert module is not None
    return module


def check(path: str | os.PathLike[str]) -> Diagnostics:
    """Every diagnostic of the ``.ariadne`` file at ``path`` (errors and warnings), as
    ``arc check`` reports them; raises nothing for what it finds."""
    report = driver.Report()
    driver.compile_path(Path(path), report)
    return report.diags


def _chosen(module: Module, constraint: str | None) -> Module:
    try:
        return driver.select(module, constraint)
    except driver.UnknownSet as e:
        raise ValueError(str(e)) from None


def _target(target: str, *, all_ok: bool = False) -> None:
    from ananke.backends import target_names

    names = (*target_names(), "all") if all_ok else target_names()
    if target not in names:
        raise ValueError(f"unknown target {target!r}; known targets: {', '.join(sorted(names))}")


def _no_sets(module: Module, report: driver.Report, diagnostics: Diagnostics | None) -> None:
    if not module.sets:
        driver.no_sets(report, module.sources[0] if module.sources else "<module>")
        _done(report, diagnostics)


def lower(
    module: Module,
    target: str = "llguidance",
    *,
    constraint: str | None = None,
    strict: bool = False,
    max_nesting: int | None = None,
    diagnostics: Diagnostics | None = None,
) -> tuple[Lowered, ...]:
    """The constraint sets of ``module``'s own file (not those its imports brought), or
    the set ``constraint``, lowered for ``target``: per set, its grammar and how each of
    its constraints is enforced. ``strict`` makes a constraint the target's grammar
    cannot enforce (``demoted-to-post``) an error; ``max_nesting`` is the deepest block
    nesting the grammar accepts (default 16)."""
    _target(target)
    report = driver.Report()
    chosen = _chosen(module, constraint)
    _no_sets(chosen, report, diagnostics)
    lowered = driver.lower(chosen, target, report, strict=strict, max_nesting=max_nesting)
    _done(report, diagnostics)
    assert lowered is not None
    return lowered


def emit(
    module: Module,
    target: str = "llguidance",
    *,
    constraint: str | None = None,
    strict: bool = False,
    max_nesting: int | None = None,
    diagnostics: Diagnostics | None = None,
) -> str:
    """The grammar of one constraint set of ``module`` for ``target``, as ``arc emit``
    prints it (ending with a line break). ``constraint`` names the set; it may be left
    out when the module's own file defines one. The other arguments are those of
    :func:`lower`."""
    _target(target)
    chosen = _chosen(module, constraint)
    if len(chosen.sets) > 1:
        names = ", ".join(s.name for s in chosen.sets)
        raise ValueError(
            f"the module defines {len(chosen.sets)} constraint sets ({names}): "
            "choose one with constraint=NAME"
        )
    report = driver.Report()
    _no_sets(chosen, report, diagnostics)
    lowered = driver.lower(chosen, target, report, strict=strict, max_nesting=max_nesting)
    texts = driver.emit_texts(lowered or (), target, report)
    _done(report, diagnostics)
    text = texts[0][1]
    return text if text.endswith("\n") else text + "\n"


def explain(
    module: Module,
    target: str = "llguidance",
    *,
    constraint: str | None = None,
    format: Literal["table", "json"] = "table",
    strict: bool = False,
    max_nesting: int | None = None,
    file: str | None = None,
    diagnostics: Diagnostics | None = None,
) -> str:
    """How each constraint of ``module`` is enforced for ``target``, as ``arc explain``
    prints it: one table per constraint set, or with ``target="all"`` one column per
    target; ``format="json"`` gives the JSON document of ``arc explain --output-format
    json`` (spec/ir.md), where ``file`` names the input (default: the module's first
    source file). A target that cannot express a set is left out of ``"all"`` with a
    ``target-skipped`` warning. The other arguments are those of :func:`lower`."""
    from ananke._explain import explain_json, explain_matrix, explain_table

    _target(target, all_ok=True)
    if format not in ("table", "json"):
        raise ValueError(f"unknown format {format!r}; the formats are table and json")
    report = driver.Report()
    chosen = _chosen(module, constraint)
    _no_sets(chosen, report, diagnostics)
    skipped: dict[tuple[str, str], str] = {}
    if target == "all":
        each, skipped = driver.each_target(chosen, report, strict=strict, max_nesting=max_nesting)
    else:
        lowered = driver.lower(chosen, target, report, strict=strict, max_nesting=max_nesting)
        each = [(target, {low.set_name: low for low in lowered or ()})]
    _done(report, diagnostics)
    decisions = {s.name: s.resolutions for s in chosen.sets}
    names = [s.name for s in chosen.sets]
    if format == "json":
        shown = file if file is not None else (module.sources[0] if module.sources else "")
        return explain_json(shown, names, each, skipped, decisions)
    if target == "all":
        return explain_matrix(names, each, decisions)
    return explain_table(list(each[0][1].values()), decisions)


def validate(module: Module, code: str, *, constraint: str | None = None) -> list[Violation]:
    """Every violation of one constraint set of ``module`` by ``code`` (a generated
    function): the checks that run after generation, whatever the engine, for what no
    grammar enforces (spec/validation.md). ``constraint`` names the set; it may be left
    out when the module's own file defines one."""
    from ananke.languages.validate import validate as post_checks

    chosen = _chosen(module, constraint)
    if len(chosen.sets) != 1:
        names = ", ".join(s.name for s in chosen.sets) or "none"
        raise ValueError(
            f"the module defines {len(chosen.sets)} constraint sets ({names}): "
            "choose one with constraint=NAME"
        )
    return post_checks(code, chosen.sets[0])
