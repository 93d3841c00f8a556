"""`forbid` of Python keywords, end to end: what `arc explain` claims, and what the grammar
`arc emit` prints lets through (llguidance, byte by byte) and what the post check reports.

A keyword is excluded everywhere it can stand; `explain` must never claim `token` for a
place the grammar leaves open. Every function below is checked with `compile()` first:
the grammar is asked about the name, never about broken syntax.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ananke.ariadne import compile_source
from ananke.ir import Diagnostics, SourceFile
from ananke.ir.passes import compose
from ananke.runtime.acceptance import ByteMatcher
from ananke.runtime.validate import check

from tests.cli.cli_helpers import run_arc

KEYWORDS = """\
constraint kw {
    forbid: ["if", "match", "import", "None", "async", "_"];
}
constraint names {
    forbid: ["lambda", "eval"];
}
constraint hard {
    forbid: ["if", "lambda"];
}
constraint typed {
    signature: fetch(url: str, retries: int = 3) -> Optional<str>;
    forbid: ["None", "int"];
}
"""


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "k.ariadne").write_text(KEYWORDS)
    return Path("k.ariadne")


def _grammar(capsys: pytest.CaptureFixture[str], path: Path, name: str) -> ByteMatcher:
    code, out, err = run_arc(capsys, "emit", path, "-c", name, "-t", "llguidance")
    assert code == 0, err
    return ByteMatcher(out)


def _set(name: str) -> object:
    diags = Diagnostics()
    module = compile_source(SourceFile("k.ariadne", KEYWORDS), diags)
    assert module is not None
    cset = compose(module, diags).get_set(name)
    assert cset is not None and not diags.has_errors
    return cset


def fn(*body: str, head: str = "def handler(values):") -> str:
    text = head + "\n" + "".join(f"    {line}\n" for line in body)
    compile(text, "t.py", "exec", dont_inherit=True)
    return text


KEYWORD_USES = {
    "if": [
        fn("if values:", "    pass"),
        fn("x = 1 if values else 2"),
        fn("return [v for v in values if v]"),
        fn("return f'{1 if values else 2}'"),
        fn("return f'{values if\"a\"else 2}'"),
        fn("ｉｆ = values"),  # the name `if` to Python
    ],
    "match": [
        fn("match values:", "    case 1:", "        pass"),
        fn("match = values"),
        fn("ｍatch = values"),
    ],
    "import": [fn("import os"), fn("from . import x"), fn("from ... import x")],
    "None": [fn("return None"), fn("return values is None"), fn("return f'{None}'")],
    "async": [fn("return values", head="async def handler(values):")],
    "_": [fn("match values:", "    case _:", "        pass"), fn("_ = values")],
}
ALLOWED = [
    fn("while values.match(1):", "    return values.If"),
    fn("x = values.ｉｆ"),  # an attribute named `if`: not the keyword, not a bare name
    fn("for v in values:", "    pass", "else:", "    return 'if match import None'  # if"),
    fn("iff = matches = imports = Nones = asyncs = __ = values"),
    fn("try:", "    pass", "except E as e:", "    raise"),
    fn("return lambda: values"),
]


def test_explain_says_what_is_excluded_for_a_keyword(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_arc(capsys, "explain", path, "--output-format", "json")
    assert code == 0, err
    sets = {s["name"]: s["targets"][0] for s in json.loads(out)["sets"]}
    plan = {e["id"]: e for e in sets["kw"]["constraints"]}
    assert {e["level"] for e in plan.values()} == {"token"}
    everywhere = (
        "a keyword: excluded everywhere it can stand: statements, block openers and expressions"
    )
    assert plan["kw.forbid.if"]["reason"] == everywhere
    assert plan["kw.forbid.if"]["detail"].startswith("also after '.' (`from . import x`)")
    assert plan["kw.forbid.async"]["detail"].startswith("the def line is not `async def`; ")
    assert plan["kw.forbid.match"]["reason"] == (
        "a soft keyword and a name: excluded from the identifier lexeme wherever a name "
        "stands bare, the `match` statement included"
    )
    assert plan["kw.forbid._"]["reason"].endswith("the wildcard pattern `case _` included")
    names = {e["id"]: e for e in sets["names"]["constraints"]}
    assert names["names.forbid.eval"]["reason"] == (
        "excluded from the identifier lexeme wherever a name stands bare"
    )
    assert names["names.forbid.lambda"]["reason"] == everywhere
    # Ways around `forbid` are for names, which code can reach without writing them; a
    # keyword is syntax.
    assert not any("way around forbid" in n for n in sets["hard"]["notes"])
    assert any("way around forbid" in n for n in sets["names"]["notes"])
    assert {e["level"] for e in sets["typed"]["constraints"]} == {"token"}


@pytest.mark.parametrize("word", KEYWORD_USES)
def test_the_grammar_rejects_a_forbidden_keyword_wherever_it_stands(
    word: str, path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = _grammar(capsys, path, "kw")
    cset = _set("kw")
    for text in KEYWORD_USES[word]:
        assert not m.accepts(text), text
        found = [v.text for v in check(text, cset).violations]  # type: ignore[arg-type]
        assert word in found, (text, found)


def test_the_grammar_accepts_what_uses_no_forbidden_keyword(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = _grammar(capsys, path, "kw")
    cset = _set("kw")
    for text in ALLOWED:
        assert m.check(text).accepted, (text, m.check(text))
        assert check(text, cset).violations == [], text  # type: ignore[arg-type]


def test_a_pinned_annotation_avoids_forbidden_names(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = _grammar(capsys, path, "typed")
    cset = _set("typed")
    ok = [
        fn("return url", head='def fetch(url: str, retries: "int" = 3) -> Optional[str]:'),
        fn("return url", head="def fetch(url: str, retries: 'int' = 3) -> 'str | None':"),
    ]
    for text in ok:
        assert m.accepts(text), text
        assert check(text, cset).ok, text  # type: ignore[arg-type]
    bad = [
        fn("return url", head="def fetch(url: str, retries: int = 3) -> Optional[str]:"),
        fn("return url", head='def fetch(url: str, retries: "int" = 3) -> str | None:'),
    ]
    for text in bad:
        assert not m.accepts(text), text
        assert not check(text, cset).ok, text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("props", "code", "message"),
    [
        (
            'forbid: ["lambda", "def"];',
            "invalid-value",
            "`def` cannot be forbidden: every output is a function definition, whose own "
            "`def` line spells it",
        ),
        (
            'signature: async fetch(url: str) -> bytes;\n    forbid: ["async"];',
            "constraint-conflict",
            "the pinned signature spells `async` (`async def`), which is also forbidden in `c`",
        ),
        (
            'params: (self, x = None);\n    forbid: ["None"];',
            "constraint-conflict",
            "the pinned signature spells `None` (the default of `x`), which is also "
            "forbidden in `c`",
        ),
        (
            'params: (self, x);\n    forbid: ["self"];',
            "constraint-conflict",
            "the pinned signature spells `self` (parameter `self`), which is also forbidden in `c`",
        ),
    ],
)
def test_a_keyword_no_output_can_do_without_is_refused(
    props: str,
    code: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    Path("c.ariadne").write_text(f"constraint c {{\n    {props}\n}}\n")
    rc, _, err = run_arc(capsys, "check", "c.ariadne", "--output-format", "json")
    assert rc == 1
    (d,) = json.loads(err)
    assert (d["code"], d["message"]) == (code, message)
    forbidden = next(lab for lab in d["labels"] if lab["line"] == props.count("\n") + 2)
    assert forbidden["message"] in ("no function can do without it", "forbidden here")
