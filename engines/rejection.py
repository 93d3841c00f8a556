"""The rejection explainer: where a grammar rejects a text, and which constraint made it.

llguidance says only that a byte "doesn't satisfy the grammar". :func:`explain_rejection`
finds out why, by asking the same engine about grammars lowered with less:

1. The reference grammar (llguidance's semantics) gives the first byte it cannot take.
2. The grammar lowered with every token-level constraint left out (the language alone)
   is tried. Leaving constraints out only widens the language, so this grammar fails at
   the same byte or later; at the same byte, the language itself rejects the text
   (``syntax``).
3. Otherwise each token-level constraint is left out alone; the one whose absence lets the
   text past that byte is the cause (when none does alone, the smallest set that does).
   The grammar rule being matched there is the rule lowered from it (``Rule.origins``);
   when there are several, the one whose version without it, swapped in alone, lets the
   text past the byte.

The answer is exact about the engine, not a guess from the text: a constraint is blamed
only when the engine, without it, takes the byte. The offending text and its position
come from the post checks of that constraint (``eval`` at 3:12), which read the code as
Python does; where they find nothing, the explanation points at the byte itself.

Grammars are cached by their text for the whole process, so the language-only grammar is
built once however many sets and texts are explained.
"""

from __future__ import annotations

import ast
import functools
import io
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field

from ananke.engines.acceptance import ByteMatcher, Verdict
from ananke.ir.compose.describe import where
from ananke.ir.constraint import (
    ConstraintSet,
    OutputGrammar,
    Schema,
    property_of,
)
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Grammar, Rule, refs
from ananke.ir.plan import Lowered
from ananke.languages.validate import Violation, check

__all__ = ["Rejection", "explain_rejection", "matcher_for", "position_of", "unexplained"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a grammar rejected a text.

    ``offset`` is the byte offset of the first byte the grammar cannot take (the text's
    length when it ended too early); ``line``/``column`` (1-based, columns in code points)
    are that byte's position. ``constraint_ids`` are the constraints that reject it (empty:
    the language itself does, ``syntax``), ``rule`` the grammar rule lowered from them that
    is being matched there. ``culprit`` is the offending text where one can be named, at
    ``culprit_line``/``culprit_column``.
    """

    offset: int
    line: int
    column: int
    message: str
    constraint_ids: tuple[str, ...] = ()
    rule: str | None = None
    culprit: str = ""
    culprit_line: int = 0
    culprit_column: int = 0
    engine_error: str = ""
    notes: tuple[str, ...] = field(default=())
    explained: bool = True
    """False for :func:`unexplained`: where, without asking why."""

    @property
    def by_language(self) -> bool:
        return self.explained and not self.constraint_ids


@functools.lru_cache(maxsize=256)
def matcher_for(grammar_text: str, *, validate: bool = True) -> ByteMatcher:
    """llguidance's byte-level matcher of a grammar, cached by the grammar's text."""
    return ByteMatcher(grammar_text, validate=validate)


def position_of(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column in code points) of the byte at ``offset`` of ``text``'s UTF-8
    encoding (just past the end for ``len``)."""
    before = text.encode("utf-8")[:offset].decode("utf-8", errors="ignore")
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


@functools.lru_cache(maxsize=1024)
def _lower(
    cset: ConstraintSet,
    schemas: tuple[Schema, ...],
    leave_out: frozenset[str],
    max_nesting: int | None,
) -> Grammar:
    """The reference grammar of ``cset`` lowered without ``leave_out`` (cached: several
    texts of one set are explained with the same variants)."""
    from ananke.ir.lower import LowerToGrammar

    demote = dict.fromkeys(sorted(leave_out), "left out to explain a rejection")
    low = LowerToGrammar(max_nesting=max_nesting, demote=demote).lower_set(
        cset, Diagnostics(), schemas
    )
    return low.grammar


def _text_of(grammar: Grammar) -> str:
    from ananke.backends import get_backend

    return get_backend("llguidance").emit(grammar)


def _takes(grammar: Grammar, text: str, at: int) -> bool:
    """Whether the reference engine, with ``grammar``, takes every byte of ``text`` up to
    and including the one at ``at``. Only those bytes are fed: what follows cannot change
    it. These grammars are variants of one llguidance has validated: not validated again."""
    prefix = text.encode("utf-8")[: at + 1]
    verdict = matcher_for(_text_of(grammar), validate=False).check(prefix)
    return verdict.accepted or verdict.offset > at


