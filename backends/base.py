"""The backend base class: capabilities as documented class attributes, one printer per node.

Modelled on sqlglot's dialects: a backend is a small class of feature flags plus printing
methods named after the node they print (``print_lit``, ``print_regex``, ...). A node with
no printer is an internal error, never skipped. Features a target lacks go through
:meth:`Backend.unsupported`, which raises by default: a quiet degradation would change what
the model may write.
"""

from __future__ import annotations

from typing import ClassVar

from ananke.ir.diagnostics import Diagnostic, DiagnosticError
from ananke.ir.grammar import Expr, Grammar, Rule

__all__ = ["Backend", "UnsupportedFeature"]


class UnsupportedFeature(DiagnosticError):
    """A grammar feature the target cannot express."""


class Backend:
    name: ClassVar[str] = ""
    """Target name used by ``arc emit --target``."""
    file_extension: ClassVar[str] = ".txt"

    supports_negation: ClassVar[bool] = False
    """Lexeme negation (``~``)."""
    supports_intersection: ClassVar[bool] = False
    """Lexeme intersection (``&``)."""
    supports_lexemes: ClassVar[bool] = False
    """A lexer with greedy lexemes separate from CFG rules."""
    supports_bounded_repeat: ClassVar[bool] = False
    """``x{m,n}`` on rules."""
    supports_json_schema: ClassVar[bool] = False
    """Embedded JSON Schema."""
    supports_special_tokens: ClassVar[bool] = False
    """Special tokens by name."""

    def emit(self, grammar: Grammar) -> str:
        raise NotImplementedError

    def print_expr(self, expr: Expr, rule: Rule) -> str:
        method = getattr(self, f"print_{expr.__struct_config__.tag}", None)
        if method is None:
            raise AssertionError(f"{self.name}: no printer for grammar node {type(expr).__name__}")
        result: str = method(expr, rule)
        return result

    def unsupported(self, code: str, message: str) -> None:
        raise UnsupportedFeature(
            [Diagnostic(code=code, severity="error", message=f"{self.name}: {message}")]
        )
