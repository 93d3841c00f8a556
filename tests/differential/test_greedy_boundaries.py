"""Greedy lexeme boundaries written into character-level grammars (`ir/passes/greedy.py`).

Each grammar below has lexemes that can run into each other. For every character-level
target, `arc transpile` rewrites the grammar so that its engines accept exactly what
llguidance's greedy lexer accepts: checked on strings sampled from the reference, their
mutations, and every short string over the grammar's own alphabet.
Where the rewrite cannot settle a boundary it must still warn (`lexeme-boundary`), and
then, and only then, may a target accept more than the reference; it may never reject
what the reference accepts. Each grammar the rewrite settles disagrees with the reference
when printed without it, so these tests fail if the rewrite does nothing.
"""

from __future__ import annotations

import functools
import itertools

import pytest
from ananke.backends import get_backend
from ananke.frontends.grammars import import_grammar
from ananke.ir import Diagnostics, SourceFile
from ananke.ir.grammar import Grammar
from ananke.ir.passes.boundaries import LexemeBoundaries, _Terminals
from ananke.ir.passes.greedy import banned_after, surely_allowed
from harness import candidates, compile_or_skip

from ananke.pipeline import _run_lowerings, transpile_grammar

READERS = {
    "xgrammar": ("xgrammar-ebnf",),
    "gbnf": ("llamacpp-gbnf",),
    "lark": ("lark", "xgrammar-lark"),
}

# id -> (Lark source, alphabet for exhaustive strings, lexeme boundaries left open)
GRAMMARS: dict[str, tuple[str, str, frozenset[tuple[str, str]]]] = {
    # Two words need a space between them: `ab` is one word to llguidance.
    "words": ('start: WORD WORD\nWORD: /[a-z]+/\n%ignore " "\n', "ab ", frozenset()),
    # Without a separator the second word can never start: the language is empty.
    "words-touching": ("start: WORD WORD\nWORD: /[a-z]+/\n", "ab", frozenset()),
    # A number takes every digit after it, not only some (`1.5` then `2` is `1.52`).
    "numbers-and-names": (
        "start: (NUM | NAME)+\nNUM: /[0-9]+(\\.[0-9]+)?/\nNAME: /[a-z][a-z0-9]*/\n"
        "%ignore /[ \\t]+/\n",
        "1.a ",
        frozenset(),
    ),
    # Lists through recursion and a loop, with a banned lexeme at the end of a rule:
    # `<ab>` is one item to llguidance, two to a character-level engine.
    "nested": (
        'start: item ("," item)*\nitem: WORD | "(" start ")" | WORD item | "<" item item ">"\n'
        "WORD: /[ab]+/\n",
        "ab(<>,",
        frozenset(),
    ),
    # Bounded repeats of a lexeme: unrolled into the rewrite.
    "bounded": ('start: WORD~2..4\nWORD: /[xy]+/\n%ignore " "\n', "xy ", frozenset()),
    # A keyword followed by a name, where a name may also start the statement: the lexer
    # is then considering names while it reads `def`, so `defa` is one name.
    "keyword-then-name": (
        'start: stmt+\nstmt: "def" NAME ";" | NAME "=" NAME ";"\nNAME: /[a-z]+/\n%ignore " "\n',
        "defa=; ",
        frozenset({("'def'#0", "NAME")}),
    ),
    # Too many copies to unroll: the rewrite gives up, and the boundary is reported.
    "bounded-too-long": (
        'start: WORD~2..9\nWORD: /[ab]+/\n%ignore " "\n',
        "ab",
        frozenset({("WORD", "WORD")}),
    ),
}


@functools.cache
def _grammar(key: str) -> Grammar:
    diags = Diagnostics()
    grammar = import_grammar(SourceFile(name=f"{key}.lark", text=GRAMMARS[key][0]), "lark", diags)
    assert grammar is not None, [d.message for d in diags]
    return grammar


