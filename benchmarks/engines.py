"""Engines side by side: emit time per target, compile and mask time per engine with real
BPE tokenizers, and the agreement of the differential corpus.

- Emit: ``lower_for_target`` + ``emit`` of one constraint set, in process, warm.
- Compile: what a serving engine does when a request brings the grammar, with a real
  tokenizer. llguidance: ``LLMatcher`` construction (which validates the grammar; GBNF is
  first converted with ``grammar_from("gbnf", ...)``, timed with it). XGrammar:
  ``GrammarCompiler(...).compile_grammar(text)`` with the cache off; the ``TokenizerInfo``
  is built once per vocabulary and timed apart.
- Masks: XGrammar's ``fill_next_token_bitmask`` timed alone before each token (and the
  final stop token) of a text, then ``accept_token``; a fresh ``GrammarMatcher`` per text.
  llguidance's masks are timed by :func:`benchmarks.masks.time_masks`. llama.cpp: its grammar
  sampler over the whole vocabulary (:func:`llamacpp_masks_against_llguidance`), each mask
  compared with llguidance's.
- Agreement: the corpora and reading logic of the differential tests, counted instead of
  asserted.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ananke.engines.membership import get_engine, readers
from ananke.ir.constraint import Module
from ananke.ir.diagnostics import DiagnosticError, Diagnostics

from benchmarks.common import EXAMPLE, adapted_for_api_handler, mask_functions, summary
from benchmarks.masks import MaskRun
from benchmarks.reporting import Report

LLG_READERS: dict[str, tuple[str, str]] = {
    target: (target, get_engine(engine).format)
    for target in ("llguidance", "lark-vllm", "gbnf")
    for engine in readers(target)
    if get_engine(engine).package == "llguidance"
}
"""Label → (target whose output llguidance reads, the format llguidance reads it as)."""


# --- emit --------------------------------------------------------------------------------


def load_module(path: Path) -> Module:
    """The module of an Ariadne file that must compile cleanly."""
    from ananke.ariadne import compile_source, read_source

    diags = Diagnostics()
    src = read_source(path, diags)
    module = None if src is None else compile_source(src, diags)
    if module is None:
        raise ValueError(f"benchmark input does not compile: {path}")
    return module


def emit_text(module: Module, target: str) -> tuple[str | None, str]:
    """The text ``target`` emits for the module's first set, or None and why not (the
    diagnostics' codes and the first message)."""
    from ananke.pipeline import emit, lower_for_target

    diags = Diagnostics()
    try:
        lowered = lower_for_target(module, target, diags)
        if lowered is not None:
            return emit(lowered[0], target), ""
        found = list(diags)
    except DiagnosticError as e:
        found = list(e.diagnostics)
    codes = ", ".join(sorted({d.code for d in found}))
    first = found[0].message if found else "no output"
    return None, f"{codes}: {first}"


@dataclass
class EmitTiming:
    target: str
    times_ms: list[float] = field(default_factory=list)
    chars: int = 0
    refused: str = ""
    """Why the target cannot express the set (empty when it can)."""


def time_emit(module: Module, target: str, runs: int) -> EmitTiming:
    """``runs`` timings of lower + emit after one untimed run; no timings when refused."""
    text, why = emit_text(module, target)
    out = EmitTiming(target)
    if text is None:
        out.refused = why
        return out
    out.chars = len(text)
    for _ in range(runs):
        t = time.perf_counter()
        emit_text(module, target)
        out.times_ms.append((time.perf_counter() - t) * 1000)
    return out


# --- compile -----------------------------------------------------------------------------


def llg_grammar(fmt: str, text: str) -> str:
    """What ``LLMatcher`` reads for ``text`` in ``fmt`` ("lark" or "gbnf")."""
    import llguidance

    return text if fmt == "lark" else str(llguidance.grammar_from(fmt, text))  # type: ignore[arg-type]


def llg_compile_ms(tok: Any, fmt: str, text: str) -> float:
    """One compile of ``text`` with ``tok``: (GBNF conversion and) matcher construction."""
    import llguidance

    t = time.perf_counter()
    m = llguidance.LLMatcher(tok, llg_grammar(fmt, text), log_level=0)
    ms = (time.perf_counter() - t) * 1000
    if m.is_error():
        raise ValueError(f"llguidance refused the grammar: {m.get_error().splitlines()[0]}")
    return ms


