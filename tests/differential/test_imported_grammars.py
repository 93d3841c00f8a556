"""Grammars others wrote, imported and printed for every target, read by each target's
engine: all agree with the reference (llguidance reading the llguidance backend's Lark of
the same imported grammar).

Sets: the `lark` package's own grammar folder, the `outlines` grammars and `sympy`'s LaTeX
grammar (Lark), the GBNF grammars of the `gbnf` package's parser tests, and XGrammar's
built-in JSON grammar (EBNF). Candidates: strings sampled from the reference by walking
llguidance's masks, and mutations of them.

Two documented deviations, nothing else is excused:

* `lexeme-boundary`: where `arc transpile` warned that a character-level target may accept
  more than llguidance at a lexeme boundary, a string that the target accepts and the
  reference rejects;
* `llguidance-gbnf-reader`: the GBNF target is meant for llama.cpp, which reads it here
  too; llguidance's GBNF reader makes every non-recursive rule a greedy lexeme
  (`backends/gbnf.py`), so it may reject a string llama.cpp and the reference accept.
  Such rejections by llguidance are excused; an acceptance the reference rejects is not.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

import pytest
from ananke.frontends.grammars import import_grammar
from ananke.ir import Diagnostics, SourceFile
from ananke.ir.grammar import Grammar
from ananke.runtime.engines import Compiled, Deviation

from ananke.pipeline import transpile_grammar
from tests.differential.harness import candidates, check_agreement, compile_or_skip, report
from tests.suite_helpers import missing

# target -> the engines that read what it prints
READERS = {
    "lark-vllm": ("llguidance-lark",),
    "xgrammar": ("xgrammar-ebnf",),
    "gbnf": ("llguidance-gbnf", "llamacpp-gbnf"),
    "lark": ("lark", "xgrammar-lark"),
    "regex": ("outlines-regex", "llguidance-regex"),
}


def _package_file(package: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.is_file() else None


# (id, package, file, dialect, start)
FILES = [
    ("lark-unicode-ws", "lark", "grammars/unicode.lark", "lark", "WS"),
    ("outlines-arithmetic", "outlines", "grammars/arithmetic.lark", "lark", None),
    ("outlines-json", "outlines", "grammars/json.lark", "lark", "value"),
    ("sympy-greek", "sympy", "parsing/latex/lark/grammar/greek_symbols.lark", "lark", "ALPHA"),
]


def _gbnf_cases() -> list[tuple[str, str]]:
    path = _package_file("gbnf", "rules_builder/rules_builder_test.py")
    if path is None:
        return []
    cases = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List):
            for item in node.value.elts:
                if isinstance(item, ast.Tuple):
                    cases.append((ast.literal_eval(item.elts[0]), ast.literal_eval(item.elts[1])))
    return cases


def _sources() -> dict[str, tuple[SourceFile, str, str | None] | None]:
    """Every set, by key; None where the package holding it is not installed, so that the
    set is a case of its own that says so (skipped, or failed under CI) instead of being
    left out. The `gbnf` package's grammars are named in its file: without the package,
    one case stands for them all."""
    out: dict[str, tuple[SourceFile, str, str | None] | None] = {}
    for key, package, relative, dialect, start in FILES:
        path = _package_file(package, relative)
        out[key] = (
            None
            if path is None
            else (SourceFile(name=str(path), text=path.read_text("utf-8")), dialect, start)
        )
    gbnf = _gbnf_cases()
    for key, text in gbnf:
        out[f"gbnf-{key}"] = (SourceFile(name=f"{key}.gbnf", text=text), "gbnf", None)
    if not gbnf:
        out["gbnf-package"] = None
    out["xgrammar-json"] = None
    if importlib.util.find_spec("xgrammar") is not None:
        import xgrammar

        text = str(xgrammar.Grammar.builtin_json_grammar())
        out["xgrammar-json"] = (SourceFile(name="json.ebnf", text=text), "ebnf", None)
    return out


SOURCES = _sources()


@functools.cache
def _grammar(key: str) -> Grammar:
    entry = SOURCES[key]
    if entry is None:
        missing(f"the package holding {key} is not installed")
    source, dialect, start = entry
    diags = Diagnostics()
    grammar = import_grammar(source, dialect, diags, start=start)  # type: ignore[arg-type]
    assert grammar is not None, [d.message for d in diags]
    return grammar


@functools.cache
def _printed(key: str, target: str) -> tuple[str | None, tuple[str, ...]]:
    """The grammar printed for ``target`` (None if the target refuses it) and the codes
    of the diagnostics `arc transpile` gives."""
    diags = Diagnostics()
    text = transpile_grammar(_grammar(key), target, diags)
    return text, tuple(d.code for d in diags)


@functools.cache
def _corpus(key: str) -> tuple[str, ...]:
    reference, _ = _printed(key, "llguidance")
    assert reference is not None
    return tuple(candidates(reference, 20, seed=3, max_len=60))


@functools.cache
def _reference(key: str) -> Compiled:
    text, _ = _printed(key, "llguidance")
    assert text is not None
    return compile_or_skip("llguidance-lark", text)


def _deviations(key: str, target: str, engine: str, reference: Compiled) -> tuple[Deviation, ...]:
    _, codes = _printed(key, target)
    out: list[Deviation] = []
    if "lexeme-boundary" in codes:
        out.append(
            Deviation(
                "lexeme-boundary",
                "arc transpile warned that this character-level target may accept more "
                "than llguidance's greedy lexer where two lexemes meet",
                lambda s: not reference.accepts(s),
            )
        )
    if engine == "llguidance-gbnf":
        out.append(
            Deviation(
                "llguidance-gbnf-reader",
                "llguidance reads GBNF's non-recursive rules as greedy lexemes, so it may "
                "reject what llama.cpp accepts",
                reference.accepts,
            )
        )
    return tuple(out)


CASES = [(key, target) for key in sorted(SOURCES) for target in sorted(READERS)]


@pytest.mark.parametrize(("key", "target"), CASES, ids=[f"{k}-{t}" for k, t in CASES])
def test_every_target_agrees_on_imported_grammars(key: str, target: str) -> None:
    text, codes = _printed(key, target)
    if text is None:
        # Only the regex target may refuse, and only a grammar that is not regular.
        assert target == "regex" and set(codes) <= {"not-regular", "regex-too-large"}, codes
        return
    if target == "regex":
        text = text.removesuffix("\n")  # the file holds the pattern and a newline
    reference = _reference(key)
    corpus = _corpus(key)
    for engine in READERS[target]:
        other = compile_or_skip(engine, text)
        found = check_agreement(
            reference,
            {engine: other},
            corpus,
            {engine: _deviations(key, target, engine, reference)},
        )
        assert not found, report(found)


def test_the_sets_are_there() -> None:
    absent = sorted(k for k, v in SOURCES.items() if v is None)
    if absent:
        missing(f"grammar sets not installed: {', '.join(absent)}")
    assert len([k for k in SOURCES if k.startswith("gbnf-")]) >= 30