def explain_rejection(
    text: str,
    cset: ConstraintSet,
    lowered: Lowered,
    verdict: Verdict,
    *,
    schemas: Sequence[Schema] = (),
    max_nesting: int | None = None,
    name_rule: bool = True,
    violations: Sequence[Violation] | None = None,
) -> Rejection:
    """Why ``lowered``'s grammar (llguidance's, for ``cset``) rejected ``text`` with
    ``verdict``; see the module docstring. ``name_rule=False`` skips naming the grammar
    rule (it may take building another grammar) when only the constraints matter.
    ``violations`` are the post checks' findings on ``text`` when the caller has them."""
    at = verdict.offset
    line, column = position_of(text, at)
    everything = [c.id for c in cset.constraints]
    schemas = tuple(schemas)
    bound = _nesting_bound(text, cset, max_nesting)

    def passes_without(ids: Sequence[str]) -> bool:
        return _takes(_lower(cset, schemas, frozenset(ids), bound), text, at)

    # The constraint the post checks find broken nearest before the byte is tried first:
    # usually it is the cause, and nothing else needs building.
    found = check(text, cset).violations if violations is None else violations
    hinted = _hints(found, cset, line, column)
    culprits = [cid for cid in hinted[:1] if passes_without([cid])]
    if not culprits and everything and passes_without(everything):
        # Some constraints reject it: the smallest set of them whose absence lets the
        # text past, found by leaving each out of the whole set and putting back the
        # ones that are not needed.
        culprits = list(everything)
        for cid in [x for x in everything if x not in hinted] + hinted[::-1]:
            rest = [x for x in culprits if x != cid]
            if rest and passes_without(rest):
                culprits = rest
    if not culprits and cset.of_kind(OutputGrammar):
        # A string of a given grammar: that grammar is the language, and its constraint
        # is what rejects (leaving it out leaves no language to compare with).
        culprits = [cset.of_kind(OutputGrammar)[0].id]
    if not culprits:
        return _by_language(text, cset, lowered, verdict, line, column)
    rule = _rule(cset, schemas, culprits, text, at, bound) if name_rule else None
    return _by_constraints(found, cset, verdict, culprits, rule, line, column)


def unexplained(text: str, verdict: Verdict) -> Rejection:
    """Where the grammar rejected ``text``, without asking why (no grammar is built)."""
    line, column = position_of(text, verdict.offset)
    return Rejection(
        offset=verdict.offset,
        line=line,
        column=column,
        message=f"the first byte it cannot take is at {line}:{column}",
        engine_error=verdict.error,
        explained=False,
    )


def _hints(found: Sequence[Violation], cset: ConstraintSet, line: int, column: int) -> list[str]:
    """Constraints the post checks find broken (``found``) at or before (line, column), the
    nearest first."""
    before = sorted(
        (v for v in found if (v.line, v.column) <= (line, column)),
        key=lambda v: (v.line, v.column),
        reverse=True,
    )
    ids = {c.id for c in cset.constraints}
    return list(dict.fromkeys(v.constraint_id for v in before if v.constraint_id in ids))


def _nesting_bound(text: str, cset: ConstraintSet, max_nesting: int | None) -> int | None:
    """The smallest block nesting bound that reads ``text`` as the full bound does: one
    more than the deepest indentation Python's tokenizer finds in it, when that is below
    ``max_nesting`` (the grammars are smaller, and faster to build).

    Why it answers alike: a grammar with a smaller bound accepts a subset of the strings,
    so it never takes a byte the full one does not; and a prefix that nests at most that
    deep can always be completed by closing its blocks, so it never refuses one either.
    None (the full bound) when the text does not tokenize or is no Python function."""
    from ananke.languages.python.grammar import MAX_NESTING

    full = MAX_NESTING if max_nesting is None else max_nesting
    if cset.language != "python":
        return max_nesting
    depth = deepest = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.INDENT:
                depth += 1
                deepest = max(deepest, depth)
            elif tok.type == tokenize.DEDENT:
                depth -= 1
    except (tokenize.TokenError, SyntaxError):
        return max_nesting
    return deepest + 1 if deepest + 1 < full else max_nesting


def _rule(
    cset: ConstraintSet,
    schemas: tuple[Schema, ...],
    culprits: Sequence[str],
    text: str,
    at: int,
    bound: int | None,
) -> str | None:
    """The rule lowered from ``culprits`` (``Rule.origins``) being matched at the byte.

    With one such rule, that one. With several (a forbidden name is kept out of code and
    out of f-string fields by different lexemes), each is swapped, with the rules only it
    reaches, for its version lowered without the culprits: the one whose swap lets the
    text past the byte. None when no single one does (never a guess)."""
    full = _lower(cset, schemas, frozenset(), bound)
    candidates = [r for r in full.rules if set(culprits) & set(r.origins)]
    if len(candidates) <= 1:
        return candidates[0].name if candidates else None
    without = {r.name: r for r in _lower(cset, schemas, frozenset(culprits), bound).rules}
    rules = {r.name: r for r in full.rules}
    others = {r.name for r in candidates}
    reaches = {r.name: _reach(r.name, rules, others - {r.name}) for r in candidates}
    # The smallest first: a lexeme of its own (an identifier) before one built of many (a
    # string with fields); only the order of the tries depends on it.
    for r in sorted(candidates, key=lambda r: len(reaches[r.name])):
        reach = reaches[r.name]
        swap = {n: without[n] for n in reach if n in without and without[n].body != rules[n].body}
        if not swap:
            continue
        swapped = Grammar(
            start=full.start,
            rules=tuple(swap.get(x.name, x) for x in full.rules),
            comment=full.comment,
        )
        if _takes(swapped, text, at):
            return r.name
    return None


