"""The regular-expression target: the printer (:mod:`.printer`) and the ``regular``
lowering that inlines a grammar into one expression (:mod:`.regular`)."""

from __future__ import annotations

from .printer import RegexBackend

__all__ = ["RegexBackend"]
