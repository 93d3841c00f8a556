"""Python's post-generation checks: the constraints that read a generated function as
code (:class:`Checks`, which :mod:`ananke.languages.validate` asks for every constraint
but limits and ``matches``).

How names are read (``forbid``, ``require``, ``validates``), precisely:

* A **use of a plain name** ``n`` is a ``NAME`` token of Python's ``tokenize`` module equal
  to ``n`` after NFKC normalization, as Python itself reads identifiers (so ``ｅval`` is a
  use of ``eval``), whose previous token (newlines inside brackets and comments skipped) is not the
  operator ``.``. So calls, references, assignment targets, parameters, keyword arguments,
  the function's own name and imported names all count; attributes (``model.eval()``),
  strings and comments do not. A **keyword** is a use of itself wherever it is written,
  also after ``.`` (``from . import x`` uses ``import``); Python never normalizes
  keywords, so ``ｉｆ`` is a use of the name ``if``, and only ``if`` is the keyword. Soft
  keywords (``match``, ``case``, ``_``, ``type``) are names: ``match x:`` uses ``match``.
* **f-strings** are one ``STRING`` token in Python 3.11, but their replacement fields are
  code: ``f"{eval(x)}"`` uses ``eval``. The expressions of every replacement field (and of
  nested fields in format specs, and of nested f-strings) are cut out with ``ast`` and read
  by the same token rule, so names there count exactly as in ordinary code.
* A **use of a dotted name** ``a.b`` is the token sequence ``NAME(a) . NAME(b)`` where
  ``a`` is itself a use of a plain name, or an import of it (``import a.b``,
  ``from a import b``, also ``from a.b import x``).
* A **use through a reference**: an expression that names ``a.b`` (or the builtin ``n``)
  without spelling it, as :mod:`ananke.languages.python.references` reads them: through
  an alias the function makes (``import os as o; o.system()``, ``m = os; m.system``,
  ``from os import system as s; s()``), through the ``builtins`` module
  (``builtins.eval``, ``__builtins__.eval``), or through a lookup by a constant string
  (``getattr(os, "system")``, ``globals()["eval"]``, ``__import__("os").system``,
  ``sys.modules["os"].system``, ...). It is a use of ``a.b`` when it names ``a.b`` or
  something inside it (``a.b.c``); of the plain name ``n`` when it names ``n`` or
  ``builtins.n``. A name built at run time (``getattr(x, "ev" + "al")``) is no use of
  anything: the text cannot say what it is.
* An **attribute** ``.a`` (``forbid: [".__globals__"]``) is used by ``x.a`` on any ``x``,
  and by ``a`` as a constant string in ``getattr``, ``setattr``, ``delattr``,
  ``__getattribute__``, ``operator.attrgetter`` or ``operator.methodcaller`` (not
  ``hasattr``, which only tells whether it exists).

``forbid`` reports every use of each kind. ``require`` is satisfied by any use, and a
plain name also by the attribute of that name (``validators.validate_input(x)``
satisfies ``require: ["validate_input"]``); a failure points at the function's body.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ananke.ir.constraint import (
    Constraint,
    ConstraintSet,
    Forbid,
    FunctionName,
    ImportPolicy,
    Naming,
    Param,
    Params,
    Require,
    Returns,
    Signature,
    TypeExpr,
    Validates,
)
from ananke.languages.post import Budget, Report, Skipped, Violation, search
from ananke.languages.python.keywords import KEYWORDS
from ananke.languages.python.naming import NAMING_STYLES
from ananke.languages.python.references import (
    AttributeUse,
    Reference,
    attribute_uses,
    defined_names,
    references,
)
from ananke.languages.python.types import render_type

__all__ = ["Checks", "Occurrence", "dotted_uses", "name_uses"]


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A name found in code: its text and 1-based position."""

    name: str
    line: int
    column: int


# --- reading names -----------------------------------------------------------------------

