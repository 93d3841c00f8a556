"""Property tests across every engine: random grammars and random strings, and random
forbidden words, decided the same way by every target's engine as by the reference.

Random grammars are CFGs over one-character lexemes (literals, classes and ranges of a
small alphabet of one- to four-byte characters): for those llguidance's greedy lexer and
character-level matching agree, so any disagreement is a bug in a backend, a lowering or an
engine, not the documented `lexeme-boundary` difference. A repeat never directly repeats
a repeat: llguidance's GBNF reader misreads `(x{0,2}){0,2}` (it drops the group and fails),
a bug of that reader recorded in `backends/gbnf.py`; llama.cpp reads it. One deviation is
excused: llguidance's GBNF reader turns non-recursive rules into greedy lexemes (see
`backends/gbnf.py`), so it may reject what llama.cpp and the reference accept (never the
other way round).

Every engine call runs in the harness's worker under a time limit: a hang fails the example
with the engine, the grammar and the string (see `engine_worker`), except llguidance's
known endless-forcing hang, recognised exactly, on strings it then decides with forcing off.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ananke.ariadne import compile_source
from ananke.backends import get_backend
from ananke.ir import Diagnostics, SourceFile
from ananke.ir.grammar import (
    Alt,
    And,
    CharClass,
    Empty,
    Expr,
    Grammar,
    Lit,
    Not,
    Ref,
    Repeat,
    Rule,
    Seq,
)
from ananke.runtime.engines import Deviation
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ananke.pipeline import GRAMMAR_LOWERINGS, emit, lower_for_target, transpile_grammar
from tests.differential.harness import (
    RemoteCompiled,
    check_agreement,
    compile_guarded,
    compile_or_skip,
    outlines_can_index,
    report,
    sampled_candidates,
)
from tests.hypothesis_profiles import examples

# One, two, three and four UTF-8 bytes.
ALPHABET = "abé中\U0001d4b6"
# Strings also hold a character no grammar names, and NUL.
STRING_CHARS = ALPHABET + "x\x00"

# target -> the engines that read it (regex only when the grammar is regular)
READERS = {
    "lark-vllm": ("llguidance-lark",),
    "xgrammar": ("xgrammar-ebnf",),
    "gbnf": ("llguidance-gbnf", "llamacpp-gbnf"),
    "lark": ("lark", "xgrammar-lark"),
    "regex": ("outlines-regex", "llguidance-regex"),
}

_CHAR = st.sampled_from(ALPHABET)


def _class(chars: list[str], negated: bool) -> CharClass:
    """The class of ``chars``: single characters, or with two, sometimes the range between
    them (across the lengths of their UTF-8 encodings)."""
    return CharClass(ranges=tuple((ord(c), ord(c)) for c in sorted(chars)), negated=negated)


def _atom(names: list[str]) -> st.SearchStrategy[Expr]:
    options: list[st.SearchStrategy[Expr]] = [
        _CHAR.map(lambda c: Lit(text=c)),
        st.builds(_class, st.lists(_CHAR, min_size=1, max_size=3, unique=True), st.booleans()),
        st.lists(_CHAR, min_size=2, max_size=2, unique=True).map(
            lambda cs: CharClass(ranges=((ord(min(cs)), ord(max(cs))),))
        ),
    ]
    if names:
        options.append(st.sampled_from(names).map(lambda n: Ref(name=n)))
    return st.one_of(options)


def _expr(names: list[str]) -> st.SearchStrategy[Expr]:
    return st.recursive(
        _atom(names),
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: Seq(items=tuple(xs))),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: Alt(items=tuple(xs))),
            st.tuples(
                inner.filter(lambda e: not isinstance(e, Repeat)),
                st.integers(0, 2),
                st.one_of(st.none(), st.integers(0, 3)),
            ).map(lambda t: Repeat(item=t[0], min=t[1], max=None if t[2] is None else t[1] + t[2])),
        ),
        max_leaves=8,
    )


@st.composite
def _automaton(draw: st.DrawFn) -> list[Rule]:
    """Rules s0..sm in the shape of an automaton (each alternative a class or literal, then
    a state; ``""`` where a state accepts): right-linear recursion, which the regex target
    solves back into a regular expression; and ``lst ::= a | lst b``, left recursion, which
    llama.cpp refuses until it is rewritten into a repeat."""
    m = draw(st.integers(1, 3))
    states = [f"s{i}" for i in range(m)]
    rules = []
    for name in states:
        alts: list[Expr] = [
            Seq(items=(draw(_atom([])), Ref(name=draw(st.sampled_from(states)))))
            for _ in range(draw(st.integers(1, 3)))
        ]
        if draw(st.booleans()) or name == states[-1]:
            alts.append(Empty())
        rules.append(Rule(name=name, body=Alt(items=tuple(alts))))
    left = Alt(items=(draw(_atom([])), Seq(items=(Ref(name="lst"), draw(_atom(["s0"]))))))
    return [*rules, Rule(name="lst", body=left)]


@st.composite
def grammars(draw: st.DrawFn) -> Grammar:
    """Rules r0..rk; a rule refers only to later ones (no recursion, so every target can
    hold it, the regex one included); sometimes one recursive rule of balanced pairs, and
    sometimes an automaton's right-linear rules and a left-recursive list."""
    k = draw(st.integers(1, 6))
    names = [f"r{i}" for i in range(k)]
    rules = [Rule(name=name, body=draw(_expr(names[i + 1 :]))) for i, name in enumerate(names)]
    if draw(st.booleans()):
        extra = draw(_automaton())
        rules.extend(extra)
        where = draw(st.sampled_from(["s0", "lst"]))
        rules[k - 1] = Rule(name=names[k - 1], body=Seq(items=(rules[k - 1].body, Ref(name=where))))
    if draw(st.booleans()):
        # pair: "a" pair "b" | ε  — recursion that a regex cannot hold
        pair = Alt(items=(Seq(items=(Lit(text="a"), Ref(name="pair"), Lit(text="b"))), Empty()))
        rules.append(Rule(name="pair", body=pair))
        rules[0] = Rule(name="r0", body=Seq(items=(rules[0].body, Ref(name="pair"))))
    return Grammar(start="r0", rules=tuple(rules))


