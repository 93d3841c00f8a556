"""Hypothesis strategies that build valid ConstraintIR modules (shared by IR tests)."""

from __future__ import annotations

from ananke.ir import (
    ConstraintSet,
    Doc,
    ExtractedProvenance,
    Forbid,
    FunctionName,
    ImportPolicy,
    Limit,
    LLMProvenance,
    Matches,
    Module,
    Naming,
    Param,
    Params,
    Require,
    Returns,
    Schema,
    SchemaField,
    Signature,
    SourceProvenance,
    Span,
    TypeExpr,
    Validates,
)
from ananke.ir.constraint import Constraint
from hypothesis import strategies as st

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
texts = st.text(max_size=20)


@st.composite
def spans(draw: st.DrawFn) -> Span:
    start = draw(st.integers(0, 500))
    end = start + draw(st.integers(0, 50))
    line = draw(st.integers(1, 40))
    end_line = line + draw(st.integers(0, 3))
    return Span(
        file=draw(st.sampled_from(["a.ariadne", "dir/b.ariadne", "ünï code.ariadne"])),
        start=start,
        end=end,
        line=line,
        column=draw(st.integers(1, 80)),
        end_line=end_line,
        end_column=draw(st.integers(1, 80)),
    )


type_exprs = st.recursive(
    st.builds(TypeExpr, name=names),
    lambda inner: st.builds(
        TypeExpr, name=names, args=st.lists(inner, min_size=1, max_size=3).map(tuple)
    ),
    max_leaves=6,
)

provenances = st.one_of(
    st.builds(SourceProvenance, span=spans()),
    st.builds(
        ExtractedProvenance,
        extractor=names,
        file=texts,
        line=st.integers(1, 10_000),
        evidence=texts,
        confidence=st.floats(0.0, 1.0),
    ),
    st.builds(LLMProvenance, model=names, prompt_hash=texts),
)

params = st.builds(
    Param,
    name=names,
    type=st.none() | type_exprs,
    default=st.none() | texts,
    kind=st.sampled_from(["positional", "var_positional", "keyword_only", "var_keyword"]),
)
param_tuples = st.lists(params, max_size=4).map(tuple)


@st.composite
def constraints(draw: st.DrawFn, set_name: str) -> Constraint:
    common = {
        "provenance": draw(provenances),
        "strength": draw(st.sampled_from(["hard", "soft"])),
        "priority": draw(st.integers(-5, 5)),
    }
    kind = draw(st.sampled_from(sorted(_BUILDERS)))
    return draw(_BUILDERS[kind](f"{set_name}.{kind}.{draw(names)}", common))


def _b(cls: type, **fields: st.SearchStrategy[object]) -> object:
    return lambda cid, common: st.builds(cls, id=st.just(cid), **fields).map(
        lambda c: _with(c, common)
    )


def _with(c: Constraint, common: dict[str, object]) -> Constraint:
    import msgspec

    return msgspec.structs.replace(c, **common)  # type: ignore[arg-type]


_BUILDERS = {
    "returns": _b(Returns, type=type_exprs, provenance=provenances),
    "name": _b(FunctionName, name=names, provenance=provenances),
    "params": _b(Params, params=param_tuples, provenance=provenances),
    "signature": _b(
        Signature,
        name=names,
        params=param_tuples,
        returns=st.none() | type_exprs,
        is_async=st.booleans(),
        provenance=provenances,
    ),
    "forbid": _b(Forbid, name=names, provenance=provenances),
    "require": _b(Require, name=names, provenance=provenances),
    "limit": _b(
        Limit,
        metric=st.sampled_from(["lines", "chars", "tokens"]),
        max=st.integers(1, 10**6),
        provenance=provenances,
    ),
    "naming": _b(
        Naming,
        style=st.sampled_from(["snake", "camel", "pascal", "screaming"]),
        pattern=st.none(),
        provenance=provenances,
    ),
    "naming_re": _b(Naming, style=st.none(), pattern=texts, provenance=provenances),
    "imports": _b(
        ImportPolicy,
        allow=st.none() | st.lists(names, max_size=3).map(tuple),
        deny=st.lists(names, max_size=3).map(tuple),
        provenance=provenances,
    ),
    "matches": _b(Matches, pattern=texts, provenance=provenances),
    "validates": _b(Validates, target=names, schema=st.none() | names, provenance=provenances),
    "doc": _b(Doc, text=texts, role=st.sampled_from(["doc", "note"]), provenance=provenances),
}


@st.composite
def constraint_sets(draw: st.DrawFn) -> ConstraintSet:
    name = draw(names)
    return ConstraintSet(
        name=name,
        constraints=tuple(draw(st.lists(constraints(name), max_size=6))),
        span=draw(st.none() | spans()),
        extends=tuple(draw(st.lists(names, max_size=2))),
    )


schemas = st.builds(
    Schema,
    name=names,
    fields=st.lists(
        st.builds(
            SchemaField,
            name=names,
            type=type_exprs,
            optional=st.booleans(),
            span=st.none() | spans(),
        ),
        max_size=3,
    ).map(tuple),
    span=st.none() | spans(),
)

modules = st.builds(
    Module,
    sources=st.lists(texts, max_size=2).map(tuple),
    sets=st.lists(constraint_sets(), max_size=3).map(tuple),
    schemas=st.lists(schemas, max_size=2).map(tuple),
)