_SKIP = (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
_KEYWORD = -1
"""The type :func:`_significant` gives a ``NAME`` token spelled as a hard keyword (never
normalized: ``ｉｆ`` is the name ``if``, not the keyword)."""


def _tokens(code: str) -> Iterator[tokenize.TokenInfo]:
    """Tokens of ``code``; stops quietly where the code stops tokenizing."""
    try:
        yield from tokenize.generate_tokens(io.StringIO(code).readline)
    except (tokenize.TokenError, SyntaxError):
        return


def _fstring_fields(token: str) -> list[tuple[str, int, int]]:
    """Source of each replacement-field expression of one f-string token, with its 0-based
    (line offset, column) inside the token; nested fields of format specs included."""
    try:
        node = ast.parse(token, mode="eval").body
    except (SyntaxError, ValueError):
        return []
    out: list[tuple[str, int, int]] = []

    def visit(j: ast.JoinedStr) -> None:
        for v in j.values:
            if isinstance(v, ast.FormattedValue):
                seg = ast.get_source_segment(token, v.value)
                if seg is not None:
                    out.append((seg, v.value.lineno - 1, v.value.col_offset))
                if isinstance(v.format_spec, ast.JoinedStr):
                    visit(v.format_spec)

    if isinstance(node, ast.JoinedStr):
        visit(node)
    return out


def _is_fstring(token: str) -> bool:
    prefix = token[: len(token) - len(token.lstrip("rRbBuUfF"))]
    return "f" in prefix.lower()


def _significant(code: str, line0: int = 0, col0: int = 0) -> Iterator[tuple[int, str, int, int]]:
    """(type, string, line, column) of significant tokens, f-string fields expanded inline.

    ``line0``/``col0`` shift positions (used for code cut out of an f-string).
    """
    for tok in _tokens(code):
        if tok.type in _SKIP or tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if tok.type == tokenize.NEWLINE:
                yield (tok.type, "", 0, 0)
            continue
        row, col = tok.start
        line = line0 + row
        column = col + (col0 if row == 1 else 0)
        if tok.type == tokenize.STRING and _is_fstring(tok.string):
            yield (tok.type, "", line, column)
            for seg, dl, dc in _fstring_fields(tok.string):
                inner_line = line + dl
                inner_col = dc + (column if dl == 0 else 0)
                # parentheses let a multi-line field tokenize; shift back by one column
                yield (tokenize.NEWLINE, "", 0, 0)
                yield from _significant("(" + seg + ")", inner_line - 1, inner_col - 1)
                yield (tokenize.NEWLINE, "", 0, 0)
            continue
        if tok.type == tokenize.NAME and tok.string in KEYWORDS:
            yield (_KEYWORD, tok.string, line, column)
            continue
        text = (
            unicodedata.normalize("NFKC", tok.string) if tok.type == tokenize.NAME else tok.string
        )
        yield (tok.type, text, line, column)


def name_uses(code: str) -> list[Occurrence]:
    """Every use of a plain name in ``code`` (see the module docstring), in order."""
    out: list[Occurrence] = []
    prev = ""
    for ttype, s, line, col in _significant(code):
        # A keyword after a dot is no attribute: `from . import x` uses `import`.
        if (ttype == tokenize.NAME and prev != ".") or ttype == _KEYWORD:
            out.append(Occurrence(s, line, col + 1))
        prev = s if ttype == tokenize.OP else ("" if ttype != tokenize.NAME else s)
        if ttype in (tokenize.NEWLINE, tokenize.STRING):
            prev = ""
    return out


def dotted_uses(code: str, dotted: str) -> list[Occurrence]:
    """Uses of the qualified name ``dotted`` (``a.b.c``) as a token sequence, in order."""
    return _Tokens(code).dotted(dotted)


class _Tokens:
    """The significant tokens of a code text, indexed by the names that start a reference
    (a name not after a dot), to find many dotted names in one reading."""

    def __init__(self, code: str) -> None:
        self.toks = list(_significant(code))
        self.starts: dict[str, list[int]] = {}
        for i, (t, s, _, _) in enumerate(self.toks):
            after_dot = i > 0 and self.toks[i - 1][0] == tokenize.OP and self.toks[i - 1][1] == "."
            if t == tokenize.NAME and not after_dot:
                self.starts.setdefault(s, []).append(i)

    def dotted(self, dotted: str) -> list[Occurrence]:
        parts = dotted.split(".")
        want: list[tuple[int, str]] = []
        for k, p in enumerate(parts):
            if k:
                want.append((tokenize.OP, "."))
            want.append((tokenize.NAME, p))
        toks, n = self.toks, len(want)
        out: list[Occurrence] = []
        for i in self.starts.get(parts[0], ()):
            if i + n <= len(toks) and all(
                toks[i + k][0] == want[k][0] and toks[i + k][1] == want[k][1] for k in range(n)
            ):
                out.append(Occurrence(dotted, toks[i][2], toks[i][3] + 1))
        return out


def _imports(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, list[str]]]:
    """Each import statement with the module names it imports.

    ``import a.b`` imports ``a.b``; ``from a import b`` imports ``a`` and ``a.b``;
    a relative import's module starts with its dots (``.util``).
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node, [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = "." * node.level + (node.module or "")
            sep = "" if mod.endswith(".") else "."
            yield node, [mod] + [mod + sep + a.name for a in node.names if a.name != "*"]


def _covered(module: str, entries: Sequence[str]) -> bool:
    return any(module == e or module.startswith(e + ".") for e in entries)


def _import_uses(
    tree: ast.AST | None,
    dotted: str,
    imports: Sequence[tuple[ast.Import | ast.ImportFrom, list[str]]] | None = None,
) -> list[Occurrence]:
    if tree is None:
        return []
    out = []
    for node, mods in _imports(tree) if imports is None else imports:
        if any(_covered(m, [dotted]) for m in mods):
            out.append(Occurrence(dotted, node.lineno, node.col_offset + 1))
    return out


class _Names:
    """How one code text names things, each reading done once and only when asked."""

    def __init__(self, code: str, tree: ast.Module | None) -> None:
        self.code = code
        self.tree = tree

    @functools.cached_property
    def _plain(self) -> list[Occurrence]:
        return name_uses(self.code)

    @functools.cached_property
    def _tokens(self) -> _Tokens:
        return _Tokens(self.code)

    @functools.cached_property
    def _imports(self) -> list[tuple[ast.Import | ast.ImportFrom, list[str]]]:
        return [] if self.tree is None else list(_imports(self.tree))

    def uses_of(self, name: str) -> list[Occurrence]:
        """Uses of a plain or dotted name as written (tokens and imports)."""
        if "." in name:
            found = self._tokens.dotted(name)
            lines = {o.line for o in found}
            imported = _import_uses(self.tree, name, self._imports)
            found += [o for o in imported if o.line not in lines]
            return sorted(found, key=lambda o: (o.line, o.column))
        return [o for o in self._plain if o.name == name]

    @functools.cached_property
    def references(self) -> list[Reference]:
        return [] if self.tree is None else references(self.tree, self.code)

    @functools.cached_property
    def attributes(self) -> list[AttributeUse]:
        return [] if self.tree is None else attribute_uses(self.tree, self.code)

    def used(self, name: str) -> bool:
        """Whether ``require: [name]`` is satisfied (see the module docstring)."""
        if self.uses_of(name):
            return True
        if "." not in name and any(a.name == name and not a.by_string for a in self.attributes):
            return True
        return any(_reaches(r, name) for r in self.references)


def _reaches(r: Reference, name: str, *, first: bool = False) -> bool:
    """Whether ``r`` names the forbidden or required ``name`` (or something inside it);
    with ``first``, only where the part it extends does not already."""
    targets = (name,) if "." in name else (name, f"builtins.{name}")

    def hit(path: str) -> bool:
        return any(path == t or path.startswith(t + ".") for t in targets)

    return hit(r.path) and not (first and r.base is not None and hit(r.base))


def _forbidden(c: Forbid, names: _Names) -> list[Violation]:
    """Every use of a forbidden name: as written, through a reference, or (for ``.attr``)
    as an attribute of any object."""
    if c.name.startswith("."):
        attr = c.name[1:]
        return [
            Violation(
                c.id,
                "forbid",
                f"`{a.text}` names the attribute `{attr}`, which is forbidden"
                if a.by_string
                else f"the attribute `{attr}` is forbidden",
                a.line,
                a.column,
                a.text,
            )
            for a in names.attributes
            if a.name == attr
        ]
    out = [
        Violation(c.id, "forbid", f"`{c.name}` is forbidden", o.line, o.column, c.name)
        for o in names.uses_of(c.name)
    ]
    seen = {(x.line, x.column) for x in out}
    for r in names.references:
        if (r.line, r.column) in seen or not _reaches(r, c.name, first=True):
            continue
        through = f" through {', '.join(r.through)}" if r.through else ""
        message = (
            f"`{r.text}` reaches `{c.name}`, which is forbidden"
            if r.text == r.path
            else f"`{r.text}` is `{r.path}`{through}: `{c.name}` is forbidden"
        )
        out.append(Violation(c.id, "forbid", message, r.line, r.column, r.text))
    return sorted(out, key=lambda x: (x.line, x.column))


def _body_position(fn: ast.FunctionDef | ast.AsyncFunctionDef | None, code: str) -> tuple[int, int]:
    """1-based (line, column) of the first statement of the function's body (1:1 without
    a function), for a check about the body as a whole."""
    if fn is None or not fn.body:
        return 1, 1
    first = fn.body[0]
    text = code.split("\n")[first.lineno - 1] if first.lineno <= code.count("\n") + 1 else ""
    prefix = text.encode("utf-8")[: first.col_offset].decode("utf-8", "ignore")
    return first.lineno, len(prefix) + 1


# --- the function's shape -----------------------------------------------------------------


def _def_node(tree: ast.Module | None) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    if tree is None or len(tree.body) != 1:
        return None
    node = tree.body[0]
    return node if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None


def _norm(expr: str) -> str | None:
    try:
        return ast.unparse(ast.parse(expr.strip(), mode="eval"))
    except (SyntaxError, ValueError):
        return None


def _annotation_text(node: ast.expr | None) -> str | None:
    """Normalized annotation text; a string annotation (``-> "T"``) reads as ``T``."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _norm(node.value) or node.value
    return ast.unparse(node)


