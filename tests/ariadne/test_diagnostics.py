"""Every Ariadne diagnostic: exact message text, code, severity and span."""

from __future__ import annotations

import pathlib

import pytest
from ananke.ariadne import decode_source, read_source
from ananke.ir.diagnostics import Diagnostic, Diagnostics

from tests.ariadne.ariadne_helpers import ROOT, compile_text, one_error

SEED = (ROOT / "examples" / "api_handler.ariadne").read_text("utf-8")


def where(d: Diagnostic) -> tuple[int, int, int, int]:
    span = d.primary_span
    assert span is not None
    return span.line, span.column, span.end_line, span.end_column


def secondary(d: Diagnostic) -> list[tuple[int, int, str]]:
    return [(lb.span.line, lb.span.column, lb.message) for lb in d.labels if not lb.primary]


# (source, code, message, primary span (line, col, end_line, end_col))
CASES = [
    # --- syntax: the table of typical mistakes ---
    (
        SEED.replace("max_lines: 100;", "max_lines: 100"),
        "syntax-error",
        "expected `;` after the value of `max_lines`, found `forbid`",
        (4, 19, 4, 19),
    ),
    (
        "schema S { a: int }",
        "syntax-error",
        "expected `;` after the type of field `a`, found `}`",
        (1, 18, 1, 18),
    ),
    (
        "constraint a {\n  max_lines 100;\n}",
        "syntax-error",
        "expected `:` after property name `max_lines`, found number `100`",
        (2, 13, 2, 16),
    ),
    (
        "constraint a { max_lines: ; }",
        "syntax-error",
        "expected a value for `max_lines`, found `;`",
        (1, 27, 1, 28),
    ),
    (
        "max_lines: 3;",
        "syntax-error",
        "expected `constraint`, `schema`, `import` or `let`, found `max_lines`",
        (1, 1, 1, 10),
    ),
    ("}", "syntax-error", "unexpected `}`: no block is open", (1, 1, 1, 2)),
    (
        "constraint {",
        "syntax-error",
        "expected a name after `constraint`, found `{`",
        (1, 12, 1, 13),
    ),
    (
        "constraint a ;",
        "syntax-error",
        "expected `{` or `extends` after `constraint a`, found `;`",
        (1, 14, 1, 15),
    ),
    (
        'constraint a { forbid: ["a" "b"]; }',
        "syntax-error",
        'expected `,` or `]` in the list of `forbid`, found string `"b"`',
        (1, 29, 1, 32),
    ),
    (
        "constraint a { returns: Result<A, B; }",
        "syntax-error",
        "expected `,` or `>` in the type arguments of `returns`, found `;`",
        (1, 36, 1, 37),
    ),
    (
        "constraint a { returns: List[int]; }",
        "syntax-error",
        "type arguments are written with `<...>`, found `[`",
        (1, 29, 1, 30),
    ),
    (
        'constraint a { "x": 1; }',
        "syntax-error",
        'expected a property name or `}` in constraint `a`, found string `"x"`',
        (1, 16, 1, 19),
    ),
    ('constraint a { doc: "abc; }', "syntax-error", "unterminated string", (1, 21, 1, 28)),
    ("constraint a { /* x ", "syntax-error", "unterminated block comment", (1, 16, 1, 18)),
    (
        "constraint a { forbid: ['x']; }",
        "syntax-error",
        "unexpected `'`: strings are written in double quotes",
        (1, 25, 1, 26),
    ),
    ("# c\n", "syntax-error", "unexpected `#`: comments start with `//`", (1, 1, 1, 2)),
    ("constraint a { x: 1 $ }", "syntax-error", "unexpected character `$`", (1, 21, 1, 22)),
    (
        "constraint a { x: \x01; }",
        "syntax-error",
        "unexpected character U+0001",
        (1, 19, 1, 20),
    ),
    # --- strings and nesting ---
    (
        'constraint a { doc: "a\\qb"; }',
        "invalid-escape",
        "invalid escape `\\q` in string",
        (1, 23, 1, 25),
    ),
    (
        'constraint a { doc: "\\u{110000}"; }',
        "invalid-escape",
        "invalid escape `\\u{110000}` in string",
        (1, 22, 1, 32),
    ),
    (
        'constraint a { doc: "\\u0041"; }',
        "invalid-escape",
        "invalid escape `\\u` in string",
        (1, 22, 1, 24),
    ),
    (
        "constraint a { returns: " + "A<" * 33 + "B" + ">" * 33 + "; }",
        "nesting-too-deep",
        "value nested 34 levels deep; at most 32 are allowed",
        (1, 25, 1, 26),
    ),
    # --- checking ---
    ("", "empty-file", "file defines no constraints or schemas", (1, 1, 1, 1)),
    (
        "constraint a { max_line: 5; }",
        "unknown-property",
        "unknown property `max_line` in constraint `a`",
        (1, 16, 1, 24),
    ),
    (
        "constraint a {\n  max_lines: 5;\n  max_lines: 6;\n}",
        "duplicate-property",
        "property `max_lines` is given twice in constraint `a`",
        (3, 3, 3, 12),
    ),
    (
        'constraint a { max_lines: "ten"; }',
        "type-mismatch",
        "`max_lines` expects a positive integer, found a string",
        (1, 27, 1, 32),
    ),
    (
        "constraint a { forbid: eval; }",
        "type-mismatch",
        "`forbid` expects a list of strings, found a name",
        (1, 24, 1, 28),
    ),
    (
        'constraint a { forbid: ["ok", eval]; }',
        "type-mismatch",
        "`forbid` items are strings, found a name",
        (1, 31, 1, 35),
    ),
    (
        "constraint a { returns: 3; }",
        "type-mismatch",
        "`returns` expects a type, found an integer",
        (1, 25, 1, 26),
    ),
    (
        "constraint a { signature: f; }",
        "type-mismatch",
        "`signature` expects a signature, found a name",
        (1, 27, 1, 28),
    ),
    (
        "constraint a { params: a; }",
        "type-mismatch",
        "`params` expects a parameter list, found a name",
        (1, 24, 1, 25),
    ),
    (
        "constraint a { name: a.b; }",
        "type-mismatch",
        "`name` expects a function name, found a dotted name",
        (1, 22, 1, 25),
    ),
    (
        'constraint a { imports: ["os"]; }',
        "type-mismatch",
        "`imports` expects an object with `allow` and/or `deny`, found a list",
        (1, 25, 1, 31),
    ),
    (
        "constraint a { validates: List<int>; }",
        "type-mismatch",
        "`validates` expects a schema or validator name, found a type",
        (1, 27, 1, 36),
    ),
    (
        "constraint a { max_lines: 0; }",
        "invalid-value",
        "`max_lines: 0` allows no output; a limit is at least 1",
        (1, 27, 1, 28),
    ),
    (
        'constraint a { params: (x = "\\u{1F600}"); }',
        "invalid-value",
        "the default of `x` is not a Python expression",
        (1, 29, 1, 40),
    ),
    (
        "constraint a { max_tokens: -3; }",
        "invalid-value",
        "`max_tokens: -3` is not a size; a limit is at least 1",
        (1, 28, 1, 30),
    ),
    (
        "constraint a { max_lines: 100001; }",
        "invalid-value",
        "`max_lines` is at most 100,000, found 100001",
        (1, 27, 1, 33),
    ),
    (
        'constraint a { forbid: ["os..system"]; }',
        "invalid-value",
        "`os..system` is not an identifier or dotted name",
        (1, 25, 1, 37),
    ),
    (
        "constraint a { require: []; }",
        "invalid-value",
        "`require: []` names nothing",
        (1, 25, 1, 27),
    ),
    (
        "constraint a { naming: kebab; }",
        "invalid-value",
        "unknown naming style `kebab`",
        (1, 24, 1, 29),
    ),
    (
        "constraint a { imports: {}; }",
        "invalid-value",
        "`imports` needs `allow`, `deny` or both",
        (1, 25, 1, 27),
    ),
    (
        'constraint a { imports: { allow: ["os"], deny: ["os"] }; }',
        "invalid-value",
        "module `os` is both allowed and denied",
        (1, 49, 1, 53),
    ),
    (
        "constraint a { params: (a, a); }",
        "invalid-value",
        "parameter `a` appears twice",
        (1, 28, 1, 29),
    ),
    (
        "constraint a { params: (*); }",
        "invalid-value",
        "a bare `*` must be followed by a keyword-only parameter",
        (1, 25, 1, 26),
    ),
    (
        "constraint a { params: (**kw, a); }",
        "invalid-value",
        "`**` parameter must come last",
        (1, 27, 1, 29),
    ),
    (
        "constraint a { params: (def); }",
        "invalid-value",
        "`def` is a Python keyword and cannot be a parameter name",
        (1, 25, 1, 28),
    ),
    (
        'constraint a { matches: "a(b"; }',
        "invalid-regex",
        "invalid regular expression: missing ), unterminated subpattern at position 1 of the"
        " pattern",
        (1, 25, 1, 30),
    ),
    (
        "constraint a { language: rust; }",
        "unsupported-language",
        "unsupported language `rust`",
        (1, 26, 1, 30),
    ),
    (
        "constraint a { max_lines: 1; }\nconstraint a { max_lines: 2; }",
        "duplicate-definition",
        "constraint `a` is defined twice",
        (2, 12, 2, 13),
    ),
    (
        "schema S { x: int; }\nschema S { y: int; }",
        "duplicate-definition",
        "schema `S` is defined twice",
        (2, 8, 2, 9),
    ),
    (
        "constraint a {\n  signature: h() -> int;\n  returns: str;\n}",
        "conflicting-properties",
        "`returns` disagrees with `signature`: the signature returns `int`",
        (3, 3, 3, 16),
    ),
    (
        "constraint a {\n  signature: h(x);\n  params: (y);\n}",
        "conflicting-properties",
        "`params` disagrees with `signature`: the signature's parameters differ",
        (3, 3, 3, 15),
    ),
]


