"""Checking and lowering: :class:`FileAst` → ConstraintIR :class:`Module`.

One pass over the blocks: name resolution (schemas, duplicate definitions), value shapes,
value ranges, duplicate and unknown properties, and agreement between ``signature`` and
``name``/``params``/``returns``. Every problem is a diagnostic on the narrowest span; the
module is returned only when there is no error.
"""

from __future__ import annotations

import difflib
import keyword
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import msgspec
from ananke.ir.constraint import (
    CODE_PROPERTIES,
    LIMIT_CAPS,
    MAX_PRIORITY,
    Constraint,
    ConstraintSet,
    Doc,
    Example,
    Forbid,
    FunctionName,
    ImportPolicy,
    Language,
    Limit,
    LimitMetric,
    Matches,
    Module,
    Naming,
    NamingScope,
    NamingStyle,
    OutputGrammar,
    Param,
    Params,
    Require,
    Returns,
    Schema,
    SchemaField,
    Signature,
    SourceProvenance,
    TypeExpr,
    Validates,
)
from ananke.ir.diagnostics import Diagnostics, Label, quote
from ananke.ir.lower.language import supported
from ananke.ir.source import SourceFile, Span
from ananke.ir.verify import python_default

from ._ast import (
    Annotation,
    ConstraintBlock,
    Entry,
    ExampleItem,
    FileAst,
    Ident,
    ImportItem,
    LetItem,
    ListValue,
    NumberValue,
    ObjectValue,
    ParamsValue,
    Property,
    SchemaBlock,
    SignatureValue,
    StringValue,
    TypeValue,
    Value,
)

__all__ = ["LIMIT_CAPS", "PROPERTIES", "LetBinding", "Scope", "check"]

_NEVER_REJECT = frozenset({"doc", "note", "language"})
"""Properties that constrain nothing an example could break."""
_LIST_PROPERTIES = frozenset({"forbid", "require"})
"""Properties with one constraint per item (``forbid.eval``)."""


NAMING_STYLES: tuple[NamingStyle, ...] = ("snake", "camel", "pascal", "screaming")
NAMING_SCOPES: tuple[NamingScope, ...] = ("signature", "all")
NAMING_KEYS = ("style", "pattern", "scope")

_ANNOTATIONS = ("soft", "hard", "priority")
_NOT_CONSTRAINTS = frozenset({"language"})


_DOTTED_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_ATTRIBUTE_RE = re.compile(r"\.[A-Za-z_][A-Za-z0-9_]*\Z")
"""``forbid``'s attribute of any object: ``.__globals__``."""


def _kind_of(v: Value) -> str:
    if isinstance(v, TypeValue):
        if v.args:
            return "a type"
        return "a name" if v.is_plain_name else "a dotted name"
    if isinstance(v, StringValue):
        return "a string"
    if isinstance(v, NumberValue):
        return "an integer" if v.is_int else "a decimal number"
    if isinstance(v, ListValue):
        return "a list"
    if isinstance(v, ObjectValue):
        return "an object"
    if isinstance(v, ParamsValue):
        return "a parameter list"
    return "a signature"


@dataclass
class _Block:
    """State while checking one constraint block."""

    name: str
    seen: dict[str, Property] = field(default_factory=dict)
    out: list[Constraint] = field(default_factory=list)
    language: Language = "python"


@dataclass(frozen=True)
class LetBinding:
    """A ``let`` value as a property may use it: the value and the file it is written in."""

    source: SourceFile
    value: Value
    library: bool


