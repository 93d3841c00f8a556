"""Verification of outputs: the grammar the service was sent, read by a local engine, and
every post check, with a verdict per constraint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ananke.runtime.cache import CompiledSet, GrammarCache
from ananke.runtime.verify import checker_for, grammar_of, verify

import ananke
from ananke.generation import compile_set
from tests.seed_example import FORBIDDEN, GOOD, HANDLER, UNVALIDATED


def _compiled(target: str, tmp_path: Path) -> CompiledSet:
    from ananke import driver

    module = ananke.load(HANDLER)
    report = driver.Report()
    compiled = compile_set(module, None, target, report, GrammarCache(tmp_path))
    assert compiled is not None, list(report.diags)
    return compiled


@pytest.mark.parametrize("target", ["vllm", "openai", "llamacpp", "llguidance"])
def test_grammar_verdicts(target: str, tmp_path: Path) -> None:
    compiled = _compiled(target, tmp_path)
    checker = checker_for(compiled.target, compiled.body)
    assert checker.check(GOOD, complete=True).status == "accepted"
    # Every proper prefix of an accepted text is one the grammar allows.
    assert checker.check(GOOD[:30], complete=False).status == "prefix"
    rejected = checker.check(FORBIDDEN, complete=True)
    assert rejected.status == "rejected"
    # The grammar stops within the forbidden call (`eval` may still begin a longer
    # name until the `(`), not before it.
    start = FORBIDDEN.encode().index(b"eval(")
    assert rejected.line == 3 and start < rejected.offset <= start + 4


def test_grammar_of_reads_each_body() -> None:
    module = ananke.load(HANDLER)
    engines = {}
    for target in ("vllm", "openai", "llamacpp", "sglang"):
        engine, text = grammar_of(target, json.loads(ananke.emit(module, target)))
        engines[target] = engine
        assert text.strip()
    assert engines == {
        "vllm": "llguidance-lark",
        "openai": "llguidance-lark",
        "llamacpp": "llguidance-gbnf",
        "sglang": "xgrammar-ebnf",
    }


def test_sglang_ebnf_is_checked_by_xgrammar(tmp_path: Path) -> None:
    pytest.importorskip("xgrammar")
    compiled = _compiled("sglang", tmp_path)
    checker = checker_for(compiled.target, compiled.body)
    assert checker.check(GOOD, complete=True).status == "accepted"
    assert checker.check(GOOD[:30], complete=False).status == "prefix"
    assert checker.check(FORBIDDEN, complete=True).status == "rejected"


def test_verdict_per_constraint(tmp_path: Path) -> None:
    compiled = _compiled("vllm", tmp_path)
    checker = checker_for(compiled.target, compiled.body)
    ok = verify(GOOD, compiled.cset, compiled.enforcements, checker)
    assert ok.ok and ok.failures == ()
    assert {v.id: v.held for v in ok.verdicts} == {c.id: True for c in compiled.cset.constraints}
    levels = {e.constraint_id: e.level for e in compiled.enforcements}
    assert {v.id: v.level for v in ok.verdicts} == levels

    bad = verify(UNVALIDATED, compiled.cset, compiled.enforcements, checker)
    assert not bad.ok
    assert bad.grammar.status == "accepted"  # `validates` is a post-level constraint
    held = {v.id: v.held for v in bad.verdicts}
    assert held["api_handler.validates"] is False
    assert all(h for cid, h in held.items() if cid != "api_handler.validates")
    assert any("input_schema" in f for f in bad.failures)


def test_truncated_output_is_never_ok(tmp_path: Path) -> None:
    compiled = _compiled("vllm", tmp_path)
    checker = checker_for(compiled.target, compiled.body)
    cut = verify(GOOD[:60], compiled.cset, compiled.enforcements, checker, truncated=True)
    assert cut.grammar.status == "prefix"
    assert not cut.ok
    # A cut text is not the function: post-level checks are undecided, not passed.
    post = [v for v in cut.verdicts if v.level == "post"]
    assert post and all(v.held is not True for v in post)


def test_soft_constraint_failure_does_not_fail_the_result(tmp_path: Path) -> None:
    source = 'constraint s {\n    @soft require: ["logging"];\n    max_lines: 5;\n}\n'
    module = ananke.compile(source)
    from ananke import driver

    report = driver.Report()
    compiled = compile_set(module, None, "vllm", report, GrammarCache(None))
    assert compiled is not None, list(report.diags)
    checker = checker_for(compiled.target, compiled.body)
    v = verify("def f(x):\n    return x\n", compiled.cset, compiled.enforcements, checker)
    soft = [c for c in v.verdicts if c.strength == "soft"]
    assert soft and soft[0].held is False
    assert v.ok
