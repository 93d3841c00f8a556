"""The invariants of a ConstraintIR module: what the Ariadne checker guarantees of every
module it builds, and the composition passes keep.

A module compiled from source satisfies them by construction; a ``.cir`` file is data that
anyone may have edited, so :func:`problems` checks it field by field before anything is
lowered from it (``arc`` reports each problem as ``cir-invalid`` at the field). Every value
range, name and pattern the checker refuses in source is refused here too, with the path of
the field (``sets[0].constraints[2].max``).
"""

from __future__ import annotations

import functools
import keyword
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from .constraint import (
    CODE_PROPERTIES,
    LIMIT_CAPS,
    MAX_PRIORITY,
    MAX_TYPE_DEPTH,
    PROPERTY_NAMES,
    Constraint,
    ConstraintSet,
    Example,
    Forbid,
    FunctionName,
    ImportPolicy,
    Limit,
    Matches,
    Module,
    Naming,
    OutputGrammar,
    Param,
    Params,
    Require,
    Returns,
    Schema,
    Signature,
    TypeExpr,
    Validates,
    property_of,
)
from .grammar import Grammar, Regex, walk

__all__ = ["Problem", "problems", "python_default", "verify"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_ATTRIBUTE = re.compile(r"\.[A-Za-z_][A-Za-z0-9_]*\Z")
"""``forbid``'s attribute of any object: ``.__globals__``."""
_RULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KIND_ORDER = {"positional": 0, "var_positional": 1, "keyword_only": 2, "var_keyword": 3}


@dataclass(frozen=True)
class Problem:
    """One broken invariant: the field's path in the module and what is wrong with it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def problems(module: Module) -> list[Problem]:
    """Every broken invariant of ``module``, in the order of its fields."""
    return list(_module(module))


def verify(module: Module) -> None:
    """Check every invariant of ``module``; ``ValueError`` names the first broken one by
    its field (``sets[0].constraints[2].max: ...``).

    Set names are unique; within a set, constraint ids are unique; ``extends`` names sets
    of the module, with a span per parent (or none at all); every conflict names
    constraints the set holds, with one role each; what a resolution dropped is not in the
    set; and every value is one the Ariadne checker accepts in source (limits and
    priorities in range, names that are identifiers, patterns that compile, grammars whose
    rules are all defined). :func:`problems` lists them all.
    """
    found = problems(module)
    if found:
        raise ValueError(str(found[0]))


def _module(m: Module) -> Iterator[Problem]:
    names = [s.name for s in m.sets]
    schemas = {s.name for s in m.schemas}
    seen: set[str] = set()
    for i, s in enumerate(m.sets):
        at = f"sets[{i}]"
        if s.name in seen:
            yield Problem(f"{at}.name", f"two sets are named `{s.name}`")
        seen.add(s.name)
        if not _DOTTED.match(s.name):
            yield Problem(f"{at}.name", f"{_show(s.name)} is not a name or dotted name")
        yield from _set(s, at, names, schemas)
    seen = set()
    for i, schema in enumerate(m.schemas):
        yield from _schema(schema, f"schemas[{i}]", seen)


def _set(s: ConstraintSet, at: str, names: list[str], schemas: set[str]) -> Iterator[Problem]:
    ids = [c.id for c in s.constraints]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        yield Problem(f"{at}.constraints", f"set `{s.name}` holds two constraints `{dup}`")
    for k, parent in enumerate(s.extends):
        if parent not in names:
            yield Problem(f"{at}.extends[{k}]", f"`{s.name}` extends unknown `{parent}`")
    if s.extends_spans and len(s.extends_spans) != len(s.extends):
        yield Problem(f"{at}.extends_spans", "one span per parent in `extends`, or none")
    have = set(ids)
    for k, conflict in enumerate(s.conflicts):
        if not set(conflict.ids) <= have or len(conflict.roles) != len(conflict.ids):
            yield Problem(
                f"{at}.conflicts[{k}]",
                f"conflict `{conflict.kind}` names constraints the set does not hold",
            )
    for k, r in enumerate(s.resolutions):
        if set(r.dropped) & have:
            yield Problem(
                f"{at}.resolutions[{k}]",
                f"the resolution of `{r.kept}` dropped constraints the set still holds",
            )
    grammar = next((c for c in s.constraints if isinstance(c, OutputGrammar)), None)
    for j, c in enumerate(s.constraints):
        where = f"{at}.constraints[{j}]"
        yield from _constraint(c, where, s.language, schemas)
        prop = property_of(c)
        if (s.language == "json" or grammar is not None) and (
            prop in CODE_PROPERTIES or (prop == "returns" and grammar is not None)
        ):
            output = "JSON" if s.language == "json" else "a string of its grammar"
            yield Problem(
                where, f"`{prop}` constrains code, and the output of `{s.name}` is {output}"
            )
    if grammar is not None and s.language == "json":
        yield Problem(f"{at}.language", "a set with a `grammar` has no language of its own")
    for k, example in enumerate(s.examples):
        yield from _example(example, f"{at}.examples[{k}]")


def _constraint(c: Constraint, at: str, language: str, schemas: set[str]) -> Iterator[Problem]:
    if abs(c.priority) > MAX_PRIORITY:
        yield Problem(
            f"{at}.priority", f"{c.priority} is outside -{MAX_PRIORITY:,}..{MAX_PRIORITY:,}"
        )
    match c:
        case Limit():
            cap = LIMIT_CAPS[c.metric]
            if c.max > cap:
                yield Problem(
                    f"{at}.max", f"`max_{c.metric}` is at most {cap:,}, found {_num(c.max)}"
                )
        case FunctionName():
            yield from _function_name(c.name, f"{at}.name", language)
        case Params():
            yield from _params(c.params, f"{at}.params", language)
        case Signature():
            yield from _function_name(c.name, f"{at}.name", language)
            yield from _params(c.params, f"{at}.params", language)
            if c.returns is not None:
                yield from _type(c.returns, f"{at}.returns")
        case Returns():
            yield from _type(c.type, f"{at}.type")
        case Forbid() | Require():
            attribute = isinstance(c, Forbid) and _ATTRIBUTE.match(c.name) is not None
            if not (_DOTTED.match(c.name) or attribute):
                yield Problem(f"{at}.name", f"{_show(c.name)} is not an identifier or dotted name")
        case ImportPolicy():
            for key, items in (("allow", c.allow or ()), ("deny", c.deny)):
                for k, item in enumerate(items):
                    if not _DOTTED.match(item):
                        yield Problem(f"{at}.{key}[{k}]", f"{_show(item)} is not a module name")
            both = sorted(set(c.allow or ()) & set(c.deny))
            if both:
                yield Problem(f"{at}.deny", f"module `{both[0]}` is both allowed and denied")
        case Naming():
            if c.pattern is not None:
                yield from _regex(c.pattern, f"{at}.pattern")
        case Matches():
            yield from _regex(c.pattern, f"{at}.pattern")
        case Validates():
            if not _DOTTED.match(c.target):
                yield Problem(f"{at}.target", f"{_show(c.target)} is not a name or dotted name")
            if c.schema is not None and c.schema not in schemas:
                yield Problem(f"{at}.schema", f"the module declares no schema `{c.schema}`")
        case OutputGrammar():
            yield from _grammar(c.grammar, f"{at}.grammar")
        case _:
            pass


def _function_name(name: str, at: str, language: str) -> Iterator[Problem]:
    if not _IDENT.match(name):
        yield Problem(at, f"{_show(name)} is not an identifier")
    elif language == "python" and keyword.iskeyword(name):
        yield Problem(at, f"`{name}` is a Python keyword")


def _params(params: tuple[Param, ...], at: str, language: str) -> Iterator[Problem]:
    seen: set[str] = set()
    order = 0
    had_default = False
    for k, p in enumerate(params):
        where = f"{at}[{k}]"
        yield from _function_name(p.name, f"{where}.name", language)
        if p.name in seen:
            yield Problem(f"{where}.name", f"parameter `{p.name}` appears twice")
        seen.add(p.name)
        rank = _KIND_ORDER[p.kind]
        if rank < order or (rank == order and rank in (1, 3)):
            yield Problem(f"{where}.kind", f"a `{p.kind}` parameter cannot come here")
            continue
        order = rank
        if p.kind == "positional":
            if p.default is not None:
                had_default = True
            elif had_default:
                yield Problem(
                    where, f"parameter `{p.name}` without a default follows one with a default"
                )
        if p.default is not None and p.kind in ("var_positional", "var_keyword"):
            yield Problem(f"{where}.default", "a variadic parameter has no default")
        elif p.default is not None and language == "python" and not python_default(p.default):
            yield Problem(f"{where}.default", f"{_show(p.default)} is not a Python expression")
        if p.type is not None:
            yield from _type(p.type, f"{where}.type")


def _type(t: TypeExpr, at: str, depth: int = 1) -> Iterator[Problem]:
    if depth > MAX_TYPE_DEPTH:
        yield Problem(at, f"types nest at most {MAX_TYPE_DEPTH} deep")
        return
    if not _DOTTED.match(t.name):
        yield Problem(f"{at}.name", f"{_show(t.name)} is not a type name")
    for k, arg in enumerate(t.args):
        yield from _type(arg, f"{at}.args[{k}]", depth + 1)


def _schema(s: Schema, at: str, seen: set[str]) -> Iterator[Problem]:
    if s.name in seen:
        yield Problem(f"{at}.name", f"two schemas are named `{s.name}`")
    seen.add(s.name)
    if not _DOTTED.match(s.name):
        yield Problem(f"{at}.name", f"{_show(s.name)} is not a name or dotted name")
    fields: set[str] = set()
    for k, f in enumerate(s.fields):
        if not _IDENT.match(f.name):
            yield Problem(f"{at}.fields[{k}].name", f"{_show(f.name)} is not an identifier")
        elif f.name in fields:
            yield Problem(f"{at}.fields[{k}].name", f"field `{f.name}` is defined twice")
        fields.add(f.name)
        yield from _type(f.type, f"{at}.fields[{k}].type")


def _example(e: Example, at: str) -> Iterator[Problem]:
    if e.by is None:
        return
    head, _, item = e.by.partition(".")
    if e.accept:
        yield Problem(f"{at}.by", "an accepted example has nothing to be rejected by")
    elif head not in (*PROPERTY_NAMES, "syntax") or head in ("doc", "note", "language"):
        yield Problem(f"{at}.by", f"{_show(e.by)} names nothing that can reject a text")
    elif item and not (
        (head in ("forbid", "require") and _DOTTED.match(item))
        or (head == "forbid" and _ATTRIBUTE.match(item))
    ):
        yield Problem(f"{at}.by", f"{_show(e.by)} names no item of a list property")


def _grammar(g: Grammar, at: str) -> Iterator[Problem]:
    for k, rule in enumerate(g.rules):
        if not _RULE_NAME.match(rule.name):
            yield Problem(f"{at}.rules[{k}].name", f"{_show(rule.name)} is not a rule name")
    try:
        g.verify()
    except ValueError as e:
        yield Problem(f"{at}.rules", str(e))
    for k, rule in enumerate(g.rules):
        for node in walk(rule.body):
            if isinstance(node, Regex):
                complaint = _regex_problem(node.pattern)
                if complaint:
                    yield Problem(f"{at}.rules[{k}]", f"regex {_show(node.pattern)}: {complaint}")


def _regex(pattern: str, at: str) -> Iterator[Problem]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as e:
        yield Problem(at, f"invalid regular expression: {e}")
        return
    from .pyre import UnsupportedPattern, compile_pattern

    try:
        compile_pattern(pattern)
    except UnsupportedPattern as e:
        yield Problem(at, f"this pattern cannot be checked in linear time: {e.reason}")


@functools.lru_cache(maxsize=4096)
def python_default(text: str) -> bool:
    """Whether ``text`` is one Python expression that can stand as a parameter's default
    (``def f(x=TEXT):``): a function's pinned default is matched literally, so one that is
    not Python would admit no valid code."""
    import ast

    src = f"def f(x={text}):\n    pass\n"
    try:
        tree = ast.parse(src)
        # Alone between brackets too: `1):#` or `1) or (2` complete the def, not an expression.
        ast.parse(f"({text}\n)", mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return False
    args = tree.body[0].args
    return (
        [a.arg for a in args.args] == ["x"]
        and len(args.defaults) == 1
        and not (args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg)
        and len(tree.body[0].body) == 1
    )


@functools.lru_cache(maxsize=4096)
def _regex_problem(pattern: str) -> str:
    """llguidance's complaint about a lexeme's regex ("" when it reads it)."""
    import llguidance

    complaint = str(
        llguidance.LLMatcher.validate_grammar(llguidance.grammar_from("regex", pattern), None)
    )
    return complaint.strip().splitlines()[0] if complaint.strip() else ""


def _show(value: str) -> str:
    """A value quoted for a message: escaped as a Python string is, and cut to a line's
    worth."""
    text = repr(value)[1:-1]
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"


def _num(n: int) -> str:
    digits = str(n)
    return digits if len(digits) <= 24 else f"a number of {len(digits)} digits"
