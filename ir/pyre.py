"""Python ``re`` patterns decided in time linear in the text.

``matches:`` and ``naming:`` patterns are Python regular expressions that the post checks
run on generated text. Python's ``re`` backtracks, so ``(a+)+$`` on a run of ``a`` followed
by ``!`` takes time that doubles with every character. :func:`compile_pattern` reads a
pattern with Python's own parser and :meth:`Pattern.search` answers "does ``re.search``
(or ``re.fullmatch``) find a match?" exactly as ``re`` does, in time linear in the text:

* the pattern becomes a Thompson NFA over code points U+0000-U+10FFFF (lone surrogates
  included, since a ``str`` may hold them), simulated as a DFA built lazily while reading
  (a bounded cache of states, flushed when full), so every character costs one table
  look-up or, the first time a state meets it, one pass over the NFA;
* ``^ $ \\A \\Z \\b \\B`` (with ``m`` and ``a``) are conditions on the characters around a
  position, tested while the NFA is closed under empty moves;
* a lookahead ``(?=X)``/``(?!X)`` is a table of the positions where ``X`` matches,
  computed by one backward pass before the main pass; a lookbehind (fixed width, as
  Python requires) by one forward pass. Nested lookaround costs one pass per lookaround;
* ``.``, classes, ``\\d \\w \\s`` (:func:`~ananke.ir.pyclasses.python_class`, so Unicode
  unless ``a``), and the flags ``i m s a x u`` mean what they mean in ``re``. Under ``i``
  the characters whose case varies (a few thousand) are matched against each single-
  character atom by ``re`` itself, once per atom; every other character matches as
  without ``i``. Lazy quantifiers match what greedy ones match (laziness changes which
  match is found, not whether one is).

Refused with :class:`UnsupportedPattern`: backreferences (``\\1``, ``(?P=n)``),
conditionals (``(?(1)a|b)``), atomic groups ``(?>...)`` and possessive quantifiers
(``*+``), which need backtracking, and patterns whose NFA would exceed ``max_states``
(counted repetitions are expanded: ``x{1000}`` is a thousand copies of ``x``). The work of
one search is counted in steps (a character read, an NFA state visited): past
``max_steps`` it stops with :class:`BudgetExceeded`, so no text makes it hang.

Python's parser is the private ``re._parser`` module (``sre_parse`` before 3.11): only it
reads the syntax exactly as ``re`` does. Its output is read by opcode name, and any
opcode this module does not know is refused, not guessed.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .pyclasses import python_class
from .ranges import Ranges, intersect, merge, minus

__all__ = [
    "DEFAULT_MAX_STATES",
    "BudgetExceeded",
    "Pattern",
    "SearchResult",
    "UnsupportedPattern",
    "compile_pattern",
]

DEFAULT_MAX_STATES = 10_000
"""Bound on the NFA of one pattern (lookaround bodies included)."""

_CACHE_STATES = 4_096
"""DFA states kept per pass before the cache is flushed."""

_ALL: Ranges = ((0, 0x10FFFF),)

try:  # Python's own reader of the syntax (private; read by opcode name below)
    _sre_parse: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - every supported Python has it
    _sre_parse = None


class UnsupportedPattern(ValueError):
    """A valid Python pattern this module cannot decide in linear time."""

    def __init__(self, reason: str, *, too_large: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.too_large = too_large
        """The pattern is refused for its size, not for a construct."""


class BudgetExceeded(Exception):
    """A search needed more than ``limit`` steps."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit:,} steps")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class SearchResult:
    matched: bool
    steps: int
    """The work done: characters read (once per pass) plus NFA states visited while
    building DFA states."""


# --- facts about a position ----------------------------------------------------------
# Bits describing position p of a text of length n: what the assertions test.

_START, _END, _PREV_NL, _NEXT_NL, _FINAL_NL = 1, 2, 4, 8, 16
_PREV_WU, _NEXT_WU, _PREV_WA, _NEXT_WA, _EMPTY = 32, 64, 128, 256, 512
_LOOK0 = 10  # bit of the first lookaround's table

# Python 3.14 made \B match the empty string; earlier versions do not.
_EMPTY_NON_BOUNDARY = re.search(r"\B", "") is not None

