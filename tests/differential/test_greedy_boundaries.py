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
from ananke.ir.grammar import Alt, Expr, Grammar, Lit, Ref, Regex, Repeat, Rule, Seq, walk
from ananke.ir.passes.boundaries import LexemeBoundaries, Terminals
from ananke.ir.passes.greedy import banned_after, surely_allowed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ananke.pipeline import _run_lowerings, transpile_grammar
from tests.differential.harness import (
    candidates,
    compile_guarded,
    compile_or_skip,
    outlines_can_index,
    sampled_candidates,
)
from tests.hypothesis_profiles import examples

READERS = {
    "xgrammar": ("xgrammar-ebnf",),
    "gbnf": ("llamacpp-gbnf",),
    "lark": ("lark", "xgrammar-lark"),
    "regex": ("outlines-regex", "llguidance-regex"),
}


def _printed(grammar: Grammar, target: str, diags: Diagnostics) -> str | None:
    """What `arc transpile` prints for ``target`` (the regex without its newline); None
    only for a regex target and a grammar that is not regular, or too large as one."""
    text = transpile_grammar(grammar, target, diags)
    if text is None:
        assert target == "regex", [d.message for d in diags]
        assert {d.code for d in diags} <= {
            "not-regular",
            "regex-too-large",
            "target-cannot-express",
        }
        return None
    return text.removesuffix("\n") if target == "regex" else text


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
    # is then considering names while it reads `do`, so `doo` is one name.
    "keyword-then-name": (
        'start: stmt+\nstmt: "do" NAME ";" | NAME "=" NAME ";"\nNAME: /[a-z]+/\n%ignore " "\n',
        "do=; ",
        frozenset(),
    ),
    # `.` continues `1` (into `1.5`) but not `1.5`: no ban, and the boundary stays open.
    # llguidance reads `1.` as the start of a number and rejects `1.a`.
    "number-then-dot": (
        'start: NUM "." NAME\nNUM: /[0-9]+(\\.[0-9]+)?/\nNAME: /[a-z]+/\n',
        "1.a",
        frozenset({("NUM", '"."')}),  # an anonymous lexeme is shown as written
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
    text = _printed(grammar, target, diags)
    if text is None:
        return
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
    terms = Terminals(grammar)
    _, dfa_of = LexemeBoundaries()._analysis(grammar)
    banned = banned_after(grammar, terms, dfa_of)
    digits, lower = (ord("0"), ord("9")), (ord("a"), ord("z"))
    # `1.5` may not be followed by `.`, but `1` may (as `1.` is not a number): only digits
    # continue every number. Every name continues with a digit or a letter.
    assert banned["NUM"] == (digits,)
    assert banned["NAME"] == (digits, lower)
    assert banned["IGNORE"] == ((ord("\t"), ord("\t")), (ord(" "), ord(" ")))


def test_surely_allowed_reads_past_ignored_text() -> None:
    """After `%ignore`d text every alternative that was allowed before it still is, so the
    lexer reading `do` is considering names too (the rewrite then bans letters after it)."""
    grammar = _grammar("keyword-then-name")
    terms = Terminals(grammar)
    sure = surely_allowed(grammar, terms)
    assert sure["'do'#0"] == {"'do'#0", "NAME", "IGNORE"}
    # After `do` and a space, only a name may come.
    assert sure["NAME"] >= {"NAME", "IGNORE"} and "'do'#0" not in sure["NAME"]


def test_surely_allowed_holds_what_every_path_allows() -> None:
    src = 'start: x | "b" "c"\nx: "a" | "b" "d"\n'
    grammar = import_grammar(SourceFile(name="t.lark", text=src), "lark", Diagnostics())
    assert grammar is not None
    terms = Terminals(grammar)
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


# --- random grammars ----------------------------------------------------------------------

# Lexemes that run into each other and into themselves, some over two- and three-byte
# characters. `O` repeats one character: where it must be followed by itself llguidance
# 1.9.1 hangs computing masks, which the harness's worker recognises (`ENDLESS_FORCING`).
LEXEMES = {
    "W": "[ab]+",
    "P": "a[bc]*",
    "Q": "c[ab]?",
    "N": "[bc]+(a[bc]+)?",
    "U": "[é中][aé]*",
    "O": "中+",
}
_ATOMS = st.sampled_from(
    [
        *(Ref(name=n) for n in LEXEMES),
        Lit(text="ab"),
        Lit(text="c"),
        Lit(text="a"),
        Lit(text="é"),
    ]
)


def _body(names: list[str]) -> st.SearchStrategy[Expr]:
    atoms = (
        st.one_of(_ATOMS, st.sampled_from(names).map(lambda n: Ref(name=n))) if names else _ATOMS
    )
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: Seq(items=tuple(xs))),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: Alt(items=tuple(xs))),
            st.tuples(inner, st.integers(0, 1), st.sampled_from([1, 2, 3, None])).map(
                lambda t: Repeat(item=t[0], min=t[1], max=t[2])
            ),
        ),
        max_leaves=6,
    )


