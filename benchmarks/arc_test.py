"""`arc test` at scale: a generated tree of ``.ariadne`` files with examples.

``generate(files, examples, root)`` writes ``files`` files, each one constraint set (its
own forbid list, return type, line budget and naming) with ``examples`` examples: half
accepted, half rejected with the property that rejects them (``by forbid.NAME``,
``by returns``, ``by validates``, ``by syntax``). In every other file the ``syntax``
example is valid Python that the grammar's shape refuses, so that no post check names a
cause and the rejection explainer has to show that no constraint does.
``run(root, engines)`` runs `arc test` on the tree in a fresh process, as a user does, and
returns its wall time and summary line.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.reporting import Report

NAMES = ["eval", "exec", "open", "compile", "input", "globals", "vars", "breakpoint"]
TYPES = [("int", "int"), ("str", "str"), ("List<int>", "List[int]"), ("bool", "bool")]


def _block(text: str) -> str:
    body = "".join(f"        {line}\n" if line else "\n" for line in text.splitlines())
    return f'"""\n{body}        """'


def generate(files: int, examples: int, root: Path, seed: int = 11) -> Path:
    rng = random.Random(seed)
    for k in range(files):
        forbid = rng.sample(NAMES, 3)
        ariadne_type, python_type = rng.choice(TYPES)
        name = f"handler_{k}"
        lines = [
            f"constraint set_{k} {{",
            f"    name: {name};",
            f"    returns: {ariadne_type};",
            "    validates: check_input;",
            f"    max_lines: {rng.randint(20, 60)};",
            f"    forbid: [{', '.join(f'{chr(34)}{n}{chr(34)}' for n in forbid)}];",
        ]
        head = f"def {name}(value) -> {python_type}:"
        for j in range(examples):
            local = f"v{j}"
            kind = j % 10
            if kind < 5:
                body = f"{head}\n    {local} = check_input(value)\n    return {local}\n"
                lines.append(f"    example accept {_block(body)};")
            elif kind == 5:
                bad = forbid[j % 3]
                body = f"{head}\n    {local} = check_input(value)\n    return {bad}({local})\n"
                lines.append(f"    example reject {_block(body)} by forbid.{bad};")
            elif kind == 6:
                body = f"def {name}(value) -> object:\n    return check_input(value)\n"
                lines.append(f"    example reject {_block(body)} by returns;")
            elif kind == 7:
                body = f"{head}\n    return value\n"
                lines.append(f"    example reject {_block(body)} by validates;")
            elif kind == 8 and k % 2:
                body = f"{head}\n    return check_input((value)\n"
                lines.append(f"    example reject {_block(body)} by syntax;")
            elif kind == 8:
                # Valid Python that the grammar refuses (the indentation step changes):
                # no post check objects, so the explainer must show no constraint does.
                body = f"{head}\n  if value:\n        return check_input(value)\n"
                lines.append(f"    example reject {_block(body)} by syntax;")
            else:
                comment = f"    # {forbid[0]} in a comment is fine\n"
                body = f"{head}\n{comment}    return check_input(value)\n"
                lines.append(f"    example accept {_block(body)};")
        lines.append("}")
        (root / f"set_{k:03d}.ariadne").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def run(root: Path, engines: str) -> tuple[float, int, str]:
    """`arc test ROOT --engine ENGINES` in a fresh process: wall seconds, exit code and
    the summary line."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ananke", "test", str(root), "--engine", engines],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    first = done.stdout.splitlines()[0] if done.stdout else done.stderr.strip()
    return seconds, done.returncode, first


def bench_arc_test(r: Report) -> None:

    print("arc test", flush=True)
    files = 20 if r.quick else 100
    with tempfile.TemporaryDirectory() as d:
        root = generate(files, 10, Path(d))
        for engines in (
            "llguidance-lark",
            "llguidance-lark,llguidance-gbnf",
            "llguidance-lark,llamacpp-gbnf",
        ):
            seconds, code, line = run(root, engines)
            r.metric(
                f"arc test, {files} files x 10 examples, engines {engines}",
                seconds,
                "s",
                5.0 if files == 100 else None,
                note=f"exit {code}: {line}",
            )
