"""Files on disk: finding ``.ariadne`` files under folders, and writing output files
atomically (a reader never sees half a file, and a failed write leaves the old one in
place)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["ariadne_files", "is_dir", "write_atomic"]


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


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
