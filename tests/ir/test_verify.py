"""A ``.cir`` file is checked as strictly as source: every value the Ariadne checker refuses
is refused when a module is loaded, as ``cir-invalid`` at the field that holds it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from ananke.ariadne import compile_source, read_source
from ananke.ir import Diagnostics, Module
from ananke.ir.cir import dumps, loads
from ananke.ir.constraint import PROPERTY_NAMES
from ananke.ir.grammar import Grammar, Ref, Regex, Rule
from ananke.ir.verify import problems, python_default
from hypothesis import given, settings

from tests.hypothesis_profiles import examples
from tests.ir.ir_strategies import modules

ROOT = Path(__file__).resolve().parents[2]
BROKEN_CIR = ROOT / "tests" / "fixtures" / "broken_cir"

BASE = """\
schema User { id: int; }
constraint handler {
    name: handle;
    params: (request: Request, timeout: float = 1.0, *, retries: int = 3);
    returns: Optional<User>;
    max_lines: 100;
    forbid: ["eval", ".__globals__"];
    require: ["json.loads"];
    imports: { allow: ["json"] };
    naming: r"^[a-z_]+$";
    matches: r"^def ";
    validates: User;
    example reject "def handle(request, timeout=1.0, *, retries=3):\\n    eval(x)\\n" by forbid;
}
constraint answer { grammar: { lark: "start: A\\nA: /[ab]+/" }; }
"""


def _base(tmp_path: Path) -> Module:
    path = tmp_path / "base.ariadne"
    path.write_text(BASE, encoding="utf-8")
    diags = Diagnostics()
    source = read_source(path, diags)
    assert source is not None
    module = compile_source(source, diags)
    assert module is not None and not diags.has_errors, list(diags)
    return module


def _edit(module: Module, edit: Callable[[dict[str, Any]], None]) -> Module:
    """``module`` with ``edit`` applied to its JSON form, decoded without checks."""
    data = msgspec.json.decode(dumps(module))
    edit(data)
    return msgspec.json.decode(msgspec.json.encode(data), type=Module)


def _c(data: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in data["sets"][0]["constraints"] if c["kind"] == kind)
    return found


def _at(data: dict[str, Any], kind: str) -> str:
    index = [c["kind"] for c in data["sets"][0]["constraints"]].index(kind)
    return f"sets[0].constraints[{index}]"


# Each case: an edit of the base module and the field the problem must name.
CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "limit above its cap": (lambda d: _c(d, "limit").update(max=10**30), "limit].max"),
    "name not an identifier": (lambda d: _c(d, "name").update(name="1bad def"), "name].name"),
    "name a keyword": (lambda d: _c(d, "name").update(name="class"), "name].name"),
    "parameter not an identifier": (
        lambda d: _c(d, "params")["params"][0].update(name="x y"),
        "params].params[0].name",
    ),
    "parameter twice": (
        lambda d: _c(d, "params")["params"][1].update(name="request"),
        "params].params[1].name",
    ),
    "positional after keyword-only": (
        lambda d: _c(d, "params")["params"].append({"name": "late"}),
        "params].params[3].kind",
    ),
    "no default after a default": (
        lambda d: _c(d, "params")["params"].insert(2, {"name": "late"}),
        "params].params[2]",
    ),
    "default not Python": (
        lambda d: _c(d, "params")["params"][1].update(default='"\\u{1F600}"'),
        "params].params[1].default",
    ),
    "default that closes the def": (
        lambda d: _c(d, "params")["params"][1].update(default="1):#"),
        "params].params[1].default",
    ),
    "type name": (lambda d: _c(d, "returns")["type"].update(name="a b"), "returns].type.name"),
    "forbidden name": (lambda d: _c(d, "forbid").update(name="os system"), "forbid].name"),
    "required attribute": (lambda d: _c(d, "require").update(name=".loads"), "require].name"),
    "module both allowed and denied": (
        lambda d: _c(d, "imports").update(deny=["json"]),
        "imports].deny",
    ),
    "naming pattern": (lambda d: _c(d, "naming").update(pattern="[a-"), "naming].pattern"),
    "matches pattern": (lambda d: _c(d, "matches").update(pattern="(x"), "matches].pattern"),
    "backtracking pattern": (
        lambda d: _c(d, "matches").update(pattern=r"(a)\1"),
        "matches].pattern",
    ),
    "unknown schema": (lambda d: _c(d, "validates").update(schema="Nobody"), "validates].schema"),
    "priority": (lambda d: _c(d, "forbid").update(priority=-(10**7)), "forbid].priority"),
    "extends unknown": (lambda d: d["sets"][0].update(extends=["ghost"]), "sets[0].extends[0]"),
    "example by nothing": (
        lambda d: d["sets"][0]["examples"][0].update(by="doc"),
        "sets[0].examples[0].by",
    ),
    "code property on grammar output": (
        lambda d: d["sets"][1]["constraints"].append(
            dict(_c(d, "forbid"), id="answer.forbid.eval")
        ),
        "sets[1].constraints[1]",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_every_invariant_is_checked(tmp_path: Path, case: str) -> None:
    base = _base(tmp_path)
    assert problems(base) == []
    edit, field = CASES[case]
    broken = _edit(base, edit)
    found = problems(broken)
    assert found, case
    data = msgspec.json.decode(dumps(base))
    expected = field
    for k in (
        "limit",
        "name",
        "params",
        "returns",
        "forbid",
        "require",
        "imports",
        "naming",
        "matches",
        "validates",
    ):
        if field.startswith(k + "]"):
            expected = _at(data, k) + field[len(k) + 1 :]
    assert [p.path for p in found] == [expected], found


def test_grammar_rules_are_checked(tmp_path: Path) -> None:
    base = _base(tmp_path)
    grammar = base.sets[1].constraints[0].grammar  # type: ignore[union-attr]
    undefined = Grammar(start="start", rules=(Rule(name="start", body=Ref(name="ghost")),))
    bad_regex = Grammar(start="start", rules=(Rule(name="start", body=Regex(pattern="(unclosed")),))
    bad_name = Grammar(start="a b", rules=(Rule(name="a b", body=Regex(pattern="x")),))
    for g, field in ((undefined, "rules"), (bad_regex, "rules[0]"), (bad_name, "rules[0].name")):
        broken = msgspec.structs.replace(
            base,
            sets=(
                base.sets[0],
                msgspec.structs.replace(
                    base.sets[1],
                    constraints=(msgspec.structs.replace(base.sets[1].constraints[0], grammar=g),),
                ),
            ),
        )
        assert [p.path for p in problems(broken)] == [f"sets[1].constraints[0].grammar.{field}"]
    assert grammar is not None


@settings(max_examples=examples(40), deadline=None)
@given(modules)
def test_valid_modules_have_no_problems(module: Module) -> None:
    assert problems(module) == []


def test_the_examples_and_fixtures_satisfy_every_invariant() -> None:
    paths = [*sorted((ROOT / "examples").glob("*.ariadne"))]
    for path in paths:
        diags = Diagnostics()
        source = read_source(path, diags)
        assert source is not None
        module = compile_source(source, diags)
        assert module is not None
        assert problems(module) == [], path.name


def test_property_names_are_the_checkers() -> None:
    from ananke.ariadne import PROPERTIES

    assert set(PROPERTY_NAMES) == set(PROPERTIES)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("None", True),
        ("field(default_factory=list)", True),
        ("foo\n.bar", True),
        ("(1)", True),
        ("'utf-8'", True),
        ('"\\u{1F600}"', False),
        ("1):#", False),
        ("1) or (2", False),
        ("1): pass\ndef g(y=2", False),
        ("1, y=2", False),
        ("", False),
    ],
)
def test_python_default(text: str, ok: bool) -> None:
    assert python_default(text) is ok


# Hand-edited .cir files (tests/fixtures/broken_cir): the field, and the line of the file
# the diagnostic must point at.
BROKEN = {
    "limit_huge.cir": ("sets[0].constraints[2].max", '"max": 1000000000000000000000000000000'),
    "name_not_identifier.cir": ("sets[0].constraints[0].name", '"name": "1bad def"'),
    "name_keyword.cir": ("sets[0].constraints[0].name", '"name": "class"'),
    "param_not_identifier.cir": ("sets[0].constraints[1].params[0].name", '"name": "x y"'),
    "param_twice.cir": ("sets[0].constraints[1].params[1].name", '"name": "request",'),
    "default_not_python.cir": (
        "sets[0].constraints[1].params[1].default",
        '"default": "\\"\\\\u{1F600}\\""',
    ),
    "pattern_invalid.cir": ("sets[0].constraints[3].pattern", '"pattern": "(unclosed"'),
    "pattern_backreference.cir": (
        "sets[0].constraints[3].pattern",
        '"pattern": "(a+)\\\\1"',
    ),
}


def test_the_broken_cir_corpus_is_listed() -> None:
    assert sorted(p.name for p in BROKEN_CIR.iterdir()) == sorted(BROKEN)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_cir_files(name: str) -> None:
    field, line = BROKEN[name]
    data = (BROKEN_CIR / name).read_bytes()
    diags = Diagnostics()
    assert loads(data, name, diags) is None
    (d,) = list(diags)
    assert d.code == "cir-invalid"
    assert f"`{field}`" in d.message
    span = d.primary_span
    assert span is not None
    assert data.decode().splitlines()[span.line - 1].strip() == line
    value = line.split(": ", 1)[1].rstrip(",")
    assert span.column == data.decode().splitlines()[span.line - 1].index(value) + 1


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_arc_refuses_broken_cir_files(capsys: pytest.CaptureFixture[str], name: str) -> None:
    from ananke.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["emit", str(BROKEN_CIR / name), "--output-format", "short"])
    out, err = capsys.readouterr()
    assert exc.value.code == 2
    assert out == ""
    assert f"{name}:" in err and "error[cir-invalid]" in err