@pytest.mark.parametrize(("text", "code", "message", "span"), CASES, ids=[c[2][:50] for c in CASES])
def test_exact_message_and_span(
    text: str, code: str, message: str, span: tuple[int, int, int, int]
) -> None:
    d = one_error(text)
    assert (d.code, d.message) == (code, message)
    assert where(d) == span


def test_unclosed_block_at_end_of_file_names_the_block_and_points_at_its_brace() -> None:
    d = one_error("constraint api_handler {\n    max_lines: 100;\n")
    assert d.message == "unclosed `{` of constraint `api_handler`"
    assert where(d) == (2, 20, 2, 20)
    assert secondary(d) == [(1, 24, "constraint `api_handler` opened here")]


def test_unclosed_block_followed_by_another_block() -> None:
    d = one_error("constraint a {\n  max_lines: 1;\nconstraint b { }\n")
    assert d.message == "unclosed `{` of constraint `a`"
    assert where(d) == (3, 1, 3, 13)
    assert secondary(d) == [(1, 14, "constraint `a` opened here")]
    assert d.help == "add `}` before `constraint b`"


def test_unclosed_list_at_end_of_file() -> None:
    d = one_error('constraint a { forbid: ["a"')
    assert d.message == "unclosed `[` in the value of `forbid`"
    assert secondary(d) == [(1, 24, "opened here")]


