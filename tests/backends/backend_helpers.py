"""The shared validator of the backend tests: print a grammar with a backend, load the text
in the real engine(s) that read that dialect, and check what they accept.

The engines are those each backend declares (``Backend.readers``), from
``ananke.engines.membership``: each decides whole-string membership exactly, with no model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ananke.backends import get_backend
from ananke.engines.membership import get_engine, readers
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Alt, CharClass, Empty, Expr, Grammar, Lit, Ref, Repeat, Rule, Seq

from ananke.pipeline import _run_passes

Accepts = Callable[[str], bool]


# --- engines ------------------------------------------------------------------------------


def load(engine: str, text: str) -> Accepts:
    """``text`` compiled by ``engine``: whether it accepts a whole string."""
    return get_engine(engine).compile(text).accepts


GRAMMAR_TARGETS = ("llguidance", "lark-vllm", "gbnf", "xgrammar", "lark", "regex")
"""The targets that print a grammar (json-schema prints only an embedded schema)."""

NOT_READ_HERE = {
    ("lark", "xgrammar-lark"): "XGrammar 0.2's Lark reader rejects some literals after NUL "
    "(`\\x01B`, NUL, `aé1`) that the lark package reads as written; the lark target is "
    "written for the lark package, XGrammar's users get the xgrammar target",
}
"""(target, engine) pairs of the declared readers these tests leave out, and why."""

REQUEST_FIELDS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "vllm": ("lark-vllm", lambda body: body["structured_outputs"]["grammar"]),
    "sglang": ("xgrammar", lambda body: body["ebnf"]),
    "llamacpp": ("gbnf", lambda body: body["grammar"]),
    "openai": ("lark-vllm", lambda body: body["format"]["definition"]),
}
"""Request target -> (inner target, where its grammar text sits in the body)."""


# --- the validator ------------------------------------------------------------------------


def prepare(target: str, grammar: Grammar) -> Grammar:
    """Run the target's passes, in order, as the driver does for a grammar it built."""
    diags = Diagnostics()
    out, _ = _run_passes(grammar, get_backend(target).passes, diags, given=False)
    assert out is not None and not diags.has_errors, [d.message for d in diags]
    return out


def emit(target: str, grammar: Grammar) -> str:
    grammar.verify()
    return get_backend(target).emit(prepare(target, grammar))


def languages(target: str, grammar: Grammar) -> list[tuple[str, Accepts]]:
    """The printed grammar loaded in every engine of ``target``: (engine, accepts)."""
    text = emit(target, grammar)
    if target in REQUEST_FIELDS:
        inner, extract = REQUEST_FIELDS[target]
        assert text.endswith("}\n")
        text, target = extract(json.loads(text)), inner
    text = text.removesuffix("\n") if target == "regex" else text
    engines = [e for e in readers(target) if (target, e) not in NOT_READ_HERE]
    return [(engine, load(engine, text)) for engine in engines]


def validate(
    target: str, grammar: Grammar, accept: Iterable[str], reject: Iterable[str] = ()
) -> None:
    """Every engine of ``target`` accepts each of ``accept`` and rejects each of ``reject``."""
    accept, reject = list(accept), list(reject)
    text = emit(target, grammar)
    for engine, accepts in languages(target, grammar):
        wrong = [s for s in accept if not accepts(s)] + [s for s in reject if accepts(s)]
        assert not wrong, f"{engine} disagrees on {wrong!r}; grammar:\n{text}"


# --- a shared corpus of char-level grammars -----------------------------------------------


def rules(**bodies: Expr) -> Grammar:
    """A grammar of lowercase rules, the first one the start rule."""
    rs = tuple(Rule(name=name, body=body) for name, body in bodies.items())
    return Grammar(start=rs[0].name, rules=rs)


def lit(text: str) -> Lit:
    return Lit(text=text)


def seq(*items: Expr) -> Seq:
    return Seq(items=items)


def alt(*items: Expr) -> Alt:
    return Alt(items=items)


def cls(*ranges: tuple[int, int] | str, negated: bool = False) -> CharClass:
    rs = tuple((ord(r), ord(r)) if isinstance(r, str) else r for r in ranges)
    return CharClass(ranges=rs, negated=negated)


