"""Compiled grammars, cached by content hash in memory and on disk (the plan's
``constraint_cache``): a batch of a thousand intents compiles each constraint set once,
and a second ``arc generate`` with the same constraints compiles nothing.

The key is a hash of everything the grammar depends on: the constraint set and the
schemas it reads (as IR), the target, the options of lowering, and Ananke's version (a new
release may print other grammars). An entry on disk is one JSON file, written atomically;
an entry that cannot be read is compiled again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from ananke.ir.constraint import ConstraintSet, Schema
from ananke.ir.files import write_atomic
from ananke.ir.plan import Enforcement

__all__ = ["CompiledSet", "GrammarCache", "cache_key"]

_FORMAT = 1


@dataclass(frozen=True)
class CompiledSet:
    """One constraint set compiled for one target: the request body, and how each
    constraint is enforced there."""

    cset: ConstraintSet
    target: str
    body: dict[str, Any]
    """The request body (or ``{"grammar": text}`` for the targets that print a grammar)."""
    text: str
    """What ``arc emit`` prints for the set and the target."""
    enforcements: tuple[Enforcement, ...]
    notes: tuple[str, ...] = ()

    @property
    def grammar_hash(self) -> str:
        """SHA-256 of the text sent (``sha256:`` and 16 hex digits), as results report it."""
        return "sha256:" + hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


def cache_key(
    cset: ConstraintSet, schemas: tuple[Schema, ...], target: str, options: dict[str, Any]
) -> str:
    """The content hash that names a compiled set; ``options`` holds the options of
    lowering and the compiler's version."""
    h = hashlib.sha256()
    for part in (
        f"v{_FORMAT}",
        target,
        json.dumps(options, sort_keys=True),
    ):
        h.update(part.encode("utf-8") + b"\0")
    h.update(msgspec.json.encode(cset) + b"\0")
    h.update(msgspec.json.encode(schemas))
    return h.hexdigest()


class _Entry(msgspec.Struct, frozen=True):
    cset: ConstraintSet
    target: str
    text: str
    enforcements: tuple[Enforcement, ...]
    notes: tuple[str, ...] = ()
    body: dict[str, Any] | None = None


class GrammarCache:
    """Compiled sets by key, in memory and (when ``directory`` is given) on disk."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._memory: dict[str, CompiledSet] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, build: Callable[[], CompiledSet]) -> CompiledSet:
        """The compiled set of ``key``; ``build`` makes it on a miss."""
        with self._lock:
            found = self._memory.get(key) or self._read(key)
            if found is not None:
                self.hits += 1
                self._memory[key] = found
                return found
            self.misses += 1
            compiled = build()
            self._memory[key] = compiled
            self._write(key, compiled)
            return compiled

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key}.json"

    def _read(self, key: str) -> CompiledSet | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            e = msgspec.json.decode(path.read_bytes(), type=_Entry)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None
        body = e.body if e.body is not None else {"grammar": e.text}
        return CompiledSet(e.cset, e.target, body, e.text, e.enforcements, e.notes)

    def _write(self, key: str, c: CompiledSet) -> None:
        path = self._path(key)
        if path is None:
            return
        entry = _Entry(c.cset, c.target, c.text, c.enforcements, c.notes, c.body)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, msgspec.json.encode(entry))
        except OSError:
            pass  # a cache that cannot be written only costs a compile next time
