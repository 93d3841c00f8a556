"""Forbidden names under NFKC: Python reads `ｅval` as `eval`, so the grammar and the
validator must too."""

from __future__ import annotations

import unicodedata

import pytest
from ananke.ariadne import compile_source
from ananke.ir import Diagnostics, SourceFile
from ananke.languages.python import nfkc
from ananke.runtime.engines import get_engine
from ananke.runtime.validate import validate

from ananke.pipeline import emit, lower_for_target


def test_table_is_what_unicodedata_says(monkeypatch: pytest.MonkeyPatch) -> None:
    if unicodedata.unidata_version != nfkc._UNICODE_VERSION:
        pytest.skip("the table is for another Unicode version; the map is computed instead")
    monkeypatch.setattr(nfkc, "_UNICODE_VERSION", "")  # force the computation
    nfkc.ascii_spellings.cache_clear()
    try:
        assert nfkc.ascii_spellings() == nfkc._TABLE
    finally:
        nfkc.ascii_spellings.cache_clear()


def _spellings(word: str) -> list[str]:
    """``word`` with one letter at a time replaced by each character that normalizes to it,
    plus every ligature that spells two or more letters of it."""
    table = nfkc.ascii_spellings()
    out = []
    for i, ch in enumerate(word):
        for lo, hi in table.get(ch, ()):
            out.extend(word[:i] + chr(cp) + word[i + 1 :] for cp in range(lo, hi + 1))
    for text, ranges in table.items():
        if len(text) > 1 and text in word:
            at = word.index(text)
            for lo, hi in ranges:
                out.extend(word[:at] + chr(cp) + word[at + len(text) :] for cp in range(lo, hi + 1))
    return out


@pytest.mark.parametrize(
    ("target", "engine"), [("llguidance", "llguidance-lark"), ("xgrammar", "xgrammar-ebnf")]
)
def test_every_spelling_of_a_forbidden_name_is_rejected(target: str, engine: str) -> None:
    text = 'constraint c {\n    forbid: ["eval", "file"];\n}\n'
    diags = Diagnostics()
    module = compile_source(SourceFile(name="c.ariadne", text=text), diags)
    assert module is not None
    lowered = lower_for_target(module, target, Diagnostics())
    assert lowered is not None
    grammar = get_engine(engine).compile(emit(lowered[0], target))
    spelled = _spellings("eval") + _spellings("file")
    assert len(spelled) > 100
    for word in spelled:
        assert unicodedata.normalize("NFKC", word) in ("eval", "file")
        code = f"def f(x):\n    return {word}(x)\n"
        assert not grammar.accepts(code), word
    # Neighbours stay allowed: other names, attributes, the names in strings.
    for ok in ("evalu", "ｅvaｌ2", "ﬁles", "x.ｅval", "'ｅval'"):
        assert grammar.accepts(f"def f(x):\n    return {ok}(x)\n"), ok


def test_validator_reads_names_as_python_does() -> None:
    text = 'constraint c {\n    forbid: ["eval"];\n}\n'
    module = compile_source(SourceFile(name="c.ariadne", text=text), Diagnostics())
    assert module is not None
    found = validate("def f(x):\n    return ｅval(x)\n", module.sets[0])
    assert [(v.constraint_id, v.line, v.column) for v in found] == [("c.forbid.eval", 2, 12)]
    assert validate("def f(x):\n    return x.ｅval()\n", module.sets[0]) == []
