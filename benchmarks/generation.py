"""What ``arc generate`` adds to the inference service's own time.

A local server that speaks vLLM's wire format and answers at once (the tests' fault server)
stands in for the service, so that everything measured is Ananke's: building the prompt,
the request, reading the answer, verifying it (the grammar through llguidance and every
post check). Two figures:

- **per generation, warm** (the library, ``--batch``, ``-n``): one process, the constraint
  set compiled and its grammar loaded by earlier generations; the time of
  ``Maze.generate`` minus the time the client waited for the server. Target: 20 ms.
- **one ``arc generate`` process**: its wall time, with the grammar cache on disk warm,
  minus the server's time it reports (``seconds`` of its JSON output). This includes
  starting Python, importing the compiler, reading the ``.ariadne`` file and loading the
  grammar into llguidance, which a batch pays once.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time

from benchmarks.common import percentile, summary
from benchmarks.reporting import Report
from tests.seed_example import GOOD, HANDLER


def bench_generation(r: Report) -> None:
    from ananke import Ananke
    from tests.runtime.fault_server import FaultServer

    print("arc generate: overhead over the service", flush=True)
    n = 20 if r.quick else 100
    with FaultServer(text=GOOD) as server, tempfile.TemporaryDirectory() as cache:

        async def warm() -> list[float]:
            extra: list[float] = []
            async with Ananke(config=False, url=server.url, cache_dir=cache) as a:
                compiled = await a.compile(HANDLER)
                for i in range(n + 3):
                    result = await a.generate("return the user's id", compiled)
                    assert result.ok, result.to_json()
                    waited = sum(at.completion.seconds for at in result.attempts)
                    if i >= 3:  # the first ones load the grammar and the checks
                        extra.append((result.seconds - waited) * 1000)
            return extra

        extra = asyncio.run(warm())
        s = summary(extra)
        r.details["generate_overhead_warm_ms"] = s
        r.metric(
            "`arc generate` overhead per generation, warm (median)",
            s["p50"],
            "ms",
            20.0,
            note=f"{n} generations in one process; p90 {percentile(extra, 0.9):.1f} ms; "
            "prompt, request, verification (grammar + post checks)",
        )

        runs = 3 if r.quick else 10
        cmd = [
            sys.executable,
            "-m",
            "ananke",
            "generate",
            "return the user's id",
            "--constraints",
            str(HANDLER),
            "--url",
            server.url,
            "--cache-dir",
            cache,
            "--output-format",
            "json",
        ]
        subprocess.run(cmd, check=True, capture_output=True)  # fills the disk cache
        walls = []
        for _ in range(runs):
            t = time.perf_counter()
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            wall = time.perf_counter() - t
            served = json.loads(out)["history"][0]["seconds"]
            walls.append((wall - served) * 1000)
        s1 = summary(walls)
        r.details["generate_overhead_process_ms"] = s1
        r.metric(
            "`arc generate` process overhead, warm disk cache (median)",
            s1["p50"],
            "ms",
            note=f"{runs} runs; Python start, imports, reading the .ariadne file and loading "
            "the grammar into llguidance: paid once per process (a batch pays it once)",
        )
