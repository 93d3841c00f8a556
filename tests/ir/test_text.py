"""The compact text form of the IR: exact output, determinism, one constraint per line."""

from __future__ import annotations

from ananke.ir import (
    ConstraintSet,
    Doc,
    ExtractedProvenance,
    Forbid,
    FunctionName,
    ImportPolicy,
    Limit,
    LLMProvenance,
    Matches,
    Module,
    Naming,
    Param,
    Params,
    Require,
    Returns,
    Schema,
    SchemaField,
    Signature,
    SourceFile,
    SourceProvenance,
    TypeExpr,
    Validates,
)
from ananke.ir.text import to_text
from hypothesis import given, settings

from tests.hypothesis_profiles import examples
from tests.ir.ir_strategies import modules

SRC = SourceFile("h.ariadne", "x" * 40 + "\n" + "y" * 40 + "\n")


def _p(offset: int) -> SourceProvenance:
    return SourceProvenance(span=SRC.span(offset, offset + 1))


INT = TypeExpr(name="int")
STR = TypeExpr(name="str")


def test_every_kind_exactly() -> None:
    module = Module(
        sources=("h.ariadne",),
        schemas=(
            Schema(
                name="input_schema",
                fields=(
                    SchemaField(name="name", type=STR),
                    SchemaField(
                        name="tags", type=TypeExpr(name="list", args=(STR,)), optional=True
                    ),
                ),
                span=SRC.span(0, 5),
            ),
        ),
        sets=(
            ConstraintSet(
                name="h",
                span=SRC.span(0, 80),
                extends=("base",),
                constraints=(
                    Returns(
                        id="h.returns",
                        provenance=_p(4),
                        type=TypeExpr(name="Result", args=(TypeExpr(name="Response"), STR)),
                    ),
                    FunctionName(id="h.name", provenance=_p(41), name="handle"),
                    Params(
                        id="h.params",
                        provenance=_p(42),
                        params=(
                            Param(name="self"),
                            Param(name="x", type=INT, default="1"),
                            Param(name="key", type=STR, kind="keyword_only"),
                            Param(name="kw", kind="var_keyword"),
                        ),
                    ),
                    Signature(
                        id="h.signature",
                        provenance=_p(43),
                        name="run",
                        params=(
                            Param(name="args", kind="var_positional"),
                            Param(name="k", kind="keyword_only"),
                        ),
                        returns=None,
                        is_async=True,
                    ),
                    Forbid(id="h.forbid.eval", provenance=_p(44), name="eval", priority=2),
                    Require(
                        id="h.require.log",
                        provenance=ExtractedProvenance(
                            extractor="tests", file="t.py", line=3, confidence=0.5
                        ),
                        name="log",
                        strength="soft",
                    ),
                    Limit(id="h.max_lines", provenance=_p(45), metric="lines", max=100),
                    Naming(id="h.naming", provenance=_p(46), style="snake"),
                    Naming(id="h.naming2", provenance=_p(47), pattern="^[a-z]+$"),
                    ImportPolicy(id="h.imports", provenance=_p(48), allow=None, deny=("os",)),
                    ImportPolicy(id="h.imports2", provenance=_p(49), allow=("json", "re")),
                    Matches(id="h.matches", provenance=_p(50), pattern='^def "x"'),
                    Validates(
                        id="h.validates",
                        provenance=LLMProvenance(model="m1", prompt_hash="abc"),
                        target="input_schema",
                        schema="input_schema",
                    ),
                    Doc(id="h.note", provenance=_p(51), text="be kind\nalways", role="note"),
                ),
            ),
            ConstraintSet(name="empty"),
        ),
    )
    assert to_text(module) == (
        "(module v1\n"
        '  (sources "h.ariadne")\n'
        "  (schema input_schema @h.ariadne:1:1\n"
        "    (field name str)\n"
        "    (field tags list<str> optional))\n"
        "  (set h python (extends base) @h.ariadne:1:1\n"
        "    (returns h.returns Result<Response, str> hard p0 @h.ariadne:1:5)\n"
        "    (name h.name handle hard p0 @h.ariadne:2:1)\n"
        "    (params h.params (self, x: int = 1, *, key: str, **kw) hard p0 @h.ariadne:2:2)\n"
        "    (signature h.signature async run(*args, k) hard p0 @h.ariadne:2:3)\n"
        '    (forbid h.forbid.eval "eval" hard p2 @h.ariadne:2:4)\n'
        '    (require h.require.log "log" soft p0 (extracted "tests" "t.py":3 0.5))\n'
        "    (limit h.max_lines lines <= 100 hard p0 @h.ariadne:2:5)\n"
        "    (naming h.naming style snake hard p0 @h.ariadne:2:6)\n"
        '    (naming h.naming2 pattern "^[a-z]+$" hard p0 @h.ariadne:2:7)\n'
        '    (imports h.imports (allow *) (deny "os") hard p0 @h.ariadne:2:8)\n'
        '    (imports h.imports2 (allow "json" "re") (deny) hard p0 @h.ariadne:2:9)\n'
        '    (matches h.matches "^def \\"x\\"" hard p0 @h.ariadne:2:10)\n'
        '    (validates h.validates input_schema (schema input_schema) hard p0 (llm "m1" "abc"))\n'
        '    (doc h.note note "be kind\\nalways" hard p0 @h.ariadne:2:11))\n'
        "  (set empty python))\n"
    )


def test_empty_module() -> None:
    assert to_text(Module()) == "(module v1)\n"


@settings(max_examples=examples(60), deadline=None)
@given(modules)
def test_one_line_per_constraint_and_deterministic(module: Module) -> None:
    text = to_text(module)
    assert text == to_text(module)
    assert text.endswith(")\n")
    n_constraints = sum(len(s.constraints) for s in module.sets)
    n_fields = sum(len(s.fields) for s in module.schemas)
    expected = 1 + bool(module.sources) + len(module.schemas) + n_fields + len(module.sets)
    assert text.count("\n") == expected + n_constraints
    assert text.count("(") - text.count(")") == _quoted_paren_balance(text)


def _quoted_paren_balance(text: str) -> int:
    """Parentheses inside quoted strings (JSON-escaped) do not count toward the balance."""
    import json
    import re

    balance = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"', text):
        inner = json.loads(m.group(0))
        balance += inner.count("(") - inner.count(")")
    return balance
