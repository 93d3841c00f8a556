"""Lark grammars (the ``lark`` package's dialect and llguidance's) -> GrammarIR.

The grammar's meaning is llguidance's: UPPERCASE names are lexemes, lowercase names CFG
rules, string literals and regexes in rules are lexemes. ``?rule``, ``!rule``, ``_rule``
and aliases ``-> name`` only shape lark's parse tree: they are dropped. Every construct
without an equivalent is reported where it is written.

Templates are macros: each application with distinct arguments becomes a rule of its own
(arguments are converted where they are written, then bound to the parameters). An
imported module is read lazily: only the definitions the importing grammar reaches are
converted, and only their problems are reported.
"""

from __future__ import annotations

import functools
import json
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from ananke.ir.diagnostics import Diagnostics, quote
from ananke.ir.grammar import (
    Alt,
    And,
    CharClass,
    Empty,
    Expr,
    Grammar,
    JsonSchema,
    Lit,
    Not,
    Ref,
    Regex,
    Repeat,
    Rule,
    Seq,
    Special,
    refs,
)
from ananke.ir.source import SourceFile, Span

from ._common import (
    DUPLICATE,
    IGNORED,
    IMPORT,
    SYNTAX,
    TEMPLATE,
    TERMINAL,
    UNDEFINED,
    UNSUPPORTED,
    alt,
    error,
    missing_start,
    warning,
)

__all__ = ["import_lark"]

# Bounds on template expansion: a template that applies itself to ever larger arguments
# would otherwise expand forever.
_TEMPLATE_DEPTH = 32
_TEMPLATE_INSTANCES = 2_000
_TEMPLATE_ARGUMENT_SIZE = 10_000


def _tree_size(exprs: tuple[Expr, ...]) -> int:
    """How many nodes ``exprs`` have written out. Arguments share subtrees, so that one
    doubling at each expansion stays small in memory while its text grows exponentially."""
    sizes: dict[int, int] = {}

    def size(e: Expr) -> int:
        known = sizes.get(id(e))
        if known is not None:
            return known
        kids: tuple[Expr, ...] = ()
        if isinstance(e, Seq | Alt | And):
            kids = e.items
        elif isinstance(e, Repeat | Not):
            kids = (e.item,)
        n = sizes[id(e)] = 1 + sum(size(k) for k in kids)
        return n

    return sum(size(e) for e in exprs)


_JSON_START = re.compile(r"%(json|llguidance|regex)\s*\{")


@functools.cache
def _parser() -> object:
    import lark

    text = (Path(__file__).parent / "lark_syntax.lark").read_text(encoding="utf-8")
    return lark.Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _lark_grammars_dir() -> Path:
    import lark

    return Path(lark.__file__).parent / "grammars"


@functools.cache
def _lark_common() -> str:
    return str(_lark_grammars_dir() / "common.lark")


# lark's common.lark writes two terminals with Python-only regex features (lookbehind and
# lazy quantifiers, which lark's lexer reads as "the shortest match"). These are the same
# languages in plain regex syntax.
_COMMON_FIXES: dict[str, Expr] = {
    # "\"" _STRING_ESC_INNER "\"": no newline; a quote or backslash only escaped.
    "_STRING_ESC_INNER": Regex(pattern=r'(?:[^"\\\n]|\\[^\n])*'),
    # "/*" ... "*/" with the shortest body: the body never contains "*/".
    "C_COMMENT": Regex(pattern=r"/\*[^*]*\*+(?:[^/*][^*]*\*+)*/"),
}


@dataclass
class _Def:
    name: str  # the name as written (modifiers stripped)
    terminal: bool
    body: object  # lark Tree of the expansions
    source: SourceFile
    start: int
    end: int
    module: _Module
    params: tuple[str, ...] | None = None
    """A template's parameters (None: not a template)."""
    head: tuple[object, ...] = ()
    """Priority and options (lark Trees), reported when the definition is used."""


@dataclass
class _Job:
    """A definition to convert: a rule, a terminal, or a template with its arguments."""

    module: _Module
    d: _Def
    ir: str
    bindings: dict[str, Expr] | None = None
    depth: int = 0
    """How many template instances created one another down to this one."""
    comment: str = ""


@dataclass
class _Module:
    source: SourceFile
    namespace: str
    lazy: bool = False
    """An imported module: what only its unused definitions have is not reported."""
    declares: dict[str, tuple[int, int]] = field(default_factory=dict)
    """``%declare`` statements of a lazy module, reported at the first use of a name."""
    defs: dict[str, _Def] = field(default_factory=dict)
    imports: dict[str, tuple[_Module, str]] = field(default_factory=dict)
    ignores: list[tuple[object, SourceFile]] = field(default_factory=list)
    declared: set[str] = field(default_factory=set)
    """Names that are reported already where they are introduced (``%declare``, a failed
    ``%import``): their uses are not reported again."""
    json: dict[int, str] = field(default_factory=dict)


