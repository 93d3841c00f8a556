"""Builds the syntax tree while the LALR parser reduces (lark's embedded transformer).

Building during the parse avoids an intermediate lark tree and any recursion, so deeply
nested input costs no Python stack. The transformer is stateless: one instance serves the
process.
"""

from __future__ import annotations

from typing import Any, cast

from lark import Token, Transformer

from ._ast import (
    Annotation,
    ConstraintBlock,
    DefaultExpr,
    Entry,
    ExampleItem,
    FileAst,
    Ident,
    ImportItem,
    LetItem,
    ListValue,
    NumberValue,
    ObjectValue,
    ParamNode,
    ParamsValue,
    Property,
    SchemaBlock,
    SchemaFieldNode,
    SignatureValue,
    StringValue,
    TypeValue,
)

__all__ = ["AstBuilder"]

_Kids = list[Any]


def _extent(children: _Kids) -> tuple[int, int]:
    first = children[0]
    last = children[-1]
    start = first.start_pos if isinstance(first, Token) else first.start
    end = last.end_pos if isinstance(last, Token) else last.end
    return cast(int, start), cast(int, end)


def _ident(tok: Token) -> Ident:
    return Ident(str(tok), tok.start_pos, tok.end_pos)  # type: ignore[arg-type]


def _string(tok: Token) -> StringValue:
    is_raw = tok.type in ("RAW_STRING", "TEXT_BLOCK")
    return StringValue(str(tok), tok.start_pos, tok.end_pos, is_raw)  # type: ignore[arg-type]


def _depth(nodes: Any) -> int:
    return max((getattr(n, "depth", 0) for n in nodes), default=0)