def _type_ok(node: ast.expr | None, t: TypeExpr) -> bool:
    got = _annotation_text(node)
    if got is None:
        return False
    return any(_norm(s) == got for s in render_type(t))


@dataclass(frozen=True, slots=True)
class _DefParam:
    name: str
    kind: str
    annotation: ast.expr | None
    default: ast.expr | None
    line: int
    column: int


def _def_params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[_DefParam]:
    a = fn.args
    out: list[_DefParam] = []
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    defaults += a.defaults

    def add(arg: ast.arg, kind: str, default: ast.expr | None) -> None:
        out.append(
            _DefParam(arg.arg, kind, arg.annotation, default, arg.lineno, arg.col_offset + 1)
        )

    for arg, d in zip(positional, defaults, strict=True):
        add(arg, "positional", d)
    if a.vararg:
        add(a.vararg, "var_positional", None)
    for arg, kd in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        add(arg, "keyword_only", kd)
    if a.kwarg:
        add(a.kwarg, "var_keyword", None)
    return out


def _params_problem(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, want: Sequence[Param]
) -> tuple[str, int, int] | None:
    """Why the def's parameters differ from ``want`` (message, line, column), or None.

    Names, kinds and order must be equal; an annotation must be present exactly when the
    parameter has a type, and spell it; a default must be present exactly when the
    parameter has one, and be the same expression.
    """
    got = _def_params(fn)
    names = ", ".join(p.name for p in want) or "none"
    if [(p.name, p.kind) for p in got] != [(p.name, p.kind) for p in want]:
        return (f"parameters must be ({names})", fn.lineno, fn.col_offset + 1)
    for g, w in zip(got, want, strict=True):
        if w.type is None and g.annotation is not None:
            return (f"parameter `{g.name}` must not be annotated", g.line, g.column)
        if w.type is not None and not _type_ok(g.annotation, w.type):
            spelled = " or ".join(render_type(w.type))
            return (f"parameter `{g.name}` must be annotated {spelled}", g.line, g.column)
        if (w.default is None) != (g.default is None):
            msg = "must have a default" if w.default is not None else "must not have a default"
            return (f"parameter `{g.name}` {msg}", g.line, g.column)
        if w.default is not None and g.default is not None:
            want_default = _norm(w.default) or w.default
            if ast.unparse(g.default) != want_default:
                return (f"parameter `{g.name}` must default to {w.default}", g.line, g.column)
    return None


