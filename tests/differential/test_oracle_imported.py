"""Imported grammars against the original grammar, read by an engine that never sees
Ananke's translation: every engine, reading what `arc transpile` prints for every target,
against it.

The oracles:

* a Lark file: the ``lark`` package reading the original file (Earley parser, dynamic
  lexer), as the grammar's authors run it;
* a GBNF file: llama.cpp, GBNF's own implementation, reading the original text;
* XGrammar's built-in JSON grammar (EBNF): XGrammar reading the original text.

Candidates, per grammar: random derivations of the original grammar, written here from
the grammar as its own reader parsed it (the ``lark`` package's rules and terminals, each
terminal's regular expression as Python's ``re`` parser reads it; the ``gbnf`` package's
rule table, a port of llama.cpp's GBNF parser); mutations of them; strings sampled from
the translation (they probe the other direction: the translation must not accept what the
original does not).

Verdicts: a string an engine accepts must be in the oracle's language. A string in the
oracle's language must be accepted, with two exceptions that spec/transpile.md documents
and that are decided here exactly:

* `greedy lexing`: an imported Lark grammar means what llguidance makes of it, whose lexer
  is greedy (it extends a lexeme while any lexeme can go on, and never backtracks), while
  the ``lark`` package's dynamic lexer tries the terminals at every position. A string lark
  accepts must be accepted when the tokens of lark's parse are the lexemes a greedy lexer
  finds: :func:`greedy_split` lexes the string greedily over every terminal of the
  original grammar (a superset of those llguidance allows at any point, so a lexeme it
  ends would end there too) and the boundaries must be lark's. Elsewhere the string may
  be rejected.
* `llguidance-gbnf-reader`: llguidance's GBNF reader turns every non-recursive GBNF rule
  into a greedy lexeme (backends/gbnf/printer.py), so llguidance reading the GBNF target may
  reject a string llama.cpp accepts; it must not accept one the oracle rejects.
"""

from __future__ import annotations

import functools
import random
import re
import re._constants as sre_c
import re._parser as sre_parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from ananke.engines.membership import Compiled, readers
from ananke.engines.sample import mutate, sample_strings
from ananke.ir import Diagnostics

from ananke.pipeline import transpile_grammar
from tests.differential.harness import READERS, compile_or_skip
from tests.differential.test_imported_grammars import SOURCES, _grammar

DERIVATIONS = 12
SAMPLED = 6
MAX_LEN = 60

# Characters random strings are drawn from where a class or a negation leaves a choice:
# ASCII, controls a grammar may single out, and a few non-ASCII letters, digits, spaces and
# an astral character.
POOL = [chr(c) for c in range(0x20, 0x7F)] + list("\t\n\r\x0b\x0céßЖ中٣\u00a0\u2003😀𝐞")


# --- Python regular expressions as automata -----------------------------------------------


class Unanalysable(Exception):
    """A regular expression construct the automaton below does not model."""


_CATEGORY = {
    sre_c.CATEGORY_DIGIT: r"\d",
    sre_c.CATEGORY_NOT_DIGIT: r"\D",
    sre_c.CATEGORY_SPACE: r"\s",
    sre_c.CATEGORY_NOT_SPACE: r"\S",
    sre_c.CATEGORY_WORD: r"\w",
    sre_c.CATEGORY_NOT_WORD: r"\W",
}
_CHAR_FLAGS = re.IGNORECASE | re.DOTALL | re.ASCII


def _class_source(items: list[tuple[Any, Any]]) -> str:
    parts = []
    for op, av in items:
        if op is sre_c.NEGATE:
            parts.insert(0, "^")
        elif op is sre_c.LITERAL:
            parts.append(re.escape(chr(av)))
        elif op is sre_c.RANGE:
            parts.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is sre_c.CATEGORY:
            parts.append(_CATEGORY[av])
        else:
            raise Unanalysable(str(op))
    return "[" + "".join(parts) + "]"


@functools.cache
def _matches(source: str, flags: int, c: str) -> bool:
    return re.fullmatch(source, c, flags) is not None


