"""Soundness of the emitted Python grammar on real code (issue section 6), on samples.

The full figures (every standard-library function) are in the benchmark report; this file
asserts the same properties on samples so the suite stays fast. Acceptance is exact: the
grammar emitted by ``lower`` + the llguidance backend, fed the function's bytes through a
byte-level tokenizer. Ground truth for ``forbid`` is ``benchmarks.soundness.forbidden_uses``,
which reads names and keywords with Python's ``ast`` and ``tokenize`` only: it shares no
code with the grammar or the post checks (``ananke.languages.validate``), which it judges.

Samples drawn at random (the three-way forbid test) take their seed from
``ANANKE_CORPUS_SEED`` when it is set, a new one otherwise; a failure names the seed.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import multiprocessing
import os
import random
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from ananke.backends import get_backend
from ananke.engines.acceptance import ByteMatcher, Verdict
from ananke.ir.constraint import ConstraintSet, Forbid, Limit, Module, SourceProvenance
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.lower import lower
from ananke.ir.source import Span
from ananke.languages.python.corpus import (
    FunctionSample,
    installed_functions,
    reindent,
    sample,
    stdlib_functions,
)
from ananke.languages.validate import check

from benchmarks.soundness import (
    FSTRING_FORBIDS,
    Checker,
    Use,
    forbid_soundness,
    forbidden_uses,
)
from tests.suite_helpers import require_module

FORBID = ("eval", "exec", "open", "print")
SEED = 20261125
PROV = SourceProvenance(
    span=Span(file="t.ariadne", start=0, end=1, line=1, column=1, end_line=1, end_column=2)
)


@functools.cache
def corpus() -> list[FunctionSample]:
    return stdlib_functions()


@functools.cache
def fixed_sample() -> list[FunctionSample]:
    return sample(corpus(), 400, seed=SEED)


def grammar(cset: ConstraintSet) -> str:
    (lowered,) = lower(Module(sets=(cset,)), target="llguidance", diags=Diagnostics())
    return get_backend("llguidance").emit(lowered.grammar)


@functools.cache
def matcher(kind: str, n: int = 0) -> ByteMatcher:
    if kind == "plain":
        cs = ConstraintSet(name="plain")
    elif kind == "forbid":
        cs = ConstraintSet(
            name="f",
            constraints=tuple(Forbid(id=f"f.forbid.{x}", provenance=PROV, name=x) for x in FORBID),
        )
    else:
        cs = ConstraintSet(
            name="m",
            constraints=(Limit(id="m.max_lines", provenance=PROV, metric="lines", max=n),),
        )
    return ByteMatcher(grammar(cs))


def cause(f: FunctionSample, text: str, v: Verdict) -> str:
    data = text.encode("utf-8")
    before = data[: v.offset].decode("utf-8", "replace")
    line_no = before.count("\n") + 1
    line = text.split("\n")[line_no - 1] if line_no <= text.count("\n") + 1 else ""
    err = v.error.splitlines()[0] if v.error else ""
    return f"{f.key} line {line_no}: {line.strip()[:60]!r}: {err[:100]}"


def rejections(kind: str, funcs: list[FunctionSample], unit: str | None = None) -> list[str]:
    m = matcher(kind)
    out = []
    for f in funcs:
        text = f.text if unit is None else reindent(f.text, unit)
        v = m.check(text)
        if not v.accepted:
            out.append(cause(f, text, v))
    return out


def may_use(text: str, names: tuple[str, ...]) -> bool:
    """False only where no use can be: ASCII text spells a name as itself."""
    return not text.isascii() or any(n in text for n in names)


def uses_forbidden(f: FunctionSample) -> bool:
    return may_use(f.text, FORBID) and bool(forbidden_uses(f.text, FORBID))


def test_the_fixed_sample_is_the_expected_size() -> None:
    assert len(corpus()) > 3000
    assert len(fixed_sample()) == 400


def test_unconstrained_grammar_accepts_every_sampled_function() -> None:
    bad = rejections("plain", fixed_sample())
    assert bad == [], f"{len(bad)} of 400 rejected:\n" + "\n".join(bad)


@pytest.mark.parametrize("unit", ["  ", "        ", "\t"], ids=["2 spaces", "8 spaces", "tabs"])
def test_unconstrained_grammar_accepts_reindented_functions(unit: str) -> None:
    funcs = sample(fixed_sample(), 60, seed=SEED + 1)
    bad = rejections("plain", funcs, unit)
    assert bad == [], "\n".join(bad)


def test_forbid_rejects_every_violator() -> None:
    violators = [f for f in corpus() if uses_forbidden(f)]
    violators = sample(violators, 150, seed=SEED)
    assert len(violators) == 150
    m = matcher("forbid")
    slipped = [f.key for f in violators if m.accepts(f.text)]
    assert slipped == []


def test_forbid_accepts_every_other_function() -> None:
    clean = [f for f in fixed_sample() if not uses_forbidden(f)]
    assert len(clean) > 300
    bad = rejections("forbid", clean)
    assert bad == [], "\n".join(bad)


# --- forbid over the whole corpus, against Python's ast -----------------------------------


def forbid_set(names: tuple[str, ...]) -> ConstraintSet:
    return ConstraintSet(
        name="f",
        constraints=tuple(Forbid(id=f"f.forbid.{x}", provenance=PROV, name=x) for x in names),
    )


def test_the_oracle_reads_uses_with_ast() -> None:
    code = (
        "def f(name, *, key=1):\n"
        "    import sys as type\n"
        "    from x.name import y\n"
        "    class C: pass\n"
        "    a = f'{x.name} {d[\"name\"]} {x:name} {name!r}'\n"
        "    return g(key=type)\n"
    )
    data = code.encode()
    uses = forbidden_uses(code, {"name", "key", "type", "C", "sys", "x", "y"})
    assert [(u.name, data[u.start : u.end].decode()) for u in uses if not u.in_fstring] == [
        ("name", "name"),
        ("key", "key"),
        ("sys", "sys as type"),
        ("type", "sys as type"),
        ("x", "from x.name import y"),
        ("y", "y"),
        ("C", "C"),
        ("key", "key=type"),
        ("type", "type"),
    ]
    fstring = "f'{x.name} {d[\"name\"]} {x:name} {name!r}'"
    inside = [(u.name, data[u.start : u.end].decode()) for u in uses if u.in_fstring]
    assert inside == [("x", fstring), ("x", fstring), ("name", fstring)]
    assert forbidden_uses("def f(x):\n    return x.eval + 'eval'  # eval\n", {"eval"}) == []
    assert forbidden_uses("def f():\n    return ｅval\n", {"eval"}) == [Use("eval", 20, 26)]


@pytest.mark.slow
@pytest.mark.parametrize("key", FSTRING_FORBIDS)
def test_forbid_over_the_whole_corpus(key: str) -> None:
    """The forbid grammar over every function of the corpus, one grammar built once: every
    function the oracle finds clean is accepted, every other one rejected at its first use
    (the lists forbid names that stand in many f-strings' fields, attributes and strings
    there)."""
    names = FSTRING_FORBIDS[key]
    with Checker({key: grammar(forbid_set(names))}) as ck:
        run = forbid_soundness(ck, key, corpus(), names)
    assert run.checked == len(corpus())
    assert run.clean_rejected == []
    assert run.violating_accepted == []
    assert run.misplaced == []
    assert run.clean > 2000 and run.violating > 300
    assert run.clean_with_fstrings > 100 and run.violating_in_fstrings > 0


def test_the_oracle_reads_keywords_where_python_writes_them() -> None:
    code = (
        "def f(x, _=1):\n"
        "    from . import y\n"
        "    z = f'{1 if x else None} {[a async for a in x if a is not y]}'\n"
        "    match x:\n"
        "        case case:\n"
        "            pass\n"
        "        case [_, *rest]:\n"
        "            pass\n"
        "    ｉｆ = lambda: (yield from x)\n"
        "    return x.if_ + 'if' + x.match  # if\n"
    )
    data = code.encode()
    words = {"if", "else", "None", "import", "from", "not", "is", "for", "in", "async"}
    words |= {"match", "case", "_", "lambda", "yield", "return", "pass", "rest"}

    def seen(u: Use) -> tuple[str, str]:
        return u.name, data[u.start : u.end].decode()

    fstring = "f'{1 if x else None} {[a async for a in x if a is not y]}'"
    uses = forbidden_uses(code, words)
    inside = sorted({u.name for u in uses if u.in_fstring})
    assert inside == ["None", "async", "else", "for", "if", "in", "is", "not"]
    assert {seen(u) for u in uses if u.in_fstring} == {(n, fstring) for n in inside}
    assert [seen(u) for u in uses if not u.in_fstring] == [
        ("_", "_"),  # a parameter
        ("from", "from"),
        ("import", "import"),  # after a dot, still the keyword
        ("match", "match"),
        ("case", "case"),  # the keyword
        ("case", "case"),  # a capture pattern named `case`
        ("pass", "pass"),
        ("case", "case"),
        ("_", "_"),  # the wildcard pattern
        ("rest", "*rest"),
        ("pass", "pass"),
        ("if", "ｉｆ"),  # the name `if` to Python, never the keyword
        ("lambda", "lambda"),
        ("yield", "yield"),
        ("from", "from"),
        ("return", "return"),
    ]


# --- forbid decided three ways: grammar, post check and Python's own reading -----------

ORACLE_FORBIDS = (
    *("if", "while", "lambda", "None", "import", "not", "match", "case", "_"),
    *("print", "len", "self", "eval", "os", "type"),
)
"""Keywords (statements, block openers, expression keywords), soft keywords, and names
common in code and in f-string fields; each forbidden on its own."""
THIRD_PARTY = ("lark", "click", "rich", "msgspec", "hypothesis", "syrupy")
"""Packages the dev extra installs, whose functions join the standard library's."""
PER_NAME = 40
"""Functions drawn per forbidden name and side (violating, clean); every violating function
whose first use is inside an f-string is checked too."""


