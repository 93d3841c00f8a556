"""Lint, format and strict type checks as tests: ``ruff check``, ``ruff format``, ``mypy``.

mypy cannot follow setuptools' ``package-dir`` mapping (``ir/`` is ``ananke.ir``), so the
type check runs on a tree of symlinks laid out as the installed package, built from the
mapping in ``pyproject.toml``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_ruff_check() -> None:
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def package_tree(dest: Path) -> Path:
    """Lay the package out under ``dest`` as it is installed: one symlink per module file."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping: dict[str, str] = setuptools["package-dir"]
    if dest.exists():
        shutil.rmtree(dest)
    for package in setuptools["packages"]:
        source = ROOT / mapping.get(package, package.replace(".", "/"))
        target = dest.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        if not source.is_dir():
            continue
        for path in source.iterdir():
            if path.suffix in (".py", ".pyi") or path.name == "py.typed":
                (target / path.name).symlink_to(path)
    return dest


def test_package_tree_follows_the_mapping(tmp_path: Path) -> None:
    tree = package_tree(tmp_path / "tree")
    assert (tree / "ananke" / "cli.py").resolve() == ROOT / "ananke" / "cli.py"
    assert (tree / "ananke" / "ir" / "render.py").resolve() == ROOT / "ir" / "render.py"


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_mypy_strict(tmp_path: Path) -> None:
    tree = package_tree(tmp_path / "tree")
    # A cache outside the temporary folder keeps repeated runs fast.
    cache = ROOT / ".mypy_cache" / "package-tree"
    result = _run(
        "mypy",
        "--strict",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "--cache-dir",
        str(cache),
        "-p",
        "ananke",
        cwd=tree,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_the_python_api_is_typed_for_its_users(tmp_path: Path) -> None:
    """The examples of spec/api.md pass ``mypy --strict`` as a user's code, and the
    facade's names have their real types there (an untyped facade would give ``Any``)."""
    import re

    tree = package_tree(tmp_path / "tree")
    page = (ROOT / "spec" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)\n```$", page, re.S | re.M)
    functions = [
        f"def example_{i}() -> None:\n" + "\n".join(f"    {line}" for line in block.splitlines())
        for i, block in enumerate(blocks)
    ]
    probes = {
        "ananke.load('x')": "ananke.ir.constraint.Module",
        "ananke.compile('')": "ananke.ir.constraint.Module",
        "ananke.check('x')": "ananke.ir.diagnostics.Diagnostics",
        "ananke.emit(ananke.load('x'))": "str",
        "ananke.explain(ananke.load('x'))": "str",
        "ananke.lower(ananke.load('x'))": "tuple[ananke.ir.plan.Lowered, ...]",
        "ananke.DiagnosticError([]).diagnostics": "tuple[ananke.ir.diagnostics.Diagnostic, ...]",
    }
    user = tree / "user_code.py"
    user.write_text(
        "import ananke\n\n\n"
        + "\n\n\n".join(functions)
        + "\n\n\n"
        + "".join(f"reveal_type({expr})\n" for expr in probes),
        encoding="utf-8",
    )
    result = _run(
        "mypy",
        "--strict",
        "--cache-dir",
        str(ROOT / ".mypy_cache" / "package-tree"),
        "--follow-imports=silent",
        "--ignore-missing-imports",
        str(user),
        cwd=tree,
    )
    output = result.stdout + result.stderr
    revealed = re.findall(r'Revealed type is "(.*)"', output)
    assert revealed == list(probes.values()), output
    assert " error: " not in output, output
