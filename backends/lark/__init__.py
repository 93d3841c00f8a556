"""The plain Lark target: the printer (:mod:`.printer`) and the ``lark-shape`` lowering only
the lark package needs (:mod:`.larkshape`)."""

from __future__ import annotations

from .printer import LarkBackend

__all__ = ["LarkBackend"]
