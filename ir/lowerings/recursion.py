"""Recursion rewritten into repeats, for targets that cannot take it as it is.

* :func:`without_left_recursion`: immediate left recursion, ``A ::= b | A a``, becomes
  ``A ::= b a*`` (llama.cpp refuses left recursion; a regular expression has none).
* :func:`without_empty_loops`: an unbounded repeat of something that may match nothing
  (``("a" | "")*``) becomes a repeat of its non-empty strings (``"a"*``): llama.cpp
  counts such a loop as left recursion.
* :func:`without_idle_rules`: a rule that refers to rules and matches no string
  (``a ::= b``, ``b ::= a``), or only the empty one (``a ::= a{0,2}``), is written as what it
  matches: llama.cpp takes such loops for left recursion and refuses them, and XGrammar
  0.2.9 crashes compiling ``a ::= a{0,2}`` or ``a ::= a{2}``.
* :func:`solve_right_linear`: rules that recur only at their end (``A ::= "x" B | ""``,
  ``B ::= "y" A``: right-linear, as automata print themselves) describe a regular language.
  Each group of mutually recursive such rules is solved as a system of equations
  ``X = sum(A_j X_j) + B``, eliminating one rule at a time with Arden's rule
  (``X = A X + B`` has the least solution ``X = A* B``), so that every body of the group
  is an expression without the group's rules. A group where some rule recurs elsewhere
  (inside a repeat, or with text after the recursion) is left as it is.

Both keep the language of every rule.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet

import msgspec
from ananke.ir.automata import scalar_ranges
from ananke.ir.grammar import (
    Alt,
    CharClass,
    Empty,
    Expr,
    Grammar,
    Lit,
    Ref,
    Repeat,
    Rule,
    Seq,
    refs,
    ungrouped,
)

__all__ = [
    "nullable",
    "nullable_rules",
    "recursive_groups",
    "solve_right_linear",
    "without_empty_loops",
    "without_idle_rules",
    "without_left_recursion",
]


def without_left_recursion(grammar: Grammar) -> Grammar:
    """Every rule ``A ::= b1 | ... | A a1 | ...`` as ``A ::= (b1 | ...) (a1 | ...)*``."""
    rules = []
    for rule in grammar.rules:
        alts = _alternatives(rule.body)
        base: list[Expr] = []
        tails: list[Expr] = []
        for alt in alts:
            items = alt.items if isinstance(alt, Seq) else (alt,)
            if items and items[0] == Ref(name=rule.name):
                if len(items) > 1:  # A ::= A alone adds nothing
                    tails.append(seq(*items[1:]))
            else:
                base.append(alt)
        if len(base) == len(alts):
            rules.append(rule)
            continue
        head = alt_of(*base) if base else Alt(items=())  # no base case: no string at all
        body = seq(head, Repeat(item=alt_of(*tails), min=0, max=None)) if tails else head
        rules.append(msgspec.structs.replace(rule, body=body))
    return _with_rules(grammar, rules)


def _alternatives(body: Expr) -> tuple[Expr, ...]:
    """The alternatives of ``body``, those of alternatives inside it included
    (``A ::= A | (b | A)`` has three: the A inside the group starts a string with A too)."""
    body = ungrouped(body)
    if not isinstance(body, Alt):
        return (body,)
    return tuple(a for item in body.items for a in _alternatives(item))


def without_empty_loops(grammar: Grammar) -> Grammar:
    """Every unbounded repeat of an item that may match the empty string
    (``("a" | "")*``, ``b?+``) as a repeat of the item without it (``"a"*``): llama.cpp
    reads such a loop as left recursion and refuses it. The language is the same."""
    rules = {r.name: r for r in grammar.rules}
    empty = nullable_rules(grammar)
    names: dict[str, str] = {}  # rule -> the rule of its non-empty strings
    taken = set(rules)

    def can_be_empty(e: Expr) -> bool:
        return nullable(e, empty)

    def non_empty(e: Expr) -> Expr | None:
        """``e`` without the empty string; None for no string at all."""
        if not can_be_empty(e):
            return e
        if isinstance(e, Ref):
            if e.name not in names:
                name = f"{e.name}_nonempty"
                while name in taken:
                    name += "_"
                taken.add(name)
                names[e.name] = name
            return Ref(name=names[e.name])
        if isinstance(e, Alt):
            kept = [x for x in map(non_empty, e.items) if x is not None]
            return alt_of(*kept) if kept else None
        if isinstance(e, Seq):  # every item may be empty: one is the first non-empty
            firsts = [(non_empty(x), e.items[i + 1 :]) for i, x in enumerate(e.items)]
            kept = [seq(x, *rest) for x, rest in firsts if x is not None]
            return alt_of(*kept) if kept else None
        if isinstance(e, Repeat) and e.max != 0:
            item = non_empty(e.item)
            return None if item is None else Repeat(item=item, min=1, max=e.max)
        return None  # Empty, "" and repeats of nothing

    def fix(e: Expr) -> Expr:
        if isinstance(e, Seq | Alt):
            items = tuple(map(fix, e.items))
            return e if items == e.items else type(e)(items=items)
        if isinstance(e, Repeat):
            item = fix(e.item)
            if e.max is None and can_be_empty(item):
                kept = non_empty(item)
                return Empty() if kept is None else Repeat(item=kept, min=0, max=None)
            return e if item == e.item else Repeat(item=item, min=e.min, max=e.max)
        return e

    out = [msgspec.structs.replace(r, body=fix(r.body)) for r in grammar.rules]
    fixed = {r.name: r for r in out}
    done: set[str] = set()
    while len(done) < len(names):
        for name in [n for n in names if n not in done]:
            done.add(name)
            body = non_empty(fixed[name].body)
            new = Rule(name=names[name], body=Alt(items=()) if body is None else body)
            out.append(msgspec.structs.replace(new, origins=fixed[name].origins))
    return _with_rules(grammar, out)


_NOTHING = Alt(items=())
"""The empty language."""


def without_idle_rules(grammar: Grammar) -> Grammar:
    """Every rule that refers to rules and matches no string, as the empty language, and
    every one that refers to rules and matches only the empty string, as ``Empty``: what
    such a rule refers to only goes round in circles. Other rules are kept as they are (the
    grammar itself when there is none of these); the language of every rule is the same.
    """
    some = _fixpoint(grammar, _matches_some)  # a string
    text = _fixpoint(grammar, lambda e, found: _matches_text(e, found, some))  # non-empty
    rules = []
    for rule in grammar.rules:
        if rule.name in text or not refs(rule.body):
            rules.append(rule)
        else:
            body = Empty() if rule.name in some else _NOTHING
            rules.append(msgspec.structs.replace(rule, body=body))
    if all(new is old for new, old in zip(rules, grammar.rules, strict=True)):
        return grammar
    return _with_rules(grammar, rules)


def _fixpoint(grammar: Grammar, holds: Callable[[Expr, AbstractSet[str]], bool]) -> set[str]:
    """The rules whose body ``holds``, given those found so far (least fixpoint)."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rule in grammar.rules:
            if rule.name not in found and holds(rule.body, found):
                found.add(rule.name)
                changed = True
    return found


