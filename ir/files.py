"""Writing files atomically: a reader never sees half a file, and a failed write leaves
the old one in place. Every stage writes through here (grammars, caches, the schema)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["replacing", "write_atomic"]


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path in ``path``'s folder for a writer that wants a file name; on a
    clean exit it replaces ``path`` in one step, on an error it is removed. It is readable
    by its owner only (``mkstemp``'s mode)."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    The file gets the permissions a plain ``open()`` would give it (``mkstemp`` creates
    its file readable by its owner only), so that a grammar written for a server running
    as another user can be read by it.
    """
    with replacing(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, _mode_for(path))


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
