"""Golden snapshots: for every example, its IR text form (composed), emitted grammar and ``arc
explain`` tables (llguidance, and every target); for every file of the broken-input
corpus, its rendered diagnostics.

Update them all with ``pytest tests/golden --snapshot-update`` and review the diff.
Grammars are stored one file each (``__snapshots__/test_examples/*.lark``); the rest in
``__snapshots__/test_examples.ambr``.
"""

from __future__ import annotations

from pathlib import Path

import llguidance
import pytest
from ananke.ariadne import compile_source, read_source
from ananke.engines.acceptance import byte_tokenizer
from ananke.ir import Diagnostics, Module
from ananke.ir.compose import compose
from ananke.ir.text import to_text
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from ananke.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.relative_to(ROOT) for p in (ROOT / "examples").glob("*.ariadne"))
BROKEN = sorted(p.relative_to(ROOT) for p in (ROOT / "tests" / "fixtures" / "broken").glob("*"))


class LarkSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "lark"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # Spans name files as given on the command line: relative to the repository root.
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NO_COLOR", "1")


def _arc(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    assert isinstance(exc.value.code, int)
    return exc.value.code, out, err


def _module(path: Path) -> Module:
    diags = Diagnostics()
    source = read_source(path, diags)
    assert source is not None
    module = compile_source(source, diags)
    assert module is not None and not diags, list(diags)
    module = compose(module, diags, verify=True)
    assert not diags, list(diags)
    return module


def test_examples_exist() -> None:
    assert Path("examples/api_handler.ariadne") in EXAMPLES
    assert len(BROKEN) >= 40


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_ir_text(path: Path, snapshot: SnapshotAssertion) -> None:
    assert to_text(_module(path)) == snapshot


def _sets() -> list[tuple[Path, str]]:
    # The sets `arc emit` writes: the file's own, not those its imports bring.
    return [(path, s.name) for path in EXAMPLES for s in _module(ROOT / path).own_sets]


@pytest.mark.parametrize(
    ("path", "name"), _sets(), ids=lambda v: v.stem if isinstance(v, Path) else v
)
def test_grammar(
    path: Path, name: str, snapshot: SnapshotAssertion, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _arc(capsys, "emit", str(path), "--constraint", name)
    assert (code, err) == (0, "")
    assert llguidance.LLMatcher.validate_grammar(out, byte_tokenizer()) == ""
    assert out == snapshot(extension_class=LarkSnapshot)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_explain(
    path: Path, snapshot: SnapshotAssertion, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _arc(capsys, "explain", str(path))
    assert (code, err) == (0, "")
    assert out == snapshot


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_explain_every_target(
    path: Path, snapshot: SnapshotAssertion, capsys: pytest.CaptureFixture[str]
) -> None:
    """The level of every constraint for every target, and the targets skipped."""
    code, out, err = _arc(
        capsys, "explain", str(path), "--target", "all", "--output-format", "short"
    )
    assert code == 0
    assert f"{out}\n--- stderr\n{err}" == snapshot


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_diagnostics(
    path: Path, snapshot: SnapshotAssertion, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _arc(capsys, "check", str(path))
    assert code in (1, 2)
    assert out == ""
    assert f"--> {path}:" in err
    assert f"exit {code}\n{err}" == snapshot
