"""``inline-extends``: every set receives the constraints of the sets it extends.

Parents are inlined depth first, in the order ``extends`` names them; inherited
constraints keep their ids and provenance, so diagnostics and ``arc explain`` point at the
file that wrote them. A child's ``override`` property replaces every inherited constraint
of that property (recorded as an ``override`` resolution); without ``override`` the
child's constraints are added next to the inherited ones, and the later passes merge or
weigh them. A cycle of ``extends`` is an error that shows the chain.

One exception: a child's own ``name``, ``params`` or ``returns`` refines an inherited
``signature`` rather than contradicting it. The signature takes the child's value for that
part and keeps the rest (its async-ness, the other parts), so ``name: process`` under
``signature: async handle(request: Request) -> Response`` pins
``async process(request: Request) -> Response``. It is recorded as an ``override``
resolution that drops nothing.

The pass is idempotent: a constraint whose id the set already holds is not added again.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from ..constraint import (
    Constraint,
    ConstraintSet,
    FunctionName,
    Module,
    Params,
    Resolution,
    Returns,
    Signature,
    SourceProvenance,
    property_of,
)
from ..diagnostics import Diagnostics, Label, quote
from ..source import Span
from .describe import describe

__all__ = ["InlineExtends"]


@dataclass(frozen=True)
class InlineExtends:
    name = "inline-extends"

    def run(self, module: Module, diags: Diagnostics) -> Module:
        by_name = {s.name: s for s in module.sets}
        done: dict[str, ConstraintSet] = {}
        cycles: set[frozenset[str]] = set()
        for s in module.sets:
            self._inline(s.name, by_name, done, [], cycles, diags)
        return msgspec.structs.replace(module, sets=tuple(done.get(s.name, s) for s in module.sets))

    def _inline(
        self,
        name: str,
        by_name: dict[str, ConstraintSet],
        done: dict[str, ConstraintSet],
        path: list[str],
        cycles: set[frozenset[str]],
        diags: Diagnostics,
    ) -> ConstraintSet | None:
        if name in done:
            return done[name]
        cset = by_name[name]
        if name in path:
            chain = [*path[path.index(name) :], name]
            if frozenset(chain) not in cycles:  # one report per cycle, from where it is met
                cycles.add(frozenset(chain))
                self._cycle(chain, by_name, diags)
            return None
        inherited: list[Constraint] = []
        for parent_name, span in zip(cset.extends, _spans(cset), strict=True):
            if parent_name not in by_name:
                diags.error(
                    "unknown-constraint",
                    f"{quote(cset.name)} extends {quote(parent_name)}, which the module does not "
                    "define",
                    *([Label(span=span, message="not defined")] if span else []),
                )
                continue
            parent = self._inline(parent_name, by_name, done, [*path, name], cycles, diags)
            if parent is None:
                continue
            if parent.language != cset.language:
                diags.error(
                    "conflicting-properties",
                    f"{quote(cset.name)} ({cset.language} output) extends {quote(parent_name)} "
                    f"({parent.language} output)",
                    *([Label(span=span, message=f"a {parent.language} set")] if span else []),
                    help="extend sets that describe the same kind of output",
                )
                continue
            have = {c.id for c in inherited}
            inherited.extend(c for c in parent.constraints if c.id not in have)
        # What an earlier run decided stays decided: a dropped constraint is not inherited
        # again, and what an earlier run left in the set stands as it is (merge may have
        # combined an inherited constraint with others under its id).
        gone = {d for r in cset.resolutions for d in r.dropped}
        held = {c.id: c for c in cset.constraints}
        pending = [
            c for c in cset.constraints if c.override and not _already(cset.resolutions, c.id)
        ]
        if all(c.id in held or c.id in gone for c in inherited) and not pending:
            # Inlined by an earlier run (or nothing to inherit): the set stands as it is.
            done[name] = cset
            return cset
        inherited = [held.get(c.id, c) for c in inherited if c.id not in gone]
        inherited_ids = {i.id for i in inherited}
        own = [c for c in cset.constraints if c.id not in inherited_ids]
        resolutions = list(cset.resolutions)
        kept_inherited = inherited
        for c in own:
            if not c.override:
                continue
            replaced = [i for i in kept_inherited if property_of(i) == property_of(c)]
            if not replaced:
                # On a second run the replaced constraints are gone already (recorded); a
                # part of an inherited signature is refined below.
                refines = isinstance(c, _PARTS) and any(
                    isinstance(i, Signature) for i in kept_inherited
                )
                if not refines and not _already(resolutions, c.id):
                    self._nothing_to_override(cset, c, diags)
                continue
            gone_now = {r.id for r in replaced}
            kept_inherited = [i for i in kept_inherited if i.id not in gone_now]
            _record(resolutions, c, replaced)
        kept_inherited = _refined(kept_inherited, own, resolutions)
        result = msgspec.structs.replace(
            cset,
            constraints=(*kept_inherited, *own),
            resolutions=tuple(resolutions),
        )
        done[name] = result
        return result

    def _cycle(
        self, chain: list[str], by_name: dict[str, ConstraintSet], diags: Diagnostics
    ) -> None:
        labels: list[Label] = []
        for child, parent in itertools.pairwise(chain):
            cset = by_name[child]
            for p, span in zip(cset.extends, _spans(cset), strict=True):
                if p == parent and span is not None:
                    labels.append(
                        Label(
                            span=span,
                            message=f"{quote(child)} extends {quote(parent)}",
                            primary=not labels,
                        )
                    )
        diags.error(
            "extends-cycle",
            "cycle of `extends`: "
            + quote(" extends ".join(quote(n) for n in chain), ticks=False, limit=300),
            *labels,
            help="a set cannot inherit from itself; move what they share into a third set "
            "that both extend",
        )

    def _nothing_to_override(self, cset: ConstraintSet, c: Constraint, diags: Diagnostics) -> None:
        prop = property_of(c)
        span = c.provenance.span if isinstance(c.provenance, SourceProvenance) else None
        parents = quote(", ".join(quote(p) for p in cset.extends), ticks=False) or "no set"
        diags.error(
            "nothing-to-override",
            f"`override {prop}` in {quote(cset.name)}, but {parents} gives no `{prop}`",
            *([Label(span=span, message="overrides nothing")] if span else []),
            help="remove `override`: the property is simply added next to what the set inherits",
        )


_PARTS = (FunctionName, Params, Returns)
"""The properties that pin one part of a signature."""


def _refined(
    inherited: list[Constraint], own: list[Constraint], resolutions: list[Resolution]
) -> list[Constraint]:
    """``inherited`` with every signature refined by the set's own name, parameters and
    return type; each change recorded."""
    parts = [c for c in own if isinstance(c, _PARTS)]
    if not parts:
        return inherited
    out: list[Constraint] = []
    for i in inherited:
        if isinstance(i, Signature):
            for c in parts:
                before = i
                if isinstance(c, FunctionName) and c.name != i.name:
                    i = msgspec.structs.replace(i, name=c.name)
                elif isinstance(c, Params) and c.params != i.params:
                    i = msgspec.structs.replace(i, params=c.params)
                elif isinstance(c, Returns) and c.type != i.returns:
                    i = msgspec.structs.replace(i, returns=c.type)
                if i is not before:
                    resolutions.append(
                        Resolution(
                            rule="override",
                            kept=c.id,
                            kept_provenance=c.provenance,
                            dropped=(),
                            dropped_provenance=(),
                            summary=f"{describe(c)} refines the inherited {describe(before)}: "
                            f"the function is {_shown(i)}",
                        )
                    )
        out.append(i)
    return out


def _shown(s: Signature) -> str:
    """``async process(request, ...) -> Response``: the signature in short."""
    params = ", ".join(p.name for p in s.params)
    returns = f" -> {s.returns}" if s.returns is not None else ""
    return f"{'async ' if s.is_async else ''}{s.name}({params}){returns}"


def _spans(cset: ConstraintSet) -> list[Span | None]:
    spans: list[Span | None] = list(cset.extends_spans)
    return spans + [None] * (len(cset.extends) - len(spans))


def _already(resolutions: Sequence[Resolution], kept: str) -> bool:
    return any(r.rule == "override" and r.kept == kept for r in resolutions)


def _record(resolutions: list[Resolution], c: Constraint, replaced: list[Constraint]) -> None:
    if _already(resolutions, c.id):
        return
    resolutions.append(
        Resolution(
            rule="override",
            kept=c.id,
            kept_provenance=c.provenance,
            dropped=tuple(r.id for r in replaced),
            dropped_provenance=tuple(r.provenance for r in replaced),
            summary=f"{describe(c)} overrides {', '.join(describe(r) for r in replaced)}",
        )
    )
