"""``spec/ir.md`` documents every node, field and tag of the serialized IR."""

from __future__ import annotations

import typing
from pathlib import Path

import msgspec
import pytest
from ananke.ir import Enforcement, Lowered, Module
from ananke.ir.constraint import Constraint, Provenance

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "spec" / "ir.md").read_text(encoding="utf-8")


def _structs() -> list[type[msgspec.Struct]]:
    """Every struct reachable from Module, plus the enforcement records."""
    seen: dict[str, type[msgspec.Struct]] = {}

    def visit(t: msgspec.inspect.Type) -> None:
        if isinstance(t, msgspec.inspect.StructType):
            if t.cls.__name__ in seen:
                return
            seen[t.cls.__name__] = t.cls
            for f in t.fields:
                visit(f.type)
        for attr in ("item_type", "types", "item_types"):
            inner = getattr(t, attr, None)
            if isinstance(inner, tuple):
                for i in inner:
                    visit(i)
            elif inner is not None:
                visit(inner)

    for root in (Module, Enforcement):
        visit(msgspec.inspect.type_info(root))
    seen["Lowered"] = Lowered
    return list(seen.values())


def test_reaches_all_constraint_kinds() -> None:
    names = {cls.__name__ for cls in _structs()}
    assert {c.__name__ for c in typing.get_args(Constraint)} <= names
    assert {p.__name__ for p in typing.get_args(Provenance)} <= names


@pytest.mark.parametrize("cls", _structs(), ids=lambda c: c.__name__)
def test_every_field_is_documented(cls: type[msgspec.Struct]) -> None:
    for field in msgspec.structs.fields(cls):
        assert f"`{field.encode_name}`" in DOC, f"{cls.__name__}.{field.encode_name}"


@pytest.mark.parametrize("cls", _structs(), ids=lambda c: c.__name__)
def test_every_tag_is_documented(cls: type[msgspec.Struct]) -> None:
    tag = cls.__struct_config__.tag
    if tag is not None:
        assert f"`{tag}`" in DOC, f"{cls.__name__} tag {tag}"
