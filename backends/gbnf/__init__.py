"""The GBNF target: the printer (:mod:`.printer`) and the ``llamacpp-shape`` lowering only
llama.cpp needs (:mod:`.llamacpp`)."""

from __future__ import annotations

from .printer import GBNFBackend

__all__ = ["GBNFBackend"]
