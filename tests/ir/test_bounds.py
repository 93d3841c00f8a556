"""The bounds on a grammar's language (``ir/bounds.py``), held against llguidance.

llguidance, fed each grammar as the llguidance backend prints it and a byte-level tokenizer,
decides membership exactly; it shares nothing with the bounds. On random CFGs the shortest
length must be exact (no lexemes: the fixpoint claims exactness there) and the superset must
hold every accepted string. On the Python function grammar, a hand-written function of the
computed length must be accepted (the bound is reached) and no one-character deletion of it
(the bound is not too low, as far as the engine can tell near it); real functions of the
standard library that the grammar accepts must lie in the superset.
"""

from __future__ import annotations

import ast
import functools
import itertools
import math
import re
from pathlib import Path

import pytest
from ananke.ariadne import compile_source, read_source
from ananke.backends import get_backend
from ananke.engines.acceptance import ByteMatcher
from ananke.ir import Diagnostics
from ananke.ir.automata import DFA, NFA
from ananke.ir.bounds import regular_superset, shortest_length
from ananke.ir.compose import compose
from ananke.ir.constraint import ConstraintSet
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
    Regex,
    Repeat,
    Rule,
    Seq,
)
from ananke.ir.lower import LowerToGrammar
from ananke.ir.regex import parse_regex
from ananke.languages.python.corpus import FunctionSample, sample, stdlib_functions
from ananke.languages.validate import validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MAX_STATES = 2_000


@functools.cache
def _matcher(grammar: Grammar) -> ByteMatcher:
    return ByteMatcher(get_backend("llguidance").emit(grammar))


def _exactly(text: str) -> DFA:
    """The automaton of ``text`` alone: a chain of states."""
    chain = [[(ord(c), ord(c), i + 1)] for i, c in enumerate(text)]
    return DFA([*chain, []], 0, [len(text)], max_states=max(MAX_STATES, len(text) + 1))


def _meets(grammar: Grammar, text: str) -> bool:
    return regular_superset(grammar, max_states=MAX_STATES).meets(_exactly(text))


# --- random grammars ---------------------------------------------------------------------

ALPHABET = "ab"
TEXTS = ["".join(p) for n in range(6) for p in itertools.product(ALPHABET + "x", repeat=n)]
"""Every string of up to 5 characters over the alphabet and one character outside it."""


def _atom(names: list[str]) -> st.SearchStrategy[Expr]:
    chars = st.sampled_from(ALPHABET)
    options: list[st.SearchStrategy[Expr]] = [
        chars.map(lambda c: Lit(text=c)),
        chars.map(lambda c: CharClass(ranges=((ord(c), ord(c)),), negated=True)),
        st.just(Empty()),
    ]
    return st.one_of(*options, st.sampled_from(names).map(lambda n: Ref(name=n)))


def _expr(names: list[str]) -> st.SearchStrategy[Expr]:
    return st.recursive(
        _atom(names),
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: Seq(items=tuple(xs))),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: Alt(items=tuple(xs))),
            st.tuples(
                inner,
                st.integers(0, 2),
                st.one_of(st.none(), st.integers(0, 5)),
            ).map(lambda t: Repeat(item=t[0], min=t[1], max=None if t[2] is None else t[1] + t[2])),
        ),
        max_leaves=6,
    )


@st.composite
def grammars(draw: st.DrawFn) -> Grammar:
    """CFGs over one-character literals and classes, where any rule may refer to any other:
    left, right and nested recursion, mutual recursion, rules that derive nothing. One-
    character atoms lex the same greedily as character by character, so llguidance's
    language is the CFG's."""
    names = [f"r{i}" for i in range(draw(st.integers(1, 5)))]
    rules = tuple(Rule(name=n, body=draw(_expr(names))) for n in names)
    return Grammar(start="r0", rules=rules)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grammar=grammars())
def test_random_grammars_bounds_hold_against_the_engine(grammar: Grammar) -> None:
    try:
        matcher = _matcher(grammar)
    except ValueError as e:
        # llguidance refuses a grammar whose start rule derives nothing; so must the bound.
        assert "empty" in str(e) or "no strings" in str(e), e
        assert shortest_length(grammar) == math.inf
        return
    accepted = [t for t in TEXTS if matcher.accepts(t)]
    n = shortest_length(grammar)
    if accepted:
        assert n == min(map(len, accepted)), accepted[:5]
    else:
        assert n > max(map(len, TEXTS))
    superset = regular_superset(grammar, max_states=MAX_STATES)
    for text in accepted:
        assert superset.meets(_exactly(text)), text