def rep(item: Expr, lo: int = 0, hi: int | None = None) -> Repeat:
    return Repeat(item=item, min=lo, max=hi)


def ref(name: str) -> Ref:
    return Ref(name=name)


@dataclass(frozen=True)
class Case:
    name: str
    grammar: Grammar
    accept: Sequence[str]
    reject: Sequence[str] = field(default_factory=tuple)
    regular: bool = True
    """False: recursive, so the regex target cannot take it."""
    lexing: bool = False
    """True: a greedy lexer would read it differently (llguidance's GBNF converter makes
    non-recursive rules lexemes; see the gbnf backend's deviations)."""

    def __str__(self) -> str:
        return self.name


CORPUS: tuple[Case, ...] = (
    Case(
        "one-item groups bind as their item: a repeat of a repeat, an alternative in a sequence",
        rules(
            start=seq(
                rep(alt(rep(lit("a"), 0)), 0),
                lit("-"),
                seq(lit("b"), alt(alt(lit("c"), lit("d")))),
            )
        ),
        accept=["-bc", "aa-bd"],
        reject=["-b", "-c", "a-b", "-bcd"],
    ),
    Case(
        "nested rules and bounded repeats",
        rules(
            start=seq(ref("word"), rep(seq(lit(", "), ref("word")), 1, 2), lit(".")),
            word=rep(cls((0x61, 0x7A)), 2, 3),
        ),
        accept=["ab, cd.", "abc, de, fgh."],
        reject=["a, bc.", "ab.", "ab, cd, ef, gh.", "abcd, ef.", "ab,cd."],
    ),
    Case(
        "char-level, not greedy: a word then its own last letter",
        rules(start=seq(ref("word"), lit("x")), word=rep(cls((0x61, 0x7A)), 1)),
        accept=["abx", "xx"],
        reject=["x", "ab", "abxy"],
        lexing=True,
    ),
    Case(
        "exact, open and optional repeats; the empty string",
        rules(
            start=seq(
                rep(lit("ab"), 2, 2),
                rep(lit("c"), 2),
                rep(alt(lit("d"), Empty()), 0, 1),
                rep(lit("e"), 0, 0),
                rep(seq(lit("f"), lit("g")), 0),
            )
        ),
        accept=["ababcc", "ababcccdfgfg", "ababccfg"],
        reject=["abcc", "ababc", "ababcce", "ababccf", "abababcc"],
    ),
    Case(
        "negated and astral classes, awkward class members",
        rules(
            start=seq(
                cls("a", "-", "]", "^", "\\", "[", '"', "/", negated=True),
                cls((0x1F600, 0x1F64F), (0x10000, 0x10000), (0x10FFFF, 0x10FFFF)),
                cls("-", "]", "^", "\\"),
                cls((0x0, 0x1F), (0x7F, 0xA0)),
            )
        ),
        accept=["b😀-\x00", "\n\U00010000^\x7f", "é\U0010ffff\\\xa0", "\U0001f600\U0001f64f]\x1f"],
        reject=["a😀-\x00", "-😀-\x00", "b😀a\x00", "b😀-a", "b\U0001f650-\x00", "]😀-\x00"],
    ),
    Case(
        "empty alternatives and empty sequences",
        rules(start=alt(seq(), lit("x"), seq(lit("y"), Empty()))),
        accept=["", "x", "y"],
        reject=["xy", " "],
    ),
    Case(
        "recursion: balanced brackets",
        rules(start=rep(ref("pair")), pair=seq(lit("("), rep(ref("pair")), lit(")"))),
        accept=["", "()", "(())()", "((()))"],
        reject=["(", ")(", "(()", "())"],
        regular=False,
    ),
    Case(
        "rule names no dialect takes as they are",
        rules(
            **{
                "Start": seq(ref("root"), ref("start_1"), ref("9lives"), ref("a-b")),
                "root": lit("r"),
                "start_1": lit("s"),
                "9lives": lit("9"),
                "a-b": lit("-"),
            }
        ),
        accept=["rs9-"],
        reject=["rs9", "r", ""],
    ),
)
