"""Which engine reads which target's grammar when ``arc test`` checks examples.

Its own module so that the settings (:mod:`ananke.config`, which validates engine names)
and ``arc test`` (:mod:`ananke.testing`) both read it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CHECKS", "REFERENCE", "Check"]


@dataclass(frozen=True)
class Check:
    """An engine reading the grammar emitted for one target."""

    engine: str
    target: str
    python: bool = True
    """Whether it runs on Python function sets by default (the lark package's Earley
    parser takes about 25 s to build the Python function grammar: only on request)."""


_TARGETS = ("llguidance", "gbnf", "xgrammar", "regex", "json-schema", "lark")
"""The targets whose output ``arc test`` checks, the reference's first."""
_NOT_CHECKED = {
    "llguidance-regex": "llguidance is the reference already; the differential tests check "
    "its regex reader",
    "xgrammar-lark": "it rejects some literals after NUL that the lark target prints and the "
    "lark package reads as written; the differential tests check it, XGrammar's own target is "
    "checked here",
}
"""Readers of :data:`_TARGETS` that ``arc test`` leaves out, and why."""
_NOT_ON_PYTHON = ("lark",)
"""Engines that run on Python function sets only on request."""


def _all_checks() -> tuple[Check, ...]:
    from ananke.engines.membership import readers

    return tuple(
        Check(engine, target, python=engine not in _NOT_ON_PYTHON)
        for target in _TARGETS
        for engine in readers(target)
        if engine not in _NOT_CHECKED
    )


CHECKS: tuple[Check, ...] = _all_checks()
"""Every engine ``arc test`` knows, with the target whose output it reads (each backend
declares the engines that read it: ``Backend.readers``). The first is the reference: it
always runs, and its rejections are explained."""

REFERENCE = CHECKS[0]