# ``re.search`` skips ahead to a position whose character is in the class that starts
# every match, and Python (3.11 at least) computes that class with the pattern's global
# flags, not those of the group it stands in: ``(?a)(?u:\d)`` finds no match in "٣"
# although ``(?a)x(?u:\d)`` finds one in "x٣". Measured, so a Python that computes it
# with the group's flags is followed too.
_PREFIX_CLASS_USES_GLOBAL_FLAGS = re.search(r"(?a)(?u:\d)", "\u0663") is None


def _boundary(f: int, prev: int, nxt: int) -> bool:
    return not f & _EMPTY and bool(f & prev) != bool(f & nxt)


def _non_boundary(f: int, prev: int, nxt: int) -> bool:
    if f & _EMPTY:
        return _EMPTY_NON_BOUNDARY
    return bool(f & prev) == bool(f & nxt)


_AT: dict[str, tuple[int, Callable[[int], bool]]] = {
    # name: (facts read, test)
    "begin_string": (_START, lambda f: bool(f & _START)),
    "begin_line": (_START | _PREV_NL, lambda f: bool(f & (_START | _PREV_NL))),
    "end_string": (_END, lambda f: bool(f & _END)),
    "end": (_END | _FINAL_NL, lambda f: bool(f & (_END | _FINAL_NL))),
    "end_line": (_END | _NEXT_NL, lambda f: bool(f & (_END | _NEXT_NL))),
    "boundary_u": (_EMPTY | _PREV_WU | _NEXT_WU, lambda f: _boundary(f, _PREV_WU, _NEXT_WU)),
    "boundary_a": (_EMPTY | _PREV_WA | _NEXT_WA, lambda f: _boundary(f, _PREV_WA, _NEXT_WA)),
    "non_boundary_u": (
        _EMPTY | _PREV_WU | _NEXT_WU,
        lambda f: _non_boundary(f, _PREV_WU, _NEXT_WU),
    ),
    "non_boundary_a": (
        _EMPTY | _PREV_WA | _NEXT_WA,
        lambda f: _non_boundary(f, _PREV_WA, _NEXT_WA),
    ),
}


def _in(ranges: Ranges, cp: int) -> bool:
    k = bisect.bisect_right(ranges, (cp, 0x110000)) - 1
    return k >= 0 and ranges[k][0] <= cp <= ranges[k][1]


def _facts(text: str, mask: int) -> list[int]:
    """The facts of every position 0..n of ``text`` that ``mask`` asks for."""
    n = len(text)
    word_u = python_class("w") if mask & (_PREV_WU | _NEXT_WU) else ()
    word_a = python_class("w", ascii=True)
    kinds: dict[str, tuple[int, int]] = {}  # character -> (facts as next, as previous)
    out = [0] * (n + 1)
    prev = _START
    for p, ch in enumerate(text):
        kind = kinds.get(ch)
        if kind is None:
            cp = ord(ch)
            nxt = before = 0
            if ch == "\n":
                nxt, before = _NEXT_NL, _PREV_NL
            if word_u and _in(word_u, cp):
                nxt, before = nxt | _NEXT_WU, before | _PREV_WU
            if _in(word_a, cp):
                nxt, before = nxt | _NEXT_WA, before | _PREV_WA
            kind = kinds[ch] = (nxt, before)
        out[p] = prev | kind[0]
        prev = kind[1]
    out[n] = prev | _END
    if n and text[-1] == "\n":
        out[n - 1] |= _FINAL_NL
    if not n:
        out[0] |= _EMPTY
    return [f & mask for f in out]


# --- character sets ------------------------------------------------------------------

_CATEGORIES = {
    "CATEGORY_DIGIT": "d",
    "CATEGORY_NOT_DIGIT": "D",
    "CATEGORY_SPACE": "s",
    "CATEGORY_NOT_SPACE": "S",
    "CATEGORY_WORD": "w",
    "CATEGORY_NOT_WORD": "W",
}

# A set as written: ("lit", cp) | ("notlit", cp) | ("any", dotall) | ("in", items), items
# ("lit", cp) | ("range", lo, hi) | ("cat", letter) | ("neg",); with (ignorecase, ascii).
_Atom = tuple[Any, ...]


