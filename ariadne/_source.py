"""Reading ``.ariadne`` files: bytes → :class:`SourceFile`, or a diagnostic."""

from __future__ import annotations

import os
import pathlib

from ananke.ir.diagnostics import Diagnostics, Label, quote
from ananke.ir.source import SourceFile, Span

from ._parser import MAX_SOURCE_CHARS

__all__ = ["MAX_SOURCE_BYTES", "decode_source", "read_source"]

MAX_SOURCE_BYTES = MAX_SOURCE_CHARS
"""Files larger than this (8 MiB) are refused with ``file-too-large`` before reading."""


def read_source(path: str | os.PathLike[str], diags: Diagnostics) -> SourceFile | None:
    """Read and decode ``path``; unreadable, too large, binary or non-UTF-8 input is a
    diagnostic (with a span) and gives None."""
    name = os.fspath(path)
    p = pathlib.Path(name)
    try:
        size = p.stat().st_size
        if size > MAX_SOURCE_BYTES:
            diags.error(
                "file-too-large",
                f"file is {size:,} bytes; the limit is {MAX_SOURCE_BYTES:,}",
                Label(span=Span.start_of(name), message="refused without reading"),
                help="split the constraints into several files",
            )
            return None
        with p.open("rb") as f:
            # Read one byte past the limit: the file may have grown since stat().
            data = f.read(MAX_SOURCE_BYTES + 1)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        diags.error(
            "unreadable-file",
            f"cannot read {quote(name)}: {reason}",
            Label(span=Span.start_of(name)),
            help="check the path and its permissions",
        )
        return None
    if len(data) > MAX_SOURCE_BYTES:
        diags.error(
            "file-too-large",
            f"file is larger than the limit of {MAX_SOURCE_BYTES:,} bytes",
            Label(span=Span.start_of(name), message="refused"),
        )
        return None
    return decode_source(name, data, diags)


def decode_source(name: str, data: bytes, diags: Diagnostics) -> SourceFile | None:
    """Decode ``data`` as UTF-8 (a leading byte-order mark is dropped).

    Spans of ``binary-file`` and ``invalid-utf8`` are offsets into the text decoded with
    replacement characters, so that renderers can show the offending line.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nul = data.find(b"\0")
    if nul != -1:
        shown = SourceFile(name, data.decode("utf-8", errors="replace"))
        at = len(data[:nul].decode("utf-8", errors="replace"))
        diags.error(
            "binary-file",
            "file contains NUL bytes; it looks binary, not Ariadne source",
            Label(span=shown.span(at, at + 1), message="first NUL byte"),
            help="Ariadne source is UTF-8 text",
        )
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        shown = SourceFile(name, data.decode("utf-8", errors="replace"))
        at = len(data[: err.start].decode("utf-8", errors="replace"))
        bad = data[err.start : err.end]
        diags.error(
            "invalid-utf8",
            f"file is not valid UTF-8: byte 0x{bad[0]:02x} at byte offset {err.start}",
            Label(span=shown.span(at, at + 1), message="invalid byte"),
            help="save the file as UTF-8",
        )
        return None
    return SourceFile(name, text)
