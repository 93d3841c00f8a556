"""Rendering language-neutral type expressions as Python annotations."""

from __future__ import annotations

from ananke.ir.constraint import TypeExpr

__all__ = ["render_type"]

_BUILTIN_GENERICS = {
    "List": "list",
    "Dict": "dict",
    "Map": "dict",
    "Set": "set",
    "Tuple": "tuple",
    "FrozenSet": "frozenset",
}
_SCALARS = {"String": "str", "Int": "int", "Float": "float", "Bool": "bool", "Bytes": "bytes"}


def render_type(t: TypeExpr) -> list[str]:
    """Every spelling of ``t`` that Python code may use, the canonical one first.

    ``Result<Response, Error>`` → ``Result[Response, Error]``; the neutral ``List``,
    ``Dict``/``Map``, ``Set``, ``Tuple`` become the builtins (``typing``'s capitalised
    names are accepted too); ``Option<T>`` (or ``Optional<T>``) is ``Optional[T]``, ``T | None`` or
    ``None | T``. Arguments combine every spelling of each argument.
    """
    arg_spellings = [render_type(a) for a in t.args]
    combos: list[list[str]] = [[]]
    for spellings in arg_spellings:
        combos = [[*c, s] for c in combos for s in spellings]
    if t.name in ("Option", "Optional") and len(t.args) == 1:
        out: list[str] = []
        for (inner,) in combos:
            out += [f"Optional[{inner}]", f"{inner} | None", f"None | {inner}"]
        return _unique(out)
    if not t.args:
        return _unique([_SCALARS.get(t.name, t.name)])
    heads = [_BUILTIN_GENERICS[t.name], t.name] if t.name in _BUILTIN_GENERICS else [t.name]
    if t.name == "Map":
        heads.append("Dict")
    return _unique([f"{h}[{', '.join(c)}]" for h in heads for c in combos])


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