@functools.cache
def corpus_seed() -> int:
    env = os.environ.get("ANANKE_CORPUS_SEED")
    return int(env) if env else random.randrange(2**32)


@functools.cache
def third_party() -> list[FunctionSample]:
    purelib = Path(sysconfig.get_paths()["purelib"])
    out: list[FunctionSample] = []
    for pkg in THIRD_PARTY:
        assert (purelib / pkg).is_dir(), f"{pkg} is installed with the dev extra"
        found = installed_functions(purelib / pkg)
        out += [dataclasses.replace(f, path=f"{pkg}/{f.path}") for f in found]
    return out


def _byte_offset(text: str, line: int, column: int) -> int:
    """The UTF-8 offset of a 1-based line and character column."""
    lines = text.split("\n")
    before = sum(len(x.encode()) + 1 for x in lines[: line - 1])
    return before + len(lines[line - 1][: column - 1].encode())


def _oracle(text: str) -> list[Use]:
    return forbidden_uses(text, ORACLE_FORBIDS)


def _reported(job: tuple[str, str]) -> list[int]:
    """The UTF-8 offsets of the uses of a name as written that the post check reports."""
    text, name = job
    report = check(text, forbid_set((name,)))
    return [
        _byte_offset(text, v.line, v.column)
        for v in report.violations
        if v.kind == "forbid" and v.text == name
    ]


