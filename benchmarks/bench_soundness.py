"""Soundness of the Python grammars, measured on the standard library's functions.

Acceptance is exact: each function's bytes go through a byte-level tokenizer into an
llguidance matcher (``ananke.runtime.acceptance.ByteMatcher``). Work is spread over a
process pool; every worker builds its matchers once.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import tokenize
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ananke.runtime.acceptance import ByteMatcher

_MATCHERS: dict[str, ByteMatcher] = {}
_GRAMMARS: dict[str, str] = {}


def _init(grammars: dict[str, str]) -> None:
    _GRAMMARS.clear()
    _GRAMMARS.update(grammars)
    _MATCHERS.clear()


def _check(job: tuple[str, str]) -> tuple[bool, int, str]:
    key, text = job
    m = _MATCHERS.get(key)
    if m is None:
        m = _MATCHERS[key] = ByteMatcher(_GRAMMARS[key])
    v = m.check(text)
    first = v.error.splitlines()[0] if v.error else ""
    return v.accepted, v.offset, first


class Checker:
    """Runs acceptance checks of many texts against named grammars, in parallel."""

    def __init__(self, grammars: dict[str, str], processes: int | None = None) -> None:
        self.grammars = grammars
        self.processes = processes or min(2, os.cpu_count() or 1)
        self._pool: Any = None

    def __enter__(self) -> Checker:
        if self.processes > 1:
            ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
            self._pool = ctx.Pool(self.processes, initializer=_init, initargs=(self.grammars,))
        else:
            _init(self.grammars)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()

    def run(self, key: str, texts: Sequence[str]) -> list[tuple[bool, int, str]]:
        jobs = [(key, t) for t in texts]
        if self._pool is None:
            return [_check(j) for j in jobs]
        return list(self._pool.imap(_check, jobs, chunksize=8))


def classify(text: str, offset: int, error: str) -> str:
    """A short cause for a rejection: the kind of error and the token where it happened."""
    low = error.lower()
    if any(k in low for k in ("limit", "too many", "fuel")):
        return f"parser limit: {error[:80]}"
    if offset >= len(text.encode("utf-8")):
        return "end of input: grammar incomplete"
    char_offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
    line_no = text.count("\n", 0, char_offset) + 1
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            (sl, sc), (el, ec) = tok.start, tok.end
            if (sl, sc) <= (line_no, _col(text, char_offset)) < (el, ec) or (
                tok.type in (tokenize.NEWLINE, tokenize.NL)
                and sl == line_no
                and sc >= _col(text, char_offset)
            ):
                kind = tokenize.tok_name[tok.exact_type]
                s = tok.string if len(tok.string) <= 12 else tok.string[:10] + ".."
                return f"rejected in {kind} {s!r}"
    except (tokenize.TokenError, SyntaxError):
        pass
    return "rejected between tokens (whitespace/indentation)"


def _col(text: str, char_offset: int) -> int:
    return char_offset - (text.rfind("\n", 0, char_offset) + 1)


def causes(texts: Sequence[str], results: Sequence[tuple[bool, int, str]]) -> dict[str, int]:
    c: Counter[str] = Counter()
    for t, (ok, off, err) in zip(texts, results, strict=True):
        if not ok:
            c[classify(t, off, err)] += 1
    return dict(c.most_common())


def composed_set(text: str, name: str) -> Any:
    """The constraint set ``name`` of Ariadne ``text`` once composed (its parents inlined)."""
    from ananke.ariadne import compile_source
    from ananke.ir.diagnostics import Diagnostics
    from ananke.ir.passes import compose
    from ananke.ir.source import SourceFile

    diags = Diagnostics()
    module = compile_source(SourceFile("bench.ariadne", text), diags)
    module = compose(module, diags) if module is not None else None
    cset = module.get_set(name) if module is not None else None
    if cset is None or diags.has_errors:
        raise ValueError(f"benchmark source does not compose: {[d.message for d in diags]}")
    return cset


NO_DYNAMIC_CODE = "import std.python;\nconstraint n extends std.python.no_dynamic_code {}\n"


def no_dynamic_code_cost(
    texts: Sequence[str], keys: Sequence[str], results: Sequence[tuple[bool, int, str]], cset: Any
) -> dict[str, Any]:
    """What ``std.python.no_dynamic_code`` costs on real functions: those its grammar rejects
    (``results``, from the real matcher), counted under every plain forbidden name they
    use, and those the check after generation then reports, under every forbidden name;
    also every finding made through a reference (an alias, a constant string), to review
    for false positives (by the validator's reading)."""
    from ananke.ir.constraint import Forbid
    from ananke.runtime.validate import check

    names = {c.id: c.name for c in cset.constraints if isinstance(c, Forbid)}
    grammar: Counter[str] = Counter()
    post: Counter[str] = Counter()
    through: list[dict[str, Any]] = []
    g_rejected = p_rejected = 0
    unexplained: list[str] = []
    for text, key, (ok, _, _) in zip(texts, keys, results, strict=True):
        report = check(text, cset)
        found = sorted({names.get(v.constraint_id, v.kind) for v in report.violations})
        for v in report.violations:
            n = names.get(v.constraint_id)
            if n is not None and v.text not in (n, n.lstrip(".")):
                through.append({"function": key, "name": n, "text": v.text, "line": v.line})
        if not ok:
            g_rejected += 1
            # The grammar rejects plain names only: a rejection it cannot account for
            # would be a fault of the grammar.
            plain = [n for n in found if "." not in n]
            grammar.update(plain)
            if not plain:
                unexplained.append(key)
        elif found:
            p_rejected += 1
            post.update(found)
    return {
        "functions": len(texts),
        "grammar_rejected": g_rejected,
        "grammar_by_name": dict(grammar.most_common()),
        "grammar_unexplained": unexplained[:50],
        "post_rejected": p_rejected,
        "post_by_name": dict(post.most_common()),
        "reported_through_references": through,
    }