def _blank_json(source: SourceFile, diags: Diagnostics) -> tuple[str, dict[int, str]]:
    """Replace every ``%json {...}`` body by ``{`` blanks ``}`` (newlines kept, so every
    offset stays put) and return the bodies by their offset."""
    text = source.text
    out: list[str] = []
    bodies: dict[int, str] = {}
    pos = 0
    decoder = json.JSONDecoder()
    for m in _JSON_START.finditer(text):
        brace = m.end() - 1
        if brace < pos:
            continue
        try:
            _, end = decoder.raw_decode(text, brace)
        except json.JSONDecodeError as exc:
            error(
                diags,
                SYNTAX,
                f"invalid JSON after `%{m.group(1)}`: {exc.msg}",
                source,
                exc.pos,
                exc.pos + 1,
            )
            continue
        bodies[brace] = text[brace:end]
        inner = "".join("\n" if c == "\n" else " " for c in text[brace + 1 : end - 1])
        out.append(text[pos:brace] + "{" + inner + "}")
        pos = end
    out.append(text[pos:])
    return "".join(out), bodies


class _Importer:
    def __init__(self, diags: Diagnostics) -> None:
        self.diags = diags
        self.modules: dict[str, _Module] = {}
        self.rules: dict[str, Rule] = {}
        self.done: dict[tuple[int, str], str] = {}  # (module id, name) -> IR name
        self.taken: set[str] = set()
        self.lexemes: set[str] = set()
        self.defs_by_ir: dict[str, _Def] = {}
        self.pending: deque[_Job] = deque()
        self.declares_reported: set[tuple[str, int]] = set()
        self.instances: dict[tuple[int, str, tuple[Expr, ...]], str] = {}
        self.runaway = False

    # --- reading files ------------------------------------------------------------------

    def load(self, source: SourceFile, namespace: str, *, lazy: bool = False) -> _Module | None:
        import lark

        key = source.name
        if key in self.modules:
            return self.modules[key]
        module = _Module(source=source, namespace=namespace, lazy=lazy)
        self.modules[key] = module
        errors = len(self.diags)
        text, module.json = _blank_json(source, self.diags)
        if len(self.diags) > errors:
            return None
        try:
            tree = _parser().parse(text)  # type: ignore[attr-defined]
        except lark.UnexpectedInput as exc:
            self._syntax_error(source, text, exc)
            return None
        deep = _too_deep(tree)
        if deep is not None:
            s, e = _pos(deep)
            message = f"expression nested too deeply (more than {_MAX_DEPTH} levels)"
            error(self.diags, SYNTAX, message, source, s, e)
            return None
        for item in tree.children:
            self._item(module, item)
        return module

    def _syntax_error(self, source: SourceFile, text: str, exc: Exception) -> None:
        import lark

        pos = getattr(exc, "pos_in_stream", None) or 0
        if isinstance(exc, lark.UnexpectedToken):
            tok = exc.token
            end = tok.end_pos if tok.end_pos is not None else pos
            what = _describe_token(tok.type, str(tok.value))
            if tok.type == "$END":
                pos = end = len(text)
            error(self.diags, SYNTAX, f"unexpected {what}", source, pos, max(end, pos))
        else:
            ch = text[pos : pos + 1]
            what = f"character {ch!r}" if ch else "end of file"
            error(self.diags, SYNTAX, f"unexpected {what}", source, pos, pos + len(ch))

    def _item(self, module: _Module, item: object) -> None:
        from lark import Token, Tree

        assert isinstance(item, Tree)
        src = module.source
        kind = str(item.data)
        if kind in ("rule", "term"):
            self._definition(module, item, replace=None)
        elif kind in ("override", "extend"):
            self._definition(module, item.children[0], replace=kind)
        elif kind == "ignore":
            module.ignores.append((item.children[0], src))
        elif kind in ("import", "multi_import"):
            self._import(module, item)
        elif kind == "llguidance":
            tok = item.children[0]
            assert isinstance(tok, Token)
            body = module.json.get(tok.start_pos or 0, "{}")
            if json.loads(body):
                error(
                    self.diags,
                    UNSUPPORTED,
                    "`%llguidance` options have no equivalent in GrammarIR",
                    src,
                    item.meta.start_pos,
                    item.meta.end_pos,
                )
        elif kind == "declare":
            where = (item.meta.start_pos, item.meta.end_pos)
            for n in item.children:
                assert isinstance(n, Tree)
                tok = n.children[0]
                assert isinstance(tok, Token)
                module.declared.add(str(tok))
                module.declares[str(tok)] = where
            if not module.lazy:
                self.report_declare(src, *where)

    def report_declare(self, src: SourceFile, start: int, end: int) -> None:
        """``%declare`` is reported once per statement: where the user wrote it, or in an
        imported module where a definition in use needs a declared name."""
        if (src.name, start) in self.declares_reported:
            return
        self.declares_reported.add((src.name, start))
        error(
            self.diags,
            UNSUPPORTED,
            "`%declare` has no equivalent: declared terminals are produced by a custom "
            "lexer or postlexer that a grammar engine does not run",
            src,
            start,
            end,
        )

    def _definition(self, module: _Module, item: object, replace: str | None) -> None:
        from lark import Token, Tree

        assert isinstance(item, Tree)
        src = module.source
        head = item.children[0]
        assert isinstance(head, Token)
        raw = str(head)
        name = raw.lstrip("!?")
        terminal = item.data == "term"
        body = item.children[-1]
        params: tuple[str, ...] | None = None
        parts: list[object] = []
        for child in item.children[1:-1]:
            assert isinstance(child, Tree)
            if child.data == "template_params":
                params = tuple(str(p.children[0]) for p in child.children if isinstance(p, Tree))
                if terminal:
                    s, e = child.meta.start_pos, child.meta.end_pos
                    message = f"terminal {quote(name)} cannot be a template: templates are rules"
                    error(self.diags, SYNTAX, message, src, s, e)
                    module.declared.add(name)  # reported: its uses are not
                    return
                if len(set(params)) != len(params):
                    s, e = child.meta.start_pos, child.meta.end_pos
                    message = f"template {quote(name)} names a parameter twice"
                    error(self.diags, TEMPLATE, message, src, s, e)
                    module.declared.add(name)  # reported: its uses are not
                    return
            else:
                parts.append(child)
        if not module.lazy and params is None:
            for part in parts:
                self.head_part(src, name, terminal, part)
            parts = []
        start, end = head.start_pos or 0, head.end_pos or 0
        old = module.defs.get(name)
        if replace == "extend":
            if old is None and name in module.imports:
                message = (
                    f"`%extend` of imported {quote(name)} is not supported: copy its definition"
                )
                error(self.diags, UNSUPPORTED, message, src, start, end)
                module.declared.add(name)
                return
            if old is None:
                error(
                    self.diags, UNDEFINED, f"`%extend` of undefined {quote(name)}", src, start, end
                )
                return
            body = Tree("expansions", [old.body, body])
        elif replace == "override":
            if old is None and name in module.imports:
                del module.imports[name]  # the local definition replaces the imported one
            elif old is None:
                error(
                    self.diags,
                    UNDEFINED,
                    f"`%override` of undefined {quote(name)}",
                    src,
                    start,
                    end,
                )
                return
        elif old is not None:
            error(
                self.diags,
                DUPLICATE,
                f"{quote(name)} is defined twice",
                src,
                start,
                end,
                secondary=(old.source, old.start, old.end, "first defined here"),
            )
            return
        module.defs[name] = _Def(
            name, terminal, body, src, start, end, module, params=params, head=tuple(parts)
        )

    def head_part(self, src: SourceFile, name: str, terminal: bool, part: object) -> None:
        from lark import Token, Tree

        assert isinstance(part, Tree)
        s, e = part.meta.start_pos, part.meta.end_pos
        if part.data == "priority":
            if terminal:
                warning(
                    self.diags,
                    IGNORED,
                    f"priority of terminal {quote(name)} ignored: llguidance's lexer has no "
                    "terminal priorities",
                    src,
                    s,
                    e,
                )
            # Rule priorities only choose among parse trees: the language is unchanged.
        elif part.data == "options":
            for opt in part.children:
                assert isinstance(opt, Tree)
                key = opt.children[0]
                assert isinstance(key, Token)
                if str(key) == "capture":
                    continue  # names a capture in the output; the language is unchanged
                error(
                    self.diags,
                    UNSUPPORTED,
                    f"lexeme option {quote(key)} has no equivalent",
                    src,
                    opt.meta.start_pos,
                    opt.meta.end_pos,
                )

    def _import(self, module: _Module, item: object) -> None:
        from lark import Token, Tree

        assert isinstance(item, Tree)
        src = module.source
        path_tree = item.children[0]
        assert isinstance(path_tree, Tree)
        dots = sum(1 for c in path_tree.children if isinstance(c, Token))
        parts = [str(c.children[0]) for c in path_tree.children if isinstance(c, Tree)]
        names = [c for c in item.children[1:] if isinstance(c, Tree)]
        if item.data == "import":
            # `%import a.b.X [-> Y]`: the last part is the name.
            mod_parts, imported = parts[:-1], [(parts[-1], names[0] if names else None)]
        else:
            mod_parts = parts
            imported = [(str(n.children[0]), None) for n in names]
        s, e = path_tree.meta.start_pos, path_tree.meta.end_pos
        imported_names = [
            (name, str(alias.children[0]) if alias is not None else None)
            for name, alias in imported
        ]
        if not mod_parts:
            error(self.diags, IMPORT, "`%import` needs a module name", src, s, e)
            return
        target = self._resolve(src, dots, mod_parts)
        if target is None:
            dotted = "." * dots + ".".join(mod_parts)
            error(self.diags, IMPORT, f"cannot find grammar module {quote(dotted)}", src, s, e)
            module.declared.update(alias or name for name, alias in imported_names)
            return
        other = self.load(target, mod_parts[-1], lazy=True)
        if other is None:
            module.declared.update(alias or name for name, alias in imported_names)
            return
        for name, alias in imported:
            local = str(alias.children[0]) if alias is not None else name
            if name not in other.defs:
                error(
                    self.diags,
                    IMPORT,
                    f"grammar module {quote('.'.join(mod_parts))} has no rule {quote(name)}",
                    src,
                    s,
                    e,
                )
                module.declared.add(local)
                continue
            module.imports[local] = (other, name)

    def _resolve(self, src: SourceFile, dots: int, parts: list[str]) -> SourceFile | None:
        rel = Path(*parts[:-1], parts[-1] + ".lark")
        here = Path(src.name).parent if src.name not in ("", "<stdin>") else Path.cwd()
        if dots:
            base = here
            for _ in range(dots - 1):
                base = base.parent
            candidates = [base / rel]
        else:
            # lark's own library first (what `lark` does), then beside the grammar (what
            # `import_paths=[its folder]` gives).
            candidates = [_lark_grammars_dir() / rel, here / rel]
        for path in candidates:
            key = str(path)
            if key in self.modules:
                return self.modules[key].source
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            return SourceFile(key, text)
        return None

    # --- names --------------------------------------------------------------------------

    def _fresh(self, wanted: str, terminal: bool) -> str:
        base = wanted.replace("-", "_")
        base = base.upper() if terminal else base.lower()
        if not base or (terminal and not base.isupper()) or (not terminal and base.isupper()):
            base = ("T_" if terminal else "r_") + base
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def lookup(self, module: _Module, name: str) -> tuple[_Module, _Def] | None:
        """The definition ``name`` refers to in ``module`` (its own, or imported)."""
        if name in module.defs:
            return module, module.defs[name]
        if name in module.imports:
            other, orig = module.imports[name]
            if orig in other.defs:
                return other, other.defs[orig]
        return None

    def ir_name(self, module: _Module, name: str, *, local: str | None = None) -> str | None:
        """The GrammarIR name of ``name`` as seen from ``module``, converting its definition
        on first use (None: undefined)."""
        found = self.lookup(module, name)
        if found is None:
            return None
        other, d = found
        return self._convert(other, d.name, local or name)

    def _convert(self, module: _Module, name: str, wanted: str) -> str:
        key = (id(module), name)
        if key in self.done:
            return self.done[key]
        d = module.defs[name]
        ir = self._fresh(wanted, d.terminal)
        self.done[key] = ir
        self.defs_by_ir[ir] = d
        if d.terminal:
            self.lexemes.add(ir)
        self.pending.append(_Job(module, d, ir))
        return ir

    def instance(
        self, module: _Module, d: _Def, args: tuple[Expr, ...], depth: int, written: str
    ) -> str:
        """The rule for template ``d`` applied to ``args`` (one rule per distinct
        arguments: a template that applies itself to its own parameters is recursive)."""
        key = (id(module), d.name, args)
        if key in self.instances:
            return self.instances[key]
        ir = self._fresh(d.name, False)
        self.instances[key] = ir
        self.defs_by_ir[ir] = d
        assert d.params is not None
        bindings = dict(zip(d.params, args, strict=True))
        self.pending.append(_Job(module, d, ir, bindings, depth, written))
        return ir

    def drain(self) -> None:
        """Convert every definition named so far (iteratively: long chains of rules would
        otherwise recurse deeply)."""
        while self.pending:
            job = self.pending.popleft()
            module, d, ir = job.module, job.d, job.ir
            if module.lazy or d.params is not None:
                for part in d.head:
                    self.head_part(d.source, d.name, d.terminal, part)
            fixed = _COMMON_FIXES.get(d.name) if module.source.name == _lark_common() else None
            if fixed is not None:
                body = fixed
            else:
                body = _Converter(self, module, d, job.bindings, job.depth).expr(d.body)
            span = d.source.span(d.start, d.end)
            self.rules[ir] = Rule(
                name=ir, body=body, lexeme=d.terminal, comment=job.comment, span=span
            )

    def namespaced(self, module: _Module, name: str) -> str:
        """Dependencies of imported definitions get the module's name as a prefix."""
        if module is self.root:
            return name
        prefix = module.namespace.upper() if name.isupper() else module.namespace.lower()
        return f"{prefix}__{name.lstrip('_')}"

    root: _Module