@pytest.mark.slow
def test_forbid_agrees_with_pythons_own_reading_of_names_and_keywords() -> None:
    """For each name of :data:`ORACLE_FORBIDS` alone, on functions drawn from the standard
    library and third-party packages: the unconstrained grammar accepts every function;
    a function the oracle finds clean is accepted by the forbid grammar and the post
    check reports no use of the name; a function that uses it is rejected inside its
    first use (the first byte refused lies in that use: the name, the whole statement
    for an import, the whole f-string for a use in a replacement field), and the post
    check reports that use first. (The post check also reports uses through references,
    ``getattr(x, "print")``, which the grammar leaves open by design: those are not
    compared.)"""
    seed = corpus_seed()
    rng = random.Random(seed)
    funcs = corpus() + third_party()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        uses = pool.map(_oracle, [f.text for f in funcs], chunksize=64)
        picked: list[tuple[str, int]] = []
        for name in ORACLE_FORBIDS:
            firsts = [next((u for u in us if u.name == name), None) for us in uses]
            violating = [i for i, u in enumerate(firsts) if u is not None]
            clean = [i for i, u in enumerate(firsts) if u is None]
            in_fstrings = {i for i in violating if firsts[i].in_fstring}  # type: ignore[union-attr]
            chosen = set(rng.sample(violating, min(PER_NAME, len(violating))))
            chosen |= set(rng.sample(clean, PER_NAME)) | in_fstrings
            picked += [(name, i) for i in sorted(chosen)]
        reported = pool.map(_reported, [(funcs[i].text, name) for name, i in picked], chunksize=16)
    everything = sorted({i for _, i in picked})
    grammars = {name: grammar(forbid_set((name,))) for name in ORACLE_FORBIDS}
    grammars["plain"] = grammar(ConstraintSet(name="plain"))
    problems: list[str] = []
    counts = {"violating": 0, "clean": 0, "in_fstrings": 0}
    with Checker(grammars) as ck:
        plain = ck.run("plain", [funcs[i].text for i in everything])
        # Grouped by name (`picked` is), a chunk per name: each grammar warms in one worker.
        results = ck.run_jobs([(n, funcs[i].text) for n, i in picked], chunksize=2 * PER_NAME)
    verdicts = dict(zip(picked, results, strict=True))
    for i, (ok, offset, error) in zip(everything, plain, strict=True):
        if not ok:
            problems.append(f"unconstrained: {funcs[i].key} at byte {offset}: {error[:80]}")
    for (name, i), written in zip(picked, reported, strict=True):
        ok, offset, error = verdicts[(name, i)]
        f = funcs[i]
        mine = [u for u in uses[i] if u.name == name]
        where = f"forbid {name}: {f.key}"
        if not mine:
            counts["clean"] += 1
            if not ok:
                problems.append(f"{where}: clean, rejected at byte {offset}: {error[:80]}")
            if written:
                problems.append(f"{where}: clean, the post check reports bytes {written}")
            continue
        counts["violating"] += 1
        first = mine[0]
        counts["in_fstrings"] += first.in_fstring
        if ok:
            problems.append(f"{where}: accepted, uses it at {first}")
        elif not first.start <= offset <= min(u.end for u in mine):
            problems.append(f"{where}: rejected at byte {offset}, first use {first}")
        if not written:
            problems.append(f"{where}: the post check misses {first}")
        elif not first.start <= min(written) < first.end:
            problems.append(f"{where}: the post check reports byte {min(written)} first")
    assert problems == [], f"seed {seed} (ANANKE_CORPUS_SEED={seed} replays it):\n" + "\n".join(
        problems[:50]
    )
    assert counts["clean"] == PER_NAME * len(ORACLE_FORBIDS)
    assert counts["violating"] > 10 * PER_NAME
    assert counts["in_fstrings"] > 5


