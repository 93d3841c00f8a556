"""The uniform engine API: exact whole-string membership on every engine, engine errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ananke.runtime.engines import Engine, EngineError, engine_names, get_engine

from tests.suite_helpers import missing

ALL = (
    "llguidance-lark",
    "llguidance-gbnf",
    "llguidance-regex",
    "llguidance-json",
    "xgrammar-ebnf",
    "xgrammar-lark",
    "xgrammar-json",
    "outlines-regex",
    "outlines-json",
    "lark",
    "llamacpp-gbnf",
)
GRAMMAR_ENGINES = tuple(n for n in ALL if get_engine(n).format != "json-schema")
JSON_ENGINES = tuple(n for n in ALL if get_engine(n).format == "json-schema")


def engine(name: str) -> Engine:
    e = get_engine(name)
    if not e.available():
        missing(f"{name}: package {e.package!r} is not installed")
    return e


def test_names_and_formats() -> None:
    assert engine_names() == ALL
    formats = {n: get_engine(n).format for n in ALL}
    assert formats == {
        "llguidance-lark": "lark",
        "llguidance-gbnf": "gbnf",
        "llguidance-regex": "regex",
        "llguidance-json": "json-schema",
        "xgrammar-ebnf": "ebnf",
        "xgrammar-lark": "lark",
        "xgrammar-json": "json-schema",
        "outlines-regex": "regex",
        "outlines-json": "json-schema",
        "lark": "lark",
        "llamacpp-gbnf": "gbnf",
    }
    assert all(get_engine(n).name == n for n in ALL)


def test_unknown_engine_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="llguidance-lark"):
        get_engine("no-such-engine")


def test_every_engine_available() -> None:
    absent = [n for n in ALL if not get_engine(n).available()]
    if absent:
        missing(f"engines not installed: {', '.join(absent)}")


def test_import_is_lazy() -> None:
    code = (
        "import sys, ananke.runtime.engines, ananke.runtime.sample\n"
        "heavy = {'llguidance', 'xgrammar', 'outlines_core', 'lark', 'torch'}\n"
        "ananke.runtime.engines.get_engine('llamacpp-gbnf').available()\n"
        "print(sorted(heavy & set(sys.modules)), len(ananke.runtime.engines._SERVERS))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] 0"


# One language in every grammar dialect: "x", then any of b é 😀 NUL newline, then ";".
SAME_LANGUAGE = {
    "lark": r"start: /x[bé😀\x00\n]*;/",
    "gbnf": r'root ::= "x" [bé😀\x00\n]* ";"',
    "ebnf": r'root ::= "x" [bé😀\x00\n]* ";"',
    "regex": r"x[bé😀\x00\n]*;",
}
MEMBERS = ("x;", "xb;", "xé😀\x00\n;", "x\x00\x00;", "x\n\n;", "x😀😀;")
NON_MEMBERS = (
    "",
    "x",
    "x;;",
    "xa;",
    "y;",
    "x;\n",
    "\nx;",
    "😀;",
    "xé",
    "X;",
    "x\x01;",
    "x\U0001f601;",  # the next astral code point
    "xè;",
    "x\udc00;",  # a lone surrogate is no Unicode text
)


@pytest.mark.parametrize("name", GRAMMAR_ENGINES)
def test_exact_membership(name: str) -> None:
    e = engine(name)
    c = e.compile(SAME_LANGUAGE[e.format])
    assert c.engine == name
    assert [s for s in MEMBERS if not c.accepts(s)] == []
    assert [s for s in NON_MEMBERS if c.accepts(s)] == []


@pytest.mark.parametrize("name", GRAMMAR_ENGINES)
def test_many_strings_at_once_as_one_by_one(name: str) -> None:
    """`accepts_many` (one outlines-core index for the whole batch) decides each string as
    `accepts` does, duplicates and the empty string included."""
    e = engine(name)
    c = e.compile(SAME_LANGUAGE[e.format])
    strings = [*MEMBERS, *NON_MEMBERS, "x;", "", "xb;"]
    assert c.accepts_many(strings) == [s in MEMBERS for s in strings]


# A context-free language (balanced brackets, empty string included) in each CFG dialect.
BRACKETS = {
    "llguidance-lark": 'start: item*\nitem: "(" start ")" | "[" start "]"',
    "llguidance-gbnf": 'root ::= item*\nitem ::= "(" root ")" | "[" root "]"',
    "xgrammar-ebnf": 'root ::= item*\nitem ::= "(" root ")" | "[" root "]"',
    "xgrammar-lark": 'start: item*\nitem: "(" start ")" | "[" start "]"',
    "lark": 'start: item*\nitem: "(" start ")" | "[" start "]"',
    "llamacpp-gbnf": 'root ::= item*\nitem ::= "(" root ")" | "[" root "]"',
}


@pytest.mark.parametrize("name", sorted(BRACKETS))
def test_context_free_membership(name: str) -> None:
    c = engine(name).compile(BRACKETS[name])
    for s in ("", "()", "[]", "([])", "()[]", "[([]())]", "(((((())))))"):
        assert c.accepts(s), s
    for s in ("(", ")", "(]", "([)]", "()(", " ()", "(())]"):
        assert not c.accepts(s), s


def test_outlines_loops_are_exact() -> None:
    # Walking outlines-core's index byte by byte would reject "abab" (see the module doc).
    c = engine("outlines-regex").compile("(ab)*")
    assert [s for s in ("", "ab", "abab", "ababab") if not c.accepts(s)] == []
    assert [s for s in ("a", "aba", "abb", "ba") if c.accepts(s)] == []
    c = engine("outlines-regex").compile(r"[0-9]+(\.[0-9]+)?")
    assert c.accepts("12.5") and c.accepts("1") and not c.accepts("1.")


SCHEMA = (
    '{"type": "object", "properties": {"a": {"type": "integer"}, "s": {"type": "string"}},'
    ' "required": ["a"], "additionalProperties": false}'
)


@pytest.mark.parametrize("name", JSON_ENGINES)
def test_json_schema_membership(name: str) -> None:
    c = engine(name).compile(SCHEMA)
    for s in ('{"a":1}', '{"a": 12}', '{"a":1,"s":"é😀"}', '{"a":-3,"s":"x\\n"}'):
        assert c.accepts(s), s
    # Every engine here keeps the schema's property order.
    for s in (
        '{"s":"x","a":1}',
        "",
        "{}",
        '{"a":"1"}',
        '{"a":1.5}',
        '{"a":1,"b":2}',
        '{"a":1,"s":"\x00"}',
        "[1]",
    ):
        assert not c.accepts(s), s


BROKEN = {
    "lark": "start: (",
    "gbnf": "root ::= (",
    "ebnf": "root ::= (",
    "regex": "(",
    "json-schema": '{"type": "nope"}',
}


@pytest.mark.parametrize("name", ALL)
def test_compile_error_carries_the_engines_message(name: str) -> None:
    e = engine(name)
    with pytest.raises(EngineError) as info:
        e.compile(BROKEN[e.format])
    message = info.value.message
    assert message and message == str(info.value)
    assert not message.startswith("[")  # XGrammar's log prefix is stripped
    if e.format == "json-schema":
        assert "nope" in message


def test_xgrammar_escape_and_nul_quirks() -> None:
    # XGrammar quirks printers must avoid: "\x" reads every hex digit that follows (so
    # "\x00c" is U+000C), a NUL ends a string literal, and a class holding only NUL becomes
    # such a literal. A class holding NUL and another character is read correctly.
    e = engine("xgrammar-ebnf")
    assert e.compile(r'root ::= "\x00c"').accepts("\x0c")
    assert e.compile(r'root ::= "a\u0000c"').accepts("a")
    assert not e.compile(r'root ::= "a\u0000c"').accepts("a\x00c")
    assert e.compile(r'root ::= "a" [\x00]').accepts("a")
    assert not e.compile(r'root ::= "a" [\x00]').accepts("a\x00")
    assert e.compile(r'root ::= "a" [\x00\x01]').accepts("a\x00")
    # llguidance and lark read the same literal as three characters.
    for name in ("llguidance-lark", "lark"):
        c = engine(name).compile(r'start: "a\u0000c"')
        assert c.accepts("a\x00c") and not c.accepts("a")


def test_greedy_lexing_differs_between_lark_readers() -> None:
    # llguidance's lexer takes the longest match, and so does lark's "dynamic" lexer for
    # each terminal; XGrammar's Lark reader is character-level and backtracks.
    grammar = 'start: ID "x"\nID: /[a-z]+/'
    readers = ("llguidance-lark", "xgrammar-lark", "lark")
    verdicts = {n: engine(n).compile(grammar).accepts("abx") for n in readers}
    assert verdicts["llguidance-lark"] is False
    assert verdicts["lark"] is False
    assert verdicts["xgrammar-lark"] is True


def test_llamacpp_refuses_what_its_parser_refuses() -> None:
    # llama.cpp's own limits, with its own words: a bounded repeat of a group that holds
    # repeats, and any bound of 2,000 or more (MAX_REPETITION_THRESHOLD).
    e = engine("llamacpp-gbnf")
    for text in ("root ::= ([a]{0,100}){0,100}", "root ::= [a]{2000}"):
        with pytest.raises(EngineError, match="exceeds sane defaults"):
            e.compile(text)
    with pytest.raises(EngineError, match="Undefined rule identifier 'b'"):
        e.compile("root ::= b")
    # Repeats of single symbols side by side are fine, each under the bound.
    c = e.compile("root ::= [a]{0,100} [b]{0,1999}")
    assert c.accepts("a" * 100 + "b" * 1999) and not c.accepts("a" * 101)


def test_llamacpp_server_survives_a_refused_grammar_and_serves_later_ones() -> None:
    e = engine("llamacpp-gbnf")
    first = e.compile('root ::= "a"')
    with pytest.raises(EngineError):
        e.compile("root ::= (")
    assert first.accepts("a") and e.compile('root ::= "b"').accepts("b")


def test_llamacpp_grammar_loaded_before_a_fork_works_in_the_child() -> None:
    # `arc test` forks its workers: each child starts its own llama.cpp process (pipes are
    # not shared) and loads there the grammars its parent had loaded.
    import multiprocessing

    compiled = engine("llamacpp-gbnf").compile('root ::= "a"+')
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=lambda: results.put([compiled.accepts(s) for s in ("aaa", "b")]))
    child.start()
    got = results.get(timeout=60)
    child.join(timeout=60)
    assert got == [True, False] and child.exitcode == 0
    assert compiled.accepts("a")


def test_llamacpp_server_ends_when_its_caller_is_killed(tmp_path: Path) -> None:
    # A check that runs for a long time inside llama.cpp (one stack per open alternative:
    # here the two equal `<` alternatives double the stacks at each level) sees neither a
    # closed stdin nor a signal; the server still ends once its caller is gone.
    engine("llamacpp-gbnf")  # skips when llama.cpp is not installed
    script = tmp_path / "caller.py"
    script.write_text(
        "from ananke.runtime.engines import get_engine\n"
        "c = get_engine('llamacpp-gbnf').compile(\n"
        '    \'root ::= s\\ns ::= i | i "," s\\ni ::= "<" s ">" | "<" s ">" | "a"\\n\')\n'
        "print(c._server._proc.pid, flush=True)\n"
        "c.accepts('<' * 60 + 'a' + '>' * 60)\n"
    )
    caller = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert caller.stdout is not None
    server = int(caller.stdout.readline())
    time.sleep(1)
    assert _alive(server)  # still checking
    caller.kill()
    caller.wait()
    deadline = time.monotonic() + 10
    while _alive(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(server)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # An ended child of a process that was killed is reaped by init; until then it is a
    # zombie, which has ended.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False
