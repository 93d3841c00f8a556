"""Ariadne → ConstraintIR: the seed, every property, spans, ids and the public API."""

from __future__ import annotations

import pathlib

import pytest
from ananke.ariadne import STD_MODULES, compile_source, parse, read_source, std_source
from ananke.ir.constraint import (
    Doc,
    Forbid,
    FunctionName,
    ImportPolicy,
    Limit,
    Matches,
    Naming,
    Param,
    Params,
    Require,
    Returns,
    Signature,
    SourceProvenance,
    TypeExpr,
    Validates,
)
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.source import SourceFile

from tests.ariadne.ariadne_helpers import EXAMPLES, compile_ok, compile_text

SEED = (EXAMPLES / "api_handler.ariadne").read_text("utf-8")


def test_seed_compiles_exactly_as_written_with_no_diagnostics() -> None:
    diags = Diagnostics()
    source = read_source(EXAMPLES / "api_handler.ariadne", diags)
    assert source is not None
    module = compile_source(source, diags)
    assert list(diags) == []
    assert module is not None
    assert module.sources == (str(EXAMPLES / "api_handler.ariadne"),)
    assert module.schemas == ()
    (s,) = module.sets
    assert s.name == "api_handler"
    assert s.language == "python"
    assert [c.id for c in s.constraints] == [
        "api_handler.returns",
        "api_handler.validates",
        "api_handler.max_lines",
        "api_handler.forbid.eval",
        "api_handler.forbid.exec",
    ]
    returns, validates, limit, f_eval, f_exec = s.constraints
    assert isinstance(returns, Returns)
    assert returns.type == TypeExpr(
        name="Result", args=(TypeExpr(name="Response"), TypeExpr(name="Error"))
    )
    assert str(returns.type) == "Result<Response, Error>"
    assert isinstance(validates, Validates)
    assert (validates.target, validates.schema) == ("input_schema", None)
    assert isinstance(limit, Limit)
    assert (limit.metric, limit.max) == ("lines", 100)
    assert isinstance(f_eval, Forbid) and f_eval.name == "eval"
    assert isinstance(f_exec, Forbid) and f_exec.name == "exec"
    for c in s.constraints:
        assert c.strength == "hard"
        assert c.priority == 0
        assert isinstance(c.provenance, SourceProvenance)


def _span_text(text: str, c: object) -> str:
    prov = c.provenance  # type: ignore[attr-defined]
    return text[prov.span.start : prov.span.end]


def test_seed_provenance_spans_point_at_the_property_and_list_items() -> None:
    s = compile_ok(SEED).sets[0]
    texts = [_span_text(SEED, c) for c in s.constraints]
    assert texts == [
        "returns: Result<Response, Error>;",
        "validates: input_schema;",
        "max_lines: 100;",
        '"eval"',
        '"exec"',
    ]
    spans = [c.provenance.span for c in s.constraints]  # type: ignore[union-attr]
    assert [(sp.line, sp.column) for sp in spans] == [(2, 5), (3, 5), (4, 5), (5, 14), (5, 22)]
    assert (spans[3].end_line, spans[3].end_column) == (5, 20)
    assert s.span is not None and (s.span.line, s.span.end_line) == (1, 6)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ariadne")), ids=lambda p: p.name)
def test_every_example_compiles_without_diagnostics(path: pathlib.Path) -> None:
    diags = Diagnostics()
    source = read_source(path, diags)
    assert source is not None
    assert compile_source(source, diags) is not None
    assert list(diags) == []


def _only(text: str, body: str) -> tuple[object, ...]:
    module = compile_ok(f"constraint f {{\n    {body}\n}}\n")
    return module.sets[0].constraints


def test_language() -> None:
    module = compile_ok("constraint f { language: python; }")
    assert module.sets[0].language == "python"
    assert module.sets[0].constraints == ()


def test_name() -> None:
    (c,) = _only("", "name: handle_request;")
    assert isinstance(c, FunctionName) and c.name == "handle_request" and c.id == "f.name"


def test_params_all_kinds() -> None:
    (c,) = _only("", "params: (self, request: Request, *, timeout: float = 1.0, **extra);")
    assert isinstance(c, Params) and c.id == "f.params"
    assert c.params == (
        Param(name="self"),
        Param(name="request", type=TypeExpr(name="Request")),
        Param(name="timeout", type=TypeExpr(name="float"), default="1.0", kind="keyword_only"),
        Param(name="extra", kind="var_keyword"),
    )