def xgr_tokenizer_info(hf: Any) -> Any:
    """XGrammar's ``TokenizerInfo`` for a byte-level HF ``tokenizers.Tokenizer``.

    Built from the vocabulary in id order (byte-level encoded strings) and the EOS id; the
    same as ``TokenizerInfo.from_huggingface`` of the tokenizer wrapped in transformers'
    ``PreTrainedTokenizerFast``, without importing transformers.
    """
    import xgrammar

    vocab = hf.get_vocab()
    encoded = [""] * len(vocab)
    for piece, i in vocab.items():
        encoded[i] = piece
    eos = hf.token_to_id("<|endoftext|>")
    return xgrammar.TokenizerInfo(
        encoded, xgrammar.VocabType.BYTE_LEVEL, vocab_size=len(encoded), stop_token_ids=[eos]
    )


def xgr_compile(info: Any, text: str) -> tuple[Any, float]:
    """``text`` (XGrammar EBNF) compiled for ``info`` with no cache, and the time it took."""
    import xgrammar

    compiler = xgrammar.GrammarCompiler(info, cache_enabled=False)
    t = time.perf_counter()
    compiled = compiler.compile_grammar(text)
    return compiled, (time.perf_counter() - t) * 1000


def xgr_recompile_ms(info: Any, text: str, runs: int) -> list[float]:
    """``text`` compiled again ``runs`` times by one compiler with XGrammar's cache on, as
    vLLM's xgrammar backend runs it (the first, uncounted compile fills the cache)."""
    import xgrammar

    compiler = xgrammar.GrammarCompiler(info, cache_enabled=True)
    compiler.compile_grammar(text)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        compiler.compile_grammar(text)
        times.append((time.perf_counter() - t) * 1000)
    return times


def _within_budget(
    encoded: Sequence[tuple[str, Sequence[int]]], budget_s: float | None, run: MaskRun
) -> Iterator[tuple[str, Sequence[int]]]:
    """The texts of ``encoded`` that start within ``budget_s`` seconds of the first (all
    of them for None), each counted in ``run.texts``."""
    start = time.perf_counter()
    for label, ids in encoded:
        if budget_s is not None and time.perf_counter() - start > budget_s:
            return
        run.texts += 1
        yield label, ids


def xgr_time_masks(
    compiled: Any,
    vocab_size: int,
    eos: int,
    encoded: Sequence[tuple[str, Sequence[int]]],
    *,
    budget_s: float | None = None,
) -> MaskRun:
    """XGrammar's mask time for every token of each text of ``encoded`` and its stop token.

    A text that starts once ``budget_s`` seconds have passed is not measured; ``texts``
    counts only the measured ones.
    """
    import xgrammar

    bitmask = xgrammar.allocate_token_bitmask(1, vocab_size)
    words = bitmask.numpy()[0]  # shares memory with the tensor
    run = MaskRun()
    perf = time.perf_counter_ns
    for label, ids in _within_budget(encoded, budget_s, run):
        t0 = perf()
        m = xgrammar.GrammarMatcher(compiled)
        run.build_ns.append(perf() - t0)
        ok = True
        for pos, tid in enumerate([*ids, eos]):
            t0 = perf()
            m.fill_next_token_bitmask(bitmask)
            run.times_ns.append(perf() - t0)
            if not (int(words[tid >> 5]) >> (tid & 31)) & 1:
                run.errors.append(f"{label}: token {pos} ({tid}) not in mask")
                ok = False
                break
            if not m.accept_token(tid):
                run.errors.append(f"{label}: token {pos} ({tid}) rejected")
                ok = False
                break
        if ok and not m.is_terminated():
            run.errors.append(f"{label}: not terminated after the stop token")
            ok = False
        if ok:
            run.texts_ok += 1
    return run


@dataclass
class LlamaMaskRun(MaskRun):
    """llama.cpp's masks along texts, each compared with llguidance's at the same token."""

    check_ns: list[int] = field(default_factory=list)
    """llama.cpp's check of the text's own next token alone (its sampler's first step)."""
    masks: int = 0
    differences: list[str] = field(default_factory=list)
    """One entry per mask that differs from llguidance's (at most ten kept)."""
    differing: int = 0


