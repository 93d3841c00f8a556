"""Tests of the stdlib function corpus used for soundness measurements."""

from __future__ import annotations

import ast
import tokenize

import pytest
from ananke.languages.python.corpus import (
    FunctionSample,
    physical_lines,
    reindent,
    sample,
    stdlib_functions,
    top_level_functions,
)


@pytest.fixture(scope="module")
def corpus() -> list[FunctionSample]:
    return stdlib_functions()


SOURCE = b'''"""Module docstring."""
import os


def plain(a, b=1):
    return a + b


@decorator
@other(1, 2)
def decorated(x):
    pass


async def coro():
    await x


class C:
    def method(self):
        pass


@decorator
class D:
    pass


if True:
    def nested():
        pass


def last():
    return 1'''


def test_top_level_functions_finds_defs_with_decorators_and_async() -> None:
    fs = top_level_functions(SOURCE, "m.py")
    assert [f.name for f in fs] == ["plain", "decorated", "coro", "last"]
    assert fs[0].text == "def plain(a, b=1):\n    return a + b\n"
    assert fs[1].text.startswith("@decorator\n@other(1, 2)\ndef decorated(x):\n")
    assert fs[2].text == "async def coro():\n    await x\n"
    # the file has no final newline: the sample still ends with one
    assert fs[3].text == "def last():\n    return 1\n"
    assert [f.line for f in fs] == [5, 9, 15, 34]
    assert all(f.path == "m.py" for f in fs)
    for f in fs:
        tree = ast.parse(f.text)
        assert len(tree.body) == 1
        assert isinstance(tree.body[0], ast.FunctionDef | ast.AsyncFunctionDef)


def test_physical_lines() -> None:
    assert physical_lines("") == 0
    assert physical_lines("x") == 1
    assert physical_lines("x\n") == 1
    assert physical_lines("x\n\n") == 2
    assert physical_lines("def f():\n    pass\n") == 2
    assert physical_lines("a\r\nb\n") == 2


def test_stdlib_corpus_is_plausible(corpus: list[FunctionSample]) -> None:
    assert len(corpus) > 3000
    paths = {f.path for f in corpus}
    assert not any(p.startswith(("test/", "idlelib/idle_test/")) for p in paths)
    assert not any("/tests/" in p or p.startswith("tests/") for p in paths)
    assert not any("site-packages" in p for p in paths)
    # a few functions every CPython 3.11 has
    keys = {(f.path, f.name) for f in corpus}
    assert ("os.py", "makedirs") in keys
    assert ("shutil.py", "copyfile") in keys
    assert ("json/__init__.py", "dumps") in keys


def test_stdlib_corpus_is_deterministic(corpus: list[FunctionSample]) -> None:
    assert stdlib_functions(limit=50) == corpus[:50]


def test_every_sample_is_one_function(corpus: list[FunctionSample]) -> None:
    for f in sample(corpus, 300, seed=1):
        tree = ast.parse(f.text)
        assert len(tree.body) == 1, f.key
        assert tree.body[0].name == f.name  # type: ignore[attr-defined]
        assert f.text.endswith("\n")


def test_sample_is_deterministic_and_ordered(corpus: list[FunctionSample]) -> None:
    a = sample(corpus, 100, seed=7)
    assert a == sample(corpus, 100, seed=7)
    assert a != sample(corpus, 100, seed=8)
    assert len(a) == len({f.key for f in a}) == 100
    pos = {f.key: i for i, f in enumerate(corpus)}
    assert [pos[f.key] for f in a] == sorted(pos[f.key] for f in a)
    assert sample(corpus[:5], 10) == corpus[:5]


@pytest.mark.parametrize("unit", ["  ", "        ", "\t"])
def test_reindent_keeps_meaning(corpus: list[FunctionSample], unit: str) -> None:
    for f in sample(corpus, 400, seed=3):
        out = reindent(f.text, unit)
        assert ast.dump(ast.parse(out)) == ast.dump(ast.parse(f.text)), f.key


@pytest.mark.parametrize("unit", ["  ", "\t"])
def test_reindent_changes_block_indentation(unit: str) -> None:
    src = (
        "def f(x):\n"
        "    # lead\n"
        "    if x:\n"
        "        y = (1,\n"
        "             2)\n"
        '    s = """\n'
        "    keep\n"
        '    """\n'
        "    return x \\\n"
        "        + 1\n"
    )
    want = (
        "def f(x):\n"
        f"{unit}# lead\n"
        f"{unit}if x:\n"
        f"{unit * 2}y = (1,\n"
        "             2)\n"
        f'{unit}s = """\n'
        "    keep\n"
        '    """\n'
        f"{unit}return x \\\n"
        "        + 1\n"
    )
    assert reindent(src, unit) == want


def test_reindent_rejects_bad_unit_and_bad_code() -> None:
    with pytest.raises(ValueError):
        reindent("def f():\n    pass\n", "")
    with pytest.raises(ValueError):
        reindent("def f():\n    pass\n", " x")
    with pytest.raises((tokenize.TokenError, IndentationError)):
        reindent("def f(:\n    pass\n  x\n", "  ")


def test_installed_functions_are_third_party_code() -> None:
    from ananke.languages.python.corpus import installed_functions

    funcs = installed_functions()
    assert len(funcs) > 1000, "the test dependencies alone bring thousands of functions"
    assert not any(f.path.startswith("ananke") for f in funcs)
    for f in funcs[:: max(1, len(funcs) // 50)]:
        compile(f.text, f.path, "exec")
