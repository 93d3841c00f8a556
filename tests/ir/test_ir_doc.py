"""``spec/ir.md`` documents every node, field, default and tag of the serialized IR, each
in its own section.

The page is read as Markdown: headings split it into sections, and a section documents
a struct in its field table (first column ``Field``; a ``Default`` column says
``required`` or the JSON value a reader fills in). A struct's section is the heading
named after the class (``Span``), or for a member of a tagged union the heading naming
its tag in its family's section (``### `returns``` under ``Constraints``); grammar
expressions are rows of the ``Expressions`` table. A field mentioned elsewhere on the
page does not count.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
from ananke.ir import Enforcement, Lowered, Module
from ananke.ir import constraint as constraint_mod
from ananke.ir import grammar as grammar_mod
from ananke.ir import plan as plan_mod
from ananke.ir import source as source_mod
from ananke.ir.constraint import Constraint, Provenance

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "spec" / "ir.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Section:
    level: int
    title: str
    parents: tuple[str, ...]
    """Titles of the enclosing sections, outermost first."""
    text: str
    """The section's own text, up to the next heading of any level."""


def _sections(doc: str) -> list[Section]:
    out: list[Section] = []
    stack: list[tuple[int, str]] = []
    body: list[str] = []
    fence = False

    def close() -> None:
        if stack:
            level, title = stack[-1]
            parents = tuple(t for _, t in stack[:-1])
            out.append(Section(level, title, parents, "\n".join(body)))
        body.clear()

    for line in doc.splitlines():
        if line.startswith("```"):
            fence = not fence
        heading = None if fence else re.match(r"(#{1,6}) (.+)", line)
        if heading is None:
            body.append(line)
            continue
        close()
        level = len(heading[1])
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading[2].strip()))
    close()
    return out


