"""The differential harness itself: it finds disagreements, and deviations excuse only theirs."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator

import llguidance
import pytest
from ananke.runtime.engines import EngineError, get_engine

from tests.differential.harness import (
    Deviation,
    Disagreement,
    EngineCrash,
    EngineHang,
    candidates,
    check_agreement,
    deviations_of,
    outlines_can_index,
)
from tests.engine_worker import EngineWorker, unforced

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


# --- the engine worker ----------------------------------------------------------------------

# llguidance 1.9.1 never returns from its first mask here: the lexer, greedy, forces `a`
# after `a` without end (the second `R` can never start).
ENDLESS = "start: R R\nR: /a+/\n"


@pytest.fixture(scope="module")
def short_worker() -> Iterator[EngineWorker]:
    """A worker of this module's own whose calls may take 5 s: a hang is endless, an answer
    takes milliseconds."""
    w = EngineWorker(limit_s=5)
    yield w
    w.close()


def test_the_worker_answers_as_the_engines_do(short_worker: EngineWorker) -> None:
    strings = ["", "a", "aa", "ab", "é", "\ud800"]
    for engine, text in (
        ("llguidance-lark", 'start: /a+/ | "é"'),
        ("xgrammar-ebnf", 'root ::= "a"+ | "é"'),
        ("llamacpp-gbnf", 'root ::= "a"+ | "é"'),
        ("lark", 'start: "a"+ | "é"'),
        ("outlines-regex", "a+|é"),
    ):
        here = get_engine(engine)
        if not here.available():
            continue
        there = short_worker.compile(engine, text)
        assert there.decide(strings) == [here.compile(text).accepts(s) for s in strings]
        assert there.decide(strings) == [False, True, True, False, True, False]
        assert short_worker.compile(engine, text) is there  # compiled once


def test_a_refused_grammar_raises_the_engines_error(short_worker: EngineWorker) -> None:
    with pytest.raises(EngineError, match="line 1") as found:
        short_worker.compile("xgrammar-ebnf", "root ::= ")
    with pytest.raises(EngineError) as here:
        get_engine("xgrammar-ebnf").compile("root ::= ")
    assert found.value.message == here.value.message


def test_a_hang_names_engine_grammar_and_string_and_the_worker_starts_again(
    short_worker: EngineWorker,
) -> None:
    hanging = short_worker.compile("llguidance-lark", ENDLESS, guard=False)
    assert hanging.decide([""]) == [False]  # no mask is computed for the empty string
    restarts = short_worker.restarts
    with pytest.raises(EngineHang) as found:
        hanging.decide(["", "b", "a"])
    message = str(found.value)
    assert message.startswith("llguidance-lark deciding 'b': no answer within 5 s")
    assert ENDLESS in message
    assert short_worker.restarts == restarts + 1
    # A new worker answers the next call; the grammar is compiled there again.
    assert short_worker.compile("lark", 'start: "b"').decide(["b"]) == [True]
    assert hanging.decide([""]) == [False]


def test_the_known_hang_is_decided_with_forcing_off(short_worker: EngineWorker) -> None:
    """With the check (the default), the same grammar answers: every string is rejected
    (llguidance's language for it is empty), each recorded under ENDLESS_FORCING with the
    prefix where the endless run begins."""
    restarts = short_worker.restarts
    guarded = short_worker.compile("llguidance-lark", ENDLESS)
    assert guarded.decide(["", "a", "b", "aaa"]) == [False] * 4
    assert guarded.unforced == [("a", 0), ("b", 0), ("aaa", 0)]
    # Through the GBNF reader, whose converter makes the rule a lexeme, and after a prefix.
    gbnf = short_worker.compile("llguidance-gbnf", 'root ::= "x" r r\nr ::= "a"{2,}\n')
    assert gbnf.decide(["xaaaa", "y"]) == [False, False]
    assert gbnf.unforced == [("xaaaa", 0), ("y", 0)]
    assert short_worker.restarts == restarts


@pytest.mark.parametrize(
    "text",
    [
        "start: R R\nR: /[ab]+/\n",  # as empty, but two bytes may follow `a`: no forcing
        # Forced without end one lexeme at a time: llguidance stops there by itself, but
        # the check cannot tell lexemes apart and decides with forcing off (the same verdict).
        'start: "a" start\n',
        'start: R "b" R\nR: /a+/\n',
    ],
)
def test_the_known_hang_applies_to_nothing_else(short_worker: EngineWorker, text: str) -> None:
    restarts = short_worker.restarts
    compiled = short_worker.compile("llguidance-lark", text, guard=False)
    guarded = short_worker.compile("llguidance-lark", text)
    strings = ["", "a", "ab", "aba", "b"]
    assert guarded.decide(strings) == compiled.decide(strings)
    assert not guarded.unforced or text == 'start: "a" start\n'
    assert short_worker.restarts == restarts


def test_forcing_off_keeps_other_options() -> None:
    assert unforced('%llguidance {}\n\nstart: A\nA: "a"\n').startswith(
        '%llguidance {"no_forcing": true}\n'
    )
    assert unforced('%llguidance {"allow_initial_skip": true}\nstart: "a"').startswith(
        '%llguidance {"allow_initial_skip": true, "no_forcing": true}\n'
    )
    assert unforced('start: "a"') == '%llguidance {"no_forcing": true}\nstart: "a"'
    regex = json.loads(unforced(llguidance.grammar_from("regex", "a+")))
    assert regex["grammars"][0]["lark_grammar"].startswith('%llguidance {"no_forcing": true}')


def test_a_crash_is_reported_and_the_worker_starts_again(short_worker: EngineWorker) -> None:
    # XGrammar 0.2.9 dies of SIGSEGV compiling a rule that only repeats itself.
    with pytest.raises(EngineCrash, match=r"xgrammar-ebnf compiling the grammar: .*died"):
        short_worker.compile("xgrammar-ebnf", "root ::= root{0,2}\n")
    assert short_worker.compile("lark", 'start: "a"').decide(["a", "b"]) == [True, False]


def test_a_worker_ended_between_calls_is_started_again(short_worker: EngineWorker) -> None:
    compiled = short_worker.compile("lark", 'start: "a"')
    assert short_worker._proc is not None
    short_worker._proc.kill()
    short_worker._proc.wait()
    assert compiled.decide(["a"]) == [True]  # compiled again in the new worker


def test_outlines_is_given_the_regexes_it_can_index() -> None:
    assert outlines_can_index("(?:[a-c]+(?:,[a-c]+)*)$")
    assert outlines_can_index("")
    # OUTLINES_INDEX's example (minutes in outlines-core), and one that takes it 16 s.
    assert not outlines_can_index("(?:(?:a|(?:a|中|[^é]){2,5}[b-中][a-𝒶]*|[中-𝒶]){1,4}aa)+")
    assert not outlines_can_index("(?:(?:[a-中][^a𝒶]{1,4}𝒶?a*){2,4}[^b中𝒶][a-中][^a𝒶]{1,4}𝒶?a*)$")
