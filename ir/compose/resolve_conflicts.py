"""``resolve-conflicts``: settle each conflict by policy, or report it.

Within a conflict the weakest constraint gives way, when one is strictly weaker than all
the others; comparing two constraints, the first of these that differs decides:

1. strength: ``hard`` (the default) beats ``@soft``;
2. priority: the higher ``@priority(N)`` wins (default 0);
3. provenance: by ``precedence``, by default the file being compiled, then an imported
   library (``std`` included), then constraints extracted from code, tests or telemetry,
   then those an LLM proposed.

The constraint that gives way is removed and the decision recorded as a resolution on
the set (``arc explain`` shows it). A conflict with no strictly weakest constraint is an
error, ``constraint-conflict``, with a label on every constraint involved, where each
comes from, and what to change; so is a conflict of one constraint with the output
language itself (a pattern no function can match), which nothing can settle. Nothing is
dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from ..constraint import (
    Conflict,
    Constraint,
    ConstraintSet,
    ExtractedProvenance,
    LLMProvenance,
    Module,
    Provenance,
    Resolution,
    SourceProvenance,
)
from ..diagnostics import Diagnostics, Label
from .describe import describe

__all__ = ["PRECEDENCE", "ResolveConflicts", "origin_of"]

PRECEDENCE = ("file", "library", "extracted", "llm")
"""Default order of provenance, strongest first."""


def origin_of(p: Provenance) -> str:
    """``file``, ``library``, ``extracted`` or ``llm``."""
    if isinstance(p, SourceProvenance):
        return "library" if p.library else "file"
    if isinstance(p, ExtractedProvenance):
        return "extracted"
    if isinstance(p, LLMProvenance):
        return "llm"
    raise TypeError(type(p).__name__)


@dataclass(frozen=True)
class ResolveConflicts:
    name = "resolve-conflicts"
    precedence: tuple[str, ...] = PRECEDENCE

    def __post_init__(self) -> None:
        if sorted(self.precedence) != sorted(PRECEDENCE):
            raise ValueError(f"precedence orders exactly {', '.join(PRECEDENCE)}")

    def rank(self, c: Constraint) -> tuple[int, int, int]:
        """Smaller is stronger."""
        return (
            0 if c.strength == "hard" else 1,
            -c.priority,
            self.precedence.index(origin_of(c.provenance)),
        )

    def run(self, module: Module, diags: Diagnostics) -> Module:
        return msgspec.structs.replace(
            module, sets=tuple(self._resolve(s, diags) for s in module.sets)
        )

    def _resolve(self, cset: ConstraintSet, diags: Diagnostics) -> ConstraintSet:
        if not cset.conflicts:
            return cset
        dropped: set[str] = set()
        resolutions = list(cset.resolutions)
        by_id = {c.id: c for c in cset.constraints}
        # Sorted, so that the outcome does not depend on the order of files or properties.
        for conflict in sorted(cset.conflicts, key=lambda c: (c.kind, c.ids)):
            members = [by_id.get(i) for i in conflict.ids]
            present = [m for m in members if m is not None]
            if len(present) < len(members) or any(m.id in dropped for m in present):
                continue  # a member already gave way: the contradiction is gone
            weakest = max(present, key=self.rank)
            others = [m for m in present if m is not weakest]
            # A constraint that contradicts the output language alone has nothing to give
            # way to: it is reported, whatever its strength.
            if others and all(self.rank(o) < self.rank(weakest) for o in others):
                dropped.add(weakest.id)
                resolutions.append(self._record(conflict, weakest, others))
            else:
                self._report(conflict, present, diags)
        if not dropped:
            return msgspec.structs.replace(cset, conflicts=())
        return msgspec.structs.replace(
            cset,
            constraints=tuple(c for c in cset.constraints if c.id not in dropped),
            resolutions=tuple(resolutions),
            conflicts=(),
        )

    def _record(
        self, conflict: Conflict, weakest: Constraint, others: list[Constraint]
    ) -> Resolution:
        # The strongest of the rest is named as the winner; the criterion is the first
        # component of the rank where it beats the one that gives way.
        winner = min(others, key=self.rank)
        rule = ("strength", "priority", "provenance")[
            next(
                k
                for k, (a, b) in enumerate(zip(self.rank(winner), self.rank(weakest), strict=True))
                if a < b
            )
        ]
        return Resolution(
            rule=rule,  # type: ignore[arg-type]
            kept=winner.id,
            kept_provenance=winner.provenance,
            dropped=(weakest.id,),
            dropped_provenance=(weakest.provenance,),
            summary=f"{describe(winner)} overrides {describe(weakest)} ({_WHY[rule]}): "
            f"{conflict.message}",
        )

    def _report(self, conflict: Conflict, members: list[Constraint], diags: Diagnostics) -> None:
        """``members`` are the conflict's constraints, in the order of its ids."""
        labels = []
        notes = []
        for k, (c, role) in enumerate(zip(members, conflict.roles, strict=True)):
            if isinstance(c.provenance, SourceProvenance):
                labels.append(Label(span=c.provenance.span, message=role, primary=k == 0))
            notes.append(
                f"{describe(c)}: {c.strength}, priority {c.priority}, "
                f"{_ORIGIN[origin_of(c.provenance)]}"
            )
        if len(members) > 2:
            notes.append(
                f"these {len(members)} are the smallest set that contradicts: without any "
                "one of them the others can hold"
            )
        if len(members) == 1:
            notes.append(
                "no other constraint takes part: no output of the language can satisfy it, "
                "so it cannot be settled by giving way, even `@soft`"
            )
        else:
            notes.append(
                "the policy could not choose: a conflict is settled by strength (hard over "
                "soft), then priority, then provenance (" + " > ".join(self.precedence) + ")"
            )
        diags.error(
            "constraint-conflict", conflict.message, *labels, notes=tuple(notes), help=conflict.help
        )


_WHY = {
    "strength": "hard over soft",
    "priority": "higher priority",
    "provenance": "provenance precedence",
}
_ORIGIN = {
    "file": "written in the file being compiled",
    "library": "from an imported library",
    "extracted": "extracted",
    "llm": "proposed by an LLM",
}
