"""Grammar import: Lark, GBNF and XGrammar EBNF grammars -> GrammarIR.

The imported grammar means what llguidance makes of GrammarIR (greedy lexer, UPPERCASE
lexemes). Every construct of the source grammar that GrammarIR cannot express is reported
as a diagnostic at the construct; the import then returns None.
"""

from __future__ import annotations

from typing import Literal

from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Grammar
from ananke.ir.source import SourceFile

__all__ = ["DIALECTS", "Dialect", "dialect_for_path", "import_grammar"]

Dialect = Literal["lark", "gbnf", "ebnf"]
DIALECTS: tuple[Dialect, ...] = ("lark", "gbnf", "ebnf")

_EXTENSIONS: dict[str, Dialect] = {".lark": "lark", ".gbnf": "gbnf", ".ebnf": "ebnf"}


def dialect_for_path(path: str) -> Dialect | None:
    """The dialect a file name implies (``.lark``, ``.gbnf``, ``.ebnf``), or None."""
    for ext, dialect in _EXTENSIONS.items():
        if path.lower().endswith(ext):
            return dialect
    return None


def import_grammar(
    source: SourceFile,
    dialect: Dialect,
    diags: Diagnostics,
    *,
    start: str | None = None,
) -> Grammar | None:
    """Read ``source`` as a ``dialect`` grammar.

    ``start`` names the start rule (default: ``start`` for Lark, ``root`` for GBNF and
    EBNF). Diagnostics go to ``diags``; returns None when any error was reported.
    Lark ``%import`` statements are resolved relative to ``source.name``, then in the
    installed ``lark`` package's grammar folder (``common``, ``unicode``, ``python``).
    """
    if dialect == "lark":
        from ._lark import import_lark

        return import_lark(source, diags, start=start or "start")
    from ._gbnf import import_gbnf

    return import_gbnf(source, diags, ebnf=dialect == "ebnf", start=start or "root")
