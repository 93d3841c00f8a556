"""Rendering neutral type expressions as Python annotations (shared by grammar and validator)."""

from __future__ import annotations

import ast

import pytest
from ananke.ir.constraint import TypeExpr
from ananke.languages.python.types import render_type


def t(name: str, *args: TypeExpr) -> TypeExpr:
    return TypeExpr(name=name, args=args)


@pytest.mark.parametrize(
    ("texpr", "first"),
    [
        (t("Result", t("Response"), t("Error")), "Result[Response, Error]"),
        (t("Response"), "Response"),
        (t("List", t("Int")), "list[int]"),
        (t("Dict", t("String"), t("List", t("Bool"))), "dict[str, list[bool]]"),
        (t("Set", t("Bytes")), "set[bytes]"),
        (t("Tuple", t("Int"), t("Float")), "tuple[int, float]"),
        (t("Option", t("User")), "Optional[User]"),
        (t("pkg.models.User"), "pkg.models.User"),
    ],
)
def test_canonical_spelling_comes_first(texpr: TypeExpr, first: str) -> None:
    assert render_type(texpr)[0] == first


def test_option_spellings() -> None:
    assert render_type(t("Option", t("T"))) == ["Optional[T]", "T | None", "None | T"]


def test_neutral_generics_accept_typing_names_too() -> None:
    out = render_type(t("List", t("Int")))
    assert "list[int]" in out and "List[int]" in out


def test_arguments_combine_every_spelling() -> None:
    out = render_type(t("Result", t("Option", t("A")), t("B")))
    assert "Result[Optional[A], B]" in out
    assert "Result[A | None, B]" in out
    assert len(out) == len(set(out))


@pytest.mark.parametrize(
    "texpr",
    [
        t("Result", t("Response"), t("Error")),
        t("Option", t("Dict", t("String"), t("List", t("Int")))),
        t("Tuple", t("Option", t("A")), t("Set", t("B"))),
    ],
)
def test_every_spelling_is_a_python_expression(texpr: TypeExpr) -> None:
    for spelling in render_type(texpr):
        tree = ast.parse(spelling, mode="eval")
        assert ast.unparse(tree) == spelling
