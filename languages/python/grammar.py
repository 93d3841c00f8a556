"""The Python function grammar, built as GrammarIR.

Shape (chosen for llguidance's mask cost; see ``benchmarks/README.md``):

* A *logical line* is one lexeme. Brackets, strings, comments inside brackets, backslash
  continuations and the newlines that brackets make insignificant all live inside it, so
  the Earley parser only steps once per line and most mask computations stay inside one
  lexeme, where llguidance's mask cache and precomputed lexer states apply.
* Bracket nesting inside a line is counted by the lexer up to :data:`MAX_BRACKET_DEPTH`;
  bracket kinds are not matched against each other (a mismatched pair is a syntax error
  that the post-generation syntax check reports, and it cannot hide a constraint
  violation).
* Indentation is a CFG over one exact-width indentation lexeme per column: a block's first
  line picks any deeper column, its later lines must repeat it. Rules are written out per
  column (no parametric rules), which keeps Earley rows flat on long functions.
* Forbidden names are excluded from the identifier lexeme that may stand bare; after a
  dot any identifier is allowed (attributes). Strings and comments are separate pieces of
  the line, so words inside them are never identifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ananke.ir.grammar import Alt, And, Expr, Grammar, Lit, Not, Ref, Regex, Repeat, Rule, Seq

__all__ = [
    "MAX_BRACKET_DEPTH",
    "MAX_SPACE_COLUMNS",
    "MAX_TAB_COLUMNS",
    "FunctionShape",
    "PythonGrammarOptions",
    "build_grammar",
]

MAX_BRACKET_DEPTH = 12
"""Deepest bracket nesting inside one logical line that the grammar accepts."""
MAX_SPACE_COLUMNS = 64
"""Deepest indentation, in spaces, that the grammar accepts."""
MAX_TAB_COLUMNS = 16
"""Deepest indentation, in tabs, that the grammar accepts."""

# --- regex fragments (Rust regex syntax, as llguidance reads it) ------------------------

_ID_START = r"[^\x00-\x40\x5B-\x5E\x60\x7B-\x7F]"  # ASCII letters, _, any non-ASCII
_ID_CONT = r"[^\x00-\x2F\x3A-\x40\x5B-\x5E\x60\x7B-\x7F]"
_IDENT = f"{_ID_START}{_ID_CONT}*"
_DIGITS = r"[0-9](?:_?[0-9])*"
_EXP = rf"[eE][+\-]?{_DIGITS}"
_NUMBER = (
    r"(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+"
    rf"|(?:(?:{_DIGITS})?\.{_DIGITS}(?:{_EXP})?|{_DIGITS}\.(?:{_EXP})?|{_DIGITS}(?:{_EXP})?)[jJ]?)"
)
_ANY = r"(?s:.)"
_ESC = rf"\\{_ANY}"
_CONT = r"\\\r?\n"
_OPCH = r"[!$%&*+,\-/:;<=>?@^`|~]"
_OPCH_NO_COLON = r"[!$%&*+,\-/;<=>?@^`|~]"
_PREFIX = r"(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])?"


def _string_regex() -> str:
    def short(q: str) -> str:
        return rf"{q}(?:[^{q}\\\r\n]|{_ESC})*{q}"

    def long(q: str) -> str:
        c = rf"(?:[^{q}\\]|{_ESC})"
        return rf"{q}{q}{q}(?:{c}|{q}{c}|{q}{q}{c})*{q}{q}{q}"

    return f"{_PREFIX}(?:{long(chr(39))}|{long(chr(34))}|{short(chr(39))}|{short(chr(34))})"


@dataclass(frozen=True)
class FunctionShape:
    """What the ``def`` line is pinned to; None leaves that part free."""

    name: str | None = None
    """Exact function name."""
    name_pattern: str | None = None
    """Regex (Rust syntax) the function name must match when the name is not pinned."""
    params: str | None = None
    """Regex for the text between the parentheses, when pinned."""
    returns: Sequence[str] | None = None
    """Accepted spellings of the return annotation; () forbids an annotation."""
    is_async: bool | None = None


@dataclass(frozen=True)
class PythonGrammarOptions:
    shape: FunctionShape = field(default_factory=FunctionShape)
    forbid: tuple[str, ...] = ()
    """Plain names that must never appear as a bare identifier."""
    forbid_origins: tuple[str, ...] = ()
    shape_origins: tuple[str, ...] = ()
    max_block_lines: int | None = None
    """At most this many statements in any one block."""
    max_block_origins: tuple[str, ...] = ()
    bracket_depth: int = MAX_BRACKET_DEPTH
    space_columns: int = MAX_SPACE_COLUMNS
    tab_columns: int = MAX_TAB_COLUMNS


class _Builder:
    def __init__(self) -> None:
        self.rules: dict[str, Rule] = {}

    def add(self, name: str, body: Expr, *, origins: tuple[str, ...] = (), comment: str = "") -> Ref:
        self.rules[name] = Rule(
            name=name, body=body, lexeme=name.isupper(), origins=origins, comment=comment
        )
        return Ref(name=name)


def _alt(*items: Expr) -> Expr:
    return items[0] if len(items) == 1 else Alt(items=tuple(items))


def _seq(*items: Expr) -> Expr:
    return items[0] if len(items) == 1 else Seq(items=tuple(items))


def _opt(item: Expr) -> Repeat:
    return Repeat(item=item, min=0, max=1)


def _star(item: Expr) -> Repeat:
    return Repeat(item=item, min=0, max=None)


def _rx(pattern: str) -> Regex:
    return Regex(pattern=pattern)


def _lexemes(b: _Builder, opts: PythonGrammarOptions) -> None:
    """Line-level lexemes and the fragments they are made of."""
    b.add("ID", _rx(_IDENT))
    b.add("NUM", _rx(_NUMBER))
    b.add("STR", _rx(_string_regex()), comment="string literals, any prefix, any quotes")
    b.add("COMMENT", _rx(r"#[^\r\n]*"))
    if opts.forbid:
        words = "|".join(_escape(w) for w in sorted(opts.forbid))
        b.add(
            "IDOK",
            And(items=(Ref(name="ID"), Not(item=_rx(f"(?:{words})")))),
            origins=opts.forbid_origins,
            comment="an identifier that may stand bare: not a forbidden name",
        )
    else:
        b.add("IDOK", Ref(name="ID"))
    b.add("WORDA", _alt(Ref(name="IDOK"), Ref(name="NUM")))
    b.add("WORDD", _alt(Ref(name="ID"), Ref(name="NUM")))
    depth = opts.bracket_depth
    for d in range(depth + 1):
        for colon in (True, False):
            if d > 0 and not colon:
                continue
            sfx = f"{d}" if colon else f"{d}NC"
            ws = r"[ \t\f]" if d == 0 else r"[ \t\f\r\n]"
            ws = f"(?:{ws}|{_CONT})"
            op = _OPCH if colon else _OPCH_NO_COLON
            nw = f"(?:{ws}|{op}|\\.)"
            b.add(f"NWP{sfx}", _rx(f"(?:{nw}*{op}{ws}*|{ws}+)"))
            b.add(f"NWD{sfx}", _rx(f"{nw}*\\.{ws}*"))
            item = _alt(
                _seq(Ref(name=f"NWP{sfx}"), Ref(name="WORDA")),
                _seq(Ref(name=f"NWD{sfx}"), Ref(name="WORDD")),
            )
            tail = _alt(Ref(name=f"NWP{sfx}"), Ref(name=f"NWD{sfx}"))
            # A run of code between brackets, strings and comments; words in it are maximal.
            b.add(f"RUN{sfx}", _seq(_opt(Ref(name="WORDA")), _star(item), _opt(tail)))
            # The same, ending in a non-word character (or empty): may precede a string.
            b.add(
                f"RUNNW{sfx}",
                _opt(_seq(_opt(Ref(name="WORDA")), _star(item), tail)),
            )
    for d in range(depth, 0, -1):
        elems: list[Expr] = [
            _seq(Ref(name=f"RUNNW{d}"), Ref(name="STR")),
            _seq(_opt(Ref(name=f"RUN{d}")), Ref(name="COMMENT")),
        ]
        if d < depth:
            elems.append(_seq(_opt(Ref(name=f"RUN{d}")), Ref(name=f"GROUP{d + 1}")))
        b.add(f"IN{d}", _seq(_star(_alt(*elems)), _opt(Ref(name=f"RUN{d}"))))
        b.add(f"GROUP{d}", _seq(_rx(r"[(\[{]"), Ref(name=f"IN{d}"), _rx(r"[)\]}]")))
    for sfx in ("0", "0NC"):
        b.add(
            f"BODY{sfx}",
            _seq(
                _star(
                    _alt(
                        _seq(Ref(name=f"RUNNW{sfx}"), Ref(name="STR")),
                        _seq(_opt(Ref(name=f"RUN{sfx}")), Ref(name="GROUP1")),
                    )
                ),
                _opt(Ref(name=f"RUN{sfx}")),
            ),
        )
    b.add("EOL", _rx(r"[ \t\f]*(?:#[^\r\n]*)?\r?\n"))
    b.add("STMT", And(items=(Ref(name="BODY0"), _rx(r"[^ \t\f\r\n#](?s:.)*"))))
    b.add(
        "SIMPLE",
        _seq(And(items=(Ref(name="STMT"), Not(item=_rx(r"(?s:.)*:[ \t\f]*")))), Ref(name="EOL")),
        comment="a logical line that does not open a block",
    )
    b.add(
        "HEADER",
        _seq(And(items=(Ref(name="STMT"), _rx(r"(?s:.)*:[ \t\f]*"))), Ref(name="EOL")),
        comment="a logical line ending in ':' that opens a block",
    )
    b.add("BLANK", _rx(r"[ \t\f]*(?:#[^\r\n]*)?\r?\n"), comment="blank or comment-only line")
    b.add("DECORATOR", _seq(Lit(text="@"), Ref(name="BODY0"), Ref(name="EOL")))


def _escape(text: str) -> str:
    out = []
    for ch in text:
        out.append("\\" + ch if ch in r".^$*+?()[]{}|\/-&~#" else ch)
    return "".join(out)


def _def_lexemes(b: _Builder, opts: PythonGrammarOptions) -> None:
    shape = opts.shape
    ws = r"[ \t\f]"
    parts: list[Expr] = []
    if shape.is_async is None:
        parts.append(_rx(rf"(?:async{ws}+)?def{ws}+"))
    elif shape.is_async:
        parts.append(_rx(rf"async{ws}+def{ws}+"))
    else:
        parts.append(_rx(rf"def{ws}+"))
    if shape.name is not None:
        parts.append(Lit(text=shape.name))
    elif shape.name_pattern is not None:
        parts.append(And(items=(Ref(name="ID"), _rx(shape.name_pattern))))
    else:
        parts.append(Ref(name="ID"))
    if shape.params is not None:
        parts.append(_rx(rf"{ws}*\({shape.params}\){ws}*"))
    else:
        parts.append(_rx(rf"{ws}*"))
        parts.append(Ref(name="GROUP1"))
        parts.append(_rx(rf"{ws}*"))
    if shape.returns is None:
        parts.append(_opt(_seq(_rx(rf"->{ws}*"), Ref(name="BODY0NC"))))
    elif shape.returns:
        spellings = "|".join(shape.returns)
        parts.append(_rx(rf"->{ws}*(?:{spellings}){ws}*"))
    b.add("DEFHEAD", _seq(*parts), origins=opts.shape_origins, comment="the def line")
    b.add("DEF_OPEN", _seq(Ref(name="DEFHEAD"), Lit(text=":"), Ref(name="EOL")))
    b.add(
        "DEF_INLINE",
        _seq(Ref(name="DEFHEAD"), _rx(rf":{ws}*"), Ref(name="STMT"), Ref(name="EOL")),
        comment="def f(): return x",
    )


def _blocks(b: _Builder, opts: PythonGrammarOptions) -> None:
    """One block rule per indentation column, written out (no parametric rules)."""
    families = [("", " ", opts.space_columns), ("t", "\t", opts.tab_columns)]
    for tag, unit, count in families:
        for col in range(1, count + 1):
            ind = b.add(f"IND{tag.upper()}{col}", Lit(text=unit * col))
            stmt = _alt(
                _seq(ind, Ref(name="SIMPLE")),
                _seq(ind, Ref(name="HEADER"), _star(Ref(name="BLANK")), Ref(name=f"deeper{tag}_{col}")),
            )
            b.add(f"stmt{tag}_{col}", stmt)
            unit_rule = _seq(Ref(name=f"stmt{tag}_{col}"), _star(Ref(name="BLANK")))
            if opts.max_block_lines is not None:
                body: Expr = Repeat(item=unit_rule, min=1, max=opts.max_block_lines)
                b.add(f"block{tag}_{col}", body, origins=opts.max_block_origins)
            else:
                b.add(
                    f"block{tag}_{col}",
                    _alt(unit_rule, _seq(Ref(name=f"block{tag}_{col}"), unit_rule)),
                )
        for col in range(count, -1, -1):
            if col == count:
                b.add(f"deeper{tag}_{col}", Ref(name="NEVER"))
            else:
                b.add(
                    f"deeper{tag}_{col}",
                    _alt(Ref(name=f"block{tag}_{col + 1}"), Ref(name=f"deeper{tag}_{col + 1}")),
                )
    b.add("NEVER", And(items=(_rx("a"), _rx("b"))), comment="matches nothing")
    b.add("body", _alt(Ref(name="deeper_0"), Ref(name="deepert_0")))


def build_grammar(opts: PythonGrammarOptions) -> Grammar:
    """The grammar of one Python function definition under ``opts``."""
    b = _Builder()
    b.add(
        "start",
        _seq(
            _star(Ref(name="BLANK")),
            _star(_seq(Ref(name="DECORATOR"), _star(Ref(name="BLANK")))),
            _alt(
                Ref(name="DEF_INLINE"),
                _seq(Ref(name="DEF_OPEN"), _star(Ref(name="BLANK")), Ref(name="body")),
            ),
        ),
    )
    _lexemes(b, opts)
    _def_lexemes(b, opts)
    _blocks(b, opts)
    return Grammar(start="start", rules=tuple(b.rules.values()))
