"""The capability matrix of ``spec/backends.md``, rendered from what each backend declares:
its :class:`~ananke.backends.base.Capabilities` (written as they are: "yes") and its passes
(rewritten into what the target has: "lowered"). Targets whose cells are all equal share a
column, in the order of :func:`~ananke.backends.target_names`.

``python -m ananke.backends.matrix`` prints the table; with ``--write FILE`` it replaces the
table between the markers in ``FILE``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ananke.ir.lowerings import GrammarPass
from ananke.ir.lowerings.charlevel import CharLevel
from ananke.ir.lowerings.repeats import XGRAMMAR_MAX_BOUND, SmallRepeats

from . import get_backend, target_names
from .base import Backend
from .gbnf.llamacpp import LlamaCppShape
from .json_schema import JsonOnly
from .lark.larkshape import LARK_MAX_BOUND, LarkShape
from .regex.regular import Regular

__all__ = ["BEGIN", "END", "capability_matrix", "replace_matrix"]

BEGIN = "<!-- capability matrix: rendered by `python -m ananke.backends.matrix` -->"
END = "<!-- end of the capability matrix -->"


def _has(passes: Sequence[GrammarPass], kind: type) -> bool:
    return any(isinstance(p, kind) for p in passes)


def _lexemes(b: Backend) -> str:
    if b.capabilities.lexemes:
        return "yes"
    return "lowered (char-level)" if _has(b.passes, CharLevel) else "no"


def _lexeme_op(has: Callable[[Backend], bool]) -> Callable[[Backend], str]:
    def cell(b: Backend) -> str:
        if has(b):
            return "yes"
        return "lowered" if _has(b.passes, CharLevel) else "no"

    return cell


def _repeat(b: Backend) -> str:
    if _has(b.passes, SmallRepeats):
        return f"lowered above {XGRAMMAR_MAX_BOUND}"
    if _has(b.passes, LarkShape):
        return f"`~m..n`, lowered above {LARK_MAX_BOUND}"
    return "yes"


def _recursion(b: Backend) -> str:
    if _has(b.passes, LlamaCppShape):
        return "lowered at a rule's start, else yes"
    if _has(b.passes, Regular):
        return "lowered at a rule's start or end, else no (`not-regular`)"
    return "yes"


def _json(b: Backend) -> str:
    if not b.capabilities.json_schema:
        return "no"
    return "yes (whole output only)" if _has(b.passes, JsonOnly) else "yes (`%json`)"


def _special(b: Backend) -> str:
    return "yes" if b.capabilities.special_tokens else "no"


_ROWS: tuple[tuple[str, Callable[[Backend], str]], ...] = (
    ("Lexemes, greedy lexing", _lexemes),
    ("Lexeme negation `~`", _lexeme_op(lambda b: b.capabilities.negation)),
    ("Lexeme intersection `&`", _lexeme_op(lambda b: b.capabilities.intersection)),
    ("Bounded repeat `{m,n}`", _repeat),
    ("Recursion", _recursion),
    # The grammar IR has no parametric rules, so no printer writes them.
    ("Parametric rules `rule::_`", lambda b: "not printed"),
    ("Embedded JSON Schema", _json),
    ("Special tokens `<\\|name\\|>`", _special),
    # Engines disagree on `.` and on word characters: classes are always written out.
    ("`.`, `\\w`, `\\d`", lambda b: "never printed"),
    ("Unbounded whitespace", lambda b: "as the constraints say"),
)
"""Each row: its heading, and the cell of a grammar target."""

_DOCUMENT_ONLY = {"`.`, `\\w`, `\\d`": "n/a", "Unbounded whitespace": "n/a"}
"""A target that takes one JSON document only writes none of the grammar features."""


def _cells(b: Backend) -> tuple[str, ...]:
    if _has(b.passes, JsonOnly):
        return tuple(
            _json(b) if h == "Embedded JSON Schema" else _DOCUMENT_ONLY.get(h, "no")
            for h, _ in _ROWS
        )
    return tuple(cell(b) for _, cell in _ROWS)


def capability_matrix() -> str:
    """The Markdown table: one row per feature, one column per group of targets alike."""
    columns: dict[tuple[str, ...], list[str]] = {}
    for name in target_names():
        columns.setdefault(_cells(get_backend(name)), []).append(name)
    groups = list(columns.items())
    lines = [
        "| Feature | " + " | ".join(", ".join(names) for _, names in groups) + " |",
        "|---" * (len(groups) + 1) + "|",
    ]
    for i, (heading, _) in enumerate(_ROWS):
        cells = [cells[i] for cells, _ in groups]
        # Whitespace is bounded by the constraints alike everywhere: said once.
        if heading == "Unbounded whitespace":
            cells = [c if c != cells[0] or j == 0 else "same" for j, c in enumerate(cells)]
        lines.append(f"| {heading} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def replace_matrix(text: str) -> str:
    """``text`` with the table between :data:`BEGIN` and :data:`END` rendered anew;
    ``ValueError`` when the markers are missing."""
    head, begin, rest = text.partition(BEGIN + "\n")
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"no {BEGIN!r} ... {END!r} markers")
    return f"{head}{begin}{capability_matrix()}{end}{tail}"


def main(argv: Sequence[str]) -> int:
    if len(argv) == 2 and argv[0] == "--write":
        path = Path(argv[1])
        path.write_text(replace_matrix(path.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    if argv:
        print("usage: python -m ananke.backends.matrix [--write FILE]", file=sys.stderr)
        return 2
    sys.stdout.write(capability_matrix())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