def _category(letter: str, ascii: bool) -> Ranges:
    """``\\d``-like classes over all code points: the negated ones hold the surrogates,
    which ``re`` reads as neither digit, word nor space."""
    positive = python_class(letter.lower(), ascii=ascii)
    return minus(_ALL, positive) if letter.isupper() else positive


def _plain(atom: _Atom, ascii: bool) -> Ranges:
    kind = atom[0]
    if kind == "meet":  # the class as written, and as the global flags read it
        return intersect(_plain(atom[1], ascii), _plain(atom[1], atom[2]))
    if kind == "lit":
        return ((atom[1], atom[1]),)
    if kind == "notlit":
        return minus(_ALL, ((atom[1], atom[1]),))
    if kind == "any":
        return _ALL if atom[1] else minus(_ALL, ((10, 10),))
    parts: list[tuple[int, int]] = []
    negate = False
    for item in atom[1]:
        if item[0] == "lit":
            parts.append((item[1], item[1]))
        elif item[0] == "range":
            parts.append((item[1], item[2]))
        elif item[0] == "cat":
            parts.extend(_category(item[1], ascii))
        else:
            negate = True
    ranges = merge(parts)
    return minus(_ALL, ranges) if negate else ranges


def _source(atom: _Atom) -> str:
    """The atom written back as a pattern (to ask ``re`` about single characters)."""

    def char(cp: int) -> str:
        return f"\\U{cp:08x}"

    if atom[0] == "lit":
        return char(atom[1])
    if atom[0] == "notlit":
        return f"[^{char(atom[1])}]"
    out = ["["]
    for item in atom[1]:
        if item[0] == "neg":
            out.insert(1, "^")
        elif item[0] == "lit":
            out.append(char(item[1]))
        elif item[0] == "range":
            out.append(f"{char(item[1])}-{char(item[2])}")
        else:
            out.append(f"\\{item[1]}")
    return "".join(out) + "]"


@functools.cache
def _cased() -> tuple[Ranges, str]:
    """Every character whose case varies, or that another character's case mapping gives.
    Under ``i`` only these can match otherwise than without it: any other character ``c``
    is its own lower case, and no other character lowers to it."""
    found: set[int] = set()
    for cp in range(0x110000):
        ch = chr(cp)
        low, up = ch.lower(), ch.upper()
        if low != ch or up != ch:
            found.add(cp)
            found.update(map(ord, low))
            found.update(map(ord, up))
    ranges = merge((cp, cp) for cp in found)
    return ranges, "".join(map(chr, sorted(found)))


@functools.lru_cache(maxsize=4096)
def _ranges(atom: _Atom, ignorecase: bool, ascii: bool) -> Ranges:
    if atom[0] == "meet":
        return intersect(_ranges(atom[1], ignorecase, ascii), _plain(atom[1], atom[2]))
    plain = _plain(atom, ascii)
    if not ignorecase or atom[0] == "any":
        return plain
    cased, chars = _cased()
    flags = "(?ai)" if ascii else "(?i)"
    hits = re.compile(flags + _source(atom)).finditer(chars)
    matched = merge((ord(m.group()), ord(m.group())) for m in hits)
    return merge((*minus(plain, cased), *matched))


# --- the NFA --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Look:
    ahead: bool
    start: int
    accept: int


