"""Hypothesis strategies that build valid ConstraintIR modules (shared by IR tests)."""

from __future__ import annotations

import keyword
import re
import warnings

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

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n)
)
texts = st.text(max_size=20)


def _compiles(pattern: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError):
        return False
    return True


patterns = texts.filter(_compiles)
"""Regular expressions Python's ``re`` compiles (what ``naming:`` and ``matches:`` hold)."""
defaults = st.sampled_from(["None", "1", "-1.5", "'utf-8'", "[]", "f(x=1)", "a.b[0]", "{1: 2}"])


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


@st.composite
def param_tuples(draw: st.DrawFn) -> tuple[Param, ...]:
    """Parameters in an order Python allows: positional (no default after a default),
    ``*args``, keyword-only, ``**kwargs``; distinct names."""
    unique = draw(st.lists(names, max_size=5, unique=True))
    out: list[Param] = []
    had_default = False
    star = kw = False
    for name in unique:
        kind = draw(
            st.sampled_from(["positional", "var_positional", "keyword_only", "var_keyword"])
        )
        if kind == "var_keyword" or kw:
            if kw:
                break
            kw = True
            out.append(Param(name=name, type=draw(st.none() | type_exprs), kind="var_keyword"))
            continue
        if kind == "var_positional":
            if star:
                continue  # one `*` at most, before every keyword-only parameter
            star = True
            out.append(Param(name=name, type=draw(st.none() | type_exprs), kind="var_positional"))
            continue
        if kind == "keyword_only" or star:
            default = draw(st.none() | defaults)
            kind = "keyword_only"
            star = True  # a keyword-only parameter follows `*` or `*args`
        else:
            default = draw(defaults) if had_default else draw(st.none() | defaults)
            had_default = default is not None
        out.append(Param(name=name, type=draw(st.none() | type_exprs), default=default, kind=kind))
    return tuple(out)


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
    "params": _b(Params, params=param_tuples(), provenance=provenances),
    "signature": _b(
        Signature,
        name=names,
        params=param_tuples(),
        returns=st.none() | type_exprs,
        is_async=st.booleans(),
        provenance=provenances,
    ),
    "forbid": _b(Forbid, name=names, provenance=provenances),
    "require": _b(Require, name=names, provenance=provenances),
    "limit": _b(
        Limit,
        metric=st.sampled_from(["lines", "chars", "tokens"]),
        max=st.integers(1, 100_000),
        provenance=provenances,
    ),
    "naming": _b(
        Naming,
        style=st.sampled_from(["snake", "camel", "pascal", "screaming"]),
        pattern=st.none(),
        provenance=provenances,
    ),
    "naming_re": _b(Naming, style=st.none(), pattern=patterns, provenance=provenances),
    "imports": _b(
        ImportPolicy,
        allow=st.none() | st.lists(names, max_size=3).map(tuple),
        deny=st.lists(names.map(lambda n: n + "_denied"), max_size=3).map(tuple),
        provenance=provenances,
    ),
    "matches": _b(Matches, pattern=patterns, provenance=provenances),
    "validates": _b(Validates, target=names, provenance=provenances),
    "doc": _b(Doc, text=texts, role=st.sampled_from(["doc", "note"]), provenance=provenances),
}


@st.composite
def constraint_sets(draw: st.DrawFn, name: str, parents: list[str]) -> ConstraintSet:
    drawn = draw(st.lists(constraints(name), max_size=6))
    unique = list({c.id: c for c in drawn}.values())
    return ConstraintSet(
        name=name,
        constraints=tuple(unique),
        span=draw(st.none() | spans()),
        extends=tuple(draw(st.lists(st.sampled_from(parents), max_size=2))) if parents else (),
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
        unique_by=lambda f: f.name,
    ).map(tuple),
    span=st.none() | spans(),
)


@st.composite
def _modules(draw: st.DrawFn) -> Module:
    """Valid modules: what the Ariadne checker could have built (every set it extends
    defined, every schema named by ``validates`` declared)."""
    import msgspec

    declared = draw(st.lists(schemas, max_size=2, unique_by=lambda s: s.name))
    sets: list[ConstraintSet] = []
    for name in draw(st.lists(names, max_size=3, unique=True)):
        cset = draw(constraint_sets(name, [s.name for s in sets]))
        fixed = [
            msgspec.structs.replace(c, schema=draw(st.sampled_from(declared)).name)
            if isinstance(c, Validates) and declared and draw(st.booleans())
            else c
            for c in cset.constraints
        ]
        sets.append(msgspec.structs.replace(cset, constraints=tuple(fixed)))
    return Module(
        sources=tuple(draw(st.lists(texts, max_size=2))), sets=tuple(sets), schemas=tuple(declared)
    )


modules = _modules()
