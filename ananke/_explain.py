"""The enforcement plan as ``arc explain`` shows it: one table per constraint set, a
matrix of targets (``--target all``), or one JSON document (spec/ir.md, "The plan as
JSON"). ``arc test`` writes the same table to its golden files.

The public entry is :func:`ananke.explain`; this module only renders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ananke.ir import Enforcement, Lowered
    from ananke.ir.constraint import Resolution

__all__ = ["EXPLAIN_JSON_VERSION", "explain_json", "explain_matrix", "explain_table"]


def explain_table(
    lowered: Sequence[Lowered], decisions: Mapping[str, Sequence[Resolution]] | None = None
) -> str:
    """One aligned plain-text table per constraint set, then the grammar's overall notes
    and what composition decided (``decisions``, per set name)."""
    blocks: list[str] = []
    header = ("ID", "KIND", "LEVEL", "REASON", "DETAIL")
    for low in lowered:
        rows = [header] + [
            (e.constraint_id, e.kind, e.level, e.reason, e.detail) for e in low.enforcements
        ]
        lines = [f"constraint set {low.set_name} (target {low.target})", *_aligned(rows)]
        if low.notes:
            lines.append("")
            lines.extend(f"  note: {note}" for note in low.notes)
        lines.extend(_decided((decisions or {}).get(low.set_name, ())))
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """A header and rows as indented, aligned text lines; a table with no rows says so."""
    if len(rows) == 1:
        return ["  (no constraints)"]
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return [
        ("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))).rstrip()
        for row in rows
    ]


_KINDS_OF_POST = {
    "post/narrowed": "the grammar narrows it, and the check after generation decides",
    "post/demoted": "this target's grammar cannot enforce it (demoted-to-post), so only the "
    "check after generation does",
}


def _cell(e: Enforcement) -> str:
    """A constraint's level in the matrix: ``post`` tells narrowing and demotion apart."""
    if e.demoted:
        return "post/demoted"
    if e.narrows:
        return "post/narrowed"
    return e.level


def explain_matrix(
    set_names: Sequence[str],
    each: Sequence[tuple[str, Mapping[str, Lowered]]],
    decisions: Mapping[str, Sequence[Resolution]] | None = None,
) -> str:
    """Per constraint set, one row per constraint and one column per target that can
    express the set: its level (``post/narrowed`` and ``post/demoted`` for the two kinds
    of ``post`` that involve the grammar, then a legend). Where a target enforces a
    constraint otherwise than the first one (the reference), how follows the table;
    notes that only some targets have name them; then what composition decided
    (``decisions``, per set name)."""
    blocks: list[str] = []
    for set_name in set_names:
        per_target = {t: low[set_name] for t, low in each if set_name in low}
        if not per_target:
            blocks.append(f"constraint set {set_name}\n  (no target can express it)\n")
            continue
        targets = list(per_target)
        reference = per_target[targets[0]]
        header = ("ID", "KIND", *targets)
        rows = [header]
        differs: list[str] = []
        for e in reference.enforcements:
            levels = {
                t: next(x for x in low.enforcements if x.constraint_id == e.constraint_id)
                for t, low in per_target.items()
            }
            rows.append((e.constraint_id, e.kind, *(_cell(levels[t]) for t in targets)))
            for t, x in levels.items():
                if (x.level, x.reason) != (e.level, e.reason):
                    detail = f" ({x.detail})" if x.detail else ""
                    differs.append(f"{e.constraint_id} on {t}: {x.level}, {x.reason}{detail}")
        lines = [f"constraint set {set_name}", *_aligned(rows)]
        shown = {cell for row in rows[1:] for cell in row[2:]}
        legend = [f"{k}: {v}" for k, v in _KINDS_OF_POST.items() if k in shown]
        if legend:
            lines.append("")
            lines.extend(f"  {line}" for line in legend)
        if differs:
            lines.append("")
            lines.extend(f"  differs: {d}" for d in differs)
        notes: dict[str, list[str]] = {}
        for t, low in per_target.items():
            for note in low.notes:
                notes.setdefault(note, []).append(t)
        lines.append("")
        for note, where in notes.items():
            scope = "" if len(where) == len(targets) else f"[{', '.join(where)}] "
            lines.append(f"  note: {scope}{note}")
        lines.extend(_decided((decisions or {}).get(set_name, ())))
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _decided(resolutions: Sequence[Resolution]) -> list[str]:
    if not resolutions:
        return []
    return ["", *(f"  decided ({r.rule}): {r.summary}" for r in resolutions)]


EXPLAIN_JSON_VERSION = 1
"""Version of the document ``arc explain --output-format json`` prints (spec/ir.md)."""


def _grammar_role(e: Enforcement) -> str:
    if e.level == "token":
        return "enforces"
    if e.demoted:
        return "demoted"
    return "narrows" if e.narrows else "none"


def explain_json(
    file: str,
    set_names: Sequence[str],
    each: Sequence[tuple[str, Mapping[str, Lowered]]],
    skipped: Mapping[tuple[str, str], str],
    decisions: Mapping[str, Sequence[Resolution]],
) -> str:
    """The plan as one JSON document (``arc explain --output-format json``): per
    constraint set, per target, every constraint's level, what the grammar does about it
    and why; the targets that cannot express the set, with the reason; what composition
    decided."""
    import json

    from ananke.backends import target_names

    lowered = {(t, name): low for t, lows in each for name, low in lows.items()}
    present = {t for t, _ in each} | {t for t, _ in skipped}
    targets = [t for t in target_names() if t in present]
    sets = []
    for name in set_names:
        plans: list[dict[str, object]] = []
        for t in targets:
            low = lowered.get((t, name))
            if low is not None:
                plans.append(
                    {
                        "target": t,
                        "constraints": [
                            {
                                "id": e.constraint_id,
                                "kind": e.kind,
                                "level": e.level,
                                "grammar": _grammar_role(e),
                                "reason": e.reason,
                                "detail": e.detail,
                            }
                            for e in low.enforcements
                        ],
                        "notes": list(low.notes),
                    }
                )
            elif (t, name) in skipped:
                plans.append({"target": t, "skipped": skipped[(t, name)]})
        sets.append(
            {
                "name": name,
                "targets": plans,
                "decided": [
                    {
                        "rule": r.rule,
                        "kept": r.kept,
                        "dropped": list(r.dropped),
                        "summary": r.summary,
                    }
                    for r in decisions.get(name, ())
                ],
            }
        )
    doc = {"version": EXPLAIN_JSON_VERSION, "file": file, "sets": sets}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
