"""Composition at scale: generated constraint files, composed by the Braid passes.

``generate(n, files)`` writes ``files`` ``.ariadne`` files holding about ``n`` constraints
in all: each file imports the one before it and its sets extend sets there, with limits
that intersect, names that repeat, and conflicts that priorities and strengths settle
(one in five sets holds one), so every pass has work. The timed part is the passes on
the compiled module (``inline-extends`` through ``resolve-conflicts``), split into
inheritance and merging, and conflict detection and resolution.
"""

from __future__ import annotations

import math
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from ananke.ariadne import compile_source, read_source
from ananke.ir import Diagnostics
from ananke.ir.compose import compose
from ananke.ir.constraint import Module

from benchmarks.reporting import Report

NAMES = [f"name_{k}" for k in range(60)]
SETS_PER_FILE_MIN = 2


def generate(n: int, files: int, root: Path, seed: int = 7) -> Path:
    """Write the files under ``root``; returns ``main.ariadne``, which imports them all.

    File ``f`` imports one earlier file, chosen at random, and each of its sets extends
    the set of the same rank there (inheritance chains are about ``ln(files)`` deep).
    """
    rng = random.Random(seed)
    per_file = max(1, n // files)
    sets_per_file = max(SETS_PER_FILE_MIN, per_file // 10)
    props_per_set = max(1, per_file // sets_per_file)

    def quoted(names: list[str]) -> str:
        return ", ".join(f'"{x}"' for x in names)

    for f in range(files):
        parent_file = rng.randrange(f) if f else None
        lines = [f'import "f{parent_file}.ariadne";'] if parent_file is not None else []
        for s in range(sets_per_file):
            parent = f" extends s{parent_file}_{s}" if parent_file is not None else ""
            k = max(1, (props_per_set - 2) // 2)
            forbid = rng.sample(NAMES, min(len(NAMES), k))
            if s % 5 == 0:
                # One set in five requires names its ancestors may forbid: conflicts that
                # the priority settles.
                require = rng.sample(NAMES, min(len(NAMES), k))
            else:
                require = [f"free_{f}_{s}_{j}" for j in range(k)]
            lines.append(
                f"constraint s{f}_{s}{parent} {{ max_lines: {rng.randint(20, 400)}; "
                f"forbid: [{quoted(forbid)}]; "
                f"@priority({rng.randint(1, 3)}) require: [{quoted(require)}]; "
                f"@soft @priority({f}) returns: {rng.choice(['int', 'str', 'Response'])}; }}"
            )
        (root / f"f{f}.ariadne").write_text("\n".join(lines) + "\n")
    main = root / "main.ariadne"
    main.write_text("".join(f'import "f{f}.ariadne";\n' for f in range(files)))
    return main


def compiled(path: Path) -> Module:
    diags = Diagnostics()
    source = read_source(path, diags)
    assert source is not None
    module = compile_source(source, diags)
    if module is None:
        raise RuntimeError(f"generated files do not compile: {[d.message for d in diags][:3]}")
    return module


def count(module: Module) -> int:
    """Constraints as written: those of every set before inheritance."""
    return sum(len(s.constraints) for s in module.sets)


def time_passes(module: Module, runs: int) -> dict[str, Any]:
    """Median seconds of inheritance + merge, and of detection + resolution as ``compose``
    runs them (again while a round drops constraints), as every ``arc`` command does."""
    inherit: list[float] = []
    conflicts: list[float] = []
    decided = 0
    for _ in range(runs):
        diags = Diagnostics()
        t0 = time.perf_counter()
        m = compose(module, diags, passes=("inline-extends", "merge"))
        t1 = time.perf_counter()
        m = compose(m, diags, passes=("detect-conflicts", "resolve-conflicts"))
        t2 = time.perf_counter()
        if diags.has_errors:
            raise RuntimeError(f"composition failed: {[d.message for d in diags][:3]}")
        inherit.append(t1 - t0)
        conflicts.append(t2 - t1)
        decided = sum(len(s.resolutions) for s in m.sets)
    inherit.sort()
    conflicts.sort()
    return {
        "inherit_merge_s": inherit[len(inherit) // 2],
        "detect_resolve_s": conflicts[len(conflicts) // 2],
        "decisions": decided,
    }


def bench_compose(r: Report) -> None:

    print("compose", flush=True)
    sizes = (1_000, 10_000) if r.quick else (1_000, 10_000, 100_000)
    results: dict[int, dict[str, Any]] = {}
    for n in sizes:
        with tempfile.TemporaryDirectory() as d:
            module = compiled(generate(n, 100, Path(d)))
        res = time_passes(module, 3 if n >= 100_000 else 7)
        res["constraints"] = count(module)
        results[n] = res
        total = res["inherit_merge_s"] + res["detect_resolve_s"]
        r.metric(
            f"compose {n:,} constraints in 100 files: conflict detection and resolution, median",
            res["detect_resolve_s"] * 1000,
            "ms",
            1000.0 if n == 10_000 else None,
            note=f"{res['constraints']:,} constraints written, {res['decisions']:,} decisions; "
            f"with inline-extends and merge: {total * 1000:.0f} ms",
        )
    r.details["compose"] = {str(n): v for n, v in results.items()}
    if 100_000 in results:
        nlogn = (100_000 * math.log(100_000)) / (10_000 * math.log(10_000))
        for key, what in (
            ("detect_resolve_s", "detection and resolution"),
            ("inherit_merge_s", "inline-extends and merge"),
        ):
            ratio = results[100_000][key] / results[10_000][key]
            r.metric(
                f"compose growth 10k to 100k constraints, {what}, over n log n",
                ratio / nlogn,
                "x",
                1.0,
                note=f"time grew {ratio:.1f}x; n log n grows {nlogn:.1f}x",
            )
