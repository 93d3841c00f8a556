"""Post-generation checks: does a generated text respect a constraint set?

The grammar enforces what it can token by token; everything else (and, as a second line of
defence, everything the grammar already enforces) is checked here on the finished text.
``validate(code, cset)`` returns one :class:`Violation` per failed check, empty when the
text satisfies the set.

Limits and ``matches`` read any text and are checked here for every set. The other
constraints read code: a set in a code language hands them to that language's checks
(``ananke.languages.<name>.checks``, its ``Checks`` class; for Python,
:mod:`ananke.languages.python.checks` says how names are read). A JSON document or a
string of a given grammar is no code: only limits and ``matches`` apply, and the checker
refuses the others for such sets.

Lines are physical lines counted by :func:`~ananke.languages.post.physical_lines`
(``\\n``-separated, a final newline does not start a line); characters are Unicode code
points (``len``); tokens are counted by a caller-supplied tokenizer and skipped (reported
in :attr:`Report.skipped`) without one.
"""

from __future__ import annotations

import importlib
import re

from ananke.ir.constraint import (
    Constraint,
    ConstraintSet,
    Doc,
    Forbid,
    FunctionName,
    ImportPolicy,
    Limit,
    Matches,
    Naming,
    OutputGrammar,
    Params,
    Require,
    Returns,
    Signature,
    Validates,
)
from ananke.ir.lower.language import DOCUMENT_LANGUAGES

from .post import (
    DEFAULT_BUDGET,
    Budget,
    CodeChecks,
    Report,
    Skipped,
    TokenCounter,
    Violation,
    physical_lines,
    position,
    search,
)

__all__ = [
    "DEFAULT_BUDGET",
    "Budget",
    "Report",
    "Skipped",
    "TokenCounter",
    "Violation",
    "check",
    "validate",
]


def _code_checks(cset: ConstraintSet) -> type[CodeChecks] | None:
    """The checks of the set's code language; None for a document or a given grammar."""
    if cset.language in DOCUMENT_LANGUAGES or cset.of_kind(OutputGrammar):
        return None
    name = f"ananke.languages.{cset.language}.checks"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name not in (name, name.rsplit(".", 1)[0]):
            raise
        return _Unchecked
    checks: type[CodeChecks] = module.Checks
    return checks


class _Unchecked:
    """A code language without post checks: what would read its code is skipped, with
    why, never passed in silence."""

    def __init__(
        self, code: str, cset: ConstraintSet, budget: Budget, report: Report, unread: str | None
    ) -> None:
        self.language = cset.language

    def check(self, c: Constraint, report: Report) -> None:
        if not isinstance(c, Doc):
            report.skipped.append(Skipped(c.id, f"{self.language} has no post checks"))


def check(
    code: str,
    cset: ConstraintSet,
    *,
    tokenizer: TokenCounter | None = None,
    budget: Budget | None = None,
) -> Report:
    """Check ``code`` against every constraint of ``cset``; see :func:`validate`."""
    budget = budget or DEFAULT_BUDGET
    report = Report()
    v = report.violations
    code_checks = _code_checks(cset)
    constraints = (
        cset.constraints
        if code_checks is not None
        else tuple(c for c in cset.constraints if isinstance(c, Limit | Matches))
    )
    too_long = len(code) > budget.max_input_chars
    unread = (
        f"not decided: the text has {len(code):,} characters, more than the "
        f"{budget.max_input_chars:,} the post checks read"
    )
    checks = (
        None
        if code_checks is None
        else code_checks(code, cset, budget, report, unread if too_long else None)
    )
    for c in constraints:
        if too_long and _reads_text(c, tokenizer):
            v.append(Violation(c.id, _kind(c), unread, undecided=True))
            continue
        match c:
            case Limit(metric="lines"):
                n = physical_lines(code)
                if n > c.max:
                    v.append(
                        Violation(
                            c.id,
                            "limit",
                            f"{n} lines, at most {c.max} allowed",
                            c.max + 1,
                            1,
                            code.split("\n")[c.max],
                        )
                    )
            case Limit(metric="chars"):
                if len(code) > c.max:
                    line, col = position(code, c.max)
                    v.append(
                        Violation(
                            c.id,
                            "limit",
                            f"{len(code)} characters, at most {c.max} allowed",
                            line,
                            col,
                            code[c.max : c.max + 20],
                        )
                    )
            case Limit():
                if tokenizer is None:
                    report.skipped.append(Skipped(c.id, "no tokenizer given to count tokens"))
                else:
                    n = tokenizer(code)
                    if n > c.max:
                        v.append(Violation(c.id, "limit", f"{n} tokens, at most {c.max} allowed"))
            case Matches():
                try:
                    steps = budget.max_pattern_steps
                    found = search(c.pattern, code, False, steps, steps)
                except re.error as e:
                    report.skipped.append(Skipped(c.id, f"the pattern does not compile: {e}"))
                    continue
                if isinstance(found, str):
                    v.append(Violation(c.id, "matches", found, undecided=True))
                elif not found[0]:
                    v.append(Violation(c.id, "matches", f"the code does not match /{c.pattern}/"))
            case _ if checks is not None:
                checks.check(c, report)
    return report


def _kind(c: Constraint) -> str:
    kind = c.__struct_config__.tag
    assert isinstance(kind, str)
    return kind


def _reads_text(c: Constraint, tokenizer: TokenCounter | None) -> bool:
    """Whether checking ``c`` reads the text (so costs more than measuring it)."""
    if isinstance(c, Limit):
        return c.metric == "tokens" and tokenizer is not None
    return isinstance(
        c,
        Forbid
        | Require
        | Validates
        | Matches
        | Naming
        | ImportPolicy
        | Returns
        | FunctionName
        | Params
        | Signature,
    )


def validate(
    code: str,
    cset: ConstraintSet,
    *,
    tokenizer: TokenCounter | None = None,
    budget: Budget | None = None,
) -> list[Violation]:
    """Every violation of ``cset`` by ``code`` (a generated text), in constraint order.

    For a Python set, ``code`` must parse as exactly one (possibly async, decorated)
    function definition, else a ``syntax`` violation is reported and checks that need the
    syntax tree are skipped. ``matches`` decides ``re.search`` with no flags (anchor the
    pattern yourself, as ``spec/ariadne.md`` says) without backtracking. ``tokenizer``
    counts tokens for ``max_tokens``; without it that check is skipped (see :func:`check`
    for the skipped list). ``budget`` bounds the work (:class:`Budget`, default
    :data:`DEFAULT_BUDGET`): a check past it is a violation with ``undecided=True``.
    """
    return check(code, cset, tokenizer=tokenizer, budget=budget).violations
