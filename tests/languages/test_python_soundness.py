"""Soundness of the emitted Python grammar on real code (issue section 6), on fixed samples.

The full figures (every standard-library function) are in the benchmark report; this file
asserts the same properties on a fixed sample so the suite stays fast. Acceptance is exact:
the grammar emitted by ``lower`` + the llguidance backend, fed the function's bytes through
a byte-level tokenizer. Ground truth for ``forbid`` is ``ananke.runtime.validate``, which
reads names with Python's ``tokenize``.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from pathlib import Path
from typing import Any

import pytest
from ananke.backends import get_backend
from ananke.ir.constraint import ConstraintSet, Forbid, Limit, Module, SourceProvenance
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.passes import lower
from ananke.ir.source import Span
from ananke.languages.python.corpus import FunctionSample, reindent, sample, stdlib_functions
from ananke.runtime.acceptance import ByteMatcher, Verdict
from ananke.runtime.validate import name_uses
from suite_helpers import require_module

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_soundness import (
    FSTRING_FORBIDS,
    Checker,
    Use,
    forbid_soundness,
    forbidden_uses,
)

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


def uses_forbidden(f: FunctionSample) -> bool:
    return any(u.name in FORBID for u in name_uses(f.text))


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
    from ananke.runtime.bpe import train_bpe

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
    from ananke.runtime.bpe import hf_tokenizer, llg_tokenizer

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
