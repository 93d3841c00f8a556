"""The words a model is given: the intent, and the constraints the grammar cannot carry.

The grammar enforces ``token``-level constraints whatever the model does; the prompt tells
the model every constraint anyway (a model that knows the rules wastes fewer tokens
against the grammar), and is the only place ``doc``, ``note`` and ``prompt``-level
constraints reach. Chat models get the rules as the system message and the intent as the
user message; completion models get one document with the same parts. A repair attempt
adds the previous output and what its checks found.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass

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
    OutputGrammar,
    Params,
    Require,
    Returns,
    Signature,
    TypeExpr,
    Validates,
)
from ananke.ir.plan import Enforcement

from .protocol import Prompt

__all__ = ["ContextFile", "Feedback", "build_prompt", "describe"]

_OUTPUTS = {"python": "Python function definition", "json": "JSON document"}
_NAMING = {
    "snake": "snake_case",
    "camel": "camelCase",
    "pascal": "PascalCase",
    "screaming": "SCREAMING_SNAKE_CASE",
}
_METRICS = {"lines": "lines", "chars": "characters", "tokens": "tokens"}


@dataclass(frozen=True)
class ContextFile:
    """A file the user gave as context (``--context``): shown to the model as is."""

    name: str
    text: str


@dataclass(frozen=True)
class Feedback:
    """What a failed attempt produced and what its checks found, for the next attempt."""

    code: str
    problems: tuple[str, ...]


def _type(t: TypeExpr, language: str) -> str:
    """``t`` as ``language`` writes it (its canonical spelling), or as Ariadne does."""
    try:
        types = importlib.import_module(f"ananke.languages.{language}.types")
    except ImportError:
        types = None
    render = getattr(types, "render_type", None)
    if render is not None:
        spellings = render(t)
        if spellings:
            return str(spellings[0])
    if not t.args:
        return t.name
    return f"{t.name}<{', '.join(_type(a, language) for a in t.args)}>"


def _params(c: Params | Signature, language: str) -> str:
    out = []
    for p in c.params:
        prefix = {"var_positional": "*", "var_keyword": "**"}.get(p.kind, "")
        text = prefix + p.name
        if p.type is not None:
            text += f": {_type(p.type, language)}"
        if p.default is not None:
            text += f" = {p.default}"
        out.append(text)
    return ", ".join(out)


def _ticks(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def describe(c: Constraint, language: str) -> str | None:
    """One sentence saying what ``c`` asks of the code (None for ``doc``/``note``, which
    the prompt shows as they are written, and for ``forbid``, which it lists together)."""
    if isinstance(c, Returns):
        return f"Its return type is `{_type(c.type, language)}`, written as its annotation."
    if isinstance(c, FunctionName):
        return f"The function is named `{c.name}`."
    if isinstance(c, Params):
        return f"Its parameters are exactly `({_params(c, language)})`."
    if isinstance(c, Signature):
        head = "async def" if c.is_async else "def"
        ret = f" -> {_type(c.returns, language)}" if c.returns is not None else ""
        return f"Its signature is `{head} {c.name}({_params(c, language)}){ret}`."
    if isinstance(c, Require):
        return f"It uses `{c.name}`."
    if isinstance(c, Limit):
        return f"It is at most {c.max} {_METRICS[c.metric]} long."
    if isinstance(c, Naming):
        what = (
            "the function's name and its parameters"
            if c.scope == "signature"
            else "every name it defines"
        )
        rule = _NAMING[c.style] if c.style else f"the regular expression `{c.pattern}`"
        return f"Names follow {rule}: {what}."
    if isinstance(c, ImportPolicy):
        parts = []
        if c.allow is not None:
            parts.append(
                f"It imports only {_ticks(c.allow)}." if c.allow else "It imports nothing."
            )
        if c.deny:
            parts.append(f"It never imports {_ticks(c.deny)}.")
        return " ".join(parts) or None
    if isinstance(c, Matches):
        return f"The whole text matches the regular expression `{c.pattern}`."
    if isinstance(c, Validates):
        return f"It validates its input with `{c.target}` before using it."
    if isinstance(c, OutputGrammar):
        return "Its text follows the grammar the decoder enforces."
    return None


def _rules(cset: ConstraintSet, levels: dict[str, Enforcement]) -> list[str]:
    rules: list[str] = []
    forbidden: list[str] = []
    for c in cset.constraints:
        if isinstance(c, Forbid):
            forbidden.append(c.name)
            continue
        sentence = describe(c, cset.language)
        if sentence is None:
            continue
        e = levels.get(c.id)
        soft = " (preferred, not required)" if c.strength == "soft" else ""
        checked = " Checked after generation." if e is not None and e.level == "post" else ""
        rules.append(f"- {sentence}{soft}{checked}")
    if forbidden:
        rules.append(f"- It never uses these names: {_ticks(forbidden)}.")
    return rules


def build_prompt(
    intent: str,
    cset: ConstraintSet,
    enforcements: Sequence[Enforcement],
    *,
    context: Sequence[ContextFile] = (),
    feedback: Sequence[Feedback] = (),
) -> Prompt:
    """The prompt for ``intent`` under ``cset``, whose constraints are enforced as
    ``enforcements`` say; ``context`` files are shown to the model, and ``feedback`` holds
    the earlier attempts of a repair (the last one is shown)."""
    language = cset.language
    output = _OUTPUTS.get(language, f"{language} text")
    levels = {e.constraint_id: e for e in enforcements}
    docs = [c.text for c in cset.constraints if isinstance(c, Doc) and c.role == "doc"]
    notes = [c.text for c in cset.constraints if isinstance(c, Doc) and c.role == "note"]
    lines = [
        f"You write exactly one {output}. Reply with the code only: no explanation, "
        "no Markdown fences."
    ]
    for d in docs:
        lines += ["", f"What it does: {d}"]
    rules = _rules(cset, levels)
    if rules:
        lines += ["", "It must respect these constraints:", *rules]
    if notes:
        lines += ["", "Notes:", *(f"- {n}" for n in notes)]
    system = "\n".join(lines)

    parts = [intent.strip()]
    for f in context:
        parts.append(f"Context: {f.name}\n```\n{f.text.rstrip()}\n```")
    if feedback:
        last = feedback[-1]
        problems = "\n".join(f"- {p}" for p in last.problems)
        parts.append(
            "Your previous answer was:\n```\n"
            + last.code.rstrip()
            + "\n```\nIt failed these checks:\n"
            + problems
            + "\nWrite it again, fixing every one of them."
        )
    user = "\n\n".join(parts)
    text = f"{system}\n\nTask: {user}\n\nAnswer:\n"
    return Prompt(system=system, user=user, text=text)