def _reach(name: str, rules: dict[str, Rule], stop: set[str]) -> set[str]:
    """``name`` and the rules it refers to, transitively, not entering ``stop``."""
    seen = {name}
    todo = [name]
    while todo:
        for ref in refs(rules[todo.pop()].body):
            if ref in rules and ref not in seen and ref not in stop:
                seen.add(ref)
                todo.append(ref)
    return seen


def _nearest(violations: Sequence[Violation], line: int, column: int) -> Violation | None:
    """The violation at or before (line, column) that is closest to it; else the first."""
    before = [v for v in violations if (v.line, v.column) <= (line, column)]
    if before:
        return max(before, key=lambda v: (v.line, v.column))
    return violations[0] if violations else None


def _by_constraints(
    violations: Sequence[Violation],
    cset: ConstraintSet,
    verdict: Verdict,
    culprits: Sequence[str],
    rule: str | None,
    line: int,
    column: int,
) -> Rejection:
    constraints = [c for cid in culprits if (c := cset.get(cid)) is not None]
    ids = tuple(c.id for c in constraints) or tuple(culprits)
    found = _nearest([v for v in violations if v.constraint_id in ids], line, column)
    first = constraints[0] if constraints else None
    by = " and ".join(f"{c.id} ({where(c.provenance, column=True)})" for c in constraints)
    by = by or " and ".join(ids)
    if found is not None and found.text and first is not None and property_of(first) == "forbid":
        message = f"`{found.text}` at {found.line}:{found.column} is forbidden by {by}"
    elif found is not None:
        message = f"{found.message} at {found.line}:{found.column}: required by {by}"
    else:
        message = f"rejected at {line}:{column} by {by}"
    if rule is not None:
        message += f", enforced by grammar rule {rule}"
    return Rejection(
        offset=verdict.offset,
        line=line,
        column=column,
        message=message,
        constraint_ids=ids,
        rule=rule,
        culprit=found.text if found else "",
        culprit_line=found.line if found else line,
        culprit_column=found.column if found else column,
        engine_error=verdict.error,
    )


def _by_language(
    text: str, cset: ConstraintSet, lowered: Lowered, verdict: Verdict, line: int, column: int
) -> Rejection:
    """A rejection no constraint causes: Python's (or JSON's) own reading if it rejects
    the text too, else the shape limits of the grammar (the plan's notes)."""
    problem = _parse_error(text, cset.language)
    if problem is not None:
        return Rejection(
            offset=verdict.offset,
            line=line,
            column=column,
            message=problem,
            engine_error=verdict.error,
        )
    ended = verdict.offset >= len(text.encode("utf-8"))
    what = (
        "the text ends before the grammar is complete"
        if ended
        else f"the {cset.language} grammar takes no byte `{_byte_at(text, verdict.offset)}` here"
    )
    return Rejection(
        offset=verdict.offset,
        line=line,
        column=column,
        message=f"{what} at {line}:{column}; no constraint causes it (syntax)",
        engine_error=verdict.error,
        notes=lowered.notes,
    )


def _parse_error(text: str, language: str) -> str | None:
    """How Python's own parser (or JSON's) rejects ``text``; None when it does not."""
    import json

    try:
        if language == "json":
            json.loads(text)
        else:
            ast.parse(text)
    except json.JSONDecodeError as e:
        return f"not valid JSON at {e.lineno}:{e.colno}: {e.msg}"
    except (SyntaxError, ValueError) as e:
        lineno = getattr(e, "lineno", None) or 1
        offset = getattr(e, "offset", None) or 1
        return f"not valid Python at {lineno}:{offset}: {getattr(e, 'msg', None) or e}"
    return None


def _byte_at(text: str, offset: int) -> str:
    data = text.encode("utf-8")
    char = data[offset:].decode("utf-8", errors="ignore")[:1]
    return repr(char)[1:-1] if char else f"\\x{data[offset]:02x}"