def _matches_some(e: Expr, rules: AbstractSet[str]) -> bool:
    """Whether ``e`` matches some string, given the ``rules`` that do."""
    if isinstance(e, Ref):
        return e.name in rules
    if isinstance(e, Seq):
        return all(_matches_some(x, rules) for x in e.items)
    if isinstance(e, Alt):
        return any(_matches_some(x, rules) for x in e.items)
    if isinstance(e, Repeat):
        return e.min == 0 or _matches_some(e.item, rules)
    if isinstance(e, CharClass):
        return bool(scalar_ranges(e))
    return True  # literals, Empty, and what only llguidance reads


def _matches_text(e: Expr, rules: AbstractSet[str], some: AbstractSet[str]) -> bool:
    """Whether ``e`` matches a non-empty string, given the ``rules`` that do and the
    rules that match any string (``some``)."""
    if isinstance(e, Ref):
        return e.name in rules
    if isinstance(e, Seq):
        return all(_matches_some(x, some) for x in e.items) and any(
            _matches_text(x, rules, some) for x in e.items
        )
    if isinstance(e, Alt):
        return any(_matches_text(x, rules, some) for x in e.items)
    if isinstance(e, Repeat):
        return e.max != 0 and _matches_text(e.item, rules, some)
    if isinstance(e, Lit):
        return bool(e.text)
    if isinstance(e, Empty):
        return False
    return _matches_some(e, some)  # classes, and what only llguidance reads


def nullable_rules(grammar: Grammar) -> frozenset[str]:
    """The rules that may match the empty string."""
    return frozenset(_fixpoint(grammar, nullable))


def nullable(e: Expr, rules: AbstractSet[str]) -> bool:
    """Whether ``e`` may match the empty string, given the nullable ``rules``."""
    if isinstance(e, Empty):
        return True
    if isinstance(e, Lit):
        return not e.text
    if isinstance(e, Ref):
        return e.name in rules
    if isinstance(e, Seq):
        return all(nullable(x, rules) for x in e.items)
    if isinstance(e, Alt):
        return any(nullable(x, rules) for x in e.items)
    if isinstance(e, Repeat):
        return e.min == 0 or nullable(e.item, rules)
    return False  # classes; lexeme-level nodes are gone after char-level


_Linear = tuple[dict[str, Expr], Expr | None]
"""A body as ``sum(coefficient * rule) + constant``; None: the empty language."""


