"""The ``greedy-boundaries`` rewrite: llguidance's greedy lexer written into the grammar,
for targets that match characters.

llguidance reads the longest lexeme it can. After a lexeme ``A`` has matched ``a``, a next
character ``c`` is read into the lexeme whenever ``a + c`` can still grow into a lexeme the
lexer is considering, so ``A`` can never end where the text goes on with ``c``. XGrammar,
GBNF and plain Lark match characters and would let ``A`` end there and the next lexeme
start with ``c``: for ``start: WORD WORD`` they accept ``ab`` (as ``a`` then ``b``), which
llguidance reads as one ``WORD`` and rejects.

This rewrite makes that rule part of the grammar. For each lexeme ``A`` (named, or a
literal, class or regex written in a rule) it computes its *ban*: the characters ``c``
such that, for every string ``a`` of ``A``, ``a + c`` begins a lexeme the lexer is surely
considering while it reads ``A`` (:func:`surely_allowed`: ``A`` itself, and the lexemes
the parser allows wherever ``A`` may start). llguidance never ends ``A`` before such a
character. Only characters that can start what follows ``A`` somewhere are kept.

The grammar is then rewritten so that every rule knows two things of the text it matches:
which ban its first character must avoid (the ban of the lexeme before it) and which ban
its last lexeme puts on what follows. Rule ``N`` becomes variants ``N__l_m`` (first
character outside ban ``l``, last lexeme with ban ``m``, or ``x``: any), sequences pass
the ban from one item to the next, unbounded repeats become right-recursive rules, and
bounded repeats of up to ``MAX_UNROLL`` copies are unrolled. Parts that hold no lexeme
with a ban are kept as they are, with only their first lexemes restricted where a ban
reaches them. The language is the character language of the grammar minus the strings
whose every reading puts a banned character right after a lexeme: splits llguidance
never makes, so no string llguidance accepts is lost.

The shape matters to engines that follow every alternative at once (llama.cpp keeps a
stack per alternative): an item is split by the ban it ends with only where what follows
can start with a banned character, options with the same first item are joined
(``x y?``, not ``x | x y``), and variants that came out equal are merged. Otherwise each
level of nesting would double the stacks.

What stays open is reported by :mod:`.boundaries`, told the bans: a boundary where a
lexeme the lexer may or may not be considering would read on, or where a character
continues some strings of ``A`` but not all. The rewrite gives up, changing nothing, on
a lexeme that may match the empty string or is too large to analyse, on an embedded JSON
schema or special token, and on a bounded repeat of more than ``MAX_UNROLL`` copies of
something that holds a lexeme with a ban; every ambiguous boundary is then reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
from ananke.ir.grammar import (
    Alt,
    And,
    CharClass,
    Empty,
    Expr,
    Grammar,
    Lit,
    Ref,
    Repeat,
    Rule,
    Seq,
    rename,
    walk,
)
from ananke.ir.ranges import Ranges, intersect, merge, minus, union

from .charlevel import reachable
from .recursion import alt_of, nullable, nullable_rules, seq
from .terminals import END, Terminals, first_chars

if TYPE_CHECKING:
    from ananke.ir.automata import DFA

__all__ = ["MAX_UNROLL", "banned_after", "surely_allowed", "with_greedy_boundaries"]

Last = frozenset[int]
"""The bans a string's last lexeme may have (indices into the ban list; 0: none)."""

MAX_UNROLL = 6
"""Most copies a bounded repeat of something holding a banned lexeme is unrolled into."""


def banned_after(
    grammar: Grammar, terms: Terminals, dfa_of: Callable[[Iterable[str]], DFA | None]
) -> dict[str, Ranges]:
    """For each terminal, the characters the greedy lexer always reads on into one of the
    lexemes it is surely considering, among those that can start a terminal following it;
    terminals with none are left out."""
    sure = surely_allowed(grammar, terms)
    out: dict[str, Ranges] = {}
    for name in sorted(terms.follow):
        nexts = terms.follow[name] - {END}
        dfa = dfa_of([name])
        if dfa is None or not nexts:
            continue
        firsts: Ranges = ()
        for n in nexts:
            d = dfa_of([n])
            if d is not None:
                firsts = union(firsts, first_chars(d))
        considered = dfa_of(sure.get(name, {name}) | {name}) or dfa
        banned = intersect(_continuing(dfa, considered), firsts)
        if banned:
            out[name] = banned
    return out