class Automaton:
    """A nondeterministic automaton over characters for a union of Python regular
    expressions, built from ``re``'s own parse of each. Lookarounds and anchors are read
    as empty, and repeats of more than :data:`CAP` as unbounded: the automaton accepts at
    least the expressions' strings, so "some expression can go on" is never missed."""

    CAP = 24

    def __init__(self, patterns: list[str]) -> None:
        self.eps: list[list[int]] = []
        self.steps: list[list[tuple[str, int, int]]] = []
        self.start = self._new()
        for pattern in patterns:
            parsed = sre_parse.parse(pattern)
            begin = self._new()
            self.eps[self.start].append(begin)
            self._seq(list(parsed), begin, parsed.state.flags & _CHAR_FLAGS)

    def _new(self) -> int:
        self.eps.append([])
        self.steps.append([])
        return len(self.eps) - 1

    def _char(self, s: int, source: str, flags: int) -> int:
        t = self._new()
        self.steps[s].append((source, flags, t))
        return t

    def _seq(self, items: list[tuple[Any, Any]], s: int, flags: int) -> int:
        for op, av in items:
            s = self._one(op, av, s, flags)
        return s

    def _one(self, op: Any, av: Any, s: int, flags: int) -> int:
        if op is sre_c.LITERAL:
            return self._char(s, re.escape(chr(av)), flags)
        if op is sre_c.NOT_LITERAL:
            return self._char(s, f"[^{re.escape(chr(av))}]", flags)
        if op is sre_c.ANY:
            return self._char(s, ".", flags)
        if op is sre_c.IN:
            return self._char(s, _class_source(av), flags)
        if op is sre_c.BRANCH:
            end = self._new()
            for seq in av[1]:
                begin = self._new()
                self.eps[s].append(begin)
                self.eps[self._seq(list(seq), begin, flags)].append(end)
            return end
        if op is sre_c.SUBPATTERN:
            _, add, remove, p = av
            return self._seq(list(p), s, (flags | add) & ~remove & _CHAR_FLAGS)
        if op is getattr(sre_c, "ATOMIC_GROUP", None):
            return self._seq(list(av), s, flags)
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
            lo, hi, p = av
            for _ in range(min(lo, self.CAP)):
                s = self._seq(list(p), s, flags)
            if hi is sre_c.MAXREPEAT or hi > self.CAP or lo > self.CAP:
                loop = self._new()
                self.eps[s].append(loop)
                self.eps[self._seq(list(p), loop, flags)].append(loop)
                return loop
            for _ in range(hi - lo):
                end = self._new()
                self.eps[s].append(end)
                self.eps[self._seq(list(p), s, flags)].append(end)
                s = end
            return s
        if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
            return s
        raise Unanalysable(str(op))

    def _closure(self, states: set[int]) -> frozenset[int]:
        todo = list(states)
        seen = set(states)
        while todo:
            for t in self.eps[todo.pop()]:
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        return frozenset(seen)

    def longest_live(self, s: str, at: int) -> int:
        """Where a greedy lexer starting at ``at`` stops: the end of the longest prefix
        of ``s[at:]`` that some expression can still go on from (or accept)."""
        states = self._closure({self.start})
        k = at
        while k < len(s):
            nxt = {t for q in states for src, fl, t in self.steps[q] if _matches(src, fl, s[k])}
            if not nxt:
                break
            states = self._closure(nxt)
            k += 1
        return k


# --- the oracles ------------------------------------------------------------------------


@dataclass
class LarkOracle:
    """The ``lark`` package reading the original file: verdicts, and the tokens of a parse
    (with their positions) for the greedy-lexing check."""

    parser: Any
    terminals: list[str]
    """Every terminal's regular expression (flags inline), ignored ones included."""
    ignored: list[str]
    automaton: Automaton | None
    """All terminals as one automaton; None when one of them uses a construct it does
    not model (no string is then claimed to lex greedily)."""

    def accepts(self, s: str) -> bool:
        import lark

        try:
            self.parser.parse(s)
        except lark.exceptions.LarkError:
            return False
        return True

    def tokens(self, s: str) -> list[tuple[int, int]]:
        import lark

        tree = self.parser.parse(s)
        if isinstance(tree, lark.Token):
            return [(tree.start_pos, tree.end_pos)]
        leaves = tree.scan_values(lambda v: isinstance(v, lark.Token))
        return sorted((t.start_pos, t.end_pos) for t in leaves)


def greedy_split(oracle: LarkOracle, s: str) -> bool:
    """Whether a greedy lexer over every terminal of the grammar splits ``s`` as lark's
    parse does: each token of the parse ends where no terminal can go on, and the text
    lark ignored between them splits the same way into ignored terminals."""
    if oracle.automaton is None:
        return False
    automaton = oracle.automaton
    at = 0
    for start, end in [*oracle.tokens(s), (len(s), len(s))]:
        while at < start:  # ignored text
            stop = automaton.longest_live(s, at)
            if stop > start or not any(re.fullmatch(p, s[at:stop]) for p in oracle.ignored):
                return False
            at = stop
        if start < end:
            if automaton.longest_live(s, start) != end:
                return False
            at = end
    return True


