"""examples/pure-local/: `arc generate --backend local` on the small model made offline
writes a function that the grammar and every post check accept (the issue's "done when").

The model is the one `examples/pure-local/make_model.py` makes (the `example_model`
fixture calls `make_model` with the script's own training texts and its defaults, once per
machine). Oracles: Python's parser, llguidance reading the printed grammar, the post
checks of the module-level API."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import ananke

ROOT = Path(__file__).resolve().parents[2]
HANDLER = ROOT / "examples" / "api_handler.ariadne"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=600,
    )


def test_the_readme_command(example_model: Path, tmp_path: Path) -> None:
    from ananke.engines.acceptance import ByteMatcher

    r = _run(
        "-m", "ananke", "generate", "return the user's id", "--constraints", HANDLER,
        "--backend", "local", "--model", example_model, "--output-format", "json",
        "--cache-dir", tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    code = result["code"]
    fn = ast.parse(code).body[0]
    assert isinstance(fn, ast.FunctionDef) and ast.unparse(fn.returns) == "Result[Response, Error]"
    assert ByteMatcher(ananke.emit(ananke.load(HANDLER), "llguidance")).check(code).accepted
    assert ananke.validate(ananke.load(HANDLER), code) == []
    assert result["backend"] == "local" and result["status"] == "ok"


def test_the_script_explains_its_usage() -> None:
    r = _run(ROOT / "examples" / "pure-local" / "make_model.py")
    assert r.returncode == 2 and "usage:" in r.stderr
