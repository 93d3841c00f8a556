"""Passes over the ConstraintIR and the GrammarIR. Each pass is a frozen class with a
kebab-case ``name``."""

from .lower import LowerToGrammar, lower

__all__ = ["LowerToGrammar", "lower"]