def _continuing(dfa: DFA, considered: DFA) -> Ranges:
    """The characters ``c`` such that for every string ``a`` of ``dfa``, ``a + c`` begins a
    string of ``considered``."""
    live = considered.live_states()
    common: Ranges | None = None
    start = (dfa.start, considered.start)
    seen = {start}
    todo = [start]
    while todo:
        qa, qc = todo.pop()
        moves = [(lo, hi, to) for lo, hi, to in considered.transitions(qc) if to in live]
        if qa in dfa.accepting:
            here = merge((lo, hi) for lo, hi, _ in moves)
            common = here if common is None else intersect(common, here)
            if not common:
                return ()
        for lo, hi, to_a in dfa.transitions(qa):
            for clo, chi, to_c in moves:
                if clo <= hi and lo <= chi and (to_a, to_c) not in seen:
                    seen.add((to_a, to_c))
                    todo.append((to_a, to_c))
    return common or ()


def surely_allowed(grammar: Grammar, terms: Terminals) -> dict[str, frozenset[str]]:
    """For each terminal, terminals the parser allows wherever that terminal may start:
    the lexer is considering them all while it reads it.

    At the start of an alternative, every alternative's first terminals are allowed; at
    an item of a sequence, the first terminals of the rest of the sequence; at a copy of a
    repeat, the copy's first terminals; at the start of a rule, what is allowed at every
    reference to it. Sets start full and shrink to a fixpoint (the start rule starts
    empty), so each holds only what every way of reaching the terminal allows.

    Where a loop ``L*`` comes right before every other terminal of the grammar (``%ignore``
    as it is imported), an item after such loops only is still at the start of its
    sequence: reading ``L`` leaves every alternative that was allowed before it allowed.
    """
    rules = {r.name: r for r in grammar.rules if not r.lexeme}
    skip = _skip_loop(grammar, terms)
    at_rule: dict[str, frozenset[str] | None] = dict.fromkeys(rules)  # None: not yet met
    at_rule[grammar.start] = frozenset()
    found: dict[str, frozenset[str]] = {}

    def first(e: Expr) -> frozenset[str]:
        return frozenset(terms.first_of(e)[0])

    def meet(table: dict[str, frozenset[str] | None], key: str, value: frozenset[str]) -> bool:
        old = table.get(key)
        new = value if old is None else old & value
        table[key] = new
        return new != old

    changed = True

    def visit(e: Expr, here: frozenset[str]) -> None:
        nonlocal changed
        term = terms.terminal(e)
        if term is not None:
            changed |= meet(found, term, here | {term})  # type: ignore[arg-type]
        elif isinstance(e, Ref):
            if e.name in rules:
                changed |= meet(at_rule, e.name, here | first(e))
        elif isinstance(e, Alt):
            for x in e.items:
                visit(x, here | first(e))
        elif isinstance(e, Seq):
            for i, x in enumerate(e.items):
                at_start = all(item == skip for item in e.items[:i])
                visit(x, here | first(e) if at_start else first(Seq(items=e.items[i:])))
        elif isinstance(e, Repeat):
            visit(e.item, first(e.item))

    while changed:
        changed = False
        for name, rule in rules.items():
            here = at_rule[name]
            if here is not None:
                visit(rule.body, here | first(rule.body))
    return found