def test_missing_colon_with_equals_has_help() -> None:
    d = one_error("constraint a { max_lines = 1; }")
    assert d.message == "expected `:` after property name `max_lines`, found `=`"
    assert d.help == "write `max_lines: value;`"


def test_misspelt_keyword_suggests_the_keyword() -> None:
    d = one_error("constrain a {}")
    assert d.help == "did you mean `constraint`?"


def test_property_outside_a_block_says_so() -> None:
    d = one_error("max_lines: 3;")
    assert d.help == "properties go inside a block: `constraint NAME { property: value; }`"


def test_unknown_property_suggests_the_closest() -> None:
    d = one_error("constraint a { max_line: 5; }")
    assert d.help == "did you mean `max_lines`?"
    d = one_error("constraint a { forbidden: []; }")
    assert d.help == "did you mean `forbid`?"
    d = one_error("constraint a { zzz: 1; }")
    assert d.help is None


def test_duplicate_property_labels_both() -> None:
    d = one_error("constraint a {\n  max_lines: 5;\n  max_lines: 6;\n}")
    assert secondary(d) == [(2, 3, "first given here")]


def test_duplicate_definition_labels_both() -> None:
    d = one_error("constraint a { }\nconstraint a { }")
    assert secondary(d) == [(1, 12, "first defined here")]


