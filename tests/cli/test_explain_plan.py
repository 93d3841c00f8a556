"""`arc explain`: the plan as JSON (`--output-format json`) and the per-target matrix, where
the two kinds of `post` that involve the grammar (narrowed, demoted) are told apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ananke.ariadne import compile_source
from ananke.backends import target_names
from ananke.ir import Diagnostics, Module, SourceFile
from ananke.ir.passes import compose

from ananke.pipeline import lower_for_target
from tests.cli.cli_helpers import run_arc

NAMING = """\
constraint names {
    naming: r"^[a-z]\\w*$";
    forbid: ["eval"];
    require: ["log"];
    max_lines: 30;
    doc: "Say hello.";
}
constraint plain {
    forbid: ["exec"];
}
"""


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "n.ariadne").write_text(NAMING)
    return Path("n.ariadne")


def _module(text: str) -> Module:
    diags = Diagnostics()
    module = compile_source(SourceFile("n.ariadne", text), diags)
    assert module is not None
    return compose(module, diags)


def _one(module: Module, name: str) -> Module:
    import msgspec

    chosen = module.get_set(name)
    assert chosen is not None
    return msgspec.structs.replace(module, sets=(chosen,))


def test_the_plan_as_json_for_every_target(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_arc(capsys, "explain", path, "-t", "all", "--output-format", "json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["version"], doc["file"]) == (1, "n.ariadne")
    assert [s["name"] for s in doc["sets"]] == ["names", "plain"]
    module = _module(NAMING)
    for entry in doc["sets"]:
        # Every target, in the registry's order: a plan, or why it was skipped.
        assert [t["target"] for t in entry["targets"]] == list(target_names())
        for plan in entry["targets"]:
            diags = Diagnostics()
            lowered = lower_for_target(_one(module, entry["name"]), plan["target"], diags)
            if lowered is None:
                assert plan["skipped"] and "constraints" not in plan
                continue
            assert [
                (c["id"], c["kind"], c["level"], c["reason"], c["detail"])
                for c in plan["constraints"]
            ] == [
                (e.constraint_id, e.kind, e.level, e.reason, e.detail)
                for e in lowered[0].enforcements
            ]
            assert plan["notes"] == list(lowered[0].notes)
    names = {t["target"]: t for t in doc["sets"][0]["targets"]}
    assert names["regex"]["skipped"].startswith("the grammar inlined into one regular expression")
    assert names["json-schema"]["skipped"].startswith(
        "a JSON schema expresses one JSON document only"
    )

    def grammar(target: str) -> dict[str, str]:
        return {c["id"]: c["grammar"] for c in names[target]["constraints"]}

    assert grammar("llguidance") == {
        "names.naming": "narrows",
        "names.forbid.eval": "enforces",
        "names.require.log": "none",
        "names.max_lines": "narrows",
        "names.doc": "none",
    }
    assert grammar("xgrammar")["names.naming"] == "demoted"
    assert grammar("lark-vllm")["names.naming"] == "narrows"
    # Diagnostics go to stderr, as one JSON array.
    diagnostics = json.loads(err)
    codes = {(d["code"], d["severity"]) for d in diagnostics}
    assert ("demoted-to-post", "warning") in codes and ("target-skipped", "warning") in codes


def test_the_plan_as_json_for_one_target_with_decisions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.ariadne").write_text(
        "constraint base {\n    max_lines: 100;\n}\n"
        "constraint web extends base {\n    max_lines: 80;\n}\n"
    )
    code, out, err = run_arc(capsys, "explain", "w.ariadne", "-c", "web", "--output-format", "json")
    assert (code, json.loads(err)) == (0, [])
    [entry] = json.loads(out)["sets"]
    assert [t["target"] for t in entry["targets"]] == ["llguidance"]
    assert entry["decided"] == [
        {
            "rule": "intersect",
            "kept": "web.max_lines",
            "dropped": ["base.max_lines"],
            "summary": "max_lines: 80 from w.ariadne:5 intersected with 100 from w.ariadne:2",
        }
    ]


def test_no_plan_when_explain_fails(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_arc(
        capsys, "explain", path, "-c", "names", "-t", "gbnf", "--strict", "--output-format", "json"
    )
    assert (code, out) == (1, "")
    assert [d["code"] for d in json.loads(err) if d["severity"] == "error"] == ["demoted-to-post"]


def test_the_matrix_tells_narrowed_from_demoted(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_arc(capsys, "explain", path, "-t", "all")
    assert code == 0
    names, plain = out.split("constraint set plain\n")
    lines = names.splitlines()
    header = lines[1].split()
    cells = next(ln for ln in lines if "names.naming" in ln).split()[2:]
    row = dict(zip(header[2:], cells, strict=True))
    assert row["llguidance"] == row["lark-vllm"] == "post/narrowed"
    assert row["xgrammar"] == row["gbnf"] == "post/demoted"
    lines_row = next(ln for ln in lines if "names.max_lines" in ln).split()[2:]
    assert set(lines_row) == {"post/narrowed"}
    assert set(next(ln for ln in lines if "names.require.log" in ln).split()[2:]) == {"post"}
    assert set(next(ln for ln in lines if "names.doc" in ln).split()[2:]) == {"prompt"}
    assert (
        "  post/narrowed: the grammar narrows it, and the check after generation decides\n" in names
    )
    assert (
        "  post/demoted: this target's grammar cannot enforce it (demoted-to-post), so only "
        "the check after generation does\n" in names
    )
    # A set with neither has no legend.
    assert "post/" not in plain


def test_the_single_target_table_keeps_the_level_column(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run_arc(capsys, "explain", path, "-c", "names", "-t", "xgrammar")
    row = next(ln for ln in out.splitlines() if "names.naming" in ln).split()
    assert row[2] == "post" and "xgrammar cannot enforce it in its grammar" in " ".join(row)