def _skip_loop(grammar: Grammar, terms: Terminals) -> Repeat | None:
    """The loop ``L*`` of a lexeme ``L`` that comes right before every other terminal of
    every rule, if there is one."""
    loops = [
        e
        for r in grammar.rules
        if not r.lexeme
        for e in walk(r.body)
        if isinstance(e, Repeat)
        and (e.min, e.max) == (0, None)
        and isinstance(e.item, Ref)
        and terms.terminal(e.item) is not None
    ]
    if not loops:
        return None
    skip = max(set(loops), key=loops.count)

    def ok(e: Expr, after_skip: bool) -> bool:
        if e == skip:
            return True
        if terms.terminal(e) is not None:
            return after_skip
        if isinstance(e, Seq):
            return all(
                ok(x, after_skip if i == 0 else e.items[i - 1] == skip)
                for i, x in enumerate(e.items)
            )
        if isinstance(e, Alt):
            return all(ok(x, after_skip) for x in e.items)
        if isinstance(e, Repeat):
            return ok(e.item, False)  # a later copy follows the copy before it
        return isinstance(e, Ref | Empty)  # rules are checked on their own

    every = all(ok(r.body, False) for r in grammar.rules if not r.lexeme)
    return skip if every else None


def with_greedy_boundaries(
    grammar: Grammar,
    terms: Terminals,
    banned: Mapping[str, Ranges],
    dfa_of: Callable[[Iterable[str]], DFA | None],
) -> Grammar | None:
    """``grammar`` rewritten so that no terminal is followed by a character it bans; None
    when the rewrite gives up (see the module docstring)."""
    if not banned:
        return grammar
    try:
        return _Rewrite(grammar, terms, banned, dfa_of).run()
    except _GiveUp:
        return None


class _GiveUp(Exception):
    pass


