"""GrammarIR: a small grammar AST that every backend prints.

A :class:`Grammar` is a tuple of :class:`Rule`; a rule is either a *lexeme* (matched by
the engine's lexer as one regular language, never recursive) or a *CFG rule*. Rule bodies
are expressions (:data:`Expr`). Lexeme negation (:class:`Not`) and intersection
(:class:`And`) may appear only in lexeme bodies; backends without them lower them through
automata or refuse with a diagnostic.

:class:`Regex` patterns use the portable subset that llguidance (Rust ``regex``), Python
``re`` and the automaton lowerings agree on: literal characters and escapes, explicit
character classes (never ``.``, ``\\w``, ``\\d``, ``\\s``, ``\\b``), groups, ``|``, ``?``,
``*``, ``+`` and ``{m,n}``; ``(?s:...)`` is not used.

Every rule records ``origins``: the ids of the constraints it was lowered from, so that a
rejection can be traced back to the ``.ariadne`` span that caused it.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

__all__ = [
    "Alt",
    "And",
    "CharClass",
    "Empty",
    "Expr",
    "Grammar",
    "JsonSchema",
    "Lit",
    "Not",
    "Ref",
    "Regex",
    "Repeat",
    "Rule",
    "Seq",
    "Special",
    "walk",
]


class GNode(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    omit_defaults=True,
    kw_only=True,
    tag_field="type",
):
    """Base of grammar expressions."""


class Lit(GNode, tag="lit", kw_only=True, frozen=True):
    """An exact string."""

    text: str


class CharClass(GNode, tag="class", kw_only=True, frozen=True):
    """A set of code points given as inclusive ranges; ``negated`` takes the complement."""

    ranges: tuple[tuple[int, int], ...]
    negated: bool = False

    def __post_init__(self) -> None:
        for lo, hi in self.ranges:
            if not 0 <= lo <= hi <= 0x10FFFF:
                raise ValueError(f"bad character range {lo:#x}-{hi:#x}")


class Regex(GNode, tag="regex", kw_only=True, frozen=True):
    """A regular expression in the portable subset (see the module docstring)."""

    pattern: str


class Ref(GNode, tag="ref", kw_only=True, frozen=True):
    """A reference to another rule by name."""

    name: str


class Seq(GNode, tag="seq", kw_only=True, frozen=True):
    items: tuple[Expr, ...]


class Alt(GNode, tag="alt", kw_only=True, frozen=True):
    items: tuple[Expr, ...]


class Repeat(GNode, tag="repeat", kw_only=True, frozen=True):
    """``item`` repeated ``min`` to ``max`` times (``max`` None: unbounded)."""

    item: Expr
    min: int = 0
    max: int | None = None

    def __post_init__(self) -> None:
        if self.min < 0 or (self.max is not None and self.max < self.min):
            raise ValueError(f"bad repeat bounds {self.min}..{self.max}")


class Not(GNode, tag="not", kw_only=True, frozen=True):
    """Lexeme negation: every string the inner lexeme does not match (lexemes only)."""

    item: Expr


class And(GNode, tag="and", kw_only=True, frozen=True):
    """Lexeme intersection (lexemes only)."""

    items: tuple[Expr, ...]


class Empty(GNode, tag="empty", kw_only=True, frozen=True):
    """The empty string."""


class JsonSchema(GNode, tag="json", kw_only=True, frozen=True):
    """A JSON value validated by an embedded JSON Schema (given as JSON text)."""

    schema: str


class Special(GNode, tag="special", kw_only=True, frozen=True):
    """A special token of the tokenizer, by name (``<|eos|>`` without the brackets)."""

    name: str


Expr = Lit | CharClass | Regex | Ref | Seq | Alt | Repeat | Not | And | Empty | JsonSchema | Special


class Rule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, kw_only=True
):
    name: str
    body: Expr
    lexeme: bool = False
    """True: matched by the lexer as one token of the grammar (UPPERCASE in Lark)."""
    origins: tuple[str, ...] = ()
    """Ids of the constraints this rule enforces (empty: the language itself)."""
    comment: str = ""

    def __post_init__(self) -> None:
        if self.lexeme != self.name.isupper():
            raise ValueError(f"rule {self.name!r}: lexemes are UPPERCASE, CFG rules lowercase")


class Grammar(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, kw_only=True
):
    start: str
    rules: tuple[Rule, ...]
    comment: str = ""

    def __post_init__(self) -> None:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"duplicate rules: {', '.join(dup)}")
        known = set(names)
        if self.start not in known:
            raise ValueError(f"start rule {self.start!r} is not defined")
        for rule in self.rules:
            for node in walk(rule.body):
                if isinstance(node, Ref) and node.name not in known:
                    raise ValueError(f"rule {rule.name!r} refers to undefined {node.name!r}")
                if isinstance(node, Not | And) and not rule.lexeme:
                    raise ValueError(f"rule {rule.name!r}: negation and intersection need a lexeme")

    def rule(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of an expression, pre-order."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Seq | Alt | And):
            stack.extend(reversed(node.items))
        elif isinstance(node, Repeat | Not):
            stack.append(node.item)
