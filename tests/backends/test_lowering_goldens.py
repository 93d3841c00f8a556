"""Golden input -> output grammars of every GrammarIR lowering, on a few representative
grammars: each snapshot holds the input and what the pass made of it (or its refusal),
printed in llguidance's Lark, which reads every GrammarIR node. Update them with
``pytest tests/backends/test_lowering_goldens.py --snapshot-update`` and review the diff.

What each pass must keep (the language, what the engines accept) is tested in the pass's
own test file; these snapshots show the shape, so that a change in it is seen in review.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest
from ananke.backends.gbnf.llamacpp import LlamaCppShape
from ananke.backends.json_schema import JsonOnly
from ananke.backends.lark.larkshape import LarkShape
from ananke.backends.llguidance import LLGuidanceBackend
from ananke.backends.regex.regular import Regular
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import (
    Alt,
    And,
    CharClass,
    Expr,
    Grammar,
    JsonSchema,
    Lit,
    Not,
    Ref,
    Regex,
    Repeat,
    Rule,
    Seq,
)
from ananke.ir.lowerings import CannotLower, GrammarPass
from ananke.ir.lowerings.boundaries import GreedyBoundaries
from ananke.ir.lowerings.charlevel import CharLevel
from ananke.ir.lowerings.repeats import SmallRepeats
from syrupy.assertion import SnapshotAssertion


def _g(*rules: Rule, start: str = "start") -> Grammar:
    grammar = Grammar(start=start, rules=rules)
    grammar.verify()
    return grammar


def _r(name: str, body: object) -> Rule:
    return Rule(name=name, body=body, lexeme=name.isupper())  # type: ignore[arg-type]


BLANKS = Repeat(item=CharClass(ranges=((32, 32),)), min=0, max=256)

INPUTS: dict[str, Callable[[], Grammar]] = {
    # Two lexemes that run into each other: llguidance reads `ab` as one WORD.
    "words": lambda: _g(
        _r("start", Seq(items=(Ref(name="WORD"), Ref(name="WORD")))),
        _r("WORD", Regex(pattern="[a-z]+")),
    ),
    # A keyword that is also a name: `dox` is one NAME.
    "keyword-or-name": lambda: _g(
        _r(
            "start",
            Alt(
                items=(
                    Seq(items=(Lit(text="do"), Ref(name="NAME"), Lit(text=";"))),
                    Seq(items=(Ref(name="NAME"), Lit(text="="), Ref(name="NAME"), Lit(text=";"))),
                )
            ),
        ),
        _r("NAME", Regex(pattern="[a-z]+")),
    ),
    # Negation and intersection: a name of a to c that is not `ab`.
    "not-ab": lambda: _g(
        _r("start", Seq(items=(Ref(name="ID"), Lit(text=";")))),
        _r("ID", And(items=(Regex(pattern="[a-c]+"), Not(item=Lit(text="ab"))))),
    ),
    # Left recursion, as the Python grammars write statement lists, with a large bound.
    "statement-list": lambda: _g(
        _r("start", Ref(name="block")),
        _r(
            "block",
            Alt(items=(Ref(name="stmt"), Seq(items=(Ref(name="block"), Ref(name="stmt"))))),
        ),
        _r(
            "stmt",
            Seq(
                items=(
                    Repeat(item=CharClass(ranges=((97, 122),)), min=1, max=3),
                    Lit(text=";"),
                    Repeat(item=CharClass(ranges=((32, 32),)), min=0, max=300),
                )
            ),
        ),
    ),
    # A repeated group with a large repeat inside (llama.cpp counts 16 x 257 rules).
    "group-repeat": lambda: _g(
        _r("start", Repeat(item=Seq(items=(BLANKS, Lit(text="x"))), min=0, max=16)),
    ),
    # Nesting: context-free, not regular.
    "nested": lambda: _g(
        _r(
            "start",
            Alt(
                items=(Lit(text="x"), Seq(items=(Lit(text="("), Ref(name="start"), Lit(text=")"))))
            ),
        ),
    ),
    "json": lambda: _g(
        _r("start", Ref(name="value")),
        _r("value", JsonSchema(schema='{"type": "object"}')),
    ),
}

CASES: list[tuple[GrammarPass, str]] = [
    (GreedyBoundaries(), "words"),
    (GreedyBoundaries(), "keyword-or-name"),
    (CharLevel(), "words"),
    (CharLevel(), "not-ab"),
    (CharLevel(), "json"),
    (SmallRepeats(), "statement-list"),
    (SmallRepeats(), "group-repeat"),
    (LlamaCppShape(), "statement-list"),
    (LlamaCppShape(), "group-repeat"),
    (LarkShape(), "statement-list"),
    (LarkShape(), "group-repeat"),
    (Regular(), "statement-list"),
    (Regular(), "nested"),
    (JsonOnly(), "json"),
    (JsonOnly(), "nested"),
]


NOTHING = Regex(pattern="[^\\u0000-\\U0010FFFF]")
"""How the snapshots show the empty language (llguidance's printer writes an empty ``Alt``
as nothing, which reads as the empty string)."""


def _shown(expr: Expr) -> Expr:
    if isinstance(expr, Alt) and not expr.items:
        return NOTHING
    if isinstance(expr, Seq | Alt):
        return type(expr)(items=tuple(map(_shown, expr.items)))
    if isinstance(expr, Repeat):
        return Repeat(item=_shown(expr.item), min=expr.min, max=expr.max)
    return expr


def _printed(grammar: Grammar) -> str:
    rules = tuple(msgspec.structs.replace(r, body=_shown(r.body)) for r in grammar.rules)
    return LLGuidanceBackend().emit(msgspec.structs.replace(grammar, rules=rules))


@pytest.mark.parametrize(("lowering", "name"), CASES, ids=[f"{p.name}-{n}" for p, n in CASES])
def test_lowering(lowering: GrammarPass, name: str, snapshot: SnapshotAssertion) -> None:
    grammar = INPUTS[name]()
    diags = Diagnostics()
    parts = [f"== {lowering.name} of {name}", _printed(grammar)]
    try:
        out = lowering.run(grammar, diags)
    except CannotLower as exc:
        parts += ["== refused", f"{exc.code} at {exc.rule}: {exc.message}\n"]
    else:
        if out is not None:
            out.verify()
            parts += ["== output", _printed(out)]
    if diags:
        parts += ["== diagnostics", "".join(f"{d.code}: {d.message}\n" for d in diags)]
    assert "\n".join(parts) == snapshot
