"""A compact, stable text form of the ConstraintIR, for golden tests and debugging.

One constraint per line, in the module's order; strings are JSON-quoted; spans are
``@file:line:col``. Every constraint line reads ``(KIND ID PAYLOAD STRENGTH pPRIORITY
[override] PROVENANCE)`` where PROVENANCE is a span (followed by ``library`` for a file
that was imported), ``(extracted "extractor" "file":line confidence)`` or ``(llm "model"
"prompt-hash")``. After a set's constraints come what composition decided, ``(resolved
RULE KEPT over DROPPED...)``, conflicts not yet settled, ``(conflict KIND IDS...
"message")``, and the set's examples, ``(example reject by forbid 31 bytes @FILE:L:C)``
(where the text starts). For example::

    (module v1
      (sources "examples/api_handler.ariadne")
      (set api_handler python @examples/api_handler.ariadne:1:1
        (returns api_handler.returns Result<Response, Error> hard p0 @...:2:5)
        (forbid api_handler.forbid.eval "eval" hard p0 @...:5:14)))

The form is for reading, not for parsing back; ``spec/ir.md`` describes it.
"""

from __future__ import annotations

import json
import re

from .constraint import (
    Constraint,
    ConstraintSet,
    Doc,
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
    Signature,
    SourceProvenance,
    Validates,
)
from .source import Span

__all__ = ["to_text"]

_INDENT = "  "


def to_text(module: Module) -> str:
    """The text form of ``module``, ending with a newline."""
    lines = [f"(module v{module.version}"]
    if module.sources:
        lines.append(f"{_INDENT}(sources {' '.join(_q(s) for s in module.sources)})")
    for schema in module.schemas:
        lines.extend(_schema(schema))
    for cset in module.sets:
        lines.extend(_set(cset))
    lines[-1] += ")"
    return "\n".join(lines) + "\n"


_BARE_DEFAULT = re.compile(r"[A-Za-z0-9_.+-]+")


def _q(text: str) -> str:
    """JSON-quoted; non-printable characters escaped so that a line stays one line."""
    return json.dumps(text, ensure_ascii=not text.isprintable())


def _at(span: Span | None) -> str:
    return "" if span is None else f" @{span.file}:{span.line}:{span.column}"


def _schema(schema: Schema) -> list[str]:
    lines = [f"{_INDENT}(schema {schema.name}{_at(schema.span)}"]
    for f in schema.fields:
        optional = " optional" if f.optional else ""
        lines.append(f"{_INDENT * 2}(field {f.name} {f.type}{optional}{_at(f.span)})")
    lines[-1] += ")"
    return lines


def _set(cset: ConstraintSet) -> list[str]:
    head = f"{_INDENT}(set {cset.name} {cset.language}"
    if cset.library:
        head += " library"
    if cset.extends:
        head += f" (extends {' '.join(cset.extends)})"
    lines = [head + _at(cset.span)]
    lines.extend(f"{_INDENT * 2}{_constraint(c)}" for c in cset.constraints)
    lines.extend(
        f"{_INDENT * 2}(resolved {r.rule} {r.kept}"
        + (f" over {' '.join(r.dropped)})" if r.dropped else ")")
        for r in cset.resolutions
    )
    lines.extend(
        f"{_INDENT * 2}(conflict {k.kind} {' '.join(k.ids)} {_q(k.message)})"
        for k in cset.conflicts
    )
    lines.extend(
        f"{_INDENT * 2}(example {'accept' if e.accept else 'reject'}"
        + (f" by {e.by}" if e.by else "")
        + f" {len(e.text.encode('utf-8'))} bytes{_at(e.at)})"
        for e in cset.examples
    )
    lines[-1] += ")"
    return lines


def _constraint(c: Constraint) -> str:
    payload = _payload(c)
    parts = [c.__struct_config__.tag, c.id]
    if payload:
        parts.append(payload)
    parts += [c.strength, f"p{c.priority}"]
    if c.override:
        parts.append("override")
    parts.append(_provenance(c.provenance))
    return "(" + " ".join(str(p) for p in parts) + ")"


def _provenance(p: Provenance) -> str:
    if isinstance(p, SourceProvenance):
        return _at(p.span).lstrip() + (" library" if p.library else "")
    if isinstance(p, ExtractedProvenance):
        evidence = f" {_q(p.evidence)}" if p.evidence else ""
        return f"(extracted {_q(p.extractor)} {_q(p.file)}:{p.line} {p.confidence:g}{evidence})"
    if isinstance(p, LLMProvenance):
        return f"(llm {_q(p.model)} {_q(p.prompt_hash)})"
    raise TypeError(f"no text form for provenance {type(p).__name__}")


def _params(params: tuple[Param, ...]) -> str:
    """Python-like parameter list: ``(self, x: int = 1, *, key: str = "'k'", **kw)``.

    A default is shown bare when it is a number or a dotted name, else JSON-quoted.
    """
    out: list[str] = []
    star = False
    for p in params:
        if p.kind == "keyword_only" and not star:
            out.append("*")
            star = True
        prefix = {"var_positional": "*", "var_keyword": "**"}.get(p.kind, "")
        star = star or p.kind == "var_positional"
        text = prefix + p.name
        if p.type is not None:
            text += f": {p.type}"
        if p.default is not None:
            bare = _BARE_DEFAULT.fullmatch(p.default)
            text += f" = {p.default if bare else _q(p.default)}"
        out.append(text)
    return "(" + ", ".join(out) + ")"


def _signature(c: Signature) -> str:
    prefix = "async " if c.is_async else ""
    returns = f" -> {c.returns}" if c.returns is not None else ""
    return f"{prefix}{c.name}{_params(c.params)}{returns}"


def _naming(c: Naming) -> str:
    rule = f"style {c.style}" if c.style is not None else f"pattern {_q(c.pattern or '')}"
    return rule if c.scope == "signature" else f"{rule} scope {c.scope}"


def _imports(c: ImportPolicy) -> str:
    allow = ["*"] if c.allow is None else [_q(m) for m in c.allow]
    return " ".join(["(allow", *allow]) + ") " + " ".join(["(deny", *map(_q, c.deny)]) + ")"


def _validates(c: Validates) -> str:
    return c.target + (f" (schema {c.schema})" if c.schema is not None else "")


def _payload(c: Constraint) -> str:
    """The kind-specific part of a constraint line."""
    if isinstance(c, Returns):
        return str(c.type)
    if isinstance(c, FunctionName):
        return c.name
    if isinstance(c, Params):
        return _params(c.params)
    if isinstance(c, Signature):
        return _signature(c)
    if isinstance(c, Forbid | Require):
        return _q(c.name)
    if isinstance(c, Limit):
        return f"{c.metric} <= {c.max}"
    if isinstance(c, Naming):
        return _naming(c)
    if isinstance(c, ImportPolicy):
        return _imports(c)
    if isinstance(c, Matches):
        return _q(c.pattern)
    if isinstance(c, Validates):
        return _validates(c)
    if isinstance(c, Doc):
        return f"{c.role} {_q(c.text)}"
    if isinstance(c, OutputGrammar):
        where = _q(c.file) if c.file is not None else "embedded"
        return f"{c.dialect} {where} (start {c.grammar.start}, {len(c.grammar.rules)} rules)"
    raise TypeError(f"no text form for constraint kind {type(c).__name__}")