def test_superset_keeps_structure_near_the_start() -> None:
    """Not everything: the start rule's structure stays, and recursion is widened to its
    first, inner and last characters."""
    nested = Alt(items=(Seq(items=(Lit(text="("), Ref(name="t"), Lit(text=")"))), Lit(text="x")))
    g = Grammar(
        start="s",
        rules=(
            Rule(name="s", body=Seq(items=(Lit(text="<"), Ref(name="t"), Lit(text=">")))),
            Rule(name="t", body=nested),
        ),
    )
    for text in ("<x>", "<(x)>", "<((x))>"):
        assert _matcher(g).accepts(text) and _meets(g, text), text
    for text in ("x", "<>", "<)x>", "<x(>", "<y>", "<x>>"):
        assert not _meets(g, text), text
    assert shortest_length(g) == 3


LEXEME_CASES = [
    # a word that is not a keyword, in a list
    (
        (
            Rule(
                name="WORD",
                body=And(
                    items=(
                        Regex(pattern="[a-z]+"),
                        Not(item=Alt(items=(Lit(text="if"), Lit(text="in")))),
                    )
                ),
                lexeme=True,
            ),
            Rule(
                name="start",
                body=Seq(
                    items=(
                        Ref(name="WORD"),
                        Repeat(item=Seq(items=(Lit(text=","), Ref(name="WORD")))),
                    )
                ),
            ),
        ),
        ["a", "i", "ifx", "a,b", "iff,inn"],
        ["if", "in", "a,if", "", ","],
    ),
    # a bounded repeat far above what the superset keeps
    (
        (
            Rule(name="PAD", body=Regex(pattern=" {0,300}x{2,3}"), lexeme=True),
            Rule(name="start", body=Seq(items=(Ref(name="PAD"), Lit(text=";")))),
        ),
        ["xx;", " " * 300 + "xxx;"],
        ["x;", "xx", "xxxx;"],
    ),
]


@pytest.mark.parametrize(("rules", "good", "bad"), LEXEME_CASES)
def test_lexemes_with_intersection_and_negation(
    rules: tuple[Rule, ...], good: list[str], bad: list[str]
) -> None:
    """The engine decides which strings are in; every accepted one lies in the superset
    and is no shorter than the bound."""
    grammar = Grammar(start="start", rules=rules)
    matcher = _matcher(grammar)
    assert all(matcher.accepts(t) for t in good)
    assert not any(matcher.accepts(t) for t in bad)
    n = shortest_length(grammar)
    assert n <= min(map(len, good))
    for text in good:
        assert _meets(grammar, text), text


def test_bound_of_an_intersection_is_its_longest_part() -> None:
    lexeme = Rule(
        name="ABC",
        body=And(items=(Regex(pattern="[a-c]{2,}"), Regex(pattern="a[a-z]*"))),
        lexeme=True,
    )
    grammar = Grammar(start="start", rules=(lexeme, Rule(name="start", body=Ref(name="ABC"))))
    assert shortest_length(grammar) == 2
    assert _matcher(grammar).accepts("ab") and not _matcher(grammar).accepts("a")


# --- the Python function grammar ---------------------------------------------------------

FUNCTIONS = [
    # (properties of the set, a shortest function the grammar accepts)
    ("", "def f():x\n"),
    (
        "signature: fetch_records(session, query: str, limit: int = 100) -> List<Record>;",
        "def fetch_records(session,query:str,limit:int=100)->list[Record]:x\n",
    ),
    (
        "signature: fetch(url: str, *, timeout: float = 1.5) -> Option<bytes>;",
        "def fetch(url:str,*,timeout:float=1.5)->bytes|None:x\n",
    ),
    ("signature: async poll(n: int);", "async def poll(n:int):x\n"),
    ('naming: r"^get_[a-z]+_by_[a-z]+$";', "def get_a_by_b():x\n"),
    ("name: run; returns: Dict<str, int>;", "def run()->dict[str,int]:x\n"),
    # With every ASCII letter and `_` forbidden, a name is one non-ASCII letter (one code
    # point, two bytes: `max_chars` counts code points) and the body a number.
    (
        "forbid: [" + ", ".join(f'"{c}"' for c in "abcdefghijklmnopqrstuvwxyz_") + "];",
        "def é():0\n",
    ),
]


