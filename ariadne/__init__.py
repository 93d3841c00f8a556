"""The Ariadne language, version 0: reading, parsing, checking and lowering to ConstraintIR.

>>> from ananke.ir.diagnostics import Diagnostics
>>> from ananke.ir.source import SourceFile
>>> diags = Diagnostics()
>>> module = compile_source(SourceFile("a.ariadne", "constraint f { max_lines: 9; }"), diags)
>>> module.sets[0].constraints[0].id
'f.max_lines'

The reference is ``spec/ariadne.md``.
"""

from __future__ import annotations

from ananke.ir.constraint import Module
from ananke.ir.diagnostics import Diagnostics
from ananke.ir.source import SourceFile

from ._ast import FileAst
from ._check import LIMIT_CAPS, PROPERTIES, check
from ._parser import MAX_SOURCE_CHARS, get_parser, parse
from ._source import decode_source, read_source

__all__ = [
    "LIMIT_CAPS",
    "MAX_SOURCE_CHARS",
    "PROPERTIES",
    "FileAst",
    "compile_source",
    "decode_source",
    "get_parser",
    "parse",
    "read_source",
]


def compile_source(source: SourceFile, diags: Diagnostics) -> Module | None:
    """Parse, check and lower ``source``; None if it has errors (all in ``diags``)."""
    errors_before = sum(1 for d in diags if d.severity == "error")
    tree = parse(source, diags)
    if tree is None:
        return None
    module = check(tree, source, diags)
    if sum(1 for d in diags if d.severity == "error") > errors_before:
        return None
    return module