def _lark_oracle(text: str, path: str, start: str | None) -> LarkOracle:
    import lark

    if start is not None and start.isupper():
        # lark starts at a rule; one that is the terminal means the same language.
        text += f"\noracle_start_rule: {start}\n"
        start = "oracle_start_rule"
    parser = lark.Lark(
        text,
        start=start or "start",
        parser="earley",
        lexer="dynamic",
        keep_all_tokens=True,
        # As `lark.Lark.open(path)` reads it: `%import common.X` from lark's own library.
        source_path=path,
    )
    terminals = {t.name: t.pattern.to_regexp() for t in parser.terminals}
    ignored = [terminals[n] for n in parser.ignore_tokens]
    try:
        automaton: Automaton | None = Automaton(list(terminals.values()))
    except Unanalysable:
        automaton = None
    return LarkOracle(parser, list(terminals.values()), ignored, automaton)


# --- random derivations --------------------------------------------------------------


def _from_regex(pattern: str, rng: random.Random) -> str | None:
    """A random string matching ``pattern`` (None when none was found in a few tries)."""
    parsed = sre_parse.parse(pattern)
    for _ in range(8):
        out: list[str] = []
        _gen(list(parsed), parsed.state.flags & _CHAR_FLAGS, rng, out)
        s = "".join(out)
        if re.fullmatch(pattern, s):
            return s
    return None


def _gen(items: list[tuple[Any, Any]], flags: int, rng: random.Random, out: list[str]) -> None:
    for op, av in items:
        if op is sre_c.LITERAL:
            out.append(chr(av))
        elif op in (sre_c.NOT_LITERAL, sre_c.ANY, sre_c.IN):
            if op is sre_c.NOT_LITERAL:
                source = f"[^{re.escape(chr(av))}]"
            else:
                source = "." if op is sre_c.ANY else _class_source(av)
            choices = [c for c in POOL if _matches(source, flags, c)]
            if op is sre_c.IN and not any(o is sre_c.NEGATE for o, _ in av):
                for o, a in av:
                    if o is sre_c.LITERAL:
                        choices.append(chr(a))
                    elif o is sre_c.RANGE:
                        c = rng.randint(a[0], a[1])
                        if not 0xD800 <= c <= 0xDFFF:
                            choices.append(chr(c))
            if choices:
                out.append(rng.choice(choices))
        elif op is sre_c.BRANCH:
            _gen(list(rng.choice(av[1])), flags, rng, out)
        elif op is sre_c.SUBPATTERN:
            _gen(list(av[3]), (flags | av[1]) & ~av[2] & _CHAR_FLAGS, rng, out)
        elif op is getattr(sre_c, "ATOMIC_GROUP", None):
            _gen(list(av), flags, rng, out)
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
            lo, hi, p = av
            top = lo + 3 if hi is sre_c.MAXREPEAT else min(hi, lo + 3)
            for _ in range(rng.randint(lo, top)):
                _gen(list(p), flags, rng, out)


@dataclass
class Cfg:
    """A context-free grammar to derive from: per nonterminal its alternatives, each a
    sequence of nonterminal names and ``leaf`` callables that draw one piece of text."""

    start: str
    rules: dict[str, list[list[str | Callable[[random.Random], str | None]]]]
    height: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The least derivation height of each nonterminal, to end derivations.
        inf = 10**9
        self.height = {n: inf for n in self.rules}
        changed = True
        while changed:
            changed = False
            for n, alts in self.rules.items():
                for alt in alts:
                    h = 1 + max([self.height[x] for x in alt if isinstance(x, str)] or [0])
                    if h < self.height[n]:
                        self.height[n] = h
                        changed = True

    def derive(self, rng: random.Random, max_depth: int = 10) -> str | None:
        out: list[str] = []
        budget = [400]

        def walk(n: str, depth: int) -> bool:
            budget[0] -= 1
            alts = self.rules[n]
            if depth > max_depth or budget[0] < 0:
                alts = [min(alts, key=self._alt_height)]
            for x in rng.choice(alts):
                if isinstance(x, str):
                    if not walk(x, depth + 1):
                        return False
                else:
                    piece = x(rng)
                    if piece is None:
                        return False
                    out.append(piece)
            return True

        return "".join(out) if walk(self.start, 0) else None

    def _alt_height(self, alt: list[str | Callable[[random.Random], str | None]]) -> int:
        return max([self.height[x] for x in alt if isinstance(x, str)] or [0])


