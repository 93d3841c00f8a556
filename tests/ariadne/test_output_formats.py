"""Outputs other than a Python function: `language: json` and `grammar:`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ananke.ariadne import compile_source, read_source
from ananke.engines.membership import get_engine
from ananke.ir import Diagnostics, Module, OutputGrammar, SourceFile
from ananke.ir.cir import dumps, loads
from ananke.ir.jsonschema import UnknownType, document_schema
from ananke.ir.lower import lower

from ananke.pipeline import emit, lower_for_target

SCHEMAS = """\
schema User {
    id: int;
    email: str;
    display_name?: str;
    friends: List<User>;
}
"""


def _compile(
    text: str, tmp_path: Path, name: str = "t.ariadne"
) -> tuple[Module | None, Diagnostics]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    diags = Diagnostics()
    source = read_source(path, diags)
    assert source is not None
    return compile_source(source, diags), diags


def _ok(text: str, tmp_path: Path) -> Module:
    module, diags = _compile(text, tmp_path)
    assert module is not None and not diags.has_errors, [d.message for d in diags]
    return module


def test_json_document_of_a_declared_schema(tmp_path: Path) -> None:
    module = _ok(SCHEMAS + "constraint u {\n    language: json;\n    returns: User;\n}\n", tmp_path)
    [low] = lower(module, diags=Diagnostics())
    assert low.enforcements[0].level == "token"
    grammar = emit(low, "llguidance")
    engine = get_engine("llguidance-lark").compile(grammar)
    good = '{"id": 1, "email": "a@b", "friends": [{"id": 2, "email": "c", "friends": []}]}'
    assert engine.accepts(good)
    assert engine.accepts('{"id":1,"email":"a","display_name":"A","friends":[]}')
    assert not engine.accepts('{"id": 1, "email": "a"}')  # friends is required
    assert not engine.accepts('{"id": "1", "email": "a", "friends": []}')
    assert not engine.accepts('{"id": 1, "email": "a", "friends": [], "admin": true}')
    # The json-schema target prints the same schema, which XGrammar enforces alike.
    [json_low] = lower_for_target(module, "json-schema", Diagnostics()) or ()
    schema_text = emit(json_low, "json-schema")
    assert json.loads(schema_text)["$ref"] == "#/$defs/User"
    xg = get_engine("xgrammar-json").compile(schema_text)
    assert xg.accepts(good) and not xg.accepts('{"id": 1, "email": "a"}')


def test_json_types_map_to_json_schema() -> None:
    from ananke.ir.constraint import TypeExpr

    def t(name: str, *args: TypeExpr) -> TypeExpr:
        return TypeExpr(name=name, args=args)

    assert json.loads(document_schema(t("Dict", t("str"), t("Optional", t("int"))), {})) == {
        "type": "object",
        "additionalProperties": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    }
    assert json.loads(document_schema(t("Tuple", t("str"), t("bool")), {})) == {
        "type": "array",
        "prefixItems": [{"type": "string"}, {"type": "boolean"}],
        "items": False,
        "minItems": 2,
    }
    assert json.loads(document_schema(t("Set", t("float")), {})) == {
        "type": "array",
        "items": {"type": "number"},
        "uniqueItems": True,
    }
    with pytest.raises(UnknownType, match="JSON object keys are strings"):
        document_schema(t("Dict", t("int"), t("str")), {})
    with pytest.raises(UnknownType) as exc:
        document_schema(t("List", t("Usr")), {})
    assert exc.value.name == "Usr"


def test_unknown_json_type_is_an_error_at_returns(tmp_path: Path) -> None:
    module = _ok("constraint u {\n    language: json;\n    returns: List<Usr>;\n}\n", tmp_path)
    diags = Diagnostics()
    lower(module, diags=diags)
    [d] = list(diags)
    assert d.code == "unknown-schema" and d.severity == "error"
    assert d.message == (
        "`List<Usr>` has no JSON schema: `Usr` is neither a JSON type nor a schema declared here"
    )
    assert d.labels[0].span.line == 3


def test_code_properties_do_not_apply_to_json(tmp_path: Path) -> None:
    module, diags = _compile(
        'constraint u {\n    language: json;\n    forbid: ["eval"];\n    max_chars: 10;\n}\n',
        tmp_path,
    )
    assert module is None
    [d] = list(diags)
    assert d.code == "inapplicable-property"
    assert d.message == "`forbid` constrains Python code, and the output of `u` is JSON"
    assert [(lb.span.line, lb.primary) for lb in d.labels] == [(3, True), (2, False)]


def test_grammar_from_a_file_and_embedded(tmp_path: Path) -> None:
    (tmp_path / "answer.lark").write_text('start: "yes" | "no" | NUMBER\nNUMBER: /[0-9]+/\n')
    module = _ok(
        'constraint a {\n    grammar: "answer.lark";\n    max_chars: 5;\n}\n'
        'constraint b {\n    grammar: { gbnf: r"root ::= [a-c]+" };\n}\n',
        tmp_path,
    )
    by_name = {s.name: s for s in module.sets}
    [a] = by_name["a"].of_kind(OutputGrammar)
    assert (a.dialect, a.file) == ("lark", "answer.lark")
    # The .cir file holds the imported grammar whole.
    again = loads(dumps(module, "json"), "t.cir", Diagnostics())
    assert again == module
    for target, engine in (("llguidance", "llguidance-lark"), ("xgrammar", "xgrammar-ebnf")):
        lowered = lower_for_target(module, target, Diagnostics())
        assert lowered is not None
        compiled = {low.set_name: get_engine(engine).compile(emit(low, target)) for low in lowered}
        assert compiled["a"].accepts("yes") and compiled["a"].accepts("42")
        assert not compiled["a"].accepts("maybe")
        assert compiled["b"].accepts("abcab") and not compiled["b"].accepts("abd")


def test_a_given_grammar_is_read_greedily_by_every_target(tmp_path: Path) -> None:
    """Lexemes of a given grammar that run into each other: the character-level targets
    get llguidance's reading written in, and a boundary left open is a warning at the
    `grammar` property."""
    (tmp_path / "words.lark").write_text('start: WORD WORD\nWORD: /[a-z]+/\n%ignore " "\n')
    (tmp_path / "num.lark").write_text(
        'start: NUM "." NAME\nNUM: /[0-9]+(\\.[0-9]+)?/\nNAME: /[a-z]+/\n'
    )
    module = _ok(
        'constraint words {\n    grammar: "words.lark";\n}\n'
        'constraint num {\n    grammar: "num.lark";\n}\n',
        tmp_path,
    )
    for target, engine in (("xgrammar", "xgrammar-ebnf"), ("gbnf", "llguidance-gbnf")):
        diags = Diagnostics()
        lowered = lower_for_target(module, target, diags)
        assert lowered is not None
        by_name = {low.set_name: low for low in lowered}
        words = get_engine(engine).compile(emit(by_name["words"], target))
        assert words.accepts("ab cd") and words.accepts(" a b ")
        assert not words.accepts("abcd")  # one word to llguidance, two to characters
        assert "no lexeme boundary is left" in by_name["words"].notes[-1]
        [d] = [d for d in diags if d.code == "lexeme-boundary"]
        assert d.message == f'{target} may accept more than llguidance where NUM meets "."'
        # at the `grammar` property, and at the lexemes in the grammar file
        assert [(lb.span.file, lb.span.line, lb.message) for lb in d.labels] == [
            (str(tmp_path / "t.ariadne"), 5, "the grammar is given here"),
            (str(tmp_path / "num.lark"), 2, "`NUM` is defined here"),
            (str(tmp_path / "num.lark"), 1, '"." is written in `start`'),
        ]
        assert "1 lexeme boundary is left" in by_name["num"].notes[-1]


def test_grammar_errors_point_into_the_ariadne_file(tmp_path: Path) -> None:
    text = 'constraint h {\n    grammar: { lark: r"start: /(?=a)b/" };\n}\n'
    module, diags = _compile(text, tmp_path)
    assert module is None
    [d] = list(diags)
    assert d.code == "unsupported-grammar-construct"
    span = d.labels[0].span
    assert (span.line, span.column) == (2, 32)
    assert text[span.start : span.end] == "(?="


def test_grammar_file_problems(tmp_path: Path) -> None:
    module, diags = _compile('constraint g {\n    grammar: "missing.lark";\n}\n', tmp_path)
    assert module is None
    [d] = list(diags)
    assert (d.code, d.message) == ("unreadable-file", "grammar file `missing.lark` not found")
    module, diags = _compile('constraint g {\n    grammar: "answer.txt";\n}\n', tmp_path)
    [d] = list(diags)
    assert (d.code, d.message) == (
        "invalid-value",
        "cannot tell the dialect of grammar file `answer.txt`",
    )
    module, diags = _compile(
        'constraint g {\n    grammar: { lark: "start: \\"a\\"" };\n    language: json;\n}\n',
        tmp_path,
    )
    assert [d.code for d in diags] == ["conflicting-properties"]
    module, diags = _compile(
        'constraint g {\n    grammar: { gbnf: r"root ::= [a]" };\n    returns: int;\n}\n', tmp_path
    )
    assert [d.code for d in diags] == ["inapplicable-property"]


def test_embedded_grammar_with_escapes_is_a_file_of_its_own(tmp_path: Path) -> None:
    text = 'constraint e {\n    grammar: { lark: "start: A\\nA: /(?<=x)y/" };\n}\n'
    module, diags = _compile(text, tmp_path)
    assert module is None
    [d] = list(diags)
    assert d.labels[0].span.file.endswith("t.ariadne (grammar at line 2)")
    assert d.labels[0].span.line == 2  # the grammar's second line


def test_source_file_is_unchanged_by_embedding(tmp_path: Path) -> None:
    text = 'constraint b {\n    grammar: { gbnf: r"root ::= [a-c]+" };\n}\n'
    source = SourceFile(name=str(tmp_path / "x.ariadne"), text=text)
    diags = Diagnostics()
    module = compile_source(source, diags)
    assert module is not None and source.text == text


def test_json_output_in_request_bodies(tmp_path: Path) -> None:
    module = _ok(SCHEMAS + "constraint u {\n    language: json;\n    returns: User;\n}\n", tmp_path)

    def body(target: str) -> dict[str, object]:
        lowered = lower_for_target(module, target, Diagnostics())
        assert lowered is not None
        out: dict[str, object] = json.loads(emit(lowered[0], target))
        return out

    schema = json.loads(
        emit(lower_for_target(module, "json-schema", Diagnostics())[0], "json-schema")
    )  # type: ignore[index]
    assert body("vllm") == {"structured_outputs": {"json": schema}}
    assert body("llamacpp") == {"json_schema": schema}
    assert body("sglang") == {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": schema},
        }
    }
    # OpenAI's strict mode needs every property required; User has an optional one.
    from ananke.ir import DiagnosticError

    lowered = lower_for_target(module, "openai", Diagnostics())
    assert lowered is not None
    with pytest.raises(DiagnosticError) as exc:
        emit(lowered[0], "openai")
    assert [d.code for d in exc.value.diagnostics] == ["target-cannot-express"]
    strict = _ok(
        "schema P { x: int; }\nconstraint p {\n    language: json;\n    returns: P;\n}\n", tmp_path
    )
    [low] = lower_for_target(strict, "openai", Diagnostics()) or ()
    fmt = json.loads(emit(low, "openai"))["text"]["format"]
    assert (fmt["type"], fmt["strict"], fmt["schema"]["$ref"]) == ("json_schema", True, "#/$defs/P")


@pytest.mark.parametrize("target", ["xgrammar", "gbnf", "lark", "regex"])
def test_json_output_needs_a_json_capable_target(target: str, tmp_path: Path) -> None:
    module = _ok("constraint u {\n    language: json;\n}\n", tmp_path)
    diags = Diagnostics()
    assert lower_for_target(module, target, diags) is None
    [d] = list(diags)
    assert d.code == "target-cannot-express"
    assert d.message.startswith(f"{target} cannot express constraint set `u`: rule start embeds")


def test_explain_json_of_a_json_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ananke.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "u.ariadne").write_text(
        SCHEMAS
        + "constraint u {\n    language: json;\n    returns: User;\n    max_chars: 500;\n}\n"
    )
    with pytest.raises(SystemExit) as exc:
        main(["explain", "u.ariadne", "--target", "all", "--output-format", "json"])
    out, err = capsys.readouterr()
    assert exc.value.code == 0
    [entry] = json.loads(out)["sets"]
    plans = {p["target"]: p for p in entry["targets"]}
    # The JSON-capable targets have a plan; the character-level grammars cannot embed a
    # JSON schema, and say so.
    for target in ("llguidance", "json-schema", "vllm", "sglang", "llamacpp"):
        levels = {c["id"]: (c["level"], c["grammar"]) for c in plans[target]["constraints"]}
        assert levels == {"u.returns": ("token", "enforces"), "u.max_chars": ("post", "none")}
    for target in ("xgrammar", "gbnf", "lark", "regex"):
        assert "rule start embeds" in plans[target]["skipped"]
    skipped = [d for d in json.loads(err) if d["code"] == "target-skipped"]
    assert {d["message"].split("`")[1] for d in skipped} == {"xgrammar", "gbnf", "lark", "regex"}