def test_params_defaults_are_kept_as_source_text() -> None:
    text = 'params: (a = -1, b = "x\\n", c = foo.bar(1, k=[2, 3]), *args: int, d = {"k": None});'
    (c,) = _only("", text)
    assert isinstance(c, Params)
    assert [(p.name, p.default, p.kind) for p in c.params] == [
        ("a", "-1", "positional"),
        ("b", '"x\\n"', "positional"),
        ("c", "foo.bar(1, k=[2, 3])", "positional"),
        ("args", None, "var_positional"),
        ("d", '{"k": None}', "keyword_only"),
    ]
    assert c.params[3].type == TypeExpr(name="int")


def test_empty_params() -> None:
    (c,) = _only("", "params: ();")
    assert isinstance(c, Params) and c.params == ()


def test_signature() -> None:
    (c,) = _only(
        "", "signature: async handle(request: Request, *, retries: int = 3) -> Result<A, B>;"
    )
    assert isinstance(c, Signature) and c.id == "f.signature"
    assert c.is_async and c.name == "handle"
    assert c.params == (
        Param(name="request", type=TypeExpr(name="Request")),
        Param(name="retries", type=TypeExpr(name="int"), default="3", kind="keyword_only"),
    )
    assert str(c.returns) == "Result<A, B>"


def test_signature_without_return_type() -> None:
    (c,) = _only("", "signature: ping();")
    assert isinstance(c, Signature) and c.returns is None and not c.is_async


def test_signature_agreeing_with_name_params_and_returns_is_fine() -> None:
    cs = _only(
        "",
        "signature: h(a: int) -> R;\n    name: h;\n    params: (a: int);\n    returns: R;",
    )
    assert [type(c).__name__ for c in cs] == ["Signature", "FunctionName", "Params", "Returns"]


def test_returns_dotted_and_nested_generics() -> None:
    (c,) = _only("", "returns: typing.Dict<str, List<Optional<models.User>>>;")
    assert isinstance(c, Returns)
    assert str(c.type) == "typing.Dict<str, List<Optional<models.User>>>"
    assert c.type.args[1].args[0].args[0].name == "models.User"


def test_forbid_and_require_one_constraint_per_item() -> None:
    cs = _only("", 'forbid: ["eval", "os.system",];\n    require: ["json.loads"];')
    assert [(type(c).__name__, c.id, c.name) for c in cs] == [  # type: ignore[attr-defined]
        ("Forbid", "f.forbid.eval", "eval"),
        ("Forbid", "f.forbid.os.system", "os.system"),
        ("Require", "f.require.json.loads", "json.loads"),
    ]
    assert isinstance(cs[2], Require)


@pytest.mark.parametrize(
    ("prop", "metric", "value"),
    [("max_lines", "lines", 100), ("max_chars", "chars", 1_000), ("max_tokens", "tokens", 512)],
)
def test_limits(prop: str, metric: str, value: int) -> None:
    (c,) = _only("", f"{prop}: {value:_};")
    assert isinstance(c, Limit) and (c.metric, c.max, c.id) == (metric, value, f"f.{prop}")


@pytest.mark.parametrize("style", ["snake", "camel", "pascal", "screaming"])
def test_naming_styles(style: str) -> None:
    (c,) = _only("", f"naming: {style};")
    assert isinstance(c, Naming) and c.style == style and c.pattern is None


def test_naming_regex_plain_and_raw_strings() -> None:
    (a,) = _only("", 'naming: "^[a-z_]\\\\w*$";')
    (b,) = _only("", 'naming: r"^[a-z_]\\w*$";')
    assert isinstance(a, Naming) and isinstance(b, Naming)
    assert a.pattern == b.pattern == "^[a-z_]\\w*$"


def test_imports() -> None:
    (c,) = _only("", 'imports: { allow: ["json", "re"], deny: ["subprocess"] };')
    assert isinstance(c, ImportPolicy)
    assert (c.allow, c.deny) == (("json", "re"), ("subprocess",))
    (d,) = _only("", 'imports: { deny: ["os.path"] };')
    assert isinstance(d, ImportPolicy) and d.allow is None and d.deny == ("os.path",)
    (e,) = _only("", "imports: { allow: [] };")
    assert isinstance(e, ImportPolicy) and e.allow == ()


def test_matches() -> None:
    (c,) = _only("", 'matches: r"^def \\w+\\(";')
    assert isinstance(c, Matches) and c.pattern == "^def \\w+\\("


def test_validates_names_a_declared_schema() -> None:
    module = compile_ok(
        "schema Input { name: str; age?: int; tags: List<str>; }\n"
        "constraint f { validates: Input; }\n"
    )
    (c,) = module.sets[0].constraints
    assert isinstance(c, Validates) and (c.target, c.schema) == ("Input", "Input")
    (schema,) = module.schemas
    assert schema.name == "Input"
    assert [(f.name, str(f.type), f.optional) for f in schema.fields] == [
        ("name", "str", False),
        ("age", "int", True),
        ("tags", "List<str>", False),
    ]
    assert schema.fields[1].span is not None and schema.fields[1].span.column == 27


