"""``.cir`` files: a :class:`~ananke.ir.Module` serialized as JSON or MessagePack.

JSON is written pretty-printed (two-space indent, trailing newline) so that ``.cir`` files
diff well under version control; MessagePack is the compact binary form. :func:`loads`
tells them apart by the first non-blank byte (``{`` is JSON; anything else is read as
MessagePack) and turns every failure into a diagnostic:

- ``cir-corrupt``: the bytes are not JSON or MessagePack at all;
- ``cir-version``: the ``version`` field is missing, not an integer, or not one this
  release can read (newer than :data:`~ananke.ir.IR_VERSION`, or below 1);
- ``cir-invalid``: well-formed, right version, but not a valid module (a wrong type, an
  unknown field, a broken invariant, or a value the Ariadne checker refuses in source:
  :func:`ananke.ir.verify.problems`), one diagnostic per field, at the field in a JSON file.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from .constraint import IR_VERSION, Module
from .diagnostics import Diagnostics, Label, quote
from .source import SourceFile, Span
from .verify import problems

__all__ = ["CirFormat", "detect_format", "dumps", "loads", "source_of"]

CirFormat = Literal["json", "msgpack"]


class _Header(msgspec.Struct):
    """Only the version; every other field is ignored at this stage."""

    version: int | None = None


_JSON_ENCODER = msgspec.json.Encoder()
_MSGPACK_ENCODER = msgspec.msgpack.Encoder()
_JSON_HEADER = msgspec.json.Decoder(_Header)
_MSGPACK_HEADER = msgspec.msgpack.Decoder(_Header)
_JSON_MODULE = msgspec.json.Decoder(Module)
_MSGPACK_MODULE = msgspec.msgpack.Decoder(Module)

_BYTE_RE = re.compile(r"\(byte (\d+)\)")
_WHITESPACE = b" \t\r\n"


def dumps(module: Module, fmt: CirFormat = "json") -> bytes:
    """Serialize ``module``: pretty JSON with a final newline, or MessagePack."""
    if fmt == "json":
        return msgspec.json.format(_JSON_ENCODER.encode(module), indent=2) + b"\n"
    if fmt == "msgpack":
        return _MSGPACK_ENCODER.encode(module)
    raise ValueError(f"unknown .cir format {fmt!r}")


def detect_format(data: bytes) -> CirFormat:
    """``json`` when the first non-blank byte is printable ASCII, else ``msgpack``.

    A module encoded as MessagePack starts with a map header (``0x80``-``0x8f``,
    ``0xde`` or ``0xdf``), as JSON with ``{``.
    """
    first = data.lstrip(_WHITESPACE)[:1]
    return "json" if first and 0x20 <= first[0] <= 0x7E else "msgpack"


def loads(data: bytes, file: str, diags: Diagnostics) -> Module | None:
    """Decode a ``.cir`` file; on failure add one diagnostic to ``diags`` and return None."""
    fmt = detect_format(data)
    if not data.strip(_WHITESPACE):
        _report(diags, "cir-corrupt", f"{quote(file)} is empty, not a .cir file", file, data, None)
        return None
    header_decoder = _JSON_HEADER if fmt == "json" else _MSGPACK_HEADER
    try:
        header = header_decoder.decode(data)
    except msgspec.ValidationError as e:
        if "`$.version`" in str(e):
            _report(
                diags,
                "cir-version",
                f"{quote(file)} has a malformed IR version: {e}",
                file,
                data,
                _version_offset(data, fmt),
                help=f"this release of arc reads IR version {IR_VERSION}",
            )
        else:
            _report(
                diags,
                "cir-corrupt",
                f"{quote(file)} is not a .cir file: {e}",
                file,
                data,
                None,
                help="a .cir file holds one module, as written by `arc compile`",
            )
        return None
    except RecursionError:
        _report(
            diags,
            "cir-corrupt",
            f"{quote(file)} is nested too deeply to be a .cir file",
            file,
            data,
        )
        return None
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        _report(
            diags,
            "cir-corrupt",
            f"{quote(file)} is not valid {_NAMES[fmt]}: {_strip_position(str(e))}",
            file,
            data,
            _error_offset(str(e), data) if fmt == "json" else None,
            help="recompile the source with `arc compile`",
        )
        return None
    if header.version is None:
        _report(
            diags,
            "cir-version",
            f"{quote(file)} has no IR version",
            file,
            data,
            None,
            help=f"a .cir module starts with `version`; this release writes {IR_VERSION}",
        )
        return None
    if header.version > IR_VERSION or header.version < 1:
        newer = header.version > IR_VERSION
        _report(
            diags,
            "cir-version",
            f"{quote(file)} has IR version {header.version}; this release of arc reads "
            f"version {IR_VERSION}" + (" and older" if IR_VERSION > 1 else ""),
            file,
            data,
            _version_offset(data, fmt),
            help="upgrade arc to read it" if newer else "recompile the source with `arc compile`",
        )
        return None
    decoder = _JSON_MODULE if fmt == "json" else _MSGPACK_MODULE
    try:
        module = decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError) as e:
        _report(
            diags,
            "cir-invalid",
            f"{quote(file)} is not a valid IR module: {e}",
            file,
            data,
            _field_offset(data, _msgspec_path(str(e))) if fmt == "json" else None,
            help="recompile the source with `arc compile`",
        )
        return None
    found = problems(module)
    for problem in found:
        _report(
            diags,
            "cir-invalid",
            f"`{file}` is not a valid IR module: `{problem.path}`: {problem.message}",
            file,
            data,
            _field_offset(data, problem.path) if fmt == "json" else None,
            help="recompile the source with `arc compile`; a .cir file holds what the "
            "checker accepts in source",
        )
    return None if found else module


_NAMES: dict[CirFormat, str] = {"json": "JSON", "msgpack": "MessagePack"}


_VERSION_RE = re.compile(rb'"version"\s*:\s*')


def _version_offset(data: bytes, fmt: CirFormat) -> int | None:
    """Byte offset of the version value in a JSON file (the first ``"version":``)."""
    m = _VERSION_RE.search(data) if fmt == "json" else None
    return m.end() if m else None


def _strip_position(message: str) -> str:
    return _BYTE_RE.sub("", message).strip()


def _error_offset(message: str, data: bytes) -> int | None:
    m = _BYTE_RE.search(message)
    if m:
        return int(m.group(1))
    return len(data) if "truncated" in message else None


_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _msgspec_path(message: str) -> str:
    """The field path in a msgspec validation message (``at `$.sets[0].name```)."""
    m = re.search(r"`\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)`", message)
    return m.group(1).lstrip(".") if m else ""


def _field_offset(data: bytes, path: str) -> int | None:
    """Byte offset of the value at ``path`` (``sets[0].constraints[2].max``) in a JSON
    document; None when it cannot be found."""
    parts: list[str | int] = [
        m.group(1) if m.group(1) else int(m.group(2))
        for m in _PATH_PART.finditer("." + path if path and path[0] != "[" else path)
    ]
    try:
        return _JsonWalk(data).find(parts)
    except (IndexError, ValueError):
        return None


class _JsonWalk:
    """Finds a value's offset in JSON text without decoding the rest."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.i = 0

    def blank(self) -> None:
        while self.data[self.i : self.i + 1] in (b" ", b"\t", b"\r", b"\n"):
            self.i += 1

    def find(self, parts: list[str | int]) -> int | None:
        self.blank()
        for part in parts:
            opener = self.data[self.i : self.i + 1]
            self.i += 1
            index = 0
            while True:
                self.blank()
                if self.data[self.i : self.i + 1] in (b"}", b"]"):
                    return None
                if opener == b"{":
                    key = self.string()
                    self.blank()
                    self.i += 1  # ':'
                    self.blank()
                    here = key == part
                else:
                    here = index == part
                if here:
                    break
                self.skip()
                self.blank()
                self.i += 1  # ','
                index += 1
        return self.i

    def string(self) -> str:
        start = self.i
        self.i += 1
        while self.data[self.i : self.i + 1] != b'"':
            self.i += 2 if self.data[self.i : self.i + 1] == b"\\" else 1
            if self.i >= len(self.data):
                raise ValueError("unterminated string")
        self.i += 1
        value: str = msgspec.json.decode(self.data[start : self.i])
        return value

    def skip(self) -> None:
        depth = 0
        while self.i < len(self.data):
            ch = self.data[self.i : self.i + 1]
            if ch == b'"':
                self.string()
                if depth == 0:
                    return
                continue
            if ch in (b"{", b"["):
                depth += 1
            elif ch in (b"}", b"]"):
                if depth == 0:
                    return
                depth -= 1
                if depth == 0:
                    self.i += 1
                    return
            elif ch == b"," and depth == 0:
                return
            self.i += 1
        raise ValueError("truncated")


def source_of(data: bytes, file: str) -> SourceFile | None:
    """The text of a JSON ``.cir`` file for excerpts; None when it is binary or not UTF-8."""
    if detect_format(data) != "json":
        return None
    try:
        return SourceFile(file, data.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def _span(file: str, data: bytes, byte: int | None) -> Span:
    if byte is None:
        return Span.start_of(file)
    text = data[: max(0, byte)].decode("utf-8", errors="replace")
    offset = len(text)
    line = text.count("\n") + 1
    column = offset - (text.rfind("\n") + 1) + 1
    return Span(
        file=file,
        start=offset,
        end=offset,
        line=line,
        column=column,
        end_line=line,
        end_column=column,
    )


def _report(
    diags: Diagnostics,
    code: str,
    message: str,
    file: str,
    data: bytes,
    byte: int | None = None,
    help: str | None = None,
) -> None:
    message = " ".join(message.split())
    diags.error(code, message, Label(span=_span(file, data, byte), message=""), help=help)
