"""Soundness of the Python grammars, measured on the standard library's functions.

Acceptance is exact: each function's bytes go through a byte-level tokenizer into an
llguidance matcher (``ananke.engines.acceptance.ByteMatcher``). Work is spread over a
process pool; every worker builds its matchers once.

Ground truth for ``forbid`` over the whole corpus (:func:`forbid_soundness`) is
:func:`forbidden_uses`, which reads names with Python's ``ast`` and ``tokenize`` only.
"""

from __future__ import annotations

import ast
import functools
import io
import keyword
import multiprocessing
import os
import time
import tokenize
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ananke.languages.python.corpus import FunctionSample

from ananke.engines.acceptance import ByteMatcher

from benchmarks.common import grammar_of_set, grammar_of_source, unconstrained_grammar
from benchmarks.reporting import Report

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
        return self.run_jobs([(key, t) for t in texts])

    def run_jobs(
        self, jobs: Sequence[tuple[str, str]], chunksize: int = 8
    ) -> list[tuple[bool, int, str]]:
        """``(grammar key, text)`` checks in order. With many grammars, jobs grouped by key
        and a chunk about one key's size keep each grammar warm in one worker only."""
        if self._pool is None:
            return [_check(j) for j in jobs]
        return list(self._pool.imap(_check, jobs, chunksize=chunksize))


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
    from ananke.ir.compose import compose
    from ananke.ir.diagnostics import Diagnostics
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
    from ananke.languages.validate import check

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


# --- forbid over the whole corpus, against an oracle of Python's own ----------------------

FSTRING_FORBIDS: dict[str, tuple[str, ...]] = {
    "fstring-names": ("eval", "exec", "name", "type"),
    "prefix-and-names": ("eval", "exec", "f", "key", "cls", "sys"),
}
"""Forbid lists for the whole-corpus check. ``name`` and ``type`` are the names most
standard-library functions use inside f-string fields (and ``.name`` is a common
attribute there); ``f`` is also a string prefix."""


@dataclass(frozen=True, slots=True)
class Use:
    """One use of a forbidden name: somewhere in the UTF-8 bytes ``start:end``."""

    name: str
    start: int
    end: int
    in_fstring: bool = False
    """Inside a replacement field: the range is then the whole f-string."""


def _expression_keywords(node: ast.AST) -> list[str]:
    """The keywords an expression node is written with (for replacement fields, which
    Python 3.11 reads as part of one ``STRING`` token)."""
    match node:
        case ast.IfExp():
            return ["if", "else"]
        case ast.comprehension(ifs=ifs, is_async=is_async):
            return ["for", "in", *(["if"] if ifs else []), *(["async"] if is_async else [])]
        case ast.Lambda():
            return ["lambda"]
        case ast.BoolOp(op=ast.And()):
            return ["and"]
        case ast.BoolOp(op=ast.Or()):
            return ["or"]
        case ast.UnaryOp(op=ast.Not()):
            return ["not"]
        case ast.Compare(ops=ops):
            words = {ast.In: ["in"], ast.NotIn: ["not", "in"], ast.Is: ["is"], ast.IsNot: ["is"]}
            return [w for op in ops for w in words.get(type(op), [])] + [
                "not" for op in ops if isinstance(op, ast.IsNot)
            ]
        case ast.Constant(value=None):
            return ["None"]
        case ast.Constant(value=bool() as b):
            return [str(b)]
        case ast.Yield():
            return ["yield"]
        case ast.YieldFrom():
            return ["yield", "from"]
        case ast.Await():
            return ["await"]
    return []


