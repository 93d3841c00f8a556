"""Every example constraint set, emitted for every target, read by that target's engine:
all agree with the reference (llguidance reading the llguidance backend's Lark).

The corpus per set: strings sampled from the reference grammar by walking llguidance's
masks (members), mutations of them (mostly not members), real functions from the Python
standard library (members of the unconstrained sets, and checked against every set), and
hand-written violations of the examples' constraints. A disagreement fails the test unless
the backend module documents it in ``DEVIATIONS``.

Engines per target: ``lark-vllm`` is read by llguidance, ``xgrammar`` by XGrammar,
``gbnf`` by llama.cpp itself and by llguidance's GBNF reader, and ``lark`` by the lark
package and XGrammar's Lark reader. The lark package's Earley parser, in pure Python,
takes about a millisecond per character here, so it reads the strings of the corpus up to
:data:`LARK_MAX_CHARS` characters. The request bodies (``vllm``, ``openai``, ``sglang``,
``llamacpp``) must carry exactly the text of the dialect they wrap, so they are checked
against it rather than read again.
"""

from __future__ import annotations

import functools
import importlib
import json
import random
from pathlib import Path

import pytest
from ananke.ariadne import compile_source, read_source
from ananke.backends import get_backend
from ananke.ir import Diagnostics, Module, SourceFile
from ananke.ir.passes import compose
from ananke.languages.python.corpus import stdlib_functions
from ananke.runtime.engines import Compiled
from ananke.runtime.sample import mutate, sample_strings

from ananke.pipeline import emit, lower_for_target
from tests.differential.harness import Memo, check_agreement, compile_or_skip, deviations_of, report

ROOT = Path(__file__).resolve().parents[2]

READERS = {
    "lark-vllm": ("llguidance-lark",),
    "xgrammar": ("xgrammar-ebnf",),
    "gbnf": ("llamacpp-gbnf", "llguidance-gbnf"),
    "lark": ("lark", "xgrammar-lark"),
}
"""The engines that read each dialect."""
LARK_MAX_CHARS = 600
"""The longest string the lark package reads: most of the corpus's standard-library
functions, and every other string."""
PAIRS = [(target, engine) for target, engines in sorted(READERS.items()) for engine in engines]

BODIES = {
    "vllm": ("lark-vllm", "structured_outputs.grammar"),
    "openai": ("lark-vllm", "format.definition"),
    "sglang": ("xgrammar", "ebnf"),
    "llamacpp": ("gbnf", "grammar"),
}
"""Request body → (the dialect it wraps, where the grammar sits in the JSON)."""

FREE = """\
constraint free {
    forbid: ["eval", "exec"];
}
"""

VIOLATIONS = [
    "def f(x):\n    return eval(x)\n",
    "def f(x):\n    exec(x)\n",
    "def get_user(user_id: int, *, include_deleted: bool = False) -> Optional[User]:\n"
    "    print(user_id)\n",
    "def get_user(user_id: int, *, include_deleted: bool = False) -> Optional[User]:\n"
    "    return None\n",
    "async def list_users(cursor: Optional[str] = None, limit: int = 50) -> Page:\n"
    "    return Page()\n",
    "def render_banner() -> str:\n    return open('b').read()\n",
    "def parse_config(text: str, *, strict: bool = True) -> ParsedConfig:\n    return eval(text)\n",
    "def f() -> Result[Response, Error]:\n    return eval(x)\n",
    "def f() -> Result[Response, Error]:\n  if x:\n      return 1\n",
    "def f():\n\treturn 1\n",
    "def f():\nreturn 1\n",
]


def _modules() -> dict[str, Module]:
    out: dict[str, Module] = {}
    # Named by their paths, so that an example's imports resolve beside it.
    sources = [
        (str(p), p.read_text(encoding="utf-8"))
        for p in sorted((ROOT / "examples").glob("*.ariadne"))
    ]
    sources.append(("free.ariadne", FREE))
    for name, text in sources:
        diags = Diagnostics()
        module = compile_source(SourceFile(name=name, text=text), diags)
        assert module is not None, list(diags)
        module = compose(module, diags)
        assert not diags.has_errors, list(diags)
        for cset in module.own_sets:
            out[cset.name] = Module(sets=(cset,), schemas=module.schemas)
    return out


MODULES = _modules()


@functools.cache
def _text(set_name: str, target: str) -> str:
    diags = Diagnostics()
    lowered = lower_for_target(MODULES[set_name], target, diags)
    assert lowered is not None and not diags.has_errors, [d.message for d in diags]
    return emit(lowered[0], target)


def _inner(text: str, path: str) -> str:
    node = json.loads(text)
    for key in path.split("."):
        node = node[key]
    assert isinstance(node, str)
    return node


@functools.cache
def _corpus(set_name: str) -> tuple[str, ...]:
    reference = _text(set_name, "llguidance")
    members = sample_strings(reference, 8, seed=7, max_len=120)
    rng = random.Random(11)
    mutants = [mutate(m, rng) for m in members for _ in range(2)]
    real = [f.text for f in stdlib_functions()[::131]]
    return tuple(members + mutants + real + VIOLATIONS)


@functools.cache
def _reference(set_name: str) -> Compiled:
    return Memo(compile_or_skip("llguidance-lark", _text(set_name, "llguidance")))


@pytest.mark.parametrize("set_name", sorted(MODULES))
@pytest.mark.parametrize(("target", "engine"), PAIRS)
def test_every_dialect_agrees_with_the_reference(set_name: str, target: str, engine: str) -> None:
    reference = _reference(set_name)
    other = compile_or_skip(engine, _text(set_name, target))
    module = importlib.import_module(type(get_backend(target)).__module__)
    corpus = _corpus(set_name)
    if engine == "lark":
        corpus = tuple(s for s in corpus if len(s) <= LARK_MAX_CHARS)
    found = check_agreement(reference, {target: other}, corpus, {target: deviations_of(module)})
    assert not found, report(found)
    # The corpus is not trivial: it holds members and non-members of the reference.
    assert {reference.accepts(s) for s in corpus} == {True, False}


@pytest.mark.parametrize("set_name", sorted(MODULES))
@pytest.mark.parametrize("body", sorted(BODIES))
def test_request_bodies_carry_the_dialect_exactly(set_name: str, body: str) -> None:
    dialect, path = BODIES[body]
    assert _inner(_text(set_name, body), path) == _text(set_name, dialect)


def test_the_unconstrained_set_accepts_real_code() -> None:
    reference = compile_or_skip("llguidance-lark", _text("free", "llguidance"))
    others = [
        compile_or_skip("xgrammar-ebnf", _text("free", "xgrammar")),
        compile_or_skip("llamacpp-gbnf", _text("free", "gbnf")),
        compile_or_skip("xgrammar-lark", _text("free", "lark")),
    ]
    real = [f.text for f in stdlib_functions()[::131]]
    clean = [s for s in real if "eval(" not in s and "exec(" not in s]
    assert len(clean) > 20
    assert all(reference.accepts(s) for s in clean)
    for other in others:
        assert [s for s in clean if not other.accepts(s)] == [], other.engine


def test_read_source_of_examples_is_clean() -> None:
    for path in sorted((ROOT / "examples").glob("*.ariadne")):
        diags = Diagnostics()
        assert read_source(path, diags) is not None and not diags
