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

from ._ast import FileAst
from ._check import LIMIT_CAPS, PROPERTIES
from ._loader import STD_MODULES, compile_source, std_source
from ._parser import MAX_SOURCE_CHARS, get_parser, parse
from ._source import decode_source, read_source

__all__ = [
    "LIMIT_CAPS",
    "MAX_SOURCE_CHARS",
    "PROPERTIES",
    "STD_MODULES",
    "FileAst",
    "compile_source",
    "decode_source",
    "get_parser",
    "parse",
    "read_source",
    "std_source",
]
