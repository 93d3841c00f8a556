"""Documentation and speed: every code the Ariadne stage can emit has a page, and the
parser is fast enough to run on every keystroke."""

from __future__ import annotations

import re
import statistics
import time

from ananke.ariadne import PROPERTIES, compile_source, get_parser
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.source import SourceFile
from ariadne_helpers import ROOT, compile_ok

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


def test_parser_is_built_once() -> None:
    assert get_parser() is get_parser()


def _median_ms(text: str, runs: int) -> float:
    source = SourceFile("p.ariadne", text)
    compile_source(source, Diagnostics())
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        module = compile_source(source, Diagnostics())
        times.append(time.perf_counter() - start)
        assert module is not None
    return statistics.median(times) * 1000


def test_seed_compiles_well_under_5_ms() -> None:
    seed = (ROOT / "examples" / "api_handler.ariadne").read_text("utf-8")
    assert _median_ms(seed, 200) < 2.0


def test_thousand_constraints_compile_quickly() -> None:
    block = (
        "constraint c{i} {{\n    returns: Result<Response, Error>;\n    validates: input_schema;\n"
        '    max_lines: 100;\n    forbid: ["eval", "exec"];\n}}\n'
    )
    text = "".join(block.format(i=i) for i in range(1000))
    # About 0.2 s on a 2-core machine; the bound leaves room for a loaded CI runner.
    assert _median_ms(text, 3) < 600


def test_fast_lexer_knows_every_terminal_of_the_grammar() -> None:
    from ananke.ariadne._lexer import _KEYWORDS, TOKEN_RE

    grammar = {t.name for t in get_parser().terminals} - set(get_parser().ignore_tokens)
    lexer = {g for g in TOKEN_RE.groupindex if not g.startswith("_")} | set(_KEYWORDS.values())
    assert grammar == lexer
