"""A syrupy extension to snapshot compiled constraints in your own tests.

One snapshot file per assertion, plain text, as ``arc test``'s golden files::

    from ananke.syrupy import ArcSnapshot, compile_file, lower_file

    def test_api_grammar(snapshot):
        assert lower_file("constraints/api.ariadne", "xgrammar") == snapshot(
            extension_class=ArcSnapshot
        )

    def test_api_ir(snapshot):
        assert compile_file("constraints/api.ariadne") == snapshot(extension_class=ArcSnapshot)

A :class:`~ananke.ir.Module` is stored as its IR text form (the file's own sets), a
:class:`~ananke.ir.Lowered` as the grammar text of its target, a sequence of them as the
``arc explain`` table, and a string as it is.

Needs ``syrupy`` (the ``dev`` extra, or ``pip install syrupy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from ananke.ir import Diagnostics, Lowered, Module

__all__ = ["ArcSnapshot", "CompileError", "artifact_text", "compile_file", "lower_file"]


class CompileError(Exception):
    """The file does not compile; the message holds its rendered diagnostics."""


def compile_file(path: str | Path) -> Module:
    """``path`` compiled and composed as ``arc`` does; :class:`CompileError` on errors."""
    from ananke.ir.render import render
    from ananke.testing import load

    diags = Diagnostics()
    source, module = load(Path(path), diags)
    if module is None or diags.has_errors:
        sources = {source.name: source} if source is not None else {}
        raise CompileError(render(list(diags), sources, "short", False))
    return module


def lower_file(path: str | Path, target: str, constraint: str | None = None) -> Lowered:
    """The constraint set of ``path`` (the only one, or ``constraint``) lowered for
    ``target``; :class:`CompileError` when it cannot be."""
    from ananke import driver

    module = compile_file(path)
    sets = [s for s in module.own_sets if constraint in (None, s.name)]
    if len(sets) != 1:
        names = ", ".join(s.name for s in module.own_sets)
        raise CompileError(f"choose one constraint set of {path} ({names})")
    report = driver.Report()
    lowered = driver.lower(driver.with_sets(module, tuple(sets)), target, report)
    if lowered is None or report.failed:
        raise CompileError("; ".join(d.message for d in report.diags if d.severity == "error"))
    return lowered[0]


def artifact_text(data: Any) -> str:
    """The text a snapshot stores for ``data`` (see the module docstring)."""
    from ananke._explain import explain_table
    from ananke.testing import grammar_text, ir_text

    if isinstance(data, Module):
        return ir_text(data)
    if isinstance(data, Lowered):
        return grammar_text(data)
    if (
        isinstance(data, Sequence)
        and not isinstance(data, str)
        and all(isinstance(x, Lowered) for x in data)
    ):
        return explain_table(list(data))
    if isinstance(data, str):
        return data
    raise TypeError(f"cannot snapshot a {type(data).__name__} as a compiled constraint")


class ArcSnapshot(SingleFileSnapshotExtension):
    """Stores :func:`artifact_text` of the asserted value, one ``.txt`` file each."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"

    def serialize(self, data: Any, **kwargs: Any) -> str:
        return artifact_text(data)
