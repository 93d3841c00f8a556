"""Running `arc` in-process from tests."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from ananke.cli import main


def run_arc(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """`arc ARGS...`: its exit code, stdout and stderr."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert isinstance(exc.value.code, int)
    return exc.value.code, out, err


def run_arc_stdin(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: bytes,
    *args: str | Path,
) -> tuple[int, str, str]:
    """`arc ARGS...` with ``data`` on its standard input."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    return run_arc(capsys, *args)
