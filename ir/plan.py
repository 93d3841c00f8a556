"""Enforcement plans: how lowering decided to enforce each constraint for one target."""

from __future__ import annotations

from typing import Literal

import msgspec

from .grammar import Grammar

__all__ = ["Enforcement", "Level", "Lowered"]

Level = Literal["token", "post", "prompt"]


class Enforcement(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, kw_only=True
):
    """One constraint's enforcement level for one target, with the reason.

    ``level`` is ``token`` when the grammar makes every violation impossible, ``post`` when
    the validator checks it after generation, ``prompt`` when it is advice only. A
    constraint that the grammar bounds only partly (an over-approximation) is ``post``
    with ``narrows`` set, and ``detail`` says what the grammar still narrows; one the
    target's grammar cannot enforce although the reference's does is ``post`` with
    ``demoted`` set: the grammar was lowered without it.
    """

    constraint_id: str
    kind: str
    level: Level
    reason: str
    target: str
    detail: str = ""
    narrows: bool = False
    demoted: bool = False


class Lowered(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, kw_only=True
):
    """The result of lowering one constraint set for one target."""

    set_name: str
    target: str
    grammar: Grammar
    enforcements: tuple[Enforcement, ...]
    notes: tuple[str, ...] = ()
    """What the grammar bounds as a whole (nesting, indentation depth), for ``arc explain``."""