@dataclass
class _Rewrite:
    grammar: Grammar
    terms: Terminals
    banned: Mapping[str, Ranges]
    dfa_of: Callable[[Iterable[str]], DFA | None]

    def __post_init__(self) -> None:
        self.rules = {r.name: r for r in self.grammar.rules}
        self.bans: list[Ranges] = [(), *sorted(set(self.banned.values()))]
        self.tag = {t: self.bans.index(b) for t, b in self.banned.items()}
        self.every = frozenset(range(len(self.bans)))
        self.nullable = nullable_rules(self.grammar)
        self.taken = set(self.rules)
        self.new_rules: dict[str, Rule] = {}
        self.variant: dict[tuple[Expr, int, Last], str] = {}
        self.memo: dict[tuple[Expr, int, Last], Expr | None] = {}
        self._firsts: dict[Expr, Ranges] = {}
        for name in self.terms.expr:
            dfa = self.dfa_of([name])
            if dfa is None or dfa.start in dfa.accepting:
                raise _GiveUp  # a lexeme too large to read, or one that may be empty
        # CFG rules that reach a banned terminal: the others are kept as they are.
        self.holding: set[str] = set()
        changed = True
        while changed:
            changed = False
            for rule in self.grammar.rules:
                if not rule.lexeme and rule.name not in self.holding and self._holds(rule.body):
                    self.holding.add(rule.name)
                    changed = True
        # The bans a rule's strings may end with.
        self.rule_ends: dict[str, frozenset[int]] = {}
        changed = True
        while changed:
            changed = False
            for rule in self.grammar.rules:
                if rule.lexeme:
                    continue
                ends = self._ends(rule.body)
                if ends != self.rule_ends.get(rule.name, frozenset()):
                    self.rule_ends[rule.name] = ends
                    changed = True

    def _ends(self, e: Expr) -> frozenset[int]:
        term = self.terms.terminal(e)
        if term is not None:
            return frozenset({self.tag.get(term, 0)})
        if isinstance(e, Ref):
            return self.rule_ends.get(e.name, frozenset())
        if isinstance(e, Seq):
            out: frozenset[int] = frozenset()
            for x in reversed(e.items):
                out |= self._ends(x)
                if not self._eps(x):
                    break
            return out
        if isinstance(e, Alt):
            return frozenset().union(*map(self._ends, e.items))
        if isinstance(e, Repeat) and e.max != 0:
            return self._ends(e.item)
        return frozenset()

    def _holds(self, e: Expr) -> bool:
        term = self.terms.terminal(e)
        if term is not None:
            return term in self.banned
        if isinstance(e, Ref):
            return e.name in self.holding
        if isinstance(e, Seq | Alt):
            return any(self._holds(x) for x in e.items)
        if isinstance(e, Repeat):
            return self._holds(e.item)
        return False

    def _eps(self, e: Expr) -> bool:
        return nullable(e, self.nullable)

    def _first(self, e: Expr) -> Ranges:
        if e not in self._firsts:
            out: Ranges = ()
            for name in self.terms.first_of(e)[0]:
                dfa = self.dfa_of([name])
                assert dfa is not None  # checked in __post_init__
                out = union(out, first_chars(dfa))
            self._firsts[e] = out
        return self._firsts[e]

    def run(self) -> Grammar:
        top = self.rules[self.grammar.start]
        # The start rule's own body (a reference to the start rule could come back as it
        # is); references to it inside the grammar take variants of the original body.
        kept = [p for p in (self.v(top.body, 0, self.every),) if p is not None]
        if self._eps(top.body):
            kept.append(Empty())
        body = alt_of(*kept) if kept else Alt(items=())
        rules = [
            Rule(name=top.name, body=body, origins=top.origins, comment=top.comment),
            *(r for r in self.grammar.rules if r.name != top.name),
            *self.new_rules.values(),
        ]
        out = Grammar(
            start=self.grammar.start,
            rules=tuple(_prune(rules, self.grammar.start)),
            comment=self.grammar.comment,
        )
        return _merge_equal_rules(out)

    def v(self, e: Expr, first: int, last: Last) -> Expr | None:
        """The non-empty strings of ``e`` whose first character is outside ban ``first``
        and whose last lexeme has one of the bans ``last``, with no banned character
        inside; None for no string."""
        if first and not intersect(self._first(e), self.bans[first]):
            first = 0
        last &= self._ends(e)  # one variant however it is asked for
        if not last:
            return None
        if not self._holds(e) and not first and not self._eps(e):
            return e
        key = (e, first, last)
        if key not in self.memo:
            self.memo[key] = self._v(e, first, last)
        return self.memo[key]

    def _v(self, e: Expr, first: int, last: Last) -> Expr | None:
        if isinstance(e, Empty) or e == Lit(text=""):
            return None
        term = self.terms.terminal(e)
        if term is not None:
            if self.tag.get(term, 0) not in last:
                return None
            if not first:
                return e
            allowed = minus(self._first(e), self.bans[first])
            if not allowed:
                return None
            name = e.name if isinstance(e, Ref) else "LEX"
            return self._rule(
                (e, first, last),
                lambda: And(items=(e, Seq(items=(_class(allowed), _ANY_RUN)))),
                name,
                lexeme=True,
            )
        if isinstance(e, Ref):
            body = self.rules[e.name].body
            return self._rule((e, first, last), lambda: self.v(body, first, last), e.name)
        if isinstance(e, Alt):
            return _alt(self.v(x, first, last) for x in e.items)
        if isinstance(e, Seq):
            if len(e.items) == 1:
                return self.v(e.items[0], first, last)
            head, tail = e.items[0], seq(*e.items[1:])

            def rest(f: int) -> Expr | None:
                # A longer tail that holds a banned lexeme is a rule of its own, so that
                # its variants are written once instead of once per option around them.
                if isinstance(tail, Seq) and self._holds(tail):
                    return self._rule((tail, f, last), lambda: self.v(tail, f, last), "seq")
                return self.v(tail, f, last)

            if not first and not self._holds(head):
                # A head with no ban of its own, under none: the rest starts under none
                # whether the head is empty or not, so the head stays as it is.
                b = rest(0)
                options = [None if b is None else seq(head, b)]
            else:
                options = self._join(head, first, self._first(tail), rest)
                if self._eps(head):
                    options.append(rest(first))
            if self._eps(tail):
                options.append(self.v(head, first, last))
            return _alt(options)
        if isinstance(e, Repeat):
            return self._repeat(e, first, last)
        raise _GiveUp  # JsonSchema, Special: what they match is not known here

    def _repeat(self, e: Repeat, first: int, last: Last) -> Expr | None:
        x = e.item
        if e.max == 0:
            return None
        if not self._holds(x):
            # Only the first non-empty copy meets the ban; the copies after it are free.
            head = self.v(x, first, last)
            if head is None:
                return None
            more = None if e.max is None else e.max - 1
            least = 0 if self._eps(x) else max(e.min - 1, 0)
            return head if more == 0 else seq(head, Repeat(item=x, min=least, max=more))
        least = 0 if self._eps(x) else e.min
        if e.max is None:
            if least > MAX_UNROLL:
                raise _GiveUp
            star = Repeat(item=x, min=0, max=None)
            if least:
                return self.v(Seq(items=(*[x] * least, star)), first, last)
            return self._rule((star, first, last), lambda: self._loop(x, first, last), "loop")
        if e.max > MAX_UNROLL:
            raise _GiveUp
        optional = Alt(items=(x, Empty()))
        return self.v(Seq(items=(*[x] * least, *[optional] * (e.max - least))), first, last)

    def _loop(self, x: Expr, first: int, last: Last) -> Expr | None:
        """``x*`` as a right-recursive rule: one non-empty copy, then the loop again with
        the ban that copy ends with."""
        star = Repeat(item=x, min=0, max=None)

        def again(f: int) -> Expr | None:
            if not intersect(self._first(x), self.bans[f]):
                f = 0
            return self._rule((star, f, last), lambda: self._loop(x, f, last), "loop")

        return _alt([self.v(x, first, last), *self._join(x, first, self._first(x), again)])

    def _join(
        self, head: Expr, first: int, then: Ranges, rest: Callable[[int], Expr | None]
    ) -> list[Expr | None]:
        """``head`` followed by ``rest(ban)``, which starts with a character of ``then``
        and must avoid the ban ``head`` ends with. ``head`` is split by the ban it ends
        with only for bans that can meet ``then``, and the other endings stay together: a
        split is a guess the engine carries until the end of ``head``, and guesses nested
        in each other multiply.
        """
        ends = self._ends(head)
        meets = sorted(m for m in ends if m and intersect(self.bans[m], then))
        options: list[Expr | None] = []
        for middle, endings in [*((m, frozenset({m})) for m in meets), (0, ends - set(meets))]:
            a = self.v(head, first, endings) if endings else None
            if a is not None:
                b = rest(middle)
                options.append(None if b is None else seq(a, b))
        return options

    def _rule(
        self,
        key: tuple[Expr, int, Last],
        body: Callable[[], Expr | None],
        base: str,
        *,
        lexeme: bool = False,
    ) -> Ref:
        """A reference to the rule for ``key`` (named after ``base``), made with ``body()``
        on first use."""
        if key not in self.variant:
            e, first, last = key
            ends = "x" if last >= self._ends(e) else "_".join(map(str, sorted(last)))
            name = f"{base}__{first}_{ends}"
            if lexeme:
                name = name.upper()
            while name in self.taken:
                name += "_"
            self.taken.add(name)
            self.variant[key] = name
            made = body()
            origins = self.rules[e.name].origins if isinstance(e, Ref) else ()
            self.new_rules[name] = Rule(
                name=name,
                body=Alt(items=()) if made is None else made,
                lexeme=lexeme,
                origins=origins,
            )
        return Ref(name=self.variant[key])