SECTIONS = _sections(DOC)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def _tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """(header, rows) of each table in ``text``."""
    out: list[tuple[list[str], list[list[str]]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("| ---"):
            header = _cells(lines[i])
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            out.append((header, rows))
        else:
            i += 1
    return out


_NAME = re.compile(r"`(\w+)`")


def _documented(section: Section) -> list[tuple[str, str]]:
    """(field, default) for each field the section's field tables list, in order."""
    out: list[tuple[str, str]] = []
    for header, rows in _tables(section.text):
        if header[0] != "Field":
            continue
        assert "Default" in header, f"{section.title}: a field table without a Default column"
        at = header.index("Default")
        for row in rows:
            names = _NAME.findall(row[0])
            assert names and ", ".join(f"`{n}`" for n in names) == row[0], row[0]
            out.extend((name, row[at]) for name in names)
    return out


def _default(field: msgspec.structs.FieldInfo) -> str:
    """How the page writes a field's default: ``required``, or the JSON value in ticks."""
    if field.required:
        return "required"
    value = field.default if field.default is not msgspec.NODEFAULT else field.default_factory()
    return f"`{msgspec.json.encode(value).decode()}`"


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


STRUCTS = _structs()


def _family(cls: type[msgspec.Struct]) -> str | None:
    """The section holding the tagged union ``cls`` belongs to."""
    if cls.__struct_config__.tag is None:
        return None
    if issubclass(cls, grammar_mod.GNode):
        return "Expressions"
    if cls in typing.get_args(Constraint):
        return "Constraints"
    if cls in typing.get_args(Provenance):
        return "Provenance"
    raise AssertionError(f"{cls.__name__}: a tagged struct of no known union")


def _own_fields(cls: type[msgspec.Struct]) -> list[msgspec.structs.FieldInfo]:
    """The fields a struct's own section lists: a constraint's common fields are listed
    once, in the Constraints section."""
    common = {f.name for f in msgspec.structs.fields(constraint_mod._ConstraintBase)}
    fields = msgspec.structs.fields(cls)
    if _family(cls) == "Constraints":
        return [f for f in fields if f.name not in common]
    return list(fields)


def _section_of(cls: type[msgspec.Struct]) -> Section:
    tag = cls.__struct_config__.tag
    family = _family(cls)
    if family is None:
        found = [s for s in SECTIONS if s.title == cls.__name__]
    else:
        found = [s for s in SECTIONS if s.title == f"`{tag}`" and s.parents[-1:] == (family,)]
    assert len(found) == 1, f"{cls.__name__}: {len(found)} sections, one expected"
    return found[0]


def test_every_ir_struct_is_checked() -> None:
    """No struct of the IR modules escapes the walk from Module (a new node type that no
    field reaches yet is still documented)."""
    checked = set(STRUCTS)
    for mod in (constraint_mod, grammar_mod, plan_mod, source_mod):
        for value in vars(mod).values():
            if (
                isinstance(value, type)
                and issubclass(value, msgspec.Struct)
                and value.__module__ == mod.__name__
                and not value.__name__.startswith("_")
                and not value.__subclasses__()
            ):
                assert value in checked, value.__name__


def test_reaches_all_constraint_kinds() -> None:
    names = {cls.__name__ for cls in STRUCTS}
    assert {c.__name__ for c in typing.get_args(Constraint)} <= names
    assert {p.__name__ for p in typing.get_args(Provenance)} <= names


def _untagged(cls: type[msgspec.Struct]) -> bool:
    return _family(cls) != "Expressions"


@pytest.mark.parametrize("cls", [c for c in STRUCTS if _untagged(c)], ids=lambda c: c.__name__)
def test_each_section_lists_exactly_its_fields(cls: type[msgspec.Struct]) -> None:
    section = _section_of(cls)
    want = [(f.encode_name, _default(f)) for f in _own_fields(cls)]
    assert _documented(section) == want, f"{cls.__name__} in section {section.title!r}"


def test_constraints_section_lists_the_common_fields() -> None:
    (section,) = [s for s in SECTIONS if s.title == "Constraints"]
    common = msgspec.structs.fields(constraint_mod._ConstraintBase)
    want = [("kind", "required"), *((f.encode_name, _default(f)) for f in common)]
    assert _documented(section) == want


def test_each_union_names_its_tag_field() -> None:
    """The field that carries the tag, in words in its family's section."""
    for family, base in (
        ("Constraints", typing.get_args(Constraint)[0]),
        ("Provenance", typing.get_args(Provenance)[0]),
        ("Expressions", grammar_mod.Lit),
    ):
        tag_field = base.__struct_config__.tag_field
        (section,) = [s for s in SECTIONS if s.title == family]
        assert f"`{tag_field}`" in section.text, family


def _expression_rows() -> dict[str, list[str]]:
    (section,) = [s for s in SECTIONS if s.title == "Expressions"]
    ((header, rows),) = _tables(section.text)
    assert header[:2] == ["`type`", "Fields"], header
    return {row[0]: row for row in rows}


_EXPRESSIONS = [c for c in STRUCTS if not _untagged(c)]


def test_the_expression_table_has_one_row_per_expression() -> None:
    tags = {f"`{c.__struct_config__.tag}`" for c in _EXPRESSIONS}
    union = typing.get_args(grammar_mod.Expr)
    assert len(union) == len(_EXPRESSIONS) and all(c in _EXPRESSIONS for c in union)
    assert set(_expression_rows()) == tags


@pytest.mark.parametrize("cls", _EXPRESSIONS, ids=lambda c: c.__name__)
def test_each_expression_row_lists_exactly_its_fields(cls: type[msgspec.Struct]) -> None:
    """A row lists the fields as `name`, with `(default X)` after an optional one, and
    `none` for an expression without fields."""
    cell = _expression_rows()[f"`{cls.__struct_config__.tag}`"][1]
    written = re.findall(r"`(\w+)`(?: \(default (`[^`]*`)\))?", cell)
    want = [(f.encode_name, "" if f.required else _default(f)) for f in _own_fields(cls)]
    assert written == want, cell
    if not want:
        assert cell == "none", cell
