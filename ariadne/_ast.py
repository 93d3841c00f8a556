"""The Ariadne syntax tree: what the parser produces and the checker reads.

Every node carries ``start``/``end``, character offsets into its source (half open), so
diagnostics and provenance can point at it. ``depth`` is the nesting depth of values
(lists, objects, type arguments, default expressions); the parser rejects trees nested
deeper than :data:`MAX_DEPTH` before anything walks them recursively.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "MAX_DEPTH",
    "Annotation",
    "ConstraintBlock",
    "DefaultExpr",
    "Entry",
    "ExampleItem",
    "FileAst",
    "Ident",
    "ImportItem",
    "LetItem",
    "ListValue",
    "NumberValue",
    "ObjectValue",
    "ParamNode",
    "ParamsValue",
    "Property",
    "SchemaBlock",
    "SchemaFieldNode",
    "SignatureValue",
    "StringValue",
    "TypeValue",
    "Value",
]

MAX_DEPTH = 32
"""Deepest nesting of values accepted; real constraints stay far below it."""


@dataclass(slots=True)
class Ident:
    """A name token."""

    text: str
    start: int
    end: int


@dataclass(slots=True)
class TypeValue:
    """``a.b.Name<T, U>``; a bare name (``snake``, ``input_schema``) is a TypeValue too."""

    parts: tuple[Ident, ...]
    args: tuple[TypeValue, ...]
    start: int
    end: int
    depth: int = 1

    @property
    def name(self) -> str:
        return ".".join(p.text for p in self.parts)

    @property
    def is_plain_name(self) -> bool:
        return len(self.parts) == 1 and not self.args


@dataclass(slots=True)
class StringValue:
    """A string literal; ``value`` is filled in by the parser after escapes are decoded."""

    raw: str
    start: int
    end: int
    is_raw: bool = False
    value: str = ""
    depth: int = 1
    block_indent: int = 0
    """For a text block: how many columns of indentation were removed from each line."""


@dataclass(slots=True)
class NumberValue:
    """An integer or decimal literal with an optional leading ``-``."""

    text: str
    is_int: bool
    negative: bool
    start: int
    end: int
    depth: int = 1


@dataclass(slots=True)
class ListValue:
    items: tuple[Value, ...]
    start: int
    end: int
    depth: int = 1


@dataclass(slots=True)
class Entry:
    key: Ident
    value: Value
    start: int
    end: int


@dataclass(slots=True)
class ObjectValue:
    entries: tuple[Entry, ...]
    start: int
    end: int
    depth: int = 1


@dataclass(slots=True)
class DefaultExpr:
    """A parameter's default value; only its extent matters (kept as source text)."""

    start: int
    end: int
    depth: int = 1


@dataclass(slots=True)
class ParamNode:
    name: Ident | None
    type: TypeValue | None
    default: DefaultExpr | None
    kind: str
    """``positional``, ``var_positional`` (``*args`` or a bare ``*``: name None),
    ``keyword_only`` is assigned by the checker from the position of ``*``,
    ``var_keyword``."""
    start: int
    end: int
    depth: int = 1


@dataclass(slots=True)
class ParamsValue:
    """``(a: int, *, b = 1, **kw)``."""

    params: tuple[ParamNode, ...]
    start: int
    end: int
    depth: int = 1


@dataclass(slots=True)
class SignatureValue:
    """``async name(params) -> Type``."""

    is_async: bool
    name: Ident
    params: ParamsValue
    returns: TypeValue | None
    start: int
    end: int
    depth: int = 1


Value = (
    TypeValue | StringValue | NumberValue | ListValue | ObjectValue | ParamsValue | SignatureValue
)


@dataclass(slots=True)
class Annotation:
    """``@soft``, ``@hard`` or ``@priority(N)`` before a property."""

    name: Ident
    arg: NumberValue | None
    start: int
    end: int


@dataclass(slots=True)
class Property:
    name: Ident
    value: Value
    start: int
    end: int
    annotations: tuple[Annotation, ...] = ()
    override: Ident | None = None
    """The ``override`` keyword, when the property replaces an inherited value."""


@dataclass(slots=True)
class ConstraintBlock:
    name: Ident
    properties: tuple[Property, ...]
    start: int
    end: int
    open_brace: int
    extends: tuple[TypeValue, ...] = ()
    """The parents named after ``extends`` (dotted names, no type arguments)."""
    examples: tuple[ExampleItem, ...] = ()


@dataclass(slots=True)
class ExampleItem:
    """``example accept TEXT;`` or ``example reject TEXT by PROPERTY;`` in a constraint.

    ``text`` is a string or text block (``file_word`` None) or, after ``file``, the path of
    a file holding the text. ``verdict``, ``file_word`` and ``by_word`` are plain names
    here; the checker requires accept/reject, file and by.
    """

    verdict: Ident
    text: StringValue
    file_word: Ident | None
    by_word: Ident | None
    by: TypeValue | None
    start: int
    end: int


@dataclass(slots=True)
class ImportItem:
    """``import "path/file.ariadne";`` (``path`` set) or ``import std.python;``."""

    path: StringValue | None
    module: TypeValue | None
    start: int
    end: int


@dataclass(slots=True)
class LetItem:
    """``let NAME = VALUE;``: a named value that properties can refer to."""

    name: Ident
    value: Value
    start: int
    end: int


@dataclass(slots=True)
class SchemaFieldNode:
    name: Ident
    optional: bool
    type: TypeValue
    start: int
    end: int


@dataclass(slots=True)
class SchemaBlock:
    name: Ident
    fields: tuple[SchemaFieldNode, ...]
    start: int
    end: int
    open_brace: int


@dataclass(slots=True)
class FileAst:
    """A parsed file: its blocks in source order."""

    items: tuple[ConstraintBlock | SchemaBlock | ImportItem | LetItem, ...] = field(
        default_factory=tuple
    )
