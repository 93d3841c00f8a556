"""Mask time per token: llguidance computing the allowed-token mask while consuming text.

For each text: a fresh ``LLMatcher`` (as a serving engine builds one per request), then for
every token of the text's BPE encoding, plus the final EOS: time the mask computation
alone (``unsafe_compute_mask_ptr`` into a preallocated buffer, which is what
``fill_next_token_bitmask`` does in vLLM), check that the next token is allowed by the
mask, and consume it. First visits of lexer states are included (every matcher is fresh).
"""

from __future__ import annotations

import ctypes
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import (
    EXAMPLE,
    adapted_for_api_handler,
    grammar_of_source,
    mask_functions,
    percentile,
    summary,
    unconstrained_grammar,
)
from benchmarks.reporting import Report


@dataclass
class MaskRun:
    times_ns: list[int] = field(default_factory=list)
    texts: int = 0
    texts_ok: int = 0
    errors: list[str] = field(default_factory=list)
    """One entry per text that failed: matcher error or a token the mask did not allow."""
    build_ns: list[int] = field(default_factory=list)
    """Time to construct each matcher (grammar compile), not part of the mask times."""

    @property
    def limit_errors(self) -> int:
        return sum(1 for e in self.errors if is_limit_error(e))


def short_error(message: str) -> str:
    """The first line of an llguidance error and the tokens it shows (no grammar dump)."""
    lines = message.splitlines()
    out = lines[0] if lines else ""
    tokens = next((ln for ln in lines if ln.startswith("Tokens:")), "")
    return f"{out} [{tokens[:160]}]" if tokens else out


def is_limit_error(message: str) -> bool:
    m = message.lower()
    return any(k in m for k in ("limit", "too many", "fuel", "max_items", "exceeded"))


def time_masks(
    grammar: str,
    tok: Any,
    encoded: Sequence[tuple[str, Sequence[int]]],
    *,
    limits: Any = None,
    keep_going: bool = False,
) -> MaskRun:
    """Time every mask while consuming each ``(label, token ids)`` of ``encoded``."""
    import llguidance

    n_words = (tok.vocab_size + 31) // 32
    buf = (ctypes.c_uint32 * n_words)()
    addr = ctypes.addressof(buf)
    size = ctypes.sizeof(buf)
    eos = tok.eos_token
    run = MaskRun()
    perf = time.perf_counter_ns
    for label, ids in encoded:
        run.texts += 1
        t0 = perf()
        m = llguidance.LLMatcher(tok, grammar, log_level=0, limits=limits)
        run.build_ns.append(perf() - t0)
        if m.is_error():
            run.errors.append(f"{label}: grammar: {short_error(m.get_error())}")
            if not keep_going:
                break
            continue
        ok = True
        for pos, tid in enumerate([*ids, eos]):
            t0 = perf()
            m.unsafe_compute_mask_ptr(addr, size)
            run.times_ns.append(perf() - t0)
            if m.is_error():
                run.errors.append(f"{label}: token {pos}: {short_error(m.get_error())}")
                ok = False
                break
            if not (buf[tid >> 5] >> (tid & 31)) & 1:
                run.errors.append(f"{label}: token {pos} ({tok.decode_bytes([tid])!r}) not in mask")
                ok = False
                break
            if tid == eos:
                break
            if not m.consume_token(tid):
                run.errors.append(
                    f"{label}: token {pos}: {short_error(m.get_error()) or 'rejected'}"
                )
                ok = False
                break
        if ok:
            run.texts_ok += 1
    return run


# --- the JSON baseline --------------------------------------------------------------------

JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "pattern": "^ORD-[0-9]{6}$"},
        "created_at": {"type": "string", "format": "date-time"},
        "status": {"enum": ["pending", "paid", "shipped", "delivered", "cancelled"]},
        "customer": {
            "type": "object",
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "name": {"type": "string", "maxLength": 200},
                "email": {"type": "string", "format": "email"},
                "vip": {"type": "boolean"},
            },
            "required": ["id", "name", "email"],
            "additionalProperties": False,
        },
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string"},
                    "title": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1},
                    "unit_price": {"type": "number", "minimum": 0},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["sku", "quantity", "unit_price"],
                "additionalProperties": False,
            },
        },
        "shipping": {
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "properties": {
                        "street": {"type": "string"},
                        "city": {"type": "string"},
                        "postcode": {"type": "string"},
                        "country": {"type": "string", "minLength": 2, "maxLength": 2},
                    },
                    "required": ["street", "city", "country"],
                    "additionalProperties": False,
                },
            ]
        },
        "notes": {"type": "string"},
    },
    "required": ["order_id", "status", "customer", "items"],
    "additionalProperties": False,
}


def json_documents(n: int = 20) -> list[str]:
    """``n`` realistic documents valid under :data:`JSON_SCHEMA`, indented as models write."""
    docs = []
    for i in range(n):
        doc: dict[str, Any] = {
            "order_id": f"ORD-{100000 + i * 7919:06d}",
            "created_at": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:15:30Z",
            "status": ["pending", "paid", "shipped", "delivered", "cancelled"][i % 5],
            "customer": {
                "id": 1000 + i,
                "name": ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"][i % 4],
                "email": f"customer{i}@example.com",
                "vip": i % 3 == 0,
            },
            "items": [
                {
                    "sku": f"SKU-{j:04d}-{i}",
                    "title": f"Widget model {j} with a longer description",
                    "quantity": 1 + (i + j) % 5,
                    "unit_price": round(9.99 + j * 3.5 + i * 0.25, 2),
                    "tags": ["hardware", "blue"][: 1 + j % 2],
                }
                for j in range(1 + i % 4)
            ],
            "shipping": None
            if i % 4 == 0
            else {
                "street": f"{10 + i} Main Street",
                "city": "Springfield",
                "postcode": f"{12345 + i}",
                "country": "US",
            },
        }
        if i % 2:
            doc["notes"] = "Leave at the front door, please. Ring twice."
        docs.append(json.dumps(doc, indent=2))
    return docs


def json_grammar() -> str:
    import llguidance

    return str(llguidance.LLMatcher.grammar_from_json_schema(JSON_SCHEMA))


def bench_masks(r: Report, cache: Path) -> None:
    from ananke.engines.bpe import hf_tokenizer, llg_tokenizer, train_bpe
    from ananke.languages.python.corpus import stdlib_functions

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