# --- the checks --------------------------------------------------------------------------


class Checks:
    """The checks that read a text as one Python function definition: every constraint
    but limits and ``matches`` (:mod:`ananke.languages.validate` checks those)."""

    def __init__(
        self, code: str, cset: ConstraintSet, budget: Budget, report: Report, unread: str | None
    ) -> None:
        v = report.violations
        tree: ast.Module | None = None
        if unread is not None:
            v.append(Violation(f"{cset.name}.syntax", "syntax", unread, undecided=True))
        try:
            tree = ast.parse(code) if unread is None else None
        except (SyntaxError, ValueError) as e:
            line = getattr(e, "lineno", None) or 1
            col = getattr(e, "offset", None) or 1
            msg = getattr(e, "msg", None) or str(e)
            v.append(
                Violation(f"{cset.name}.syntax", "syntax", f"not valid Python: {msg}", line, col)
            )
        fn = _def_node(tree)
        if tree is not None and fn is None:
            v.append(
                Violation(
                    f"{cset.name}.syntax",
                    "syntax",
                    "the code must be exactly one function definition",
                )
            )
        self.code, self.budget, self.tree, self.fn = code, budget, tree, fn
        self.names = _Names(code, tree)

    def check(self, c: Constraint, report: Report) -> None:
        v = report.violations
        code, budget, tree, fn, names = self.code, self.budget, self.tree, self.fn, self.names
        uses_of = names.uses_of
        match c:
            case Forbid():
                v.extend(_forbidden(c, names))
            case Require():
                if not names.used(c.name):
                    line, col = _body_position(fn, code)
                    v.append(
                        Violation(
                            c.id,
                            "require",
                            f"`{c.name}` must be used; the function never uses it",
                            line,
                            col,
                        )
                    )
            case Validates():
                body_start = (
                    (fn.body[0].lineno, fn.body[0].col_offset + 1) if fn is not None else (0, 0)
                )
                if not [o for o in uses_of(c.target) if (o.line, o.column) >= body_start]:
                    line, col = _body_position(fn, code)
                    v.append(
                        Violation(
                            c.id, "validates", f"the body must reference `{c.target}`", line, col
                        )
                    )
            case Naming():
                if fn is None:
                    report.skipped.append(Skipped(c.id, "no function definition to read"))
                    return
                pattern = c.pattern if c.pattern is not None else NAMING_STYLES[c.style or "snake"]
                what = f"style {c.style}" if c.style else f"/{pattern}/"
                defined = [(fn.name, fn.lineno, fn.col_offset + 1)]
                defined += [(p.name, p.line, p.column) for p in _def_params(fn)]
                steps = budget.max_pattern_steps
                if c.scope == "all":
                    defined += defined_names(fn, code)
                for name, line, col in defined:
                    try:
                        found = search(pattern, name, True, steps, budget.max_pattern_steps)
                    except re.error as e:
                        report.skipped.append(Skipped(c.id, f"the pattern does not compile: {e}"))
                        break
                    if isinstance(found, str):
                        v.append(Violation(c.id, "naming", found, line, col, name, undecided=True))
                        break
                    ok, spent = found
                    steps -= spent
                    if not ok:
                        v.append(
                            Violation(
                                c.id, "naming", f"`{name}` does not follow {what}", line, col, name
                            )
                        )
            case ImportPolicy():
                if tree is None:
                    report.skipped.append(Skipped(c.id, "the code does not parse"))
                    return
                for node, mods in _imports(tree):
                    line, col = node.lineno, node.col_offset + 1
                    denied = [m for m in mods if _covered(m, c.deny)]
                    if denied:
                        v.append(
                            Violation(
                                c.id,
                                "imports",
                                f"import of `{denied[0]}` is denied",
                                line,
                                col,
                                denied[0],
                            )
                        )
                    elif c.allow is not None and not any(_covered(m, c.allow) for m in mods):
                        v.append(
                            Violation(
                                c.id,
                                "imports",
                                f"import of `{mods[0]}` is not in the allow list",
                                line,
                                col,
                                mods[0],
                            )
                        )
            case Returns() | FunctionName() | Params() | Signature():
                if fn is None:
                    report.skipped.append(Skipped(c.id, "no function definition to read"))
                    return
                v.extend(_shape_violations(c, fn))
            case _:
                pass  # doc/note: advisory


