"""The composition passes over the ConstraintIR (Braid). Each pass is a frozen class with
a kebab-case ``name`` and ``run(module, diagnostics) -> Module`` (:class:`ModulePass`).

The composition passes (Braid) run in this order, :data:`PIPELINE`:

1. ``inline-extends``: every set receives its parents' constraints; ``override``
   replaces; cycles are errors.
2. ``merge``: limits of one metric intersect, import policies intersect, repeated
   constraints are kept once.
3. ``detect-conflicts``: contradictions are recorded on their set.
4. ``resolve-conflicts``: each is settled by strength, priority and provenance, or
   reported as an error. Settling can expose a new conflict, so 3 and 4 repeat until
   nothing changes.

Each pass needs the ones before it to have run (merge compares what inheritance
gathered, resolution settles what detection found), and every one is idempotent, so a
``.cir`` file that went through some of them can go through the whole pipeline. Lowering
to grammars (:mod:`ananke.ir.lower`) comes after, per target.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..constraint import Module
from ..diagnostics import Diagnostics
from ..verify import verify as verify_module
from .detect_conflicts import DetectConflicts
from .inline_extends import InlineExtends
from .merge import Merge
from .resolve_conflicts import PRECEDENCE, ResolveConflicts

__all__ = [
    "PIPELINE",
    "PRECEDENCE",
    "DetectConflicts",
    "InlineExtends",
    "Merge",
    "ModulePass",
    "ResolveConflicts",
    "compose",
    "pass_names",
]


class ModulePass(Protocol):
    name: str

    def run(self, module: Module, diags: Diagnostics) -> Module: ...


PIPELINE: tuple[ModulePass, ...] = (InlineExtends(), Merge(), DetectConflicts(), ResolveConflicts())
"""The composition passes, in the order they run."""


def pass_names() -> tuple[str, ...]:
    return tuple(p.name for p in PIPELINE)


def compose(
    module: Module,
    diags: Diagnostics,
    *,
    passes: Sequence[str] | None = None,
    precedence: Sequence[str] = PRECEDENCE,
    verify: bool = False,
) -> Module:
    """``module`` through the composition passes (all of :data:`PIPELINE`, or those named in
    ``passes``, in pipeline order). Stops after a pass that reported an error.

    ``verify`` checks the IR's invariants after every pass (tests and debug runs).
    """
    chosen = set(pass_names() if passes is None else passes)
    unknown = chosen - set(pass_names())
    if unknown:
        raise ValueError(f"unknown pass: {', '.join(sorted(unknown))}")
    detect = DetectConflicts()
    resolve = ResolveConflicts(precedence=tuple(precedence))
    steps: list[ModulePass] = [
        resolve if isinstance(p, ResolveConflicts) else p for p in PIPELINE if p.name in chosen
    ]
    dropped = 0
    for p in steps:
        errors, size = diags.error_count, _size(module)
        module = p.run(module, diags)
        if verify:
            verify_module(module)
        if diags.error_count > errors:
            return module
        if p is resolve:
            dropped = size - _size(module)
    # Settling a conflict can expose another (once a pinned name gives way, the one that
    # stands may be too long for max_chars): while resolution drops constraints, detection
    # and resolution run again. A round's diagnostics that earlier rounds gave already
    # (warnings about the same pattern) are not repeated.
    while dropped and {detect.name, resolve.name} <= chosen:
        again = Diagnostics()
        size = _size(module)
        module = resolve.run(detect.run(module, again), again)
        if verify:
            verify_module(module)
        seen = list(diags)
        diags.extend(d for d in again if d not in seen)
        if again.has_errors:
            return module
        dropped = size - _size(module)
    return module


def _size(module: Module) -> int:
    return sum(len(s.constraints) for s in module.sets)
