"""Renderers for diagnostics: ``full`` (source excerpt with carets), ``short`` and ``json``.

The model lives in :mod:`ananke.ir.diagnostics`; this module only formats it. Colour comes
from ``rich``, imported only when ``color=True``, so plain output costs no import.

``full`` looks like this::

    error[unknown-property]: unknown property `retuns`
     --> api.ariadne:2:5
      |
    2 |     retuns: Result<Response, Error>;
      |     ^^^^^^ not a property
      |
      = help: did you mean `returns`?
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from .diagnostics import Diagnostic, Label
from .source import SourceFile, Span

__all__ = ["FORMATS", "Format", "render"]

Format = Literal["full", "short", "json"]
FORMATS: tuple[Format, ...] = ("full", "short", "json")

_TAB = "    "
_MAX_LINE = 160
"""Longest part of a source line shown in an excerpt, in characters."""
_CONTEXT = 40
"""Characters shown before the first label when a long line is cut."""

# Style names understood by rich; only used when colour is on.
_SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "note": "bold cyan"}
_GUTTER = "bold blue"
_SECONDARY = "bold blue"
_BOLD = "bold"

_Piece = tuple[str, str | None]


class _Out:
    """Text pieces with optional rich styles; joined plain or rendered with ANSI codes."""

    def __init__(self) -> None:
        self.pieces: list[_Piece] = []

    def add(self, text: str, style: str | None = None) -> None:
        if text:
            self.pieces.append((text, style))

    def plain(self) -> str:
        return "".join(text for text, _ in self.pieces)

    def ansi(self) -> str:
        from rich.console import Console
        from rich.text import Text

        text = Text()
        for piece, style in self.pieces:
            text.append(piece, style=style or "")
        buf = io.StringIO()
        console = Console(
            file=buf,
            force_terminal=True,
            color_system="standard",
            width=1 << 20,
            highlight=False,
            emoji=False,
            markup=False,
            no_color=False,
            soft_wrap=True,
        )
        console.print(text, end="")
        return buf.getvalue()


def render(
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, SourceFile],
    fmt: Format,
    color: bool,
) -> str:
    """Render ``diagnostics`` in ``fmt``; ``sources`` maps a span's file name to its text.

    Labels whose file is not in ``sources`` (a binary ``.cir`` file, say) are shown by
    position only. The result ends with a newline unless there is nothing to show
    (``json`` always shows an array).
    """
    items = list(diagnostics)
    if fmt == "json":
        return json.dumps([_to_json(d) for d in items], indent=2, ensure_ascii=False) + "\n"
    out = _Out()
    if fmt == "short":
        for d in items:
            _short(out, d)
    elif fmt == "full":
        for i, d in enumerate(items):
            if i:
                out.add("\n")
            _full(out, d, sources)
    else:
        raise ValueError(f"unknown diagnostic format {fmt!r}")
    return out.ansi() if color else out.plain()


# --- short ------------------------------------------------------------------------------


def _header(out: _Out, d: Diagnostic) -> None:
    style = _SEVERITY_STYLE.get(d.severity)
    out.add(f"{d.severity}[{d.code}]", style)
    out.add(": ")
    out.add(d.message, _BOLD)


def _short(out: _Out, d: Diagnostic) -> None:
    span = d.primary_span
    if span is not None:
        out.add(f"{_position(span)}: ")
    _header(out, d)
    out.add("\n")


def _position(span: Span) -> str:
    return f"{span.file}:{span.line}:{span.column}"


# --- json -------------------------------------------------------------------------------


def _to_json(d: Diagnostic) -> dict[str, Any]:
    return {
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "labels": [
            {
                "file": label.span.file,
                "line": label.span.line,
                "column": label.span.column,
                "end_line": label.span.end_line,
                "end_column": label.span.end_column,
                "start": label.span.start,
                "end": label.span.end,
                "message": label.message,
                "primary": label.primary,
            }
            for label in d.labels
        ],
        "notes": list(d.notes),
        "help": d.help,
    }


# --- full -------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Display width of ``text`` after tab expansion (wide East Asian characters count 2)."""
    total = 0
    for ch in text:
        if ch == "\t":
            total += len(_TAB)
        elif unicodedata.combining(ch):
            continue
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            total += 2
        else:
            total += 1
    return total


_BIDI_CONTROLS = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})