class _Uses(ast.NodeVisitor):
    def __init__(self, text: str, names: Collection[str]) -> None:
        self.text = text
        self.names = names
        self.line_starts = [0]
        for line in text.encode("utf-8").splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.lines = text.splitlines(keepends=True)
        self.fstring: tuple[int, int] | None = None
        self.found: list[Use] = []

    def offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col  # ast columns are UTF-8 byte offsets

    @functools.cached_property
    def tokens(self) -> list[tokenize.TokenInfo]:
        return list(tokenize.generate_tokens(io.StringIO(self.text).readline))

    def token_span(self, tok: tokenize.TokenInfo) -> tuple[int, int]:
        """A token's UTF-8 byte range (``tokenize`` columns count characters)."""
        (r1, c1), (r2, c2) = tok.start, tok.end
        return (
            self.offset(r1, len(self.lines[r1 - 1][:c1].encode("utf-8"))),
            self.offset(r2, len(self.lines[r2 - 1][:c2].encode("utf-8"))),
        )

    def hard_keywords(self) -> None:
        """Keywords are ``NAME`` tokens spelled exactly as one (Python never normalizes
        them); inside a 3.11 f-string they are found by the nodes of its fields."""
        if not any(keyword.iskeyword(n) for n in self.names):
            return
        for tok in self.tokens:
            if tok.type == tokenize.NAME and keyword.iskeyword(tok.string):
                self.add(tok.string, self.token_span(tok))

    def soft_keyword(self, word: str, start: int) -> None:
        self.add(word, (start, start + len(word)))

    def case_keyword(self, pattern: ast.pattern) -> None:
        """``case`` has no node: it is the last ``case`` token before the pattern."""
        at = self.offset(pattern.lineno, pattern.col_offset)
        spans = [
            self.token_span(t)
            for t in self.tokens
            if t.type == tokenize.NAME and t.string == "case"
        ]
        self.add("case", max(s for s in spans if s[0] < at))

    def span(self, node: Any) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),
            self.offset(node.end_lineno, node.end_col_offset),
        )

    def add(self, name: str | None, span: tuple[int, int]) -> None:
        if name is not None and name in self.names:
            self.found.append(Use(name, *(self.fstring or span), self.fstring is not None))

    def add_token(self, node: Any, name: str) -> None:
        """``name`` bound by a statement whose node has no position for it: the first
        NAME token at or after the statement's start that Python reads as it."""
        if name not in self.names:
            return
        at = self.offset(node.lineno, node.col_offset)
        for tok in self.tokens:
            span = self.token_span(tok)
            if (
                tok.type == tokenize.NAME
                and span[0] >= at
                and unicodedata.normalize("NFKC", tok.string) == name
            ):
                self.add(name, span)
                return
        raise AssertionError(f"no token {name!r} after line {node.lineno}")

    def generic_visit(self, node: ast.AST) -> None:
        outer = self.fstring
        if isinstance(node, ast.JoinedStr) and outer is None:
            # Python 3.11 places the nodes of replacement fields unreliably: a use inside
            # an f-string is somewhere in the whole (outermost) f-string.
            self.fstring = self.span(node)
        match node:
            case ast.Name(id=n) | ast.arg(arg=n) | ast.keyword(arg=n):
                self.add(n, self.span(node))
            case ast.alias(name=n, asname=a):
                self.add(n.split(".")[0], self.span(node))
                self.add(a, self.span(node))
            case ast.ImportFrom(module=str(m), level=0):
                self.add(m.split(".")[0], self.span(node))
            case ast.FunctionDef(name=n) | ast.AsyncFunctionDef(name=n) | ast.ClassDef(name=n):
                self.add_token(node, n)
            case ast.ExceptHandler(name=str(n)):
                self.add_token(node, n)
            case ast.Global(names=ns) | ast.Nonlocal(names=ns):
                for n in ns:
                    self.add_token(node, n)
            case ast.MatchAs(name=n) | ast.MatchStar(name=n) | ast.MatchMapping(rest=n):
                self.add(n, self.span(node))
            case ast.MatchClass(kwd_attrs=ns):
                for n in ns:
                    self.add(n, self.span(node))
        # Soft keywords where they are keywords; `_` is also the wildcard pattern.
        match node:
            case ast.Match(cases=cases):
                self.soft_keyword("match", self.span(node)[0])
                if "case" in self.names:
                    for c in cases:
                        self.case_keyword(c.pattern)
            case ast.MatchAs(pattern=None, name=None):
                self.add("_", self.span(node))
        if type(node).__name__ == "TypeAlias":  # Python 3.12: `type X = ...`
            self.soft_keyword("type", self.span(node)[0])
        if self.fstring is not None:
            for word in _expression_keywords(node):
                self.add(word, self.fstring)
        super().generic_visit(node)
        self.fstring = outer


