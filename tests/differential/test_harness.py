"""The differential harness itself: it finds disagreements, and deviations excuse only theirs."""

from __future__ import annotations

import types

import pytest
from ananke.runtime.engines import get_engine
from harness import Deviation, Disagreement, candidates, check_agreement, deviations_of

# Reference: one or more "a". WIDER also takes the empty string, and nothing else.
REF = "start: /a+/"
WIDER = "a*"


def test_finds_each_disagreement() -> None:
    ref = get_engine("llguidance-lark").compile(REF)
    wider = get_engine("llguidance-regex").compile(WIDER)
    same = get_engine("lark").compile(REF)
    found = check_agreement(ref, {"wider": wider, "same": same}, ["", "a", "aa", "b"])
    assert found == [Disagreement("wider", "", expected=False, got=True)]
    assert str(found[0]) == "wider accepts '', the reference does not"


def test_a_deviation_excuses_only_the_strings_it_applies_to() -> None:
    ref = get_engine("llguidance-lark").compile(REF)
    wider = get_engine("llguidance-regex").compile("(a|b)*")
    empty = Deviation("empty", "the target also accepts the empty string", lambda s: s == "")
    found = check_agreement(ref, {"wider": wider}, ["", "a", "b"], {"wider": (empty,)})
    assert found == [Disagreement("wider", "b", expected=False, got=True)]
    # A deviation listed for another engine excuses nothing here.
    found = check_agreement(ref, {"wider": wider}, ["", "b"], {"other": (empty,)})
    assert [d.string for d in found] == ["", "b"]


def _module(**attrs: object) -> types.ModuleType:
    m = types.ModuleType("fake_backend")
    m.__dict__.update(attrs)
    return m


def test_deviations_of_reads_and_checks_a_backend_module() -> None:
    d = Deviation("nul", "NUL cannot be written", lambda s: "\x00" in s)
    assert deviations_of(_module()) == ()
    assert deviations_of(_module(DEVIATIONS=(d,))) == (d,)
    with pytest.raises(TypeError):
        deviations_of(_module(DEVIATIONS=[d]))
    with pytest.raises(TypeError):
        deviations_of(_module(DEVIATIONS=("nul",)))
    with pytest.raises(ValueError, match="not documented"):
        deviations_of(_module(DEVIATIONS=(Deviation("x", " ", lambda s: True),)))
    with pytest.raises(ValueError, match="twice"):
        deviations_of(_module(DEVIATIONS=(d, d)))


def test_candidates_are_members_then_mutants() -> None:
    got = candidates('start: /[a-c]{1,3}/ ("," /[a-c]{1,3}/)*', 20, seed=4)
    assert len(got) == 40
    ref = get_engine("llguidance-lark").compile('start: /[a-c]{1,3}/ ("," /[a-c]{1,3}/)*')
    assert all(map(ref.accepts, got[:20]))
    assert not all(map(ref.accepts, got[20:]))
