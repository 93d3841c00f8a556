"""How the composition passes name a constraint in messages and resolutions."""

from __future__ import annotations

import json

from ..constraint import (
    Constraint,
    ExtractedProvenance,
    Forbid,
    FunctionName,
    ImportPolicy,
    Limit,
    LLMProvenance,
    Matches,
    Naming,
    Params,
    Provenance,
    Require,
    Returns,
    Signature,
    SourceProvenance,
    property_of,
)
from ..diagnostics import quote

__all__ = ["describe", "value_of", "where"]


def value_of(c: Constraint) -> str:
    """The constraint's value as Ariadne writes it, in short: a line's worth at most."""
    return quote(_value(c), ticks=False)


def _value(c: Constraint) -> str:
    match c:
        case Limit():
            return str(c.max)
        case Forbid() | Require():
            return json.dumps(c.name)
        case FunctionName():
            return c.name
        case Returns():
            return str(c.type)
        case Naming():
            rule = c.style if c.style is not None else f'r"{c.pattern}"'
            if c.scope == "signature":
                return rule
            key = "style" if c.style is not None else "pattern"
            return f"{{ {key}: {rule}, scope: {c.scope} }}"
        case Matches():
            return f'r"{c.pattern}"'
        case Params():
            return "(" + ", ".join(p.name for p in c.params) + ")"
        case Signature():
            head = "async " if c.is_async else ""
            return f"{head}{c.name}(...)" + (f" -> {c.returns}" if c.returns else "")
        case ImportPolicy():
            parts = []
            if c.allow is not None:
                parts.append(f"allow: {json.dumps(list(c.allow))}")
            if c.deny:
                parts.append(f"deny: {json.dumps(list(c.deny))}")
            return "{ " + ", ".join(parts) + " }"
        case _:
            return ""


def where(p: Provenance, *, column: bool = False) -> str:
    """``file:line`` (``file:line:column`` with ``column``) of a written constraint; the
    extractor or model otherwise."""
    if isinstance(p, SourceProvenance):
        at = f"{p.span.file}:{p.span.line}"
        return f"{at}:{p.span.column}" if column else at
    if isinstance(p, ExtractedProvenance):
        return f"{p.extractor} ({p.file}:{p.line})"
    if isinstance(p, LLMProvenance):
        return f"model {p.model}"
    raise TypeError(type(p).__name__)


def describe(c: Constraint) -> str:
    """``max_lines: 80 from web.ariadne:4``."""
    value = value_of(c)
    head = f"{property_of(c)}: {value}" if value else property_of(c)
    return f"{head} from {where(c.provenance)}"