class _Converter:
    def __init__(
        self,
        imp: _Importer,
        module: _Module,
        d: _Def,
        bindings: dict[str, Expr] | None = None,
        depth: int = 0,
    ) -> None:
        self.imp = imp
        self.module = module
        self.d = d
        self.src = module.source
        self.bindings = bindings or {}
        self.depth = depth

    def _err(self, node: object, message: str, code: str = UNSUPPORTED) -> Expr:
        s, e = _pos(node)
        error(self.imp.diags, code, message, self.src, s, e)
        return Empty()

    def expr(self, node: object) -> Expr:
        from lark import Token, Tree

        if isinstance(node, Token):
            return self.name(node)
        assert isinstance(node, Tree)
        kind = str(node.data)
        kids = node.children
        if kind == "expansions":
            return alt([self.expr(k) for k in kids])
        if kind == "alias":
            return self.expr(kids[0])  # `-> name` only renames the parse-tree node
        if kind == "conj":
            if not self.d.terminal:
                return self._err(node, "`&` is only allowed in terminal definitions")
            return And(items=tuple(self.expr(k) for k in kids))
        if kind == "expansion":
            items = [self.expr(k) for k in kids]
            return (
                Empty() if not items else items[0] if len(items) == 1 else Seq(items=tuple(items))
            )
        if kind == "maybe":
            return Repeat(item=self.expr(kids[0]), min=0, max=1)
        if kind == "negation":
            if not self.d.terminal:
                return self._err(node, "`~` negation is only allowed in terminal definitions")
            return Not(item=self.expr(kids[0]))
        if kind == "op":
            op = str(kids[1])
            lo, hi = {"?": (0, 1), "*": (0, None), "+": (1, None)}[op]
            return Repeat(item=self.expr(kids[0]), min=lo, max=hi)
        if kind in ("tilde_repeat", "brace_exact", "brace_range", "brace_min", "brace_max"):
            return self.repeat(node)
        if kind == "name":
            tok = kids[0]
            assert isinstance(tok, Token)
            return self.name(tok)
        if kind == "string":
            return self.string(kids[0])
        if kind == "literal_range":
            return self.literal_range(node)
        if kind == "regexp":
            return self.regexp(kids[0])
        if kind == "special":
            return self.special(node)
        if kind == "json":
            if self.d.terminal:
                return self._err(node, "`%json` is not allowed in terminal definitions")
            tok = kids[0]
            assert isinstance(tok, Token)
            return JsonSchema(schema=self.module.json.get(tok.start_pos or 0, "{}"))
        if kind == "structured_regex":
            return self._err(node, "`%regex { ... }` has no equivalent")
        if kind == "subgrammar":
            return self._err(node, "sub-grammar references `@name` have no equivalent")
        if kind == "template_usage":
            return self.template_usage(node)
        raise AssertionError(f"unknown Lark syntax node {kind}")

    def repeat(self, node: object) -> Expr:
        from lark import Token, Tree

        assert isinstance(node, Tree)
        item = self.expr(node.children[0])
        nums = [
            int(str(t)) for t in node.children[1:] if isinstance(t, Token) and t.type == "NUMBER"
        ]
        if node.data == "brace_min":
            return Repeat(item=item, min=nums[0], max=None)
        if node.data == "brace_max":
            lo, hi = 0, nums[0]
        elif node.data == "brace_exact":
            lo = hi = nums[0]
        else:  # tilde_repeat, brace_range
            lo, hi = nums[0], nums[-1]
        if lo < 0 or hi < lo:
            return self._err(node, f"bad repeat bounds {lo}..{hi}", SYNTAX)
        return Repeat(item=item, min=lo, max=hi)

    def template_usage(self, node: object) -> Expr:
        """``name{arg, ...}``: the template's body with its parameters replaced by the
        arguments (macro expansion, as the ``lark`` package does it)."""
        from lark import Token, Tree

        assert isinstance(node, Tree)
        head, *arg_nodes = node.children
        assert isinstance(head, Token)
        name = str(head)
        if self.d.terminal:
            return self._err(node, "templates are rules: they cannot be used in a terminal")
        found = self.imp.lookup(self.module, name)
        if found is None:
            if name in self.module.declared:
                return Empty()  # already reported where it is introduced
            return self._err(head, f"template {quote(name)} is not defined", UNDEFINED)
        module, d = found
        if d.params is None:
            return self._err(head, f"{quote(name)} is not a template", TEMPLATE)
        if len(arg_nodes) != len(d.params):
            s, e = _pos(node)
            n = len(d.params)
            error(
                self.imp.diags,
                TEMPLATE,
                f"template {quote(name)} takes {n} argument{'s' if n != 1 else ''}, "
                f"{len(arg_nodes)} given",
                self.src,
                s,
                e,
                secondary=(d.source, d.start, d.end, "defined here"),
            )
            return Empty()
        depth = self.depth + 1 if self.bindings else 1
        args = tuple(self.expr(a) for a in arg_nodes)
        if (
            depth > _TEMPLATE_DEPTH
            or len(self.imp.instances) >= _TEMPLATE_INSTANCES
            or _tree_size(args) > _TEMPLATE_ARGUMENT_SIZE
        ):
            if not self.imp.runaway:
                self.imp.runaway = True
                s, e = _pos(node)
                error(
                    self.imp.diags,
                    TEMPLATE,
                    f"template {quote(name)} expands without end: each expansion needs another "
                    "with different arguments",
                    self.src,
                    s,
                    e,
                    help=f"at most {_TEMPLATE_DEPTH} nested and {_TEMPLATE_INSTANCES} "
                    f"distinct expansions are made, with arguments of at most "
                    f"{_TEMPLATE_ARGUMENT_SIZE:,} grammar nodes",
                )
            return Empty()
        s, e = _pos(node)
        written = " ".join(self.src.text[s:e].split())
        if len(written) > 60:
            written = written[:57] + "..."
        ir = self.imp.instance(module, d, args, depth, f"{d.name} applied: {written}")
        return Ref(name=ir)

    def name(self, tok: object) -> Expr:
        from lark import Token

        assert isinstance(tok, Token)
        raw = str(tok).lstrip("!?")
        if raw in self.bindings:
            return self.bindings[raw]
        found = self.imp.lookup(self.module, raw)
        if found is not None and found[1].params is not None:
            message = f"template {quote(raw)} needs arguments: `{raw}{{...}}`"
            return self._err(tok, message, TEMPLATE)
        ir = self.imp.ir_name(self.module, raw, local=self.imp.namespaced(self.module, raw))
        if ir is None:
            if raw in self.module.declared:
                where = self.module.declares.get(raw)
                if where is not None:
                    self.imp.report_declare(self.src, *where)
                return Empty()  # reported at `%declare` or at a failed `%import`
            return self._err(tok, f"{quote(raw)} is not defined", UNDEFINED)
        if self.d.terminal and ir not in self.imp.lexemes:
            return self._err(
                tok, f"terminal {quote(self.d.name)} refers to rule {quote(raw)}", TERMINAL
            )
        return Ref(name=ir)

    def string(self, tok: object) -> Expr:
        from lark import Token

        assert isinstance(tok, Token)
        raw = str(tok)
        insensitive = raw.endswith("i")
        try:
            text = _unescape(raw[1 : -2 if insensitive else -1])
        except ValueError as exc:
            return self._err(tok, str(exc), SYNTAX)
        if not text:
            return Empty()
        if not insensitive:
            return Lit(text=text)
        from ananke.ir.pyregex import parse_python_regex, portable_pattern

        # lark matches it as `(?i:` + re.escape(text) + `)`: Python's case folding.
        expr, _ = parse_python_regex(re.escape(text), "i")
        return expr if isinstance(expr, Lit) else Regex(pattern=portable_pattern(expr))

    def literal_range(self, node: object) -> Expr:
        from lark import Tree

        assert isinstance(node, Tree)
        try:
            a, b = (_unescape(str(t)[1:-1]) for t in node.children)
        except ValueError as exc:
            return self._err(node, str(exc), SYNTAX)
        if len(a) != 1 or len(b) != 1 or ord(a) > ord(b):
            return self._err(node, "a range needs two single characters in order", SYNTAX)
        return CharClass(ranges=((ord(a), ord(b)),))

    def regexp(self, tok: object) -> Expr:
        from lark import Token

        assert isinstance(tok, Token)
        raw = str(tok)
        close = raw.rindex("/")
        body, flags = raw[1:close], raw[close + 1 :]
        base = tok.start_pos or 0
        if "l" in flags:
            i = base + 1 + close + flags.index("l")
            error(
                self.imp.diags, UNSUPPORTED, "regex flag `l` has no equivalent", self.src, i, i + 1
            )
            return Empty()
        return self.python_regex(body, flags, base + 1, base, base + len(raw))

    def python_regex(self, body: str, flags: str, at: int, start: int, end: int) -> Expr:
        """The regex ``body`` (as written between the slashes, from offset ``at``) read as
        the ``lark`` package reads it: its escaping, then Python's ``re``; ``start`` to
        ``end`` is the whole literal."""
        from ananke.ir.pyregex import PythonRegexError, parse_python_regex, portable_pattern

        escaped = _lark_regex_escaping(body)
        if escaped is None:
            error(self.imp.diags, SYNTAX, "invalid escape in regex", self.src, start, end)
            return Empty()
        pattern, offsets = escaped

        def where(pos: int) -> int:
            return at + offsets[max(0, min(pos, len(offsets) - 1))]

        try:
            expr, problems = parse_python_regex(pattern, flags)
        except PythonRegexError as exc:
            # Not Python: llguidance's own dialect (Rust syntax, such as `\p{L}`) is kept
            # as it is, for the engines that read it.
            rust = body.replace("\\/", "/")
            if "x" not in flags and _rust_regex_error(rust) is None:
                return Regex(pattern=rust)
            s = where(exc.pos)
            if exc.message == "unterminated character set":
                message, e = "invalid regex: unterminated character class", end - 1 - len(flags)
            else:
                message, e = f"invalid regex: {exc.message}", s + 1
            error(self.imp.diags, SYNTAX, message, self.src, s, max(e, s + 1))
            return Empty()
        for p in problems:
            error(self.imp.diags, UNSUPPORTED, p.message, self.src, where(p.pos), where(p.end))
        if problems:
            return Empty()
        return Regex(pattern=portable_pattern(expr))

    def special(self, node: object) -> Expr:
        from lark import Token, Tree

        assert isinstance(node, Tree)
        tok = node.children[0]
        assert isinstance(tok, Token)
        raw = str(tok)
        if self.d.terminal:
            return self._err(node, "special tokens are not allowed in terminal definitions")
        if raw.startswith("<["):
            return self._err(
                node, "token ids `<[...]>` have no equivalent: they depend on the tokenizer"
            )
        if raw.startswith("<|"):
            return Special(name=raw[2:-2])
        return self._err(node, f"{quote(raw)} is not a special token `<|name|>`", SYNTAX)


