"""`naming` with `scope: all`: local variables and nested functions, from Ariadne source
to the check after generation and `arc explain`."""

from __future__ import annotations

import textwrap

from ananke.ariadne import compile_source
from ananke.ir import Diagnostics
from ananke.ir.constraint import ConstraintSet, Naming
from ananke.ir.lower import lower
from ananke.ir.source import SourceFile
from ananke.languages.validate import validate


def compiled(prop: str) -> ConstraintSet:
    diags = Diagnostics()
    module = compile_source(SourceFile("t.ariadne", f"constraint t {{ {prop} }}\n"), diags)
    assert module is not None and not diags.has_errors, [d.message for d in diags]
    (cset,) = module.sets
    return cset


CODE = textwrap.dedent(
    """\
    def load_all(paths, max_size=10):
        import json as JSON
        from os.path import getsize as GetSize
        global COUNTER
        COUNTER = 0
        badLocal = []
        for (i, itemPath) in enumerate(paths):
            badLocal.append(itemPath)
        total = [sizeOf for sizeOf in map(GetSize, paths)]
        with open(paths[0]) as fileHandle:
            pass
        try:
            pass
        except OSError as osErr:
            pass
        key = lambda keyArg: keyArg
        _ = __ = 1

        def innerHelper(someArg, ok_arg=1):
            return someArg

        class Local:
            classAttr = 1

            def methodName(self, methodArg):
                return methodArg

        return JSON, total, key, Local
    """
)
"""Every name below that is not snake case is defined by the function."""


def test_scope_all_compiles_to_the_ir() -> None:
    (c,) = compiled("naming: { style: snake, scope: all };").constraints
    assert isinstance(c, Naming) and (c.style, c.scope) == ("snake", "all")
    (c,) = compiled('naming: { pattern: r"[a-z_]+" };').constraints
    assert isinstance(c, Naming) and (c.pattern, c.scope) == ("[a-z_]+", "signature")
    (c,) = compiled("naming: snake;").constraints
    assert isinstance(c, Naming) and c.scope == "signature"


def test_scope_all_checks_locals_and_nested_functions() -> None:
    vs = validate(CODE, compiled("naming: { style: snake, scope: all };"))
    flagged = {v.text for v in vs}
    assert flagged == {
        "badLocal",
        "itemPath",
        "sizeOf",
        "fileHandle",
        "osErr",
        "keyArg",
        "innerHelper",
        "someArg",
        "methodName",
        "methodArg",
    }
    # Each at its first definition.
    at = {v.text: (v.line, v.column) for v in vs}
    assert at["badLocal"] == (6, 5)
    assert at["innerHelper"] == (19, 9)
    assert at["someArg"] == (19, 21)


def test_default_scope_leaves_locals_alone() -> None:
    assert validate(CODE, compiled("naming: snake;")) == []
    bad = CODE.replace("def load_all(paths,", "def load_all(Paths,")
    assert [v.text for v in validate(bad, compiled("naming: snake;"))] == ["Paths"]


def test_scope_all_with_a_pattern() -> None:
    cs = compiled('naming: { pattern: r"[a-z]+", scope: all };')
    src = "def run(x):\n    total_sum = x\n    return total_sum\n"
    assert [(v.text, v.line, v.column) for v in validate(src, cs)] == [("total_sum", 2, 5)]


def test_explain_says_what_naming_covers() -> None:
    for prop, covered in (
        ("naming: snake;", False),
        ("naming: { style: snake, scope: all };", True),
    ):
        diags = Diagnostics()
        module = compile_source(SourceFile("t.ariadne", f"constraint t {{ {prop} }}\n"), diags)
        assert module is not None
        (lowered,) = lower(module, diags=diags)
        (e,) = lowered.enforcements
        text = f"{e.reason} {e.detail}"
        if covered:
            assert "local variable and nested function names are checked" in text
        else:
            assert "local variables and nested functions are not covered" in text
