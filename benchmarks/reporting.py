"""The benchmark report: its rows (metric, value, target, pass), and the Markdown table
written beside ``report.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class Report:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.rows: list[dict[str, Any]] = []
        self.details: dict[str, Any] = {}

    def metric(
        self,
        name: str,
        value: float,
        unit: str,
        target: float | None = None,
        *,
        higher_is_better: bool = False,
        note: str = "",
    ) -> None:
        passed: bool | None = None
        if target is not None:
            passed = value >= target if higher_is_better else value <= target
        self.rows.append(
            {
                "metric": name,
                "value": value,
                "unit": unit,
                "target": target,
                "target_op": ">=" if higher_is_better else "<=",
                "pass": passed,
                "note": note,
            }
        )
        shown = _fmt(value, unit)
        status = "" if passed is None else ("pass" if passed else "FAIL")
        print(f"  {name}: {shown} {status}", flush=True)

    def note(self, name: str, note: str) -> None:
        """A row with no figure: why something is not measured."""
        self.rows.append(
            {
                "metric": name,
                "value": None,
                "unit": "",
                "target": None,
                "target_op": "<=",
                "pass": None,
                "note": note,
            }
        )
        print(f"  {name}: {note}", flush=True)


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    if unit in ("count", ""):
        return f"{v:g}"
    if unit == "%":
        return f"{v:.2f} %"
    return f"{v:.3g} {unit}"


def render_md(r: Report, meta: dict[str, Any]) -> str:
    lines = [
        "# Ananke benchmark report",
        "",
        f"Generated {meta['date']} on {meta['machine']} ({meta['cpus']} CPUs), Python "
        f"{meta['python']}, llguidance {meta['llguidance']}"
        + (" — **quick mode** (small samples)." if r.quick else "."),
        "All figures of this report come from the same run; compare within one report.",
        "",
        "| metric | value | target | pass | note |",
        "|---|---|---|---|---|",
    ]
    for row in r.rows:
        target = (
            ""
            if row["target"] is None
            else f"{row['target_op']} {_fmt(row['target'], row['unit'])}"
        )
        status = "" if row["pass"] is None else ("pass" if row["pass"] else "**FAIL**")
        note = str(row["note"]).replace("|", "\\|").replace("\n", " ")
        value = _fmt(row["value"], row["unit"])
        lines.append(f"| {row['metric']} | {value} | {target} | {status} | {note} |")
    lines.append("")
    # What was tried to shape the grammar for llguidance is kept beside the runner and
    # goes into every report, so the figures and the history are read together.
    lines.append((HERE / "tried.md").read_text(encoding="utf-8"))
    return "\n".join(lines)
