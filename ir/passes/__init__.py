"""Passes over the ConstraintIR. Each pass is a frozen class with a kebab-case ``name``."""

from .lower import TARGETS, LowerToGrammar, lower

__all__ = ["TARGETS", "LowerToGrammar", "lower"]