def solve_right_linear(grammar: Grammar) -> Grammar:
    """``grammar`` with every right-linear recursive group solved into repeats."""
    rules = {r.name: r for r in grammar.rules}
    solved: dict[str, Expr] = {}
    for group in recursive_groups(grammar.start, rules):
        members = frozenset(group)
        system: dict[str, _Linear] = {}
        for name in group:
            linear = _linear(rules[name].body, members)
            if linear is None:
                break
            system[name] = linear
        else:
            solved.update(_solve(group, system))
    if not solved:
        return grammar
    return _with_rules(
        grammar,
        [
            msgspec.structs.replace(r, body=solved[r.name]) if r.name in solved else r
            for r in grammar.rules
        ],
    )


def _linear(expr: Expr, members: frozenset[str]) -> _Linear | None:
    if not refs(expr) & members:
        return {}, expr
    if isinstance(expr, Repeat) and (expr.min, expr.max) == (0, 1):
        return _linear(Alt(items=(expr.item, Empty())), members)  # `x R?` is `x | x R`
    if isinstance(expr, Ref):
        return {expr.name: Empty()}, None
    if isinstance(expr, Alt):
        coefficients: dict[str, Expr] = {}
        constant: Expr | None = None
        for item in expr.items:
            linear = _linear(item, members)
            if linear is None:
                return None
            for name, c in linear[0].items():
                coefficients[name] = _or(coefficients.get(name), c)
            if linear[1] is not None:
                constant = _or(constant, linear[1])
        return coefficients, constant
    if isinstance(expr, Seq):
        *prefix, last = expr.items
        if any(refs(item) & members for item in prefix):
            return None  # recursion with text after it
        linear = _linear(last, members)
        if linear is None:
            return None
        coefficients = {name: seq(*prefix, c) for name, c in linear[0].items()}
        return coefficients, None if linear[1] is None else seq(*prefix, linear[1])
    return None  # recursion inside a repeat (or a negation, an intersection)


def _solve(order: list[str], system: dict[str, _Linear]) -> dict[str, Expr]:
    """Each rule's body with the group's rules eliminated, one at a time."""
    coeffs = {x: dict(system[x][0]) for x in order}
    const = {x: system[x][1] for x in order}
    for x in order:
        loop = coeffs[x].pop(x, None)
        rest = const[x]
        if loop is not None:  # Arden: X = L X + R  =>  X = L* R
            star = Repeat(item=loop, min=0, max=None)
            coeffs[x] = {j: seq(star, c) for j, c in coeffs[x].items()}
            rest = const[x] = None if rest is None else seq(star, rest)
        for y in order:
            c = coeffs[y].pop(x, None) if y != x else None
            if c is None:
                continue
            for j, cj in coeffs[x].items():
                coeffs[y][j] = _or(coeffs[y].get(j), seq(c, cj))
            if rest is not None:
                const[y] = _or(const[y], seq(c, rest))
    return {x: Alt(items=()) if (e := const[x]) is None else e for x in order}


def recursive_groups(start: str, rules: dict[str, Rule]) -> list[list[str]]:
    """The strongly connected groups of rules reachable from ``start`` that recur (Tarjan's
    algorithm, iterative: grammars nest deeper than Python's stack)."""

    def succ(name: str) -> list[str]:
        return sorted(n for n in refs(rules[name].body) if n in rules)

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    work: list[tuple[str, list[str]]] = [(start, succ(start))]
    index[start] = low[start] = 0
    stack.append(start)
    on_stack.add(start)
    while work:
        name, todo = work[-1]
        if todo:
            nxt = todo.pop()
            if nxt not in index:
                index[nxt] = low[nxt] = len(index)
                stack.append(nxt)
                on_stack.add(nxt)
                work.append((nxt, succ(nxt)))
            elif nxt in on_stack:
                low[name] = min(low[name], index[nxt])
            continue
        work.pop()
        if work:
            parent = work[-1][0]
            low[parent] = min(low[parent], low[name])
        if low[name] == index[name]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == name:
                    break
            if len(group) > 1 or name in succ(name):
                groups.append(group[::-1])
    return groups


def seq(*items: Expr) -> Expr:
    """The concatenation of ``items``, flattened, without ``Empty``."""
    flat: list[Expr] = []
    for item in items:
        if isinstance(item, Seq):
            flat.extend(item.items)
        elif item != Empty():
            flat.append(item)
    if not flat:
        return Empty()
    return flat[0] if len(flat) == 1 else Seq(items=tuple(flat))


def alt_of(*items: Expr) -> Expr:
    """The union of ``items`` (at least one)."""
    return items[0] if len(items) == 1 else Alt(items=items)


def _or(a: Expr | None, b: Expr) -> Expr:
    """The union of ``a`` (None: the empty language) and ``b``."""
    if a is None or a == b:
        return b
    left = a.items if isinstance(a, Alt) else (a,)
    right = [i for i in (b.items if isinstance(b, Alt) else (b,)) if i not in left]
    return Alt(items=(*left, *right)) if right else a


def _with_rules(grammar: Grammar, rules: list[Rule]) -> Grammar:
    return Grammar(start=grammar.start, rules=tuple(rules), comment=grammar.comment)