def _shape_violations(
    c: Returns | FunctionName | Params | Signature, fn: ast.FunctionDef | ast.AsyncFunctionDef
) -> list[Violation]:
    out: list[Violation] = []
    line, col = fn.lineno, fn.col_offset + 1
    name = c.name if isinstance(c, FunctionName | Signature) else None
    returns = c.type if isinstance(c, Returns) else c.returns if isinstance(c, Signature) else None
    params = c.params if isinstance(c, Params | Signature) else None
    kind = c.__struct_config__.tag
    assert isinstance(kind, str)
    if name is not None and fn.name != name:
        out.append(
            Violation(c.id, kind, f"the function must be named `{name}`", line, col, fn.name)
        )
    if isinstance(c, Signature) and c.is_async != isinstance(fn, ast.AsyncFunctionDef):
        want = "an async def" if c.is_async else "a plain def (not async)"
        out.append(Violation(c.id, kind, f"the function must be {want}", line, col))
    if params is not None:
        problem = _params_problem(fn, params)
        if problem is not None:
            out.append(Violation(c.id, kind, problem[0], problem[1], problem[2]))
    if returns is not None and not _type_ok(fn.returns, returns):
        spelled = " or ".join(render_type(returns))
        got = ast.unparse(fn.returns) if fn.returns is not None else ""
        where = fn.returns or fn
        out.append(
            Violation(
                c.id,
                kind,
                f"the return annotation must be {spelled}",
                where.lineno,
                where.col_offset + 1,
                got,
            )
        )
    return out
