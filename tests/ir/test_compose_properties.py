"""Composition does not depend on order: shuffling the properties of every block, the
blocks of every file, the imports and the parents of ``extends`` gives the same result
(the constraints that remain, what was decided, which errors are reported). And it is
idempotent: composing a composed module changes nothing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from ananke.ariadne import compile_source, read_source
from ananke.ir import Diagnostics
from ananke.ir.constraint import Module
from ananke.ir.passes import compose
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import examples

NAMES = ["eval", "exec", "print", "os.path", "os", "json.dumps"]


@st.composite
def _block(draw: st.DrawFn) -> list[str]:
    """The properties of one block (each at most once), annotated at random."""
    props: list[str] = []

    def mark() -> str:
        return draw(st.sampled_from(["", "@soft ", "@priority(2) ", "@soft @priority(1) "]))

    if draw(st.booleans()):
        props.append(f"{mark()}max_lines: {draw(st.integers(10, 200))};")
    if draw(st.booleans()):
        props.append(f"{mark()}max_chars: {draw(st.integers(20, 2000))};")
    for key in ("forbid", "require"):
        names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
        if draw(st.booleans()):
            props.append(
                f"{mark()}{key}: [{', '.join(f'{n!r}'.replace(chr(39), chr(34)) for n in names)}];"
            )
    if draw(st.booleans()):
        props.append(f"{mark()}returns: {draw(st.sampled_from(['int', 'str']))};")
    if draw(st.booleans()):
        props.append(f"{mark()}naming: {draw(st.sampled_from(['snake', 'camel', 'pascal']))};")
    if draw(st.booleans()):
        props.append(f"{mark()}name: {draw(st.sampled_from(['get_user', 'GetUser']))};")
    if draw(st.booleans()):
        pattern = draw(st.sampled_from(["^def get_", "^async def", "return None$", "^def [A-Z]"]))
        props.append(f'{mark()}matches: r"{pattern}";')
    return props


@st.composite
def _program(draw: st.DrawFn) -> dict[str, dict[str, tuple[list[str], list[str]]]]:
    """Two library files and a main file: file → set → (parents, properties)."""
    return {
        "lib1.ariadne": {"base1": ([], draw(_block()))},
        "lib2.ariadne": {"base2": ([], draw(_block()))},
        "main.ariadne": {
            "mid": (["base1"], draw(_block())),
            "top": (["mid", "base2"], draw(_block())),
            "side": (["base2", "base1"], draw(_block())),
        },
    }


def _write(
    program: dict[str, dict[str, tuple[list[str], list[str]]]],
    root: Path,
    rng: random.Random | None,
) -> None:
    def order(xs: list[str]) -> list[str]:
        xs = list(xs)
        if rng is not None:
            rng.shuffle(xs)
        return xs

    for file, sets in program.items():
        lines = (
            order(['import "lib1.ariadne";', 'import "lib2.ariadne";'])
            if file == "main.ariadne"
            else []
        )
        for name in order(list(sets)):
            parents, props = sets[name]
            ext = f" extends {', '.join(order(parents))}" if parents else ""
            lines.append(f"constraint {name}{ext} {{ {' '.join(order(props))} }}")
        (root / file).write_text("\n".join(lines) + "\n")


def _outcome(root: Path) -> tuple[object, ...]:
    diags = Diagnostics()
    source = read_source(root / "main.ariadne", diags)
    assert source is not None
    module = compile_source(source, diags)
    composed: Module | None = None
    if module is not None:
        composed = compose(module, diags, verify=True)
        if not diags.has_errors:
            again = Diagnostics()
            assert compose(composed, again, verify=True) == composed  # idempotent
            assert not again.has_errors
    errors = sorted((d.code, d.message) for d in diags if d.severity == "error")
    if composed is None or errors:
        return ("errors", tuple(errors))
    sets = []
    for s in sorted(composed.own_sets, key=lambda s: s.name):
        constraints = sorted((c.id, c.strength, c.priority) for c in s.constraints)
        decided = sorted((r.rule, r.kept, tuple(sorted(r.dropped))) for r in s.resolutions)
        sets.append((s.name, tuple(constraints), tuple(decided)))
    return ("ok", tuple(sets))


@settings(max_examples=examples(200), deadline=None)
@given(program=_program(), seed=st.integers(0, 2**32 - 1))
def test_resolution_is_order_independent(
    program: dict[str, dict[str, tuple[list[str], list[str]]]],
    seed: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    first = tmp_path_factory.mktemp("written")
    second = tmp_path_factory.mktemp("shuffled")
    _write(program, first, None)
    _write(program, second, random.Random(seed))
    assert _outcome(first) == _outcome(second)
