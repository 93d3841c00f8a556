"""The ``lower`` pass: ConstraintIR → GrammarIR plus an enforcement plan, per target.

Each constraint gets one enforcement level for the target, with the reason:

* ``token``: the grammar makes every violation impossible;
* ``post``: checked after generation (the grammar may still narrow it: ``detail`` says
  exactly how);
* ``prompt``: advice only.

The grammar of code comes from the set's language, asked through the registry of
:mod:`ananke.ir.lower.language`; a JSON document or a string of a given grammar is lowered
here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import msgspec
from ananke.ir.constraint import (
    Constraint,
    ConstraintSet,
    Doc,
    Limit,
    Module,
    OutputGrammar,
    Returns,
    Schema,
    SourceProvenance,
)
from ananke.ir.diagnostics import Diagnostics, Label, quote
from ananke.ir.grammar import Expr, Grammar, JsonSchema, Rule
from ananke.ir.plan import Enforcement, Level, Lowered

from .language import DOCUMENT_LANGUAGES, get

__all__ = ["LowerToGrammar", "lower", "span_label"]


@dataclass(frozen=True)
class LowerToGrammar:
    """Lower every constraint set of a module to the reference grammar (llguidance's
    semantics); ``target`` labels the plan.

    ``demote`` maps constraint ids to the reason a target cannot enforce them in its
    grammar: those are left out of the grammar and checked after generation instead.
    """

    name = "lower"
    target: str = "llguidance"
    max_nesting: int | None = None
    """Deepest block nesting (None: the language's default)."""
    demote: Mapping[str, str] = field(default_factory=dict)

    def run(self, module: Module, diags: Diagnostics) -> tuple[Lowered, ...]:
        return tuple(self.lower_set(cset, diags, module.schemas) for cset in module.sets)

    def lower_set(
        self, cset: ConstraintSet, diags: Diagnostics, schemas: tuple[Schema, ...] = ()
    ) -> Lowered:
        if cset.language in DOCUMENT_LANGUAGES or cset.of_kind(OutputGrammar):
            return self._lower_format(cset, diags, schemas)
        return get(cset.language).lower_set(
            cset, diags, target=self.target, demote=self.demote, max_nesting=self.max_nesting
        )

    def _lower_format(
        self, cset: ConstraintSet, diags: Diagnostics, schemas: tuple[Schema, ...]
    ) -> Lowered:
        """A set whose output is a JSON document or a string of a given grammar."""
        from ananke.ir.jsonschema import UnknownType, document_schema

        plan: list[Enforcement] = []
        body: Expr = JsonSchema(schema="{}")
        grammar: Grammar | None = None
        origins: list[str] = []
        for c in cset.constraints:
            kind: str = c.__struct_config__.tag  # type: ignore[assignment]
            lvl: Level
            if c.id in self.demote:
                lvl, reason, detail = "post", f"{self.target} cannot enforce it", self.demote[c.id]
            elif isinstance(c, Returns):
                lvl, reason, detail = "token", "the grammar embeds the document's JSON schema", ""
                try:
                    body = JsonSchema(schema=document_schema(c.type, {s.name: s for s in schemas}))
                    origins.append(c.id)
                except UnknownType as exc:
                    diags.error(
                        "unknown-schema",
                        f"{quote(str(c.type))} has no JSON schema: {exc}",
                        *span_label(c, f"{quote(exc.name)} is unknown here", True),
                        help="declare it with `schema NAME { ... }` or use a JSON type "
                        "(str, int, float, bool, List<T>, Dict<str, T>, Optional<T>)",
                    )
            elif isinstance(c, OutputGrammar):
                lvl, reason = "token", "the grammar is the given one"
                detail = (
                    f"{c.dialect} grammar {c.file or '(embedded)'}, start rule {c.grammar.start}"
                )
                grammar = c.grammar
                origins.append(c.id)
            elif isinstance(c, Doc):
                lvl, reason, detail = "prompt", "advisory text for the prompt; not enforced", ""
            elif isinstance(c, Limit) and c.metric == "tokens":
                lvl, reason = "post", "token counts depend on the model's tokenizer"
                detail = f"also set the request's max_tokens to {c.max}"
            else:
                lvl, reason, detail = "post", f"{kind} is checked after generation", ""
            plan.append(
                Enforcement(
                    constraint_id=c.id,
                    kind=kind,
                    level=lvl,
                    reason=reason,
                    target=self.target,
                    detail=detail,
                    demoted=c.id in self.demote,
                )
            )
        if grammar is None:
            rule = Rule(name="start", body=body, origins=tuple(origins))
            grammar = Grammar(start="start", rules=(rule,))
            note = "the output is one JSON document" + (
                "" if origins else " (any JSON value: no `returns` gives its type)"
            )
        else:
            grammar = msgspec.structs.replace(
                grammar,
                rules=tuple(
                    msgspec.structs.replace(r, origins=(*r.origins, *origins))
                    if r.name == grammar.start
                    else r
                    for r in grammar.rules
                ),
            )
            note = "the output is a string of the given grammar"
        return Lowered(
            set_name=cset.name,
            target=self.target,
            grammar=grammar,
            enforcements=tuple(plan),
            notes=(note,),
        )


def span_label(c: Constraint, message: str, primary: bool) -> list[Label]:
    """A label on ``c``'s place in the source; none for a constraint made elsewhere."""
    if isinstance(c.provenance, SourceProvenance):
        return [Label(span=c.provenance.span, message=message, primary=primary)]
    return []


def lower(
    module: Module,
    *,
    target: str = "llguidance",
    diags: Diagnostics,
    max_nesting: int | None = None,
    demote: Mapping[str, str] | None = None,
) -> tuple[Lowered, ...]:
    """Lower every constraint set of ``module`` (one :class:`Lowered` each) to the reference
    grammar, labelled for ``target``; see :class:`LowerToGrammar`.

    ``module`` is expected composed (:func:`ananke.ir.compose.compose`, as every ``arc``
    command does): lowering reads each set's own constraints, so a set that ``extends``
    others lowers without what it inherits until the composition passes have run."""
    return LowerToGrammar(target=target, max_nesting=max_nesting, demote=demote or {}).run(
        module, diags
    )