def test_conflicting_name_labels_the_signature() -> None:
    d = one_error("constraint a {\n  signature: h();\n  name: g;\n}")
    assert d.message == "`name` disagrees with `signature`: the signature names `h`"
    assert secondary(d) == [(2, 3, "disagrees with this")]


def test_unknown_naming_style_suggests() -> None:
    d = one_error("constraint a { naming: snak; }")
    assert (
        d.help == "did you mean `snake`? styles: snake, camel, pascal, screaming, or a regex string"
    )


def test_unsupported_language_lists_supported() -> None:
    assert one_error("constraint a { language: rust; }").help == "supported languages: python, json"


def test_several_errors_are_all_reported() -> None:
    module, diags = compile_text(
        'constraint a {\n  max_lines: 0;\n  forbid: eval;\n  colour: "red";\n}'
    )
    assert module is None
    assert [d.code for d in diags] == ["invalid-value", "type-mismatch", "unknown-property"]


def test_duplicate_list_item_is_a_warning_and_kept_once() -> None:
    module, diags = compile_text('constraint a { forbid: ["eval", "eval"]; }')
    assert module is not None
    assert [(d.code, d.severity, d.message) for d in diags] == [
        ("duplicate-item", "warning", "`eval` is listed twice in `forbid`")
    ]
    assert [c.id for c in module.sets[0].constraints] == ["a.forbid.eval"]


def test_unknown_schema_warning_only_when_close_to_a_declared_schema() -> None:
    module, diags = compile_text(
        "schema UserInput { a: int; }\nconstraint f { validates: UserInptu; }"
    )
    assert module is not None
    (d,) = diags
    assert (d.code, d.severity) == ("unknown-schema", "warning")
    assert d.message == "`UserInptu` is not a schema declared in this file"
    assert d.help == "did you mean `UserInput`?"
    assert where(d) == (2, 27, 2, 36)
    assert secondary(d) == [(1, 8, "schema `UserInput` declared here")]
    # Far from every schema: a validator in the user's code, silently.
    module, diags = compile_text("schema UserInput { a: int; }\nconstraint f { validates: check; }")
    assert module is not None and list(diags) == []
    # No schema at all: never a warning (the seed's case).
    module, diags = compile_text("constraint f { validates: input_schem; }")
    assert module is not None and list(diags) == []


# --- reading files ---------------------------------------------------------------------


def _read(path: pathlib.Path) -> Diagnostic:
    diags = Diagnostics()
    assert read_source(path, diags) is None
    (d,) = diags
    return d


def test_invalid_utf8_points_at_the_first_bad_byte(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.ariadne"
    path.write_bytes('constraint a {\n  doc: "é'.encode() + b'\xff\xfe";\n}\n')
    d = _read(path)
    assert d.code == "invalid-utf8"
    assert d.message == "file is not valid UTF-8: byte 0xff at byte offset 25"
    assert where(d) == (2, 10, 2, 11)


def test_binary_points_at_the_first_nul(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bin.ariadne"
    path.write_bytes(b"ab\ncd\x00ef\xff")
    d = _read(path)
    assert d.code == "binary-file"
    assert d.message == "file contains NUL bytes; it looks binary, not Ariadne source"
    assert where(d) == (2, 3, 2, 4)


def test_missing_file(tmp_path: pathlib.Path) -> None:
    d = _read(tmp_path / "nope.ariadne")
    assert d.code == "unreadable-file"
    assert d.message.startswith(f"cannot read `{tmp_path / 'nope.ariadne'}`: ")
    assert where(d) == (1, 1, 1, 1)


def test_directory_is_unreadable(tmp_path: pathlib.Path) -> None:
    assert _read(tmp_path).code == "unreadable-file"


def test_too_large_file_is_refused_without_reading(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "big.ariadne"
    with path.open("wb") as f:
        f.truncate(10 * 1024 * 1024)  # sparse: cheap to create
    d = _read(path)
    assert d.code == "file-too-large"
    assert d.message == "file is 10,485,760 bytes; the limit is 8,388,608"


def test_decode_source_accepts_utf8() -> None:
    diags = Diagnostics()
    source = decode_source("x", "constraint é {}".encode(), diags)
    assert source is not None and source.text == "constraint é {}" and list(diags) == []
