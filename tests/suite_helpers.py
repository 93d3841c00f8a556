"""Helpers every test folder shares: what a missing optional package means, work
measured by counting instead of timing, and ``arc`` run as a command.

A test that needs an optional package (an engine, a grammar set) is skipped when the
package is missing on a developer's machine, and fails under CI (``CI`` set, as CI
services do), where the dev and engines extras install everything the suite uses: a
test that CI skips tests nothing.

Tests never assert on wall time, which depends on the machine and its load: they count
the work done (calls made, states built) and compare it between inputs of different
sizes. Timings live in ``benchmarks/`` with their targets.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any, NoReturn

import pytest

__all__ = ["arc", "calls", "in_ci", "missing", "require_module"]


def in_ci() -> bool:
    """Whether the suite runs under CI, where every optional package is installed."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def missing(what: str) -> NoReturn:
    """Something the test needs is not installed: fail under CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"{what}; CI installs every optional package the suite uses", pytrace=False)
    pytest.skip(what, allow_module_level=True)


def require_module(name: str, package: str | None = None) -> ModuleType:
    """``import name``, or :func:`missing` when it is not installed (``package``: the name
    to install it by, when it differs)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"the package {package or name!r} is not installed")


def calls(fn: Callable[[], object]) -> int:
    """How many function calls (Python and C) running ``fn()`` makes: the work it does,
    the same on every machine and under any load."""
    count = 0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(previous)
    return count


def arc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``arc ARGS...`` run in ``cwd`` as a user runs it (a new process, no colours)."""
    return subprocess.run(
        [sys.executable, "-m", "ananke", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=300,
    )
