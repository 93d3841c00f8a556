"""Lowering the ConstraintIR to the GrammarIR: :class:`LowerToGrammar` (the ``lower``
pass, in :mod:`.to_grammar`) and the registry of the languages it asks
(:mod:`.language`).

The pass is imported on first use, so that registering a language (which imports
:mod:`.language`) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .to_grammar import LowerToGrammar, lower, span_label

__all__ = ["LowerToGrammar", "lower", "span_label"]


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import to_grammar

    return getattr(to_grammar, name)
