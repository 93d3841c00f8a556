"""The diagnostics model: data only; renderers live in :mod:`ananke.ir.render`.

Every user-facing failure is a :class:`Diagnostic` with a stable kebab-case ``code`` that
has a page under ``spec/diagnostics/``, a one-line ``message``, labels on source spans,
notes and an optional help line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

import msgspec

from .source import Span

__all__ = [
    "Diagnostic",
    "DiagnosticError",
    "Diagnostics",
    "Label",
    "Severity",
]

Severity = Literal["error", "warning", "note"]


class Label(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A span with a short message; the primary label marks where the problem is."""

    span: Span
    message: str = ""
    primary: bool = True


class Diagnostic(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    code: str
    severity: Severity
    message: str
    labels: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None

    def __post_init__(self) -> None:
        if "\n" in self.message:
            raise ValueError("a diagnostic message is one line")

    @property
    def primary_span(self) -> Span | None:
        for label in self.labels:
            if label.primary:
                return label.span
        return self.labels[0].span if self.labels else None


class Diagnostics:
    """An ordered collection that stages append to; ``has_errors`` decides the exit code."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []

    def add(self, diagnostic: Diagnostic) -> None:
        self._items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self._items.extend(diagnostics)

    def error(
        self,
        code: str,
        message: str,
        *labels: Label,
        notes: tuple[str, ...] = (),
        help: str | None = None,
    ) -> Diagnostic:
        return self._report("error", code, message, labels, notes, help)

    def warning(
        self,
        code: str,
        message: str,
        *labels: Label,
        notes: tuple[str, ...] = (),
        help: str | None = None,
    ) -> Diagnostic:
        return self._report("warning", code, message, labels, notes, help)

    def _report(
        self,
        severity: Severity,
        code: str,
        message: str,
        labels: tuple[Label, ...],
        notes: tuple[str, ...],
        help: str | None,
    ) -> Diagnostic:
        # A message quotes what it is about, and a quoted string may hold a line break.
        message = message.replace("\r", "\\r").replace("\n", "\\n")
        d = Diagnostic(
            code=code, severity=severity, message=message, labels=labels, notes=notes, help=help
        )
        self.add(d)
        return d

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self._items)

    @property
    def error_count(self) -> int:
        return sum(1 for d in self._items if d.severity == "error")

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)


class DiagnosticError(Exception):
    """Raised to stop a stage after fatal diagnostics; carries them to the CLI."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("; ".join(f"{d.code}: {d.message}" for d in self.diagnostics))
