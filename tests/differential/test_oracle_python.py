"""Every engine, reading every target's grammar for the example constraint sets, against an
oracle that does not go through the lowering: Python itself.

The other differential tests take llguidance reading Ananke's own emission as the
reference, so a bug in a lowering every target shares is invisible there. Here the
reference is Python's ``compile``, ``ast`` and ``tokenize``, and counting, on the text
alone; nothing of Ananke decides a verdict.

What is claimed comes from the plan (``arc explain``, per target): every constraint at
level ``token``, and what the grammar narrows of a ``post`` one (``max_lines``: statements
per block; ``naming``: the function's name). What each claim pins is written below by
hand from ``examples/*.ariadne`` (:data:`PINNED`; a forbidden name is in the claim's id),
and the test fails when the plan and the table drift apart. spec/python.md adds what the
Python grammar promises in every set (:func:`structure_violations`).

For each candidate the oracle decides:

* the claims it violates: a pinned name, ``async``, parameter list or return annotation
  that differs as an ``ast`` tree (annotations as the types they name); a forbidden name
  standing bare (:func:`bare_names`); a block of more statements than ``max_lines``; a
  name outside the ``naming`` style. Every engine must reject it.
* whether it is within what the grammar promises to accept (:func:`outside_promise`):
  valid Python, no violation, the pinned parts spelled as spec/python.md lists, and inside
  the shape and bounds it states. Every engine must accept it.

Anything else (text Python refuses for a reason spec/python.md leaves to the check after
generation, such as ``x = = 1``) may go either way. Candidates: top-level functions of the
standard library, as they are and rewritten to the set's pinned ``def`` line (so that
acceptance is exercised, not only rejection), and mutations of those that break one claim
or keep every claim while touching what the claims are about (the forbidden name as an
attribute, in a string, in a comment; another spelling of the return annotation; the
parameters over several lines).
"""

from __future__ import annotations

import ast
import functools
import importlib
import io
import itertools
import keyword
import re
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ananke.ariadne import compile_source
from ananke.backends import get_backend
from ananke.ir import Diagnostics, Module, SourceFile
from ananke.ir.passes import compose
from ananke.ir.plan import Enforcement
from ananke.languages.python.corpus import stdlib_functions
from ananke.runtime.engines import Compiled

from ananke.pipeline import emit, lower_for_target
from tests.differential.harness import Memo, compile_or_skip, deviations_of

ROOT = Path(__file__).resolve().parents[2]

READERS = {
    "llguidance": ("llguidance-lark",),
    "lark-vllm": ("llguidance-lark",),
    "xgrammar": ("xgrammar-ebnf",),
    "gbnf": ("llamacpp-gbnf", "llguidance-gbnf"),
    "lark": ("lark", "xgrammar-lark"),
}
"""The engines that read each target's grammar (the request bodies wrap these texts
exactly: test_compiled_examples.py checks that)."""
LARK_SETS = ("list_users", "web_handler")
"""The sets the lark package reads: it builds its Earley tables in 1 to 4 s per grammar
here, and these two hold every kind of claim between them (a signature: name, ``async``,
parameters and return annotation; forbidden names, the ``naming`` style, a line budget).
XGrammar's Lark reader reads the lark target of every set."""
PAIRS = [(target, engine) for target, engines in READERS.items() for engine in engines]
SLOW = ("lark", "llamacpp-gbnf")
"""Engines that take about 0.1 s per candidate on these grammars (the lark package's
Earley parser, in pure Python; llama.cpp, which sets up its grammar state per string).
They read :func:`core`; the other engines read the same texts and every candidate."""
CORE_ACCEPTED = 8
CORE_MAX_CHARS = 400


@dataclass(frozen=True)
class Pinned:
    """What one example set pins, written in Python as spec/python.md spells it.

    ``returns`` lists spellings of the return annotation that spec/python.md promises;
    rewrites use the first.
    """

    name: str | None = None
    is_async: bool | None = None
    params: str | None = None
    returns: tuple[str, ...] = ()
    max_lines: int | None = None
    naming: str | None = None
    """The function name's style, as a regex (spec/python.md's table)."""


SNAKE = r"_*[a-z][a-z0-9_]*"

PINNED: dict[str, Pinned] = {
    "api_handler": Pinned(
        returns=("Result[Response, Error]", "'Result[Response, Error]'"), max_lines=100
    ),
    "get_user": Pinned(
        name="get_user",
        params="user_id: int, *, include_deleted: bool = False",
        returns=("Optional[User]", "User | None", "None | User", '"Optional[User]"'),
        max_lines=40,
    ),
    "list_users": Pinned(
        name="list_users",
        is_async=True,
        params="cursor: Optional[str] = None, limit: int = 50",
        returns=("Page",),
    ),
    "render_banner": Pinned(name="render_banner", returns=("str",)),
    "parse_config": Pinned(
        name="parse_config",
        is_async=False,
        params="text: str, *, strict: bool = True",
        returns=("ParsedConfig",),
        max_lines=60,
    ),
    "web_handler": Pinned(
        returns=("Result[Response, Error]", "'Result[Response, Error]'"),
        max_lines=60,
        naming=SNAKE,
    ),
}
"""Per example set, what its ``.ariadne`` file states that the grammar enforces or
narrows; forbidden names come from the claims' ids."""


