"""Documentation and work done: every code the Ariadne stage can emit has a page, the
parser is built once, and compiling costs work linear in the input (the timings are in
the benchmark report)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ananke.ariadne import PROPERTIES, _parser, compile_source, get_parser
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.source import SourceFile

from tests.ariadne.ariadne_helpers import ROOT, compile_ok
from tests.suite_helpers import calls

_EMIT_RE = re.compile(r'(?:\.error|\.warning)\(\s*"([a-z0-9-]+)"|^CODE = "([a-z0-9-]+)"', re.M)


def _emitted_codes() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "ariadne").glob("*.py"):
        for m in _EMIT_RE.finditer(path.read_text("utf-8")):
            codes.add(m.group(1) or m.group(2))
    return codes


def test_scan_finds_the_codes() -> None:
    # Guards the scan itself: if it found nothing, the page test below would prove nothing.
    assert {"syntax-error", "unknown-property", "invalid-utf8", "unknown-schema"} <= (
        _emitted_codes()
    )


def test_every_emitted_code_has_a_page() -> None:
    missing = sorted(
        c for c in _emitted_codes() if not (ROOT / "spec" / "diagnostics" / f"{c}.md").is_file()
    )
    assert missing == []


def test_reference_documents_every_property() -> None:
    text = (ROOT / "spec" / "ariadne.md").read_text("utf-8")
    for name in PROPERTIES:
        assert f"### `{name}`" in text, name


def test_reference_examples_compile() -> None:
    # Every ```ariadne block in the reference compiles, except those marked as errors.
    text = (ROOT / "spec" / "ariadne.md").read_text("utf-8")
    blocks = re.findall(r"```ariadne\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    for block in blocks:
        if "// error" in block:
            continue
        compile_ok(block)


def test_parser_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiling builds the lark parser once per process, not once per file."""
    built = 0

    class Counted(_parser.Lark):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            nonlocal built
            built += 1
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(_parser, "Lark", Counted)
    get_parser.cache_clear()
    seed = (ROOT / "examples" / "api_handler.ariadne").read_text("utf-8")
    for _ in range(3):
        assert compile_source(SourceFile("p.ariadne", seed), Diagnostics()) is not None
    assert built == 1
    assert get_parser() is get_parser()


def _blocks(n: int) -> str:
    block = (
        "constraint c{i} {{\n    returns: Result<Response, Error>;\n    validates: input_schema;\n"
        '    max_lines: 100;\n    forbid: ["eval", "exec"];\n    naming: snake;\n'
        '    imports: {{ allow: ["json"], deny: ["pickle"] }};\n    doc: "Block {i}.";\n}}\n'
    )
    return "".join(block.format(i=i) for i in range(n))


def test_compile_work_is_linear_in_the_blocks() -> None:
    """Twice the blocks, twice the work: no step of parsing or checking looks back over
    what came before (the time is in the benchmark report)."""
    texts = {n: SourceFile("p.ariadne", _blocks(n)) for n in (100, 200)}
    assert compile_source(texts[100], Diagnostics()) is not None  # warm-up

    def work(n: int) -> int:
        return calls(lambda: compile_source(texts[n], Diagnostics()))

    assert work(200) <= 2.1 * work(100)


def test_fast_lexer_knows_every_terminal_of_the_grammar() -> None:
    from ananke.ariadne._lexer import _KEYWORDS, TOKEN_RE

    grammar = {t.name for t in get_parser().terminals} - set(get_parser().ignore_tokens)
    lexer = {g for g in TOKEN_RE.groupindex if not g.startswith("_")} | set(_KEYWORDS.values())
    assert grammar == lexer
