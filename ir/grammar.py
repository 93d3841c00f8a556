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

import collections
import functools
import operator
from collections.abc import Iterator, Mapping

import msgspec
from ananke.ir.source import Span

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
    "name_map",
    "name_map_id",
    "refs",
    "rename",
    "repeat_suffix",
    "ungrouped",
    "walk",
]


class GNode(
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    omit_defaults=True,
    kw_only=True,
    tag_field="type",
    cache_hash=True,
):
    """Base of grammar expressions. Hashes are cached: grammars share large subtrees and
    the printer and checks memoize on them."""


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
    msgspec.Struct,
    frozen=True,
    forbid_unknown_fields=True,
    omit_defaults=True,
    kw_only=True,
    cache_hash=True,
):
    name: str
    body: Expr
    lexeme: bool = False
    """True: matched by the lexer as one token of the grammar (UPPERCASE in Lark)."""
    origins: tuple[str, ...] = ()
    """Ids of the constraints this rule enforces (empty: the language itself)."""
    comment: str = ""
    span: Span | None = None
    """Where an imported grammar defines the rule (its name in the grammar file), so that
    what a target cannot take is reported there."""

    def __post_init__(self) -> None:
        if self.lexeme != self.name.isupper():
            raise ValueError(f"rule {self.name!r}: lexemes are UPPERCASE, CFG rules lowercase")
        if not self.lexeme and _summary(self.body)[1]:
            raise ValueError(f"rule {self.name!r}: negation and intersection need a lexeme")


class Grammar(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, kw_only=True
):
    start: str
    rules: tuple[Rule, ...]
    comment: str = ""

    def __post_init__(self) -> None:
        names = set(map(_NAME, self.rules))
        if len(names) != len(self.rules):
            counts = collections.Counter(map(_NAME, self.rules))
            dup = sorted(n for n, k in counts.items() if k > 1)
            raise ValueError(f"duplicate rules: {', '.join(dup)}")
        if self.start not in names:
            raise ValueError(f"start rule {self.start!r} is not defined")

    def verify(self) -> None:
        """Check that every referenced rule is defined (``ValueError`` if not).

        Not run on construction: lowering builds a grammar for every constraint set from
        shared, already checked parts, and this check would be most of its cost. Tests and
        readers of grammars from outside (decoded files) call it.
        """
        known = set(map(_NAME, self.rules))
        used = frozenset().union(*map(refs, map(_BODY, self.rules)))
        if not used <= known:
            for rule in self.rules:
                missing = sorted(refs(rule.body) - known)
                if missing:
                    raise ValueError(f"rule {rule.name!r} refers to undefined {missing[0]!r}")

    def rule(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)


@functools.lru_cache(maxsize=8192)
def _summary(expr: Expr) -> tuple[frozenset[str], bool]:
    """Names an expression refers to, and whether it uses lexeme-only operators (cached:
    grammars built for many constraint sets share most of their rules)."""
    refs: set[str] = set()
    lexeme_only = False
    for node in walk(expr):
        if isinstance(node, Ref):
            refs.add(node.name)
        elif isinstance(node, Not | And):
            lexeme_only = True
    return frozenset(refs), lexeme_only


@functools.lru_cache(maxsize=1 << 16)
def refs(expr: Expr) -> frozenset[str]:
    """The rule names ``expr`` refers to."""
    return _summary(expr)[0]


_BODY = operator.attrgetter("body")
_NAME = operator.attrgetter("name")


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


def rename(grammar: Grammar, names: Mapping[str, str]) -> Grammar:
    """``grammar`` with the rules in ``names`` renamed, and every reference to them."""

    def expr(e: Expr) -> Expr:
        if isinstance(e, Ref):
            return Ref(name=names.get(e.name, e.name))
        if isinstance(e, Seq | Alt | And):
            return msgspec.structs.replace(e, items=tuple(map(expr, e.items)))
        if isinstance(e, Repeat | Not):
            return msgspec.structs.replace(e, item=expr(e.item))
        return e

    return Grammar(
        start=names.get(grammar.start, grammar.start),
        rules=tuple(
            msgspec.structs.replace(r, name=names.get(r.name, r.name), body=expr(r.body))
            for r in grammar.rules
        ),
        comment=grammar.comment,
    )


_NAME_MAP_IDS: dict[tuple[tuple[str, str], ...], int] = {}
_NAME_MAPS: list[dict[str, str]] = []


def name_map_id(names: Mapping[str, str]) -> int:
    """A small id for a map of rule names (equal maps, equal ids), so that work done per
    rule can be cached by it: grammars lowered from many constraint sets share their maps,
    and hashing a whole map at every node would not pay."""
    key = tuple(sorted(names.items()))
    found = _NAME_MAP_IDS.get(key)
    if found is None:
        found = _NAME_MAP_IDS[key] = len(_NAME_MAPS)
        _NAME_MAPS.append(dict(key))
    return found


def name_map(map_id: int) -> dict[str, str]:
    """The map :func:`name_map_id` gave ``map_id`` to."""
    return _NAME_MAPS[map_id]


def ungrouped(expr: Expr) -> Expr:
    """The expression a one-item sequence, alternative or intersection stands for: printers
    give it its item's precedence (a repeat of ``Alt((a*,))`` is ``(a*)*``, never ``a**``)."""
    while isinstance(expr, Seq | Alt | And) and len(expr.items) == 1:
        expr = expr.items[0]
    return expr


def repeat_suffix(lo: int, hi: int | None) -> str:
    """``*``, ``+``, ``?``, ``{m}``, ``{m,}`` or ``{m,n}``: the repeat operators of regexes,
    Lark, GBNF and XGrammar EBNF (never ``{,n}``, which XGrammar and llguidance refuse)."""
    if (lo, hi) == (0, None):
        return "*"
    if (lo, hi) == (1, None):
        return "+"
    if (lo, hi) == (0, 1):
        return "?"
    if hi is None:
        return f"{{{lo},}}"
    if lo == hi:
        return f"{{{lo}}}"
    return f"{{{lo},{hi}}}"