_ANY_RUN = Repeat(item=CharClass(ranges=(), negated=True), min=0, max=None)


def _class(ranges: Ranges) -> CharClass:
    return CharClass(ranges=ranges)


def _alt(options: Iterable[Expr | None]) -> Expr | None:
    """The union of ``options`` (None: no string), with options that start with the same
    item joined into one: ``x | x y`` is written ``x y?``. An engine that follows every
    alternative at once (llama.cpp keeps a stack per alternative) would otherwise carry
    both copies of ``x``, and such copies multiply with nesting."""
    heads: dict[Expr, list[Expr]] = {}
    for o in options:
        if o is None:
            continue
        for item in o.items if isinstance(o, Alt) else (o,):
            first, *rest = item.items if isinstance(item, Seq) else (item,)
            tails = heads.setdefault(first, [])
            tail = seq(*rest)
            if tail not in tails:
                tails.append(tail)
    kept: list[Expr] = []
    for first, tails in heads.items():
        others = _alt(t for t in tails if t != Empty())
        if others is None:
            kept.append(first)
        elif Empty() in tails:
            kept.append(seq(first, Repeat(item=others, min=0, max=1)))
        else:
            kept.append(seq(first, others))
    return alt_of(*_optional_heads(kept)) if kept else None


def _optional_heads(options: list[Expr]) -> list[Expr]:
    """``options`` with ``h x | x`` written ``h? x``, and ``h h* x | x`` written
    ``h* x``."""
    out = list(options)
    i = 0
    while i < len(out):
        option = out[i]
        items = option.items if isinstance(option, Seq) else ()
        shapes = ((1, None), (2, Repeat(item=items[0], min=0, max=None))) if items else ()
        for cut, head in shapes:
            if len(items) <= cut or (head is not None and items[1] != head):
                continue
            rest = seq(*items[cut:])
            if rest in out:
                out[i] = seq(head or Repeat(item=items[0], min=0, max=1), rest)
                del out[out.index(rest)]
                i = -1  # start again: the merged option may merge further
                break
        i += 1
    return out