@functools.lru_cache(maxsize=4096)
def _rust_regex_error(pattern: str) -> tuple[bool, str] | None:
    """None when llguidance reads ``pattern``; else whether Python's ``re`` reads it and
    llguidance's one-line complaint."""
    import warnings

    import llguidance

    complaint = str(
        llguidance.LLMatcher.validate_grammar(llguidance.grammar_from("regex", pattern), None)
    )
    if not complaint:
        return None
    lines = [ln.strip() for ln in complaint.splitlines()]
    message = next((ln[len("error: ") :] for ln in lines if ln.startswith("error: ")), lines[0])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except re.error:
        return False, message
    return True, message


def _lark_regex_escaping(body: str) -> tuple[str, list[int]] | None:
    """The pattern the ``lark`` package makes of a regex as written (it evaluates
    ``\\n \\t \\xHH \\uHHHH ...`` as string escapes and keeps the others for ``re``), with
    the offset in ``body`` of each of its characters (one more for the end). None when
    lark refuses the escaping."""
    from lark import load_grammar
    from lark.exceptions import GrammarError

    eval_escaping: Callable[[str], str] = load_grammar.eval_escaping
    try:
        pattern = eval_escaping(body)
    except (GrammarError, ValueError, SyntaxError):
        return None
    offsets: list[int] = []
    i = 0
    while i < len(body):
        if body[i] != "\\" or i + 1 == len(body):
            offsets.append(i)
            i += 1
            continue
        c = body[i + 1]
        width = {"x": 2, "u": 4, "U": 8}.get(c)
        if width is not None or c in 'nftr"':
            offsets.append(i)
            i += 2 + (width or 0)
        else:
            offsets.extend((i, i + 1))
            i += 2
    offsets.append(len(body))
    if len(offsets) != len(pattern) + 1:
        offsets = [0] * (len(pattern) + 1)  # escaping lark itself reads oddly: no places
    return pattern, offsets


