"""Lark grammars (the ``lark`` package's dialect and llguidance's) -> GrammarIR.

The grammar's meaning is llguidance's: UPPERCASE names are lexemes, lowercase names CFG
rules, string literals and regexes in rules are lexemes. ``?rule``, ``!rule``, ``_rule``
and aliases ``-> name`` only shape lark's parse tree: they are dropped. Every construct
without an equivalent is reported where it is written.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ananke.ir.diagnostics import Diagnostics
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
from ananke.ir.source import SourceFile

from ._common import (
    DUPLICATE,
    IGNORED,
    IMPORT,
    SYNTAX,
    TERMINAL,
    UNDEFINED,
    UNSUPPORTED,
    alt,
    error,
    missing_start,
    warning,
)

__all__ = ["import_lark"]

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


@dataclass
class _Module:
    source: SourceFile
    namespace: str
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
        self.pending: list[tuple[_Module, _Def, str]] = []

    # --- reading files ------------------------------------------------------------------

    def load(self, source: SourceFile, namespace: str) -> _Module | None:
        import lark

        key = source.name
        if key in self.modules:
            return self.modules[key]
        module = _Module(source=source, namespace=namespace)
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
        elif kind == "declare":
            names = [c for c in item.children if isinstance(c, Tree)]
            for n in names:
                tok = n.children[0]
                assert isinstance(tok, Token)
                module.declared.add(str(tok))
            error(
                self.diags,
                UNSUPPORTED,
                "`%declare` has no equivalent: declared terminals are produced by a custom "
                "lexer or postlexer that a grammar engine does not run",
                src,
                item.meta.start_pos,
                item.meta.end_pos,
            )
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
        for child in item.children[1:-1]:
            assert isinstance(child, Tree)
            self._head_part(src, name, terminal, child)
            if child.data == "template_params":
                return
        start, end = head.start_pos or 0, head.end_pos or 0
        old = module.defs.get(name)
        if replace == "extend":
            if old is None and name in module.imports:
                message = f"`%extend` of imported `{name}` is not supported: copy its definition"
                error(self.diags, UNSUPPORTED, message, src, start, end)
                module.declared.add(name)
                return
            if old is None:
                error(self.diags, UNDEFINED, f"`%extend` of undefined `{name}`", src, start, end)
                return
            body = Tree("expansions", [old.body, body])
        elif replace == "override":
            if old is None and name in module.imports:
                del module.imports[name]  # the local definition replaces the imported one
            elif old is None:
                error(self.diags, UNDEFINED, f"`%override` of undefined `{name}`", src, start, end)
                return
        elif old is not None:
            error(
                self.diags,
                DUPLICATE,
                f"`{name}` is defined twice",
                src,
                start,
                end,
                secondary=(old.source, old.start, old.end, "first defined here"),
            )
            return
        module.defs[name] = _Def(name, terminal, body, src, start, end, module)

    def _head_part(self, src: SourceFile, name: str, terminal: bool, part: object) -> None:
        from lark import Token, Tree

        assert isinstance(part, Tree)
        s, e = part.meta.start_pos, part.meta.end_pos
        if part.data == "template_params":
            error(self.diags, UNSUPPORTED, f"template `{name}` has no equivalent", src, s, e)
        elif part.data == "priority":
            if terminal:
                warning(
                    self.diags,
                    IGNORED,
                    f"priority of terminal `{name}` ignored: llguidance's lexer has no "
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
                    f"lexeme option `{key}` has no equivalent",
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
            error(self.diags, IMPORT, f"cannot find grammar module `{dotted}`", src, s, e)
            module.declared.update(alias or name for name, alias in imported_names)
            return
        other = self.load(target, mod_parts[-1])
        if other is None:
            module.declared.update(alias or name for name, alias in imported_names)
            return
        for name, alias in imported:
            local = str(alias.children[0]) if alias is not None else name
            if name not in other.defs:
                error(
                    self.diags,
                    IMPORT,
                    f"grammar module `{'.'.join(mod_parts)}` has no rule `{name}`",
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

    def ir_name(self, module: _Module, name: str, *, local: str | None = None) -> str | None:
        """The GrammarIR name of ``name`` as seen from ``module``, converting its definition
        on first use (None: undefined)."""
        if name not in module.defs and name in module.imports:
            other, orig = module.imports[name]
            return self._convert(other, orig, local or name)
        if name not in module.defs:
            return None
        return self._convert(module, name, local or name)

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
        self.pending.append((module, d, ir))
        return ir

    def drain(self) -> None:
        """Convert every definition named so far (iteratively: long chains of rules would
        otherwise recurse deeply)."""
        while self.pending:
            module, d, ir = self.pending.pop(0)
            fixed = _COMMON_FIXES.get(d.name) if module.source.name == _lark_common() else None
            body = fixed if fixed is not None else _Converter(self, module, d).expr(d.body)
            self.rules[ir] = Rule(name=ir, body=body, lexeme=d.terminal)

    def namespaced(self, module: _Module, name: str) -> str:
        """Dependencies of imported definitions get the module's name as a prefix."""
        if module is self.root:
            return name
        prefix = module.namespace.upper() if name.isupper() else module.namespace.lower()
        return f"{prefix}__{name.lstrip('_')}"

    root: _Module


