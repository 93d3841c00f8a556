"""Real Python functions for measuring what a grammar accepts.

The soundness figures of Ananke's Python grammars are taken on the top-level function
definitions of the standard library of the running interpreter, cut out with tree-sitter.
This module extracts them, re-indents them (to check indentation of other widths and tabs)
and draws deterministic samples.
"""

from __future__ import annotations

import io
import os
import random
import sysconfig
import tokenize
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ananke.languages.post import physical_lines

__all__ = [
    "FunctionSample",
    "installed_functions",
    "physical_lines",
    "reindent",
    "sample",
    "stdlib_functions",
    "top_level_functions",
]

_SKIP_DIRS = frozenset({"test", "tests", "idle_test", "site-packages", "__pycache__"})


@dataclass(frozen=True, slots=True)
class FunctionSample:
    """One top-level function definition (decorators included) cut out of a file."""

    path: str
    """Where it comes from (relative to the standard library for :func:`stdlib_functions`)."""
    name: str
    text: str
    """Source from the first decorator, ``async`` or ``def`` to the end, ending in ``\\n``."""
    line: int = 1
    """1-based line of its first character in the file."""

    @property
    def lines(self) -> int:
        """Physical lines, counted as :func:`physical_lines` does."""
        return physical_lines(self.text)

    @property
    def key(self) -> str:
        return f"{self.path}:{self.line}:{self.name}"


@cache
def _parser() -> Any:
    import tree_sitter
    import tree_sitter_python

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_python.language()))


def top_level_functions(source: bytes, path: str) -> list[FunctionSample]:
    """Every top-level ``def``/``async def`` (bare or decorated) of ``source``, in order.

    The text runs from the start of the first decorator (or ``async``/``def``) to the end of
    the tree-sitter node, plus the newline that ends its last line. Functions whose text is
    not valid UTF-8 are skipped.
    """
    tree = _parser().parse(source)
    out: list[FunctionSample] = []
    for node in tree.root_node.children:
        func = node
        if node.type == "decorated_definition":
            func = node.child_by_field_name("definition")
            if func is None or func.type != "function_definition":
                continue
        elif node.type != "function_definition":
            continue
        name_node = func.child_by_field_name("name")
        if name_node is None:
            continue
        end = node.end_byte
        nl = source.find(b"\n", end)
        end = len(source) if nl < 0 else nl + 1
        try:
            text = source[node.start_byte : end].decode("utf-8")
            name = source[name_node.start_byte : name_node.end_byte].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if not text.endswith("\n"):
            text += "\n"
        out.append(FunctionSample(path, name, text, node.start_point[0] + 1))
    return out


def _stdlib_files(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for f in sorted(filenames):
            if f.endswith(".py"):
                yield Path(dirpath) / f


def _compiling(files: Iterable[Path]) -> Iterator[tuple[Path, bytes]]:
    """Each file with its bytes, where it is UTF-8 that ``compile()`` accepts: only real
    code is measured."""
    for file in files:
        data = file.read_bytes()
        try:
            compile(data.decode("utf-8"), str(file), "exec", dont_inherit=True)
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue
        yield file, data


def stdlib_functions(limit: int | None = None, root: Path | None = None) -> list[FunctionSample]:
    """Top-level functions of the running interpreter's standard library, in a fixed order.

    Test suites (``test/``, ``tests/``, ``idlelib/idle_test``, ``lib2to3/tests``) and
    ``site-packages`` are skipped, and so are files that are not UTF-8 or that ``compile()``
    rejects: only real code is measured. Files are visited in sorted path order.
    """
    root = root or Path(sysconfig.get_paths()["stdlib"])
    out: list[FunctionSample] = []
    for file, data in _compiling(_stdlib_files(root)):
        out.extend(top_level_functions(data, file.relative_to(root).as_posix()))
        if limit is not None and len(out) >= limit:
            return out[:limit]
    return out


def installed_functions(root: Path | None = None) -> list[FunctionSample]:
    """Top-level functions of the third-party packages installed beside the interpreter
    (its ``purelib`` folder), skipping Ananke itself and test suites, in a fixed order."""
    root = root or Path(sysconfig.get_paths()["purelib"])
    out: list[FunctionSample] = []
    files = (
        f
        for f in _stdlib_files(root)
        if not f.relative_to(root).parts[0].startswith(("ananke", "_pytest", "__editable__"))
    )
    for file, data in _compiling(files):
        out.extend(top_level_functions(data, file.relative_to(root).as_posix()))
    return out


def sample(functions: Sequence[FunctionSample], n: int, seed: int = 0) -> list[FunctionSample]:
    """``n`` functions drawn without replacement with ``random.Random(seed)``, in corpus order.

    The same corpus, ``n`` and ``seed`` always give the same sample. ``n`` larger than the
    corpus gives the whole corpus.
    """
    if n >= len(functions):
        return list(functions)
    idx = sorted(random.Random(seed).sample(range(len(functions)), n))
    return [functions[i] for i in idx]


def _leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t\f"))]


def reindent(text: str, unit: str) -> str:
    """Rewrite block indentation of ``text`` to ``unit`` per level (``"  "``, ``"\\t"``, ...).

    Only the lines that start a logical line (statements) and comment-only lines whose
    indentation is that of a known block are rewritten, using the INDENT/DEDENT tokens of
    Python's ``tokenize``; continuation lines inside brackets, after a backslash and inside
    multi-line strings are left as they are, so the program's meaning does not change.
    Raises ``tokenize.TokenError`` or ``IndentationError`` on code that does not tokenize.
    """
    if unit == "" or unit.strip(" \t") != "":
        raise ValueError("unit is a non-empty run of spaces or tabs")
    depth_of_row: dict[int, int] = {}
    pending_comments: list[tuple[int, str]] = []  # comment-only lines not yet resolved
    stack: list[str] = [""]
    at_line_start = True
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.INDENT:
            stack.append(tok.string)
            for row, ws in pending_comments:
                if ws == tok.string:
                    depth_of_row[row] = len(stack) - 1
            pending_comments.clear()
            continue
        if tok.type == tokenize.DEDENT:
            stack.pop()
            continue
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            at_line_start = True
            pending_comments.clear()
            continue
        if tok.type == tokenize.NL:
            continue
        if not at_line_start:
            continue
        row, col = tok.start
        ws = tok.line[:col]
        if tok.type == tokenize.COMMENT:
            if ws.strip(" \t\f") == "":
                if ws in stack:
                    depth_of_row[row] = stack.index(ws)
                else:
                    pending_comments.append((row, ws))
            continue
        depth_of_row[row] = len(stack) - 1
        at_line_start = False
    lines = io.StringIO(text).readlines()  # rows as tokenize counts them (\n only)
    for row, depth in depth_of_row.items():
        line = lines[row - 1]
        lines[row - 1] = unit * depth + line[len(_leading_ws(line)) :]
    return "".join(lines)
