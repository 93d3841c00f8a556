"""Diagnostic renderers: snapshots of each format and exact checks of the layout rules."""

from __future__ import annotations

import json

import pytest
from ananke.ir import Diagnostic, Label, SourceFile
from ananke.ir.render import render
from syrupy.assertion import SnapshotAssertion

SOURCE = SourceFile(
    "api.ariadne",
    "constraint api {\n"
    "\tretuns: Result<Response, Error>;\n"
    "    max_lines: 0;\n"
    "    returns: int;\n"
    "    returns: str;\n"
    '    doc: "long\n'
    'text";\n'
    "}\n",
)
OTHER = SourceFile("lib.ariadne", "schema input_schema { name: str; }\n")


def _at(source: SourceFile, needle: str, length: int | None = None) -> tuple[int, int]:
    start = source.text.index(needle)
    return start, start + (len(needle) if length is None else length)


DIAGNOSTICS = [
    Diagnostic(
        code="unknown-property",
        severity="error",
        message="unknown property `retuns`",
        labels=(Label(span=SOURCE.span(*_at(SOURCE, "retuns")), message="not a property"),),
        help="did you mean `returns`?",
    ),
    Diagnostic(
        code="duplicate-property",
        severity="error",
        message="property `returns` is given twice",
        labels=(
            Label(span=SOURCE.span(*_at(SOURCE, "returns: str", 7)), message="given again here"),
            Label(
                span=SOURCE.span(*_at(SOURCE, "returns: int", 7)),
                message="first given here",
                primary=False,
            ),
        ),
        notes=("a property appears at most once per constraint",),
    ),
    Diagnostic(
        code="limit-too-small",
        severity="warning",
        message="`max_lines` must be at least 1",
        labels=(
            Label(span=SOURCE.span(*_at(SOURCE, "0;", 1)), message="found 0"),
            Label(
                span=OTHER.span(*_at(OTHER, "input_schema")),
                message="declared here",
                primary=False,
            ),
        ),
    ),
    Diagnostic(
        code="multiline",
        severity="error",
        message="a string spans lines",
        labels=(Label(span=SOURCE.span(*_at(SOURCE, '"long\ntext"')), message="this string"),),
    ),
    Diagnostic(code="usage", severity="error", message="no input files", help="give a FILE"),
    Diagnostic(
        code="cir-corrupt",
        severity="error",
        message="`x.cir` is not valid MessagePack",
        labels=(Label(span=SourceFile("x.cir", "").span(0), message="here"),),
    ),
]
SOURCES = {"api.ariadne": SOURCE, "lib.ariadne": OTHER}


@pytest.mark.parametrize("fmt", ["full", "short", "json"])
def test_snapshot(fmt: str, snapshot: SnapshotAssertion) -> None:
    assert render(DIAGNOSTICS, SOURCES, fmt, color=False) == snapshot  # type: ignore[arg-type]


def test_full_with_colour_snapshot(snapshot: SnapshotAssertion) -> None:
    text = render(DIAGNOSTICS[:2], SOURCES, "full", color=True)
    assert "\x1b[" in text
    assert text == snapshot


@pytest.mark.parametrize("fmt", ["full", "short"])
def test_no_colour_means_no_escape_codes(fmt: str) -> None:
    assert "\x1b" not in render(DIAGNOSTICS, SOURCES, fmt, color=False)  # type: ignore[arg-type]


def test_colour_text_equals_plain_text_without_escapes() -> None:
    import re

    plain = render(DIAGNOSTICS, SOURCES, "full", color=False)
    coloured = render(DIAGNOSTICS, SOURCES, "full", color=True)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_carets_sit_under_the_primary_span_with_tabs_expanded() -> None:
    lines = render(DIAGNOSTICS[:1], SOURCES, "full", color=False).splitlines()
    source_line = next(line for line in lines if line.startswith("2 |"))
    marker_line = lines[lines.index(source_line) + 1]
    column = marker_line.index("^")
    assert source_line[column : column + 6] == "retuns"
    assert marker_line[column:] == "^^^^^^ not a property"
    assert "\t" not in source_line


def test_secondary_label_on_another_line_is_dashed_and_shown_first() -> None:
    text = render(DIAGNOSTICS[1:2], SOURCES, "full", color=False)
    assert text.index("4 |     returns: int;") < text.index("5 |     returns: str;")
    assert "  |     ------- first given here\n" in text
    assert "  |     ^^^^^^^ given again here\n" in text