@functools.cache
def _strings(key: str) -> tuple[str, ...]:
    reference = get_backend("llguidance").emit(_grammar(key))
    alphabet = GRAMMARS[key][1]
    longest = max(n for n in range(1, 6) if len(alphabet) ** n <= 1_500)
    exhaustive = [
        "".join(p) for n in range(1, longest + 1) for p in itertools.product(alphabet, repeat=n)
    ]
    if not any(map(compile_or_skip("llguidance-lark", reference).accepts, exhaustive)):
        return tuple(exhaustive)  # an empty language: nothing to sample
    return (*candidates(reference, 40, seed=5, max_len=16), *exhaustive)


CASES = [(key, target) for key in GRAMMARS for target in READERS]


@pytest.mark.parametrize(("key", "target"), CASES, ids=[f"{k}-{t}" for k, t in CASES])
def test_character_level_targets_read_lexemes_greedily(key: str, target: str) -> None:
    grammar = _grammar(key)
    reference = compile_or_skip("llguidance-lark", get_backend("llguidance").emit(grammar))
    diags = Diagnostics()
    text = transpile_grammar(grammar, target, diags)
    assert text is not None, [d.message for d in diags]
    open_ = GRAMMARS[key][2]
    warned = {d.message for d in diags if d.code == "lexeme-boundary"}
    assert warned == {
        f"{target} may accept more than llguidance where {a} meets {b}" for a, b in open_
    }
    for engine in READERS[target]:
        other = compile_or_skip(engine, text)
        for s in _strings(key):
            expected, got = reference.accepts(s), other.accepts(s)
            assert got or not expected, f"{engine} rejects {s!r}, which llguidance accepts"
            assert got == expected or open_, f"{engine} accepts {s!r}, llguidance does not"


SETTLED = [key for key, (_, _, open_) in GRAMMARS.items() if not open_]


@pytest.mark.parametrize("key", SETTLED)
def test_without_the_rewrite_the_grammar_reads_differently(key: str) -> None:
    """The printer alone writes each settled grammar with a different language, so the
    agreement above is the rewrite's doing."""
    grammar = _grammar(key)
    reference = compile_or_skip("llguidance-lark", get_backend("llguidance").emit(grammar))
    backend = get_backend("gbnf")
    lowered = _run_lowerings(grammar, backend.lowerings, Diagnostics())
    assert lowered is not None
    plain = compile_or_skip("llamacpp-gbnf", backend.emit(lowered))
    assert [s for s in _strings(key) if plain.accepts(s) != reference.accepts(s)]
    assert LexemeBoundaries().run(grammar).ambiguous  # and the check alone reports it


def test_banned_characters_are_those_every_string_continues_with() -> None:
    grammar = _grammar("numbers-and-names")
    terms = _Terminals(grammar)
    _, dfa_of = LexemeBoundaries()._analysis(grammar)
    banned = banned_after(grammar, terms, dfa_of)
    digits, lower = (ord("0"), ord("9")), (ord("a"), ord("z"))
    # `1.5` may not be followed by `.`, but `1` may (as `1.` is not a number): only digits
    # continue every number. Every name continues with a digit or a letter.
    assert banned["NUM"] == (digits,)
    assert banned["NAME"] == (digits, lower)
    assert banned["IGNORE"] == ((ord("\t"), ord("\t")), (ord(" "), ord(" ")))


def test_surely_allowed_holds_what_every_path_allows() -> None:
    src = 'start: x | "b" "c"\nx: "a" | "b" "d"\n'
    grammar = import_grammar(SourceFile(name="t.lark", text=src), "lark", Diagnostics())
    assert grammar is not None
    terms = _Terminals(grammar)
    names = {terms.expr[n].text: n for n in terms.expr}  # type: ignore[union-attr]
    sure = {
        terms.expr[t].text: {terms.expr[n].text for n in s}
        for t, s in surely_allowed(grammar, terms).items()
    }  # type: ignore[union-attr]
    assert set(names) == {"a", "b", "c", "d"}
    assert sure["a"] == {"a", "b"}  # both alternatives of start, and of x, start there
    assert sure["b"] == {"a", "b"}
    assert sure["c"] == {"c"}
    assert sure["d"] == {"d"}
