"""From ConstraintIR to each target: lowerings, demotion of what a target cannot enforce,
the nesting bound, and the `arc emit --target all` / `arc explain --target` commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from ananke.ariadne import compile_source
from ananke.backends import target_names
from ananke.ir import Diagnostics, Module, SourceFile
from ananke.runtime.engines import get_engine

from ananke.pipeline import emit, lower_for_target
from tests.cli.cli_helpers import run_arc

ROOT = Path(__file__).resolve().parents[2]

NAMING = """\
constraint unicode_names {
    naming: r"^[a-z]\\w*$";
    forbid: ["eval"];
}
constraint ascii_names {
    naming: r"^get_[a-z_]+$";
}
"""


def _module(text: str) -> Module:
    diags = Diagnostics()
    module = compile_source(SourceFile(name="t.ariadne", text=text), diags)
    assert module is not None and not diags.has_errors, list(diags)
    return module


def _one(module: Module, name: str) -> Module:
    import msgspec

    chosen = module.get_set(name)
    assert chosen is not None
    return msgspec.structs.replace(module, sets=(chosen,))


def test_unknown_target_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        lower_for_target(Module(), "nope", Diagnostics())


def test_a_pattern_a_target_cannot_express_is_demoted_with_a_warning() -> None:
    module = _one(_module(NAMING), "unicode_names")
    diags = Diagnostics()
    lowered = lower_for_target(module, "xgrammar", diags)
    assert lowered is not None
    [warning] = list(diags)
    assert (warning.code, warning.severity) == ("demoted-to-post", "warning")
    assert warning.message == (
        "xgrammar cannot enforce `unicode_names.naming` in its grammar; it is checked after "
        "generation"
    )
    assert warning.labels[0].span.line == 2
    levels = {e.constraint_id: (e.level, e.reason) for e in lowered[0].enforcements}
    assert levels["unicode_names.naming"] == ("post", "xgrammar cannot enforce it in its grammar")
    assert levels["unicode_names.forbid.eval"][0] == "token"

    # The demoted grammar no longer restricts the name; the reference grammar does.
    ebnf = get_engine("xgrammar-ebnf").compile(emit(lowered[0], "xgrammar"))
    reference = lower_for_target(module, "llguidance", Diagnostics())
    assert reference is not None
    lark = get_engine("llguidance-lark").compile(emit(reference[0], "llguidance"))
    upper = "def Foo():\n    return 1\n"
    assert ebnf.accepts(upper) and not lark.accepts(upper)
    # forbid is still enforced in the demoted grammar.
    bad = "def foo():\n    return eval(x)\n"
    assert not ebnf.accepts(bad) and not lark.accepts(bad)


def test_strict_makes_a_demotion_an_error() -> None:
    module = _one(_module(NAMING), "unicode_names")
    diags = Diagnostics()
    lower_for_target(module, "gbnf", diags, strict=True)
    assert [(d.code, d.severity) for d in diags] == [("demoted-to-post", "error")]


@pytest.mark.parametrize("target", ["xgrammar", "gbnf"])
def test_a_naming_rule_is_lowered_through_an_automaton(target: str) -> None:
    module = _one(_module(NAMING), "ascii_names")
    diags = Diagnostics()
    lowered = lower_for_target(module, target, diags)
    assert lowered is not None and not list(diags)
    engine = {"xgrammar": "xgrammar-ebnf", "gbnf": "llguidance-gbnf"}[target]
    compiled = get_engine(engine).compile(emit(lowered[0], target))
    assert compiled.accepts("def get_user(a):\n    return a\n")
    assert not compiled.accepts("def fetch_user(a):\n    return a\n")
    assert not compiled.accepts("def get_User(a):\n    return a\n")


def test_the_nesting_bound_is_an_option_and_explained() -> None:
    module = _module("constraint c {\n}\n")
    nested = "def f():\n    if a:\n        if b:\n            return 1\n"
    for bound, accepted in ((2, False), (3, True)):
        lowered = lower_for_target(module, "xgrammar", Diagnostics(), max_nesting=bound)
        assert lowered is not None
        assert f"blocks nested at most {bound} deep" in " ".join(lowered[0].notes)
        compiled = get_engine("xgrammar-ebnf").compile(emit(lowered[0], "xgrammar"))
        assert compiled.accepts(nested) is accepted


def test_emit_all_writes_every_target_that_can_express_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_arc(
        capsys,
        "emit",
        ROOT / "examples" / "multi.ariadne",
        "--target",
        "all",
        "-o",
        tmp_path / "out",
        "--output-format",
        "short",
    )
    assert code == 0, err
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    skipped = {"regex", "json-schema"}  # a Python function is neither regular nor JSON
    assert written == sorted(set(target_names()) - skipped)
    for target in written:
        files = sorted(p.name for p in (tmp_path / "out" / target).iterdir())
        assert [f.split(".")[0] for f in files] == ["get_user", "list_users", "render_banner"]
    skips = {
        (line.split("`")[1], line.split("`")[3])
        for line in err.splitlines()
        if "target-skipped" in line
    }
    assert skips == {(t, s) for t in skipped for s in ("get_user", "list_users", "render_banner")}


def test_emit_all_needs_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_arc(capsys, "emit", ROOT / "examples" / "api_handler.ariadne", "-t", "all")
    assert code == 2
    assert "--target all writes one folder per target: give -o DIR" in err


def test_explain_shows_the_level_per_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "n.ariadne"
    path.write_text(NAMING, encoding="utf-8")
    code, out, err = run_arc(capsys, "explain", path, "--target", "all", "--output-format", "short")
    assert code == 0
    lines = out.splitlines()
    header = lines[1].split()
    assert header[:3] == ["ID", "KIND", "llguidance"]
    # a Python function is neither JSON nor regular: those targets have no column
    assert "json-schema" not in header and "regex" not in header
    assert {"xgrammar", "gbnf", "lark", "vllm", "sglang", "llamacpp", "openai"} <= set(header)
    forbid = next(line.split() for line in lines if "unicode_names.forbid.eval" in line)
    assert forbid[2:] == ["token"] * (len(header) - 2)
    differs = [line for line in lines if line.startswith("  differs: unicode_names.naming")]
    assert [d.split(" on ")[1].split(":")[0] for d in differs] == [
        "xgrammar",
        "gbnf",
        "lark",
        "sglang",
        "llamacpp",
    ]
    assert "post, xgrammar cannot enforce it in its grammar (lexeme FNAME: \\w is" in differs[0]
    assert "target `regex` skipped for `unicode_names`" in err
    code, _, err = run_arc(capsys, "explain", path, "-c", "unicode_names", "-t", "gbnf", "--strict")
    assert code == 1 and "error[demoted-to-post]" in err


def test_help_lists_every_target(capsys: pytest.CaptureFixture[str]) -> None:
    from ananke.cli import _TARGETS

    assert target_names() == _TARGETS
    code, out, _ = run_arc(capsys, "emit", "--help")
    assert code == 0
    assert "gbnf, lark, regex, json-schema, vllm, sglang, llamacpp, openai; or all" in " ".join(
        out.split()
    )
