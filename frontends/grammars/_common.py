"""Helpers shared by the grammar importers: diagnostics and alternatives."""

from __future__ import annotations

from ananke.ir.diagnostics import Diagnostics, Label, quote
from ananke.ir.grammar import Alt, Expr
from ananke.ir.source import SourceFile

__all__ = [
    "CODES",
    "DUPLICATE",
    "IGNORED",
    "IMPORT",
    "SYNTAX",
    "TEMPLATE",
    "TERMINAL",
    "UNDEFINED",
    "UNSUPPORTED",
    "error",
    "warning",
]

UNSUPPORTED = "unsupported-grammar-construct"
SYNTAX = "grammar-syntax-error"
UNDEFINED = "undefined-grammar-rule"
DUPLICATE = "duplicate-grammar-rule"
IMPORT = "unresolved-grammar-import"
TERMINAL = "invalid-grammar-terminal"
IGNORED = "ignored-grammar-construct"
TEMPLATE = "invalid-grammar-template"
CODES = (UNSUPPORTED, SYNTAX, UNDEFINED, DUPLICATE, IMPORT, TERMINAL, IGNORED, TEMPLATE)
"""Every diagnostic code the grammar importers emit (each has a page in spec/diagnostics)."""


def error(
    diags: Diagnostics,
    code: str,
    message: str,
    source: SourceFile,
    start: int,
    end: int,
    *,
    help: str | None = None,
    secondary: tuple[SourceFile, int, int, str] | None = None,
) -> None:
    labels = [Label(span=source.span(start, end))]
    if secondary is not None:
        src, s, e, text = secondary
        labels.append(Label(span=src.span(s, e), message=text, primary=False))
    diags.error(code, message, *labels, help=help)


def missing_start(diags: Diagnostics, source: SourceFile, start: str) -> None:
    """The grammar defines no rule named ``start`` (its first byte carries the label)."""
    error(
        diags,
        UNDEFINED,
        f"start rule {quote(start)} is not defined",
        source,
        0,
        0,
        help="name the start rule with `--start RULE`",
    )


def warning(
    diags: Diagnostics,
    code: str,
    message: str,
    source: SourceFile,
    start: int,
    end: int,
    *,
    help: str | None = None,
) -> None:
    diags.warning(code, message, Label(span=source.span(start, end)), help=help)


def alt(items: list[Expr]) -> Expr:
    return items[0] if len(items) == 1 else Alt(items=tuple(items))
