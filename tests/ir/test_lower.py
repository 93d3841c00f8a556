"""The lower pass: enforcement plans and grammars for every example."""

from __future__ import annotations

from pathlib import Path

import llguidance
import pytest
from ananke.ariadne import compile_source, read_source
from ananke.backends import get_backend
from ananke.engines.acceptance import ByteMatcher, byte_tokenizer
from ananke.ir import Diagnostics, Module
from ananke.ir.lower import lower

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.ariadne"))


def compile_file(path: Path) -> Module:
    diags = Diagnostics()
    source = read_source(path, diags)
    assert source is not None
    module = compile_source(source, diags)
    assert module is not None, [d.message for d in diags]
    return module


def compile_text(text: str, tmp_path: Path) -> Module:
    path = tmp_path / "t.ariadne"
    path.write_text(text)
    return compile_file(path)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_lowers_to_a_valid_grammar(path: Path) -> None:
    module = compile_file(path)
    diags = Diagnostics()
    for lowered in lower(module, diags=diags):
        lowered.grammar.verify()
        text = get_backend("llguidance").emit(lowered.grammar)
        assert llguidance.LLMatcher.validate_grammar(text, byte_tokenizer()) == ""
        ids = {c.id for c in module.get_set(lowered.set_name).constraints}  # type: ignore[union-attr]
        assert {e.constraint_id for e in lowered.enforcements} == ids, "one level per constraint"
    assert not diags.has_errors


def test_seed_levels() -> None:
    module = compile_file(Path(__file__).parents[2] / "examples" / "api_handler.ariadne")
    (lowered,) = lower(module, diags=Diagnostics())
    levels = {e.constraint_id: e.level for e in lowered.enforcements}
    assert levels == {
        "api_handler.returns": "token",
        "api_handler.validates": "post",
        "api_handler.max_lines": "post",
        "api_handler.forbid.eval": "token",
        "api_handler.forbid.exec": "token",
    }
    max_lines = next(e for e in lowered.enforcements if e.kind == "limit")
    assert "at most 100 statements in any one block" in max_lines.detail
    forbid_rules = [r for r in lowered.grammar.rules if "api_handler.forbid.eval" in r.origins]
    assert forbid_rules, "the rules that enforce forbid record where they came from"


def test_seed_grammar_enforces_the_seed(tmp_path: Path) -> None:
    module = compile_file(Path(__file__).parents[2] / "examples" / "api_handler.ariadne")
    (lowered,) = lower(module, diags=Diagnostics())
    m = ByteMatcher(get_backend("llguidance").emit(lowered.grammar))
    ok = "def handle(request) -> Result[Response, Error]:\n    return run(request)\n"
    assert m.accepts(ok)
    assert m.accepts(ok.replace("run(", "model.eval("))
    assert not m.accepts(ok.replace("run(", "eval("))
    assert not m.accepts(ok.replace("run(", "exec("))
    assert not m.accepts(ok.replace("Result[Response, Error]", "Response"))
    assert not m.accepts(ok.replace(" -> Result[Response, Error]", ""))


def test_naming_pattern_with_anchors_restricts_the_name(tmp_path: Path) -> None:
    module = compile_text('constraint c { naming: "^[a-z]+$"; }\n', tmp_path)
    (lowered,) = lower(module, diags=Diagnostics())
    m = ByteMatcher(get_backend("llguidance").emit(lowered.grammar))
    assert m.accepts("def run(x):\n    return x\n")
    assert not m.accepts("def Run(x):\n    return x\n")
    (naming,) = lowered.enforcements
    assert naming.detail == (
        "the grammar restricts the function name to it; local variables and nested "
        "functions are not covered (`scope: all` covers them)"
    )


def test_naming_pattern_with_lookahead_is_post_only(tmp_path: Path) -> None:
    module = compile_text(r'constraint c { naming: "(?!test)[a-z]+"; }' + "\n", tmp_path)
    (lowered,) = lower(module, diags=Diagnostics())
    (naming,) = lowered.enforcements
    assert naming.level == "post"
    assert "cannot express" in naming.detail
    m = ByteMatcher(get_backend("llguidance").emit(lowered.grammar))
    assert m.accepts("def Test(x):\n    return x\n")


def test_dotted_forbid_is_post(tmp_path: Path) -> None:
    module = compile_text('constraint c { forbid: ["os.system"]; }\n', tmp_path)
    (lowered,) = lower(module, diags=Diagnostics())
    (e,) = lowered.enforcements
    assert (e.level, e.kind) == ("post", "forbid")


def test_pinned_name_that_is_forbidden_is_an_error(tmp_path: Path) -> None:
    module = compile_text('constraint c {\n    name: open;\n    forbid: ["open"];\n}\n', tmp_path)
    diags = Diagnostics()
    lower(module, diags=diags)
    (d,) = list(diags)
    assert d.code == "conflicting-properties"
    assert d.message == "the function must be named `open`, which is also forbidden"
    assert [(lab.span.line, lab.primary) for lab in d.labels] == [(2, True), (3, False)]


@pytest.mark.parametrize("order", ["returns first", "signature first"])
def test_signature_without_arrow_leaves_the_return_type_to_returns(
    order: str, tmp_path: Path
) -> None:
    props = ["signature: handle(x: int);", "returns: Response;"]
    if order == "returns first":
        props.reverse()
    module = compile_text("constraint c {\n" + "\n".join(props) + "\n}\n", tmp_path)
    (lowered,) = lower(module, diags=Diagnostics())
    m = ByteMatcher(get_backend("llguidance").emit(lowered.grammar))
    assert m.accepts("def handle(x: int) -> Response:\n    return x\n")
    assert not m.accepts("def handle(x: int):\n    return x\n")
    assert not m.accepts("def handle(x: int) -> int:\n    return x\n")
