"""The ``char-level`` lowering: every lexeme becomes CFG rules, for targets with no lexer.

XGrammar EBNF, llama.cpp GBNF and plain Lark (Earley with a dynamic lexer) match
characters, not lexemes. This pass rewrites a reference grammar (llguidance semantics) into
one whose rules are all CFG rules over characters:

* a lexeme ``NAME`` becomes the CFG rule ``name`` (lower case; a suffix keeps names unique);
* a ``Regex`` is parsed into literals, classes, sequences, alternatives and repeats
  (:func:`ananke.ir.regex.parse_regex`); a pattern the parser refuses cannot be expressed;
* a lexeme that uses negation or intersection is built as a minimal automaton, which is
  printed as one rule per state, each a character-class trie
  (:meth:`ananke.ir.automata.DFA.to_rules`), the way llama.cpp lowers "a string not in this
  set"; more than ``max_states`` states is refused (``automaton-too-large``);
* rules the start rule no longer reaches are dropped.

The lexer's greedy boundaries are not this pass's work. For an imported grammar,
``arc transpile`` first writes them into the grammar (:mod:`.greedy`) and reports those it
cannot (:mod:`.boundaries`); the grammars Ananke builds keep their lexemes from running
into each other by construction.

A failure raises :class:`CannotLower` with the rule and the constraints it was lowered
from, so that the caller can demote those constraints to post-generation checks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import msgspec
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.grammar import (
    Alt,
    And,
    Expr,
    Grammar,
    JsonSchema,
    Not,
    Ref,
    Regex,
    Repeat,
    Rule,
    Seq,
    Special,
    name_map,
    name_map_id,
    refs,
    walk,
)

from .base import CannotLower

__all__ = ["CharLevel", "reachable"]

DEFAULT_MAX_STATES = 10_000


@dataclass(frozen=True)
class CharLevel:
    name = "char-level"
    max_states: int = DEFAULT_MAX_STATES
    """Most automaton states one lexeme with negation or intersection may need."""

    def run(self, grammar: Grammar, diags: Diagnostics) -> Grammar:
        from ananke.ir.automata import DFA, StateLimitExceeded
        from ananke.ir.regex import RegexError

        lexemes = {r.name: r.body for r in grammar.rules if r.lexeme}
        taken = {r.name for r in grammar.rules if not r.lexeme}
        names: dict[str, str] = {}
        for name in lexemes:
            new = name.lower()
            while new in taken:
                new += "_"
            taken.add(new)
            names[name] = new

        names_id = name_map_id(names)
        out: list[Rule] = []
        for rule in grammar.rules:
            new_name = names.get(rule.name, rule.name)
            if rule.lexeme and _flags(rule.body)[0]:
                try:
                    dfa = DFA.from_expr(rule.body, lexemes, max_states=self.max_states)
                    dfa = dfa.minimize()
                except StateLimitExceeded as exc:
                    raise CannotLower(
                        "automaton-too-large",
                        f"lexeme {rule.name} needs more than {self.max_states} automaton "
                        f"states to be written without negation or intersection ({exc})",
                        rule.name,
                        rule.origins,
                    ) from None
                except RegexError as exc:
                    raise CannotLower(
                        "target-cannot-express",
                        f"lexeme {rule.name}: {exc}",
                        rule.name,
                        rule.origins,
                    ) from None
                if dfa.is_empty():
                    raise CannotLower(
                        "target-cannot-express",
                        f"lexeme {rule.name} matches no string at all (its intersection or "
                        "negation leaves nothing), and a rule cannot be written for that",
                        rule.name,
                        rule.origins,
                    )
                dfa_rules = dfa.to_rules(new_name, origins=rule.origins)
                out.extend(dfa_rules)
                taken.update(r.name for r in dfa_rules)
                continue
            if _flags(rule.body)[1]:
                raise CannotLower(
                    "target-cannot-express",
                    f"rule {rule.name} embeds a JSON schema or a special token, which a "
                    "grammar without a lexer cannot hold; emit for json-schema, llguidance "
                    "or a request body (vllm, sglang, llamacpp)",
                    rule.name,
                    (),  # the output itself is JSON: nothing to demote
                )
            try:
                body = _convert(rule.body, names_id)
            except _BadRegex as exc:
                raise CannotLower(
                    "target-cannot-express",
                    f"rule {rule.name}: regular expression /{exc.pattern}/ cannot be written "
                    f"without a lexer: {exc.reason}",
                    rule.name,
                    rule.origins,
                ) from None
            out.append(Rule(name=new_name, body=body, origins=rule.origins, comment=rule.comment))
        start = names.get(grammar.start, grammar.start)
        kept = reachable(start, out)
        return Grammar(
            start=start,
            rules=tuple(r for r in out if r.name in kept),
            comment=grammar.comment,
        )


def reachable(start: str, rules: tuple[Rule, ...] | list[Rule]) -> set[str]:
    """Names of the rules ``start`` reaches (itself included)."""
    by_name = {r.name: r for r in rules}
    seen = {start}
    todo = [start]
    while todo:
        rule = by_name.get(todo.pop())
        if rule is None:
            continue
        for name in refs(rule.body) - seen:
            seen.add(name)
            todo.append(name)
    return seen


class _BadRegex(Exception):
    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(reason)
        self.pattern = pattern
        self.reason = reason


@functools.lru_cache(maxsize=1 << 14)
def _convert(expr: Expr, names: int) -> Expr:
    match expr:
        case Regex():
            return _parse(expr.pattern)
        case Ref():
            return Ref(name=name_map(names).get(expr.name, expr.name))
        case Seq() | Alt():
            return msgspec.structs.replace(
                expr, items=tuple(_convert(item, names) for item in expr.items)
            )
        case Repeat():
            return msgspec.structs.replace(expr, item=_convert(expr.item, names))
        case _:
            return expr


@functools.lru_cache(maxsize=4096)
def _parse(pattern: str) -> Expr:
    from ananke.ir.regex import RegexError, parse_regex

    try:
        return parse_regex(pattern)
    except RegexError as exc:
        raise _BadRegex(pattern, str(exc)) from None


@functools.lru_cache(maxsize=1 << 14)
def _flags(expr: Expr) -> tuple[bool, bool]:
    """Whether ``expr`` uses negation or intersection, and whether it embeds a JSON schema
    or a special token (cached: grammars of many constraint sets share their rules)."""
    nodes = list(walk(expr))
    return (
        any(isinstance(n, Not | And) for n in nodes),
        any(isinstance(n, JsonSchema | Special) for n in nodes),
    )
