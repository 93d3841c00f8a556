"""Ariadne types and schema declarations as JSON Schema (draft 2020-12).

Used for constraint sets whose output is JSON (``language: json``): the document's type,
given by ``returns``, becomes the schema the grammar embeds, with every declared schema it
refers to under ``$defs``.

=========================================  ==============================================
Ariadne type                               JSON Schema
=========================================  ==============================================
``str`` ``int`` ``float`` ``bool``         ``string`` ``integer`` ``number`` ``boolean``
``None``                                   ``null``
``Any``, ``object``                        ``{}`` (any JSON value)
``List<T>``, ``Sequence<T>``, ``Set<T>``   ``array`` of ``T`` (``Set``: unique items)
``Tuple<A, B>``                            ``array`` with ``prefixItems``, exactly those
``Dict<str, V>``, ``Mapping<str, V>``      ``object`` whose values are ``V``
``Optional<T>``                            ``T`` or ``null``
``Union<A, B>``                            ``anyOf``
``Literal<...>``                           not supported (types carry no values)
a declared ``schema``                      ``$ref`` to ``$defs``: an object with those
                                           properties, the ones without ``?`` required,
                                           no others
=========================================  ==============================================

Lower-case builtin spellings (``list``, ``dict``, ``tuple``, ``set``) work too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .constraint import Schema, TypeExpr

__all__ = ["UnknownType", "document_schema"]

_SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "None": {"type": "null"},
    "Any": {},
    "object": {},
}
_ARRAYS = {"List", "list", "Sequence", "Set", "set", "FrozenSet", "frozenset"}
_MAPS = {"Dict", "dict", "Mapping"}


class UnknownType(ValueError):
    """A type the JSON mapping has no meaning for; ``name`` is the offending part."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(why)
        self.name = name


def document_schema(t: TypeExpr, schemas: Mapping[str, Schema]) -> str:
    """The JSON Schema of a document of type ``t``, as compact JSON text; properties in
    the order the schema declares them, which is the order the engines enforce."""
    used: dict[str, dict[str, Any]] = {}
    root = _schema(t, schemas, used)
    if used:
        root = {**root, "$defs": dict(sorted(used.items()))}
    return json.dumps(root, separators=(",", ":"), ensure_ascii=False)


def _schema(t: TypeExpr, schemas: Mapping[str, Schema], used: dict[str, dict[str, Any]]) -> Any:
    name, args = t.name, t.args

    def arity(n: int) -> None:
        if len(args) != n:
            raise UnknownType(name, f"`{name}` takes {n} type argument(s), found {len(args)}")

    if name in _SCALARS:
        arity(0)
        return dict(_SCALARS[name])
    if name in _ARRAYS:
        arity(1)
        out: dict[str, Any] = {"type": "array", "items": _schema(args[0], schemas, used)}
        if name.lower().endswith("set"):
            out["uniqueItems"] = True
        return out
    if name in ("Tuple", "tuple"):
        if not args:
            raise UnknownType(name, "`Tuple` needs its item types")
        items = [_schema(a, schemas, used) for a in args]
        return {"type": "array", "prefixItems": items, "items": False, "minItems": len(items)}
    if name in _MAPS:
        arity(2)
        if args[0].name != "str" or args[0].args:
            raise UnknownType(name, "JSON object keys are strings: use `Dict<str, V>`")
        return {"type": "object", "additionalProperties": _schema(args[1], schemas, used)}
    if name == "Optional":
        arity(1)
        return {"anyOf": [_schema(args[0], schemas, used), {"type": "null"}]}
    if name == "Union":
        if len(args) < 2:
            raise UnknownType(name, "`Union` needs at least two types")
        return {"anyOf": [_schema(a, schemas, used) for a in args]}
    schema = schemas.get(name)
    if schema is None or args:
        raise UnknownType(name, f"`{name}` is neither a JSON type nor a schema declared here")
    if name not in used:
        used[name] = {}  # placeholder first: a schema may refer to itself
        required = [f.name for f in schema.fields if not f.optional]
        used[name] = {
            "type": "object",
            "properties": {f.name: _schema(f.type, schemas, used) for f in schema.fields},
            "required": required,
            "additionalProperties": False,
        }
    return {"$ref": f"#/$defs/{name}"}
