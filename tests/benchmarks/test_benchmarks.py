"""The benchmark runner's pieces work (the benchmarks themselves run outside the suite)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ananke.ariadne import compile_source
from ananke.engines.membership import Deviation
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.source import SourceFile
from ananke.languages.validate import validate

from benchmarks import arc_test, common, compile_time, engines, masks, run, soundness

# Aliased: a test below imports the composition passes, ``compose``, too.
from benchmarks import compose as bench_compose
from tests.suite_helpers import missing, require_module


def test_thousand_blocks_compile_cleanly() -> None:
    diags = Diagnostics()
    module = compile_source(SourceFile("k.ariadne", compile_time.thousand_blocks()), diags)
    assert module is not None
    assert len(module.sets) == 1000
    assert not [d for d in diags if d.severity == "error"]
    kinds = {c.__struct_config__.tag for s in module.sets for c in s.constraints}
    assert len(kinds) >= 10


def test_generated_example_tree_passes_arc_test(tmp_path: Path) -> None:
    # Every generated example has the outcome it is written with (so the benchmark times
    # passing runs), and every kind of rejection is there for the explainer.
    root = arc_test.generate(2, 10, tmp_path)
    text = (root / "set_000.ariadne").read_text()
    for by in ("forbid.", "returns", "validates", "syntax"):
        assert f" by {by}" in text
    # One file's `syntax` example is valid Python the grammar's shape refuses, the other's
    # is not Python: only the first needs the explainer.
    assert "  if value:\n" in text
    assert "check_input((value)" in (root / "set_001.ariadne").read_text()
    _, code, line = arc_test.run(root, "llguidance-lark")
    assert code == 0, line
    assert line.startswith("PASSED 0 failed, 20 passed (20 examples in 2 files"), line


def test_generated_constraint_files_give_every_pass_work(tmp_path: Path) -> None:
    module = bench_compose.compiled(bench_compose.generate(2_000, 20, tmp_path))
    assert 1_800 <= bench_compose.count(module) <= 2_000
    assert len(module.sources) == 21  # twenty files and the one importing them all
    res = bench_compose.time_passes(module, 1)
    assert res["decisions"] > 0
    from ananke.ir.compose import compose

    composed = compose(module, Diagnostics(), verify=True)
    rules = {r.rule for s in composed.sets for r in s.resolutions}
    # Limits intersect, repeated names merge, priorities and provenance settle conflicts.
    assert {"intersect", "duplicate", "priority"} <= rules


def test_percentile_and_summary() -> None:
    assert common.percentile([3, 1, 2], 0.5) == 2
    assert common.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert common.percentile([5], 0.99) == 5
    s = common.summary([float(i) for i in range(101)])
    assert (s["p50"], s["p99"], s["max"], s["n"]) == (50, 99, 100, 101)


@pytest.mark.parametrize(
    "src",
    [
        "def f(a, b=(1, 2)):\n    pass\n",
        "@dec(x)\nasync def f(a,\n        b=[1]) -> int:\n    pass\n",
        "def f(x) -> 'Old[int]':\n    return {'a': (1)}\n",
    ],
)
def test_with_return_annotation_makes_functions_satisfy_returns(src: str) -> None:
    out = common.with_return_annotation(src, common.API_RETURN)
    assert out is not None
    cset = compile_source(
        SourceFile("r.ariadne", "constraint r { returns: Result<Response, Error>; }"),
        Diagnostics(),
    )
    assert cset is not None
    assert validate(out, cset.sets[0]) == []
    assert common.with_return_annotation("x = 1\n", "int") is None


@pytest.fixture(scope="module")
def tok32k(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    require_module("tokenizers")
    from ananke.engines.bpe import hf_tokenizer, llg_tokenizer, train_bpe

    path = train_bpe(32000, Path(request.config.cache.mkdir("ananke-bpe")))
    return llg_tokenizer(path), hf_tokenizer(path)


def test_time_masks_on_the_json_baseline(tok32k: tuple[Any, Any]) -> None:
    tok, hf = tok32k
    docs = masks.json_documents(2)
    enc = [(str(i), hf.encode(d).ids) for i, d in enumerate(docs)]
    r = masks.time_masks(masks.json_grammar(), tok, enc)
    assert r.errors == []
    assert r.texts == r.texts_ok == 2
    assert len(r.times_ns) == sum(len(ids) + 1 for _, ids in enc)
    assert all(t > 0 for t in r.times_ns)


def test_time_masks_reports_a_token_outside_the_grammar(tok32k: tuple[Any, Any]) -> None:
    tok, hf = tok32k
    r = masks.time_masks('start: "def"\n', tok, [("x", hf.encode("class").ids)])
    assert r.texts_ok == 0
    assert len(r.errors) == 1 and "not in mask" in r.errors[0]


def test_checker_and_causes() -> None:
    grammar = 'start: "def f():\\n" BODY\nBODY: /    pass\\n/\n'
    texts = ["def f():\n    pass\n", "def f():\n    return 1\n"]
    with soundness.Checker({"g": grammar}, processes=1) as ck:
        res = ck.run("g", texts)
    assert [r[0] for r in res] == [True, False]
    assert res[1][1] == len("def f():\n    ")
    c = soundness.causes(texts, res)
    assert list(c.values()) == [1]
    assert "NAME 'return'" in next(iter(c))


def test_no_dynamic_code_cost_counts_by_level_and_name() -> None:
    cset = soundness.composed_set(soundness.NO_DYNAMIC_CODE, "n")
    texts = [
        "def f(x):\n    return getattr(x, 'a'), globals()\n",
        "def f(name):\n    import sys\n    return sys.modules[name]\n",
        "def f(x):\n    import importlib as il\n    return x\n",
        "def f(x):\n    return x.eval\n",
    ]
    grammar = common.grammar_of_set(cset)
    with soundness.Checker({"g": grammar}, processes=1) as ck:
        res = ck.run("g", texts)
    d = soundness.no_dynamic_code_cost(texts, ["a", "b", "c", "d"], res, cset)
    assert (d["grammar_rejected"], d["post_rejected"]) == (2, 1)
    assert d["grammar_by_name"] == {"getattr": 1, "globals": 1, "importlib": 1}
    assert d["post_by_name"] == {"sys.modules": 1}
    assert d["grammar_unexplained"] == []


def test_runner_writes_both_reports(tmp_path: Path) -> None:
    assert run.main(["--quick", "--only", "version", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "report.json").read_text())
    (row,) = data["metrics"]
    assert row["metric"].startswith("`arc --version`")
    assert row["value"] > 0 and row["target"] == 150.0
    md = (tmp_path / "report.md").read_text()
    assert "| metric | value | target | pass | note |" in md
    assert "quick mode" in md


def test_runner_times_what_the_tests_count(tmp_path: Path) -> None:
    """The timings the tests do not assert on (they count work instead) are in the report,
    each with a target."""
    assert run.main(["--quick", "--only", "automata", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "report.json").read_text())["metrics"]
    assert [r["metric"].split(",")[0] for r in rows] == [
        "DFA of identifiers minus the 35 keywords",
        "automaton construction stopped at its bound",
        "automaton construction stopped at its bound",
    ]
    assert all(r["value"] > 0 and r["target"] is not None for r in rows)


# --- issue 3: emit per target, engines side by side, agreement ------------------------------


@pytest.fixture(scope="module")
def seed_module() -> Any:
    return engines.load_module(common.EXAMPLE)


def test_emit_timings_of_a_target_that_expresses_the_set(seed_module: Any) -> None:
    e = engines.time_emit(seed_module, "lark-vllm", 3)
    text, why = engines.emit_text(seed_module, "lark-vllm")
    assert text is not None and why == ""
    assert e.refused == "" and e.chars == len(text)
    assert len(e.times_ms) == 3 and all(t > 0 for t in e.times_ms)


def test_a_target_that_cannot_express_the_set_is_a_note_not_a_timing(seed_module: Any) -> None:
    e = engines.time_emit(seed_module, "json-schema", 3)
    assert e.times_ms == [] and e.chars == 0
    assert e.refused.startswith("target-cannot-express: ")


def test_the_runner_writes_refusals_as_rows_without_a_value(tmp_path: Path) -> None:
    assert run.main(["--quick", "--only", "emit", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "report.json").read_text())["metrics"]
    by_target = {r["metric"].split(" for ")[1].split(" ")[0]: r for r in rows}
    from ananke.backends import target_names

    assert set(by_target) == set(target_names())
    assert by_target["json-schema"]["value"] is None
    assert "cannot express" in by_target["json-schema"]["note"]
    assert by_target["llguidance"]["value"] > 0 and by_target["llguidance"]["unit"] == "ms"
    md = (tmp_path / "report.md").read_text()
    assert "| emit api_handler.ariadne for json-schema | — |" in md


def test_tally_counts_agreements_excuses_by_name_and_unexcused() -> None:
    t = engines.Tally("t", "e")
    ref = {"a": True, "b": False, "c": False, "d": True}
    other = {"a": True, "b": True, "c": True, "d": False}
    loose = Deviation("loose", "accepts more", lambda s: s == "b")
    t.add(ref.__getitem__, other.__getitem__, "abcd", (loose,))
    assert (t.compared, t.agreed, t.grammars) == (4, 1, 1)
    assert dict(t.excused) == {"loose": 1}
    assert len(t.unexcused) == 2
    assert "e accepts 'c'" in t.unexcused[0] and "e rejects 'd'" in t.unexcused[1]
    strict, after = engines.rates([t])
    assert (strict, after) == (25.0, 50.0)


def test_agreement_over_one_imported_grammar_counts_every_decision() -> None:
    _, tig = engines._differential_modules()
    if tig.SOURCES.get("outlines-arithmetic") is None:
        missing("the outlines package (holding the grammar) is not installed")
    tallies = engines.agreement(set_names=[], grammar_keys=["outlines-arithmetic"])
    corpus = tig._corpus("outlines-arithmetic")
    by_pair = {(t.target, t.engine): t for t in tallies}
    assert ("xgrammar", "xgrammar-ebnf") in by_pair
    assert ("gbnf", "llamacpp-gbnf") in by_pair
    for t in tallies:
        assert t.errors == [] and t.unexcused == []
        assert t.compared == t.grammars * len(corpus)
        assert t.agreed + sum(t.excused.values()) == t.compared
    # arithmetic is recursive, so the regex target refuses it
    assert by_pair[("regex", "outlines-regex")].refused == 1


def test_xgrammar_tokenizer_info_and_masks(tok32k: tuple[Any, Any]) -> None:
    require_module("xgrammar")
    _, hf = tok32k
    info = engines.xgr_tokenizer_info(hf)
    assert info.vocab_size == hf.get_vocab_size()
    assert info.stop_token_ids == [hf.token_to_id("<|endoftext|>")]
    compiled, ms = engines.xgr_compile(info, 'root ::= "def " [a-z]+ "():"\n')
    assert ms > 0
    eos = info.stop_token_ids[0]
    good = [("ok", hf.encode("def handler():").ids)]
    bad = [("bad", hf.encode("class handler():").ids)]
    r = engines.xgr_time_masks(compiled, info.vocab_size, eos, good + bad)
    assert (r.texts, r.texts_ok) == (2, 1)
    assert len(r.errors) == 1 and r.errors[0].startswith("bad: token 0")
    assert len(r.times_ns) == len(good[0][1]) + 1 + 1
    none = engines.xgr_time_masks(compiled, info.vocab_size, eos, good, budget_s=-1)
    assert none.texts == 0


def test_llguidance_compile_reads_lark_and_gbnf(tok32k: tuple[Any, Any]) -> None:
    tok, _ = tok32k
    assert engines.llg_compile_ms(tok, "lark", 'start: "a" | "b"\n') > 0
    assert engines.llg_compile_ms(tok, "gbnf", 'root ::= "a" | "b"\n') > 0
    with pytest.raises(ValueError, match="refused"):
        engines.llg_compile_ms(tok, "lark", "start: undefined_rule\n")


def test_shared_mask_corpus_satisfies_the_seed_example() -> None:
    from ananke.languages.python.corpus import stdlib_functions

    funcs = common.mask_functions(8, stdlib_functions(limit=200))
    assert len(funcs) == 8
    adapted = common.adapted_for_api_handler(funcs)
    assert adapted and all(common.API_RETURN in text for _, text in adapted)


def test_xgrammar_tokenizer_info_equals_from_huggingface(tok32k: tuple[Any, Any]) -> None:
    xgrammar = require_module("xgrammar")
    transformers = require_module("transformers")
    _, hf = tok32k
    mine = engines.xgr_tokenizer_info(hf)
    wrapped = transformers.PreTrainedTokenizerFast(tokenizer_object=hf, eos_token="<|endoftext|>")
    theirs = xgrammar.TokenizerInfo.from_huggingface(
        wrapped, vocab_size=hf.get_vocab_size(), stop_token_ids=mine.stop_token_ids
    )
    assert theirs.vocab_type == mine.vocab_type
    assert theirs.decoded_vocab == mine.decoded_vocab


def test_compile_once_gives_what_arc_emit_prints_for_the_last_set() -> None:
    import ananke

    module = ananke.load(common.EXAMPLE)
    last = module.own_sets[-1].name
    expected = ananke.emit(module, "llguidance", constraint=last)
    assert compile_time.compile_once(common.EXAMPLE).rstrip("\n") == expected.rstrip("\n")


# --- issue 19: the local generator ---------------------------------------------------------


def test_teacher_forcing_feeds_real_functions_through_the_token_chooser(
    tiny_model: Path,
) -> None:
    require_module("torch")
    from benchmarks import local_generation
    from benchmarks.reporting import Report

    r = Report(quick=True)
    out = local_generation.bench_teacher_forcing(r, "tiny", tiny_model, 4)
    assert out["functions"] >= 3
    for slices in ("default", "code"):
        first = out[f"mask-first, {slices} slices"]
        check = out[f"check-then-mask, {slices} slices"]
        # Every function is in the grammar's language: consumed whole, never refused.
        assert first["errors"] == check["errors"] == 0
        assert check["refusals"] == 0 and check["mask_us"]["n"] == 0
        assert first["mask_us"]["n"] == first["constraint_us"]["n"] == out["tokens"]
        assert check["constraint_us"]["n"] == out["tokens"]
    assert [row["metric"].split(",")[0] for row in r.rows].count("local mask mean") == 2
