"""Generate the JSON Schema of a ``.cir`` module (``spec/ir.schema.json``).

Run ``python -m ananke.ir.schema`` from the repository root to rewrite the committed file,
or ``python -m ananke.ir.schema --check`` to fail when it is stale.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from .constraint import IR_VERSION, Module
from .files import write_atomic

__all__ = ["DEFAULT_PATH", "main", "schema", "schema_text"]

DEFAULT_PATH = Path("spec") / "ir.schema.json"


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a JSON ``.cir`` file.

    Descriptions come from docstrings, which msgspec passes on as Python gives them: with
    their indentation up to msgspec 0.19, cleaned from 0.20 on (and by Python itself from
    3.13). They are cleaned here with :func:`inspect.cleandoc`, so that the committed file
    does not depend on either version.
    """
    generated = _cleaned(msgspec.json.schema(Module))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Ananke ConstraintIR module (IR version {IR_VERSION})",
        "description": "A .cir file written by `arc compile --format json`; see spec/ir.md.",
        **generated,
    }


def _cleaned(node: Any) -> Any:
    """``node`` with every ``description`` and ``title`` string cleaned like a docstring."""
    if isinstance(node, dict):
        return {
            k: inspect.cleandoc(v)
            if k in ("description", "title") and isinstance(v, str)
            else _cleaned(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_cleaned(v) for v in node]
    return node


def schema_text() -> str:
    """The schema as committed: sorted keys, two-space indent, final newline."""
    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    path = Path(paths[0]) if paths else DEFAULT_PATH
    text = schema_text()
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is stale; run: python -m ananke.ir.schema {path}", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
