"""Files on disk: finding ``.ariadne`` files under folders (output files are written
by :func:`ananke.ir.files.write_atomic`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["ariadne_files", "is_dir"]


def is_dir(path: Path) -> bool:
    """``path`` is a folder; False for a path the file system refuses (a name too long),
    which reading it then reports."""
    try:
        return path.is_dir()
    except OSError:
        return False


def ariadne_files(paths: Iterable[Path]) -> Iterator[Path]:
    """``.ariadne`` files: each path given, and those under each folder (sorted, hidden
    folders skipped)."""
    for path in paths:
        if is_dir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                for f in sorted(files):
                    if f.endswith(".ariadne"):
                        yield Path(root) / f
        else:
            yield path