# --- the oracle: Python's ast, tokenize and compile, and counting ------------------------


def python_accepts(text: str) -> BaseException | None:
    """Why ``compile`` refuses ``text`` (None when it compiles)."""
    try:
        compile(text, "<candidate>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:  # ValueError: a NUL, before Python 3.12
        return e
    return None


def tokens(text: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None


def _offsets(text: str) -> list[int]:
    """Offset of the start of each line as ``tokenize`` numbers them (from 1), split at
    ``\\n`` only."""
    starts = [0, 0]
    for i, c in enumerate(text):
        if c == "\n":
            starts.append(i + 1)
    return starts


_SKIPPED = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)


def _joined(toks: list[tokenize.TokenInfo]) -> str:
    return "".join(t.string for t in toks if t.type not in _SKIPPED)


def spelled(code: str) -> str:
    """``code`` as its tokens joined without whitespace (as :class:`Header` holds parts)."""
    toks = tokens(code)
    assert toks is not None, code
    return _joined(toks)


@dataclass(frozen=True)
class Header:
    """The ``def`` line as tokens say: ``[async] def NAME(PARAMS) [-> RETURNS]:``."""

    is_async: bool
    name: str
    params: str
    """The tokens between the parentheses, joined without whitespace."""
    returns: str | None
    commented: bool
    """A comment stands inside the header."""
    before: str
    """The text before the header: decorators."""
    def_at: int
    name_at: tuple[int, int]
    params_at: tuple[int, int]
    """Offsets of the text between the parentheses."""
    returns_at: tuple[int, int] | None
    colon_at: int
    """Offset of the header's ``:``."""


def header(text: str, toks: list[tokenize.TokenInfo]) -> Header | None:
    try:
        return _header(text, toks)
    except IndexError:  # brackets that do not close
        return None


def _header(text: str, toks: list[tokenize.TokenInfo]) -> Header | None:
    starts = _offsets(text)

    def at(pos: tuple[int, int]) -> int:
        return starts[pos[0]] + pos[1]

    i = next((k for k, t in enumerate(toks) if t.type == tokenize.NAME and t.string == "def"), -1)
    if i < 0 or toks[i + 1].type != tokenize.NAME or toks[i + 2].string != "(":
        return None
    is_async = i > 0 and toks[i - 1].string == "async"
    first = toks[i - 1] if is_async else toks[i]
    depth, k = 0, i + 2
    while True:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(toks[k].string, 0)
        if depth == 0:
            break
        k += 1
    close = k
    params = toks[i + 3 : close]
    returns: list[tokenize.TokenInfo] | None = None
    k = close + 1
    if toks[k].string == "->":
        start = k + 1
        while not (toks[k].string == ":" and depth == 0):
            depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(toks[k].string, 0)
            k += 1
        returns = toks[start:k]
    if toks[k].string != ":":
        return None
    inside = toks[i : k + 1]
    return Header(
        is_async=is_async,
        name=toks[i + 1].string,
        params=_joined(params),
        returns=None if returns is None else _joined(returns),
        commented=any(t.type == tokenize.COMMENT for t in inside),
        before=text[: at(first.start)],
        def_at=at(first.start),
        name_at=(at(toks[i + 1].start), at(toks[i + 1].end)),
        params_at=(at(toks[i + 2].end), at(toks[close].start)),
        returns_at=None if not returns else (at(returns[0].start), at(returns[-1].end)),
        colon_at=at(toks[k].start),
    )


def the_function(tree: ast.Module) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    if len(tree.body) == 1 and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return tree.body[0]
    return None


_GENERIC = {
    "List": "list",
    "Dict": "dict",
    "Set": "set",
    "Tuple": "tuple",
    "FrozenSet": "frozenset",
}


def type_key(node: ast.expr | None) -> object:
    """The type an annotation names, up to the spellings Python treats as the same type:
    quoting, ``Optional[X]``, ``X | None`` and ``Union``, ``typing.`` and the builtin
    generics. Two annotations naming different types get different keys."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return type_key(ast.parse(node.value.strip(), mode="eval").body)
        except SyntaxError:
            return ("unparsable", node.value)
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    members = _union_members(node)
    if members is not None:
        keys: set[object] = set()
        for m in members:
            k = type_key(m)
            keys |= k[1] if isinstance(k, tuple) and k[0] == "union" else {k}
        return ("union", frozenset(keys)) if len(keys) > 1 else next(iter(keys))
    if isinstance(node, ast.Subscript):
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return (type_key(node.value), tuple(type_key(a) for a in args))
    if isinstance(node, (ast.Name, ast.Attribute)):
        dotted = ast.unparse(node).removeprefix("typing.")
        return _GENERIC.get(dotted, dotted)
    return ast.dump(node)


def _union_members(node: ast.expr) -> list[ast.expr] | None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [
            *(_union_members(node.left) or [node.left]),
            *(_union_members(node.right) or [node.right]),
        ]
    if isinstance(node, ast.Subscript):
        base = ast.unparse(node.value).removeprefix("typing.")
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base == "Optional" and len(args) == 1:
            return [args[0], ast.Constant(None)]
        if base == "Union":
            return [m for a in args for m in (_union_members(a) or [a])]
    return None


def params_key(args: ast.arguments) -> object:
    """Parameters in order, each with its kind, name, annotation (as :func:`type_key`) and
    default (as an ``ast`` dump)."""

    def one(a: ast.arg | None) -> object:
        return None if a is None else (a.arg, type_key(a.annotation))

    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    return (
        len(args.posonlyargs),
        tuple((one(a), d and ast.dump(d)) for a, d in zip(positional, defaults, strict=True)),
        one(args.vararg),
        tuple(
            (one(a), d and ast.dump(d))
            for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
        ),
        one(args.kwarg),
    )


def bare_names(tree: ast.AST) -> list[str]:
    """Every identifier that stands bare (not after a dot), as Python reads it (NFKC):
    references and targets, parameters, keyword arguments, imports, definitions,
    ``global``/``nonlocal``, ``except ... as``, capture patterns, and the same inside
    f-string fields (which ``ast`` parses as code)."""
    out: list[str] = []
    for node in ast.walk(tree):
        match node:
            case ast.Name(id=name) | ast.arg(arg=name):
                out.append(name)
            case ast.keyword(arg=str() as name):
                out.append(name)
            case ast.alias(name=name, asname=asname):
                out.append(name.split(".")[0])
                if asname:
                    out.append(asname)
            case ast.ImportFrom(module=str() as module, level=0):
                out.append(module.split(".")[0])
            case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name):
                out.append(name)
            case ast.ClassDef(name=name):
                out.append(name)
            case ast.Global(names=names) | ast.Nonlocal(names=names):
                out.extend(names)
            case ast.ExceptHandler(name=str() as name):
                out.append(name)
            case ast.MatchAs(name=str() as name) | ast.MatchStar(name=str() as name):
                out.append(name)
            case ast.MatchMapping(rest=str() as name):
                out.append(name)
            case ast.MatchClass(kwd_attrs=attrs):
                out.extend(attrs)
    return out


def _blocks(fn: ast.AST) -> Iterator[list[ast.stmt]]:
    for node in ast.walk(fn):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block


def too_many_statements(fn: ast.AST, limit: int) -> bool:
    """A block holds more than ``limit`` statements, each on a line of its own."""
    return any(len(b) > limit and len({s.lineno for s in b}) == len(b) for b in _blocks(fn))


def decorator_shapes_ok(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """spec/python.md: ``@name``, ``@dotted.name`` or either followed by one call or
    subscript."""

    def dotted(e: ast.expr) -> bool:
        return isinstance(e, ast.Name) or (isinstance(e, ast.Attribute) and dotted(e.value))

    return all(
        dotted(d)
        or (isinstance(d, ast.Call) and dotted(d.func))
        or (isinstance(d, ast.Subscript) and dotted(d.value))
        for d in fn.decorator_list
    )


_CODE = {tokenize.NAME, tokenize.NUMBER, tokenize.OP, tokenize.STRING}


def _long_gap(toks: list[tokenize.TokenInfo]) -> bool:
    """Two tokens of code on one line with more than 256 blanks between them."""
    return any(
        a.type in _CODE
        and b.type in _CODE
        and a.end[0] == b.start[0]
        and b.start[1] - a.end[1] > 256
        for a, b in itertools.pairwise(toks)
    )


def _blank_run(toks: list[tokenize.TokenInfo]) -> bool:
    """More than 16 blank lines in a row outside brackets and strings (tokenize gives
    each such line an NL token of its own)."""
    run = 0
    for t in toks:
        if t.type == tokenize.NL and not t.line.strip():
            run += 1
            if run > 16:
                return True
        elif t.type != tokenize.NL or t.line.strip():
            run = 0
    return False


def structure_violations(text: str) -> set[str]:
    """What spec/python.md says the grammar of every set rejects, decided without Ananke:
    a NUL, a last line without a newline, an indentation error as Python reports it, a
    decorator of another shape, more than 256 blanks between two tokens of a line, more
    than 16 blank lines in a row."""
    out: set[str] = set()
    if "\0" in text:
        out.add("structure.nul")
    if not text.endswith("\n"):
        out.add("structure.final-newline")
    if isinstance(python_accepts(text), IndentationError):
        out.add("structure.indentation")
    toks = tokens(text)
    if toks is not None and _long_gap(toks):
        out.add("structure.whitespace-run")
    if toks is not None and _blank_run(toks):
        out.add("structure.blank-lines")
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return out
    fn = the_function(tree)
    if fn is not None and not decorator_shapes_ok(fn):
        out.add("structure.decorator")
    return out


# --- claims ---------------------------------------------------------------------------


Check = Callable[
    [ast.FunctionDef | ast.AsyncFunctionDef, Header | None, list[tokenize.TokenInfo] | None],
    bool,
]


@dataclass(frozen=True)
class Claim:
    """One thing the plan says the grammar enforces; ``violated`` decides it on the parsed
    text (its function and, when it tokenizes, its ``def`` line and tokens)."""

    id: str
    violated: Check


def _keyword_in(toks: list[tokenize.TokenInfo] | None, word: str) -> bool:
    return toks is not None and any(t.type == tokenize.NAME and t.string == word for t in toks)


def _expected_args(p: Pinned) -> ast.arguments:
    fn = ast.parse(f"def _({p.params}): pass").body[0]
    assert isinstance(fn, ast.FunctionDef)
    return fn.args


def _expected_returns(p: Pinned) -> ast.expr:
    return ast.parse(p.returns[0], mode="eval").body


def claims_of(set_name: str, enforcements: tuple[Enforcement, ...]) -> list[Claim]:
    """The claims of one set's plan for one target, each with its independent check.

    Fails when the plan claims something :data:`PINNED` has no value for, or the table
    pins something the plan does not claim."""
    p = PINNED[set_name]
    out: list[Claim] = []
    pinned_by_plan: set[str] = set()
    for e in enforcements:
        if e.level == "token" and e.kind in ("name", "signature"):
            assert p.name is not None, e.constraint_id
            name = p.name
            out.append(Claim(e.constraint_id + "#name", lambda fn, h, t, n=name: fn.name != n))
            pinned_by_plan.add("name")
        if e.level == "token" and e.kind == "signature":
            assert p.is_async is not None, e.constraint_id
            want = p.is_async
            out.append(
                Claim(
                    e.constraint_id + "#async",
                    lambda fn, h, t, w=want: isinstance(fn, ast.AsyncFunctionDef) != w,
                )
            )
            pinned_by_plan.add("is_async")
        if e.level == "token" and e.kind in ("params", "signature"):
            assert p.params is not None, e.constraint_id
            key = params_key(_expected_args(p))
            out.append(
                Claim(e.constraint_id + "#params", lambda fn, h, t, k=key: params_key(fn.args) != k)
            )
            pinned_by_plan.add("params")
        if e.level == "token" and e.kind in ("returns", "signature"):
            assert p.returns, e.constraint_id
            key = type_key(_expected_returns(p))
            out.append(
                Claim(
                    e.constraint_id + "#returns", lambda fn, h, t, k=key: type_key(fn.returns) != k
                )
            )
            pinned_by_plan.add("returns")
        if e.level == "token" and e.kind == "forbid":
            name = e.constraint_id.rsplit(".forbid.", 1)[1]
            assert name.isidentifier(), e.constraint_id
            assert not keyword.issoftkeyword(name), f"no oracle for {e.constraint_id}"
            if keyword.iskeyword(name):  # a keyword is never a name: any use is a token
                out.append(Claim(e.constraint_id, lambda fn, h, t, n=name: _keyword_in(t, n)))
            else:
                out.append(Claim(e.constraint_id, lambda fn, h, t, n=name: n in bare_names(fn)))
        if e.level == "post" and e.narrows and e.constraint_id.endswith(".max_lines"):
            assert p.max_lines is not None, e.constraint_id
            limit = p.max_lines
            out.append(
                Claim(
                    e.constraint_id + "#statements",
                    lambda fn, h, t, n=limit: too_many_statements(fn, n),
                )
            )
            pinned_by_plan.add("max_lines")
        if e.level == "post" and e.narrows and e.kind == "naming":
            assert p.naming is not None, e.constraint_id
            style = p.naming
            out.append(
                Claim(
                    e.constraint_id + "#function-name",
                    lambda fn, h, t, s=style: h is not None and not re.fullmatch(s, h.name),
                )
            )
            pinned_by_plan.add("naming")
        known = ("name", "signature", "params", "returns", "forbid")
        assert e.level != "token" or e.kind in known, f"no oracle for {e.constraint_id}"
        narrowed = e.constraint_id.endswith(".max_lines") or e.kind == "naming"
        assert not e.narrows or narrowed, f"no oracle for {e.constraint_id}"
    table = {k for k in ("name", "is_async", "params", "max_lines", "naming") if getattr(p, k)}
    table |= {"returns"} if p.returns else set()
    table |= {"is_async"} if p.is_async is not None else set()
    assert table == pinned_by_plan, (set_name, table, pinned_by_plan)
    return out


# --- within the promise ------------------------------------------------------------------


def _indentation_ok(toks: list[tokenize.TokenInfo]) -> bool:
    """spec/python.md, "Indentation": one unit (1 to 8 spaces or a tab) for the function;
    a block nested ``k`` deep indented ``k`` units (``k + 1`` when the body sits at two
    2- or 4-space units); at most 16 deep and 64 spaces or 16 tabs."""
    indents = [t.string for t in toks if t.type == tokenize.INDENT]
    depths: list[int] = []
    depth = 0
    for t in toks:
        depth += (t.type == tokenize.INDENT) - (t.type == tokenize.DEDENT)
        if t.type == tokenize.INDENT:
            depths.append(depth)
    if not indents:
        return True
    shapes = [("\t", 0)] + [(" " * n, 0) for n in range(1, 9)] + [("  ", 1), ("    ", 1)]
    return max(depths) <= 16 and any(
        all(s == unit * (d + extra) for s, d in zip(indents, depths, strict=True))
        and all(len(s) <= (16 if unit == "\t" else 64) for s in indents)
        for unit, extra in shapes
    )


def _brackets_ok(toks: list[tokenize.TokenInfo]) -> bool:
    """Brackets nest at most 16 deep in a logical line, and at most 8 inside one f-string
    replacement field (counted over the whole f-string up to Python 3.11, where it is one
    token: that can only count more)."""
    fstring_start = getattr(tokenize, "FSTRING_START", -1)
    fstring_end = getattr(tokenize, "FSTRING_END", -1)
    depth = 0
    fields: list[int] = []  # per open f-string (Python 3.12+), the depth where it opened
    for t in toks:
        if t.type == fstring_start:
            fields.append(depth)
        elif t.type == fstring_end:
            fields.pop()
        elif t.type == tokenize.OP and t.string in "([{":
            depth += 1
            if depth > 16 or (fields and depth - fields[-1] > 9):  # the field's brace and 8
                return False
        elif t.type == tokenize.OP and t.string in ")]}":
            depth -= 1
        elif t.type == tokenize.STRING and "f" in _prefix(t.string):
            d = m = 0
            for c in t.string:
                d += (c in "([{") - (c in ")]}")
                m = max(m, d)
            if m > 9:
                return False
    return True


def _prefix(literal: str) -> str:
    match = re.match("[A-Za-z]*", literal)
    assert match is not None
    return match.group().lower()


_TEXT = {
    tokenize.STRING,
    tokenize.COMMENT,
    *(
        getattr(tokenize, n)
        for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
        if hasattr(tokenize, n)
    ),
}
"""Token types whose characters are text, not code (f-string parts from Python 3.12)."""


def _whitespace_ok(text: str, toks: list[tokenize.TokenInfo]) -> bool:
    """No run of more than 256 whitespace characters outside strings and comments
    (spec/python.md bounds them between tokens), and at most 16 blank lines in a row."""
    starts = _offsets(text)
    chars = list(text)
    for t in toks:
        if t.type in _TEXT:
            a, b = starts[t.start[0]] + t.start[1], starts[t.end[0]] + t.end[1]
            chars[a:b] = "x" * (b - a)
    code = "".join(chars)
    if re.search(r"[ \t\f\r\n\\]{257,}", code):
        return False
    return not re.search(r"\n(?:[ \t\f]*\n){17}", "\n" + text)


def _attribute_after_comment(toks: list[tokenize.TokenInfo], forbidden: set[str]) -> bool:
    """A forbidden name written as an attribute after a comment inside brackets:
    spec/python.md says the grammar is stricter than Python there."""
    for k, t in enumerate(toks):
        if t.type == tokenize.NAME and t.string in forbidden:
            j = k - 1
            seen_comment = False
            while j >= 0 and toks[j].type in (tokenize.NL, tokenize.COMMENT):
                seen_comment |= toks[j].type == tokenize.COMMENT
                j -= 1
            if seen_comment and j >= 0 and toks[j].string == ".":
                return True
    return False


def _pep701_fstring(toks: list[tokenize.TokenInfo]) -> bool:
    """Python 3.12 f-string forms that Python 3.11 refuses (a field with the f-string's
    own quote, a backslash or a comment): rejected under ``forbid`` (spec/python.md)."""
    fstring_start = getattr(tokenize, "FSTRING_START", None)
    if fstring_start is None:
        return False
    quotes: list[str] = []
    for t in toks:
        if t.type == fstring_start:
            q = t.string.lstrip("rRfF")
            if quotes and q[0] in quotes[-1]:
                return True
            quotes.append(q)
        elif t.type == getattr(tokenize, "FSTRING_END", None):
            quotes.pop()
        elif quotes and (
            t.type == tokenize.COMMENT
            or (t.type == tokenize.STRING and t.string.lstrip("rRbBuU")[0] in quotes[-1])
            or (t.type != getattr(tokenize, "FSTRING_MIDDLE", None) and "\\" in t.string)
        ):
            return True
    return False


def outside_promise(text: str, p: Pinned, claims: list[Claim], forbidden: set[str]) -> str | None:
    """Why ``text`` is not something the grammar promises to accept; None when it is."""
    if python_accepts(text) is not None:
        return "Python refuses it"
    if structure_violations(text):
        return "outside the structure"
    if "\r" in text:
        return "holds a carriage return"
    toks = tokens(text)
    assert toks is not None
    fn = the_function(ast.parse(text))
    h = header(text, toks)
    if fn is None or h is None:
        return "not one function definition"
    if any(c.violated(fn, h, toks) for c in claims):
        return "violates a claim"
    starts = _offsets(text)
    if any(
        t.type in (tokenize.COMMENT, tokenize.NL)
        for t in toks
        if starts[t.start[0]] + t.start[1] < h.def_at
    ):
        return "a comment or blank line among the decorators"
    if h.commented and (p.name or p.params or p.returns):
        return "a comment in the pinned def line"
    if p.name is not None and h.name != p.name:
        return "the name spelled otherwise"
    if p.params is not None and h.params.removesuffix(",") != spelled(p.params):
        return "the parameters spelled otherwise"
    if p.returns and h.returns not in {spelled(r) for r in p.returns}:
        return "the return annotation spelled otherwise"
    if p.max_lines is not None and text.count("\n") > p.max_lines:
        return "more physical lines than max_lines"
    if not _indentation_ok(toks):
        return "indentation outside the promised shape"
    if not _brackets_ok(toks):
        return "brackets nested deeper than promised"
    if not _whitespace_ok(text, toks):
        return "a whitespace run longer than promised"
    if forbidden and _attribute_after_comment(toks, forbidden):
        return "a forbidden name as an attribute after a comment inside brackets"
    if forbidden and _pep701_fstring(toks):
        return "a Python 3.12 f-string under forbid"
    return None


@dataclass
class Verdict:
    """The oracle's verdict on one candidate for one target's claims."""

    violated: set[str] = field(default_factory=set)
    must_accept: bool = False
    why_not: str | None = None


def verdict(text: str, p: Pinned, claims: list[Claim], forbidden: set[str]) -> Verdict:
    v = Verdict(violated=structure_violations(text))
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        tree = None
    fn = None if tree is None else the_function(tree)
    if fn is not None:
        toks = tokens(text)
        h = None if toks is None else header(text, toks)
        v.violated |= {c.id for c in claims if c.violated(fn, h, toks)}
    if not v.violated:
        v.why_not = outside_promise(text, p, claims, forbidden)
        v.must_accept = v.why_not is None
    return v


# --- candidates --------------------------------------------------------------------------


def _modules() -> dict[str, Module]:
    out: dict[str, Module] = {}
    for path in sorted((ROOT / "examples").glob("*.ariadne")):
        diags = Diagnostics()
        module = compile_source(SourceFile(name=str(path), text=path.read_text("utf-8")), diags)
        assert module is not None, list(diags)
        module = compose(module, diags)
        assert not diags.has_errors, list(diags)
        for cset in module.own_sets:
            out[cset.name] = Module(sets=(cset,), schemas=module.schemas)
    return out


MODULES = _modules()


@functools.cache
def _lowered(set_name: str, target: str) -> tuple[str, tuple[Enforcement, ...]]:
    diags = Diagnostics()
    lowered = lower_for_target(MODULES[set_name], target, diags)
    assert lowered is not None and not diags.has_errors, [d.message for d in diags]
    return emit(lowered[0], target), lowered[0].enforcements


@functools.cache
def _forbidden(set_name: str) -> frozenset[str]:
    _, enforcements = _lowered(set_name, "llguidance")
    return frozenset(
        e.constraint_id.rsplit(".forbid.", 1)[1]
        for e in enforcements
        if e.kind == "forbid" and e.level == "token"
    )


def fitted(text: str, p: Pinned) -> str | None:
    """``text`` with its ``def`` line rewritten to what ``p`` pins (the rest kept)."""
    toks = tokens(text)
    h = None if toks is None else header(text, toks)
    if h is None:
        return None
    is_async = h.is_async if p.is_async is None else p.is_async
    name = p.name or h.name
    params = p.params if p.params is not None else text[h.params_at[0] : h.params_at[1]]
    returns = p.returns[0] if p.returns else None
    if returns is None and h.returns_at is not None:
        returns = text[h.returns_at[0] : h.returns_at[1]]
    line = f"{'async ' if is_async else ''}def {name}({params})"
    line += f" -> {returns}:" if returns else ":"
    return h.before + line + text[h.colon_at + 1 :]


def _body_line(text: str) -> tuple[int, str] | None:
    """Offset of the body's first line and its indentation (None for a one-line body)."""
    fn = the_function(ast.parse(text))
    assert fn is not None
    first = fn.body[0].lineno
    if first == fn.lineno or any(d.lineno == first for d in fn.decorator_list):
        return None
    starts = _offsets(text)
    line = text[starts[first] :]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if fn.body[0].col_offset != len(indent):
        return None
    return starts[first], indent


def _insert(text: str, lines: list[str]) -> str | None:
    """``lines`` as statements at the start of the body."""
    where = _body_line(text)
    if where is None:
        return None
    at, indent = where
    return text[:at] + "".join(f"{indent}{s}\n" for s in lines) + text[at:]


USES = [
    "{n}(1)",
    "x = {n}",
    "{n} = 1",
    "f(a, {n}=2)",
    "y = f'{{{n}!r:>4}}'",
    "from m import {n}",
    "import {n}",
    "for {n} in x: pass",
    "z = lambda {n}: 1",
    "del {n}",
    "global {n}",
    "z = [{n} for q in x]",
    "with x as {n}: pass",
]
"""A forbidden name standing bare, at every kind of place (filled with ``n``)."""
NOT_USES = [
    "x.{n}(1)",
    "y = '{n}'",
    "pass  # {n}",
    "y = f'{{x.{n}}} {n}'",
    "y = f'{{x:{n}}}'",
    "z = (x.\n    {n})",
]
"""A forbidden name that is no use of it: an attribute, text."""


def mutations(text: str, p: Pinned, statements: list[str], structure: bool) -> Iterator[str]:
    """Variants of a candidate the oracle accepts: each breaks one claim, or touches what a
    claim is about and keeps it; ``statements`` are put at the start of the body, one per
    variant; with ``structure``, variants that break what every set's grammar promises."""
    toks = tokens(text)
    h = None if toks is None else header(text, toks)
    assert h is not None
    if p.name is not None:
        yield text[: h.name_at[0]] + p.name + "_v2" + text[h.name_at[1] :]
    if p.naming is not None:
        yield text[: h.name_at[0]] + "HandleRequest" + text[h.name_at[1] :]
    if p.is_async is not None:
        rest = text[h.def_at :]
        yield h.before + (rest.removeprefix("async ") if p.is_async else "async " + rest)
    if p.params is not None:
        a, b = h.params_at
        params = text[a:b]
        first = params.split(":")[0]
        yield text[:a] + params.replace(first, first + "s", 1) + text[b:]
        yield text[:a] + params.replace(": int", ": str", 1) + text[b:]
        yield text[:a] + params.replace("*, ", "", 1).replace(", *", "", 1) + text[b:]
        yield text[:a] + params + ", extra=None" + text[b:]
        spread = ",\n    ".join(s.strip() for s in params.split(","))
        yield text[:a] + "\n    " + spread + ",\n" + text[b:]
    if p.returns and h.returns_at is not None:
        a, b = h.returns_at
        yield text[:a] + "None" + text[b:]
        yield text[:a] + "Optional[" + text[a:b] + "]" + text[b:]
        yield text[: h.params_at[1] + 1] + ":" + text[h.colon_at + 1 :]
        for spelling in p.returns[1:]:
            yield text[:a] + spelling + text[b:]
    if p.max_lines is not None:
        body = _insert(text, ["x = 0"] * (p.max_lines + 1))
        if body is not None:
            yield body
    for s in statements:
        out = _insert(text, s.split("\n"))
        if out is not None:
            yield out
    yield text + "\n"  # blank and comment-only lines after the function
    yield text + "    # done\n\n"
    yield "@registry[0]\n" + text
    if not structure:
        return
    yield "@handlers[0].connect\n" + text
    yield text.removesuffix("\n")
    for lines in (
        ["y = '\0'"],  # a NUL
        ["x = 1", "  y = 2"],  # an unexpected indent
        ["x = 1" + " " * 300 + "+ 2"],
        ["x = 1", *[""] * 17, "y = 2"],
    ):
        body = _insert(text, lines)
        if body is not None:
            yield body


N_FUNCTIONS = 14
"""Standard-library functions per set."""
MAX_CHARS = 500


@functools.cache
def _stdlib() -> tuple[str, ...]:
    return tuple(f.text for f in stdlib_functions(limit=1500) if len(f.text) <= MAX_CHARS)


@functools.cache
def corpus(set_name: str) -> tuple[str, ...]:
    p = PINNED[set_name]
    real = _stdlib()
    offset = sorted(PINNED).index(set_name)
    chosen = real[offset :: max(1, len(real) // N_FUNCTIONS)][:N_FUNCTIONS]
    forbidden = sorted(_forbidden(set_name))
    # Each forbidden name used bare and written as no use, at places that rotate over
    # USES and NOT_USES: every place when there are few names, one each when many.
    placed: list[list[str]] = []
    for k, n in enumerate(forbidden):
        placed.append([])
        for templates in (USES, NOT_USES):
            count = max(1, len(templates) // len(forbidden))
            placed[-1] += [
                templates[(k * count + j) % len(templates)].format(n=n) for j in range(count)
            ]
    claims = _claims(set_name, "llguidance")
    out: list[str] = []
    bases: list[str] = []
    for text in chosen:
        out.append(text)
        fit = fitted(text, p)
        if fit is not None:
            out.append(fit)
            if verdict(fit, p, claims, set(forbidden)).must_accept and _body_line(fit):
                bases.append(fit)
    # The two shortest accepted ones with an indented body carry the mutations, the
    # forbidden names spread over them.
    bases.sort(key=len)
    assert len(bases) >= 2, set_name
    for k, base in enumerate(bases[:2]):
        statements = [s for group in placed[k::2] for s in group]
        out.extend(mutations(base, p, statements, structure=k == 0))
    return tuple(dict.fromkeys(out))


@functools.cache
def _claims(set_name: str, target: str) -> list[Claim]:
    return claims_of(set_name, _lowered(set_name, target)[1])


@functools.cache
def verdicts(set_name: str, target: str) -> tuple[tuple[str, Verdict], ...]:
    p = PINNED[set_name]
    claims = _claims(set_name, target)
    forbidden = set(_forbidden(set_name))
    return tuple((s, verdict(s, p, claims, forbidden)) for s in corpus(set_name))


@functools.cache
def core(set_name: str, target: str) -> tuple[tuple[str, Verdict], ...]:
    """Per claim the shortest candidate that violates it alone, and the
    :data:`CORE_ACCEPTED` shortest ones within the promise; none longer than
    :data:`CORE_MAX_CHARS` (a block of more statements than ``max_lines`` is longer: the
    other engines check it)."""
    found = sorted(verdicts(set_name, target), key=lambda sv: len(sv[0]))
    # The lark package's dynamic lexer tries every terminal at every position of a run of
    # blanks: the one of 300 takes it half a minute. The other engines check it.
    found = [
        (s, v)
        for s, v in found
        if len(s) <= CORE_MAX_CHARS and "structure.whitespace-run" not in v.violated
    ]
    alone: dict[str, tuple[str, Verdict]] = {}
    for s, v in found:
        if len(v.violated) == 1:
            alone.setdefault(next(iter(v.violated)), (s, v))
    accepted = [(s, v) for s, v in found if v.must_accept][:CORE_ACCEPTED]
    return (*alone.values(), *accepted)


# --- the tests ---------------------------------------------------------------------------


@functools.cache
def _compiled(engine: str, text: str) -> Compiled:
    return Memo(compile_or_skip(engine, text))


CASES = [
    (set_name, target, engine)
    for target, engine in PAIRS
    for set_name in sorted(PINNED)
    if engine != "lark" or set_name in LARK_SETS
]


@pytest.mark.parametrize(("set_name", "target", "engine"), CASES)
def test_every_engine_agrees_with_python(set_name: str, target: str, engine: str) -> None:
    text, _ = _lowered(set_name, target)
    compiled = _compiled(engine, text)
    deviations = deviations_of(importlib.import_module(type(get_backend(target)).__module__))
    wrong: list[str] = []
    found = core(set_name, target) if engine in SLOW else verdicts(set_name, target)
    for s, v in found:
        if not v.violated and not v.must_accept:
            continue
        got = compiled.accepts(s)
        if got == v.must_accept or any(d.applies(s) for d in deviations):
            continue
        why = f"violates {sorted(v.violated)}" if v.violated else "is within the promise"
        wrong.append(f"{engine} {'accepts' if got else 'rejects'} {s!r}, which {why}")
    more = [f"... and {len(wrong) - 8} more"] if len(wrong) > 8 else []
    assert not wrong, "\n".join(wrong[:8] + more)


@pytest.mark.parametrize("set_name", sorted(PINNED))
def test_the_candidates_exercise_every_claim(set_name: str) -> None:
    """Each claim is violated alone by some candidate, and some candidates are within the
    promise: the comparison above checks both directions."""
    found = verdicts(set_name, "llguidance")
    accepted = [s for s, v in found if v.must_accept]
    assert len(accepted) >= 8, [(s[:60], v.why_not) for s, v in found if not v.violated][:10]
    alone = {next(iter(v.violated)) for _, v in found if len(v.violated) == 1}
    claims = {c.id for c in _claims(set_name, "llguidance")}
    structure = {
        "structure.nul",
        "structure.final-newline",
        "structure.indentation",
        "structure.decorator",
        "structure.whitespace-run",
        "structure.blank-lines",
    }
    assert claims | structure <= alone, sorted((claims | structure) - alone)


def test_the_oracle_reads_names_as_python_does() -> None:
    """The oracle's own reading of bare names, on the places spec/python.md lists."""
    uses = {u.format(n="eval") for u in USES} | {"@eval\ndef g(): pass", "ｅval(1)"}
    for u in uses:
        assert "eval" in bare_names(ast.parse(u)), u
    for u in NOT_USES:
        assert "eval" not in bare_names(ast.parse(u.format(n="eval"))), u
    assert _keyword_in(tokens("if x: pass\n"), "if")
    assert not _keyword_in(tokens("x.iff = 'if'  # if\n"), "if")
    assert type_key(ast.parse("Optional[User]", mode="eval").body) == type_key(
        ast.parse("'None | User'", mode="eval").body
    )
    assert type_key(ast.parse("Optional[User]", mode="eval").body) != type_key(
        ast.parse("Optional[Page]", mode="eval").body
    )
