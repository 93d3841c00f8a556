"""Shared helpers of the benchmark runner: grammars, statistics, function adaptation."""

from __future__ import annotations

import ast
import io
import statistics
import time
import tokenize
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ananke.ariadne import compile_source
from ananke.ir.constraint import ConstraintSet, Module
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.source import SourceFile

from ananke.pipeline import emit, lower_for_target

if TYPE_CHECKING:
    from ananke.languages.python.corpus import FunctionSample

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "api_handler.ariadne"
API_RETURN = "Result[Response, Error]"
"""The return annotation the seed example requires (``returns: Result<Response, Error>``)."""


def grammar_of_set(cset: ConstraintSet, target: str = "llguidance") -> str:
    """The grammar text ``arc emit --target TARGET`` produces for one constraint set."""
    diags = Diagnostics()
    lowered = lower_for_target(Module(sets=(cset,)), target, diags)
    if lowered is None:
        raise ValueError(f"benchmark set {cset.name} does not lower for {target}")
    return emit(lowered[0], target)


def grammar_of_source(text: str, name: str = "bench.ariadne", target: str = "llguidance") -> str:
    """The grammar of the (single) constraint set in Ariadne source ``text``."""
    diags = Diagnostics()
    module = compile_source(SourceFile(name, text), diags)
    if module is None or len(module.sets) != 1:
        raise ValueError(f"benchmark source does not compile to one set: {name}")
    return grammar_of_set(module.sets[0], target)


def unconstrained_grammar(target: str = "llguidance") -> str:
    """What a constraint set with no constraints lowers to: the Python language alone."""
    return grammar_of_set(ConstraintSet(name="unconstrained"), target)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) by linear interpolation; ``nan`` for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "p99": percentile(values, 0.99),
        "max": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


def with_return_annotation(text: str, annotation: str) -> str | None:
    """``text`` (one function) with its return annotation replaced by ``annotation``.

    A function without one gets `` -> annotation`` after its parameter list. None when
    the text does not parse as one function.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    fn = tree.body[0]
    lines = io.StringIO(text).readlines()
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def at(line: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets; convert to str indices
        raw = lines[line - 1].encode("utf-8")[:col].decode("utf-8", "replace")
        return offsets[line - 1] + len(raw)

    if fn.returns is not None:
        r = fn.returns
        assert r.end_lineno is not None and r.end_col_offset is not None
        start = at(r.lineno, r.col_offset)
        end = at(r.end_lineno, r.end_col_offset)
        return text[:start] + annotation + text[end:]
    # insert after the ")" closing the parameter list: the first ")" at depth 0 after "def"
    depth = 0
    seen_def = False
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and tok.string == "def":
            seen_def = True
        if not seen_def or tok.type != tokenize.OP:
            continue
        if tok.string in "([{":
            depth += 1
        elif tok.string in ")]}":
            depth -= 1
            if depth == 0:
                i = offsets[tok.end[0] - 1] + tok.end[1]
                return text[:i] + " -> " + annotation + text[i:]
    return None


def mask_functions(n: int, corpus: Sequence[FunctionSample] | None = None) -> list[FunctionSample]:
    """The real functions the mask benchmarks consume: ``n`` top-level functions of
    ``corpus`` (default: the standard library's) sampled with a fixed seed."""
    from ananke.languages.python.corpus import sample, stdlib_functions

    return sample(stdlib_functions() if corpus is None else corpus, n, seed=2026)


def adapted_for_api_handler(funcs: Sequence[FunctionSample]) -> list[tuple[str, str]]:
    """``(key, text)`` of the functions made to satisfy the seed example: at most 100 lines,
    no ``eval``/``exec``, and the return annotation it requires."""
    from ananke.languages.python.checks import name_uses

    adapted = []
    for f in funcs:
        if f.lines > 100 or any(u.name in ("eval", "exec") for u in name_uses(f.text)):
            continue
        text = with_return_annotation(f.text, API_RETURN)
        if text is not None:
            adapted.append((f.key, text))
    return adapted


def median_ms(f: Callable[[], object], runs: int) -> dict[str, float]:
    """:func:`summary` of ``runs`` timed calls of ``f`` in milliseconds, after one untimed."""
    f()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return summary(times)