@st.composite
def lexeme_grammars(draw: st.DrawFn) -> Grammar:
    """Rules r0..rk over multi-character lexemes; a rule refers only to later ones, and
    sometimes r0 is a list that refers to itself at its end. Sometimes blanks are
    skipped as `%ignore` is imported: `S*` before every lexeme and at the end."""
    k = draw(st.integers(1, 4))
    names = [f"r{i}" for i in range(k)]
    rules = [Rule(name=n, body=draw(_body(names[i + 1 :]))) for i, n in enumerate(names)]
    if draw(st.booleans()):
        again = Seq(items=(rules[0].body, Lit(text=","), Ref(name="r0")))
        rules[0] = Rule(name="r0", body=Alt(items=(rules[0].body, again)))
    used = {n for r in rules for e in walk(r.body) if isinstance(e, Ref) for n in [e.name]}
    lexemes = [
        Rule(name=n, body=Regex(pattern=p), lexeme=True) for n, p in LEXEMES.items() if n in used
    ]
    if draw(st.booleans()):
        skip = Repeat(item=Ref(name="S"), min=0, max=None)

        def blanks(e: Expr) -> Expr:
            if isinstance(e, Lit) or (isinstance(e, Ref) and e.name in LEXEMES):
                return Seq(items=(skip, e))
            if isinstance(e, Seq | Alt):
                return type(e)(items=tuple(map(blanks, e.items)))
            if isinstance(e, Repeat):
                return Repeat(item=blanks(e.item), min=e.min, max=e.max)
            return e

        rules = [Rule(name=r.name, body=blanks(r.body)) for r in rules]
        rules[0] = Rule(name="r0", body=Seq(items=(rules[0].body, skip)))
        lexemes.append(Rule(name="S", body=Regex(pattern="[ ]+"), lexeme=True))
    return Grammar(start="r0", rules=(*rules, *lexemes))


STRING_CHARS = "abc, é中"
# Every string of up to three characters over most of them; longer ones are drawn, and
# sampled from the reference (where lexemes meet).
SHORT = ["".join(p) for n in range(1, 4) for p in itertools.product("abc, é", repeat=n)]
_DRAWN = st.lists(st.text(st.sampled_from(STRING_CHARS), min_size=4, max_size=8), max_size=8)


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(grammar=lexeme_grammars(), drawn=_DRAWN, seed=st.integers(0, 2**16))
def test_random_lexeme_grammars_read_greedily(
    grammar: Grammar, drawn: list[str], seed: int
) -> None:
    """No target rejects what llguidance accepts, and where `arc transpile` gives no
    `lexeme-boundary` warning every target accepts exactly what llguidance accepts."""
    grammar.verify()
    reference_text = get_backend("llguidance").emit(grammar)
    reference = compile_guarded("llguidance-lark", reference_text)
    sampled = sampled_candidates("llguidance-lark", reference_text, 15, seed=seed, max_len=12)
    strings = list(dict.fromkeys([*SHORT, *drawn, *sampled]))
    accepted = {s for s, ok in zip(strings, reference.decide(strings), strict=True) if ok}
    for target, engines in READERS.items():
        diags = Diagnostics()
        text = _printed(grammar, target, diags)
        if text is None:
            continue
        warned = any(d.code == "lexeme-boundary" for d in diags)
        for engine in engines:
            if engine == "outlines-regex" and not outlines_can_index(text):
                continue  # OUTLINES_INDEX: minutes to index; llguidance-regex reads it
            other = compile_guarded(engine, text)
            for s, got in zip(strings, other.decide(strings), strict=True):
                assert got or s not in accepted, f"{engine} rejects {s!r}:\n{text}"
                assert not got or s in accepted or warned, f"{engine} accepts {s!r}:\n{text}"
