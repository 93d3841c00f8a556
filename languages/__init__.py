"""The languages Ananke compiles constraints for, one folder each, registered with the lower
pass (:mod:`ananke.ir.lower.language`) by name and factory: a language's modules are
imported when a set in it is first lowered, not here.

A folder holds the language's grammar, its implementation of
:class:`~ananke.ir.lower.language.Language` (``lower.py``), signature and types, naming,
post-generation checks and tree-sitter queries; adding a language is one folder and one
``register`` line below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ananke.ir.lower.language import register

if TYPE_CHECKING:
    from ananke.ir.lower.language import Language


def _python() -> Language:
    from .python.lower import PythonLanguage

    return PythonLanguage()


register("python", _python)
