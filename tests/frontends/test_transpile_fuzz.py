"""`arc transpile` never ends in an internal error: grammars generated in each dialect and
grammars others wrote, mutated, go to every target; each run exits 0, 1 or 2, and 1 or 2
comes with an error at a place in the grammar file. What it prints without an error is
loaded by the engines that read the target: one that refuses it has found a printer bug.

The Hypothesis profile sets the number of examples (`--hypothesis-profile=nightly` for
many more); ANANKE_FUZZ_EXAMPLES=N runs N examples per test instead. The atheris run takes
ANANKE_FUZZ_RUNS inputs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.frontends import fuzz_grammars as fg
from tests.hypothesis_profiles import examples
from tests.suite_helpers import require_module

_MANY = int(os.environ.get("ANANKE_FUZZ_EXAMPLES", "0"))
_SEEDS = fg.seed_grammars()


def _fuzz(default: int) -> settings:
    return settings(
        max_examples=_MANY or examples(default),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("fuzz")


def _check(work: Path, dialect: str, data: bytes) -> None:
    path = work / f"grammar{fg.SUFFIX[dialect]}"
    path.write_bytes(data)
    fg.check_all_targets(path, validate=True)


@pytest.mark.parametrize("dialect", ["lark", "gbnf", "ebnf"])
@_fuzz(30)
@given(data=st.data())
def test_generated_grammars(work: Path, dialect: str, data: st.DataObject) -> None:
    _check(work, dialect, data.draw(fg.generated(dialect), label="grammar"))


@_fuzz(120)
@given(case=fg.mutated(_SEEDS))
def test_mutated_grammars(work: Path, case: tuple[str, bytes]) -> None:
    _check(work, *case)


def test_enough_seeds() -> None:
    # The grammars of lark, outlines, gbnf and xgrammar (all installed with the dev extra).
    assert len(_SEEDS) >= 40


def test_seed_grammars_unchanged(work: Path) -> None:
    for dialect, data in _SEEDS:
        _check(work, dialect, data)


# Each rule twice the one before: inlined into one regex, 2**15 copies of `[a-z]`.
_DOUBLING = b"".join(b"r%d ::= r%d r%d\n" % (i, i + 1, i + 1) for i in range(15))
_DOUBLING = _DOUBLING.replace(b"r0 ::=", b"root ::=", 1) + b"r15 ::= [a-z]\n"

_IGNORED_LOOP = b"%import common.NUMBER\nstart: (start)*\n%ignore NUMBER\n"

# Each refusal of a lowering points at the grammar file: at the rule it names, or at the
# start rule when it is about the whole grammar.
_REFUSALS = [
    ("regex", "not-regular", "lark", b'start: "(" start ")" | "x"\n', 1),
    ("regex", "target-cannot-express", "gbnf", b"root ::= root\n", 1),
    ("regex", "regex-too-large", "gbnf", _DOUBLING, 1),
    ("json-schema", "target-cannot-express", "lark", b'start: "x"\n', 1),
    ("gbnf", "target-cannot-express", "lark", b'start: "x" | A\nA: /a/ & /b/\n', 2),
    # Left recursion through rules the lowerings made (`start` reached again after `%ignore`d
    # text that may be empty): placed at the rule of the file they were made of.
    ("gbnf", "target-cannot-express", "lark", _IGNORED_LOOP, 2),
]


@pytest.mark.parametrize(("target", "code", "dialect", "data", "line"), _REFUSALS)
def test_refusals_point_at_the_file(
    work: Path, target: str, code: str, dialect: str, data: bytes, line: int
) -> None:
    path = work / f"grammar{fg.SUFFIX[dialect]}"
    path.write_bytes(data)
    exit_code, _, err = fg.transpile(path, target)
    assert exit_code == 1
    found = [d for d in json.loads(err) if d["code"] == code]
    assert found, err
    for d in found:
        assert [(lab["file"], lab["line"]) for lab in d["labels"]] == [(str(path), line)], d


def test_the_seed_grammars_are_there() -> None:
    """Every package whose grammars seed the mutations is installed (the seeds of a missing
    one would be dropped silently)."""
    for package in ("lark", "outlines", "gbnf", "xgrammar"):
        require_module(package)
    assert {dialect for dialect, _ in _SEEDS} == {"lark", "gbnf", "ebnf"}


def test_atheris_bounded_run(tmp_path: Path) -> None:
    """A short coverage-guided run from the seed corpus; a crash is a failed check."""
    if sys.platform != "linux":
        pytest.skip("atheris has wheels for Linux only (the dev extra installs it there)")
    require_module("atheris")
    # Run as a module of the tests package, from the repository root, so its imports resolve.
    target = ["-m", "tests.frontends.fuzz_transpile_atheris"]
    root = Path(__file__).resolve().parents[2]
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, *target, "--write-seeds", corpus], check=True, cwd=root)
    runs = os.environ.get("ANANKE_FUZZ_RUNS", "300")
    result = subprocess.run(
        [
            sys.executable,
            *target,
            corpus,
            f"-atheris_runs={runs}",
            "-seed=1",
            "-max_len=20000",
            f"-artifact_prefix={tmp_path}/",
        ],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert not list(tmp_path.glob("crash-*")), result.stderr[-4000:]


# Prints the fuzz found an engine refusing (or crashing on): each now loads in every engine
# of every target it prints for (the root causes have tests in tests/backends).
_FOUND = [
    # llguidance refused /\//[^\n]*/: the second slash was left unescaped.
    ("lark", b"%import common.CPP_COMMENT\nstart: CPP_COMMENT\n"),
    # llama.cpp refused `root ::= a`, `a ::= root` as left recursion.
    ("lark", b"start: a\na: start\n"),
    # XGrammar crashed (SIGSEGV) compiling `root ::= root{0,2}`.
    ("ebnf", b"root ::= root{0,2}\na ::= root\n"),
    # llguidance refused the surrogate in /[\x{dfff}]/.
    ("ebnf", b"root ::= root [\\uDFFF]\na ::= root\n"),
    # llguidance read `//*` (an empty regex, repeated) as a comment to the end of the line.
    ("lark", b'start: (/a{0}/)* "b" | /(?:(a){0})|\\S{0}/m\n'),
    # llama.cpp refused `""?` in `a (""? a)*`.
    ("lark", b'start: "x" | _sep{a, [""]}\n_sep{x, s}: x (s x)*\na: "b"\n'),
]


@pytest.mark.parametrize(("dialect", "data"), _FOUND)
def test_prints_found_by_fuzzing_load_in_their_engines(
    work: Path, dialect: str, data: bytes
) -> None:
    _check(work, dialect, data)


# Crashes the fuzzers found in the lowerings (the importers' are in test_import_*.py).
@pytest.mark.parametrize(
    ("data", "message"),
    [
        # An intersection that leaves nothing: no rule derives the empty language.
        (b'start: "x" | A\nA: /a/ & /b/\n', "lexeme `A` matches no string at all"),
        # A class only llguidance reads: the boundary analysis raised before the lowering.
        (b"start: /\\p{L}/\n", "Unicode classes \\p{..} are not supported"),
    ],
)
@pytest.mark.parametrize("target", ["gbnf", "xgrammar", "regex", "llamacpp"])
def test_lowering_refusals_found_by_fuzzing(
    work: Path, data: bytes, message: str, target: str
) -> None:
    path = work / "grammar.lark"
    path.write_bytes(data)
    code, _, err = fg.transpile(path, target)
    assert code == 1, err
    (diag,) = [d for d in json.loads(err) if d["severity"] == "error"]
    assert diag["code"] == "target-cannot-express"
    assert message in diag["message"]
    assert fg.transpile(path, "llguidance")[0] == 0