def _describe_token(kind: str, value: str) -> str:
    if kind == "$END":
        return "end of file"
    if kind in ("_NL", "_VBAR") and not value.strip("\r\n\t |"):
        return "end of line" if kind == "_NL" else "`|`"
    text = value.strip()
    return quote(text.split("\n", 1)[0] + ("\u2026" if "\n" in text else ""), limit=40)


def _pos(node: object) -> tuple[int, int]:
    from lark import Token, Tree

    if isinstance(node, Token):
        return node.start_pos or 0, node.end_pos or 0
    assert isinstance(node, Tree)
    return node.meta.start_pos, node.meta.end_pos


_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "f": "\f",
    "v": "\v",
    "a": "\a",
    "b": "\b",
    "0": "\0",
    "\\": "\\",
    '"': '"',
    "'": "'",
}
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)


_MAX_DEPTH = 200
"""Levels of a parse tree converted (recursively); deeper nesting is an error."""


def _too_deep(tree: object) -> object | None:
    """The first node of ``tree`` below :data:`_MAX_DEPTH` levels, or None."""
    from lark import Tree

    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return node
        if isinstance(node, Tree):
            stack.extend((kid, depth + 1) for kid in node.children)
    return None


def _unescape(text: str) -> str:
    """A Lark string literal's escapes, as lark reads them (unknown escapes keep the
    backslash)."""

    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if len(e) > 1:
            cp = int(e[1:], 16)
            # A target would print it as text UTF-8 cannot encode (ValueError: reported).
            if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                kind = "a surrogate" if cp <= 0x10FFFF else "beyond Unicode"
                raise ValueError(f"`\\{e}` is {kind}, not a character: no UTF-8 text contains it")
            return chr(cp)
        return _ESCAPES.get(e, "\\" + e)

    return _ESCAPE.sub(one, text)