# Every string of up to two characters; longer ones are drawn, and sampled from the reference.
SHORT = ["".join(p) for n in range(3) for p in itertools.product(STRING_CHARS, repeat=n)]
_DRAWN = st.lists(st.text(st.sampled_from(STRING_CHARS), min_size=3, max_size=8), max_size=8)


def _gbnf_reader(reference: RemoteCompiled) -> Deviation:
    return Deviation(
        "llguidance-gbnf-reader",
        "llguidance reads GBNF's non-recursive rules as greedy lexemes",
        reference.accepts,
    )


# llguidance 1.9.1 hangs computing masks of some GBNF it reads (`root ::= r r` with
# `r ::= "a"{2,}`, which its converter makes `R: /a{2,}/`): the worker recognises that
# exactly (`ENDLESS_FORCING`), and any other hang fails the example.
@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(grammar=grammars(), drawn=_DRAWN, seed=st.integers(0, 2**16))
def test_random_grammars_every_engine_agrees(
    grammar: Grammar, drawn: Sequence[str], seed: int
) -> None:
    grammar.verify()
    reference_text = get_backend("llguidance").emit(grammar)
    reference = compile_guarded("llguidance-lark", reference_text)
    sampled = sampled_candidates("llguidance-lark", reference_text, 12, seed=seed, max_len=8)
    strings = list(dict.fromkeys([*SHORT, *drawn, *sampled]))
    found = []
    for target, engines in READERS.items():
        diags = Diagnostics()
        text = transpile_grammar(grammar, target, diags)
        if text is None:
            assert target == "regex", [d.message for d in diags]
            assert {d.code for d in diags} <= {
                "not-regular",
                "regex-too-large",
                "target-cannot-express",
            }
            continue
        assert not [d for d in diags if d.code == "lexeme-boundary"], text
        if target == "regex":
            text = text.removesuffix("\n")
        for engine in engines:
            if engine == "outlines-regex" and not outlines_can_index(text):
                continue  # OUTLINES_INDEX: minutes to index; llguidance-regex reads it
            other = compile_guarded(engine, text)
            excuse = {engine: (_gbnf_reader(reference),)} if engine == "llguidance-gbnf" else {}
            found += check_agreement(reference, {engine: other}, strings, excuse)
    assert not found, report(found)