def _merge_equal_rules(grammar: Grammar) -> Grammar:
    """``grammar`` with rules of equal bodies merged into the first of them (variants that
    differ only in a ban nothing in them meets), and rules that only name another rule
    replaced by it."""
    while True:
        first: dict[tuple[Expr, bool], str] = {}
        alias: dict[str, str] = {}
        for r in grammar.rules:
            key = (r.body, r.lexeme)
            if r.name == grammar.start:
                first.setdefault(key, r.name)
            elif isinstance(r.body, Ref) and not r.lexeme and r.body.name != r.name:
                alias[r.name] = r.body.name
            elif key in first:
                alias[r.name] = first[key]
            else:
                first.setdefault(key, r.name)
        for name in list(alias):
            seen = {name}
            target = alias[name]
            while target in alias and target not in seen:
                seen.add(target)
                target = alias[target]
            if target in seen:  # rules that only name each other: left as they are
                for n in seen:
                    alias.pop(n, None)
            else:
                alias[name] = target
        if not alias:
            return grammar
        kept = tuple(r for r in grammar.rules if r.name not in alias)
        grammar = rename(msgspec.structs.replace(grammar, rules=kept), alias)


def _prune(rules: list[Rule], start: str) -> list[Rule]:
    """``rules`` without the rules that match nothing and the references to them, and
    without rules ``start`` no longer reaches."""
    productive: set[str] = set()

    def yields(e: Expr) -> bool:
        if isinstance(e, Ref):
            return e.name in productive
        if isinstance(e, Seq | And):
            return all(map(yields, e.items))
        if isinstance(e, Alt):
            return any(map(yields, e.items))
        if isinstance(e, Repeat):
            return e.min == 0 or yields(e.item)
        return True  # terminals, Empty, Not

    changed = True
    while changed:
        changed = False
        for r in rules:
            if r.name not in productive and yields(r.body):
                productive.add(r.name)
                changed = True

    def keep(e: Expr) -> Expr | None:
        if isinstance(e, Ref):
            return e if e.name in productive else None
        if isinstance(e, Seq):
            items = [keep(x) for x in e.items]
            return None if None in items else seq(*(i for i in items if i is not None))
        if isinstance(e, Alt):
            return _alt(keep(x) for x in e.items)
        if isinstance(e, Repeat):
            item = keep(e.item)
            if item is None:
                return Empty() if e.min == 0 else None
            return Empty() if item == Empty() else Repeat(item=item, min=e.min, max=e.max)
        return e

    out: list[Rule] = []
    for r in rules:
        if r.name not in productive and r.name != start:
            continue
        body = r.body if r.lexeme else keep(r.body)
        if body is None:  # the start rule matches nothing
            body = Alt(items=())
        out.append(
            Rule(name=r.name, body=body, lexeme=r.lexeme, origins=r.origins, comment=r.comment)
        )
    kept = reachable(start, out)
    return [r for r in out if r.name in kept]