def test_validates_an_unknown_name_is_a_validator_in_user_code() -> None:
    (c,) = _only("", "validates: myapp.validators.check_input;")
    assert isinstance(c, Validates) and c.schema is None
    assert c.target == "myapp.validators.check_input"


def test_doc_and_note_with_escapes() -> None:
    cs = _only("", 'doc: "Tab\\there \\"quoted\\" \\u{1F600}\\\\";\n    note: "n\\n";')
    assert cs[0] == Doc(id="f.doc", provenance=cs[0].provenance, text='Tab\there "quoted" 😀\\')  # type: ignore[attr-defined]
    assert isinstance(cs[1], Doc) and cs[1].role == "note" and cs[1].text == "n\n"


def test_comments_anywhere() -> None:
    module = compile_ok(
        "// leading\nconstraint /* inline */ f { // after brace\n"
        "  max_lines: /* mid */ 5; /* multi\n line */ }\n// trailing"
    )
    assert module.sets[0].constraints[0].id == "f.max_lines"


def test_several_blocks_keep_source_order() -> None:
    module = compile_ok(
        "constraint b { max_lines: 1; }\nschema S { x: int; }\nconstraint a { max_lines: 2; }\n"
    )
    assert [s.name for s in module.sets] == ["b", "a"]
    assert [s.name for s in module.schemas] == ["S"]


def test_empty_constraint_block_is_allowed() -> None:
    module = compile_ok("constraint f {}")
    assert module.sets[0].constraints == ()


def test_constraint_and_schema_namespaces_are_separate() -> None:
    module = compile_ok("schema f { x: int; }\nconstraint f { validates: f; }")
    assert module.sets[0].constraints[0].schema == "f"  # type: ignore[union-attr]


def test_keywords_are_contextual() -> None:
    # `schema` and `constraint` are only keywords at the top level.
    module = compile_ok(
        "schema S { schema: int; constraint: str; }\nconstraint c { name: schema; }"
    )
    assert module.schemas[0].fields[0].name == "schema"
    c = module.sets[0].constraints[0]
    assert isinstance(c, FunctionName) and c.name == "schema"


def test_crlf_and_bom(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "crlf.ariadne"
    path.write_bytes(b"\xef\xbb\xbfconstraint f {\r\n  max_lines: 3;\r\n}\r\n")
    diags = Diagnostics()
    source = read_source(path, diags)
    assert source is not None
    module = compile_source(source, diags)
    assert module is not None and list(diags) == []
    span = module.sets[0].constraints[0].provenance.span  # type: ignore[union-attr]
    assert (span.line, span.column) == (2, 3)


def test_parse_returns_the_syntax_tree() -> None:
    diags = Diagnostics()
    tree = parse(SourceFile("t", SEED), diags)
    assert tree is not None and list(diags) == []
    (block,) = tree.items
    assert block.name.text == "api_handler"
    assert [p.name.text for p in block.properties] == [  # type: ignore[union-attr]
        "returns",
        "validates",
        "max_lines",
        "forbid",
    ]


def test_compile_ignores_errors_already_in_the_collection() -> None:
    diags = Diagnostics()
    diags.error("some-other", "an earlier error")
    assert compile_source(SourceFile("t", SEED), diags) is not None


def test_module_round_trips_through_msgspec() -> None:
    import msgspec
    from ananke.ir.constraint import Module

    module = compile_ok((EXAMPLES / "multi.ariadne").read_text("utf-8"))
    data = msgspec.json.encode(module)
    assert msgspec.json.decode(data, type=Module) == module


def test_warnings_do_not_stop_compilation() -> None:
    module, diags = compile_text(
        "schema InputSchema { a: int; }\nconstraint f { validates: InputSchem; }"
    )
    assert module is not None
    assert [d.code for d in diags] == ["unknown-schema"]


@pytest.mark.parametrize("module", STD_MODULES)
def test_standard_library_compiles_cleanly(module: str) -> None:
    name = "std/" + module.removeprefix("std.").replace(".", "/") + ".ariadne"
    source = std_source(name)
    assert source is not None
    diags = Diagnostics()
    compiled = compile_source(source, diags)
    assert compiled is not None and list(diags) == []
    # The lists do not overlap: no name is forbidden twice by the library itself.
    names = [c.name for s in compiled.sets for c in s.constraints if hasattr(c, "name")]
    assert names and len(names) == len(set(names))