class _Builder:
    """Thompson construction from the parser's tree, flags resolved per node."""

    def __init__(self, limit: int, maxrepeat: int) -> None:
        self.limit = limit
        self.maxrepeat = maxrepeat
        self.eps: list[list[int]] = []
        self.cond: list[list[tuple[int, int]]] = []  # (condition, target)
        self.char: list[list[tuple[int, int]]] = []  # (set, target)
        self.sets: list[tuple[_Atom, bool, bool]] = []
        self.set_ids: dict[tuple[_Atom, bool, bool], int] = {}
        self.conds: list[tuple[str, int, bool]] = []  # (kind, lookaround, negated)
        self.cond_ids: dict[tuple[str, int, bool], int] = {}
        self.looks: list[_Look] = []

    def new(self) -> int:
        if len(self.eps) >= self.limit:
            raise UnsupportedPattern(
                f"it needs more than {self.limit:,} automaton states", too_large=True
            )
        self.eps.append([])
        self.cond.append([])
        self.char.append([])
        return len(self.eps) - 1

    def charset(self, atom: _Atom, flags: int) -> tuple[int, int]:
        key = (atom, bool(flags & re.IGNORECASE), bool(flags & re.ASCII))
        k = self.set_ids.get(key)
        if k is None:
            k = self.set_ids[key] = len(self.sets)
            self.sets.append(key)
        s, e = self.new(), self.new()
        self.char[s].append((k, e))
        return s, e

    def condition(self, kind: str, look: int = -1, negated: bool = False) -> tuple[int, int]:
        key = (kind, look, negated)
        k = self.cond_ids.get(key)
        if k is None:
            k = self.cond_ids[key] = len(self.conds)
            self.conds.append(key)
        s, e = self.new(), self.new()
        self.cond[s].append((k, e))
        return s, e

    def seq(self, items: Iterable[tuple[Any, Any]], flags: int) -> tuple[int, int]:
        start = end = self.new()
        for op, av in items:
            s, e = self.node(str(op), av, flags)
            self.eps[end].append(s)
            end = e
        return start, end

    def node(self, op: str, av: Any, flags: int) -> tuple[int, int]:
        if op == "LITERAL":
            return self.charset(("lit", av), flags)
        if op == "NOT_LITERAL":
            return self.charset(("notlit", av), flags)
        if op == "ANY":
            return self.charset(("any", bool(flags & re.DOTALL)), flags)
        if op == "IN":
            return self.charset(("in", tuple(self.set_item(str(o), a) for o, a in av)), flags)
        if op == _PREFIX_CLASS:
            items, outer_ascii = av
            atom = ("in", tuple(self.set_item(str(o), a) for o, a in items))
            return self.charset(("meet", atom, outer_ascii), flags)
        if op == "BRANCH":
            start, end = self.new(), self.new()
            for alt in av[1]:
                s, e = self.seq(alt, flags)
                self.eps[start].append(s)
                self.eps[e].append(end)
            return start, end
        if op == "SUBPATTERN":
            _, add, delete, body = av
            return self.seq(body, _combine(flags, add, delete))
        if op in ("MAX_REPEAT", "MIN_REPEAT"):
            return self.repeat(av[0], av[1], av[2], flags)
        if op == "AT":
            return self.condition(self.at(str(av), flags))
        if op in ("ASSERT", "ASSERT_NOT"):
            direction, body = av
            s, e = self.seq(body, flags)
            self.looks.append(_Look(ahead=direction > 0, start=s, accept=e))
            return self.condition("look", len(self.looks) - 1, op == "ASSERT_NOT")
        why = {
            "GROUPREF": "a backreference",
            "GROUPREF_EXISTS": "a conditional group `(?(...)...)`",
            "ATOMIC_GROUP": "an atomic group `(?>...)`",
            "POSSESSIVE_REPEAT": "a possessive quantifier (`*+`, `++`, `?+`, `{m,n}+`)",
        }.get(op)
        if why is not None:
            raise UnsupportedPattern(f"it uses {why}, which needs backtracking")
        raise UnsupportedPattern(f"it uses the construct {op}, which Ananke cannot match")

    def set_item(self, op: str, av: Any) -> tuple[Any, ...]:
        if op == "LITERAL":
            return ("lit", av)
        if op == "RANGE":
            return ("range", av[0], av[1])
        if op == "NEGATE":
            return ("neg",)
        if op == "CATEGORY" and str(av) in _CATEGORIES:
            return ("cat", _CATEGORIES[str(av)])
        raise UnsupportedPattern(f"its class uses {op} {av}, which Ananke cannot match")

    def at(self, code: str, flags: int) -> str:
        multiline = bool(flags & re.MULTILINE)
        ascii = "a" if flags & re.ASCII else "u"
        kinds = {
            "AT_BEGINNING": "begin_line" if multiline else "begin_string",
            "AT_BEGINNING_STRING": "begin_string",
            "AT_END": "end_line" if multiline else "end",
            "AT_END_STRING": "end_string",
            "AT_BOUNDARY": f"boundary_{ascii}",
            "AT_NON_BOUNDARY": f"non_boundary_{ascii}",
        }
        kind = kinds.get(code)
        if kind is None:
            raise UnsupportedPattern(f"it uses the assertion {code}, which Ananke cannot match")
        return kind

    def repeat(self, lo: int, hi: int, body: Any, flags: int) -> tuple[int, int]:
        start = end = self.new()
        last: tuple[int, int] | None = None
        for _ in range(lo):
            last = s, e = self.seq(body, flags)
            self.eps[end].append(s)
            end = e
        if hi >= self.maxrepeat:
            if last is not None:  # x{m,}: loop on the last copy
                self.eps[last[1]].append(last[0])
                return start, end
            s, e = self.seq(body, flags)
            self.eps[end] += [s]
            self.eps[e] += [s]
            final = self.new()
            self.eps[end].append(final)
            self.eps[e].append(final)
            return start, final
        final = self.new()
        self.eps[end].append(final)
        for _ in range(hi - lo):
            s, e = self.seq(body, flags)
            self.eps[end].append(s)
            self.eps[e].append(final)
            end = e
        return start, final