def llamacpp_masks_against_llguidance(
    vocab: Any,
    gbnf: str,
    tok: Any,
    lark: str,
    encoded: Sequence[tuple[str, Sequence[int]]],
    *,
    budget_s: float | None = None,
) -> LlamaMaskRun:
    """llama.cpp's grammar sampler (``vocab``: a :class:`LlamaVocab`) reading ``gbnf``
    beside llguidance (``tok``) reading ``lark``, along every token of each text and the
    end of sequence.

    Timed: the whole-vocabulary mask (``llama_sampler_apply`` over every token, what
    llama.cpp does when the sampled token is not allowed) and the check of the next token
    alone. The grammar is parsed once; each text starts from a copy. Compared: the two
    masks, over the whole vocabulary. A text that starts after ``budget_s`` seconds is not
    measured.
    """
    import llguidance
    import numpy as np

    n = vocab.n_tokens
    words = np.zeros((n + 31) // 32, dtype=np.uint32)
    base = vocab.grammar(gbnf)
    run = LlamaMaskRun()
    perf = time.perf_counter_ns
    for label, ids in _within_budget(encoded, budget_s, run):
        t0 = perf()
        llama = base.clone()
        run.build_ns.append(perf() - t0)
        llg = llguidance.LLMatcher(tok, lark, log_level=0)
        ok = True
        for pos, tid in enumerate([*ids, vocab.eos]):
            t0 = perf()
            allowed = llama.allows(tid)
            run.check_ns.append(perf() - t0)
            t0 = perf()
            mask = llama.mask()
            run.times_ns.append(perf() - t0)
            llg.unsafe_compute_mask_ptr(words.ctypes.data, words.nbytes)
            theirs = np.unpackbits(words.view(np.uint8), bitorder="little")[:n].astype(bool)
            run.masks += 1
            if not np.array_equal(mask, theirs):
                run.differing += 1
                if len(run.differences) < 10:
                    only = [vocab.piece(int(i)) for i in np.nonzero(mask & ~theirs)[0][:4]]
                    not_ = [vocab.piece(int(i)) for i in np.nonzero(theirs & ~mask)[0][:4]]
                    run.differences.append(
                        f"{label}: token {pos}: llama.cpp alone allows {only}, "
                        f"llguidance alone {not_}"
                    )
            if not (allowed and mask[tid]):
                run.errors.append(f"{label}: token {pos} ({vocab.piece(tid)!r}) not allowed")
                ok = False
                break
            if tid != vocab.eos:
                llama.accept(tid)
                llg.consume_token(tid)
        if ok:
            run.texts_ok += 1
        llama.close()
    base.close()
    return run


def llamacpp_engine_run(
    library: Path,
    tokenizer_json: Path,
    cache: Path,
    texts: dict[str, str],
    tok: Any,
    encoded: Sequence[tuple[str, Sequence[int]]],
    runs: int,
    budget_s: float,
) -> dict[str, Any]:
    """llama.cpp's row for one vocabulary: grammar sampler construction (parse and first
    stacks) ``runs`` times, then :func:`llamacpp_masks_against_llguidance` on the gbnf
    target beside llguidance on the llguidance target."""
    from ananke.engines.llamacpp_sampler import LlamaVocab, vocab_gguf

    with LlamaVocab(library, vocab_gguf(tokenizer_json, cache)) as vocab:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            vocab.grammar(texts["gbnf"]).close()
            times.append((time.perf_counter() - t) * 1000)
        run = llamacpp_masks_against_llguidance(
            vocab, texts["gbnf"], tok, texts["llguidance"], encoded, budget_s=budget_s
        )
    return {
        "compile_ms": summary(times),
        "mask_us": summary([x / 1000 for x in run.times_ns]),
        "check_us": summary([x / 1000 for x in run.check_ns]),
        "texts": run.texts,
        "texts_ok": run.texts_ok,
        "errors": run.errors[:10],
        "masks": run.masks,
        "masks_equal": run.masks - run.differing,
        "differences": run.differences,
    }


def lark_compile_s(text: str, timeout_s: float) -> float | None:
    """Seconds the lark package (Earley, dynamic lexer, as the ``lark`` engine builds it)
    takes to build a parser for ``text``, in a fresh process; None past ``timeout_s``."""
    code = (
        "import sys, time\n"
        "from ananke.engines.membership import get_engine\n"
        "text = sys.stdin.read()\n"
        "t = time.perf_counter()\n"
        "get_engine('lark').compile(text)\n"
        "print(time.perf_counter() - t)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=text,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.split()[-1])


# --- agreement ---------------------------------------------------------------------------


@dataclass
class Tally:
    """Decisions of one (target, engine) pair compared with the reference's."""

    target: str
    engine: str
    compared: int = 0
    agreed: int = 0
    excused: Counter[str] = field(default_factory=Counter)
    """Disagreements excused, by the name of the first deviation that applies."""
    unexcused: list[str] = field(default_factory=list)
    """One line per disagreement no documented deviation excuses."""
    grammars: int = 0
    refused: int = 0
    """Grammars the target refused (only the regex target may: not regular)."""
    errors: list[str] = field(default_factory=list)
    """Engine refusals of a printed grammar (a failure of the differential tests)."""

    def add(
        self,
        reference: Callable[[str], bool],
        other: Callable[[str], bool],
        strings: Iterable[str],
        deviations: Sequence[Any],
    ) -> None:
        """Compare ``other`` with ``reference`` on ``strings``; ``deviations`` are the
        :class:`ananke.engines.membership.Deviation` that may excuse a disagreement."""
        self.grammars += 1
        for s in strings:
            self.compared += 1
            expected, got = reference(s), other(s)
            if got == expected:
                self.agreed += 1
                continue
            excuse = next((d.name for d in deviations if d.applies(s)), None)
            if excuse is not None:
                self.excused[excuse] += 1
            else:
                verb = "accepts" if got else "rejects"
                self.unexcused.append(f"{self.engine} {verb} {s[:80]!r}, the reference does not")

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "engine": self.engine,
            "grammars": self.grammars,
            "refused": self.refused,
            "compared": self.compared,
            "agreed": self.agreed,
            "excused": dict(self.excused),
            "unexcused": len(self.unexcused),
            "unexcused_examples": self.unexcused[:10],
            "errors": self.errors[:10],
        }


def _differential_modules() -> tuple[Any, Any]:
    from tests.differential import test_compiled_examples, test_imported_grammars

    return test_compiled_examples, test_imported_grammars


def agreement(
    *, set_names: Sequence[str] | None = None, grammar_keys: Sequence[str] | None = None
) -> list[Tally]:
    """Tallies per (target, engine) over the differential corpora: the example sets of
    ``test_compiled_examples`` and the imported grammars of ``test_imported_grammars``
    (all of them by default; ``set_names`` / ``grammar_keys`` pick some)."""
    import importlib

    from ananke.backends import get_backend
    from ananke.engines.membership import EngineError

    tce, tig = _differential_modules()
    from tests.differential.harness import deviations_of

    tallies: dict[tuple[str, str], Tally] = {}

    def tally(target: str, engine: str) -> Tally:
        return tallies.setdefault((target, engine), Tally(target, engine))

    for set_name in sorted(tce.MODULES) if set_names is None else set_names:
        reference = tce._reference(set_name)
        corpus = tce._corpus(set_name)
        for target, engine in tce.PAIRS:
            t = tally(target, engine)
            try:
                other = get_engine(engine).compile(tce._text(set_name, target))
            except EngineError as e:
                t.errors.append(f"{set_name}: {e.message.splitlines()[0]}")
                continue
            module = importlib.import_module(type(get_backend(target)).__module__)
            t.add(reference.accepts, other.accepts, corpus, deviations_of(module))

    keys = [k for k in sorted(tig.SOURCES) if tig.SOURCES[k] is not None]
    for key in keys if grammar_keys is None else grammar_keys:
        reference = tig._reference(key)
        corpus = tig._corpus(key)
        for target in sorted(tig.READERS):
            text, _ = tig._printed(key, target)
            if target == "regex" and text is not None:
                text = text.removesuffix("\n")
            for engine in tig.READERS[target]:
                t = tally(target, engine)
                if text is None:
                    t.refused += 1
                    continue
                try:
                    other = get_engine(engine).compile(text)
                except EngineError as e:
                    t.errors.append(f"{key}: {e.message.splitlines()[0]}")
                    continue
                devs = tig._deviations(key, target, engine, reference)
                t.add(reference.accepts, other.accepts, corpus, devs)
    return sorted(tallies.values(), key=lambda t: (t.target, t.engine))


def rates(tallies: Sequence[Tally]) -> tuple[float, float]:
    """Overall agreement in % (strict: an excused disagreement counts as one) and after the
    documented deviations."""
    compared = sum(t.compared for t in tallies)
    if not compared:
        return float("nan"), float("nan")
    agreed = sum(t.agreed for t in tallies)
    excused = sum(sum(t.excused.values()) for t in tallies)
    return 100.0 * agreed / compared, 100.0 * (agreed + excused) / compared


def bench_emit(r: Report) -> None:
    from ananke.backends import target_names

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
    from ananke.engines.bpe import hf_tokenizer, llg_tokenizer, train_bpe
    from ananke.engines.llamacpp_sampler import library_path
    from ananke.engines.membership import (
        LlamaCppCompiled,
        get_engine,
        llamacpp_modules,
        llamacpp_version,
    )

    from benchmarks.masks import time_masks

    print("engines", flush=True)
    module = load_module(EXAMPLE)
    texts = {}
    for target in ("llguidance", "lark-vllm", "gbnf", "xgrammar", "lark"):
        text, why = emit_text(module, target)
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
        r.note("masks, llama.cpp <- gbnf", "not installed (npm ci --prefix engines/llamacpp)")
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
        r.note("compile, llama.cpp <- gbnf", "not installed (npm ci --prefix engines/llamacpp)")
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