# --- forbidden words ------------------------------------------------------------------

_WORD_START = st.sampled_from([*"abzéπжΩ_", "\u4e2d"])
_WORD_REST = st.sampled_from([*"az09_éπ", "\U0001d4b6"])
WORDS = st.tuples(_WORD_START, st.lists(_WORD_REST, max_size=4)).map(lambda t: t[0] + "".join(t[1]))


@settings(max_examples=examples(25), deadline=None)
@given(words=st.lists(WORDS, min_size=1, max_size=4, unique=True))
def test_identifier_minus_words_through_automata(words: list[str]) -> None:
    """`ID & ~(w1|w2|...)`, which only llguidance can say directly, becomes an automaton
    for every other target; all of them accept exactly the identifiers not listed."""
    ident = Rule(
        name="ID",
        lexeme=True,
        body=Seq(
            items=(
                CharClass(ranges=((ord("_"), ord("_")), (ord("a"), ord("z")), (0xC0, 0x10FFFF))),
                Repeat(
                    item=CharClass(
                        ranges=(
                            (ord("0"), ord("9")),
                            (ord("_"), ord("_")),
                            (ord("a"), ord("z")),
                            (0xC0, 0x10FFFF),
                        )
                    )
                ),
            )
        ),
    )
    ok = Rule(
        name="OK",
        lexeme=True,
        body=And(items=(Ref(name="ID"), Not(item=Alt(items=tuple(Lit(text=w) for w in words))))),
    )
    grammar = Grammar(start="start", rules=(Rule(name="start", body=Ref(name="OK")), ident, ok))
    reference = compile_guarded("llguidance-lark", get_backend("llguidance").emit(grammar))
    near = [w + s for w in words for s in ("", "a", "0")] + [w[:-1] for w in words if len(w) > 1]
    candidates = [*near, "a", "_", "9a", "", "a b"]
    for w in words:
        assert not reference.accepts(w)
    for target in ("xgrammar", "gbnf", "lark"):
        diags = Diagnostics()
        text = transpile_grammar(grammar, target, diags)
        assert text is not None, [d.message for d in diags]
        engine = READERS[target][0]
        other = compile_guarded(engine, text)
        excuse = {engine: (_gbnf_reader(reference),)} if engine == "llguidance-gbnf" else {}
        found = check_agreement(reference, {engine: other}, candidates, excuse)
        assert not found, report(found)
        assert not any(other.accepts(w) for w in words)


_PY_WORDS = st.from_regex(r"[a-zE_][a-z0-9_]{0,4}", fullmatch=True) | st.text(
    st.sampled_from([*"abzE_09", "é", "π", "ｅ", "\u4e2d", '"', "\\", " ", "."]),
    min_size=1,
    max_size=5,
)
_KEYWORDS = frozenset(__import__("keyword").kwlist)


