"""The wheel works on its own: build it, install it into a fresh virtual environment, and
run ``arc --version`` and ``arc emit`` from a folder outside the checkout.

Dependencies are resolved by pip from the configured index (its cache keeps reruns fast).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

import ananke

ROOT = Path(__file__).resolve().parents[1]


def _run(
    args: list[str | Path], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["NO_COLOR"] = "1"
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def _project_copy(dest: Path) -> Path:
    """The files a build needs, so that building leaves no trace in the checkout."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for directory in sorted(set(pyproject["tool"]["setuptools"]["package-dir"].values())):
        if (ROOT / directory).is_dir() and not (dest / directory).exists():
            shutil.copytree(ROOT / directory, dest / directory, ignore=ignore)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh virtual environment with the wheel installed."""
    base = tmp_path_factory.mktemp("packaging")
    project = _project_copy(base / "project")
    wheels = base / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, project], base)
    (wheel,) = wheels.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for expected in (
        "ananke/cli.py",
        "ananke/api.py",
        "ananke/driver.py",
        "ananke/py.typed",
        "ananke/ir/cir.py",
        "ananke/ariadne/ariadne.lark",
        "ananke/backends/__init__.py",
        "ananke/frontends/grammars/lark_syntax.lark",
        "ananke/languages/python/nfkc.py",
        "ananke/languages/python/std.ariadne",
        "ananke/ir/compose/__init__.py",
        "ananke/ir/lower/language.py",
    ):
        assert expected in names
    # Both programs: `arc`, and `ananke` as the plan writes the commands.
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    with zipfile.ZipFile(wheel) as zf:
        scripts = zf.read(entry_points).decode().split("[console_scripts]")[1].split("[")[0]
    assert sorted(scripts.split()) == sorted(
        ["arc", "=", "ananke.cli:main", "ananke", "=", "ananke.cli:main"]
    )
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", wheel], base)
    return env_dir / "bin"


def test_version_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    result = _run([installed / "arc", "--version"], tmp_path)
    assert result.stdout == f"arc {ananke.__version__}\n"


def test_ananke_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    """`ananke compile constraints.json -o compiled.cir`, with the plan's names: an IR
    document in JSON is an input; messages name the program `ananke`."""
    result = _run([installed / "ananke", "--version"], tmp_path)
    assert result.stdout == f"ananke {ananke.__version__}\n"
    shutil.copy2(ROOT / "examples" / "api_handler.ariadne", tmp_path / "api.ariadne")
    _run([installed / "arc", "compile", "api.ariadne", "-o", "constraints.json"], tmp_path)
    _run([installed / "ananke", "compile", "constraints.json", "-o", "compiled.cir"], tmp_path)
    from_cir = _run([installed / "ananke", "emit", "compiled.cir"], tmp_path).stdout
    assert (
        from_cir and from_cir == _run([installed / "arc", "emit", "api.ariadne"], tmp_path).stdout
    )
    usage = subprocess.run(
        [installed / "ananke", "emit"], cwd=tmp_path, capture_output=True, text=True
    )
    assert usage.returncode == 2
    assert usage.stderr.startswith("Usage: ananke emit [OPTIONS] FILE\n")
    # The YAML settings are read by the installed package (PyYAML is a dependency).
    (tmp_path / "ananke.config.yaml").write_text("emit:\n  target: gbnf\n")
    assert (
        _run([installed / "ananke", "emit", "api.ariadne"], tmp_path).stdout
        == _run([installed / "arc", "emit", "api.ariadne", "--target", "gbnf"], tmp_path).stdout
    )


def test_the_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    probe = "import ananke.ir, pathlib; print(pathlib.Path(ananke.ir.__file__).resolve())"
    where = Path(_run([installed / "python", "-c", probe], tmp_path).stdout.strip())
    assert installed.parent in where.parents
    assert ROOT not in where.parents


def test_emit_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    shutil.copy2(ROOT / "examples" / "api_handler.ariadne", tmp_path / "api_handler.ariadne")
    result = _run(
        [installed / "arc", "emit", "api_handler.ariadne", "--target", "llguidance"], tmp_path
    )
    assert result.stderr == ""
    here = subprocess.run(
        [sys.executable, "-m", "ananke", "emit", "api_handler.ariadne", "--target", "llguidance"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == here.stdout
    assert result.stdout.strip()
    # A .cir written by the installed arc is read back by it.
    _run([installed / "arc", "compile", "api_handler.ariadne", "-o", "api.cir"], tmp_path)
    assert _run([installed / "arc", "emit", "api.cir"], tmp_path).stdout == result.stdout


def test_transpile_and_every_target_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    """Grammar import reads a .lark file shipped as package data; every target prints."""
    (tmp_path / "words.lark").write_text('start: WORD (" " WORD)*\nWORD: /[a-z]+/\n')
    result = _run([installed / "arc", "transpile", "words.lark", "--to", "xgrammar"], tmp_path)
    assert result.stdout == 'root ::= word (" " word)*\nword ::= [a-z]+\n'
    shutil.copy2(ROOT / "examples" / "api_handler.ariadne", tmp_path / "api.ariadne")
    _run([installed / "arc", "emit", "api.ariadne", "--target", "all", "-o", "out"], tmp_path)
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "xgrammar" in written and "gbnf" in written and "vllm" in written


def test_standard_library_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    """`import std.python;` reads the .ariadne files shipped as package data."""
    (tmp_path / "web.ariadne").write_text(
        "import std.python;\nconstraint web extends std.python.safe { max_lines: 40; }\n"
    )
    result = _run([installed / "arc", "explain", "web.ariadne"], tmp_path)
    assert "std.python.no_dynamic_code.forbid.eval" in result.stdout
    assert "std.python.safe.forbid.subprocess.run" in result.stdout


def test_every_dependency_is_bounded_above() -> None:
    """A release pip resolves tomorrow must not change what arc prints or what the suite
    checks: every requirement has an upper bound or an exact pin."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        requirements.extend(extra)
    unbounded = [
        r
        for r in map(Requirement, requirements)
        if not any(s.operator in ("<", "<=", "==", "~=") for s in r.specifier)
    ]
    assert unbounded == []
