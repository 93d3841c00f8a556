"""Request bodies: the field names each server reads, and the grammar inside still loads
in the engine behind it (checked through the shared validator)."""

from __future__ import annotations

import json

import pytest
from ananke.backends import get_backend
from ananke.ir.grammar import Grammar

from tests.backends.backend_helpers import CORPUS, Case, validate

BODIES = ("vllm", "sglang", "llamacpp", "openai")


def _grammar() -> Grammar:
    return next(c for c in CORPUS if c.name.startswith("nested")).grammar


@pytest.mark.parametrize("target", BODIES)
def test_body_is_pretty_json_with_a_newline(target: str) -> None:
    backend = get_backend(target)
    assert backend.file_extension == ".json"
    text = backend.emit(_grammar())
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_field_names() -> None:
    g = _grammar()
    vllm = json.loads(get_backend("vllm").emit(g))
    assert list(vllm) == ["structured_outputs"]
    assert list(vllm["structured_outputs"]) == ["grammar"]
    assert not any(k.startswith("guided_") for k in vllm), "vLLM ignores guided_* silently"
    assert list(json.loads(get_backend("sglang").emit(g))) == ["ebnf"]
    assert list(json.loads(get_backend("llamacpp").emit(g))) == ["grammar"]
    tool = json.loads(get_backend("openai").emit(g))
    assert tool["type"] == "custom"
    assert tool["format"]["type"] == "grammar"
    assert tool["format"]["syntax"] == "lark"
    assert tool["format"]["definition"].startswith("start:")


@pytest.mark.parametrize(
    ("target", "inner"),
    [("vllm", "lark-vllm"), ("sglang", "xgrammar"), ("llamacpp", "gbnf"), ("openai", "lark-vllm")],
)
def test_lowerings_are_the_inner_dialects(target: str, inner: str) -> None:
    assert get_backend(target).lowerings == get_backend(inner).lowerings


@pytest.mark.parametrize("target", BODIES)
@pytest.mark.parametrize("case", [c for c in CORPUS if not c.lexing], ids=str)
def test_corpus_through_the_body(target: str, case: Case) -> None:
    validate(target, case.grammar, case.accept, case.reject)
