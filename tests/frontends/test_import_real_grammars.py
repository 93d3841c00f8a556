"""Grammars other people wrote, as installed packages ship them.

Every grammar either imports cleanly, is printed by the llguidance backend and passes
llguidance's validator, and accepts / rejects sample strings exactly as the ``lark``
package (or XGrammar) does on the original, or reports exactly the diagnostics listed.

Sets: the ``lark`` package's own ``grammars/`` folder; ``sympy``'s LaTeX grammar;
``outlines``' grammars; ``python-hcl2``'s HCL grammar; the GBNF grammars of the ``gbnf``
package's parser tests; XGrammar's own EBNF (its built-in JSON grammar and a grammar it
writes for a JSON schema). Every package is installed by the dev and engines extras: a
missing one skips its tests here and fails them under CI.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.frontends.import_helpers import matcher, run
from tests.suite_helpers import missing, require_module

Expected = list[tuple[str, str, int]]  # (severity, code, line), sorted


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _read(package: str, relative: str) -> tuple[str, str]:
    base = _package_dir(package)
    if base is None:
        missing(f"the package holding {relative} ({package}) is not installed")
    path = base / relative
    return str(path), path.read_text(encoding="utf-8")


E, W = "error", "warning"
U, IGN, UNDEF = (
    "unsupported-grammar-construct",
    "ignored-grammar-construct",
    "undefined-grammar-rule",
)
LAZY_AND_LOOKAROUND = [(E, U, 284)] * 8 + [(E, U, 285)] * 6 + [(E, U, 289)]

# (package, file, start rule, expected diagnostics)
DIAGNOSED: list[tuple[str, str, str | None, Expected]] = [
    # common.lark is a library: `_STRING_INNER: /.*?/` is a lazy quantifier (imports of
    # ESCAPED_STRING use an equivalent plain regex instead; see test_import_lark.py).
    ("lark", "grammars/common.lark", "SIGNED_NUMBER", [(E, U, 26)]),
    ("lark", "grammars/lark.lark", None, [(E, U, 48), (E, U, 52), (E, U, 52)]),
    (
        "lark",
        "grammars/python.lark",
        "file_input",
        sorted(
            # templates are expanded; `%declare _INDENT _DEDENT` has no equivalent
            [(E, U, 275)] + LAZY_AND_LOOKAROUND + [(W, IGN, n) for n in (290, 291, 292, 296, 297)]
        ),
    ),
    ("outlines", "grammars/common.lark", "SIGNED_NUMBER", [(E, U, 82)]),
    # python-hcl2 reads its grammar with lark's LALR parser and standard regexes: lazy
    # quantifiers in comments and heredocs (lines 6, 92, 93), lookaheads that keep `${`
    # and `%{` out of string text (26) and `==`/`=>`/`::` apart from `=`/`:` (60, 61), a
    # heredoc's closing marker as a backreference to its opening one (92, 93); terminal
    # priorities are dropped with a warning (24, 25, 26, 66).
    (
        "hcl2",
        "hcl2.lark",
        None,
        sorted(
            [(E, U, 6)]
            + [(E, U, 26)] * 6
            + [(E, U, 60), (E, U, 61)]
            + [(E, U, 92)] * 3
            + [(E, U, 93)] * 3
            + [(W, IGN, n) for n in (24, 25, 26, 66)]
        ),
    ),
    # no `start` rule: a library of terminals
    ("lark", "grammars/unicode.lark", None, [(E, UNDEF, 1)]),
]


@pytest.mark.parametrize(("package", "relative", "start", "expected"), DIAGNOSED)
def test_grammar_with_diagnostics(
    package: str, relative: str, start: str | None, expected: Expected
) -> None:
    path, text = _read(package, relative)
    grammar, diags = run(text, "lark", name=path, start=start)
    got = sorted(
        (d.severity, d.code, d.primary_span.line) for d in diags if d.primary_span is not None
    )
    assert len(got) == len(diags)
    assert got == expected
    assert (grammar is None) == any(sev == E for sev, _, _ in expected)


JSON_OK = ['{"a": [1, -2.5e3, "x\\"y"], "b": {"c": null}}', "[]", '"s"', "true"]
JSON_BAD = ['{"a": }', "[1,]", "{'a': 1}", '"a']

# (package, file, start rule, expected warnings, accepted, rejected)
CLEAN: list[tuple[str, str, str | None, Expected, list[str], list[str]]] = [
    ("lark", "grammars/unicode.lark", "WS", [], [" \t\xa0\n "], ["", "x", "\u3000"]),
    (
        "sympy",
        "parsing/latex/lark/grammar/latex.lark",
        "latex_string",
        [],
        ["\\frac{1}{2} + x^2", "\\sin \\alpha \\cdot y_1", "a = b"],
        ["\\frac{1}{", "x +"],
    ),
    ("sympy", "parsing/latex/lark/grammar/greek_symbols.lark", "ALPHA", [], ["\\alpha"], ["a"]),
    ("outlines", "grammars/arithmetic.lark", None, [], ["1 + 2 * (3 - 4.5)", "7"], ["1 +", "()"]),
    ("outlines", "grammars/json.lark", "value", [], JSON_OK, JSON_BAD),
]


@pytest.mark.parametrize(("package", "relative", "start", "warnings", "good", "bad"), CLEAN)
def test_clean_grammar(
    package: str,
    relative: str,
    start: str | None,
    warnings: Expected,
    good: list[str],
    bad: list[str],
) -> None:
    import lark

    path, text = _read(package, relative)
    grammar, diags = run(text, "lark", name=path, start=start)
    got = sorted(
        (d.severity, d.code, d.primary_span.line) for d in diags if d.primary_span is not None
    )
    assert got == warnings
    assert grammar is not None
    grammar.verify()
    ours = matcher(grammar)  # printed, and valid for llguidance
    if start is not None and start.isupper():
        # lark starts from rules only
        text, start = f"{text}\nzz_start: {start}\n", "zz_start"
    original = lark.Lark(
        text,
        start=start or "start",
        parser="earley",
        lexer="dynamic",
        import_paths=[str(Path(path).parent)],
    )

    def lark_accepts(s: str) -> bool:
        try:
            original.parse(s)
        except lark.LarkError:
            return False
        return True

    for s in good:
        assert lark_accepts(s), f"sample {s!r} is not in the original language"
        assert ours.accepts(s), s
    for s in bad:
        assert not lark_accepts(s), f"sample {s!r} is in the original language"
        assert not ours.accepts(s), s


def _xgrammar() -> object:
    return require_module("xgrammar")


def _xgrammar_accepts(ebnf: str, s: str) -> bool:
    from ananke.runtime.engines import get_engine

    return get_engine("xgrammar-ebnf").compile(ebnf).accepts(s)


@pytest.mark.parametrize("which", ["builtin-json", "json-schema"])
def test_xgrammar_written_ebnf(which: str) -> None:
    xgr = _xgrammar()
    if which == "builtin-json":
        text = str(xgr.Grammar.builtin_json_grammar())  # type: ignore[attr-defined]
        good, bad = ['{"a": [1, -2.5e3, "x\\"y"], "b": {"c": null}}', "[]"], JSON_BAD
    else:
        schema = (
            '{"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": '
            '"array", "items": {"type": "boolean"}}}, "required": ["a"]}'
        )
        text = str(xgr.Grammar.from_json_schema(schema))  # type: ignore[attr-defined]
        good = ['{"a": 1}', '{"a": -3, "b": [true, false]}', '{ "a" : 0 , "b" : [ ] }']
        bad = ['{"b": []}', '{"a": 1.5}', '{"a": 1, "b": [1]}']
    grammar, diags = run(text, "ebnf")
    # XGrammar writes lookaheads `(= ...)`, which do not restrict its language: dropped.
    assert diags and {d.code for d in diags} == {IGN}
    assert grammar is not None
    ours = matcher(grammar)
    for s in good:
        assert _xgrammar_accepts(text, s) and ours.accepts(s), s
    for s in bad:
        assert not _xgrammar_accepts(text, s) and not ours.accepts(s), s


def test_greedy_lexing_differs_from_lark() -> None:
    """A known difference, not an import error: sympy's LaTeX grammar has a terminal
    ``CMD_BEGIN_ARRAY_AMSMATRIX`` that starts with ``(`` then ``\\begin``. llguidance's
    lexer takes the longest match, so after ``(\\`` it is inside that terminal and
    ``(\\alpha)`` fails; lark's dynamic lexer tries every split."""
    import lark

    path, text = _read("sympy", "parsing/latex/lark/grammar/latex.lark")
    grammar, diags = run(text, "lark", name=path, start="latex_string")
    assert not diags and grammar is not None
    original = lark.Lark(
        text,
        start="latex_string",
        parser="earley",
        lexer="dynamic",
        import_paths=[str(Path(path).parent)],
    )
    original.parse("(\\alpha)")
    assert not matcher(grammar).accepts("(\\alpha)")


def _gbnf_package_cases() -> list[tuple[str, str]]:
    """The GBNF grammars of the `gbnf` package's parser tests (name, grammar)."""
    import ast

    base = _package_dir("gbnf")
    if base is None:
        return []
    tree = ast.parse((base / "rules_builder" / "rules_builder_test.py").read_text())
    cases = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List):
            for item in node.value.elts:
                if isinstance(item, ast.Tuple):
                    key, grammar = ast.literal_eval(item.elts[0]), ast.literal_eval(item.elts[1])
                    cases.append((key, grammar))
    return cases


def test_gbnf_package_grammars() -> None:
    cases = _gbnf_package_cases()
    if not cases:
        missing("the package 'gbnf' is not installed")
    assert len(cases) >= 30
    for key, text in cases:
        grammar, diags = run(text, "gbnf")
        assert not diags, (key, [d.message for d in diags])
        assert grammar is not None
        matcher(grammar)  # printed, and valid for llguidance
