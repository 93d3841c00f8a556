"""Every code the grammar importers emit has a page, and each page's example produces the
diagnostic the page shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ananke.frontends.grammars._common import CODES

from tests.frontends.import_helpers import run

PAGES = Path(__file__).resolve().parents[2] / "spec" / "diagnostics"
_EXAMPLE = re.compile(r"```(lark|gbnf|ebnf)\n(.*?)```\s*```text\n(.*?)\n```", re.S)


@pytest.mark.parametrize("code", CODES)
def test_page_example(code: str) -> None:
    page = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    assert page.startswith(f"# `{code}` (")
    m = _EXAMPLE.search(page)
    assert m is not None, f"{code}.md has no grammar example"
    dialect, source, shown = m.groups()
    _, diags = run(source, dialect)  # type: ignore[arg-type]
    rendered = [f"{d.severity}[{d.code}]: {d.message}" for d in diags]
    assert shown in rendered
