"""Forbidden names under NFKC: Python reads `ｅval` as `eval`, so the grammar and the
validator must too.

The spellings come from a brute force over every code point with `unicodedata` and
`str.isidentifier` (the definitions Python itself uses), never from the module's table,
and they run on any Python: the table is checked where it is used, the computed map
everywhere else.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator

import pytest
from ananke.ariadne import compile_source
from ananke.engines.membership import Compiled, get_engine
from ananke.ir import Diagnostics, SourceFile
from ananke.languages.python import nfkc
from ananke.languages.validate import validate

from ananke.pipeline import emit, lower_for_target


@functools.cache
def _read_as_ascii() -> dict[str, frozenset[int]]:
    """ASCII text -> every non-ASCII code point that Python accepts in an identifier and
    reads (NFKC) as that text.

    One character at a time is enough: NFKC composes only into non-ASCII characters, so a
    name normalizes to ASCII exactly when each of its characters does, and then to the
    concatenation of their forms. A character that may only continue a name (a fullwidth
    digit) counts too: the grammar's identifiers take any non-ASCII character.
    """
    found: dict[str, set[int]] = {}
    normalize = unicodedata.normalize
    for cp in (*range(0x80, 0xD800), *range(0xE000, 0x110000)):
        ch = chr(cp)
        text = normalize("NFKC", ch)
        if text.isascii() and ("a" + ch).isidentifier():
            found.setdefault(text, set()).add(cp)
    return {text: frozenset(cps) for text, cps in found.items()}


def _code_points(table: dict[str, tuple[tuple[int, int], ...]]) -> dict[str, frozenset[int]]:
    return {
        text: frozenset(cp for lo, hi in ranges for cp in range(lo, hi + 1))
        for text, ranges in table.items()
    }


def test_the_brute_force_sees_what_python_reads() -> None:
    """The oracle itself: ASCII never maps elsewhere, and the spellings it finds are read
    by Python's own compiler as the ASCII name."""
    found = _read_as_ascii()
    assert all(unicodedata.normalize("NFKC", chr(cp)) == chr(cp) for cp in range(0x80))
    assert 0xFF45 in found["e"] and 0xFB01 in found["fi"] and 0x212A in found["K"]
    assert all(text.isascii() and ("a" + text).isidentifier() for text in found)
    # Characters that normalize to ASCII but cannot stand in a name are not spellings.
    assert 0x00B2 not in found.get("2", ()) and 0xFF0B not in found.get("+", ())
    namespace: dict[str, object] = {}
    exec(compile("ｅval_ﬁle = 1\n", "<nfkc>", "exec"), namespace)
    assert "eval_file" in namespace


def test_the_map_is_what_python_reads_on_this_python() -> None:
    """What the grammar uses (the table on its Unicode version, the computed map on any
    other) is exactly the brute force's answer: every character, no other."""
    nfkc.ascii_spellings.cache_clear()
    try:
        assert _code_points(nfkc.ascii_spellings()) == _read_as_ascii()
    finally:
        nfkc.ascii_spellings.cache_clear()


