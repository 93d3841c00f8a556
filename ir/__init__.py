"""ConstraintIR, GrammarIR, enforcement plans and the diagnostics model.

``ananke.ir`` imports none of the other stages.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .constraint import (
        IR_VERSION,
        Constraint,
        ConstraintSet,
        Doc,
        Example,
        ExtractedProvenance,
        Forbid,
        FunctionName,
        ImportPolicy,
        Limit,
        LLMProvenance,
        Matches,
        Module,
        Naming,
        OutputGrammar,
        Param,
        Params,
        Provenance,
        Require,
        Returns,
        Schema,
        SchemaField,
        Signature,
        SourceProvenance,
        TypeExpr,
        Validates,
    )
    from .diagnostics import Diagnostic, DiagnosticError, Diagnostics, Label, Severity, quote
    from .plan import Enforcement, Level, Lowered
    from .source import SourceFile, Span

__all__ = [
    "IR_VERSION",
    "Constraint",
    "ConstraintSet",
    "Diagnostic",
    "DiagnosticError",
    "Diagnostics",
    "Doc",
    "Enforcement",
    "Example",
    "ExtractedProvenance",
    "Forbid",
    "FunctionName",
    "ImportPolicy",
    "LLMProvenance",
    "Label",
    "Level",
    "Limit",
    "Lowered",
    "Matches",
    "Module",
    "Naming",
    "OutputGrammar",
    "Param",
    "Params",
    "Provenance",
    "Require",
    "Returns",
    "Schema",
    "SchemaField",
    "Severity",
    "Signature",
    "SourceFile",
    "SourceProvenance",
    "Span",
    "TypeExpr",
    "Validates",
    "quote",
]

# Imported on first use: the registry of languages lives in this package, and registering
# one when ``ananke`` is imported must not load the IR (msgspec and the structs).
_HOMES = {
    "Constraint": "constraint",
    "ConstraintSet": "constraint",
    "Doc": "constraint",
    "Example": "constraint",
    "ExtractedProvenance": "constraint",
    "Forbid": "constraint",
    "FunctionName": "constraint",
    "IR_VERSION": "constraint",
    "ImportPolicy": "constraint",
    "LLMProvenance": "constraint",
    "Limit": "constraint",
    "Matches": "constraint",
    "Module": "constraint",
    "Naming": "constraint",
    "OutputGrammar": "constraint",
    "Param": "constraint",
    "Params": "constraint",
    "Provenance": "constraint",
    "Require": "constraint",
    "Returns": "constraint",
    "Schema": "constraint",
    "SchemaField": "constraint",
    "Signature": "constraint",
    "SourceProvenance": "constraint",
    "TypeExpr": "constraint",
    "Validates": "constraint",
    "Diagnostic": "diagnostics",
    "DiagnosticError": "diagnostics",
    "Diagnostics": "diagnostics",
    "Label": "diagnostics",
    "Severity": "diagnostics",
    "quote": "diagnostics",
    "Enforcement": "plan",
    "Level": "plan",
    "Lowered": "plan",
    "SourceFile": "source",
    "Span": "source",
}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
