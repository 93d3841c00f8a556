"""Coverage-guided fuzzing of `arc transpile` with atheris (libFuzzer).

An input is a dialect byte (its value modulo 3: lark, gbnf, ebnf) and a grammar file. Every
target must end in exit 0, 1 or 2 with, for 1 and 2, an error at a place in the file; an
exit 3 (an internal error) is raised as an exception, which libFuzzer reports as a crash
and writes to a ``crash-*`` file. From the repository root:

    python -m tests.frontends.fuzz_transpile_atheris CORPUS_DIR -atheris_runs=10000

``--write-seeds DIR`` writes the seed corpus (the grammars others wrote, installed here).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris


def _import_instrumented() -> None:
    """arc imports its stages when a command needs them: import them all here, where
    atheris instruments what is imported (arc's own modules only: instrumenting the
    engines and torch too takes most of a minute)."""
    import importlib
    import pkgutil

    packages = (
        "ananke.frontends.grammars",
        "ananke.ir",
        "ananke.ir.compose",
        "ananke.ir.lower",
        "ananke.ir.lowerings",
        "ananke.backends",
    )
    with atheris.instrument_imports(include=["ananke"]):
        importlib.import_module("ananke.pipeline")
        for name in packages:
            package = importlib.import_module(name)
            for info in pkgutil.iter_modules(package.__path__, f"{name}."):
                importlib.import_module(info.name)


_import_instrumented()
from tests.frontends import fuzz_grammars  # noqa: E402

_DIALECTS = ("lark", "gbnf", "ebnf")
_WORK = Path(tempfile.mkdtemp(prefix="arc-fuzz-"))


def one_input(data: bytes) -> None:
    if not data:
        return
    dialect = _DIALECTS[data[0] % 3]
    path = _WORK / f"grammar{fuzz_grammars.SUFFIX[dialect]}"
    path.write_bytes(data[1:])
    fuzz_grammars.check_all_targets(path)


def write_seeds(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (dialect, text) in enumerate(fuzz_grammars.seed_grammars()):
        (folder / f"seed-{i:03}").write_bytes(bytes([_DIALECTS.index(dialect)]) + text)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--write-seeds":
        write_seeds(Path(sys.argv[2]))
        return
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