def test_label_in_another_file_gets_its_own_header() -> None:
    text = render(DIAGNOSTICS[2:3], SOURCES, "full", color=False)
    assert " --> api.ariadne:3:16\n" in text
    assert " ::: lib.ariadne:1:8\n" in text


def test_multiline_span_marks_its_first_line() -> None:
    text = render(DIAGNOSTICS[3:4], SOURCES, "full", color=False)
    assert '6 |     doc: "long\n  |          ^^^^^ this string (continues to line 7)\n' in text


def test_diagnostic_without_span_has_no_excerpt() -> None:
    assert render(DIAGNOSTICS[4:5], SOURCES, "full", color=False) == (
        "error[usage]: no input files\n = help: give a FILE\n"
    )
    assert render(DIAGNOSTICS[4:5], SOURCES, "short", color=False) == (
        "error[usage]: no input files\n"
    )


def test_unknown_source_shows_position_only() -> None:
    text = render(DIAGNOSTICS[5:6], SOURCES, "full", color=False)
    assert (
        text == "error[cir-corrupt]: `x.cir` is not valid MessagePack\n --> x.cir:1:1\n  = here\n"
    )


def test_short_is_one_line_per_diagnostic() -> None:
    lines = render(DIAGNOSTICS, SOURCES, "short", color=False).splitlines()
    assert len(lines) == len(DIAGNOSTICS)
    assert lines[0] == "api.ariadne:2:2: error[unknown-property]: unknown property `retuns`"
    assert lines[2].startswith("api.ariadne:3:16: warning[limit-too-small]: ")


def test_json_carries_every_field() -> None:
    data = json.loads(render(DIAGNOSTICS, SOURCES, "json", color=False))
    assert [d["code"] for d in data] == [d.code for d in DIAGNOSTICS]
    dup = data[1]
    assert dup["notes"] == ["a property appears at most once per constraint"]
    assert dup["help"] is None
    first, second = dup["labels"]
    assert (first["primary"], second["primary"]) == (True, False)
    span = DIAGNOSTICS[1].labels[1].span
    assert second == {
        "file": "api.ariadne",
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "start": span.start,
        "end": span.end,
        "message": "first given here",
        "primary": False,
    }


def test_json_of_nothing_is_an_empty_array() -> None:
    assert json.loads(render([], {}, "json", color=False)) == []
    assert render([], {}, "full", color=False) == ""


def test_empty_span_at_end_of_line_gets_one_caret() -> None:
    src = SourceFile("t.ariadne", "constraint x {\n")
    d = Diagnostic(
        code="unexpected-eof",
        severity="error",
        message="the file ends inside `constraint x`",
        labels=(Label(span=src.span(len(src.text) - 1), message="expected `}`"),),
    )
    assert render([d], {"t.ariadne": src}, "full", color=False) == (
        "error[unexpected-eof]: the file ends inside `constraint x`\n"
        " --> t.ariadne:1:15\n"
        "  |\n"
        "1 | constraint x {\n"
        "  |               ^ expected `}`\n"
    )


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown diagnostic format"):
        render([], {}, "sarif", color=False)  # type: ignore[arg-type]


def test_long_line_is_shown_as_a_window_around_the_label() -> None:
    text = "x" * 5000 + " bad " + "y" * 5000
    src = SourceFile("long.ariadne", text)
    start = text.index("bad")
    d = Diagnostic(
        code="syntax-error",
        severity="error",
        message="unexpected `bad`",
        labels=(Label(span=src.span(start, start + 3), message="here"),),
    )
    lines = render([d], {"long.ariadne": src}, "full", color=False).splitlines()
    source_line, marker_line = lines[3], lines[4]
    assert source_line.startswith("1 | ...") and source_line.endswith("...")
    assert len(source_line) < 200
    column = marker_line.index("^")
    assert source_line[column : column + 3] == "bad"
    assert marker_line[column:] == "^^^ here"


def test_plain_rendering_does_not_import_rich() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from ananke.ir import Diagnostic\n"
        "from ananke.ir.render import render\n"
        "d = Diagnostic(code='x', severity='error', message='m')\n"
        "for fmt in ('full', 'short', 'json'):\n"
        "    render([d], {}, fmt, color=False)\n"
        "print('rich' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd="/"
    ).stdout
    assert out == "False\n"
