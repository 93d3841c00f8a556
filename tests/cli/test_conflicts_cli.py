"""`arc check` on contradictions that only the grammar reveals: a `max_chars` below the
shortest function the grammar accepts, a `matches` pattern no function can match.

Each claim is held against llguidance (with a byte-level tokenizer it decides membership
exactly): a tight limit that `arc check` accepts is met by a function the engine accepts
and the post checks pass; the strings a pattern declared impossible can match (drawn from
the pattern by hypothesis) are all rejected by the engine.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ananke.ariadne import compile_source, read_source
from ananke.backends import get_backend
from ananke.ir import Diagnostics
from ananke.ir.automata import DFA, StateLimitExceeded
from ananke.ir.constraint import ConstraintSet
from ananke.ir.passes import DetectConflicts, compose
from ananke.ir.passes.bounds import Superset
from ananke.ir.passes.lower import LowerToGrammar
from ananke.runtime.acceptance import ByteMatcher
from ananke.runtime.validate import validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.cli_helpers import run_arc

SIGNATURE = "signature: fetch_records(session, query: str, limit: int = 100) -> List<Record>;"
SHORTEST = "def fetch_records(session,query:str,limit:int=100)->list[Record]:x\n"
"""A shortest function with that signature: 67 characters."""


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def _check(capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str]:
    Path("main.ariadne").write_text(text, "utf-8")
    code, out, err = run_arc(capsys, "check", "main.ariadne")
    return code, out + err


def _set(text: str, name: str) -> ConstraintSet:
    Path("main.ariadne").write_text(text, "utf-8")
    diags = Diagnostics()
    source = read_source(Path("main.ariadne"), diags)
    assert source is not None
    module = compile_source(source, diags)
    assert module is not None
    module = compose(module, diags)
    return next(s for s in module.sets if s.name == name)


def _engine(cset: ConstraintSet) -> ByteMatcher:
    lowered = LowerToGrammar().lower_set(cset, Diagnostics())
    return ByteMatcher(get_backend("llguidance").emit(lowered.grammar))


def test_max_chars_below_the_shortest_function_is_a_conflict(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _check(capsys, f"constraint tiny {{ {SIGNATURE} max_chars: 60; }}\n")
    assert code == 1
    assert "error[constraint-conflict]: `max_chars: 60` in `tiny` is below the 67 " in out
    assert "raise `max_chars` to at least 67" in out


def test_a_tight_max_chars_holds(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = f"constraint tight {{ {SIGNATURE} max_chars: {len(SHORTEST)}; }}\n"
    code, out = _check(capsys, text)
    assert (code, out) == (0, ""), out
    cset = _set(text, "tight")
    assert _engine(cset).accepts(SHORTEST)
    assert validate(SHORTEST, cset) == []


def test_max_chars_below_any_function_is_a_conflict_of_its_own(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Even `@soft`: nothing else is in the conflict, so nothing can give way."""
    code, out = _check(capsys, "constraint bare { @soft max_chars: 9; }\n")
    assert code == 1
    assert "`max_chars: 9` in `bare` is below the 10 characters" in out
    assert "no other constraint takes part" in out


IMPOSSIBLE = [
    # (the set, the pattern no output of it can match)
    ("", r"^def [a-z]+_(id|name)\Z"),
    ("", r"^def get_user_email\Z"),
    ("", r"\)\Z"),
    ("name: fetch;", r"^def get_"),
    ("naming: snake;", r"^def [A-Z]"),
    ('forbid: ["eval"];', r"^def eval\("),
    ("signature: fetch(url: str) -> bytes;", r"^async def"),
]


@pytest.mark.parametrize(("body", "pattern"), IMPOSSIBLE)
def test_a_pattern_no_function_matches_is_a_conflict(
    body: str, pattern: str, here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f'constraint s {{ {body} matches: r"{pattern}"; }}\n'
    code, out = _check(capsys, text)
    assert code == 1, out
    assert "error[constraint-conflict]: no " in out and "matches the pattern" in out
    # The engine agrees: whatever text the pattern matches (drawn from it), the grammar of
    # the set without the pattern rejects it.
    matcher = _engine(_set(f"constraint s {{ {body} }}\n", "s"))

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=st.from_regex(re.compile(pattern), fullmatch=False))
    def rejected(text: str) -> None:
        assert not matcher.accepts(text), text

    rejected()


POSSIBLE = [
    # (the set, the pattern, a function of the set that matches it)
    ("", r"^def get_", "def get_x():\n    return 1\n"),
    ("", r"return None$", "def f():\n    return None\n"),
    ("name: fetch;", r"^async def", "async def fetch():\n    pass\n"),
    ("name: fetch;", r"fetch\(", "def fetch(a):\n    pass\n"),
    ("", r"^(def f|zz)", "def f():\n    pass\n"),
]


@pytest.mark.parametrize(("body", "pattern", "witness"), POSSIBLE)
def test_a_pattern_some_function_matches_is_no_conflict(
    body: str, pattern: str, witness: str, here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f'constraint s {{ {body} matches: r"{pattern}"; }}\n'
    code, out = _check(capsys, text)
    assert (code, out) == (0, ""), out
    cset = _set(text, "s")
    assert _engine(cset).accepts(witness) and re.search(pattern, witness)
    assert validate(witness, cset) == []


def test_the_fixture_sets_d_and_e_conflict(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        'constraint a { matches: r"^def get_"; }\n'
        'constraint d extends a { matches: r"^def [a-z]+_(id|name)\\Z"; }\n'
    )
    code, out = _check(capsys, text)
    assert code == 1
    assert 'no Python function definition matches the pattern r"^def [a-z]+_(id|name)\\Z"' in out


def test_past_the_bound_a_pattern_is_undecided_not_guessed(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When comparing a pattern with the outputs passes the bounds on automata, the
    pattern is neither called impossible nor silently passed: a warning says it was not
    compared. (The bounds are forced: the Python grammar's superset fits them.)"""
    Path("main.ariadne").write_text('constraint s { matches: r"^def [a-z]+_id\\Z"; }\n', "utf-8")
    diags = Diagnostics()
    source = read_source(Path("main.ariadne"), diags)
    assert source is not None
    module = compile_source(source, diags)
    assert module is not None
    (cset,) = DetectConflicts().run(module, Diagnostics()).sets
    assert [c.kind for c in cset.conflicts] == ["matches"]

    def past_the_bound(self: Superset, dfa: DFA) -> bool:
        raise StateLimitExceeded(40_000, "the expression")

    monkeypatch.setattr(Superset, "meets", past_the_bound)
    (cset,) = DetectConflicts().run(module, diags).sets
    assert cset.conflicts == ()
    (warning,) = list(diags)
    assert warning.code == "undecided-conflict" and warning.severity == "warning"
    assert "grows past the bound" in warning.message
