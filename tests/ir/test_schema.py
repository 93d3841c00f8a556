"""``spec/ir.schema.json`` is generated from the IR and must match it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ananke.ir import IR_VERSION
from ananke.ir.schema import main, schema_text

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "spec" / "ir.schema.json"


def test_committed_schema_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "spec/ir.schema.json is stale; regenerate it from the repository root with "
        "`python -m ananke.ir.schema` and commit the result"
    )


def test_schema_describes_the_module() -> None:
    data = json.loads(schema_text())
    assert data["$ref"] == "#/$defs/Module"
    module = data["$defs"]["Module"]
    assert set(module["properties"]) == {"version", "sources", "sets", "schemas"}
    assert module["properties"]["version"]["default"] == IR_VERSION
    kinds = {
        d["properties"]["kind"]["enum"][0]
        for d in data["$defs"].values()
        if "kind" in d.get("properties", {}) and "enum" in d["properties"]["kind"]
    }
    assert {"returns", "forbid", "limit", "validates", "doc"} <= kinds


def test_check_mode_detects_a_stale_file(tmp_path: Path) -> None:
    target = tmp_path / "ir.schema.json"
    assert main([str(target)]) == 0
    assert main(["--check", str(target)]) == 0
    target.write_text("{}\n", encoding="utf-8")
    assert main(["--check", str(target)]) == 1


def test_schema_does_not_depend_on_how_msgspec_renders_docstrings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """msgspec up to 0.19 kept docstrings' indentation, later versions clean it: the
    generated schema is the same either way."""
    import msgspec
    from ananke.ir import schema as schema_module

    real = msgspec.json.schema

    def indent(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: v.replace("\n", "\n    ")
                if k == "description" and isinstance(v, str)
                else indent(v)
                for k, v in node.items()
            }
        return [indent(v) for v in node] if isinstance(node, list) else node

    def cleaned_first(t: Any) -> Any:
        return schema_module._cleaned(real(t))

    monkeypatch.setattr(msgspec.json, "schema", cleaned_first)
    clean = schema_text()
    monkeypatch.setattr(msgspec.json, "schema", lambda t: indent(real(t)))
    indented = schema_text()
    assert "\\n    " in json.dumps(indent(real(schema_module.Module)))  # the case is real
    assert clean == indented