class _Checker:
    def __init__(
        self,
        source: SourceFile,
        diags: Diagnostics,
        schemas: dict[str, SchemaBlock],
        scope: Scope | None = None,
    ):
        self.source = source
        self.diags = diags
        self.schemas = schemas
        self.scope = scope or Scope()
        self.library = self.scope.library
        """Whether spans are in an imported file; switched while a ``let`` is read."""

    # --- helpers ----------------------------------------------------------------------

    def span(self, node: Ident | Value | Property | Annotation) -> Span:
        return self.source.span(node.start, node.end)

    def label(self, node: Ident | Value | Property | Annotation, message: str = "") -> Label:
        return Label(span=self.span(node), message=message)

    def prov(self, node: Ident | Value | Property) -> SourceProvenance:
        return SourceProvenance(span=self.span(node), library=self.library)

    def let_value(self, v: Value) -> LetBinding | None:
        """The ``let`` a bare or dotted name refers to, if it names one."""
        if isinstance(v, TypeValue) and not v.args:
            return self.scope.lets.get(v.name)
        return None

    def mismatch(self, prop: Property, expected: str, example: str) -> None:
        self.diags.error(
            "type-mismatch",
            f"`{prop.name.text}` expects {expected}, found {_kind_of(prop.value)}",
            self.label(prop.value, f"expected {expected}"),
            help=f"for example `{example}`",
        )

    def invalid(
        self, node: Ident | Value, message: str, label: str = "", help: str | None = None
    ) -> None:
        self.diags.error("invalid-value", message, self.label(node, label), help=help)

    def type_expr(self, t: TypeValue) -> TypeExpr:
        return TypeExpr(name=t.name, args=tuple(self.type_expr(a) for a in t.args))

    def identifier(self, ident: Ident, what: str) -> bool:
        if keyword.iskeyword(ident.text):
            self.invalid(ident, f"`{ident.text}` is a Python keyword and cannot be {what}")
            return False
        return True

    def regex(self, lit: StringValue) -> bool:
        try:
            with warnings.catch_warnings():
                # e.g. FutureWarning "possible nested set": valid today, not our concern.
                warnings.simplefilter("ignore")
                re.compile(lit.value)
        except re.error as err:
            where = f" at position {err.pos} of the pattern" if err.pos is not None else ""
            self.diags.error(
                "invalid-regex",
                f"invalid regular expression: {err.msg}{where}",
                self.label(lit, "this pattern"),
                help="patterns use Python `re` syntax; write a backslash as \\\\ "
                'or use a raw string r"..."',
            )
            return False
        except (OverflowError, RecursionError, ValueError) as err:
            self.diags.error("invalid-regex", f"invalid regular expression: {err}", self.label(lit))
            return False
        from ananke.ir.pyre import UnsupportedPattern, compile_pattern

        try:
            compile_pattern(lit.value)
        except UnsupportedPattern as err:
            self.diags.error(
                "unsupported-regex",
                f"this pattern cannot be checked in linear time: {err.reason}",
                self.label(lit, "this pattern"),
                help="use smaller counts: `x{m,n}` is matched with n copies of `x`"
                if err.too_large
                else "the post checks match without backtracking: write the pattern without "
                "backreferences, conditionals, atomic groups and possessive quantifiers",
            )
            return False
        return True

    def names(
        self, prop: Property, v: Value, what: str, *, allow_empty: bool
    ) -> list[tuple[str, SourceProvenance]] | None:
        """A list of identifier or dotted-name strings; None if it is not one.

        The list, or any item of it, may be the name of a ``let`` holding such a list (in
        this file or an imported one): its names are spliced in, each with the provenance
        of where it is written.
        """
        key = prop.name.text
        binding = self.let_value(v)
        if binding is not None:
            return self.let_names(binding, prop, what, allow_empty=allow_empty)
        if not isinstance(v, ListValue):
            shown = "eval"
            if isinstance(v, TypeValue) and not v.args:
                shown = quote(v.name, ticks=False)
            elif isinstance(v, StringValue) and _DOTTED_RE.match(v.value):
                shown = quote(v.value, ticks=False)
            example = f'{key}: ["{shown}"];'
            self.diags.error(
                "type-mismatch",
                f"`{key}` expects a list of strings, found {_kind_of(v)}",
                self.label(v, "expected a list of strings"),
                help=f"for example `{example}`",
            )
            return None
        if not v.items and not allow_empty:
            self.invalid(v, f"`{key}: []` names nothing", help=f"list at least one {what}")
            return None
        out: list[tuple[str, SourceProvenance]] = []
        firsts: dict[str, SourceProvenance] = {}
        ok = True
        for item in v.items:
            binding = self.let_value(item)
            if binding is not None:
                spliced = self.let_names(binding, prop, what, allow_empty=True)
                if spliced is None:
                    ok = False
                for name, where in spliced or ():
                    if name not in firsts:
                        firsts[name] = where
                        out.append((name, where))
                continue
            if not isinstance(item, StringValue):
                hint = quote(item.name, ticks=False) if isinstance(item, TypeValue) else "name"
                self.diags.error(
                    "type-mismatch",
                    f"`{key}` items are strings, found {_kind_of(item)}",
                    self.label(item, "expected a string"),
                    help=f'write `"{hint}"`',
                )
                ok = False
                continue
            attribute = key == "forbid" and _ATTRIBUTE_RE.match(item.value) is not None
            if not (_DOTTED_RE.match(item.value) or attribute):
                bare = item.value.removeprefix(".") if key == "forbid" else item.value
                non_ascii = not bare.isascii() and all(p.isidentifier() for p in bare.split("."))
                expected = "expected a name like `eval` or `os.system`"
                help = None
                if non_ascii:
                    help = (
                        "names in these lists are ASCII; Python reads other spellings "
                        "through NFKC, which `forbid` covers (`ｅval` is `eval`)"
                    )
                elif key == "forbid":
                    expected = "expected a name like `eval`, `os.system` or `.__globals__`"
                    if item.value.startswith("."):
                        help = "an attribute is one name after the dot: `.__globals__`"
                elif item.value.startswith(".") and _ATTRIBUTE_RE.match(item.value):
                    help = "only `forbid` takes an attribute of any object (`.name`)"
                self.invalid(
                    item,
                    f"{quote(item.value)} is not an ASCII identifier or dotted name"
                    if non_ascii
                    else f"{quote(item.value)} is not an identifier or dotted name",
                    expected,
                    help=help,
                )
                ok = False
                continue
            if key == "forbid" and item.value == "def":
                self.invalid(
                    item,
                    "`def` cannot be forbidden: every output is a function definition, whose "
                    "own `def` line spells it",
                    "no function can do without it",
                    help='remove "def": nested functions cannot be forbidden apart from the '
                    "function itself",
                )
                ok = False
                continue
            if item.value in firsts:
                self.diags.warning(
                    "duplicate-item",
                    f"{quote(item.value)} is listed twice in `{key}`",
                    self.label(item, "listed again here"),
                    Label(span=firsts[item.value].span, message="first listed here", primary=False),
                    help="remove the repeated entry",
                )
                continue
            firsts[item.value] = self.prov(item)
            out.append((item.value, firsts[item.value]))
        return out if ok else None

    def let_names(
        self, binding: LetBinding, prop: Property, what: str, *, allow_empty: bool
    ) -> list[tuple[str, SourceProvenance]] | None:
        """:meth:`names` of a ``let`` value, with spans and provenance in the let's file."""
        saved = self.source, self.library
        self.source, self.library = binding.source, binding.library
        try:
            return self.names(prop, binding.value, what, allow_empty=allow_empty)
        finally:
            self.source, self.library = saved

    # --- properties -------------------------------------------------------------------

    def p_language(self, b: _Block, prop: Property) -> None:
        v = prop.value
        if not (isinstance(v, TypeValue) and v.is_plain_name):
            self.mismatch(prop, "a language name", "language: python;")
            return
        if v.name not in supported():
            self.diags.error(
                "unsupported-language",
                f"unsupported language {quote(v.name)}",
                self.label(v, "not supported"),
                help=f"supported languages: {', '.join(supported())}",
            )
            return
        b.language = cast(Language, v.name)

    def p_grammar(self, b: _Block, prop: Property) -> None:
        from ananke.frontends.grammars import DIALECTS, dialect_for_path, import_grammar

        v = prop.value
        example = 'grammar: "answer.lark";'
        if isinstance(v, StringValue):
            dialect = dialect_for_path(v.value)
            if dialect is None:
                self.invalid(
                    v,
                    f"cannot tell the dialect of grammar file {quote(v.value)}",
                    "no .lark, .gbnf or .ebnf extension",
                    help='rename the file, or embed the grammar: `grammar: { lark: r"..." };`',
                )
                return
            source = self._grammar_file(v)
            file: str | None = v.value
        elif (
            isinstance(v, ObjectValue)
            and len(v.entries) == 1
            and v.entries[0].key.text in DIALECTS
            and isinstance(v.entries[0].value, StringValue)
        ):
            dialect = v.entries[0].key.text
            source = self._embedded(v.entries[0].value)
            file = None
        else:
            self.mismatch(prop, "a grammar file name or `{ lark|gbnf|ebnf: TEXT }`", example)
            return
        if source is None:
            return
        grammar = import_grammar(source, dialect, self.diags)
        if grammar is not None:
            b.out.append(
                OutputGrammar(
                    id=f"{b.name}.grammar",
                    provenance=self.prov(prop),
                    dialect=dialect,
                    grammar=grammar,
                    file=file,
                )
            )

    def _grammar_file(self, v: StringValue) -> SourceFile | None:
        """The grammar file ``v`` names, relative to the ``.ariadne`` file's folder."""
        return self._relative_file(v, "grammar file")

    def _relative_file(self, v: StringValue, what: str) -> SourceFile | None:
        """The file ``v`` names, relative to the ``.ariadne`` file's folder (reported as
        ``unreadable-file`` when it is not there)."""
        import pathlib

        from ._source import read_source

        if any(ch in v.value for ch in "\n\r\0"):
            self.invalid(v, f"{what} names are one line, with no NUL", "not a file name")
            return None
        path = pathlib.Path(self.source.name).parent / v.value
        try:
            missing = "not found" if not path.exists() else ""
        except OSError as e:  # a name the file system refuses (too long, say)
            missing = f"cannot be read: {e.strerror or type(e).__name__}"
        if missing:
            self.diags.error(
                "unreadable-file",
                f"{what} {quote(v.value)} {missing}",
                self.label(v, f"looked for {quote(path.as_posix(), ticks=False)}"),
                help="paths are relative to the folder of this .ariadne file",
            )
            return None
        return read_source(path, self.diags)

    def _embedded(self, v: StringValue) -> SourceFile:
        """An embedded grammar as a source. When the literal holds no escapes, the text is
        this file with everything else blanked out, so that spans in the grammar point
        into this file; otherwise it is a file of its own."""
        literal = self.source.text[v.start : v.end]
        if literal.startswith(('"""', "#")):  # a text block: its indentation is removed
            line = self.source.span(v.start, v.end).line
            return SourceFile(name=f"{self.source.name} (grammar at line {line})", text=v.value)
        body = literal.lstrip("rR")
        delimiter = '"""' if body.startswith('"""') else body[:1]
        inner_start = v.start + (len(literal) - len(body)) + len(delimiter)
        inner_end = v.end - len(delimiter)
        if self.source.text[inner_start:inner_end] == v.value:
            text = self.source.text
            blank = "".join(ch if ch == "\n" else " " for ch in text)
            return SourceFile(
                name=self.source.name,
                text=blank[:inner_start] + text[inner_start:inner_end] + blank[inner_end:],
            )
        line = self.source.span(v.start, v.end).line
        return SourceFile(name=f"{self.source.name} (grammar at line {line})", text=v.value)

    def p_name(self, b: _Block, prop: Property) -> None:
        v = prop.value
        if not (isinstance(v, TypeValue) and v.is_plain_name):
            self.mismatch(prop, "a function name", "name: handle_request;")
            return
        if self.identifier(v.parts[0], "a function name"):
            b.out.append(FunctionName(id=f"{b.name}.name", provenance=self.prov(prop), name=v.name))

    def params(self, pv: ParamsValue) -> tuple[Param, ...] | None:
        out: list[Param] = []
        ok = True
        keyword_only = False
        seen: dict[str, Ident] = {}
        star_at: int | None = None
        had_default = False
        for i, p in enumerate(pv.params):
            if p.kind == "var_keyword" and i != len(pv.params) - 1:
                self.invalid(p.name or pv, "`**` parameter must come last", "not last")
                ok = False
            if p.kind == "var_positional":
                if keyword_only:
                    self.invalid(p.name or pv, "only one `*` is allowed in a parameter list")
                    ok = False
                keyword_only = True
                star_at = i
                if p.name is None:
                    continue
            if p.name is None:  # pragma: no cover - the grammar gives every other kind a name
                continue
            if not self.identifier(p.name, "a parameter name"):
                ok = False
            if p.name.text in seen:
                self.diags.error(
                    "invalid-value",
                    f"parameter {quote(p.name.text)} appears twice",
                    self.label(p.name, "again here"),
                    Label(span=self.span(seen[p.name.text]), message="first here", primary=False),
                )
                ok = False
            seen[p.name.text] = p.name
            kind = p.kind
            if kind == "positional" and keyword_only:
                kind = "keyword_only"
            if kind == "positional":
                if p.default is not None:
                    had_default = True
                elif had_default:
                    self.invalid(
                        p.name,
                        f"parameter {quote(p.name.text)} without a default follows one with a "
                        "default",
                    )
                    ok = False
            default = (
                self.source.text[p.default.start : p.default.end] if p.default is not None else None
            )
            if p.default is not None and default is not None and not python_default(default):
                self.diags.error(
                    "invalid-value",
                    f"the default of {quote(p.name.text)} is not a Python expression",
                    Label(
                        span=self.source.span(p.default.start, p.default.end),
                        message="the code must write this default as it is written here",
                    ),
                    help="write the default as Python writes it (a string escape such as "
                    '`"\\u{1F600}"` is `"\\U0001F600"` in Python)',
                )
                ok = False
            out.append(
                Param(
                    name=p.name.text,
                    type=self.type_expr(p.type) if p.type is not None else None,
                    default=default,
                    kind=kind,  # type: ignore[arg-type]
                )
            )
        if star_at is not None:
            bare = pv.params[star_at]
            if (bare.name is None and star_at == len(pv.params) - 1) or (
                bare.name is None and pv.params[star_at + 1].kind == "var_keyword"
            ):
                self.diags.error(
                    "invalid-value",
                    "a bare `*` must be followed by a keyword-only parameter",
                    Label(span=self.source.span(bare.start, bare.end)),
                )
                ok = False
        return tuple(out) if ok else None

    def p_params(self, b: _Block, prop: Property) -> None:
        v = prop.value
        if not isinstance(v, ParamsValue):
            self.mismatch(
                prop, "a parameter list", "params: (request: Request, *, timeout: float = 1.0);"
            )
            return
        params = self.params(v)
        if params is not None:
            b.out.append(Params(id=f"{b.name}.params", provenance=self.prov(prop), params=params))

    def p_signature(self, b: _Block, prop: Property) -> None:
        v = prop.value
        if not isinstance(v, SignatureValue):
            self.mismatch(prop, "a signature", "signature: handle(request: Request) -> Response;")
            return
        params = self.params(v.params)
        if not self.identifier(v.name, "a function name") or params is None:
            return
        b.out.append(
            Signature(
                id=f"{b.name}.signature",
                provenance=self.prov(prop),
                name=v.name.text,
                params=params,
                returns=self.type_expr(v.returns) if v.returns is not None else None,
                is_async=v.is_async,
            )
        )

    def p_returns(self, b: _Block, prop: Property) -> None:
        v = prop.value
        if not isinstance(v, TypeValue):
            self.mismatch(prop, "a type", "returns: Result<Response, Error>;")
            return
        b.out.append(
            Returns(id=f"{b.name}.returns", provenance=self.prov(prop), type=self.type_expr(v))
        )

    def _names(self, b: _Block, prop: Property, cls: type[Forbid] | type[Require]) -> None:
        key = prop.name.text
        items = self.names(prop, prop.value, "name", allow_empty=False)
        for name, where in items or ():
            b.out.append(cls(id=f"{b.name}.{key}.{name}", provenance=where, name=name))

    def p_forbid(self, b: _Block, prop: Property) -> None:
        self._names(b, prop, Forbid)

    def p_require(self, b: _Block, prop: Property) -> None:
        self._names(b, prop, Require)

    def _limit(self, b: _Block, prop: Property, metric: LimitMetric) -> None:
        key = prop.name.text
        v = prop.value
        if not (isinstance(v, NumberValue) and v.is_int):
            self.mismatch(prop, "a positive integer", f"{key}: 100;")
            return
        digits = v.text.replace("_", "")
        cap = LIMIT_CAPS[metric]
        value = -1 if len(digits) > 18 else int(digits)
        if v.negative or value == 0:
            shown = quote(f"-{v.text}" if v.negative else v.text, ticks=False)
            why = "allows no output" if value == 0 else "is not a size"
            self.invalid(v, f"`{key}: {shown}` {why}; a limit is at least 1", "must be at least 1")
            return
        if value < 0 or value > cap:
            found = quote(digits, ticks=False)
            self.invalid(v, f"`{key}` is at most {cap:,}, found {found}", f"at most {cap:,}")
            return
        b.out.append(
            Limit(id=f"{b.name}.{key}", provenance=self.prov(prop), metric=metric, max=value)
        )

    def p_max_lines(self, b: _Block, prop: Property) -> None:
        self._limit(b, prop, "lines")

    def p_max_chars(self, b: _Block, prop: Property) -> None:
        self._limit(b, prop, "chars")

    def p_max_tokens(self, b: _Block, prop: Property) -> None:
        self._limit(b, prop, "tokens")

    def p_naming(self, b: _Block, prop: Property) -> None:
        v = prop.value
        ident = f"{b.name}.naming"
        if isinstance(v, ObjectValue):
            self._naming_object(b, prop, v)
            return
        if isinstance(v, StringValue):
            if self.regex(v):
                b.out.append(Naming(id=ident, provenance=self.prov(prop), pattern=v.value))
            return
        if not (isinstance(v, TypeValue) and v.is_plain_name):
            self.mismatch(prop, "a naming style or a regex string", "naming: snake;")
            return
        style = self.naming_style(v)
        if style is not None:
            b.out.append(Naming(id=ident, provenance=self.prov(prop), style=style))

    def naming_style(self, v: TypeValue) -> NamingStyle | None:
        if v.name in NAMING_STYLES:
            return v.name
        suggestion = _did_you_mean(v.name, NAMING_STYLES)
        styles = ", ".join(NAMING_STYLES)
        self.invalid(
            v,
            f"unknown naming style {quote(v.name)}",
            "unknown style",
            help=(f"{suggestion} " if suggestion else "") + f"styles: {styles}, or a regex string",
        )
        return None

    def _naming_object(self, b: _Block, prop: Property, v: ObjectValue) -> None:
        """``naming: { style: snake, scope: all };`` (or ``pattern: r"..."``)."""
        example = "naming: { style: snake, scope: all };"
        given: dict[str, Entry] = {}
        ok = True
        for entry in v.entries:
            key = entry.key.text
            if key not in NAMING_KEYS:
                self.invalid(
                    entry.key,
                    f"unknown key {quote(key)} in `naming`",
                    "unknown key",
                    help=_did_you_mean(key, NAMING_KEYS)
                    or "the keys are `style` or `pattern`, and `scope`",
                )
                ok = False
            elif key in given:
                self.diags.error(
                    "duplicate-property",
                    f"`{key}` is given twice in `naming`",
                    self.label(entry.key, "given again here"),
                    Label(
                        span=self.span(given[key].key), message="first given here", primary=False
                    ),
                )
                ok = False
            else:
                given[key] = entry
        if not ok:
            return
        rules = [k for k in ("style", "pattern") if k in given]
        if len(rules) != 1:
            self.invalid(
                v if not rules else given[rules[1]].key,
                "`naming` needs exactly one of `style` and `pattern`",
                "a style or a pattern" if not rules else "given with `style`",
                help=f"for example `{example}`",
            )
            return
        style: NamingStyle | None = None
        pattern: str | None = None
        entry = given[rules[0]]
        rule = entry.value
        sub = Property(entry.key, rule, entry.start, entry.end)
        if rules[0] == "style":
            if not (isinstance(rule, TypeValue) and rule.is_plain_name):
                self.mismatch(sub, "a naming style", example)
                return
            style = self.naming_style(rule)
            if style is None:
                return
        else:
            if not isinstance(rule, StringValue):
                self.mismatch(sub, "a regex string", 'naming: { pattern: r"[a-z_]+", scope: all };')
                return
            if not self.regex(rule):
                return
            pattern = rule.value
        scope: NamingScope = "signature"
        if "scope" in given:
            sv = given["scope"].value
            if not (isinstance(sv, TypeValue) and sv.is_plain_name and sv.name in NAMING_SCOPES):
                shown = sv.name if isinstance(sv, TypeValue) else _kind_of(sv)
                suggestion = _did_you_mean(shown, NAMING_SCOPES)
                self.invalid(
                    sv,
                    f"unknown naming scope {quote(shown)}"
                    if isinstance(sv, TypeValue)
                    else f"`scope` expects `signature` or `all`, found {shown}",
                    "expected `signature` or `all`",
                    help=(f"{suggestion} " if suggestion else "")
                    + "`signature`: the function's name and parameters (the default); "
                    "`all`: also its local variables and nested functions",
                )
                return
            scope = sv.name
        b.out.append(
            Naming(
                id=f"{b.name}.naming",
                provenance=self.prov(prop),
                style=style,
                pattern=pattern,
                scope=scope,
            )
        )

    def p_imports(self, b: _Block, prop: Property) -> None:
        v = prop.value
        if not isinstance(v, ObjectValue):
            self.mismatch(
                prop, "an object with `allow` and/or `deny`", 'imports: { deny: ["subprocess"] };'
            )
            return
        if not v.entries:
            self.invalid(v, "`imports` needs `allow`, `deny` or both", "empty")
            return
        lists: dict[str, list[tuple[str, SourceProvenance]]] = {}
        keys: dict[str, Ident] = {}
        ok = True
        for entry in v.entries:
            key = entry.key.text
            if key not in ("allow", "deny"):
                self.invalid(
                    entry.key,
                    f"unknown key {quote(key)} in `imports`",
                    "unknown key",
                    help=_did_you_mean(key, ["allow", "deny"]) or "the keys are `allow` and `deny`",
                )
                ok = False
                continue
            if key in keys:
                self.diags.error(
                    "duplicate-property",
                    f"`{key}` is given twice in `imports`",
                    self.label(entry.key, "given again here"),
                    Label(span=self.span(keys[key]), message="first given here", primary=False),
                )
                ok = False
                continue
            keys[key] = entry.key
            sub = Property(entry.key, entry.value, entry.start, entry.end)
            items = self.names(sub, entry.value, "module", allow_empty=True)
            if items is None:
                ok = False
            else:
                lists[key] = items
        if not ok:
            return
        allowed = dict(lists.get("allow", ()))
        for name, where in lists.get("deny", ()):
            if name in allowed:
                self.diags.error(
                    "invalid-value",
                    f"module {quote(name)} is both allowed and denied",
                    Label(span=where.span, message="denied here"),
                    Label(span=allowed[name].span, message="allowed here", primary=False),
                )
                ok = False
        if ok:
            b.out.append(
                ImportPolicy(
                    id=f"{b.name}.imports",
                    provenance=self.prov(prop),
                    allow=tuple(n for n, _ in lists["allow"]) if "allow" in lists else None,
                    deny=tuple(n for n, _ in lists.get("deny", ())),
                )
            )

    def p_matches(self, b: _Block, prop: Property) -> None:
        v = prop.value
        if not isinstance(v, StringValue):
            self.mismatch(prop, "a regex string", 'matches: r"^def ";')
            return
        if self.regex(v):
            b.out.append(
                Matches(id=f"{b.name}.matches", provenance=self.prov(prop), pattern=v.value)
            )

    def p_validates(self, b: _Block, prop: Property) -> None:
        v = prop.value
        if not (isinstance(v, TypeValue) and not v.args):
            self.mismatch(prop, "a schema or validator name", "validates: input_schema;")
            return
        target = v.name
        schema = self.scope.qualify(target) if target in self.schemas else None
        if schema is None:
            schema = self.scope.schemas.get(target)
        module, _, short = target.rpartition(".")
        if schema is None and module in self.scope.modules:
            known = [n.rpartition(".")[2] for n in self.scope.schemas if n.startswith(module + ".")]
            self.diags.error(
                "unknown-schema",
                f"module {quote(module)} declares no schema {quote(short)}",
                self.label(v, "not declared there"),
                help=_did_you_mean(short, known, f"`{quote(module, ticks=False)}.{{}}`")
                or f"schemas of {quote(module)}: {', '.join(sorted(known)) or 'none'}",
            )
            return
        if schema is None and self.schemas:
            close = _closest(target, self.schemas)
            if close is not None:
                self.diags.warning(
                    "unknown-schema",
                    f"{quote(target)} is not a schema declared in this file",
                    self.label(v, f"did you mean `{close}`?"),
                    Label(
                        span=self.span(self.schemas[close].name),
                        message=f"schema `{close}` declared here",
                        primary=False,
                    ),
                    notes=(
                        "a name that is not a declared schema is taken as a validator "
                        "defined in your code",
                    ),
                    help=f"did you mean `{close}`?",
                )
        if schema is not None:
            # The code refers to a schema by its declared name, whatever module holds it.
            target = schema.rpartition(".")[2]
        b.out.append(
            Validates(
                id=f"{b.name}.validates", provenance=self.prov(prop), target=target, schema=schema
            )
        )

    def _doc(self, b: _Block, prop: Property, role: str) -> None:
        v = prop.value
        if not isinstance(v, StringValue):
            self.mismatch(prop, "a string", f'{role}: "what the function is for";')
            return
        b.out.append(
            Doc(
                id=f"{b.name}.{role}",
                provenance=self.prov(prop),
                text=v.value,
                role="doc" if role == "doc" else "note",
            )
        )

    def p_doc(self, b: _Block, prop: Property) -> None:
        self._doc(b, prop, "doc")

    def p_note(self, b: _Block, prop: Property) -> None:
        self._doc(b, prop, "note")

    # --- blocks -----------------------------------------------------------------------

    def constraint(self, block: ConstraintBlock) -> ConstraintSet:
        b = _Block(self.scope.qualify(block.name.text))
        for prop in block.properties:
            key = prop.name.text
            handler = PROPERTIES.get(key)
            if handler is None:
                self.diags.error(
                    "unknown-property",
                    f"unknown property {quote(key)} in constraint {quote(b.name)}",
                    self.label(prop.name, "unknown property"),
                    help=_did_you_mean(key, PROPERTIES),
                    notes=(f"known properties: {', '.join(PROPERTIES)}",),
                )
                continue
            first = b.seen.get(key)
            if first is not None:
                self.diags.error(
                    "duplicate-property",
                    f"property `{key}` is given twice in constraint {quote(b.name)}",
                    self.label(prop.name, "given again here"),
                    Label(span=self.span(first.name), message="first given here", primary=False),
                    help="give each property once; list several names in one list",
                )
                continue
            b.seen[key] = prop
            before = len(b.out)
            handler(self, b, prop)
            marks = self.annotations(prop)
            if marks:
                b.out[before:] = [msgspec.structs.replace(c, **marks) for c in b.out[before:]]
        self.agreement(b)
        self.applicable(b)
        examples = tuple(e for item in block.examples if (e := self.example(item)) is not None)
        return ConstraintSet(
            name=b.name,
            language=b.language,
            constraints=tuple(b.out),
            span=self.source.span(block.start, block.end),
            extends=tuple(self.parent(p) for p in block.extends),
            extends_spans=tuple(self.span(p) for p in block.extends),
            library=self.library,
            examples=examples,
        )

    def example(self, item: ExampleItem) -> Example | None:
        """``example accept|reject TEXT [by PROPERTY];``; None (reported) when malformed."""
        span = self.source.span(item.start, item.end)
        ok = True
        for word, want in ((item.verdict, ("accept", "reject")), (item.file_word, ("file",))):
            if word is not None and word.text not in want:
                shown = " or ".join(f"`{w}`" for w in want)
                self._bad_example(word, f"expected {shown}, found {quote(word.text)}", "here")
                ok = False
        if item.by_word is not None and item.by_word.text != "by":
            self._bad_example(
                item.by_word, f"expected `by` or `;`, found {quote(item.by_word.text)}", "here"
            )
            ok = False
        accept = item.verdict.text == "accept"
        by = item.by.name if item.by is not None else None
        if item.by is not None and accept:
            self._bad_example(
                item.by,
                "an accepted example has nothing to be rejected by",
                "only `example reject` takes `by`",
            )
            ok = False
        elif item.by is not None and by is not None and ok:
            head = item.by.parts[0].text
            if head not in (*PROPERTIES, "syntax") or head in _NEVER_REJECT:
                self._bad_example(
                    item.by,
                    f"{quote(by)} names nothing that can reject a text: an example is rejected "
                    "`by` a property (`forbid`), one of its items (`forbid.eval`) or `syntax`",
                    "not a property that rejects",
                    _did_you_mean(head, [p for p in PROPERTIES if p not in _NEVER_REJECT])
                    or "`doc`, `note` and `language` reject nothing",
                )
                ok = False
            elif len(item.by.parts) > 1 and head not in _LIST_PROPERTIES:
                self._bad_example(
                    item.by,
                    f"`{head}` has no items: only `forbid` and `require` name one of theirs "
                    f"({quote(head + '.' + item.by.parts[1].text)})",
                    "no such item",
                    f"write `by {head}`",
                )
                ok = False
        if item.file_word is not None:
            source = self._relative_file(item.text, "example file")
            if source is None:
                return None
            text = source.text
            at = source.span(0, 0)
            indent, mapped = 0, True
        else:
            lit = item.text
            text = lit.value
            body = lit.raw.lstrip("#r")
            width = 3 if body.startswith('"""') else 1
            opening = lit.start + len(lit.raw) - len(body) + width
            newline = self.source.text.find("\n", opening, lit.end)
            if width == 3 and newline != -1:  # the text starts on the next line, indented
                first = newline + 1
                line = self.source.position(first)[0]
                # A first line shorter than the indentation (blank) still maps columns
                # from the indentation on.
                start = first + min(lit.block_indent, len(self.source.line_text(line)))
                at = msgspec.structs.replace(
                    self.source.span(start, start),
                    column=lit.block_indent + 1,
                    end_column=lit.block_indent + 1,
                )
            else:
                at = self.source.span(opening, opening)
            indent = lit.block_indent
            mapped = lit.is_raw or "\\" not in lit.raw
        if not ok:
            return None
        return Example(
            accept=accept, text=text, by=by, span=span, at=at, indent=indent, mapped=mapped
        )

    def _bad_example(
        self, node: Ident | Value, message: str, label: str, help: str | None = None
    ) -> None:
        self.diags.error("invalid-example", message, self.label(node, label), help=help)

    def parent(self, ref: TypeValue) -> str:
        """The module name of a set named after ``extends``; reports an unknown one."""
        found = self.scope.sets.get(ref.name)
        if found is not None:
            return found
        self.diags.error(
            "unknown-constraint",
            f"no constraint set {quote(ref.name)} to extend",
            self.label(ref, "not defined or imported"),
            help=_did_you_mean(ref.name, self.scope.sets)
            or "define it in this file, or import the file that does "
            '(`import "other.ariadne";` or `import std.python;`)',
        )
        return ref.name

    def annotations(self, prop: Property) -> dict[str, Any]:
        """The fields that ``@soft``, ``@hard``, ``@priority(N)`` and ``override`` set."""
        marks: dict[str, Any] = {}
        given: dict[str, Annotation] = {}  # by the field it sets: strength or priority
        for a in prop.annotations:
            name = a.name.text
            if name not in _ANNOTATIONS:
                self.diags.error(
                    "invalid-annotation",
                    f"unknown annotation {quote('@' + name)}",
                    self.label(a, "unknown annotation"),
                    help=_did_you_mean(name, _ANNOTATIONS, "`@{}`")
                    or "annotations are `@soft`, `@hard` and `@priority(N)`",
                )
                continue
            field_ = "priority" if name == "priority" else "strength"
            first = given.get(field_)
            if first is not None:
                self.diags.error(
                    "invalid-annotation",
                    f"`@{name}` contradicts or repeats `@{first.name.text}`",
                    self.label(a, "here"),
                    Label(span=self.span(first), message="already given here", primary=False),
                    help="give a property one strength and at most one priority",
                )
                continue
            given[field_] = a
            if name == "priority":
                if a.arg is None or not a.arg.is_int:
                    self.diags.error(
                        "invalid-annotation",
                        "`@priority` needs an integer",
                        self.label(a if a.arg is None else a.arg, "an integer goes here"),
                        help="for example `@priority(10)`; higher wins, the default is 0",
                    )
                    continue
                digits = a.arg.text.replace("_", "")
                if len(digits) > 7 or int(digits) > MAX_PRIORITY:
                    self.diags.error(
                        "invalid-annotation",
                        f"`@priority` is between -{MAX_PRIORITY:,} and {MAX_PRIORITY:,}",
                        self.label(a.arg, "out of range"),
                        help="priorities only order constraints: small numbers do",
                    )
                    continue
                marks["priority"] = -int(digits) if a.arg.negative else int(digits)
            elif a.arg is not None:
                self.diags.error(
                    "invalid-annotation",
                    f"`@{name}` takes no argument",
                    self.label(a.arg, "not expected"),
                    help=f"write `@{name}`; a number goes with `@priority(N)`",
                )
                continue
            else:
                marks["strength"] = name
        if prop.override is not None:
            marks["override"] = True
        if (prop.annotations or prop.override) and prop.name.text in _NOT_CONSTRAINTS:
            where = prop.annotations[0] if prop.annotations else prop.override
            assert where is not None
            self.diags.error(
                "invalid-annotation",
                f"`{prop.name.text}` says what the output is, not a constraint that can "
                "be weighed or overridden",
                self.label(where, "not applicable here"),
                help="remove the annotation",
            )
        return marks

    def applicable(self, b: _Block) -> None:
        """JSON output and a grammar's strings are not code: code properties do not apply."""
        grammar = b.seen.get("grammar")
        if grammar is not None and b.language == "json":
            self.diags.error(
                "conflicting-properties",
                "`grammar` and `language: json` both give the output's format",
                self.label(grammar, "the output follows this grammar"),
                Label(span=self.span(b.seen["language"]), message="and is JSON", primary=False),
                help="keep one of them",
            )
            return
        if grammar is None and b.language != "json":
            return
        output = "JSON" if grammar is None else "a string of its grammar"
        why = "`language: json`" if grammar is None else "`grammar`"
        for key, prop in b.seen.items():
            if key in CODE_PROPERTIES or (key == "returns" and grammar is not None):
                self.diags.error(
                    "inapplicable-property",
                    f"`{key}` constrains Python code, and the output of {quote(b.name)} is "
                    f"{output}",
                    self.label(prop, "does not apply"),
                    Label(
                        span=self.span(b.seen["language"] if grammar is None else grammar),
                        message=f"{why} sets the output's format here",
                        primary=False,
                    ),
                    help=f"remove `{key}`, or move it to a constraint on Python code",
                )

    def agreement(self, b: _Block) -> None:
        sigs = [c for c in b.out if isinstance(c, Signature)]
        if not sigs:
            return
        sig = sigs[0]
        sig_prop = b.seen["signature"]
        checks: list[tuple[str, bool, str]] = []
        for c in b.out:
            if isinstance(c, FunctionName):
                checks.append(
                    ("name", c.name == sig.name, f"the signature names {quote(sig.name)}")
                )
            elif isinstance(c, Params):
                checks.append(
                    ("params", c.params == sig.params, "the signature's parameters differ")
                )
            elif isinstance(c, Returns) and sig.returns is not None:
                checks.append(
                    (
                        "returns",
                        c.type == sig.returns,
                        f"the signature returns {quote(str(sig.returns))}",
                    )
                )
        for key, agrees, why in checks:
            if not agrees:
                self.diags.error(
                    "conflicting-properties",
                    f"`{key}` disagrees with `signature`: {why}",
                    self.label(b.seen[key], "this"),
                    Label(span=self.span(sig_prop), message="disagrees with this", primary=False),
                    help=f"remove `{key}` (the signature already says it) or make them agree",
                )

    def schema(self, block: SchemaBlock) -> Schema:
        fields: list[SchemaField] = []
        seen: dict[str, Ident] = {}
        for f in block.fields:
            if f.name.text in seen:
                self.diags.error(
                    "duplicate-definition",
                    f"field {quote(f.name.text)} is defined twice in schema "
                    f"{quote(block.name.text)}",
                    self.label(f.name, "defined again here"),
                    Label(
                        span=self.span(seen[f.name.text]),
                        message="first defined here",
                        primary=False,
                    ),
                )
                continue
            seen[f.name.text] = f.name
            fields.append(
                SchemaField(
                    name=f.name.text,
                    type=self.type_expr(f.type),
                    optional=f.optional,
                    span=self.source.span(f.start, f.end),
                )
            )
        return Schema(
            name=self.scope.qualify(block.name.text),
            fields=tuple(fields),
            span=self.source.span(block.start, block.end),
        )


