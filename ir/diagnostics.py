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
    "MAX_QUOTED",
    "Diagnostic",
    "DiagnosticError",
    "Diagnostics",
    "Label",
    "Severity",
    "quote",
]

Severity = Literal["error", "warning", "note"]

MAX_QUOTED = 80
"""Most characters of user input a diagnostic quotes (after escaping): a line's worth."""

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(ch: str) -> str:
    if ch.isprintable():
        return ch
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def quote(text: str, *, limit: int = MAX_QUOTED, ticks: bool = True) -> str:
    """User input as a message shows it: in backticks (unless ``ticks`` is false), with
    control and other invisible characters escaped (``\\x1b``, ``\\u202e``), and at most
    ``limit`` characters of it; longer input is cut with ``…`` and its length follows
    (`` `99999…` (5,000 characters)``). Only the shown part is scanned, so quoting a
    megabyte costs as little as quoting a word."""
    pieces: list[str] = []
    used = 0
    for ch in text:
        piece = _escaped(ch)
        if used + len(piece) > limit:
            shown = "".join(pieces) + "\u2026"
            tail = f" ({len(text):,} characters)"
            break
        pieces.append(piece)
        used += len(piece)
    else:
        shown, tail = "".join(pieces), ""
    return (f"`{shown}`" if ticks else shown) + tail


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
        # A message is one line of visible text, whatever the input it quotes holds.
        message = "".join(map(_escaped, message)) if not message.isprintable() else message
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