class AstBuilder(Transformer[Token, FileAst]):
    """Callbacks named after the grammar's rules; each gets the rule's children."""

    def start(self, children: _Kids) -> FileAst:
        return FileAst(tuple(children))

    def constraint(self, c: _Kids) -> ConstraintBlock:
        # CONSTRAINT NAME [EXTENDS dotted (COMMA dotted)*] LBRACE property* RBRACE
        brace = next(i for i, x in enumerate(c) if isinstance(x, Token) and x.type == "LBRACE")
        parents = tuple(
            TypeValue(x, (), x[0].start, x[-1].end) for x in c[2:brace] if isinstance(x, tuple)
        )
        props = tuple(x for x in c[brace + 1 : -1] if isinstance(x, Property))
        block = ConstraintBlock(
            _ident(c[1]), props, c[0].start_pos, c[-1].end_pos, c[brace].start_pos
        )
        block.extends = parents
        block.examples = tuple(x for x in c[brace + 1 : -1] if isinstance(x, ExampleItem))
        return block

    def example(self, c: _Kids) -> ExampleItem:
        # EXAMPLE NAME example_text [NAME dotted] SEMI
        file_word, text = c[2]
        by_word = _ident(c[3]) if len(c) > 4 else None
        by = TypeValue(c[4], (), c[4][0].start, c[4][-1].end) if len(c) > 4 else None
        return ExampleItem(
            _ident(c[1]), text, file_word, by_word, by, c[0].start_pos, c[-1].end_pos
        )

    def example_text(self, c: _Kids) -> tuple[Ident | None, StringValue]:
        # a string (of any kind), or NAME (the word `file`) and a string
        if len(c) == 2:
            return _ident(c[0]), _string(c[1])
        return None, _string(c[0])

    def property(self, c: _Kids) -> Property:
        # annotation* OVERRIDE? NAME COLON value SEMI
        annotations = tuple(x for x in c if isinstance(x, Annotation))
        rest = c[len(annotations) :]
        override = None
        if rest[0].type == "OVERRIDE":
            override = _ident(rest[0])
            rest = rest[1:]
        start = c[0].start if annotations else c[0].start_pos
        prop = Property(_ident(rest[0]), self._value(rest[2]), start, rest[3].end_pos)
        prop.annotations = annotations
        prop.override = override
        return prop

    def annotation(self, c: _Kids) -> Annotation:
        # AT NAME [LPAR number RPAR]
        arg = c[3] if len(c) > 2 else None
        return Annotation(_ident(c[1]), arg, c[0].start_pos, c[-1].end_pos)

    def import_(self, c: _Kids) -> ImportItem:
        target = c[1]
        if isinstance(target, Token):
            return ImportItem(_string(target), None, c[0].start_pos, c[-1].end_pos)
        module = TypeValue(target, (), target[0].start, target[-1].end)
        return ImportItem(None, module, c[0].start_pos, c[-1].end_pos)

    def let(self, c: _Kids) -> LetItem:
        return LetItem(_ident(c[1]), self._value(c[3]), c[0].start_pos, c[-1].end_pos)

    def schema(self, c: _Kids) -> SchemaBlock:
        fields = tuple(x for x in c[3:-1])
        return SchemaBlock(_ident(c[1]), fields, c[0].start_pos, c[-1].end_pos, c[2].start_pos)

    def field(self, c: _Kids) -> SchemaFieldNode:
        optional = c[1].type == "QMARK"
        return SchemaFieldNode(_ident(c[0]), optional, c[-2], c[0].start_pos, c[-1].end_pos)

    @staticmethod
    def _value(v: Any) -> Any:
        return _string(v) if isinstance(v, Token) else v

    def number(self, c: _Kids) -> NumberValue:
        tok = c[-1]
        start, end = _extent(c)
        return NumberValue(str(tok), tok.type == "INT", len(c) == 2, start, end)

    def list(self, c: _Kids) -> ListValue:
        items = tuple(self._value(x) for x in c[1:-1:2])
        start, end = _extent(c)
        return ListValue(items, start, end, _depth(items) + 1)

    def object(self, c: _Kids) -> ObjectValue:
        entries = tuple(c[1:-1:2])
        start, end = _extent(c)
        return ObjectValue(
            entries, start, end, max((e.value.depth for e in entries), default=0) + 1
        )

    def entry(self, c: _Kids) -> Entry:
        value = self._value(c[2])
        return Entry(_ident(c[0]), value, c[0].start_pos, value.end)

    def type(self, c: _Kids) -> TypeValue:
        parts: tuple[Ident, ...] = c[0]
        args = tuple(x for x in c[2:-1:2]) if len(c) > 1 else ()
        start = parts[0].start
        end = c[-1].end_pos if len(c) > 1 else parts[-1].end
        return TypeValue(parts, args, start, end, _depth(args) + 1)

    def dotted(self, c: _Kids) -> tuple[Ident, ...]:
        return tuple(_ident(t) for t in c[0::2])

    def signature(self, c: _Kids) -> SignatureValue:
        is_async = c[0].type == "ASYNC"
        rest = c[1:] if is_async else c
        returns = rest[3] if len(rest) > 2 else None
        start, end = _extent(c)
        params: ParamsValue = rest[1]
        depth = max(params.depth, returns.depth if returns else 0) + 1
        return SignatureValue(is_async, _ident(rest[0]), params, returns, start, end, depth)

    def params(self, c: _Kids) -> ParamsValue:
        params = tuple(c[1:-1:2])
        start, end = _extent(c)
        return ParamsValue(params, start, end, _depth(params) + 1)

    def param_plain(self, c: _Kids) -> ParamNode:
        type_: TypeValue | None = None
        default: DefaultExpr | None = None
        for i in range(1, len(c), 2):
            if c[i].type == "COLON":
                type_ = c[i + 1]
            else:
                default = c[i + 1]
        start, end = _extent(c)
        depth = max(type_.depth if type_ else 0, default.depth if default else 0) + 1
        return ParamNode(_ident(c[0]), type_, default, "positional", start, end, depth)

    def param_star(self, c: _Kids) -> ParamNode:
        name = _ident(c[1]) if len(c) > 1 else None
        type_ = c[3] if len(c) > 3 else None
        start, end = _extent(c)
        depth = (type_.depth if type_ else 0) + 1
        return ParamNode(name, type_, None, "var_positional", start, end, depth)

    def param_dstar(self, c: _Kids) -> ParamNode:
        type_ = c[3] if len(c) > 3 else None
        start, end = _extent(c)
        depth = (type_.depth if type_ else 0) + 1
        return ParamNode(_ident(c[1]), type_, None, "var_keyword", start, end, depth)

    def _expr(self, c: _Kids) -> DefaultExpr:
        start, end = _extent(c)
        return DefaultExpr(start, end, _depth(c) + 1)

    dexpr = _expr
    dpost = _expr
    datom = _expr
    dargs = _expr
    darg = _expr