PROPERTIES: dict[str, Callable[[_Checker, _Block, Property], None]] = {
    "language": _Checker.p_language,
    "name": _Checker.p_name,
    "params": _Checker.p_params,
    "signature": _Checker.p_signature,
    "returns": _Checker.p_returns,
    "forbid": _Checker.p_forbid,
    "require": _Checker.p_require,
    "max_lines": _Checker.p_max_lines,
    "max_chars": _Checker.p_max_chars,
    "max_tokens": _Checker.p_max_tokens,
    "naming": _Checker.p_naming,
    "imports": _Checker.p_imports,
    "matches": _Checker.p_matches,
    "validates": _Checker.p_validates,
    "doc": _Checker.p_doc,
    "note": _Checker.p_note,
    "grammar": _Checker.p_grammar,
}
"""Every property of version 0, in the order the reference documents them."""


def _did_you_mean(word: str, candidates: Iterable[str], shown: str = "`{}`") -> str | None:
    """``did you mean `x`?`` for the closest candidate, or None when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {shown.format(close[0])}?" if close else None


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _closest(name: str, candidates: dict[str, SchemaBlock]) -> str | None:
    """The candidate within a small edit distance of ``name`` (ties: first declared)."""
    limit = 1 if len(name) <= 3 else 2 if len(name) <= 8 else 3
    best: tuple[int, str] | None = None
    for cand in candidates:
        if abs(len(cand) - len(name)) > limit:
            continue
        d = _levenshtein(name.lower(), cand.lower())
        if d <= limit and (best is None or d < best[0]):
            best = (d, cand)
    return best[1] if best else None


def _error_count(diags: Diagnostics) -> int:
    return sum(1 for d in diags if d.severity == "error")


@dataclass
class Scope:
    """What a file can name besides its own blocks: what its imports bring.

    ``sets`` maps a name as written in this file (``api_handler``, ``std.python.safe``)
    to the set's name in the module; ``lets`` maps names to ``let`` values. ``qualifier``
    prefixes this file's own names in the module (``std.python``), empty for the file
    being compiled and for files imported by path.
    """

    sets: dict[str, str] = field(default_factory=dict)
    lets: dict[str, LetBinding] = field(default_factory=dict)
    schemas: dict[str, str] = field(default_factory=dict)
    """Schemas of imported files: name as written here → name in the module."""
    modules: set[str] = field(default_factory=set)
    """Qualifiers of the modules imported by dotted path (``team.rules``)."""
    qualifier: str = ""
    library: bool = False

    def qualify(self, name: str) -> str:
        return f"{self.qualifier}.{name}" if self.qualifier else name


def check(
    tree: FileAst, source: SourceFile, diags: Diagnostics, scope: Scope | None = None
) -> Module | None:
    """Check ``tree`` and lower it to a :class:`Module`; None if any error was reported.

    ``scope`` holds what the file's imports bring (the loader fills it); the file's own
    sets and ``let`` values are added to it.
    """
    scope = scope or Scope()
    if not tree.items:
        diags.error(
            "empty-file",
            "file defines no constraints or schemas",
            Label(span=source.span(0, 0), message="nothing here"),
            help="add a block such as `constraint NAME { max_lines: 50; }`",
        )
        return None
    errors_before = _error_count(diags)
    schemas: dict[str, SchemaBlock] = {}
    constraints: dict[str, ConstraintBlock] = {}
    lets: dict[str, LetItem] = {}
    for item in tree.items:
        if isinstance(item, ImportItem):
            continue
        table: dict[str, Any]
        if isinstance(item, ConstraintBlock):
            kind, table = "constraint", constraints
        elif isinstance(item, SchemaBlock):
            kind, table = "schema", schemas
        else:
            kind, table = "let", lets
        first = table.get(item.name.text)
        if first is not None:
            diags.error(
                "duplicate-definition",
                f"{kind} {quote(item.name.text)} is defined twice",
                Label(
                    span=source.span(item.name.start, item.name.end), message="defined again here"
                ),
                Label(
                    span=source.span(first.name.start, first.name.end),
                    message="first defined here",
                    primary=False,
                ),
                help=f"rename one of them; {kind} names are unique within a file",
            )
            continue
        table[item.name.text] = item  # type: ignore[assignment]
    for name, let in lets.items():
        imported = scope.lets.get(name)
        if imported is not None:
            diags.error(
                "duplicate-definition",
                f"let {quote(name)} is defined here and in an imported file",
                Label(span=source.span(let.name.start, let.name.end), message="defined here"),
                Label(
                    span=imported.source.span(imported.value.start, imported.value.end),
                    message=f"and in {quote(imported.source.name, ticks=False)}",
                    primary=False,
                ),
                help="rename one of them",
            )
            continue
        scope.lets[name] = LetBinding(source, let.value, scope.library)
    for name in constraints:
        scope.sets[name] = scope.qualify(name)
    checker = _Checker(source, diags, schemas, scope)
    schema_ir = tuple(checker.schema(s) for s in schemas.values())
    sets = tuple(checker.constraint(c) for c in constraints.values())
    if _error_count(diags) > errors_before:
        return None
    return Module(sources=(source.name,), sets=sets, schemas=schema_ir)