def _display(text: str) -> str:
    """A source line as shown: tabs expanded, other control characters (and bidi
    controls) made visible."""
    chars: list[str] = []
    for ch in text:
        if ch == "\t":
            chars.append(_TAB)
        elif ch == "\r":
            continue
        elif unicodedata.category(ch) == "Cc" or unicodedata.bidirectional(ch) in _BIDI_CONTROLS:
            # Bidi controls too: they would reorder the excerpt the caret points into.
            chars.append("\ufffd")
        else:
            chars.append(ch)
    return "".join(chars)


def _full(out: _Out, d: Diagnostic, sources: Mapping[str, SourceFile]) -> None:
    _header(out, d)
    out.add("\n")
    labels = sorted(d.labels, key=lambda label: not label.primary)
    # Files in order of first appearance, the primary label's file first.
    files: list[str] = []
    for label in labels:
        if label.span.file not in files:
            files.append(label.span.file)
    shown = [
        (name, [lb for lb in labels if lb.span.file == name], sources.get(name)) for name in files
    ]
    lines_shown = [max((lb.span.line for lb in group), default=1) for _, group, src in shown if src]
    gutter = len(str(max(lines_shown, default=1)))
    pad = " " * gutter
    excerpts = False
    for index, (name, group, source) in enumerate(shown):
        first = group[0].span
        out.add(f"{pad}{'-->' if index == 0 else ':::'} ", _GUTTER)
        out.add(f"{name}:{first.line}:{first.column}\n")
        if source is None:
            # No text to show (a binary file, say): list the labels by position.
            for label in group:
                if label.message:
                    where = "" if label is group[0] else f"{_position(label.span)}: "
                    out.add(f"{pad} = ", _GUTTER)
                    out.add(f"{where}{label.message}\n")
            continue
        excerpts = True
        _excerpt(out, group, source, pad, d.severity)
    if excerpts and (d.notes or d.help):
        out.add(f"{pad} |\n", _GUTTER)
    if not d.labels:
        pad = ""
    for note in d.notes:
        out.add(f"{pad} = ", _GUTTER)
        out.add("note", _BOLD)
        out.add(f": {note}\n")
    if d.help:
        out.add(f"{pad} = ", _GUTTER)
        out.add("help", _BOLD)
        out.add(f": {d.help}\n")


def _excerpt(out: _Out, group: list[Label], source: SourceFile, pad: str, severity: str) -> None:
    by_line: dict[int, list[Label]] = {}
    for label in group:
        line = min(label.span.line, source.line_count)
        by_line.setdefault(line, []).append(label)
    out.add(f"{pad} |\n", _GUTTER)
    previous: int | None = None
    for line in sorted(by_line):
        if previous is not None and line > previous + 1:
            out.add("...\n", _GUTTER)
        previous = line
        labels = sorted(by_line[line], key=lambda lb: (lb.span.column, not lb.primary))
        text = source.line_text(line)
        # A very long line (minified or generated input) is shown as a window that starts
        # a little before the first label.
        lo = 0
        if len(text) > _MAX_LINE:
            lo = max(0, min(len(text), labels[0].span.column - 1) - _CONTEXT)
        hi = min(len(text), lo + _MAX_LINE)
        visible = text[lo:hi]
        prefix = "..." if lo else ""
        suffix = "..." if hi < len(text) else ""
        shown = (prefix + _display(visible) + suffix).rstrip()
        out.add(f"{line:>{len(pad)}} |" + (" " if shown else ""), _GUTTER)
        out.add(shown + "\n")
        for label in labels:
            _marker(out, label, visible, lo, len(prefix), pad, severity)


def _marker(
    out: _Out, label: Label, visible: str, lo: int, indent: int, pad: str, severity: str
) -> None:
    """Carets (primary) or dashes (secondary) under ``label`` on the visible part of a line."""
    span = label.span
    first = min(len(visible), max(0, span.column - 1 - lo))
    multiline = span.end_line > span.line
    # A multi-line span is marked from its start to the end of its first line.
    last = len(visible) if multiline else min(len(visible), max(first, span.end_column - 1 - lo))
    start = indent + _width(visible[:first])
    length = max(1, _width(visible[first:last]))
    style = _SEVERITY_STYLE.get(severity) if label.primary else _SECONDARY
    char = "^" if label.primary else "-"
    out.add(f"{pad} | ", _GUTTER)
    out.add(" " * start)
    message = f" {label.message}" if label.message else ""
    if multiline:
        message += f" (continues to line {span.end_line})"
    out.add(char * length + message, style)
    out.add("\n")