def _lower_ignore(imp: _Importer, start: str, ignores: list[Expr], where: Span) -> None:
    """llguidance skips ignored lexemes between any two lexemes and at both ends: insert
    ``IGNORE*`` before every lexeme a CFG rule uses and at the end of the start rule."""
    name = imp._fresh("IGNORE", True)
    imp.rules[name] = Rule(name=name, body=alt(ignores), lexeme=True, comment="%ignore", span=where)
    skip = Repeat(item=Ref(name=name))

    def rewrite(expr: Expr) -> Expr:
        if isinstance(expr, Lit | Regex | CharClass) or (
            isinstance(expr, Ref) and expr.name in imp.lexemes
        ):
            return Seq(items=(skip, expr))
        if isinstance(expr, Seq):
            return Seq(items=tuple(map(rewrite, expr.items)))
        if isinstance(expr, Alt):
            return alt(list(map(rewrite, expr.items)))
        if isinstance(expr, Repeat):
            return Repeat(item=rewrite(expr.item), min=expr.min, max=expr.max)
        return expr

    for rname, rule in list(imp.rules.items()):
        if rule.lexeme:
            continue
        body = rewrite(rule.body)
        if rname == start:
            body = Seq(items=(body, skip))
        imp.rules[rname] = msgspec.structs.replace(rule, body=body)