_PREFIX_CLASS = "PREFIX_CLASS"
"""A class that starts every match, read by ``re.search`` also with the global flags."""

_TYPE_FLAGS = re.ASCII | re.UNICODE | re.LOCALE


def _combine(flags: int, add: int, delete: int) -> int:
    if add & _TYPE_FLAGS:
        flags &= ~_TYPE_FLAGS
    return (flags | add) & ~delete


def _iscased(cp: int, ascii: bool) -> bool:
    """Whether ``re`` reads ``cp`` as having case (``_sre.*_iscased``)."""
    if ascii:
        return cp < 128 and chr(cp).isalpha()
    ch = chr(cp)
    return ch.lower() != ch or ch.upper() != ch


def _with_prefix_class(items: list[tuple[Any, Any]], flags: int, outer: int) -> list[Any] | None:
    """``items`` with the class that starts them marked as :data:`_PREFIX_CLASS` when
    ``re.search`` would read it with the global flags ``outer`` and these differ from its
    own (CPython's ``_get_charset_prefix``), else None."""
    if not items:
        return None
    op, av = items[0]
    if str(op) == "SUBPATTERN":
        group, add, delete, body = av
        inner = _combine(flags, add, delete)
        marked = _with_prefix_class(list(body), inner, outer)
        return None if marked is None else [(op, (group, add, delete, marked)), *items[1:]]
    ascii = bool(flags & re.ASCII)
    if str(op) != "IN" or ascii == bool(outer & re.ASCII):
        return None
    if not any(str(o) == "CATEGORY" for o, _ in av):
        return None  # only \d \w \s and their negations read the flags
    if flags & re.IGNORECASE:  # a class with a cased character gives no prefix
        for o, a in av:
            if str(o) == "LITERAL" and _iscased(a, ascii):
                return None
            if str(o) == "RANGE" and (
                a[1] > 0xFFFF or any(_iscased(c, ascii) for c in range(a[0], a[1] + 1))
            ):
                return None
    return [(_PREFIX_CLASS, (av, bool(outer & re.ASCII))), *items[1:]]