@pytest.mark.parametrize("n", [5, 20, 50])
def test_max_lines_accepts_every_function_within_the_bound(n: int) -> None:
    short = [f for f in fixed_sample() if f.lines <= n]
    assert short
    m = matcher("max_lines", n)
    bad = [f"{f.key} ({f.lines} lines)" for f in short if not m.accepts(f.text)]
    assert bad == []


# --- default parser limits with a realistic 128k vocabulary ----------------------------


@pytest.fixture(scope="module")
def bpe128k(request: pytest.FixtureRequest) -> Path:
    require_module("tokenizers")
    from ananke.engines.bpe import train_bpe

    return train_bpe(128000, Path(request.config.cache.mkdir("ananke-bpe")))


def consume_with_masks(grammar_text: str, tok: Any, ids: list[int]) -> str:
    """Compute the mask before every token (as a serving engine does); the first error."""
    import llguidance

    assert llguidance.LLMatcher.validate_grammar(grammar_text, tok) == ""
    m = llguidance.LLMatcher(tok, grammar_text, log_level=0)
    buf = (ctypes.c_uint32 * ((tok.vocab_size + 31) // 32))()
    for pos, tid in enumerate([*ids, tok.eos_token]):
        m.unsafe_compute_mask_ptr(ctypes.addressof(buf), ctypes.sizeof(buf))
        if m.is_error():
            return f"token {pos}: {m.get_error().splitlines()[0]}"
        if not (buf[tid >> 5] >> (tid & 31)) & 1:
            return f"token {pos}: {tok.decode_bytes([tid])!r} not allowed by the mask"
        if tid == tok.eos_token:
            return ""
        if not m.consume_token(tid):
            return f"token {pos}: {m.get_error().splitlines()[0]}"
    return ""


def test_default_limits_with_a_128k_vocabulary_on_long_functions(bpe128k: Path) -> None:
    from ananke.engines.bpe import hf_tokenizer, llg_tokenizer

    tok, hf = llg_tokenizer(bpe128k), hf_tokenizer(bpe128k)
    assert tok.vocab_size == 128000
    longest = sorted(corpus(), key=lambda f: len(f.text), reverse=True)[:2]
    funcs = longest + sample(fixed_sample(), 4, seed=SEED + 2)
    g = grammar(ConstraintSet(name="plain"))
    errors = []
    for f in funcs:
        err = consume_with_masks(g, tok, hf.encode(f.text).ids)
        if err:
            errors.append(f"{f.key}: {err}")
    assert errors == []
