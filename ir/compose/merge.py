"""``merge``: one constraint where a set holds several that say the same or can be combined.

* Limits of one metric and strength intersect: the smallest bound stands (``max_lines:
  100`` and ``max_lines: 80`` become 80), recorded as an ``intersect`` resolution that
  keeps the provenance of both.
* Import policies intersect: the allow lists intersect, the deny lists unite.
* The same constraint given twice (the same forbidden name, the same return type, ...)
  is kept once: the strongest (hard over soft, then priority, then the first written).

Constraints that disagree are left alone: ``detect-conflicts`` finds them.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from ..constraint import Constraint, ConstraintSet, ImportPolicy, Limit, Module, Resolution
from ..diagnostics import Diagnostics
from .describe import describe, value_of, where

__all__ = ["Merge"]

_C = TypeVar("_C", bound=Constraint)

_NOT_PAYLOAD = frozenset({"id", "provenance", "strength", "priority", "override"})


def payload(c: Constraint) -> Hashable:
    """What a constraint says, without who said it or how strongly."""
    fields = msgspec.structs.asdict(c)
    data = {k: v for k, v in fields.items() if k not in _NOT_PAYLOAD}
    return (type(c).__name__, msgspec.json.encode(data))


def strongest_first(cs: list[_C]) -> list[_C]:
    """Hard before soft, then higher priority; the id breaks ties, so that the outcome does
    not depend on the order constraints were written or files read."""
    return sorted(cs, key=lambda c: (c.strength != "hard", -c.priority, c.id))


@dataclass(frozen=True)
class Merge:
    name = "merge"

    def run(self, module: Module, diags: Diagnostics) -> Module:
        return msgspec.structs.replace(module, sets=tuple(_merge(s) for s in module.sets))


def _merge(cset: ConstraintSet) -> ConstraintSet:
    resolutions = list(cset.resolutions)
    dropped: set[str] = set()
    replaced: dict[str, Constraint] = {}

    groups: dict[tuple[str, Hashable], list[Constraint]] = {}
    for c in cset.constraints:
        if isinstance(c, Limit):
            key: tuple[str, Hashable] = ("limit", (c.metric, c.strength))
        elif isinstance(c, ImportPolicy):
            key = ("imports", None)
        else:
            key = ("same", payload(c))
        groups.setdefault(key, []).append(c)

    for (how, _), group in groups.items():
        if len(group) < 2:
            continue
        keep: Constraint
        rest: list[Constraint]
        if how == "limit":
            limits = [c for c in group if isinstance(c, Limit)]
            keep = min(limits, key=lambda c: (c.max, -c.priority, c.id))
            rest = [c for c in group if c is not keep]
            summary = f"{describe(keep)} intersected with " + ", ".join(
                f"{value_of(c)} from {where(c.provenance)}" for c in rest
            )
            resolutions.append(_resolution("intersect", keep, rest, summary))
        elif how == "imports":
            policies = [c for c in group if isinstance(c, ImportPolicy)]
            best, *others = strongest_first(policies)
            keep, rest = best, [*others]
            replaced[best.id] = _intersect_imports(best, policies)
            summary = f"imports from {where(keep.provenance)} intersected with " + ", ".join(
                f"those from {where(c.provenance)}" for c in rest
            )
            resolutions.append(_resolution("intersect", keep, rest, summary))
        else:
            keep, *rest = strongest_first(group)
            summary = f"{describe(keep)} also given at " + ", ".join(
                where(c.provenance) for c in rest
            )
            resolutions.append(_resolution("duplicate", keep, rest, summary))
        dropped.update(c.id for c in rest)

    if not dropped:
        return cset
    constraints = tuple(replaced.get(c.id, c) for c in cset.constraints if c.id not in dropped)
    return msgspec.structs.replace(cset, constraints=constraints, resolutions=tuple(resolutions))


def _intersect_imports(keep: ImportPolicy, group: list[ImportPolicy]) -> ImportPolicy:
    """One policy that allows what all allow and denies what any denies (sorted lists)."""
    allows = [set(c.allow) for c in group if c.allow is not None]
    allow = tuple(sorted(set.intersection(*allows))) if allows else None
    deny = tuple(sorted({d for c in group for d in c.deny}))
    fields: dict[str, Any] = {"allow": allow, "deny": deny}
    return msgspec.structs.replace(keep, **fields)


def _resolution(rule: str, keep: Constraint, rest: list[Constraint], summary: str) -> Resolution:
    return Resolution(
        rule=rule,  # type: ignore[arg-type]
        kept=keep.id,
        kept_provenance=keep.provenance,
        dropped=tuple(c.id for c in rest),
        dropped_provenance=tuple(c.provenance for c in rest),
        summary=summary,
    )
