"""Files on disk: finding ``.ariadne`` files under folders, and writing output files
atomically (a reader never sees half a file, and a failed write leaves the old one in
place)."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
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


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask. It can only be read by setting it, so set it back at once."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    """The permissions a plain ``open(path, "w")`` would leave: those of the file it
    replaces, else ``0o666`` less the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    The file gets the permissions a plain ``open()`` would give it (``mkstemp`` creates
    its file readable by its owner only), so that a grammar written for a server running
    as another user can be read by it.
    """
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