class _Program:
    """The NFA, frozen, with the condition tests and lazily made character sets."""

    def __init__(self, b: _Builder, start: int, accept: int) -> None:
        self.eps = tuple(tuple(x) for x in b.eps)
        self.cond = tuple(tuple(x) for x in b.cond)
        self.char = tuple(tuple(x) for x in b.char)
        self.atoms = tuple(b.sets)
        self.looks = tuple(b.looks)
        self.start, self.accept = start, accept
        tests: list[Callable[[int], bool]] = []
        mask = 0
        for kind, look, negated in b.conds:
            if kind == "look":
                bit = 1 << (_LOOK0 + look)
                mask |= bit
                tests.append(functools.partial(_look_test, bit, negated))
            else:
                reads, test = _AT[kind]
                mask |= reads
                tests.append(test)
        self.tests = tuple(tests)
        self.mask = mask
        self._sets: list[Ranges | None] = [None] * len(self.atoms)
        self._reversed: tuple[Any, Any, Any] | None = None

    @property
    def num_states(self) -> int:
        return len(self.eps)

    def ranges(self, k: int) -> Ranges:
        found = self._sets[k]
        if found is None:
            found = self._sets[k] = _ranges(*self.atoms[k])
        return found

    def reversed_edges(self) -> tuple[Any, Any, Any]:
        if self._reversed is None:
            n = len(self.eps)
            eps: list[list[int]] = [[] for _ in range(n)]
            cond: list[list[tuple[int, int]]] = [[] for _ in range(n)]
            char: list[list[tuple[int, int]]] = [[] for _ in range(n)]
            for s in range(n):
                for t in self.eps[s]:
                    eps[t].append(s)
                for k, t in self.cond[s]:
                    cond[t].append((k, s))
                for k, t in self.char[s]:
                    char[t].append((k, s))
            self._reversed = (
                tuple(map(tuple, eps)),
                tuple(map(tuple, cond)),
                tuple(map(tuple, char)),
            )
        return self._reversed


def _look_test(bit: int, negated: bool, f: int) -> bool:
    return bool(f & bit) != negated


# --- the lazy DFA --------------------------------------------------------------------