def _lark_cfg(oracle: LarkOracle) -> Cfg:
    parser = oracle.parser
    terminals = {t.name: t.pattern.to_regexp() for t in parser.terminals}
    ignored = oracle.ignored

    def leaf(pattern: str) -> Callable[[random.Random], str | None]:
        def draw(rng: random.Random) -> str | None:
            text = _from_regex(pattern, rng)
            if text is not None and ignored and rng.random() < 0.3:
                space = _from_regex(rng.choice(ignored), rng)
                text = (space or "") + text
            return text

        return draw

    rules: dict[str, list[list[str | Callable[[random.Random], str | None]]]] = {}
    for rule in parser.rules:
        alt: list[str | Callable[[random.Random], str | None]] = [
            leaf(terminals[sym.name]) if sym.is_term else sym.name for sym in rule.expansion
        ]
        rules.setdefault(rule.origin.name, []).append(alt)
    return Cfg(parser.options.start[0], rules)


def _gbnf_cfg(text: str) -> Cfg:
    """The grammar as the ``gbnf`` package's port of llama.cpp's parser reads it: rules of
    element lists, a character class being a first element and its alternatives."""
    from gbnf.rules_builder.rules_builder import RulesBuilder
    from gbnf.rules_builder.rules_builder_types import (
        InternalRuleDefAlt,
        InternalRuleDefChar,
        InternalRuleDefCharAlt,
        InternalRuleDefCharNot,
        InternalRuleDefCharRngUpper,
        InternalRuleDefReference,
    )

    built = RulesBuilder(text)
    names = {v: k for k, v in built.symbol_ids.items()}

    def leaf(ranges: list[list[int]], negated: bool) -> Callable[[random.Random], str | None]:
        def inside(c: str) -> bool:
            return any(r[0] <= ord(c) <= r[-1] for r in ranges) != negated

        def draw(rng: random.Random) -> str | None:
            choices = [c for c in POOL if inside(c)]
            if not negated:
                r = rng.choice(ranges)
                c = rng.randint(r[0], r[-1])
                if not 0xD800 <= c <= 0xDFFF:
                    choices.append(chr(c))
            return rng.choice(choices) if choices else None

        return draw

    rules: dict[str, list[list[str | Callable[[random.Random], str | None]]]] = {}
    for rule_id, elements in enumerate(built.rules):
        alts: list[list[str | Callable[[random.Random], str | None]]] = [[]]
        # A class (or one literal character) is a first element and the alternatives and
        # range ends that follow it; it ends at the next element of another kind.
        ranges: list[list[int]] = []
        negated = False
        for e in [*elements, None]:
            if ranges and not isinstance(e, (InternalRuleDefCharAlt, InternalRuleDefCharRngUpper)):
                alts[-1].append(leaf(ranges, negated))
                ranges = []
            if isinstance(e, (InternalRuleDefChar, InternalRuleDefCharNot)):
                negated = isinstance(e, InternalRuleDefCharNot)
                ranges = [[e.value[0]]]
            elif isinstance(e, InternalRuleDefCharAlt):
                ranges.append([e.value])
            elif isinstance(e, InternalRuleDefCharRngUpper):
                ranges[-1].append(e.value)
            elif isinstance(e, InternalRuleDefReference):
                alts[-1].append(names[e.value])
            elif isinstance(e, InternalRuleDefAlt):
                alts.append([])
        rules[names[rule_id]] = alts
    return Cfg("root", rules)


# --- per grammar --------------------------------------------------------------------


@dataclass
class Case:
    """One imported grammar: its oracle, and what decides the greedy-lexing exception."""

    accepts: Callable[[str], bool]
    cfg: Cfg | None
    greedy: Callable[[str], bool] | None
    """For a Lark source: whether the string lexes greedily as lark parsed it."""


@functools.cache
def case(key: str) -> Case:
    _grammar(key)  # skips (or fails) as the imported-grammar test does when it is missing
    entry = SOURCES[key]
    assert entry is not None
    source, dialect, start = entry
    if dialect == "lark":
        oracle = _lark_oracle(source.text, source.name, start)
        return Case(oracle.accepts, _lark_cfg(oracle), lambda s: greedy_split(oracle, s))
    if dialect == "gbnf":
        compiled = compile_or_skip("llamacpp-gbnf", source.text)
        return Case(compiled.accepts, _gbnf_cfg(source.text), None)
    compiled = compile_or_skip("xgrammar-ebnf", source.text)
    # The gbnf package reads GBNF: XGrammar's lookaheads, which do not restrict the
    # language, are left out, and its `\0` spelled as GBNF spells it.
    gbnf = re.sub(r" \(=\(.*\)\)$", "", source.text, flags=re.M).replace("\\0", "\\x00")
    return Case(compiled.accepts, _gbnf_cfg(gbnf), None)


