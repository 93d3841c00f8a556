"""Every diagnostic code that any stage can emit has a page under ``spec/diagnostics/``.

Codes are found statically in the package sources: the first string argument of
``.error(...)``, ``.warning(...)``, ``.io_error(...)``, ``_report(diags, ...)`` and
``unsupported(...)``, and ``code="..."`` / ``CODE = "..."`` assignments.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "spec" / "diagnostics"

_CODE = r'"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)"'
_PATTERNS = [
    re.compile(r"\.(?:error|warning|io_error|unsupported)\(\s*" + _CODE),
    re.compile(r"\b_report\(\s*diags,\s*" + _CODE),
    re.compile(r"\bcode\s*=\s*" + _CODE),
    re.compile(r"^\s*CODE\s*=\s*" + _CODE, re.M),
]


def _source_dirs() -> list[Path]:
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return sorted({ROOT / d for d in mapping["package-dir"].values()})


def emitted_codes() -> dict[str, list[str]]:
    """Code -> the files that emit it."""
    found: dict[str, list[str]] = {}
    for directory in _source_dirs():
        for path in sorted(directory.glob("*.py")):
            text = path.read_text(encoding="utf-8")
            for pattern in _PATTERNS:
                for m in pattern.finditer(text):
                    found.setdefault(m.group(1), []).append(str(path.relative_to(ROOT)))
    return found


def test_scan_finds_known_codes() -> None:
    # Guards the scan: if it found nothing, the page test would prove nothing.
    codes = emitted_codes()
    assert {
        "cir-corrupt",
        "cir-version",
        "cir-invalid",
        "unreadable-file",
        "unwritable-file",
        "no-constraint-set",
    } <= set(codes)
    assert len(codes) >= 10


def test_every_emitted_code_has_a_page() -> None:
    missing = {
        c: files for c, files in emitted_codes().items() if not (PAGES / f"{c}.md").is_file()
    }
    assert missing == {}, "write spec/diagnostics/<code>.md for each of these"


def test_every_page_has_title_trigger_example_and_fix() -> None:
    for page in sorted(PAGES.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        assert text.startswith(f"# `{page.stem}` ("), page.name
        assert "## Example" in text, page.name
        assert "## How to fix it" in text, page.name