def _composed(body: str, tmp_path: Path) -> ConstraintSet:
    path = tmp_path / "main.ariadne"
    path.write_text(f"constraint s {{ {body} }}\n", "utf-8")
    diags = Diagnostics()
    source = read_source(path, diags)
    assert source is not None
    module = compile_source(source, diags)
    assert module is not None, [d.message for d in diags]
    module = compose(module, diags)
    assert not diags.has_errors, [d.message for d in diags]
    (cset,) = module.sets
    return cset


def _python_grammar(cset: ConstraintSet) -> Grammar:
    return LowerToGrammar().lower_set(cset, Diagnostics()).grammar


@pytest.mark.parametrize(("body", "shortest"), FUNCTIONS, ids=lambda x: x[:40])
def test_python_shortest_function_is_reached_and_not_undercut(
    body: str, shortest: str, tmp_path: Path
) -> None:
    cset = _composed(body, tmp_path)
    grammar = _python_grammar(cset)
    assert shortest_length(grammar) == len(shortest)
    ast.parse(shortest)  # Python's own parser: a real function
    matcher = _matcher(grammar)
    assert matcher.accepts(shortest)
    for k in range(len(shortest)):
        shorter = shortest[:k] + shortest[k + 1 :]
        assert not matcher.accepts(shorter), shorter
    assert _meets(grammar, shortest)
    # The post checks agree: a limit of exactly that length holds, and composing the set
    # with it records no conflict; one character less is a conflict.
    tight = _composed(f"{body} max_chars: {len(shortest)};", tmp_path)
    assert not tight.conflicts and validate(shortest, tight) == []
    path = tmp_path / "main.ariadne"
    path.write_text(f"constraint s {{ {body} max_chars: {len(shortest) - 1}; }}\n", "utf-8")
    diags = Diagnostics()
    module = compile_source(read_source(path, diags), diags)  # type: ignore[arg-type]
    assert module is not None
    compose(module, diags)
    (found,) = list(diags)
    assert found.code == "constraint-conflict"
    assert f"below the {len(shortest)} characters" in found.message


@functools.cache
def _corpus() -> list[FunctionSample]:
    return sample(stdlib_functions(limit=800), 40, seed=17)


SETS = [
    "",
    'forbid: ["eval", "exec", "print"];',
    "naming: snake;",
    "max_lines: 30;",
]


@pytest.mark.parametrize("body", SETS)
def test_python_superset_holds_real_functions(body: str, tmp_path: Path) -> None:
    """Functions of the standard library that the set's grammar accepts (the engine
    decides) lie in its superset, and are no shorter than the bound."""
    grammar = _python_grammar(_composed(body, tmp_path))
    matcher = _matcher(grammar)
    n = shortest_length(grammar)
    accepted = [f.text for f in _corpus() if matcher.accepts(f.text)]
    assert len(accepted) >= 20
    superset = regular_superset(grammar, max_states=MAX_STATES)
    for text in accepted:
        assert len(text) >= n
        assert superset.meets(_exactly(text)), text[:200]


# --- DFA.meets ---------------------------------------------------------------------------

PATTERN_PAIRS = [
    ("a(b|c)*", "(a|b)*c"),
    ("a(b|c)*", "(b|c)*"),
    ("(ab)*", "a(ba)*b"),
    ("(ab)*", "a(ba)*"),
    ("[a-c]{3,}", "a{0,2}"),
    ("(a|b){2}c?", "ab|bbc|cc"),
    ("", "a*"),
    ("[^a]", "b|c"),
]


@pytest.mark.parametrize(("left", "right"), PATTERN_PAIRS)
def test_meets_without_determinizing_agrees_with_re(left: str, right: str) -> None:
    """Python's `re` decides the common strings up to a length that settles each pair;
    ``meets`` (the expression as an NFA) says the same as the product of the two DFAs."""
    common = [
        t
        for n in range(6)
        for t in map("".join, itertools.product("abc", repeat=n))
        if re.fullmatch(left, t) and re.fullmatch(right, t)
    ]
    a = DFA.from_expr(parse_regex(left)) if left else DFA.from_expr(Empty())
    right_expr = parse_regex(right)
    right_nfa = NFA.from_expr(right_expr)
    assert a.meets(right_nfa) == bool(common)
    assert a.meets(right_nfa) == (not a.intersect(DFA.from_expr(right_expr)).is_empty())
