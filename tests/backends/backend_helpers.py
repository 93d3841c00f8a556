"""The shared validator of the backend tests: print a grammar with a backend, load the text
in the real engine(s) that read that dialect, and check what they accept.

Every engine here decides whole-string membership exactly, with no model:

* llguidance (Lark, GBNF through its converter, regex): a byte-level tokenizer
  (``ananke.runtime.acceptance.ByteMatcher``), after llguidance's own validator;
* XGrammar EBNF: ``GrammarMatcher(terminate_without_stop_token=True)``,
  ``accept_string(s) and is_terminated()``;
* the ``lark`` package: ``Lark(text, parser="earley", lexer="dynamic").parse(s)``;
* outlines-core: an ``Index`` over 256 byte tokens, walked byte by byte;
* llama.cpp (GBNF): its own parser and matcher (``ananke.runtime.engines``,
  ``llamacpp-gbnf``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ananke.backends import get_backend
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import Alt, CharClass, Empty, Expr, Grammar, Lit, Ref, Repeat, Rule, Seq
from ananke.runtime.acceptance import ByteMatcher
from ananke.runtime.engines import get_engine

from ananke.pipeline import _run_passes

Accepts = Callable[[str], bool]


# --- engines ------------------------------------------------------------------------------


def llguidance_lark(text: str) -> Accepts:
    return ByteMatcher(text).accepts


def llguidance_gbnf(text: str) -> Accepts:
    import llguidance

    return ByteMatcher(llguidance.grammar_from("gbnf", text)).accepts


def llamacpp_gbnf(text: str) -> Accepts:
    return get_engine("llamacpp-gbnf").compile(text).accepts


def llguidance_regex(text: str) -> Accepts:
    import llguidance

    return ByteMatcher(llguidance.grammar_from("regex", text.removesuffix("\n"))).accepts


@functools.cache
def _xgrammar_compiler() -> Any:
    import xgrammar

    return xgrammar.GrammarCompiler(xgrammar.TokenizerInfo([]))


def xgrammar_ebnf(text: str) -> Accepts:
    import xgrammar

    compiled = _xgrammar_compiler().compile_grammar(xgrammar.Grammar.from_ebnf(text))

    def accepts(s: str) -> bool:
        m = xgrammar.GrammarMatcher(compiled, terminate_without_stop_token=True)
        return bool(m.accept_string(s) and m.is_terminated())

    return accepts


def lark_earley(text: str) -> Accepts:
    import lark

    parser = lark.Lark(text, parser="earley", lexer="dynamic")

    def accepts(s: str) -> bool:
        try:
            parser.parse(s)
        except lark.exceptions.LarkError:
            return False
        return True

    return accepts


@functools.cache
def _byte_vocabulary() -> Any:
    import outlines_core

    return outlines_core.Vocabulary(256, {bytes([i]): [i] for i in range(256)})


def outlines_regex(text: str) -> Accepts:
    import outlines_core

    index = outlines_core.Index(text.removesuffix("\n"), _byte_vocabulary())

    def accepts(s: str) -> bool:
        state = index.get_initial_state()
        for b in s.encode("utf-8"):
            state = index.get_next_state(state, b)
            if state is None:
                return False
        return bool(index.is_final_state(state))

    return accepts


ENGINES: dict[str, tuple[Callable[[str], Accepts], ...]] = {
    "llguidance": (llguidance_lark,),
    "lark-vllm": (llguidance_lark,),
    "gbnf": (llguidance_gbnf, llamacpp_gbnf),
    "xgrammar": (xgrammar_ebnf,),
    "lark": (lark_earley,),
    "regex": (outlines_regex, llguidance_regex),
}
"""Target -> the engines that read its output."""

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
    return [(load.__name__, load(text)) for load in ENGINES[target]]


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
