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


CHECKS: tuple[Check, ...] = (
    Check("llguidance-lark", "llguidance"),
    Check("llguidance-gbnf", "gbnf"),
    Check("llamacpp-gbnf", "gbnf"),
    Check("xgrammar-ebnf", "xgrammar"),
    Check("outlines-regex", "regex"),
    Check("llguidance-json", "json-schema"),
    Check("xgrammar-json", "json-schema"),
    Check("outlines-json", "json-schema"),
    Check("lark", "lark", python=False),
)
"""Every engine ``arc test`` knows, with the target whose output it reads. The first is the
reference: it always runs, and its rejections are explained."""

REFERENCE = CHECKS[0]