def test_the_computed_map_is_what_python_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The map the module computes when the table is for another Unicode version, run here
    whatever the version (on the table's own version this also checks the table)."""
    monkeypatch.setattr(nfkc, "_UNICODE_VERSION", "")  # force the computation
    nfkc.ascii_spellings.cache_clear()
    try:
        computed = nfkc.ascii_spellings()
        assert computed is not nfkc._TABLE
        assert _code_points(computed) == _read_as_ascii()
    finally:
        nfkc.ascii_spellings.cache_clear()
    if unicodedata.unidata_version == nfkc._UNICODE_VERSION:
        assert _code_points(nfkc._TABLE) == _read_as_ascii()


def _spellings(word: str) -> Iterator[str]:
    """``word`` with one letter at a time replaced by each character Python reads as it,
    with every ligature that spells two or more letters of it, and with every letter
    replaced at once (the n-th spelling of each)."""
    found = _read_as_ascii()
    for i, ch in enumerate(word):
        for cp in sorted(found.get(ch, ())):
            yield word[:i] + chr(cp) + word[i + 1 :]
    for text, cps in found.items():
        if len(text) > 1 and text in word:
            at = word.index(text)
            for cp in sorted(cps):
                yield word[:at] + chr(cp) + word[at + len(text) :]
    columns = [sorted(found[ch]) for ch in word]
    for n in range(max(map(len, columns))):
        yield "".join(chr(col[n % len(col)]) for col in columns)


def _forbidden(text: str) -> str:
    """The forbidden name that holds ``text``: ``text`` then ``q`` (after ``_`` when it is a
    digit), so that each character read as ``text`` spells it with one character."""
    return f"_{text}q" if text[0].isdigit() else f"{text}q"


@functools.cache
def _grammar(target: str, engine: str, forbid: tuple[str, ...]) -> Compiled:
    names = ", ".join(f'"{name}"' for name in forbid)
    text = f"constraint c {{\n    forbid: [{names}];\n}}\n"
    diags = Diagnostics()
    module = compile_source(SourceFile(name="c.ariadne", text=text), diags)
    assert module is not None, diags
    lowered = lower_for_target(module, target, Diagnostics())
    assert lowered is not None
    return get_engine(engine).compile(emit(lowered[0], target))


_CODE = "def fn(arg):\n    return {}(arg)\n"


@pytest.mark.parametrize(
    ("target", "engine"), [("llguidance", "llguidance-lark"), ("xgrammar", "xgrammar-ebnf")]
)
def test_every_spelling_of_a_forbidden_name_is_rejected(target: str, engine: str) -> None:
    grammar = _grammar(target, engine, ("eval", "file"))
    spelled = [*_spellings("eval"), *_spellings("file")]
    assert len(spelled) > 100
    for word in spelled:
        assert unicodedata.normalize("NFKC", word) in ("eval", "file")
        assert not grammar.accepts(_CODE.format(word)), word
    # Neighbours stay allowed: other names, attributes, the names in strings.
    for ok in ("evalu", "ｅvaｌ2", "ﬁles", "arg.ｅval", "'ｅval'"):
        assert grammar.accepts(_CODE.format(ok)), ok


def _forbidden(text: str) -> str:
    """The forbidden name that holds ``text``: ``text`` then ``q`` (after ``_`` when it is a
    digit), so that each character read as ``text`` spells it alone. A shared first letter
    (``q`` then the text) would not do: llguidance's lexer then runs out of its budget."""
    return f"_{text}q" if text[0].isdigit() else f"{text}q"


# With about a hundred names forbidden, llguidance's lexer runs out of its budget ("too
# many expressions constructed") on an identifier that starts with an astral character
# (a mathematical letter), and the grammar, cached by llguidance, then fails every input:
# a limit of its own, not a gap in the table. It reads the names 25 at a time.
@pytest.mark.parametrize(
    ("target", "engine", "group"),
    [("llguidance", "llguidance-lark", 25), ("xgrammar", "xgrammar-ebnf", 1000)],
)
def test_every_character_read_as_ascii_is_known_to_the_grammar(
    target: str, engine: str, group: int
) -> None:
    """Each of the characters Python reads as ASCII, in a forbidden name: rejected; with
    one more letter after it: another name, accepted."""
    found = _read_as_ascii()
    texts = sorted(found)
    checked = 0
    for at in range(0, len(texts), group):
        some = texts[at : at + group]
        grammar = _grammar(target, engine, tuple(_forbidden(text) for text in some))
        for text in some:
            name = _forbidden(text)
            for cp in sorted(found[text]):
                word = name.replace(text, chr(cp), 1)
                assert unicodedata.normalize("NFKC", word) == name
                assert not grammar.accepts(_CODE.format(word)), (text, hex(cp))
                assert grammar.accepts(_CODE.format(word + "z")), (text, hex(cp))
                checked += 1
    assert checked == sum(map(len, found.values()))


def test_validator_reads_names_as_python_does() -> None:
    text = 'constraint c {\n    forbid: ["eval"];\n}\n'
    module = compile_source(SourceFile(name="c.ariadne", text=text), Diagnostics())
    assert module is not None
    found = validate("def f(x):\n    return ｅval(x)\n", module.sets[0])
    assert [(v.constraint_id, v.line, v.column) for v in found] == [("c.forbid.eval", 2, 12)]
    assert validate("def f(x):\n    return x.ｅval()\n", module.sets[0]) == []
