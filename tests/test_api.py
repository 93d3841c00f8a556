"""The Python API (``from ananke import ...``, spec/api.md) against the ``arc`` command: the
same inputs give the same bytes, and bad input raises ``DiagnosticError`` with the
diagnostics ``arc`` reports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ananke

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.ariadne"))
BROKEN = sorted((ROOT / "tests" / "fixtures" / "broken").glob("*.ariadne"))
API_PAGE = ROOT / "spec" / "api.md"


def _arc(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ananke", *args], cwd=cwd, capture_output=True, timeout=600
    )


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _fields(diagnostics: Any) -> list[tuple[str, str, str, list[tuple[str, int, int]]]]:
    """What a diagnostic says, read from the objects (the API)."""
    return [
        (
            d.severity,
            d.code,
            d.message,
            [(label.span.file, label.span.start, label.span.end) for label in d.labels],
        )
        for d in diagnostics
    ]


def _fields_json(text: bytes) -> list[tuple[str, str, str, list[tuple[str, int, int]]]]:
    """What a diagnostic says, read from ``arc --output-format json`` (the CLI)."""
    return [
        (
            d["severity"],
            d["code"],
            d["message"],
            [(label["file"], label["start"], label["end"]) for label in d["labels"]],
        )
        for d in json.loads(text)
    ]


# --- the documentation ---------------------------------------------------------------------


def _python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)\n```$", API_PAGE.read_text(encoding="utf-8"), re.S | re.M)


def test_the_page_has_examples() -> None:
    assert len(_python_blocks()) >= 5


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_every_example_of_the_page_runs(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    block = _python_blocks()[index]
    exec(compile(block, f"spec/api.md, example {index + 1}", "exec"), {})


def test_the_page_documents_every_name() -> None:
    page = API_PAGE.read_text(encoding="utf-8")
    for name in ananke.__all__:
        if name != "__version__":
            assert f"`{name}" in page, name


# --- the package ---------------------------------------------------------------------------


def test_every_name_of_all_resolves_and_is_listed_by_dir() -> None:
    for name in ananke.__all__:
        assert getattr(ananke, name) is not None
        assert name in dir(ananke)
    assert issubclass(ananke.DiagnosticError, Exception)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        ananke.no_such_name  # noqa: B018


def _imported_by(statement: str) -> set[str]:
    """The modules ``statement`` imports in a fresh interpreter."""
    code = (
        f"import sys\nbefore = set(sys.modules)\n{statement}\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return set(json.loads(out.replace("'", '"')))


# What `import ananke` loads of the package: itself, its version, and the registry of
# languages that ananke.languages fills (names and factories; the IR, the lower pass and
# the languages themselves are imported on first use).
REGISTRY = {
    "ananke._version",
    "ananke.languages",
    "ananke.ir",
    "ananke.ir.lower",
    "ananke.ir.lower.language",
}


def test_import_ananke_imports_nothing_else() -> None:
    loaded = {m for m in _imported_by("import ananke") if m.startswith("ananke")}
    assert loaded == {"ananke", *REGISTRY}, loaded


def test_the_cli_leaves_the_compiler_unimported() -> None:
    # `arc --version` imports ananke.cli: neither it nor the facade may pull the compiler in.
    loaded = {m for m in _imported_by("import ananke.cli") if m.startswith("ananke")}
    assert loaded == {"ananke", *REGISTRY, "ananke.cli", "ananke._files", "ananke.ir.files"}, loaded


# --- the same results as arc ---------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_emit_prints_what_arc_emit_prints(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    module = ananke.load(_rel(path))
    for cset in module.own_sets:
        for target in ("llguidance", "gbnf"):
            arc = _arc("emit", _rel(path), "-t", target, "-c", cset.name)
            if arc.returncode == 0:
                assert ananke.emit(module, target, constraint=cset.name).encode() == arc.stdout
            else:
                with pytest.raises(ananke.DiagnosticError):
                    ananke.emit(module, target, constraint=cset.name)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_emit_writes_what_arc_emit_all_writes(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    arc = _arc("emit", _rel(path), "--target", "all", "-o", str(tmp_path))
    assert arc.returncode == 0, arc.stderr.decode()
    module = ananke.load(_rel(path))
    compared = 0
    for target_dir in tmp_path.iterdir():
        names = {f.stem: f for f in target_dir.iterdir()}
        for cset in module.own_sets:
            written = names.get(cset.name)
            if written is None:  # skipped by arc: the API raises
                with pytest.raises(ananke.DiagnosticError):
                    ananke.emit(module, target_dir.name, constraint=cset.name)
                continue
            text = written.read_text(encoding="utf-8")
            # arc writes the printer's text as is; emit ends it with a line break as stdout.
            expected = text if text.endswith("\n") else text + "\n"
            assert ananke.emit(module, target_dir.name, constraint=cset.name) == expected
            compared += 1
    assert compared >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_explain_prints_what_arc_explain_prints(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    module = ananke.load(_rel(path))
    table = _arc("explain", _rel(path), "--target", "xgrammar")
    if table.returncode == 0:
        assert ananke.explain(module, "xgrammar").encode() == table.stdout
    matrix = _arc("explain", _rel(path), "--target", "all", "--output-format", "json")
    assert matrix.returncode == 0, matrix.stderr.decode()
    warnings = ananke.Diagnostics()
    doc = ananke.explain(module, "all", format="json", file=_rel(path), diagnostics=warnings)
    assert doc.encode() == matrix.stdout
    assert _fields(warnings) == _fields_json(matrix.stderr)


def test_load_reads_a_cir_file_as_arc_emit_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    cir = tmp_path / "api_handler.cir"
    assert _arc("compile", "examples/api_handler.ariadne", "-o", str(cir)).returncode == 0
    arc = _arc("emit", str(cir), "-t", "lark")
    assert arc.returncode == 0
    assert ananke.emit(ananke.load(cir), "lark").encode() == arc.stdout


def test_compile_of_text_is_load_of_the_file(tmp_path: Path) -> None:
    path = ROOT / "examples" / "api_handler.ariadne"
    text = path.read_text(encoding="utf-8")
    from_text = ananke.compile(text, name=str(path))
    assert ananke.emit(from_text, "xgrammar") == ananke.emit(ananke.load(path), "xgrammar")


def test_lower_gives_the_plan_arc_explain_json_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    arc = _arc("explain", "examples/multi.ariadne", "--output-format", "json")
    sets = json.loads(arc.stdout)["sets"]
    module = ananke.load("examples/multi.ariadne")
    lowered = ananke.lower(module)
    assert [low.set_name for low in lowered] == [s["name"] for s in sets]
    for low, cset in zip(lowered, sets, strict=True):
        (plan,) = cset["targets"]
        assert [(e.constraint_id, e.level) for e in low.enforcements] == [
            (c["id"], c["level"]) for c in plan["constraints"]
        ]


def test_validate_finds_each_forbidden_name_where_tokenize_sees_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import tokenize

    monkeypatch.chdir(ROOT)
    module = ananke.load("examples/api_handler.ariadne")
    code = "def handle(x):\n    y = exec(x)\n    return eval(y) or eval(x)\n"
    names = [
        (t.string, *t.start)
        for t in tokenize.generate_tokens(io.StringIO(code).readline)
        if t.type == tokenize.NAME and t.string in ("eval", "exec")
    ]
    found = [
        (v.text, v.line, v.column - 1) for v in ananke.validate(module, code) if v.kind == "forbid"
    ]
    assert sorted(found) == sorted(names)
    clean = "def handle(x):\n    return x\n"
    assert not [v for v in ananke.validate(module, clean) if v.kind == "forbid"]
    multi = ananke.load("examples/multi.ariadne")
    with pytest.raises(ValueError, match="choose one with constraint="):
        ananke.validate(multi, clean)


# --- errors --------------------------------------------------------------------------------


def test_every_broken_file_raises_the_diagnostics_arc_check_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    arc = _arc("check", "--output-format", "json", *(_rel(p) for p in BROKEN))
    assert arc.returncode in (1, 2)
    every: list[Any] = []
    for path in BROKEN:
        with pytest.raises(ananke.DiagnosticError) as caught:
            ananke.load(_rel(path))
        errors = [d for d in caught.value.diagnostics if d.severity == "error"]
        assert errors, path
        assert str(caught.value).startswith(_rel(path)), str(caught.value)
        found = ananke.check(_rel(path))
        assert _fields(found) == _fields(caught.value.diagnostics)
        every.extend(found)
    # arc shows a diagnostic met twice (a file checked, and imported by another) once.
    assert _fields(dict.fromkeys(every)) == _fields_json(arc.stderr)


def test_compile_error_names_the_given_file() -> None:
    with pytest.raises(ananke.DiagnosticError) as caught:
        ananke.compile("constraint c { forbid: [; }", name="mine.ariadne")
    (first, *_) = caught.value.diagnostics
    assert first.severity == "error"
    assert first.labels[0].span.file == "mine.ariadne"
    assert re.match(r"mine\.ariadne:1:\d+: error\[", str(caught.value))


def test_a_missing_file_raises_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.ariadne"
    with pytest.raises(ananke.DiagnosticError) as caught:
        ananke.load(missing)
    assert [d.code for d in caught.value.diagnostics] == ["unreadable-file"]
    assert [d.code for d in ananke.check(missing)] == ["unreadable-file"]


def test_strict_turns_a_demotion_into_an_error_as_arc_does(tmp_path: Path) -> None:
    path = tmp_path / "handler.ariadne"
    path.write_text('constraint handler {\n    naming: r"^[a-z]\\w*$";\n}\n', encoding="utf-8")
    warned = ananke.Diagnostics()
    module = ananke.load(path, diagnostics=warned)
    ananke.emit(module, "xgrammar", diagnostics=warned)
    lax = _arc("emit", str(path), "-t", "xgrammar", "--output-format", "json")
    assert lax.returncode == 0
    assert _fields(warned) == _fields_json(lax.stderr)
    assert "demoted-to-post" in [d.code for d in warned]
    failed = ananke.Diagnostics()
    module = ananke.load(path, diagnostics=failed)
    with pytest.raises(ananke.DiagnosticError) as caught:
        ananke.emit(module, "xgrammar", strict=True, diagnostics=failed)
    assert [d.code for d in caught.value.diagnostics if d.severity == "error"] == [
        "demoted-to-post"
    ]
    strict = _arc("emit", str(path), "-t", "xgrammar", "--strict", "--output-format", "json")
    assert strict.returncode == 1
    assert _fields(failed) == _fields_json(strict.stderr)


def test_arguments_that_are_not_inputs_raise_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    multi = ananke.load("examples/multi.ariadne")
    assert len(multi.own_sets) > 1
    with pytest.raises(ValueError, match="unknown target 'nope'"):
        ananke.emit(multi, "nope", constraint=multi.own_sets[0].name)
    with pytest.raises(ValueError, match="no constraint set named `nope`"):
        ananke.emit(multi, constraint="nope")
    with pytest.raises(ValueError, match="choose one with constraint="):
        ananke.emit(multi)
    with pytest.raises(ValueError, match="unknown target 'all'"):
        ananke.emit(multi, "all", constraint=multi.own_sets[0].name)
    with pytest.raises(ValueError, match="precedence"):
        ananke.load("examples/multi.ariadne", precedence=["file"])
    with pytest.raises(ValueError, match="unknown pass"):
        ananke.load("examples/multi.ariadne", passes=["nope"])
