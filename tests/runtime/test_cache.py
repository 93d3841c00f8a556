"""The grammar cache: a set is compiled once per content, in memory and on disk."""

from __future__ import annotations

from pathlib import Path

from ananke.runtime.cache import GrammarCache

import ananke
from ananke import driver
from ananke.generation import compile_set

SOURCE = 'constraint s {\n    forbid: ["eval"];\n    max_lines: 10;\n}\n'


def _compile(cache: GrammarCache, source: str = SOURCE, target: str = "vllm"):  # type: ignore[no-untyped-def]
    report = driver.Report()
    compiled = compile_set(ananke.compile(source), None, target, report, cache)
    assert compiled is not None, list(report.diags)
    return compiled


def test_compiled_once_in_memory(tmp_path: Path) -> None:
    cache = GrammarCache(tmp_path)
    first = _compile(cache)
    second = _compile(cache)
    assert second is first
    assert (cache.misses, cache.hits) == (1, 1)
    # The text is what `arc emit` prints for the set.
    assert first.text == ananke.emit(ananke.compile(SOURCE), "vllm")


def test_read_back_from_disk(tmp_path: Path) -> None:
    first = _compile(GrammarCache(tmp_path))
    fresh = GrammarCache(tmp_path)
    again = _compile(fresh)
    assert (fresh.misses, fresh.hits) == (0, 1)
    assert again.text == first.text and again.body == first.body
    assert again.enforcements == first.enforcements and again.cset == first.cset
    assert again.grammar_hash == first.grammar_hash


def test_key_follows_content_and_target(tmp_path: Path) -> None:
    cache = GrammarCache(tmp_path)
    _compile(cache)
    _compile(cache, SOURCE.replace("10", "11"))
    _compile(cache, target="sglang")
    assert cache.misses == 3 and len(list(tmp_path.glob("*.json"))) == 3


def test_a_corrupt_entry_is_compiled_again(tmp_path: Path) -> None:
    _compile(GrammarCache(tmp_path))
    (entry,) = tmp_path.glob("*.json")
    entry.write_bytes(b"{not json")
    fresh = GrammarCache(tmp_path)
    compiled = _compile(fresh)
    assert fresh.misses == 1 and compiled.text.startswith("{")
    assert entry.read_bytes().startswith(b'{"cset"')


def test_unwritable_cache_only_costs_a_compile(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = GrammarCache(blocker / "sub")  # a folder inside a file cannot exist
    assert _compile(cache).text