@settings(max_examples=examples(8), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(word=_PY_WORDS)
@example(word="eval")
@example(word="f")
@example(word="x")
@example(word="é")
@example(word='a"b')
@example(word="if")
@example(word="import")
@example(word="match")
@example(word="def")
def test_a_forbidden_name_is_rejected_by_every_target(word: str) -> None:
    """`forbid: [w]` for an arbitrary string w: an ASCII identifier is rejected as a bare
    name by every target's grammar, in every NFKC spelling, while its neighbours pass; a
    keyword is also rejected where it stands as one (statements, block openers,
    expressions, f-string fields), soft keywords included; `def`, which every output
    spells, and anything else are refused with a diagnostic, never passed on."""
    import keyword
    import sys

    literal = word.replace("\\", "\\\\").replace('"', '\\"')
    text = f'constraint c {{\n    forbid: ["{literal}"];\n}}\n'
    diags = Diagnostics()
    module = compile_source(SourceFile(name="w.ariadne", text=text), diags)
    valid = word.isascii() and all(p.isidentifier() for p in word.split("."))
    if not valid or "." in word or word == "def":
        if module is None or word == "def":
            assert module is None
            assert {d.code for d in diags} == {"invalid-value"}, [d.message for d in diags]
            assert all(d.primary_span is not None for d in diags)
        return
    assert module is not None, [d.message for d in diags]

    def fn(*body: str, head: str = "def") -> str:
        return f"{head} handler(values):\n" + "".join(f"    {line}\n" for line in body)

    # The function's own name and its parameter's are longer than any drawn word: `def f`
    # would be forbidden too when the word is `f` (the def binds the name), and so would
    # a parameter `x` when the word is `x`. Python reads `ｉf` as the name `if` (NFKC),
    # never as the keyword.
    spellings = [word]
    if word[0].isascii() and word[0].isalpha():
        spellings.append(chr(ord(word[0]) + 0xFEE0) + word[1:])
    uses = [fn(f"values = {w}(values)") for w in spellings]
    block = ("    pass",)
    as_keyword: dict[str, list[str]] = {
        "False": [fn("return False")],
        "None": [fn("return None"), fn("return f'{values or None}'")],
        "True": [fn("return values is True")],
        "and": [fn("return values and values")],
        "as": [fn("import os as o"), fn("with values as v:", *block)],
        "assert": [fn("assert values")],
        "async": [fn("return values", head="async def")],
        "await": [fn("return await values", head="async def")],
        "break": [fn("while values:", "    break")],
        "class": [fn("class C:", *block)],
        "continue": [fn("for v in values:", "    continue")],
        "del": [fn("del values")],
        "elif": [fn("if values:", *block, "elif values:", *block)],
        "else": [fn("if values:", *block, "else:", *block), fn("return 1 if values else 2")],
        "except": [fn("try:", *block, "except E:", *block)],
        "finally": [fn("try:", *block, "finally:", *block)],
        "for": [fn("for v in values:", *block), fn("return [v for v in values]")],
        "from": [fn("from . import x"), fn("yield from values")],
        "global": [fn("global counter")],
        "if": [fn("if values:", *block), fn("return [v for v in values if v]")],
        "import": [fn("import os"), fn("from . import x")],
        "in": [fn("return 1 in values"), fn("return f'{1 in values}'")],
        "is": [fn("return values is not values")],
        "lambda": [fn("return lambda: values")],
        "nonlocal": [fn("def inner():", "    nonlocal values")],
        "not": [fn("return not values"), fn("return 1 not in values")],
        "or": [fn("return values or values")],
        "pass": [fn("pass")],
        "raise": [fn("raise values")],
        "return": [fn("return values")],
        "try": [fn("try:", *block, "finally:", *block)],
        "while": [fn("while values:", *block)],
        "with": [fn("with values:", *block)],
        "yield": [fn("yield values")],
        "match": [fn("match values:", "    case 1:", "        pass")],
        "case": [fn("match values:", "    case 1:", "        pass")],
        "_": [fn("match values:", "    case _:", "        pass")],
        "type": [fn("type X = int")] if sys.version_info >= (3, 12) else [],
    }
    assert _KEYWORDS - {"def"} <= set(as_keyword)
    assert set(keyword.softkwlist) <= set(as_keyword)
    # No keyword of their own: they pass whichever word is forbidden.
    neighbours = [fn(f"values = {n}(values)") for n in (word + "a", "a" + word, word + "_")]
    # These are Python: what the grammar must decide is the name, not the syntax.
    for t in [*as_keyword.get(word, []), *neighbours]:
        compile(t, "t.py", "exec", dont_inherit=True)
    uses += as_keyword.get(word, [])
    for target, engine in (
        ("llguidance", "llguidance-lark"),
        ("xgrammar", "xgrammar-ebnf"),
        ("gbnf", "llguidance-gbnf"),
        ("gbnf", "llamacpp-gbnf"),
    ):
        lowered = lower_for_target(module, target, Diagnostics())
        assert lowered is not None
        compiled = compile_or_skip(engine, emit(lowered[0], target))
        for u in uses:
            assert not compiled.accepts(u), (target, u)
        for n in neighbours:
            assert compiled.accepts(n), (target, n)


def test_lowerings_are_registered() -> None:
    for target in READERS:
        assert set(get_backend(target).lowerings) <= set(GRAMMAR_LOWERINGS)
