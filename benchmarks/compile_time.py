"""Compile time: the seed example and a generated 1,000-block file (whole and the Ariadne
stage alone), the rejection of broken inputs too big to commit, and ``arc --version``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import EXAMPLE, median_ms, percentile, summary
from benchmarks.reporting import Report


def compile_once(path: Path) -> str:
    from ananke.ariadne import compile_source, read_source
    from ananke.backends import get_backend
    from ananke.ir.diagnostics import Diagnostics
    from ananke.ir.lower import lower

    diags = Diagnostics()
    src = read_source(path, diags)
    assert src is not None
    module = compile_source(src, diags)
    assert module is not None, "benchmark input must compile"
    backend = get_backend("llguidance")
    out = [backend.emit(lw.grammar) for lw in lower(module, target="llguidance", diags=diags)]
    return out[-1]


def thousand_blocks(n: int = 1000) -> str:
    """``n`` constraint blocks cycling through every property kind, with varied values."""
    shapes: list[Callable[[int], str]] = [
        lambda i: f'    returns: Result<Response{i}, Error>;\n    forbid: ["eval", "exec"];\n',
        lambda i: (
            f"    name: handler_{i};\n    params: (request: Request, *, timeout: float = "
            f"{i}.5);\n    max_lines: {10 + i % 90};\n"
        ),
        lambda i: (
            f"    signature: async fetch_{i}(url: str, retries: int = 3) -> Option<Bytes>;\n"
            '    imports: { allow: ["json", "re"], deny: ["subprocess"] };\n'
        ),
        lambda i: f'    naming: snake;\n    require: ["json.loads"];\n    max_chars: {1000 + i};\n',
        lambda i: (
            f'    matches: r"(?s)^def f{i}\\(.*return ";\n    doc: "Block number {i}.";\n'
            f"    max_tokens: {200 + i};\n"
        ),
        lambda i: (
            f'    validates: Input{i % 7};\n    forbid: ["open", "os.system", "print"];\n'
            "    returns: Dict<String, List<Int>>;\n"
        ),
    ]
    parts = ["schema Input0 { id: int; name?: str; }\n"]
    for i in range(n):
        parts.append(f"constraint c{i} {{\n{shapes[i % len(shapes)](i)}}}\n")
    return "".join(parts)


def bench_compile(r: Report) -> None:
    print("compile", flush=True)
    runs = 50 if r.quick else 300
    for _ in range(20):
        compile_once(EXAMPLE)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        compile_once(EXAMPLE)
        times.append((time.perf_counter() - t) * 1000)
    s = summary(times)
    r.details["compile_example_ms"] = s
    r.metric(
        "compile api_handler.ariadne in-process, p50",
        s["p50"],
        "ms",
        5.0,
        note=f"{runs} runs after warm-up; p99 {s['p99']:.2f} ms",
    )

    with tempfile.TemporaryDirectory() as d:
        big = Path(d) / "thousand.ariadne"
        big.write_text(thousand_blocks())
        compile_once(big)
        times = []
        for _ in range(3 if r.quick else 7):
            t = time.perf_counter()
            compile_once(big)
            times.append((time.perf_counter() - t) * 1000)
    s = summary(times)
    r.details["compile_1000_blocks_ms"] = s
    r.metric(
        "compile 1,000 constraint blocks in-process, median",
        s["p50"],
        "ms",
        300.0,
        note=f"{s['n']} runs",
    )
    bench_ariadne_stage(r)


def bench_ariadne_stage(r: Report) -> None:
    """The Ariadne stage alone (parse and check, no lowering): what an editor runs on
    every keystroke; and how long the broken inputs too big to commit take to reject."""
    from ananke.ariadne import compile_source, read_source
    from ananke.ir.diagnostics import Diagnostics
    from ananke.ir.source import SourceFile

    def stage(text: str) -> Callable[[], object]:
        source = SourceFile("bench.ariadne", text)
        return lambda: compile_source(source, Diagnostics())

    runs = 50 if r.quick else 300
    s = median_ms(stage(EXAMPLE.read_text()), runs)
    r.details["ariadne_stage_example_ms"] = s
    r.metric(
        "Ariadne stage (parse and check) of api_handler.ariadne, p50",
        s["p50"],
        "ms",
        2.0,
        note=f"{runs} runs after warm-up; p99 {s['p99']:.2f} ms",
    )
    s = median_ms(stage(thousand_blocks()), 3 if r.quick else 7)
    r.details["ariadne_stage_1000_blocks_ms"] = s
    r.metric(
        "Ariadne stage of 1,000 constraint blocks, median",
        s["p50"],
        "ms",
        200.0,
        note=f"{s['n']} runs",
    )
    block = 'constraint c {\n    forbid: ["eval", "exec"];\n}\n'
    broken = {
        "a 10 MB file (refused)": block * (10 * 1024 * 1024 // len(block) + 1),
        "100,000 brackets never closed": "constraint a {\n    forbid: " + "[" * 100_000 + "\n",
        "100,000 nested type arguments": "constraint a {\n    returns: "
        + "A<" * 100_000
        + "B"
        + ">" * 100_000
        + ";\n}\n",
        "5,000 nested parentheses in a default": "constraint a {\n    params: (x = "
        + "(" * 5_000
        + ")" * 5_000
        + ");\n}\n",
    }
    with tempfile.TemporaryDirectory() as d:
        for what, text in broken.items():
            path = Path(d) / "broken.ariadne"
            path.write_text(text, "utf-8")

            def reject(path: Path = path) -> None:
                diags = Diagnostics()
                source = read_source(path, diags)
                if source is not None:
                    compile_source(source, diags)
                assert diags.has_errors, "a broken input compiled"

            s = median_ms(reject, 1 if r.quick else 3)
            r.details[f"reject {what} ms"] = s
            r.metric(
                f"reject {what} (read and compile), median",
                s["p50"],
                "ms",
                2000.0,
                note=f"{s['n']} runs; an error diagnostic, never a hang",
            )


def bench_version(r: Report) -> None:
    print("arc --version", flush=True)
    exe = shutil.which("arc", path=str(Path(sys.executable).parent)) or shutil.which("arc")
    cmd = [exe, "--version"] if exe else [sys.executable, "-m", "ananke", "--version"]
    n = 10 if r.quick else 25
    subprocess.run(cmd, check=True, capture_output=True)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append((time.perf_counter() - t) * 1000)
    base = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        base.append((time.perf_counter() - t) * 1000)
    s = summary(times)
    r.details["arc_version_ms"] = s | {"python_startup_p50_ms": percentile(base, 0.5)}
    r.metric(
        "`arc --version` wall time, median",
        s["p50"],
        "ms",
        150.0,
        note=f"{n} runs; bare `python -c pass` {percentile(base, 0.5):.0f} ms",
    )