class _Budget:
    __slots__ = ("left", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = self.left = limit

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise BudgetExceeded(self.limit)


class _State:
    """A DFA state: the NFA states with character moves after closing under empty moves,
    and whether the target state was reached."""

    __slots__ = ("chars", "hit", "next")

    def __init__(self, chars: tuple[int, ...], hit: bool) -> None:
        self.chars = chars
        self.hit = hit
        self.next: dict[Any, _State] = {}


class _Pass:
    """One direction of reading over a program: the NFA restarted at ``inject`` before
    every position, ``target`` sought at every position. Forward passes read the text left
    to right, backward ones right to left over the reversed NFA."""

    def __init__(self, prog: _Program, inject: int, target: int, backward: bool) -> None:
        self.prog = prog
        self.inject, self.target = inject, target
        if backward:
            self.eps, self.cond, self.char = prog.reversed_edges()
        else:
            self.eps, self.cond, self.char = prog.eps, prog.cond, prog.char
        self.states: dict[tuple[tuple[int, ...], bool], _State] = {}
        self.starts: dict[int, _State] = {}

    def close(self, kernel: Iterable[int], f: int, budget: _Budget) -> _State:
        eps, cond, char, tests = self.eps, self.cond, self.char, self.prog.tests
        seen: set[int] = set()
        stack = list(kernel)
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            stack.extend(eps[s])
            for k, t in cond[s]:
                if tests[k](f):
                    stack.append(t)
        budget.spend(len(seen) + 1)
        chars = tuple(sorted(s for s in seen if char[s]))
        key = (chars, self.target in seen)
        state = self.states.get(key)
        if state is None:
            if len(self.states) >= _CACHE_STATES:
                # Flush: unlink the old states so that none stays reachable.
                for old in self.states.values():
                    old.next.clear()
                self.states.clear()
                self.starts.clear()
            state = self.states[key] = _State(*key)
        return state

    def first(self, f: int, budget: _Budget) -> _State:
        state = self.starts.get(f)
        if state is None:
            state = self.starts[f] = self.close((self.inject,), f, budget)
        return state

    def step(self, state: _State, ch: str, f: int, key: Any, budget: _Budget) -> _State:
        cp = ord(ch)
        prog, char = self.prog, self.char
        targets = [self.inject]
        for s in state.chars:
            for k, t in char[s]:
                if _in(prog.ranges(k), cp):
                    targets.append(t)
        budget.spend(len(state.chars))
        nxt = self.close(targets, f, budget)
        if len(state.next) >= _CACHE_STATES:
            state.next.clear()
        state.next[key] = nxt
        return nxt

    def search(self, text: str, facts: Sequence[int] | None, budget: _Budget) -> bool:
        """Whether the target is reached at some position (stops at the first)."""
        budget.spend(len(text))
        state = self.first(facts[0] if facts else 0, budget)
        if state.hit:
            return True
        if facts is None:
            for ch in text:
                nxt = state.next.get(ch)
                if nxt is None:
                    nxt = self.step(state, ch, 0, ch, budget)
                if nxt.hit:
                    return True
                state = nxt
            return False
        for p, ch in enumerate(text, 1):
            f = facts[p]
            key = (ch, f)
            nxt = state.next.get(key)
            if nxt is None:
                nxt = self.step(state, ch, f, key, budget)
            if nxt.hit:
                return True
            state = nxt
        return False

    def table(self, text: str, facts: Sequence[int], backward: bool, budget: _Budget) -> list[bool]:
        """Whether the target is reached, at every position 0..n."""
        n = len(text)
        budget.spend(n)
        out = [False] * (n + 1)
        order = range(n - 1, -1, -1) if backward else range(n)
        p0 = n if backward else 0
        state = self.first(facts[p0], budget)
        out[p0] = state.hit
        for p in order:
            ch = text[p]
            here = p if backward else p + 1
            key = (ch, facts[here])
            nxt = state.next.get(key)
            if nxt is None:
                nxt = self.step(state, ch, facts[here], key, budget)
            out[here] = nxt.hit
            state = nxt
        return out


class Pattern:
    """A compiled pattern; see :func:`compile_pattern`."""

    def __init__(self, pattern: str, fullmatch: bool, prog: _Program) -> None:
        self.pattern = pattern
        self.fullmatch = fullmatch
        self._prog = prog
        self._main = _Pass(prog, prog.start, prog.accept, backward=False)
        self._looks = tuple(
            _Pass(prog, look.accept, look.start, backward=True)
            if look.ahead
            else _Pass(prog, look.start, look.accept, backward=False)
            for look in prog.looks
        )

    @property
    def num_states(self) -> int:
        """States of the NFA."""
        return self._prog.num_states

    def search(self, text: str, *, max_steps: int = 10_000_000) -> SearchResult:
        """Whether ``re.search(pattern, text)`` (or ``re.fullmatch``) finds a match.

        Raises :class:`BudgetExceeded` past ``max_steps`` steps.
        """
        budget = _Budget(max_steps)
        prog = self._prog
        facts: list[int] | None = None
        if prog.mask:
            budget.spend(len(text))
            facts = _facts(text, prog.mask)
            for k, (look, scan) in enumerate(zip(prog.looks, self._looks, strict=True)):
                bit = 1 << (_LOOK0 + k)
                if prog.mask & bit:
                    where = scan.table(text, facts, look.ahead, budget)
                    facts = [f | bit if w else f for f, w in zip(facts, where, strict=True)]
        matched = self._main.search(text, facts, budget)
        return SearchResult(matched, budget.limit - budget.left)


@functools.lru_cache(maxsize=512)
def compile_pattern(
    pattern: str, *, fullmatch: bool = False, max_states: int = DEFAULT_MAX_STATES
) -> Pattern:
    """``pattern`` (Python ``re`` syntax) ready for linear-time searches.

    Raises ``re.error`` when ``re`` rejects the pattern, :class:`UnsupportedPattern` when
    it needs backtracking or more than ``max_states`` NFA states. With ``fullmatch`` the
    search asks what ``re.fullmatch`` asks. Character sets are computed on the first
    search that needs them, so compiling only checks that a pattern is supported.
    """
    re.compile(pattern)
    if _sre_parse is None:  # pragma: no cover
        raise UnsupportedPattern("this Python's `re` parser is not available to read it")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re.compile above already warned, if at all
        tree = _sre_parse.parse(pattern, 0)
    flags = tree.state.flags
    b = _Builder(max_states, int(_sre_parse.MAXREPEAT))
    items = list(tree.data)
    if fullmatch:
        begin, end = _sre_parse.AT_BEGINNING_STRING, _sre_parse.AT_END_STRING
        items = [(_sre_parse.AT, begin), *items, (_sre_parse.AT, end)]
    elif _PREFIX_CLASS_USES_GLOBAL_FLAGS and tree.getwidth()[0] > 0:
        items = _with_prefix_class(items, flags, flags) or items
    try:
        start, accept = b.seq(items, flags)
    except RecursionError:
        raise UnsupportedPattern("it nests too deeply") from None
    return Pattern(pattern, fullmatch, _Program(b, start, accept))
