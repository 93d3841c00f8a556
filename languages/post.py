"""What post-generation checks report, in every language: violations, what was skipped,
the budget that bounds the work, and the measures every language shares (lines, a
pattern's search)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ananke.ir.constraint import Constraint, ConstraintSet

__all__ = [
    "DEFAULT_BUDGET",
    "Budget",
    "CodeChecks",
    "Report",
    "Skipped",
    "TokenCounter",
    "Violation",
    "physical_lines",
    "position",
    "search",
]

TokenCounter = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed check: which constraint, why, and where (1-based line and column)."""

    constraint_id: str
    kind: str
    """The constraint's kind (``forbid``, ``limit``, ...) or ``syntax``."""
    message: str
    line: int = 1
    column: int = 1
    text: str = ""
    """The offending text (empty when the problem is something missing)."""
    undecided: bool = False
    """The check could not decide within its budget (:class:`Budget`): the text is not
    known to break the constraint, but it is not known to keep it either."""


@dataclass(frozen=True, slots=True)
class Budget:
    """What the post checks may spend on one text, so that no text makes them hang.

    Past a bound, a check ends in a violation with ``undecided=True``, never in a wait.
    """

    max_input_chars: int = 1_000_000
    """Longer texts are not read: every check but ``max_lines`` and ``max_chars`` (which
    only measure) is undecided."""
    max_pattern_steps: int = 10_000_000
    """Work one ``matches`` or ``naming`` pattern may do on the text (see
    :mod:`ananke.ir.pyre`: a character read or an automaton state visited is a step)."""


DEFAULT_BUDGET = Budget()


@dataclass(frozen=True, slots=True)
class Skipped:
    """A constraint that could not be checked, and why."""

    constraint_id: str
    reason: str


@dataclass(slots=True)
class Report:
    violations: list[Violation] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


class CodeChecks(Protocol):
    """The checks that read one text as code of a language (``Checks`` in the
    language's ``checks`` module): made once per text, before any constraint is checked
    (syntax violations go into ``report`` then), and asked for each constraint that is
    neither a limit nor ``matches``."""

    def __init__(
        self, code: str, cset: ConstraintSet, budget: Budget, report: Report, unread: str | None
    ) -> None: ...

    def check(self, c: Constraint, report: Report) -> None: ...


def physical_lines(text: str) -> int:
    """Number of physical lines: ``\\n``-separated lines once one final newline is removed.

    ``""`` has 0 lines, ``"x"`` and ``"x\\n"`` have 1, ``"x\\n\\n"`` has 2. A ``\\r`` is not a
    line separator here (the grammars and the post check count the same way).
    """
    if not text:
        return 0
    if text.endswith("\n"):
        text = text[:-1]
    return text.count("\n") + 1


def position(code: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of the code point at ``index``."""
    before = code[:index]
    line = before.count("\n") + 1
    return line, index - (before.rfind("\n") + 1) + 1


def search(
    pattern: str, text: str, whole: bool, max_steps: int, budget: int
) -> tuple[bool, int] | str:
    """Whether ``re.search(pattern, text)`` (``re.fullmatch`` if ``whole``) finds a match,
    and the steps it took, decided in linear time (:mod:`ananke.ir.pyre`) in ``max_steps``
    (what is left of the check's ``budget``); or why it is not decided. ``re.error`` when
    the pattern does not compile."""
    from ananke.ir.pyre import BudgetExceeded, UnsupportedPattern, compile_pattern

    try:
        result = compile_pattern(pattern, fullmatch=whole).search(text, max_steps=max_steps)
    except UnsupportedPattern as e:
        return f"not decided: /{pattern}/ cannot be checked in linear time: {e.reason}"
    except BudgetExceeded:
        return f"not decided: /{pattern}/ needs more than {budget:,} steps on this text"
    return result.matched, result.steps
