"""Ananke's benchmark runner: ``python benchmarks/run.py [--quick]``.

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
differential corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ananke._files import write_atomic
from benchmarks.bench_common import (
    EXAMPLE,
    adapted_for_api_handler,
    grammar_of_set,
    grammar_of_source,
    mask_functions,
    percentile,
    summary,
    unconstrained_grammar,
)

HERE = Path(__file__).resolve().parent
FORBID = ("eval", "exec", "open", "print")
FORBID_SOURCE = "constraint f { forbid: [" + ", ".join(f'"{n}"' for n in FORBID) + "]; }"
MAX_LINES_N = (5, 20, 50, 100)


class Report:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.rows: list[dict[str, Any]] = []
        self.details: dict[str, Any] = {}

    def metric(
        self,
        name: str,
        value: float,
        unit: str,
        target: float | None = None,
        *,
        higher_is_better: bool = False,
        note: str = "",
    ) -> None:
        passed: bool | None = None
        if target is not None:
            passed = value >= target if higher_is_better else value <= target
        self.rows.append(
            {
                "metric": name,
                "value": value,
                "unit": unit,
                "target": target,
                "target_op": ">=" if higher_is_better else "<=",
                "pass": passed,
                "note": note,
            }
        )
        shown = _fmt(value, unit)
        status = "" if passed is None else ("pass" if passed else "FAIL")
        print(f"  {name}: {shown} {status}", flush=True)

    def note(self, name: str, note: str) -> None:
        """A row with no figure: why something is not measured."""
        self.rows.append(
            {
                "metric": name,
                "value": None,
                "unit": "",
                "target": None,
                "target_op": "<=",
                "pass": None,
                "note": note,
            }
        )
        print(f"  {name}: {note}", flush=True)


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    if unit in ("count", ""):
        return f"{v:g}"
    if unit == "%":
        return f"{v:.2f} %"
    return f"{v:.3g} {unit}"


# --- a, b: compile time -----------------------------------------------------------------


def compile_once(path: Path) -> str:
    from ananke.ariadne import compile_source, read_source
    from ananke.backends import get_backend
    from ananke.ir.diagnostics import Diagnostics
    from ananke.ir.passes import lower

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


def _median_ms(f: Callable[[], object], runs: int) -> dict[str, float]:
    f()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return summary(times)


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
    s = _median_ms(stage(EXAMPLE.read_text()), runs)
    r.details["ariadne_stage_example_ms"] = s
    r.metric(
        "Ariadne stage (parse and check) of api_handler.ariadne, p50",
        s["p50"],
        "ms",
        2.0,
        note=f"{runs} runs after warm-up; p99 {s['p99']:.2f} ms",
    )
    s = _median_ms(stage(thousand_blocks()), 3 if r.quick else 7)
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

            s = _median_ms(reject, 1 if r.quick else 3)
            r.details[f"reject {what} ms"] = s
            r.metric(
                f"reject {what} (read and compile), median",
                s["p50"],
                "ms",
                2000.0,
                note=f"{s['n']} runs; an error diagnostic, never a hang",
            )


# --- automata -----------------------------------------------------------------------------


def bench_automata(r: Report) -> None:
    """Building automata (``ananke.ir.automata``): a lexeme with negation and
    intersection, and constructions that stop at the state bound."""
    import keyword

    from ananke.ir.automata import DFA, StateLimitExceeded
    from ananke.ir.grammar import Alt, And, Lit, Not, Regex

    print("automata", flush=True)
    ident = r"[^\x00-\x40\x5B-\x5E\x60\x7B-\x7F][^\x00-\x2F\x3A-\x40\x5B-\x5E\x60\x7B-\x7F]*"
    words = Alt(items=tuple(Lit(text=k) for k in keyword.kwlist))
    expr = And(items=(Regex(pattern=ident), Not(item=words)))
    runs = 5 if r.quick else 20
    s = _median_ms(lambda: DFA.from_expr(expr), runs)
    r.details["automata_identifier_minus_keywords_ms"] = s
    r.metric(
        f"DFA of identifiers minus the {len(keyword.kwlist)} keywords, median",
        s["p50"],
        "ms",
        50.0,
        note=f"{runs} runs; Unicode identifier classes reaching U+10FFFF",
    )

    def stopped(pattern: str, max_states: int) -> Callable[[], object]:
        def build() -> None:
            try:
                DFA.from_expr(Regex(pattern=pattern), max_states=max_states)
            except StateLimitExceeded:
                return
            raise AssertionError(f"{pattern} fits in {max_states} states")

        return build

    for pattern, bound, what in (
        ("(a|b)*a(a|b){20}", 10_000, "DFA (2**21 states needed)"),
        ("(?:[a-z]{50}){0,10000}", 100, "NFA (500,000 states needed, bound 2,000)"),
    ):
        s = _median_ms(stopped(pattern, bound), 3 if r.quick else 7)
        r.details[f"automata_stop {pattern}"] = s
        r.metric(
            f"automaton construction stopped at its bound, `{pattern}`, median",
            s["p50"],
            "ms",
            1000.0,
            note=f"{s['n']} runs; max_states {bound:,}: the {what}",
        )


# --- c: arc --version --------------------------------------------------------------------


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


# --- d: mask time ------------------------------------------------------------------------


def bench_masks(r: Report, cache: Path) -> None:
    from ananke.languages.python.corpus import stdlib_functions
    from ananke.runtime.bpe import hf_tokenizer, llg_tokenizer, train_bpe

    from benchmarks.bench_masks import json_documents, json_grammar, time_masks

    print("masks", flush=True)
    corpus = stdlib_functions()
    funcs = mask_functions(12 if r.quick else 200, corpus)
    api = grammar_of_source(EXAMPLE.read_text())
    grammars = {"python (no constraint)": unconstrained_grammar(), "python api_handler": api}
    adapted = adapted_for_api_handler(funcs)
    docs = json_documents(6 if r.quick else 40)
    r.details["masks"] = {
        "method": "fresh LLMatcher per text; unsafe_compute_mask_ptr timed alone before each "
        "token and the final EOS; default parser limits; llguidance default slices",
        "functions": len(funcs),
        "adapted_for_api_handler": len(adapted),
        "json_documents": len(docs),
    }
    train = {}
    for vocab in (32000, 128000):
        t = time.perf_counter()
        path = train_bpe(vocab, cache)
        train[vocab] = time.perf_counter() - t
        tok = llg_tokenizer(path)
        hf = hf_tokenizer(path)
        label = f"{vocab // 1000}k"
        texts = {
            "python (no constraint)": [(f.key, f.text) for f in funcs],
            "python api_handler": adapted,
        }
        results: dict[str, Any] = {}
        for gname, grammar in grammars.items():
            enc = [(k, hf.encode(t).ids) for k, t in texts[gname]]
            run = time_masks(grammar, tok, enc, keep_going=True)
            us = [x / 1000 for x in run.times_ns]
            s = summary(us)
            results[gname] = s | {
                "texts": run.texts,
                "texts_ok": run.texts_ok,
                "errors": run.errors[:20],
                "limit_errors": run.limit_errors,
                "matcher_build_ms_p50": percentile(run.build_ns, 0.5) / 1e6,
                "tokens_per_text_p50": percentile([len(e[1]) for e in enc], 0.5),
            }
        enc = [(str(i), hf.encode(d).ids) for i, d in enumerate(docs)]
        jrun = time_masks(json_grammar(), tok, enc, keep_going=True)
        js = summary([x / 1000 for x in jrun.times_ns])
        results["json schema (baseline)"] = js | {"texts_ok": jrun.texts_ok, "errors": jrun.errors}
        r.details["masks"][label] = results
        for gname, grammar in grammars.items():
            # Where default limits fail, what would the masks cost with limits raised? (for
            # diagnosis only: vLLM and SGLang use the defaults, so no target applies)
            if not results[gname]["limit_errors"]:
                continue
            import llguidance

            raised = llguidance.LLParserLimits(
                step_max_items=10**7, max_items_in_row=10**6, step_lexer_fuel=10**8
            )
            some = [(k, hf.encode(t).ids) for k, t in texts[gname][: 5 if r.quick else 50]]
            rr = time_masks(grammar, tok, some, limits=raised, keep_going=True)
            rs = summary([x / 1000 for x in rr.times_ns])
            results[gname + " [raised limits]"] = rs | {"texts_ok": rr.texts_ok}
            r.metric(
                f"mask p50 with raised limits (diagnosis), {gname}, {label}",
                rs["p50"],
                "µs",
                note=f"{rs['n']} masks on {len(some)} functions, {rr.texts_ok} consumed; "
                f"p99 {rs['p99']:.0f} µs, max {rs['max']:.0f} µs",
            )
        p50_target = 100.0 if vocab == 32000 else 200.0
        for gname in grammars:
            s = results[gname]
            ratio = s["p50"] / js["p50"] if js["p50"] else float("nan")
            r.metric(
                f"mask p50, {gname}, {label}",
                s["p50"],
                "µs",
                p50_target,
                note=f"{s['n']} masks; {ratio:.1f}x JSON p50 ({js['p50']:.1f} µs); "
                f"mean {s['mean']:.0f} µs",
            )
            r.metric(f"mask p99, {gname}, {label}", s["p99"], "µs", 1000.0)
            r.metric(f"mask max, {gname}, {label}", s["max"], "µs", 20000.0)
            r.metric(
                f"texts consumed without error, {gname}, {label}",
                s["texts_ok"],
                "count",
                s["texts"],
                higher_is_better=True,
                note="; ".join(s["errors"][:2]),
            )
        r.metric(
            f"mask p50, JSON schema baseline, {label}",
            js["p50"],
            "µs",
            note=f"{js['n']} masks, p99 {js['p99']:.0f} µs, max {js['max']:.0f} µs",
        )
    r.details["bpe_train_s"] = {str(k): v for k, v in train.items()}

    # default limits at 128k on the longest functions
    longest = sorted(corpus, key=lambda f: len(f.text), reverse=True)[: 3 if r.quick else 25]
    path = train_bpe(128000, cache)
    tok, hf = llg_tokenizer(path), hf_tokenizer(path)
    enc = [(f.key, hf.encode(f.text).ids) for f in longest]
    run = time_masks(grammars["python (no constraint)"], tok, enc, keep_going=True)
    r.details["limits_128k_longest"] = {
        "functions": [f.key for f in longest],
        "tokens": [len(e[1]) for e in enc],
        "errors": run.errors,
        "mask_us": summary([x / 1000 for x in run.times_ns]),
    }
    r.metric(
        "limit errors at 128k, default limits, longest functions",
        run.limit_errors,
        "count",
        0.0,
        note=f"{len(longest)} longest functions, up to "
        f"{max(len(e[1]) for e in enc)} tokens; {len(run.errors)} errors of any kind",
    )


# --- e: soundness ------------------------------------------------------------------------


def bench_soundness(r: Report) -> None:
    from ananke.languages.python.corpus import (
        installed_functions,
        reindent,
        sample,
        stdlib_functions,
    )

    from benchmarks.bench_soundness import (
        FSTRING_FORBIDS,
        NO_DYNAMIC_CODE,
        Checker,
        causes,
        composed_set,
        forbid_soundness,
        forbidden_uses,
    )

    print("soundness", flush=True)
    corpus = stdlib_functions()
    funcs = sample(corpus, 300, seed=1) if r.quick else corpus
    grammars = {
        "plain": unconstrained_grammar(),
        "forbid": grammar_of_source(FORBID_SOURCE),
        "no_dynamic_code": grammar_of_set(composed_set(NO_DYNAMIC_CODE, "n")),
    }
    for n in MAX_LINES_N:
        grammars[f"max_lines_{n}"] = grammar_of_source(f"constraint m {{ max_lines: {n}; }}")
    for key, names in FSTRING_FORBIDS.items():
        quoted = ", ".join(f'"{n}"' for n in names)
        grammars[key] = grammar_of_source(f"constraint f {{ forbid: [{quoted}]; }}")
    d: dict[str, Any] = {"corpus": len(corpus), "measured": len(funcs)}
    with Checker(grammars) as ck:
        texts = [f.text for f in funcs]
        t = time.perf_counter()
        res = ck.run("plain", texts)
        d["plain_seconds"] = time.perf_counter() - t
        accepted = [f for f, x in zip(funcs, res, strict=True) if x[0]]
        rejected = [
            {"function": f.key, "offset": x[1], "error": x[2]}
            for f, x in zip(funcs, res, strict=True)
            if not x[0]
        ]
        rate = 100.0 * len(accepted) / len(funcs)
        d["plain"] = {
            "accepted": len(accepted),
            "rejected": rejected[:50],
            "causes": causes(texts, res),
        }
        r.metric(
            "stdlib top-level functions accepted, no constraint",
            rate,
            "%",
            99.9,
            higher_is_better=True,
            note=f"{len(accepted)}/{len(funcs)}; causes: {d['plain']['causes'] or 'none'}",
        )

        installed = installed_functions()
        if r.quick:
            installed = sample(installed, 300, seed=1)
        ires = ck.run("plain", [f.text for f in installed])
        iok = sum(1 for x in ires if x[0])
        d["installed"] = {
            "accepted": iok,
            "of": len(installed),
            "rejected": [f.key for f, x in zip(installed, ires, strict=True) if not x[0]],
            "causes": causes([f.text for f in installed], ires),
        }
        r.metric(
            "installed packages' top-level functions accepted, no constraint",
            100.0 * iok / max(1, len(installed)),
            "%",
            99.9,
            higher_is_better=True,
            note=f"{iok}/{len(installed)} from the packages installed with the test "
            f"dependencies; causes: {d['installed']['causes'] or 'none'}",
        )

        re_sample = sample(funcs, 100 if r.quick else 600, seed=3)
        d["reindent"] = {}
        for unit, label in (("  ", "2 spaces"), ("        ", "8 spaces"), ("\t", "tabs")):
            variants = [reindent(f.text, unit) for f in re_sample]
            vres = ck.run("plain", variants)
            ok = sum(1 for x in vres if x[0])
            d["reindent"][label] = {
                "accepted": ok,
                "of": len(variants),
                "causes": causes(variants, vres),
            }
            r.metric(
                f"reindented to {label}, accepted",
                100.0 * ok / len(variants),
                "%",
                99.9,
                higher_is_better=True,
                note=f"{ok}/{len(variants)}",
            )

        # Who violates is decided by Python's ast and tokenize, not by the code measured.
        violators = [f for f in accepted if forbidden_uses(f.text, FORBID)]
        clean = [f for f in accepted if f not in violators]
        vres = ck.run("forbid", [f.text for f in violators])
        cres = ck.run("forbid", [f.text for f in clean])
        slipped = [f.key for f, x in zip(violators, vres, strict=True) if x[0]]
        wrongly = [
            {"function": f.key, "offset": x[1], "error": x[2]}
            for f, x in zip(clean, cres, strict=True)
            if not x[0]
        ]
        d["forbid"] = {
            "names": FORBID,
            "violators": len(violators),
            "clean": len(clean),
            "violators_accepted": slipped,
            "clean_rejected": wrongly[:50],
        }
        r.metric(
            "forbid eval/exec/open/print: violators accepted",
            len(slipped),
            "count",
            0.0,
            note=f"of {len(violators)} violating functions (ground truth: tokenize)",
        )
        r.metric(
            "forbid eval/exec/open/print: clean functions rejected",
            len(wrongly),
            "count",
            0.0,
            note=f"of {len(clean)} other accepted functions",
        )

        # The whole corpus (not only what the plain grammar accepts), ground truth from ast.
        d["forbid_corpus"] = {}
        for key, names in FSTRING_FORBIDS.items():
            run = forbid_soundness(ck, key, funcs, names)
            d["forbid_corpus"][key] = run.as_dict()
            r.metric(
                f"forbid {'/'.join(names)}, every function: clean functions rejected",
                len(run.clean_rejected),
                "count",
                0.0,
                note=f"{run.checked} checked, {run.clean} clean ({run.clean_with_fstrings} "
                f"with f-strings), {run.violating_rejected}/{run.violating} violating rejected "
                f"({run.violating_in_fstrings} first in an f-string field), "
                f"{len(run.misplaced)} rejected elsewhere than the first use (ground truth: ast)",
            )

        d["llamacpp"] = llamacpp_soundness(r, accepted, violators)

        d["no_dynamic_code"] = no_dynamic_code_soundness(r, ck, accepted)

        d["max_lines"] = {}
        ml_pool = accepted if r.quick else sample(accepted, 1500, seed=4)
        for n in MAX_LINES_N:
            short = [f for f in ml_pool if f.lines <= n]
            longer = [f for f in ml_pool if f.lines > n][:200]
            sres = ck.run(f"max_lines_{n}", [f.text for f in short])
            lres = ck.run(f"max_lines_{n}", [f.text for f in longer])
            bad = [f.key for f, x in zip(short, sres, strict=True) if not x[0]]
            d["max_lines"][str(n)] = {
                "short": len(short),
                "short_rejected": bad[:50],
                "longer_checked": len(longer),
                "longer_rejected_by_grammar": sum(1 for x in lres if not x[0]),
            }
            r.metric(
                f"max_lines {n}: functions of <= {n} lines rejected",
                len(bad),
                "count",
                0.0,
                note=f"of {len(short)}; the grammar also rejected "
                f"{d['max_lines'][str(n)]['longer_rejected_by_grammar']}/{len(longer)} "
                f"longer ones (the post check counts lines exactly)",
            )
    r.details["soundness"] = d


def no_dynamic_code_soundness(r: Report, ck: Any, accepted: list[Any]) -> dict[str, Any]:
    """What `std.python.no_dynamic_code` rejects among the functions the plain grammar
    accepts, by forbidden name, in the grammar and after generation."""
    from benchmarks.bench_soundness import NO_DYNAMIC_CODE, composed_set, no_dynamic_code_cost

    texts = [f.text for f in accepted]
    res = ck.run("no_dynamic_code", texts)
    cset = composed_set(NO_DYNAMIC_CODE, "n")
    d = no_dynamic_code_cost(texts, [f.key for f in accepted], res, cset)
    top = ", ".join(f"{k} {v}" for k, v in list(d["grammar_by_name"].items())[:8])
    r.metric(
        "std.python.no_dynamic_code: functions the grammar rejects",
        d["grammar_rejected"],
        "count",
        note=f"of {len(texts)} accepted without constraints; by name: {top or 'none'}",
    )
    top = ", ".join(f"{k} {v}" for k, v in list(d["post_by_name"].items())[:8])
    r.metric(
        "std.python.no_dynamic_code: further functions the post check rejects",
        d["post_rejected"],
        "count",
        note=f"by name: {top or 'none'}",
    )
    return d


def llamacpp_soundness(r: Report, accepted: list[Any], violators: list[Any]) -> dict[str, Any]:
    """llama.cpp itself reading the gbnf target: functions llguidance's reference grammar
    accepts, and functions that call a forbidden name."""
    from ananke.languages.python.corpus import sample
    from ananke.runtime.engines import get_engine

    engine = get_engine("llamacpp-gbnf")
    if not engine.available():
        r.note("llama.cpp soundness", "not installed (npm ci --prefix runtime/llamacpp)")
        return {}
    plain = engine.compile(unconstrained_grammar("gbnf"))
    forbid = engine.compile(grammar_of_source(FORBID_SOURCE, target="gbnf"))
    pool = sample(accepted, 100 if r.quick else 1000, seed=5)
    t = time.perf_counter()
    rejected = [f.key for f in pool if not plain.accepts(f.text)]
    seconds = time.perf_counter() - t
    bad = sample(violators, 30 if r.quick else 200, seed=6)
    slipped = [f.key for f in bad if forbid.accepts(f.text)]
    r.metric(
        "llama.cpp reading gbnf, no constraint: functions llguidance accepts, rejected",
        len(rejected),
        "count",
        0.0,
        note=f"of {len(pool)} standard-library functions; {1000 * seconds / len(pool):.0f} ms "
        "per function (llama.cpp parses the grammar again for each)",
    )
    r.metric(
        "llama.cpp reading gbnf, forbid eval/exec/open/print: violators accepted",
        len(slipped),
        "count",
        0.0,
        note=f"of {len(bad)} violating functions",
    )
    return {"of": len(pool), "rejected": rejected[:50], "violators": len(bad), "slipped": slipped}


# --- issue 3: emit per target, engines side by side, differential agreement ----------------


def bench_emit(r: Report) -> None:
    from ananke.backends import target_names

    from benchmarks.bench_engines import load_module, time_emit

    print("emit per target", flush=True)
    module = load_module(EXAMPLE)
    runs = 5 if r.quick else 20
    d: dict[str, Any] = {}
    for target in target_names():
        e = time_emit(module, target, runs)
        if e.refused:
            d[target] = {"refused": e.refused}
            r.note(f"emit {EXAMPLE.name} for {target}", f"cannot express the set: {e.refused}")
            continue
        s = summary(e.times_ms)
        d[target] = s | {"chars": e.chars}
        r.metric(
            f"emit {EXAMPLE.name} for {target} (lower + emit), p50",
            s["p50"],
            "ms",
            note=f"{runs} warm runs; max {s['max']:.1f} ms; {e.chars} chars",
        )
    r.details["emit_ms"] = d


def bench_engines(r: Report, cache: Path) -> None:
    import importlib.metadata

    import xgrammar
    from ananke.runtime.bpe import hf_tokenizer, llg_tokenizer, train_bpe
    from ananke.runtime.engines import (
        LlamaCppCompiled,
        get_engine,
        llamacpp_modules,
        llamacpp_version,
    )
    from ananke.runtime.llamacpp_sampler import library_path

    from benchmarks.bench_engines import (
        LLG_READERS,
        lark_compile_s,
        llamacpp_engine_run,
        llg_compile_ms,
        llg_grammar,
        load_module,
        xgr_compile,
        xgr_recompile_ms,
        xgr_time_masks,
        xgr_tokenizer_info,
    )
    from benchmarks.bench_engines import emit_text as emit_of
    from benchmarks.bench_masks import time_masks

    print("engines", flush=True)
    module = load_module(EXAMPLE)
    texts = {}
    for target in ("llguidance", "lark-vllm", "gbnf", "xgrammar", "lark"):
        text, why = emit_of(module, target)
        assert text is not None, why
        texts[target] = text
    adapted = adapted_for_api_handler(mask_functions(12 if r.quick else 200))
    runs = 3 if r.quick else 20
    xgr_runs = 1 if r.quick else 3
    xgr_budget = 5.0 if r.quick else 75.0
    d: dict[str, Any] = {
        "set": EXAMPLE.name,
        "functions": len(adapted),
        "same_text_llguidance_lark_vllm": texts["llguidance"] == texts["lark-vllm"],
        "xgrammar": importlib.metadata.version("xgrammar"),
        "xgrammar_mask_budget_s": xgr_budget,
    }
    empty_ms = [xgr_compile(xgrammar.TokenizerInfo([]), texts["xgrammar"])[1] for _ in range(2)]
    d["xgrammar_compile_empty_vocab_ms"] = min(empty_ms)
    llamacpp = get_engine("llamacpp-gbnf")
    library = library_path(llamacpp_modules())
    if library is None:
        r.note("masks, llama.cpp <- gbnf", "not installed (npm ci --prefix runtime/llamacpp)")
    if llamacpp.available():
        parse = [llamacpp.compile(texts["gbnf"]) for _ in range(runs)]
        ps = summary([c.parse_ms for c in parse if isinstance(c, LlamaCppCompiled)])
        d["llamacpp_parse_ms"] = ps
        r.metric(
            "compile, llama.cpp <- gbnf (parse only, any vocabulary)",
            ps["p50"],
            "ms",
            100.0,
            note=f"p50 of {ps['n']} parses, max {ps['max']:.1f} ms; llama.cpp (node-llama-cpp "
            f"{llamacpp_version()}) parses GBNF without the vocabulary and "
            "computes masks at sampling time from the model's own (timed per vocabulary below)",
        )
    else:
        r.note("compile, llama.cpp <- gbnf", "not installed (npm ci --prefix runtime/llamacpp)")
    for vocab in (32000, 128000):
        label = f"{vocab // 1000}k"
        path = train_bpe(vocab, cache)
        tok, hf = llg_tokenizer(path), hf_tokenizer(path)
        enc = [(k, hf.encode(t).ids) for k, t in adapted]
        res: dict[str, Any] = {}
        for name, (target, fmt) in LLG_READERS.items():
            llg_compile_ms(tok, fmt, texts[target])
            cs = summary([llg_compile_ms(tok, fmt, texts[target]) for _ in range(runs)])
            run = time_masks(llg_grammar(fmt, texts[target]), tok, enc, keep_going=True)
            ms = summary([x / 1000 for x in run.times_ns])
            res[f"llguidance <- {name}"] = {
                "compile_ms": cs,
                "mask_us": ms,
                "texts": run.texts,
                "texts_ok": run.texts_ok,
                "errors": run.errors[:10],
            }
        t = time.perf_counter()
        info = xgr_tokenizer_info(hf)
        info_ms = (time.perf_counter() - t) * 1000
        times = []
        compiled = None
        for _ in range(xgr_runs):
            compiled, ms_ = xgr_compile(info, texts["xgrammar"])
            times.append(ms_)
        cs = summary(times)
        again = summary(xgr_recompile_ms(info, texts["xgrammar"], runs))
        # XGrammar's own JSON grammar with the same vocabulary: what the engine takes for a
        # small grammar, beside the character-level Python one.
        json_text = str(xgrammar.Grammar.builtin_json_grammar())
        json_ms = min(xgr_compile(info, json_text)[1] for _ in range(3))
        xrun = xgr_time_masks(compiled, info.vocab_size, 0, enc, budget_s=xgr_budget)
        xs = summary([x / 1000 for x in xrun.times_ns])
        res["xgrammar <- xgrammar"] = {
            "compile_ms": cs,
            "cached_recompile_ms": again,
            "tokenizer_info_ms": info_ms,
            "builtin_json_compile_ms": json_ms,
            "mask_us": xs,
            "texts": xrun.texts,
            "texts_ok": xrun.texts_ok,
            "errors": xrun.errors[:10],
            "share_of_masks_over_2ms": sum(1 for x in xrun.times_ns if x > 2_000_000)
            / max(1, len(xrun.times_ns)),
        }
        if library is not None:
            res["llama.cpp <- gbnf"] = llamacpp_engine_run(
                library, path, cache, texts, tok, enc, runs, xgr_budget
            )
        d[label] = res
        p99_target = 2000.0 if vocab == 128000 else None
        for key, v in res.items():
            c, m = v["compile_ms"], v["mask_us"]
            xgr = key.startswith("xgrammar")
            cause = ""
            if xgr and c["p50"] > 100:
                cause = (
                    f"; {d['xgrammar_compile_empty_vocab_ms']:.0f} ms with an empty vocabulary: "
                    "the rest is the per-vocabulary token-mask cache XGrammar precomputes for "
                    "every position of every rule of the character-level grammar (its own "
                    f"JSON grammar takes {v['builtin_json_compile_ms']:.0f} ms with this "
                    "vocabulary); the same grammar again, in a compiler with XGrammar's "
                    f"cache on, as vLLM runs it: {v['cached_recompile_ms']['p50']:.2f} "
                    "ms"
                )
            r.metric(
                f"compile, {key}, {label}",
                c["p50"],
                "ms",
                100.0,
                note=f"p50 of {c['n']} compiles, max {c['max']:.0f} ms"
                + (f"; TokenizerInfo built once in {v['tokenizer_info_ms']:.0f} ms" if xgr else "")
                + cause,
            )
            extra = ""
            if key.startswith("llama.cpp"):
                k = v["check_us"]
                extra = (
                    f"{v['texts']} of {len(enc)} functions measured in a {xgr_budget:.0f} s "
                    "budget; the whole vocabulary through llama_sampler_apply, which "
                    "llama.cpp runs when the token it sampled is not allowed; that first "
                    f"one-token check: p50 {k['p50']:.0f} µs, p99 {k['p99']:.0f} µs"
                )
                r.metric(
                    f"llama.cpp masks equal to llguidance's, {label}",
                    100 * v["masks_equal"] / max(1, v["masks"]),
                    "%",
                    100.0,
                    higher_is_better=True,
                    note=f"{v['masks_equal']} of {v['masks']} masks over the whole vocabulary, "
                    "the end of sequence included"
                    + (f"; first difference: {v['differences'][0]}" if v["differences"] else ""),
                )
            if xgr:
                extra = (
                    f"{v['texts']} of {len(enc)} functions measured in a "
                    f"{xgr_budget:.0f} s budget; "
                    f"{100 * v['share_of_masks_over_2ms']:.0f}% of masks over 2 ms: the "
                    "grammar is character-level (no lexer), so the token-mask cache decides "
                    "few tokens ahead and the rest are run through the parser at each step"
                )
            r.metric(
                f"mask p50, {key}, {label}",
                m["p50"],
                "µs",
                note=f"{m['n']} masks; {v['texts_ok']}/{v['texts']} functions consumed"
                + (f" ({v['errors'][0]})" if v["errors"] else ""),
            )
            r.metric(f"mask p99, {key}, {label}", m["p99"], "µs", p99_target, note=extra)
            r.metric(f"mask max, {key}, {label}", m["max"], "µs")
    r.note(
        "masks, lark target",
        "the lark package has no token masks: only its parser build (below) is measured",
    )
    r.note(
        "masks, regex target",
        "a Python function grammar (nesting bounded) is regular, but as one regular "
        "expression it is far over the size limit: the regex target refuses the set",
    )
    runs = [lark_compile_s(texts["lark"], 60.0) for _ in range(1 if r.quick else 3)]
    built = [secs for secs in runs if secs is not None]
    d["lark_parser_build_s"] = runs
    if len(built) < len(runs):
        r.note("compile, lark package <- lark", "no parser after 60 s (timed out)")
    else:
        r.metric(
            "compile, lark package <- lark (parse only, no masks)",
            sorted(built)[len(built) // 2] * 1000,
            "ms",
            100,
            note=f"median of {len(runs)} builds, each in a fresh process (Earley with the "
            "dynamic lexer; no vocabulary involved); the lark package reads the grammar and "
            "builds the parser in pure Python",
        )
    r.details["engines"] = d


def bench_agreement(r: Report) -> None:
    from benchmarks.bench_engines import agreement, rates

    print("agreement", flush=True)
    if r.quick:
        tallies = agreement(set_names=["api_handler"], grammar_keys=["outlines-arithmetic"])
    else:
        tallies = agreement()
    r.details["agreement"] = [t.as_dict() for t in tallies]
    for t in tallies:
        if not t.compared:
            r.note(
                f"agreement, {t.target} read by {t.engine}",
                f"no strings compared: {t.refused} of {t.grammars + t.refused} grammars refused "
                "(not regular)"
                + (f"; engine errors: {'; '.join(t.errors[:2])}" if t.errors else ""),
            )
            continue
        excused = ", ".join(f"{k} {v}" for k, v in sorted(t.excused.items())) or "none"
        r.metric(
            f"agreement, {t.target} read by {t.engine}",
            100.0 * t.agreed / t.compared,
            "%",
            note=f"{t.compared} strings over {t.grammars} grammars; {t.agreed} agree; "
            f"excused: {excused}; unexcused {len(t.unexcused)}"
            + (f"; {t.refused} grammars refused (not regular)" if t.refused else "")
            + (f"; engine errors: {'; '.join(t.errors[:2])}" if t.errors else ""),
        )
    unexcused = sum(len(t.unexcused) for t in tallies)
    errors = sum(len(t.errors) for t in tallies)
    strict, after = rates(tallies)
    compared = sum(t.compared for t in tallies)
    r.metric(
        "agreement overall, strict",
        strict,
        "%",
        note=f"{compared} decisions; an excused disagreement counts as a disagreement",
    )
    r.metric(
        "agreement overall, after documented deviations",
        after,
        "%",
        100.0,
        higher_is_better=True,
    )
    r.metric(
        "unexcused disagreements",
        unexcused,
        "count",
        0.0,
        note=f"engine errors on printed grammars: {errors}"
        + (f"; first: {tallies_first(tallies)}" if unexcused else ""),
    )


def tallies_first(tallies: Any) -> str:
    return next((u for t in tallies for u in t.unexcused), "")


def bench_compose(r: Report) -> None:
    import math

    from benchmarks.bench_compose import compiled, count, generate, time_passes

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


def bench_arc_test(r: Report) -> None:
    from benchmarks.bench_arc_test import generate, run

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


# --- report ------------------------------------------------------------------------------


def render_md(r: Report, meta: dict[str, Any]) -> str:
    lines = [
        "# Ananke benchmark report",
        "",
        f"Generated {meta['date']} on {meta['machine']} ({meta['cpus']} CPUs), Python "
        f"{meta['python']}, llguidance {meta['llguidance']}"
        + (" — **quick mode** (small samples)." if r.quick else "."),
        "All figures of this report come from the same run; compare within one report.",
        "",
        "| metric | value | target | pass | note |",
        "|---|---|---|---|---|",
    ]
    for row in r.rows:
        target = (
            ""
            if row["target"] is None
            else f"{row['target_op']} {_fmt(row['target'], row['unit'])}"
        )
        status = "" if row["pass"] is None else ("pass" if row["pass"] else "**FAIL**")
        note = str(row["note"]).replace("|", "\\|").replace("\n", " ")
        value = _fmt(row["value"], row["unit"])
        lines.append(f"| {row['metric']} | {value} | {target} | {status} | {note} |")
    lines.append("")
    # What was tried to shape the grammar for llguidance is kept beside the runner and
    # goes into every report, so the figures and the history are read together.
    lines.append((HERE / "tried.md").read_text(encoding="utf-8"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small samples, for a smoke run")
    ap.add_argument("--out", type=Path, default=HERE, help="where to write report.json/.md")
    ap.add_argument(
        "--only",
        default="compile,version,automata,masks,soundness,emit,engines,agreement,compose,arc_test",
        help="comma-separated sections to run (compile, version, automata, masks, soundness, "
        "emit, engines, agreement, compose, arc_test)",
    )
    ap.add_argument(
        "--cache",
        type=Path,
        default=HERE / ".cache" / "bpe",
        help="where trained BPE vocabularies are kept",
    )
    args = ap.parse_args(argv)
    import llguidance
    from ananke.runtime.engines import llamacpp_version

    r = Report(args.quick)
    sections = set(args.only.split(","))
    t0 = time.perf_counter()
    if "compile" in sections:
        bench_compile(r)
    if "version" in sections:
        bench_version(r)
    if "automata" in sections:
        bench_automata(r)
    if "masks" in sections:
        bench_masks(r, args.cache)
    if "soundness" in sections:
        bench_soundness(r)
    if "emit" in sections:
        bench_emit(r)
    if "engines" in sections:
        bench_engines(r, args.cache)
    if "agreement" in sections:
        bench_agreement(r)
    if "compose" in sections:
        bench_compose(r)
    if "arc_test" in sections:
        bench_arc_test(r)
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