class _Converter:
    def __init__(self, imp: _Importer, module: _Module, d: _Def) -> None:
        self.imp = imp
        self.module = module
        self.d = d
        self.src = module.source

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
            return self._err(node, "template instantiation has no equivalent")
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

    def name(self, tok: object) -> Expr:
        from lark import Token

        assert isinstance(tok, Token)
        raw = str(tok).lstrip("!?")
        ir = self.imp.ir_name(self.module, raw, local=self.imp.namespaced(self.module, raw))
        if ir is None:
            if raw in self.module.declared:
                return Empty()  # already reported at `%declare`
            return self._err(tok, f"`{raw}` is not defined", UNDEFINED)
        if self.d.terminal and ir not in self.imp.lexemes:
            return self._err(tok, f"terminal `{self.d.name}` refers to rule `{raw}`", TERMINAL)
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
        return self._err(node, f"`{raw}` is not a special token `<|name|>`", SYNTAX)


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
    if "\n" in text or len(text) > 40:
        text = text.split("\n", 1)[0][:40] + "..."
    return f"`{text}`"


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


def _lower_ignore(imp: _Importer, start: str, ignores: list[Expr]) -> None:
    """llguidance skips ignored lexemes between any two lexemes and at both ends: insert
    ``IGNORE*`` before every lexeme a CFG rule uses and at the end of the start rule."""
    name = imp._fresh("IGNORE", True)
    imp.rules[name] = Rule(name=name, body=alt(ignores), lexeme=True, comment="%ignore")
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
        imp.rules[rname] = Rule(name=rname, body=body, comment=rule.comment)


def import_lark(source: SourceFile, diags: Diagnostics, *, start: str = "start") -> Grammar | None:
    before = sum(1 for d in diags if d.severity == "error")
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
    for name in module.defs:
        imp.ir_name(module, name)
    imp.drain()
    ignores: list[Expr] = []
    for tree, src in module.ignores:
        fake = _Def("%ignore", True, tree, src, 0, 0, module)
        ignores.append(_Converter(imp, module, fake).expr(tree))
    imp.drain()
    _check_terminals(imp, source, diags)
    start_ir = imp.ir_name(module, start)
    if start_ir is None:
        missing_start(diags, source, start)
    if sum(1 for d in diags if d.severity == "error") > before or start_ir is None:
        return None
    if ignores:
        _lower_ignore(imp, start_ir, ignores)
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
                diags, TERMINAL, f"terminal `{d.name}` refers to itself", d.source, d.start, d.end
            )
            return
