"""What the expressions of one Python function name, beyond how they are spelled.

The checks after generation read names as tokens (``ananke.languages.python.checks``). A function
can also reach a name without spelling it: through an alias it makes (``import os as o``,
``m = os``), through the ``builtins`` module, or through a lookup by a constant string
(``getattr(os, "system")``, ``globals()["eval"]``, ``importlib.import_module("os")``).
:func:`references` reads these with Python's ``ast``, precisely:

* A **global** is a name the function never binds; it names itself (``os`` is the module
  ``os``, ``eval`` the builtin). ``__builtins__`` names ``builtins``.
* An **alias** is a name the function binds only by ``import a.b as n`` (``a.b``),
  ``import a.b`` (``n`` = ``a``), ``from a import b [as n]`` (``a.b``), ``n = EXPR``,
  ``n: T = EXPR`` or ``(n := EXPR)``, where every binding, in every nested scope, names
  the same thing. A name bound any other way anywhere in the function (a parameter, a loop
  variable, ``global n``, two different values...) names nothing known.
* ``EXPR.attr`` names what ``EXPR`` names, then ``.attr``. These look a name up by a
  constant string and name the same: ``getattr(X, "a")``, ``X.__getattribute__("a")``,
  ``object.__getattribute__(X, "a")``, ``operator.attrgetter("a.b")(X)``,
  ``vars(X)["a"]``, ``X.__dict__["a"]``; and these a global: ``globals()["a"]``,
  ``locals()["a"]``, ``vars()["a"]``, ``__builtins__["a"]``, ``F.__globals__["a"]``,
  ``FRAME.f_globals["a"]`` (``f_locals``, ``f_builtins`` too), each also with ``.get("a")``.
  ``__import__("a.b")`` names ``a`` (``a.b`` with a ``fromlist``),
  ``importlib.import_module("a.b")`` and ``sys.modules["a.b"]`` name ``a.b``.

A name built at run time (``getattr(x, "ev" + "al")``) names nothing known: no reading of
the text can say what it is.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

__all__ = ["AttributeUse", "Reference", "attribute_uses", "defined_names", "references"]


@dataclass(frozen=True, slots=True)
class Reference:
    """An expression that names ``path`` without spelling it, or names a builtin through
    ``builtins`` (positions 1-based)."""

    path: str
    """What it names, dotted: ``os.system``; a builtin reached through the module is
    ``builtins.eval``."""
    base: str | None
    """What the part it extends names (``os`` for ``o.system``), None when it extends
    nothing known."""
    line: int
    column: int
    text: str
    """The expression as written (its first line)."""
    through: tuple[str, ...] = ()
    """The alias bindings it goes through, as written, with their lines."""


@dataclass(frozen=True, slots=True)
class AttributeUse:
    """An attribute read, written or named by a constant string on any object."""

    name: str
    line: int
    column: int
    text: str
    by_string: bool = False
    """Named by a constant string (``getattr(x, "a")``), not written after a dot."""


def references(fn: ast.AST, code: str) -> list[Reference]:
    """Every expression of ``fn`` (parsed from ``code``) that names something it does not
    spell (see the module docstring), or a builtin through ``builtins``, in order."""
    reader = _Reader(fn, code)
    out: list[Reference] = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Name | ast.Subscript) and not isinstance(node.ctx, ast.Load):
            continue
        if not isinstance(node, ast.Name | ast.Attribute | ast.Subscript | ast.Call):
            continue
        ref = reader.resolve(node)
        if ref is None or ref.namespace:
            continue
        if ref.path == _literal(node) and not ref.path.startswith("builtins."):
            continue  # spelled as it is: the token reading sees it
        line, column = reader.position(node.lineno, node.col_offset)
        text = reader.segment(node)
        out.append(Reference(ref.path, ref.base, line, column, text, ref.through))
    return sorted(out, key=lambda r: (r.line, r.column))


def attribute_uses(fn: ast.AST, code: str) -> list[AttributeUse]:
    """Every attribute ``fn`` reads, writes or deletes on any object (``x.a``), or names by
    a constant string (``getattr(x, "a")``, ``setattr``, ``delattr``,
    ``x.__getattribute__("a")``, ``operator.attrgetter("a.b")``,
    ``operator.methodcaller("a")``), in order."""
    reader = _Reader(fn, code)
    out: list[AttributeUse] = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Attribute) and node.end_lineno is not None:
            end = node.end_col_offset or 0
            line, column = reader.position(node.end_lineno, end)
            out.append(AttributeUse(node.attr, line, column - len(node.attr), node.attr))
        elif isinstance(node, ast.Call):
            names = _attribute_names(reader, node)
            if names:
                line, column = reader.position(node.lineno, node.col_offset)
                text = reader.segment(node)
                out.extend(AttributeUse(n, line, column, text, True) for n in names)
    return sorted(out, key=lambda u: (u.line, u.column))


def _attribute_names(reader: _Reader, node: ast.Call) -> list[str]:
    """Attribute names a call looks up by constant strings."""
    func, args = node.func, node.args
    if isinstance(func, ast.Attribute) and func.attr == "__getattribute__":
        name = _const(args[-1]) if args else None
        return [name] if name is not None else []
    f = reader.resolve(func)
    if f is None or f.namespace:
        return []
    if f.path in _ATTR_FUNCS and len(args) >= 2:
        name = _const(args[1])
        return [name] if name is not None else []
    if f.path == "operator.attrgetter":
        return [p for a in args if (s := _const(a)) is not None for p in s.split(".")]
    if f.path == "operator.methodcaller" and args:
        name = _const(args[0])
        return [name] if name is not None else []
    return []


def defined_names(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, code: str
) -> list[tuple[str, int, int]]:
    """Names the body of ``fn`` defines, each once, where first defined: local variables
    (every assignment target, loop and ``with`` variable, ``except`` name, ``match``
    capture, walrus and comprehension variable), nested functions and methods of nested
    classes with their parameters, and lambda parameters.

    Not included: imported names (they name something defined elsewhere), class names,
    names a class body binds (class attributes), names declared ``global`` or
    ``nonlocal``, names made only of underscores (throwaways such as ``_``) and special
    names (``__init__``). Each is ``(name, line, column)``, 1-based.
    """
    reader = _Reader(fn, code)
    declared = {
        n
        for node in ast.walk(fn)
        if isinstance(node, ast.Global | ast.Nonlocal)
        for n in node.names
    }
    found: list[tuple[str, int, int]] = []

    def add_at(name: str | None, at: tuple[int, int]) -> None:
        if name is None or name in declared or not name.strip("_"):
            return
        if len(name) > 4 and name.startswith("__") and name.endswith("__"):
            return
        found.append((name, *at))

    def add(name: str | None, line: int, col: int) -> None:
        add_at(name, reader.position(line, col))

    def args(a: ast.arguments) -> None:
        for arg in (*a.posonlyargs, *a.args, a.vararg, *a.kwonlyargs, a.kwarg):
            if arg is not None:
                add(arg.arg, arg.lineno, arg.col_offset)

    def visit(node: ast.AST, in_class: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            add_at(node.name, reader.def_name_position(node))
            args(node.args)
            for part in (*node.args.defaults, *node.args.kw_defaults, *node.decorator_list):
                if part is not None:
                    visit(part, in_class)
            for stmt in node.body:
                visit(stmt, False)
            return
        if isinstance(node, ast.ClassDef):
            for member in ast.iter_child_nodes(node):
                visit(member, True)
            return
        if isinstance(node, ast.Lambda):
            args(node.args)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            if not in_class:
                add(node.id, node.lineno, node.col_offset)
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
            if not in_class:
                add(node.name, node.lineno, node.col_offset)
        elif isinstance(node, ast.MatchMapping) and not in_class:
            add(node.rest, node.lineno, node.col_offset)
        for child in ast.iter_child_nodes(node):
            visit(child, in_class)

    for stmt in fn.body:
        visit(stmt, False)
    seen: set[str] = set()
    out: list[tuple[str, int, int]] = []
    for name, line, column in sorted(found, key=lambda f: (f[1], f[2])):
        if name not in seen:
            seen.add(name)
            out.append((name, line, column))
    return out


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ref:
    path: str
    through: tuple[str, ...] = ()
    base: str | None = None
    namespace: bool = False
    """A mapping of names (``globals()``): a constant key ``k`` names ``path.k``."""


@dataclass(frozen=True, slots=True)
class _Binding:
    value: ast.expr | str | None
    """The value expression, the dotted name an import binds, or None for a binding that
    names nothing known."""
    written: str = ""


_GETATTR = frozenset({"getattr", "builtins.getattr"})
# `hasattr` is left out: it tells only whether the attribute exists.
_ATTR_FUNCS = frozenset(
    {f"{p}{n}" for p in ("", "builtins.") for n in ("getattr", "setattr", "delattr")}
)
_IMPORT = frozenset({"__import__", "builtins.__import__"})
_NAMESPACES = frozenset(
    {f"{p}{n}" for p in ("", "builtins.") for n in ("globals", "locals", "vars")}
)
_VARS = frozenset({"vars", "builtins.vars"})
_GLOBAL_DICTS = frozenset({"__globals__", "f_globals", "f_locals", "f_builtins"})
_OBJECT = frozenset({"object", "type", "builtins.object", "builtins.type"})
_MODULES = "sys.modules"
_NEW_SCOPE = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.ClassDef,
    ast.ListComp,
    ast.SetComp,
    ast.GeneratorExp,
    ast.DictComp,
)
_DEF = re.compile(r"(?:async\s+)?def\s+")


def _const(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _literal(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _literal(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def _first_line(text: str | None, limit: int = 80) -> str:
    line = (text or "").split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _extend(ref: _Ref | None, name: str | None) -> _Ref | None:
    """What ``X.name`` names when ``X`` names ``ref``."""
    if ref is None or name is None or ref.namespace:
        return None
    return _Ref(f"{ref.path}.{name}", ref.through, ref.path)


class _Scope:
    """A namespace of the code: the module, a function, a lambda, a class body or a
    comprehension, with what each name is bound to in it."""

    def __init__(self, kind: str, parent: _Scope | None) -> None:
        self.kind = kind
        self.parent = parent
        self.bindings: dict[str, list[_Binding]] = {}
        self.declared: dict[str, str] = {}
        """``global`` or ``nonlocal``, per name declared so."""

    def owner(self, name: str) -> _Scope | None:
        """The scope whose binding of ``name`` a use here reads; None for a global the
        code never binds (Python's rules: class bodies are skipped by inner scopes)."""
        scope: _Scope | None = self
        first = True
        while scope is not None:
            how = scope.declared.get(name)
            if how == "global":
                return self.module()._owns(name)
            if how is None and (first or scope.kind != "class") and name in scope.bindings:
                return scope
            first = False
            scope = scope.parent
        return None

    def module(self) -> _Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def _owns(self, name: str) -> _Scope | None:
        return self if name in self.bindings else None

    def target(self, name: str) -> _Scope:
        """The scope a binding of ``name`` made here goes to."""
        how = self.declared.get(name)
        if how == "global":
            return self.module()
        if how == "nonlocal" and self.parent is not None:
            owner = self.parent.owner(name)
            return owner if owner is not None else self.parent
        return self


class _Reader:
    """The bindings of one piece of code, and what its expressions name."""

    def __init__(self, tree: ast.AST, code: str) -> None:
        self.lines = code.split("\n")
        self.scope_of: dict[int, _Scope] = {}
        """The scope of each ``Name`` node that reads a name."""
        self.aliases: dict[tuple[int, str], _Ref | None] = {}
        self.pending: set[tuple[int, str]] = set()
        self.memo: dict[int, _Ref | None] = {}
        self._visit(tree, _Scope("module", None))

    def position(self, line: int, byte_col: int) -> tuple[int, int]:
        """1-based (line, column in code points) of an ``ast`` position (UTF-8 bytes)."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        prefix = text.encode("utf-8")[:byte_col].decode("utf-8", "ignore")
        return line, len(prefix) + 1

    def segment(self, node: ast.expr | ast.stmt, limit: int = 80) -> str:
        """The first line of a node's source text, cut to ``limit`` code points."""
        text = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
        line = text.encode("utf-8")
        end = node.end_col_offset if node.end_lineno == node.lineno else None
        return _first_line(line[node.col_offset : end].decode("utf-8", "replace"), limit)

    def def_name_position(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int]:
        """1-based position of the name a ``def`` binds."""
        line, column = self.position(fn.lineno, fn.col_offset)
        m = _DEF.match(self.lines[line - 1], column - 1)
        return (line, m.end() + 1) if m else (line, column)

    # --- bindings ---------------------------------------------------------------------------

    def _bind(
        self, scope: _Scope, name: str, value: ast.expr | str | None, written: str = ""
    ) -> None:
        scope.target(name).bindings.setdefault(name, []).append(_Binding(value, written))

    def _declare(self, body: list[ast.stmt], scope: _Scope) -> None:
        """``global`` and ``nonlocal`` apply to the whole scope, uses before them too."""
        stack: list[ast.AST] = list(body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Global | ast.Nonlocal):
                how = "global" if isinstance(node, ast.Global) else "nonlocal"
                for n in node.names:
                    scope.declared[n] = how
            elif not isinstance(node, _NEW_SCOPE):
                stack.extend(ast.iter_child_nodes(node))

    def _visit(self, node: ast.AST, scope: _Scope) -> None:
        at = f" (line {getattr(node, 'lineno', 0)})"
        if isinstance(node, ast.Module):
            self._declare(node.body, scope)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            if not isinstance(node, ast.Lambda):
                self._bind(scope, node.name, None)
                for deco in node.decorator_list:
                    self._visit(deco, scope)
                if node.returns is not None:
                    self._visit(node.returns, scope)
            sig = node.args
            for d in (*sig.defaults, *sig.kw_defaults):
                if d is not None:
                    self._visit(d, scope)
            inner = _Scope("function", scope)
            for arg in (*sig.posonlyargs, *sig.args, sig.vararg, *sig.kwonlyargs, sig.kwarg):
                if arg is not None:
                    self._bind(inner, arg.arg, None)
                    if arg.annotation is not None:
                        self._visit(arg.annotation, scope)
            if isinstance(node, ast.Lambda):
                self._visit(node.body, inner)
            else:
                self._declare(node.body, inner)
                for stmt in node.body:
                    self._visit(stmt, inner)
            return
        elif isinstance(node, ast.ClassDef):
            self._bind(scope, node.name, None)
            for e in (*node.decorator_list, *node.bases, *node.keywords):
                self._visit(e, scope)
            inner = _Scope("class", scope)
            self._declare(node.body, inner)
            for stmt in node.body:
                self._visit(stmt, inner)
            return
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            self._visit(node.generators[0].iter, scope)
            inner = _Scope("comprehension", scope)
            for k, gen in enumerate(node.generators):
                if k:
                    self._visit(gen.iter, inner)
                self._visit(gen.target, inner)
                for cond in gen.ifs:
                    self._visit(cond, inner)
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            for part in parts:
                self._visit(part, inner)
            return
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    self._bind(scope, a.asname, a.name, f"`import {a.name} as {a.asname}`{at}")
                else:
                    top = a.name.split(".")[0]
                    self._bind(scope, top, top, f"`import {a.name}`{at}")
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if a.name == "*":
                    continue
                bound = a.asname or a.name
                if node.level or not node.module:
                    self._bind(scope, bound, None)
                    continue
                as_ = f" as {a.asname}" if a.asname else ""
                written = f"`from {node.module} import {a.name}{as_}`{at}"
                self._bind(scope, bound, f"{node.module}.{a.name}", written)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr):
            where = scope
            if isinstance(node, ast.NamedExpr):  # binds outside comprehensions
                while where.kind == "comprehension" and where.parent is not None:
                    where = where.parent
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    if node.value is not None:
                        self._bind(where, t.id, node.value, f"`{self.segment(node, 60)}`{at}")
                else:
                    self._visit(t, scope)
            if isinstance(node, ast.AnnAssign):
                self._visit(node.annotation, scope)
            if node.value is not None:
                self._visit(node.value, scope)
            return
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                self._bind(scope, node.id, None)
            elif isinstance(node.ctx, ast.Load):
                self.scope_of[id(node)] = scope
        elif isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
            if node.name:
                self._bind(scope, node.name, None)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            self._bind(scope, node.rest, None)
        for child in ast.iter_child_nodes(node):
            self._visit(child, scope)

    def alias(self, scope: _Scope, name: str) -> _Ref | None:
        """What a name bound in ``scope`` names, or None (see the module docstring)."""
        key = (id(scope), name)
        if key in self.aliases:
            return self.aliases[key]
        if key in self.pending:
            return None  # a binding that depends on itself
        self.pending.add(key)
        found: _Ref | None = None
        written = ""
        for b in scope.bindings[name]:
            ref = _Ref(b.value) if isinstance(b.value, str) else None
            if isinstance(b.value, ast.expr):
                ref = self.resolve(b.value)
            if ref is None or ref.namespace or (found is not None and found.path != ref.path):
                found = None
                break
            if found is None:
                found, written = ref, b.written
        self.pending.discard(key)
        result = None if found is None else _Ref(found.path, (written, *found.through))
        self.aliases[key] = result
        return result

    def resolve(self, node: ast.expr) -> _Ref | None:
        key = id(node)
        if key not in self.memo:
            self.memo[key] = None  # guards a cycle through this node
            self.memo[key] = self._resolve(node)
        return self.memo[key]

    def _resolve(self, node: ast.expr) -> _Ref | None:
        if isinstance(node, ast.Name):
            scope = self.scope_of.get(id(node))
            owner = scope.owner(node.id) if scope is not None else None
            if owner is not None:
                return self.alias(owner, node.id)
            return _Ref("builtins" if node.id == "__builtins__" else node.id)
        if isinstance(node, ast.Attribute):
            if node.attr in _GLOBAL_DICTS:
                return _Ref("", namespace=True)
            if node.attr == "__builtins__":
                return _Ref("builtins")
            inner = self.resolve(node.value)
            if node.attr == "__dict__":
                if inner is None or inner.namespace:
                    return None
                return _Ref(inner.path, inner.through, namespace=True)
            return _extend(inner, node.attr)
        if isinstance(node, ast.Subscript):
            return self._lookup(self.resolve(node.value), _const(node.slice))
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.NamedExpr):
            return self.resolve(node.value)
        return None

    def _lookup(self, mapping: _Ref | None, key: str | None) -> _Ref | None:
        """What ``mapping[key]`` names."""
        if mapping is None or key is None:
            return None
        if mapping.namespace:
            if not mapping.path:
                return _Ref("builtins" if key == "__builtins__" else key, mapping.through)
            return _Ref(f"{mapping.path}.{key}", mapping.through, mapping.path)
        if mapping.path == _MODULES:
            return _Ref(key)
        if mapping.path == "builtins":  # `__builtins__` is a dict outside `__main__`
            return _Ref(f"builtins.{key}", mapping.through, "builtins")
        return None

    def _call(self, node: ast.Call) -> _Ref | None:
        args, func = node.args, node.func
        if isinstance(func, ast.Call):  # operator.attrgetter("a.b")(x)
            maker = self.resolve(func.func)
            if maker is None or maker.path != "operator.attrgetter" or len(func.args) != 1:
                return None
            return _extend(self.resolve(args[0]) if len(args) == 1 else None, _const(func.args[0]))
        if isinstance(func, ast.Attribute) and func.attr in ("__getattribute__", "get"):
            recv = self.resolve(func.value)
            if recv is None or not args:
                return None
            if func.attr == "get":
                return self._lookup(recv, _const(args[0]))
            if recv.path in _OBJECT and len(args) == 2:
                return _extend(self.resolve(args[0]), _const(args[1]))
            return _extend(recv, _const(args[0])) if len(args) == 1 else None
        f = self.resolve(func)
        if f is None or f.namespace:
            return None
        if f.path in _GETATTR and len(args) >= 2:
            return _extend(self.resolve(args[0]), _const(args[1]))
        if f.path in _NAMESPACES and not args and not node.keywords:
            return _Ref("", namespace=True)
        if f.path in _VARS and len(args) == 1:
            obj = self.resolve(args[0])
            if obj is None or obj.namespace:
                return None
            return _Ref(obj.path, obj.through, namespace=True)
        if f.path in _IMPORT and args:
            return self._import(node)
        if f.path == "importlib.import_module" and args:
            name = _const(args[0])
            return None if name is None or name.startswith(".") else _Ref(name)
        return None

    def _import(self, node: ast.Call) -> _Ref | None:
        """``__import__("a.b")`` names ``a``; with a non-empty ``fromlist``, ``a.b``."""
        name = _const(node.args[0])
        if name is None or name.startswith("."):
            return None
        fromlist = node.args[3] if len(node.args) > 3 else None
        for k in node.keywords:
            if k.arg == "fromlist":
                fromlist = k.value
        if isinstance(fromlist, ast.Constant):
            empty = not fromlist.value
        elif isinstance(fromlist, ast.Tuple | ast.List):
            empty = not fromlist.elts
        else:
            empty = fromlist is None
        return _Ref(name.split(".")[0] if empty else name)
