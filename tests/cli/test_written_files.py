"""Every file ``arc`` writes gets the permissions a plain ``open()`` would give it: those of
the file it replaces, else ``0o666`` less the user's umask (a grammar written for a server
that runs as another user must be readable by it)."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.cli_helpers import run_arc

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "examples" / "api_handler.ariadne"
MULTI = ROOT / "examples" / "multi.ariadne"


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    saved = os.umask(0o022)
    os.umask(saved)
    yield lambda mask: os.umask(mask) and None
    os.umask(saved)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _written(capsys: pytest.CaptureFixture[str], tmp: Path) -> list[Path]:
    """Run every command that writes files into ``tmp``; the files it wrote."""
    grammar = tmp / "g.lark"
    grammar.write_text('start: "a" | "b"\n', encoding="utf-8")
    examples = tmp / "ex"
    examples.mkdir()
    shutil.copy(API, examples / "api.ariadne")
    (examples / "api.golden").mkdir()
    commands: list[tuple[str | Path, ...]] = [
        ("compile", API, "-o", tmp / "api.cir"),
        ("emit", API, "-o", tmp / "api.lark"),
        ("emit", MULTI, "-o", f"{tmp / 'sets'}/"),
        ("emit", API, "--target", "all", "-o", tmp / "all"),
        ("transpile", grammar, "--to", "gbnf", "-o", tmp / "g.gbnf"),
        (
            "test",
            examples,
            "--update",
            "--engine",
            "llguidance-lark",
            "--junit-xml",
            tmp / "junit.xml",
        ),
    ]
    for args in commands:
        code, _, err = run_arc(capsys, *args)
        assert code == 0, (args, err)
    files = [p for p in tmp.rglob("*") if p.is_file() and p != grammar]
    return [p for p in files if p.parent != examples]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_new_files_follow_the_umask(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, umask: Callable[[int], None], mask: int
) -> None:
    umask(mask)
    files = _written(capsys, tmp_path)
    kinds = {p.suffix for p in files}
    assert {".cir", ".lark", ".gbnf", ".xml", ".txt"} <= kinds, kinds
    assert len(files) > 15
    assert {str(p.relative_to(tmp_path)): _mode(p) for p in files} == {
        str(p.relative_to(tmp_path)): 0o666 & ~mask for p in files
    }


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_a_replaced_file_keeps_its_permissions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, umask: Callable[[int], None]
) -> None:
    umask(0o022)
    out = tmp_path / "api.lark"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o640)
    code, _, err = run_arc(capsys, "emit", API, "-o", out)
    assert code == 0, err
    assert _mode(out) == 0o640
    assert out.read_text(encoding="utf-8").startswith("start:")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
