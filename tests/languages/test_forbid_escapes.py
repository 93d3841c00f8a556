"""Ways around `forbid`: what the checks after generation follow (aliases, `builtins`,
lookups by constant strings), what `std.python.no_dynamic_code` closes in the grammar and
after it, and that the table of `spec/python.md` and `arc explain` stay in step.

Each way around has a fixture under tests/fixtures/escapes/ (one function, with a header
saying what is forbidden and the expected outcome at each level)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from ananke.ariadne import compile_source
from ananke.backends import get_backend
from ananke.engines.acceptance import ByteMatcher
from ananke.ir import Diagnostics
from ananke.ir.compose import compose
from ananke.ir.constraint import ConstraintSet, Forbid, Require, SourceProvenance
from ananke.ir.lower import lower
from ananke.ir.source import SourceFile, Span
from ananke.languages.python.escapes import ESCAPES, STD_SET, markdown_table
from ananke.languages.validate import Violation, validate

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "escapes").glob("*.py"))
PROV = SourceProvenance(
    span=Span(file="t.ariadne", start=0, end=1, line=1, column=1, end_line=1, end_column=2)
)


def forbid(*names: str) -> ConstraintSet:
    return ConstraintSet(
        name="t",
        constraints=tuple(Forbid(id=f"t.forbid.{n}", provenance=PROV, name=n) for n in names),
    )


def where(vs: list[Violation]) -> list[tuple[str, int, int]]:
    return [(x.text, x.line, x.column) for x in vs]


@cache
def std_set(extra: tuple[str, ...] = ()) -> tuple[ConstraintSet, str]:
    """`no_dynamic_code` (and ``extra`` forbidden), composed: its set and llguidance grammar."""
    items = ", ".join(f'"{n}"' for n in extra)
    body = f"forbid: [{items}];" if extra else ""
    text = f"import std.python;\nconstraint t extends {STD_SET} {{ {body} }}\n"
    diags = Diagnostics()
    module = compile_source(SourceFile("t.ariadne", text), diags)
    assert module is not None, [d.message for d in diags]
    module = compose(module, diags)
    assert module is not None and not diags.has_errors, [d.message for d in diags]
    cset = module.get_set("t")
    assert cset is not None
    (lowered,) = [x for x in lower(module, diags=diags) if x.set_name == "t"]
    return cset, get_backend("llguidance").emit(lowered.grammar)


# --- aliases and references, after generation ------------------------------------------------

ALIASES = [
    ("import as", "def f(c):\n    import os as o\n    return o.system(c)\n", (3, 12)),
    ("assigned module", "def f(c):\n    import os\n    m = os\n    m.system(c)\n", (4, 5)),
    ("chain", "def f(c):\n    import os as o\n    a = o\n    b = a\n    b.system(c)\n", (5, 5)),
    ("from import as", "def f(c):\n    from os import system as s\n    s(c)\n", (3, 5)),
    (
        "nested function",
        "def f(c):\n    import os as o\n    def g():\n        o.system(c)\n",
        (4, 9),
    ),
    ("walrus", "def f(c):\n    import os\n    (m := os).system(c)\n", (3, 5)),
]


@pytest.mark.parametrize(("what", "src", "pos"), ALIASES, ids=[a[0] for a in ALIASES])
def test_forbid_dotted_name_follows_aliases(what: str, src: str, pos: tuple[int, int]) -> None:
    vs = validate(src, forbid("os.system"))
    assert (pos[0], pos[1]) in [(v.line, v.column) for v in vs], (what, where(vs))


def test_alias_message_names_the_chain() -> None:
    src = "def f(c):\n    import os as o\n    m = o\n    m.system(c)\n"
    (v,) = validate(src, forbid("os.system"))
    assert (v.line, v.column, v.text) == (4, 5, "m.system")
    assert "`os.system`" in v.message
    assert "`m = o` (line 3)" in v.message and "`import os as o` (line 2)" in v.message


def test_plain_name_through_builtins_alias() -> None:
    src = "def f(x):\n    import builtins\n    e = builtins\n    return e.eval(x)\n"
    vs = validate(src, forbid("eval"))
    assert [(v.line, v.column) for v in vs] == [(4, 12)]


CLEAN = [
    ("other module", "def f(c):\n    import shutil as o\n    return o.system(c)\n"),
    ("parameter", "def f(o, c):\n    return o.system(c)\n"),
    ("two values", "def f(c, k):\n    import os\n    m = os if k else c\n    m.system(c)\n"),
    ("loop variable", "def f(ms, c):\n    for m in ms:\n        m.system(c)\n"),
    ("other attribute", "def f(c):\n    import os as o\n    return o.getcwd()\n"),
    ("string", "def f():\n    return 'import os as o; o.system'\n"),
    ("name built at run time", 'def f(m):\n    return getattr(m, "sys" + "tem")\n'),
]


@pytest.mark.parametrize(("what", "src"), CLEAN, ids=[c[0] for c in CLEAN])
def test_forbid_dotted_name_does_not_guess(what: str, src: str) -> None:
    assert validate(src, forbid("os.system")) == [], what


STRING_LOOKUPS = [
    ("os.system", 'def f(c):\n    import os\n    return getattr(os, "system")(c)\n'),
    ("os.system", 'def f(c):\n    import os\n    return vars(os)["system"](c)\n'),
    ("os.system", 'def f(c):\n    import os\n    return os.__dict__["system"](c)\n'),
    (
        "os.system",
        'def f(c):\n    import os\n    return object.__getattribute__(os, "system")(c)\n',
    ),
    ("os.system", 'def f(c):\n    import os, operator\n    operator.attrgetter("system")(os)(c)\n'),
    ("os.system", 'def f(c):\n    return __import__("os").system(c)\n'),
    ("os.system", 'def f(c):\n    import importlib\n    importlib.import_module("os").system(c)\n'),
    ("os.system", 'def f(c):\n    import sys\n    return sys.modules["os"].system(c)\n'),
    ("subprocess.run", 'def f(c):\n    m = __import__("subprocess")\n    m.run(c)\n'),
    ("eval", 'def f(x):\n    return globals()["eval"](x)\n'),
    ("eval", 'def f(x):\n    return locals().get("eval")(x)\n'),
    ("eval", 'def f(x):\n    return vars()["eval"](x)\n'),
    ("eval", "def f(x):\n    import builtins\n    return builtins.eval(x)\n"),
    ("eval", 'def f(x):\n    return __builtins__["eval"](x)\n'),
    ("eval", 'def f(x):\n    import builtins\n    return getattr(builtins, "eval")(x)\n'),
    ("eval", 'def f(g, x):\n    return g.__globals__["__builtins__"]["eval"](x)\n'),
    ("eval", 'def f(x):\n    import sys\n    sys._getframe().f_globals["eval"](x)\n'),
]


@pytest.mark.parametrize(("name", "src"), STRING_LOOKUPS)
def test_forbid_sees_lookups_by_constant_strings(name: str, src: str) -> None:
    vs = validate(src, forbid(name))
    assert vs, src
    # Reported where the lookup is, on the line that makes it.
    assert all(v.line == src.count("\n") for v in vs), where(vs)


def test_forbidden_attribute_of_any_object() -> None:
    cs = forbid(".__globals__")
    src = 'def f(g, h):\n    a = g.__globals__\n    return getattr(h, "__globals__")\n'
    assert where(validate(src, cs)) == [
        ("__globals__", 2, 11),
        ('getattr(h, "__globals__")', 3, 12),
    ]
    # `hasattr` only asks; strings and comments are text.
    clean = 'def f(g):\n    # g.__globals__\n    return hasattr(g, "__globals__"), "__globals__"\n'
    assert validate(clean, cs) == []


# --- require -------------------------------------------------------------------------------


def test_require_plain_name_is_satisfied_by_a_qualified_call() -> None:
    cs = ConstraintSet(
        name="t",
        constraints=(
            Require(id="t.require.validate_input", provenance=PROV, name="validate_input"),
        ),
    )
    assert validate("def f(x):\n    validators.validate_input(x)\n    return x\n", cs) == []
    assert validate("def f(x):\n    from v import validate_input\n    return x\n", cs) == []
    bad = "@decorator\ndef f(x):  # validate_input\n    y = 'validate_input'\n    return x\n"
    (v,) = validate(bad, cs)
    # At the body, not at 1:1.
    assert (v.line, v.column) == (3, 5)
    assert "validate_input" in v.message


def test_require_dotted_name_is_not_satisfied_by_another_module() -> None:
    cs = ConstraintSet(
        name="t",
        constraints=(Require(id="t.require.v", provenance=PROV, name="validators.check"),),
    )
    assert validate("def f(x):\n    import validators as v\n    v.check(x)\n", cs) == []
    (v,) = validate("def f(x):\n    other.check(x)\n", cs)
    assert (v.line, v.column) == (2, 5)


def test_explain_says_what_satisfies_require() -> None:
    text = 'constraint t { require: ["validate_input", "json.loads"]; }\n'
    diags = Diagnostics()
    module = compile_source(SourceFile("t.ariadne", text), diags)
    assert module is not None
    (lowered,) = lower(module, diags=diags)
    detail = {e.constraint_id: e.detail for e in lowered.enforcements}
    assert "an attribute of that name" in detail["t.require.validate_input"]
    assert "an attribute" not in detail["t.require.json.loads"]


# --- the fixtures, at each level --------------------------------------------------------------


def read_fixture(path: Path) -> tuple[dict[str, str], str]:
    header: dict[str, str] = {}
    lines = path.read_text("utf-8").splitlines(keepends=True)
    while lines and lines[0].startswith("# "):
        key, _, value = lines.pop(0)[2:].partition(": ")
        header[key] = value.strip()
    return header, "".join(lines)


def test_every_way_around_has_a_fixture() -> None:
    covered = {read_fixture(p)[0]["escape"] for p in FIXTURES}
    assert covered == {e.what for e in ESCAPES}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture(path: Path) -> None:
    header, src = read_fixture(path)
    compile(src, path.name, "exec")  # real Python
    names = tuple(header["forbid"].split())
    alone = validate(src, forbid(*names))
    assert bool(alone) == (header["forbid alone, after generation"] == "reported"), where(alone)
    cset, grammar = std_set(names)
    level = header[f"with {STD_SET}"]
    assert ByteMatcher(grammar).accepts(src) == (level != "grammar")
    post = validate(src, cset)
    assert bool(post) == (level != "open"), where(post)


def test_walk_through_classes_is_open_but_its_globals_lookup_is_not() -> None:
    _, src = read_fixture(ROOT / "tests" / "fixtures" / "escapes" / "introspection.py")
    assert validate(src, forbid("eval", "exec")) == []
    (v,) = validate(src, forbid("sys.modules"))
    assert (v.line, v.column, v.text) == (4, 20, 'cls.__init__.__globals__["sys"].modules')


# --- the standard library, the spec and arc explain ----------------------------------------


def test_no_dynamic_code_forbids_what_the_table_says() -> None:
    cset, _ = std_set()
    forbidden = {c.name for c in cset.constraints if isinstance(c, Forbid)}
    for e in ESCAPES:
        if e.std.startswith("closes it in the grammar"):
            assert set(e.closers) <= forbidden, e.what
        assert set(e.std_names) <= forbidden, e.what
    issue = {"getattr", "setattr", "globals", "locals", "vars", "__import__", "__builtins__"}
    issue |= {"builtins", "importlib", "compile", "eval", "exec", "pickle", "marshal", "shelve"}
    assert issue <= forbidden


def test_safe_extends_no_dynamic_code() -> None:
    text = "import std.python;\nconstraint t extends std.python.safe {}\n"
    diags = Diagnostics()
    module = compose(compile_source(SourceFile("t.ariadne", text), diags), diags)  # type: ignore[arg-type]
    assert module is not None
    names = {c.name for c in module.get_set("t").constraints if isinstance(c, Forbid)}  # type: ignore[union-attr]
    assert {"getattr", "importlib", ".__globals__", "sys.modules", "os.system"} <= names


def test_spec_holds_the_table() -> None:
    spec = (ROOT / "spec" / "python.md").read_text("utf-8")
    assert "## Ways around forbid" in spec
    assert markdown_table() in spec


def test_explain_lists_what_remains() -> None:
    text = 'constraint t { forbid: ["eval", "os.system"]; }\n'
    diags = Diagnostics()
    module = compile_source(SourceFile("t.ariadne", text), diags)
    assert module is not None
    (lowered,) = lower(module, diags=diags)
    ways = [n for n in lowered.notes if n.startswith("way around forbid:")]
    assert len(ways) == len(ESCAPES)
    assert any("`builtins.eval(x)`" in n and "forbid `builtins`, `__builtins__`" in n for n in ways)
    assert all(STD_SET in n for n in ways)

    cset, _ = std_set()
    text = f"import std.python;\nconstraint t extends {STD_SET} {{}}\n"
    module = compose(compile_source(SourceFile("t.ariadne", text), diags), diags)  # type: ignore[arg-type]
    assert module is not None
    (lowered,) = [x for x in lower(module, diags=diags) if x.set_name == "t"]
    ways = [n for n in lowered.notes if n.startswith("way around forbid:")]
    closed = [
        e
        for e in ESCAPES
        if e.closers
        and set(e.closers) <= {c.name for c in cset.constraints if isinstance(c, Forbid)}
    ]
    assert closed and len(ways) == len(ESCAPES) - len(closed)
    assert any(n.startswith("ways around forbid closed in the grammar:") for n in lowered.notes)
