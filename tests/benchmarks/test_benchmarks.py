"""The benchmark runner's pieces work (the benchmarks themselves run outside the suite)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from ananke.ariadne import compile_source
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.source import SourceFile
from ananke.runtime.validate import validate

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_common  # noqa: E402
import bench_masks  # noqa: E402
import bench_soundness  # noqa: E402
import run  # noqa: E402


def test_thousand_blocks_compile_cleanly() -> None:
    diags = Diagnostics()
    module = compile_source(SourceFile("k.ariadne", run.thousand_blocks()), diags)
    assert module is not None
    assert len(module.sets) == 1000
    assert not [d for d in diags if d.severity == "error"]
    kinds = {c.__struct_config__.tag for s in module.sets for c in s.constraints}
    assert len(kinds) >= 10


def test_percentile_and_summary() -> None:
    assert bench_common.percentile([3, 1, 2], 0.5) == 2
    assert bench_common.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert bench_common.percentile([5], 0.99) == 5
    s = bench_common.summary([float(i) for i in range(101)])
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
    out = bench_common.with_return_annotation(src, run.API_RETURN)
    assert out is not None
    cset = compile_source(
        SourceFile("r.ariadne", "constraint r { returns: Result<Response, Error>; }"),
        Diagnostics(),
    )
    assert cset is not None
    assert validate(out, cset.sets[0]) == []
    assert bench_common.with_return_annotation("x = 1\n", "int") is None


@pytest.fixture(scope="module")
def tok32k(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    pytest.importorskip("tokenizers")
    from ananke.runtime.bpe import hf_tokenizer, llg_tokenizer, train_bpe

    path = train_bpe(32000, Path(request.config.cache.mkdir("ananke-bpe")))
    return llg_tokenizer(path), hf_tokenizer(path)


def test_time_masks_on_the_json_baseline(tok32k: tuple[Any, Any]) -> None:
    tok, hf = tok32k
    docs = bench_masks.json_documents(2)
    enc = [(str(i), hf.encode(d).ids) for i, d in enumerate(docs)]
    r = bench_masks.time_masks(bench_masks.json_grammar(), tok, enc)
    assert r.errors == []
    assert r.texts == r.texts_ok == 2
    assert len(r.times_ns) == sum(len(ids) + 1 for _, ids in enc)
    assert all(t > 0 for t in r.times_ns)


def test_time_masks_reports_a_token_outside_the_grammar(tok32k: tuple[Any, Any]) -> None:
    tok, hf = tok32k
    r = bench_masks.time_masks('start: "def"\n', tok, [("x", hf.encode("class").ids)])
    assert r.texts_ok == 0
    assert len(r.errors) == 1 and "not in mask" in r.errors[0]


def test_checker_and_causes() -> None:
    grammar = 'start: "def f():\\n" BODY\nBODY: /    pass\\n/\n'
    texts = ["def f():\n    pass\n", "def f():\n    return 1\n"]
    with bench_soundness.Checker({"g": grammar}, processes=1) as ck:
        res = ck.run("g", texts)
    assert [r[0] for r in res] == [True, False]
    assert res[1][1] == len("def f():\n    ")
    c = bench_soundness.causes(texts, res)
    assert list(c.values()) == [1]
    assert "NAME 'return'" in next(iter(c))


def test_runner_writes_both_reports(tmp_path: Path) -> None:
    assert run.main(["--quick", "--only", "version", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "report.json").read_text())
    (row,) = data["metrics"]
    assert row["metric"].startswith("`arc --version`")
    assert row["value"] > 0 and row["target"] == 150.0
    md = (tmp_path / "report.md").read_text()
    assert "| metric | value | target | pass | note |" in md
    assert "quick mode" in md
