"""``.cir`` files: round trips, format detection and clean diagnostics for bad input."""

from __future__ import annotations

import msgspec
import pytest
from ananke.ir import (
    IR_VERSION,
    ConstraintSet,
    Diagnostics,
    Forbid,
    Limit,
    Module,
    Returns,
    SourceFile,
    SourceProvenance,
    TypeExpr,
)
from ananke.ir.cir import detect_format, dumps, loads
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import examples
from tests.ir.ir_strategies import modules

SRC = SourceFile("api.ariadne", 'constraint api { returns: int; forbid: ["eval"]; }')
MODULE = Module(
    sources=("api.ariadne",),
    sets=(
        ConstraintSet(
            name="api",
            constraints=(
                Returns(
                    id="api.returns",
                    provenance=SourceProvenance(span=SRC.span(17, 24)),
                    type=TypeExpr(name="Result", args=(TypeExpr(name="int"),)),
                ),
                Forbid(
                    id="api.forbid.eval",
                    provenance=SourceProvenance(span=SRC.span(40, 46)),
                    name="eval",
                ),
            ),
        ),
    ),
)


def _load(data: bytes) -> tuple[Module | None, Diagnostics]:
    diags = Diagnostics()
    return loads(data, "m.cir", diags), diags


@pytest.mark.parametrize("fmt", ["json", "msgpack"])
def test_round_trip(fmt: str) -> None:
    data = dumps(MODULE, fmt)  # type: ignore[arg-type]
    assert detect_format(data) == fmt
    module, diags = _load(data)
    assert not diags
    assert module == MODULE


@settings(max_examples=examples(60), deadline=None)
@given(modules, st.sampled_from(["json", "msgpack"]))
def test_round_trip_any_module(module: Module, fmt: str) -> None:
    loaded, diags = _load(dumps(module, fmt))  # type: ignore[arg-type]
    assert not diags
    assert loaded == module


def test_json_is_pretty_and_ends_with_newline() -> None:
    text = dumps(MODULE, "json").decode()
    assert text.startswith('{\n  "version": 1,\n')
    assert text.endswith("}\n")


def test_leading_whitespace_still_reads_as_json() -> None:
    module, diags = _load(b"\n  \t" + dumps(MODULE, "json"))
    assert module == MODULE and not diags


def _only(diags: Diagnostics) -> tuple[str, str, int, int]:
    (d,) = list(diags)
    span = d.primary_span
    assert span is not None and span.file == "m.cir"
    return d.code, d.message, span.line, span.column


@pytest.mark.parametrize(
    ("data", "code", "fragment"),
    [
        (b"", "cir-corrupt", "is empty"),
        (b"  \n", "cir-corrupt", "is empty"),
        (b"{", "cir-corrupt", "not valid JSON"),
        (b'{"version": 1,', "cir-corrupt", "not valid JSON"),
        (b"[1, 2]", "cir-corrupt", "not a .cir file"),
        (b"constraint api {}", "cir-corrupt", "not valid JSON"),
        (b"\x00\x01\x02binary", "cir-corrupt", "not a .cir file"),
        (b"\x84\xa7version", "cir-corrupt", "not valid MessagePack"),
        (b"[" * 50_000, "cir-corrupt", ""),
        (b'{"version": 1, "x": ' + b"[" * 50_000, "cir-corrupt", "nested too deeply"),
        (b'{"sets": []}', "cir-version", "has no IR version"),
        (b'{"version": "1"}', "cir-version", "malformed IR version"),
        (b'{"version": 0}', "cir-version", "has IR version 0"),
        (b'{"version": 1, "sets": [{"name": 3}]}', "cir-invalid", "$.sets[0].name"),
        (b'{"version": 1, "colour": "red"}', "cir-invalid", "colour"),
    ],
)
def test_bad_input_is_one_diagnostic(data: bytes, code: str, fragment: str) -> None:
    module, diags = _load(data)
    assert module is None
    got_code, message, _, _ = _only(diags)
    assert got_code == code
    assert fragment in message


def test_newer_version_says_to_upgrade() -> None:
    newer = IR_VERSION + 1
    for data in (
        f'{{"version": {newer}, "future": true}}'.encode(),
        msgspec.msgpack.encode({"version": newer, "future": True}),
    ):
        module, diags = _load(data)
        assert module is None
        (d,) = list(diags)
        assert d.code == "cir-version"
        assert f"has IR version {newer}" in d.message
        assert d.help == "upgrade arc to read it"


def test_broken_invariant_is_invalid_not_a_crash() -> None:
    good = msgspec.json.decode(dumps(MODULE, "json"))
    good["sets"][0]["constraints"].append(
        msgspec.to_builtins(
            Limit(
                id="api.max_lines",
                provenance=SourceProvenance(span=SRC.span(0)),
                metric="lines",
                max=5,
            )
        )
    )
    good["sets"][0]["constraints"][-1]["max"] = 0
    module, diags = _load(msgspec.json.encode(good))
    assert module is None
    code, message, _, _ = _only(diags)
    assert code == "cir-invalid"
    assert "a limit is at least 1" in message


def test_json_syntax_error_points_at_the_error() -> None:
    module, diags = _load(b'{\n  "version": 1,\n  oops\n}')
    assert module is None
    code, _, line, column = _only(diags)
    assert (code, line, column) == ("cir-corrupt", 3, 3)


def test_truncated_json_points_at_the_end() -> None:
    data = dumps(MODULE, "json")[:-30]
    _, diags = _load(data)
    _, _, line, _ = _only(diags)
    assert line == data.count(b"\n") + 1


@settings(max_examples=examples(200), deadline=None)
@given(st.sampled_from(["json", "msgpack"]), st.data())
def test_mutated_files_never_raise(fmt: str, data: st.DataObject) -> None:
    raw = bytearray(dumps(MODULE, fmt))  # type: ignore[arg-type]
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "cut", "dup"]))
        if op == "flip":
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del raw[i:]
            if not raw:
                break
        else:
            raw[i:i] = raw[i : i + data.draw(st.integers(1, 8))]
    module, diags = _load(bytes(raw))
    if module is None:
        assert len(diags) == 1
        (d,) = list(diags)
        assert d.code in {"cir-corrupt", "cir-version", "cir-invalid"}
        assert d.primary_span is not None
    else:
        assert not diags


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown \.cir format"):
        dumps(MODULE, "yaml")  # type: ignore[arg-type]


def test_version_errors_point_at_the_version_in_json() -> None:
    _, diags = _load(b'{\n  "sets": [],\n  "version": 7\n}\n')
    code, _, line, column = _only(diags)
    assert (code, line, column) == ("cir-version", 3, 14)
    _, diags = _load(b'{"version": "one"}')
    code, _, line, column = _only(diags)
    assert (code, line, column) == ("cir-version", 1, 13)