@functools.cache
def _printed(key: str, target: str) -> str | None:
    text = transpile_grammar(_grammar(key), target, Diagnostics())
    return text.removesuffix("\n") if text is not None and target == "regex" else text


@functools.cache
def derivations(key: str) -> list[str]:
    """Up to :data:`DERIVATIONS` distinct random derivations of the original grammar."""
    c = case(key)
    rng = random.Random(key)
    derived: list[str] = []
    for _ in range(DERIVATIONS * 4):
        s = c.cfg.derive(rng) if c.cfg is not None else None
        if s is not None and len(s) <= MAX_LEN and s not in derived:
            derived.append(s)
        if len(derived) >= DERIVATIONS:
            break
    return derived


@functools.cache
def corpus(key: str) -> tuple[tuple[str, bool], ...]:
    """The candidates with the oracle's verdicts."""
    c = case(key)
    rng = random.Random(key)
    derived = derivations(key)
    reference = _printed(key, "llguidance")
    assert reference is not None
    sampled = sample_strings(reference, SAMPLED, seed=5, max_len=MAX_LEN)
    mutants = [mutate(s, rng) for s in derived + sampled]
    strings = list(dict.fromkeys(derived + sampled + mutants))
    return tuple((s, c.accepts(s)) for s in strings)


@functools.cache
def _compiled(engine: str, text: str) -> Compiled:
    return compile_or_skip(engine, text)


ENGINES = {"llguidance": readers("llguidance"), **READERS}
"""The engines reading each target's text; the imported-grammar test's reference
(llguidance reading the llguidance target) is one of them here."""


def summary(wrong: list[str], limit: int = 8) -> str:
    more = [f"... and {len(wrong) - limit} more"] if len(wrong) > limit else []
    return "\n".join(wrong[:limit] + more)


CASES = [(key, target) for key in sorted(SOURCES) for target in sorted(ENGINES)]


@pytest.mark.parametrize(("key", "target"), CASES, ids=[f"{k}-{t}" for k, t in CASES])
def test_every_engine_agrees_with_the_original_grammar(key: str, target: str) -> None:
    text = _printed(key, target)
    if text is None:
        return  # the regex target refuses grammars that are not regular (the other test)
    c = case(key)
    wrong: list[str] = []
    for engine in ENGINES[target]:
        compiled = _compiled(engine, text)
        for s, expected in corpus(key):
            got = compiled.accepts(s)
            if got == expected:
                continue
            if not got and engine == "llguidance-gbnf":
                continue  # llguidance-gbnf-reader (module docstring)
            if not got and c.greedy is not None and not c.greedy(s):
                continue  # greedy lexing (module docstring)
            verb = "accepts" if got else "rejects"
            wrong.append(f"{engine} {verb} {s!r}, the original grammar does not")
    assert not wrong, summary(wrong)


@pytest.mark.parametrize("key", sorted(SOURCES))
def test_the_candidates_hold_members_and_non_members(key: str) -> None:
    """Derivations of the original grammar are members of its language as its own reader
    decides (else the derivation code is wrong), and mutations give non-members."""
    found = dict(corpus(key))
    c = case(key)
    derived = derivations(key)
    assert derived
    members = [s for s in derived if found[s]]
    if c.greedy is None:
        assert members == derived
    else:
        # lark's dynamic lexer takes each terminal's own regex match, so a derivation can
        # fall outside its language; most do not, and most lex greedily: the exception is
        # not what makes the test pass.
        assert len(members) * 4 >= len(derived) * 3, [s for s in derived if not found[s]]
        assert sum(map(c.greedy, members)) * 4 >= len(members) * 3, members
    assert not all(found.values()), found


def test_the_greedy_split_reads_lexemes_as_llguidance_does() -> None:
    """The greedy-lexing check, on grammars where lark and a greedy lexer differ or not."""
    oracle = _lark_oracle('start: A C | B\nA: "a"\nB: "ab"\nC: "bc"\n', "x.lark", None)
    # lark splits "abc" as "a" "bc"; a greedy lexer takes "ab" and then finds no lexeme.
    assert oracle.accepts("abc") and not greedy_split(oracle, "abc")
    assert oracle.accepts("ab") and greedy_split(oracle, "ab")
    oracle = _lark_oracle('start: A B\nA: /a+/\nB: "b"\n%ignore " "\n', "x.lark", None)
    assert greedy_split(oracle, "aab") and greedy_split(oracle, " a  b ")
