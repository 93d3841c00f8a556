"""Ananke's benchmark runner: ``python -m benchmarks.run [--quick]``.

Writes ``benchmarks/report.json`` (every figure, with details) and ``benchmarks/report.md``
(a table: metric, value, target, pass/fail). All timings of one report come from the same
run on the same machine; compare figures only within one report.

Sections: compile time of the seed example and of a 1,000-block file (whole and the
Ariadne stage alone), the rejection of broken inputs too big to commit, ``arc --version``
wall time, automaton construction (a lexeme with negation, blow-ups stopped at the
bound), llguidance mask time per token with byte-level BPE vocabularies of 32k and 128k
tokens (Python grammars and a JSON-schema baseline), the soundness of the Python
grammar on the standard library's top-level functions, and, for the seed example, emit
time per target, compile and mask time per engine (llguidance reading each of its dialects,
XGrammar, llama.cpp's grammar sampler) with the same vocabularies, and the agreement of the
differential corpus; the ``local`` generator's tokens/s with and without grammars and
its constraint cost per token (``local``); the time ``arc generate`` adds to an inference
service's own (``generate``); generation against a real vLLM server on the CPU: invalid
outputs before and after repair, and tokens/s with and without grammars (``vllm``).

One module per subject holds its measurements and the section that reports them
(``compile_time``, ``automata``, ``masks``, ``soundness``, ``engines``, ``compose``,
``arc_test``, ``local_generation``, ``generation``, ``vllm_server``); ``reporting`` writes
the report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from ananke.ir.files import write_atomic

from benchmarks import (
    arc_test,
    automata,
    compile_time,
    compose,
    engines,
    generation,
    local_generation,
    masks,
    soundness,
    vllm_server,
)
from benchmarks.reporting import HERE, Report, render_md


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small samples, for a smoke run")
    ap.add_argument("--out", type=Path, default=HERE, help="where to write report.json/.md")
    ap.add_argument(
        "--only",
        default="compile,version,automata,masks,soundness,emit,engines,agreement,compose,arc_test,"
        "local,generate,vllm",
        help="comma-separated sections to run (compile, version, automata, masks, soundness, "
        "emit, engines, agreement, compose, arc_test, local, generate, vllm)",
    )
    ap.add_argument(
        "--cache",
        type=Path,
        default=HERE / ".cache" / "bpe",
        help="where trained BPE vocabularies are kept",
    )
    args = ap.parse_args(argv)
    import llguidance
    from ananke.engines.membership import llamacpp_version

    r = Report(args.quick)
    sections = set(args.only.split(","))
    t0 = time.perf_counter()
    if "compile" in sections:
        compile_time.bench_compile(r)
    if "version" in sections:
        compile_time.bench_version(r)
    if "automata" in sections:
        automata.bench_automata(r)
    if "masks" in sections:
        masks.bench_masks(r, args.cache)
    if "soundness" in sections:
        soundness.bench_soundness(r)
    if "emit" in sections:
        engines.bench_emit(r)
    if "engines" in sections:
        engines.bench_engines(r, args.cache)
    if "agreement" in sections:
        engines.bench_agreement(r)
    if "compose" in sections:
        compose.bench_compose(r)
    if "arc_test" in sections:
        arc_test.bench_arc_test(r)
    if "local" in sections:
        local_generation.bench_local_generation(r, args.cache.parent / "models")
    if "generate" in sections:
        generation.bench_generation(r)
    if "vllm" in sections:
        vllm_server.bench_vllm_server(r, args.cache.parent / "models")
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "llguidance": getattr(llguidance, "__version__", "?"),
        "node-llama-cpp": llamacpp_version() or "not installed",
        "quick": args.quick,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    payload = {"meta": meta, "metrics": r.rows, "details": r.details}
    report_json = json.dumps(payload, indent=2, default=str) + "\n"
    write_atomic(args.out / "report.json", report_json.encode("utf-8"))
    write_atomic(args.out / "report.md", render_md(r, meta).encode("utf-8"))
    failed = [row["metric"] for row in r.rows if row["pass"] is False]
    print(f"wrote {args.out / 'report.md'} in {meta['seconds']} s; {len(failed)} targets missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
