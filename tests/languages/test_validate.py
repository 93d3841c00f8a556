"""Post-generation checks on real code: each check accepts good code and flags bad code."""

from __future__ import annotations

import textwrap

import pytest
from ananke.ariadne import compile_source
from ananke.ir.constraint import (
    Constraint,
    ConstraintSet,
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
from ananke.ir.source import SourceFile, Span
from ananke.languages.python.checks import dotted_uses, name_uses
from ananke.languages.validate import Violation, check, validate

PROV = SourceProvenance(
    span=Span(file="t.ariadne", start=0, end=1, line=1, column=1, end_line=1, end_column=2)
)


def cset(*cs: Constraint) -> ConstraintSet:
    return ConstraintSet(name="t", constraints=cs)


def forbid(*names: str) -> ConstraintSet:
    return cset(*(Forbid(id=f"t.forbid.{n}", provenance=PROV, name=n) for n in names))


def code(s: str) -> str:
    return textwrap.dedent(s).lstrip("\n")


def where(vs: list[Violation]) -> list[tuple[str, int, int]]:
    return [(x.text, x.line, x.column) for x in vs]


# --- names -------------------------------------------------------------------------------

USES_EVAL = [
    ("call", "def f(x):\n    return eval(x)\n", (2, 12)),
    ("reference", "def f():\n    g = eval\n    return g\n", (2, 9)),
    ("assignment", "def f():\n    eval = 1\n    return eval\n", (2, 5)),
    ("parameter", "def f(a, eval=None):\n    pass\n", (1, 10)),
    ("keyword argument", "def f(g):\n    return g(eval=1)\n", (2, 14)),
    ("from import", "def f():\n    from builtins import eval\n", (2, 26)),
    ("import", "def f():\n    import eval\n", (2, 12)),
    ("function name", "def eval(x):\n    return x\n", (1, 5)),
    ("f-string field", 'def f(x):\n    return f"{eval(x)!r}"\n', (2, 15)),
    ("f-string format spec", 'def f(x):\n    return f"{x:>{eval}}"\n', (2, 19)),
    ("nested f-string", "def f(x):\n    return f\"{f'{eval}'}\"\n", (2, 18)),
    ("multi-line f-string", 'def f(x):\n    return f"""\n    {  eval\n    }"""\n', (3, 8)),
    ("inside brackets", "def f(x):\n    return g(\n        x,\n        eval,\n    )\n", (4, 9)),
    ("lambda", "def f():\n    return lambda eval: 1\n", (2, 19)),
    ("global", "def f():\n    global eval\n", (2, 12)),
]


@pytest.mark.parametrize(("what", "src", "pos"), USES_EVAL, ids=[u[0] for u in USES_EVAL])
def test_forbid_plain_name_flags_every_bare_use(what: str, src: str, pos: tuple[int, int]) -> None:
    vs = validate(src, forbid("eval"))
    assert where(vs)[:1] == [("eval", *pos)], what
    assert vs[0].constraint_id == "t.forbid.eval"
    assert vs[0].kind == "forbid"


NOT_USES = [
    ("attribute", "def f(model):\n    model.eval()\n    return model.eval\n"),
    ("attribute across lines", "def f(m):\n    return (m\n        .eval())\n"),
    ("string", "def f():\n    return 'eval' + \"eval(x)\"\n"),
    ("comment", "def f():\n    # eval(x)\n    return 1  # eval\n"),
    ("docstring", 'def f():\n    """Calls eval."""\n'),
    ("f-string text", 'def f(x):\n    return f"eval {x} eval()"\n'),
    ("f-string attribute", 'def f(x):\n    return f"{x.eval()}"\n'),
    ("longer name", "def f(evaluate, eval_):\n    return evaluate(eval_)\n"),
    ("relative import of module", "def f():\n    from .eval import x\n"),
    ("import of submodule", "def f():\n    import pkg.eval\n"),
]


@pytest.mark.parametrize(("what", "src"), NOT_USES, ids=[u[0] for u in NOT_USES])
def test_forbid_plain_name_leaves_attributes_strings_comments(what: str, src: str) -> None:
    assert validate(src, forbid("eval")) == [], what


def test_forbid_several_names_reports_each_use_in_order() -> None:
    src = code(
        """
        def run(cmd, out):
            print(cmd)
            exec(cmd)
            with open(out) as fh:
                print(fh)
        """
    )
    vs = validate(src, forbid("eval", "exec", "open", "print"))
    assert sorted(where(vs), key=lambda w: (w[1], w[2])) == [
        ("print", 2, 5),
        ("exec", 3, 5),
        ("open", 4, 10),
        ("print", 5, 9),
    ]


def test_forbid_dotted_name() -> None:
    bad = {
        "qualified call": "def f():\n    os.system('ls')\n",
        "spaced": "def f():\n    return os . system\n",
        "from import": "def f():\n    from os import system\n",
        "import submodule": "def f():\n    import os.system\n",
        "from import alias": "def f():\n    from os import system as s\n",
    }
    for what, src in bad.items():
        assert len(validate(src, forbid("os.system"))) == 1, what
    good = {
        "the package": "def f():\n    import os\n    return os.path\n",
        "another attribute": "def f():\n    return os.getcwd()\n",
        "attribute of attribute": "def f(x):\n    return x.os.system()\n",
        "string": "def f():\n    return 'os.system'\n",
        # documented limitation: a name bound two ways (a parameter, then an import)
        # names nothing known, so it is not followed
        "rebound alias": "def f(o):\n    import os as o\n    o.system('ls')\n",
    }
    for what, src in good.items():
        assert validate(src, forbid("os.system")) == [], what
    v = validate("def f():\n    x = 1; os.system('ls')\n", forbid("os.system"))
    assert where(v) == [("os.system", 2, 12)]


def test_forbid_keyword_is_a_use_wherever_it_is_written() -> None:
    src = code(
        """
        def f(x):
            from . import y
            from ... import z
            if x.match(1) or x.ｉｆ:
                return 1 if x else None
            match x:
                case _:
                    ｉｆ = x
        """
    )
    found = check(src, forbid("import", "if", "match", "_", "None")).violations
    assert sorted(where(found), key=lambda w: w[1:]) == [
        ("import", 2, 12),  # after a dot: still the keyword
        ("import", 3, 14),
        ("if", 4, 5),
        ("if", 5, 18),
        ("None", 5, 28),
        ("match", 6, 5),  # the statement; `x.match` is an attribute
        ("_", 7, 14),  # the wildcard pattern
        ("if", 8, 13),  # `ｉｆ` is the name `if` to Python (NFKC); `x.ｉｆ` an attribute
    ]


def test_name_uses_stops_quietly_on_broken_code() -> None:
    uses = name_uses("def f(:\n    eval(\n")
    assert [u.name for u in uses][:2] == ["def", "f"]
    assert "eval" in [u.name for u in uses]
    assert dotted_uses("x = (", "os.system") == []


def test_require() -> None:
    req = cset(
        Require(id="t.require.json.loads", provenance=PROV, name="json.loads"),
        Require(id="t.require.validate", provenance=PROV, name="validate"),
    )
    good = "def f(s):\n    validate(s)\n    return json.loads(s)\n"
    assert validate(good, req) == []
    bad = "def f(s):\n    validated(s)\n    return json.dumps(s)  # json.loads validate\n"
    assert {v.constraint_id for v in validate(bad, req)} == {
        "t.require.json.loads",
        "t.require.validate",
    }


# --- limits ------------------------------------------------------------------------------


def test_max_lines_counts_physical_lines() -> None:
    c = cset(Limit(id="t.max_lines", provenance=PROV, metric="lines", max=3))
    assert validate("def f():\n\n    return 1\n", c) == []
    assert validate("def f():\n\n    return 1", c) == []  # no final newline: still 3
    vs = validate("def f():\n    # c\n\n    return 1\n", c)
    assert [(v.line, v.text) for v in vs] == [(4, "    return 1")]
    assert "4 lines" in vs[0].message
    # one more final newline is a fourth (empty) line
    assert len(validate("def f():\n\n    return 1\n\n", c)) == 1


def test_max_chars_counts_code_points() -> None:
    c = cset(Limit(id="t.max_chars", provenance=PROV, metric="chars", max=20))
    assert validate("def f():\n    'ééé'\n", c) == []  # 19 code points, 22 bytes
    vs = validate("def f():\n    return 12345\n", c)
    assert len(vs) == 1
    assert (vs[0].line, vs[0].column, vs[0].text) == (2, 12, "12345\n")


def test_max_tokens_needs_a_tokenizer() -> None:
    c = cset(Limit(id="t.max_tokens", provenance=PROV, metric="tokens", max=3))
    src = "def f():\n    return 1\n"
    r = check(src, c)
    assert r.ok
    assert [s.constraint_id for s in r.skipped] == ["t.max_tokens"]
    assert validate(src, c, tokenizer=lambda s: 3) == []
    vs = validate(src, c, tokenizer=len)
    assert len(vs) == 1
    assert "22 tokens" in vs[0].message


# --- syntax and shape --------------------------------------------------------------------


@pytest.mark.parametrize(
    "src",
    [
        "def f(:\n    pass\n",
        "x = 1\n",
        "def f():\n    pass\ndef g():\n    pass\n",
        "class C:\n    pass\n",
        "",
        "def f():\nreturn 1\n",
    ],
)
def test_syntax_requires_exactly_one_function(src: str) -> None:
    vs = validate(src, cset())
    assert [v.kind for v in vs] == ["syntax"]
    assert vs[0].constraint_id == "t.syntax"


@pytest.mark.parametrize(
    "src",
    [
        "def f():\n    pass\n",
        "async def f():\n    await g()\n",
        "@app.route('/x')\n@cache\ndef f():\n    pass\n",
        "def f():\n    def g():\n        pass\n    class C:\n        pass\n",
    ],
)
def test_syntax_accepts_one_function(src: str) -> None:
    assert validate(src, cset()) == []


def test_syntax_error_position() -> None:
    (v,) = validate("def f():\n    return (1,\n", cset())
    assert v.kind == "syntax"
    assert v.line == 2


RESULT = TypeExpr(name="Result", args=(TypeExpr(name="Response"), TypeExpr(name="Error")))


def test_returns() -> None:
    c = cset(Returns(id="t.returns", provenance=PROV, type=RESULT))
    for ok in [
        "def f() -> Result[Response, Error]:\n    pass\n",
        "def f() -> Result[Response,Error]:\n    pass\n",
        "def f() -> 'Result[Response, Error]':\n    pass\n",
        "async def f(x: int) -> Result[\n    Response, Error\n]:\n    pass\n",
    ]:
        assert validate(ok, c) == [], ok
    for bad in [
        "def f():\n    pass\n",
        "def f() -> Result[Error, Response]:\n    pass\n",
        "def f() -> Response:\n    pass\n",
    ]:
        assert [v.constraint_id for v in validate(bad, c)] == ["t.returns"], bad


def test_returns_option_and_builtins() -> None:
    t = TypeExpr(name="Option", args=(TypeExpr(name="List", args=(TypeExpr(name="Int"),)),))
    c = cset(Returns(id="t.returns", provenance=PROV, type=t))
    for ok in ["Optional[list[int]]", "list[int] | None", "Optional[List[int]]"]:
        assert validate(f"def f() -> {ok}:\n    pass\n", c) == [], ok
    assert len(validate("def f() -> list[int]:\n    pass\n", c)) == 1


def test_function_name_and_naming() -> None:
    c = cset(
        FunctionName(id="t.name", provenance=PROV, name="handle"),
        Naming(id="t.naming", provenance=PROV, style="snake"),
    )
    assert validate("def handle(request, max_size=1):\n    pass\n", c) == []
    vs = validate("def handleIt(request, maxSize=1):\n    pass\n", c)
    assert [(v.constraint_id, v.text) for v in vs] == [
        ("t.name", "handleIt"),
        ("t.naming", "handleIt"),
        ("t.naming", "maxSize"),
    ]
    rx = cset(Naming(id="t.naming", provenance=PROV, pattern=r"[a-z]+"))
    assert validate("def ab(cd):\n    pass\n", rx) == []
    assert where(validate("def ab(c_d):\n    pass\n", rx)) == [("c_d", 1, 8)]


@pytest.mark.parametrize(
    ("style", "good", "bad"),
    [
        ("camel", "parseConfig", "parse_config"),
        ("pascal", "ParseConfig", "parseConfig"),
        ("screaming", "MAX_SIZE", "MaxSize"),
        ("snake", "_private", "Private"),
    ],
)
def test_naming_styles(style: str, good: str, bad: str) -> None:
    c = cset(Naming(id="t.naming", provenance=PROV, style=style))  # type: ignore[arg-type]
    assert validate(f"def {good}():\n    pass\n", c) == []
    assert len(validate(f"def {bad}():\n    pass\n", c)) == 1


PARAMS = (
    Param(name="request", type=TypeExpr(name="Request")),
    Param(name="args", kind="var_positional"),
    Param(name="timeout", type=TypeExpr(name="Float"), default="1.0", kind="keyword_only"),
    Param(name="extra", kind="var_keyword"),
)


def test_params() -> None:
    c = cset(Params(id="t.params", provenance=PROV, params=PARAMS))
    ok = "def f(request: Request, *args, timeout: float = 1.0, **extra):\n    pass\n"
    assert validate(ok, c) == []
    assert validate(ok.replace("1.0", "1.00"), c) == []  # the same expression
    for bad, msg in [
        ("def f(request, *args, timeout: float = 1.0, **extra):\n", "annotated"),
        ("def f(request: Request, *args, timeout: float, **extra):\n", "must have a default"),
        ("def f(request: Request, *args, timeout: float = 2.0, **extra):\n", "default to"),
        ("def f(req: Request, *args, timeout: float = 1.0, **extra):\n", "parameters must be"),
        ("def f(request: Request, *, timeout: float = 1.0, **extra):\n", "parameters must be"),
        ("def f(request: Request, *args, timeout: float = 1.0, **extra: int):\n", "must not"),
    ]:
        vs = validate(bad + "    pass\n", c)
        assert len(vs) == 1 and msg in vs[0].message, (bad, vs)


def test_signature() -> None:
    sig = Signature(
        id="t.signature",
        provenance=PROV,
        name="handle",
        params=(Param(name="request"),),
        returns=RESULT,
        is_async=True,
    )
    c = cset(sig)
    assert validate("async def handle(request) -> Result[Response, Error]:\n    pass\n", c) == []
    vs = validate("def handle(request, x) -> Result[Response, Error]:\n    pass\n", c)
    assert [v.message for v in vs] == [
        "the function must be an async def",
        "parameters must be (request)",
    ]


# --- imports, matches, validates ---------------------------------------------------------


def test_imports() -> None:
    c = cset(
        ImportPolicy(
            id="t.imports", provenance=PROV, allow=("json", "re", "os.path"), deny=("json.decoder",)
        )
    )
    good = code(
        """
        def f(s):
            import json
            import re, os.path
            from json import loads
            from os.path import join
            return loads(s)
        """
    )
    assert validate(good, c) == []
    bad = code(
        """
        def f(s):
            import subprocess
            from json import decoder
            import json.decoder.x
            from os import system
            from . import util
        """
    )
    assert [(v.line, v.text) for v in validate(bad, c)] == [
        (2, "subprocess"),
        (3, "json.decoder"),
        (4, "json.decoder.x"),
        (5, "os"),
        (6, "."),
    ]
    deny_only = cset(ImportPolicy(id="t.imports", provenance=PROV, deny=("pickle",)))
    assert validate("def f():\n    import os\n    from . import pickle\n", deny_only) == []
    assert len(validate("def f():\n    import pickle as p\n", deny_only)) == 1
    none = cset(ImportPolicy(id="t.imports", provenance=PROV, allow=()))
    assert len(validate("def f():\n    import os\n", none)) == 1
    assert validate("def f():\n    return 1\n", none) == []


def test_matches_searches_without_flags() -> None:
    c = cset(Matches(id="t.matches", provenance=PROV, pattern=r"^def \w+\(.*\):"))
    assert validate("def f(x):\n    return x\n", c) == []
    assert len(validate("async def f(x):\n    return x\n", c)) == 1
    dotall = cset(Matches(id="t.matches", provenance=PROV, pattern=r"(?s)^def .*return "))
    assert validate("def f(x):\n    return x\n", dotall) == []
    nodot = cset(Matches(id="t.matches", provenance=PROV, pattern=r"^def .*return "))
    assert len(validate("def f(x):\n    return x\n", nodot)) == 1


def test_validates_needs_a_reference_in_the_body() -> None:
    c = cset(Validates(id="t.validates", provenance=PROV, target="input_schema"))
    for ok in [
        "def f(data):\n    input_schema.validate(data)\n    return data\n",
        "def f(data):\n    jsonschema.validate(data, input_schema)\n",
        'def f(data):\n    """Doc."""\n    return input_schema(**data)\n',
    ]:
        assert validate(ok, c) == [], ok
    for bad in [
        "def f(data):\n    return data\n",
        "def f(data):\n    # input_schema\n    return 'input_schema'\n",
        "def f(data):\n    return self.input_schema\n",
        "def f(input_schema):\n    return 1\n",
    ]:
        assert [v.kind for v in validate(bad, c)] == ["validates"], bad


def test_doc_is_not_checked() -> None:
    c = cset(Doc(id="t.doc", provenance=PROV, text="Be nice."))
    assert validate("def f():\n    pass\n", c) == []


def test_seed_example_end_to_end() -> None:
    src = code(
        """
        constraint api_handler {
            returns: Result<Response, Error>;
            validates: input_schema;
            max_lines: 100;
            forbid: ["eval", "exec"];
        }
        """
    )
    diags = Diagnostics()
    module = compile_source(SourceFile("api.ariadne", src), diags)
    assert module is not None
    (s,) = module.sets
    good = code(
        """
        def handle(request: Request) -> Result[Response, Error]:
            data = input_schema.validate(request.json())
            return Ok(Response(data))
        """
    )
    assert validate(good, s) == []
    bad = code(
        """
        def handle(request):
            return eval(request.body)
        """
    )
    assert sorted(v.kind for v in validate(bad, s)) == ["forbid", "returns", "validates"]