def forbidden_uses(text: str, names: Collection[str]) -> list[Use]:
    """Every use of one of ``names`` in the Python source ``text``, by Python's ``ast``
    and ``tokenize``.

    A use is a name written bare where Python reads it as a name: a ``Name`` (load, store
    or delete), a parameter, a keyword argument, an import (``import a.b`` uses ``a``, an
    ``as`` name, ``from m import n`` uses ``n``, and ``m`` when the import is absolute),
    the name of a ``def`` or ``class``, ``except ... as n``, ``global``/``nonlocal``,
    and names in ``match`` patterns (captures, ``*rest``, ``**rest``, keyword patterns).
    Attributes are not uses, nor are words in strings, format specs and comments; the
    replacement fields of f-strings are code (``ast`` parses them). Identifiers are read
    after NFKC normalization, as Python reads them.

    A keyword is used wherever it is written: a ``NAME`` token spelled as the keyword
    (``from . import x`` uses ``import``), in replacement fields the nodes written with
    it (``IfExp`` uses ``if`` and ``else``). Soft keywords are uses of themselves where
    they are keywords: ``match`` and ``case`` of a ``match`` statement, ``_`` as the
    wildcard pattern, ``type`` of a type alias.
    """
    visitor = _Uses(text, names)
    visitor.visit(ast.parse(text))
    visitor.hard_keywords()
    return sorted(visitor.found, key=lambda u: (u.start, u.end))


@dataclass
class ForbidRun:
    """The forbid grammar of ``names`` over a corpus, against :func:`forbidden_uses`."""

    names: tuple[str, ...]
    checked: int = 0
    clean: int = 0
    clean_with_fstrings: int = 0
    """Clean functions that hold an f-string."""
    violating: int = 0
    violating_in_fstrings: int = 0
    """Violating functions whose first use is inside an f-string."""
    clean_rejected: list[str] = field(default_factory=list)
    violating_accepted: list[str] = field(default_factory=list)
    misplaced: list[str] = field(default_factory=list)
    """Violating functions rejected elsewhere than at their first use."""

    @property
    def violating_rejected(self) -> int:
        return self.violating - len(self.violating_accepted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "checked": self.checked,
            "clean": self.clean,
            "clean_with_fstrings": self.clean_with_fstrings,
            "clean_rejected": self.clean_rejected[:50],
            "violating": self.violating,
            "violating_in_fstrings": self.violating_in_fstrings,
            "violating_rejected": self.violating_rejected,
            "violating_accepted": self.violating_accepted[:50],
            "misplaced": self.misplaced[:50],
        }


def _has_fstring(text: str) -> bool:
    return any(isinstance(n, ast.JoinedStr) for n in ast.walk(ast.parse(text)))


def forbid_soundness(
    ck: Checker, key: str, funcs: Sequence[FunctionSample], names: tuple[str, ...]
) -> ForbidRun:
    """Run the grammar ``key`` of ``ck`` (``forbid: names``) over ``funcs``.

    A clean function (no use of ``names``) must be accepted; a violating one rejected at
    its first use: the first byte the grammar refuses lies in the byte range of the
    first use (``name`` refused at the byte after it, when it can no longer be a longer
    name), never before it nor after it.
    """
    run = ForbidRun(names)
    uses = [forbidden_uses(f.text, names) for f in funcs]
    results = ck.run(key, [f.text for f in funcs])
    for f, found, (ok, offset, error) in zip(funcs, uses, results, strict=True):
        run.checked += 1
        if not found:
            run.clean += 1
            run.clean_with_fstrings += _has_fstring(f.text)
            if not ok:
                run.clean_rejected.append(f"{f.key} at byte {offset}: {error[:80]}")
            continue
        run.violating += 1
        first = min(found, key=lambda u: u.start)
        run.violating_in_fstrings += first.in_fstring
        if ok:
            run.violating_accepted.append(f"{f.key}: {first.name}")
        elif not min(u.start for u in found) <= offset <= min(u.end for u in found):
            run.misplaced.append(f"{f.key}: rejected at byte {offset}, first use {found[0]}")
    return run


FORBID = ("eval", "exec", "open", "print")
FORBID_SOURCE = "constraint f { forbid: [" + ", ".join(f'"{n}"' for n in FORBID) + "]; }"
MAX_LINES_N = (5, 20, 50, 100)


def bench_soundness(r: Report) -> None:
    from ananke.languages.python.corpus import (
        installed_functions,
        reindent,
        sample,
        stdlib_functions,
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
    from ananke.engines.membership import get_engine
    from ananke.languages.python.corpus import sample

    engine = get_engine("llamacpp-gbnf")
    if not engine.available():
        r.note("llama.cpp soundness", "not installed (npm ci --prefix engines/llamacpp)")
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