def import_lark(source: SourceFile, diags: Diagnostics, *, start: str = "start") -> Grammar | None:
    local = Diagnostics()
    try:
        return _import_lark(source, local, start)
    finally:
        # A template's body is converted once per distinct arguments: its diagnostics
        # would repeat.
        seen: set[tuple[str, str, str, int, int]] = set()
        for d in local:
            span = d.primary_span
            key = (d.code, d.message, *((span.file, span.start, span.end) if span else ("", 0, 0)))
            if key not in seen:
                seen.add(key)
                diags.add(d)


def _import_lark(source: SourceFile, diags: Diagnostics, start: str) -> Grammar | None:
    before = 0
    imp = _Importer(diags)
    if start != "start":
        # Printers write `start: <start rule>` first when the start rule has another name:
        # a rule of the grammar called `start` must then give way.
        imp.taken.add("start")
    module = imp.load(source, "")
    if module is None:
        return None
    imp.root = module
    # The user's own definitions first and in order, then what they pull in.
    for name, d in module.defs.items():
        if d.params is None:  # a template is expanded where it is applied
            imp.ir_name(module, name)
    imp.drain()
    ignores: list[Expr] = []
    for tree, src in module.ignores:
        fake = _Def("%ignore", True, tree, src, 0, 0, module)
        ignores.append(_Converter(imp, module, fake).expr(tree))
    imp.drain()
    _check_terminals(imp, source, diags)
    found = imp.lookup(module, start)
    if found is not None and found[1].params is not None:
        d = found[1]
        message = f"the start rule {quote(start)} is a template: it needs arguments"
        error(diags, TEMPLATE, message, d.source, d.start, d.end)
        return None
    start_ir = imp.ir_name(module, start)
    if start_ir is None:
        missing_start(diags, source, start)
    if sum(1 for d in diags if d.severity == "error") > before or start_ir is None:
        return None
    if ignores:
        tree, src = module.ignores[0]
        _lower_ignore(imp, start_ir, ignores, src.span(*_pos(tree)))
    return Grammar(start=start_ir, rules=tuple(imp.rules.values()))


def _check_terminals(imp: _Importer, source: SourceFile, diags: Diagnostics) -> None:
    """Terminals are regular: a terminal that refers back to itself is an error."""
    graph = {n: refs(r.body) for n, r in imp.rules.items() if r.lexeme}
    state: dict[str, int] = {}

    def visit(n: str) -> bool:
        state[n] = 1
        for m in graph.get(n, ()):
            if state.get(m) == 1 or (state.get(m) is None and m in graph and visit(m)):
                return True
        state[n] = 2
        return False

    for n in graph:
        if state.get(n) is None and visit(n):
            d = imp.defs_by_ir[n]
            error(
                diags,
                TERMINAL,
                f"terminal {quote(d.name)} refers to itself",
                d.source,
                d.start,
                d.end,
            )
            return
