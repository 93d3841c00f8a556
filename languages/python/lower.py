"""Python as a language of the lower pass: how each constraint of a set is enforced in the
grammar of one function definition (:mod:`.grammar`), and what ``detect-conflicts`` asks
of Python (names, naming styles, the words a pinned ``def`` line spells)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ananke.ir.constraint import (
    Constraint,
    ConstraintSet,
    Doc,
    Forbid,
    FunctionName,
    ImportPolicy,
    Limit,
    Matches,
    Naming,
    NamingStyle,
    Param,
    Params,
    Require,
    Returns,
    Signature,
    Validates,
)
from ananke.ir.diagnostics import Diagnostics, quote
from ananke.ir.lower import span_label
from ananke.ir.plan import Enforcement, Level, Lowered
from ananke.ir.regex import grammar_regex

from . import grammar as pg
from . import signature as sig
from .escapes import forbid_notes
from .grammar import IDENTIFIER
from .keywords import KEYWORDS, SOFT_KEYWORDS
from .naming import NAMING_STYLES
from .signature import pinned_words

__all__ = ["PythonLanguage"]


class PythonLanguage:
    """The output is one Python function definition."""

    name = "python"
    output = "Python function definition"
    pattern_help = (
        "fix the pattern: every output is one whole function definition (a `def` line, "
        "its parameters in parentheses, a body), every line ending in a newline"
    )
    identifier = IDENTIFIER
    naming_styles: Mapping[NamingStyle, str] = NAMING_STYLES

    def pinned_words(
        self, params: Sequence[Param] | None, is_async: bool | None
    ) -> list[tuple[str, str]]:
        return pinned_words(params, is_async)

    def lower_set(
        self,
        cset: ConstraintSet,
        diags: Diagnostics,
        *,
        target: str,
        demote: Mapping[str, str],
        max_nesting: int | None,
    ) -> Lowered:
        plan: list[Enforcement] = []

        def level(
            c: Constraint, lvl: Level, reason: str, detail: str = "", narrows: bool = False
        ) -> None:
            plan.append(
                Enforcement(
                    constraint_id=c.id,
                    kind=c.__struct_config__.tag,  # type: ignore[arg-type]
                    level=lvl,
                    reason=reason,
                    target=target,
                    detail=detail,
                    narrows=narrows,
                    demoted=c.id in demote,
                )
            )

        pinned = [
            c.name
            for c in cset.constraints
            if isinstance(c, FunctionName | Signature) and c.id not in demote
        ]
        name: str | None = pinned[-1] if pinned else None
        name_pattern: str | None = None
        params: str | None = None
        returns: tuple[str, ...] | None = None
        is_async: bool | None = None
        shape_origins: list[str] = []
        name_origins: list[str] = []
        forbid: list[str] = []
        forbid_origins: list[str] = []
        block_lines: int | None = None
        block_origins: list[str] = []
        # The pinned def line's annotations avoid the names the grammar forbids.
        avoid = frozenset(
            c.name for c in cset.of_kind(Forbid) if "." not in c.name and c.id not in demote
        )
        async_free = not any(
            isinstance(c, Signature) and c.id not in demote for c in cset.constraints
        )
        for c in cset.constraints:
            if c.id in demote:
                level(c, "post", f"{target} cannot enforce it in its grammar", demote[c.id])
                continue
            match c:
                case Returns():
                    returns = (sig.returns_regex(c.type, avoid),)
                    shape_origins.append(c.id)
                    level(c, "token", "the def line's return annotation is fixed in the grammar")
                case FunctionName():
                    shape_origins.append(c.id)
                    level(c, "token", "the def line's name is fixed in the grammar")
                case Params():
                    params = sig.params_regex(c.params, avoid)
                    shape_origins.append(c.id)
                    level(c, "token", "the def line's parameter list is fixed in the grammar")
                case Signature():
                    params = sig.params_regex(c.params, avoid)
                    if c.returns is not None:  # without `->`, `returns` decides
                        returns = (sig.returns_regex(c.returns, avoid),)
                    is_async = c.is_async
                    shape_origins.append(c.id)
                    level(c, "token", "the whole def line is fixed in the grammar")
                case Forbid() if c.name.startswith("."):
                    attr = c.name[1:]
                    level(
                        c,
                        "post",
                        "an attribute of any object is checked after generation",
                        f"the validator rejects `x.{attr}` on any object, and `{attr}` as a "
                        f'constant string in `getattr(x, "{attr}")`, `setattr`, `delattr`, '
                        "`__getattribute__` and `operator.attrgetter`",
                    )
                case Forbid() if "." not in c.name:
                    forbid.append(c.name)
                    forbid_origins.append(c.id)
                    level(c, "token", *_plain_forbid(c.name, async_free))
                case Forbid():
                    level(
                        c,
                        "post",
                        "a qualified name spans several lexemes; checked after generation",
                        f"the validator rejects `{c.name}`, `from "
                        f"{c.name.rsplit('.', 1)[0]} import {c.name.rsplit('.', 1)[1]}`, uses "
                        "through aliases made in the function and lookups by constant "
                        "strings (see the notes)",
                    )
                case Require():
                    level(
                        c,
                        "post",
                        "a grammar cannot require a name somewhere in the body",
                        f"a use of `{c.name}` or an attribute of that name "
                        f"(`x.{c.name}`) satisfies it"
                        if "." not in c.name
                        else f"a use of `{c.name}`, also through an alias, satisfies it",
                    )
                case Limit(metric="lines"):
                    block_lines = c.max if block_lines is None else min(block_lines, c.max)
                    block_origins.append(c.id)
                    level(
                        c,
                        "post",
                        "the number of physical lines is counted after generation",
                        f"the grammar allows at most {c.max} statements in any one block; the "
                        f"post check counts physical lines of the whole function "
                        f"(at most {c.max}, a final newline does not start a line)",
                        narrows=True,
                    )
                case Limit(metric="chars"):
                    level(c, "post", "character counts are checked after generation")
                case Limit():
                    level(
                        c,
                        "post",
                        "token counts depend on the model's tokenizer",
                        f"also set the request's max_tokens to {c.max}",
                    )
                case Naming():
                    pattern = (
                        grammar_regex(c.pattern) if c.pattern else NAMING_STYLES[c.style or "snake"]
                    )
                    if name is None and pattern is not None:
                        name_pattern = pattern
                        name_origins.append(c.id)
                        detail = "the grammar restricts the function name to it"
                    elif name is None:
                        detail = (
                            "the pattern uses anchors inside, lookaround or backreferences, "
                            "which the grammar cannot express: the function name is also "
                            "checked after generation"
                        )
                    else:
                        detail = "the function name is pinned by another constraint"
                    if c.scope == "all":
                        what = "parameter, local variable and nested function names are"
                    else:
                        what = "parameter names are"
                        detail += (
                            "; local variables and nested functions are not covered "
                            "(`scope: all` covers them)"
                        )
                    level(
                        c,
                        "post",
                        f"{what} checked after generation",
                        detail,
                        narrows=c.id in name_origins,
                    )
                case ImportPolicy():
                    level(c, "post", "import statements are checked after generation")
                case Matches():
                    level(
                        c,
                        "post",
                        "a regex over the whole output cannot be intersected with the "
                        "code grammar; checked after generation",
                    )
                case Validates():
                    level(
                        c,
                        "post",
                        f"the body must reference `{c.target}`; checked after generation",
                        "the schema's fields are advisory text for the prompt"
                        if c.schema
                        else "no schema of that name in the module: taken as a validator "
                        "defined in your code",
                    )
                case Doc():
                    level(c, "prompt", "advisory text for the prompt; not enforced")
        _check_def_line(cset, diags)
        if "async" in forbid and is_async is None:
            is_async = False
        nesting = pg.MAX_NESTING if max_nesting is None else max_nesting
        shape = pg.FunctionShape(
            name=name,
            name_pattern=name_pattern,
            params=params,
            returns=returns,
            is_async=is_async,
        )
        grammar = pg.build_grammar(
            pg.PythonGrammarOptions(
                shape=shape,
                forbid=tuple(sorted(set(forbid))),
                forbid_origins=tuple(forbid_origins),
                shape_origins=tuple(shape_origins),
                name_origins=tuple(name_origins),
                max_block_lines=block_lines,
                max_block_origins=tuple(block_origins),
                max_nesting=nesting,
            )
        )
        notes = (
            f"the output is one {cset.language} function definition, every line ending in a "
            "newline; its syntax beyond the structure below is checked after generation",
            f"indentation: one unit for the whole function (1 to {pg.MAX_INDENT_UNIT} spaces, "
            f"or a tab), a block nested k deep indented k units (k + 1 with a body at two "
            f"2- or 4-space units), blocks nested at most "
            f"{nesting} deep (written out per depth; --max-nesting) and "
            f"{pg.MAX_SPACE_COLUMNS} spaces or "
            f"{pg.MAX_TAB_COLUMNS} tabs",
            f"brackets nest at most {pg.MAX_BRACKET_DEPTH} deep within one logical line",
            # No code reaches a keyword without writing it: the ways around are for names.
            *forbid_notes([c.name for c in cset.of_kind(Forbid) if c.name not in KEYWORDS], forbid),
        )
        return Lowered(
            set_name=cset.name,
            target=target,
            grammar=grammar,
            enforcements=tuple(plan),
            notes=notes,
        )


def _check_def_line(cset: ConstraintSet, diags: Diagnostics) -> None:
    """A forbidden name that every ``def`` line must spell admits no output at all:
    ``def`` itself, a pinned function or parameter name, a word of a pinned default,
    ``async`` of a pinned ``async def``. (Composed modules have the conflicts reported
    by ``detect-conflicts``, and ``def`` by the checker, before this.)"""
    forbidden = {c.name: c for c in cset.of_kind(Forbid)}
    if "def" in forbidden:
        diags.error(
            "invalid-value",
            "`def` cannot be forbidden: every output is a function definition, whose own "
            "`def` line spells it",
            *span_label(forbidden["def"], "no function can do without it", True),
            help='remove "def": nested functions cannot be forbidden apart from the '
            "function itself",
        )
    for c in cset.constraints:
        if isinstance(c, FunctionName | Signature) and c.name in forbidden:
            f = forbidden[c.name]
            diags.error(
                "conflicting-properties",
                f"the function must be named {quote(c.name)}, which is also forbidden",
                *span_label(c, "the name is pinned here", True),
                *span_label(f, "and forbidden here", False),
                help="rename the function or drop the name from `forbid`",
            )
        if isinstance(c, Params | Signature):
            is_async = c.is_async if isinstance(c, Signature) else None
            for word, where in pinned_words(c.params, is_async):
                if word in forbidden:
                    diags.error(
                        "conflicting-properties",
                        f"the pinned def line spells {quote(word)} ({where}), which is "
                        "also forbidden",
                        *span_label(c, "pinned here", True),
                        *span_label(forbidden[word], "and forbidden here", False),
                        help="change the signature or drop the name from `forbid`",
                    )


_FREE_TEXT = (
    "strings and comments stay free; f-string replacement fields are read as code "
    "(Python 3.11's f-string rules)"
)
_SOFT_KEYWORD_USES = {
    "match": "the `match` statement",
    "case": "the `case` clauses of a `match` statement",
    "_": "the wildcard pattern `case _`",
    "type": "the `type` statement",
}


def _plain_forbid(name: str, async_free: bool) -> tuple[str, str]:
    """The reason and detail of ``arc explain`` for a forbidden plain name: what the
    grammar excludes, exactly."""
    if name in KEYWORDS:
        detail = (
            "also after '.' (`from . import x`); text that NFKC turns into it (full-width "
            f"letters) is a name to Python, excluded as well; {_FREE_TEXT}"
        )
        if name == "async" and async_free:
            detail = "the def line is not `async def`; " + detail
        return (
            "a keyword: excluded everywhere it can stand: statements, block openers and "
            "expressions",
            detail,
        )
    reason = "excluded from the identifier lexeme wherever a name stands bare"
    if name in SOFT_KEYWORDS:
        reason = (
            "a soft keyword and a name: excluded from the identifier lexeme wherever a name "
            f"stands bare, {_SOFT_KEYWORD_USES[name]} included"
        )
    return reason, f"attributes after '.', {_FREE_TEXT}"
