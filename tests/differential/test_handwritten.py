"""Hand-written grammars that mean the same language in every dialect: all engines agree.

Each language is written once per dialect by hand; the llguidance Lark grammar is the
reference. Candidates are 50 members sampled from the reference and 50 mutations of them,
plus a few hand-picked edge strings.
"""

from __future__ import annotations

import functools

import pytest

from tests.differential.harness import candidates, check_agreement, compile_or_skip, report

INT = r"-?(0|[1-9][0-9]*)"
STRING_RE = r'"([^"\\\x01-\x1f]|\\["\\n])*"'  # NUL allowed raw, other controls not

LANGUAGES: dict[str, dict[str, str]] = {
    "int-arrays": {
        "llguidance-lark": f'start: "[" (INT ("," INT)*)? "]"\nINT: /{INT}/',
        "llguidance-gbnf": 'root ::= "[" (int ("," int)*)? "]"\nint ::= "-"? ("0" | [1-9] [0-9]*)',
        "xgrammar-ebnf": 'root ::= "[" (int ("," int)*)? "]"\nint ::= "-"? ("0" | [1-9] [0-9]*)',
        "xgrammar-lark": f'start: "[" (INT ("," INT)*)? "]"\nINT: /{INT}/',
        "lark": f'start: "[" (INT ("," INT)*)? "]"\nINT: /{INT}/',
        "llguidance-regex": rf"\[({INT}(,{INT})*)?\]",
        "outlines-regex": rf"\[({INT}(,{INT})*)?\]",
    },
    "identifier-lists": {
        "llguidance-lark": 'start: ID ("," " "? ID)*\nID: /[a-zé😀_][a-z0-9é😀_]*/',
        "llguidance-gbnf": ('root ::= id ("," " "? id)*\nid ::= [a-zé😀_] [a-z0-9é😀_]*'),
        "xgrammar-ebnf": 'root ::= id ("," " "? id)*\nid ::= [a-zé😀_] [a-z0-9é😀_]*',
        "xgrammar-lark": 'start: ID ("," " "? ID)*\nID: /[a-zé😀_][a-z0-9é😀_]*/',
        "lark": 'start: ID ("," " "? ID)*\nID: /[a-zé😀_][a-z0-9é😀_]*/',
        "llguidance-regex": "[a-zé😀_][a-z0-9é😀_]*(, ?[a-zé😀_][a-z0-9é😀_]*)*",
        "outlines-regex": "[a-zé😀_][a-z0-9é😀_]*(, ?[a-zé😀_][a-z0-9é😀_]*)*",
    },
    "parens-depth-3": {
        "llguidance-lark": (
            'start: d3\nd3: ("(" d2 ")" | "x")*\nd2: ("(" d1 ")" | "x")*\nd1: "x"*'
        ),
        "llguidance-gbnf": (
            'root ::= d3\nd3 ::= ("(" d2 ")" | "x")*\nd2 ::= ("(" d1 ")" | "x")*\nd1 ::= "x"*'
        ),
        "xgrammar-ebnf": (
            'root ::= d3\nd3 ::= ("(" d2 ")" | "x")*\nd2 ::= ("(" d1 ")" | "x")*\nd1 ::= "x"*'
        ),
        "xgrammar-lark": ('start: d3\nd3: ("(" d2 ")" | "x")*\nd2: ("(" d1 ")" | "x")*\nd1: "x"*'),
        "lark": 'start: d3\nd3: ("(" d2 ")" | "x")*\nd2: ("(" d1 ")" | "x")*\nd1: "x"*',
        "llguidance-regex": r"(\((\(x*\)|x)*\)|x)*",
        "outlines-regex": r"(\((\(x*\)|x)*\)|x)*",
    },
    "quoted-strings": {
        "llguidance-lark": f'start: STR ("," STR)*\nSTR: /{STRING_RE}/',
        "llguidance-gbnf": (
            'root ::= str ("," str)*\nstr ::= "\\"" ([^"\\\\\\x01-\\x1f] | "\\\\" ["\\\\n])* "\\""'
        ),
        "xgrammar-ebnf": (
            'root ::= str ("," str)*\nstr ::= "\\"" ([^"\\\\\\x01-\\x1f] | "\\\\" ["\\\\n])* "\\""'
        ),
        "xgrammar-lark": f'start: STR ("," STR)*\nSTR: /{STRING_RE}/',
        "lark": f'start: STR ("," STR)*\nSTR: /{STRING_RE}/',
        "llguidance-regex": f"{STRING_RE}(,{STRING_RE})*",
        "outlines-regex": f"{STRING_RE}(,{STRING_RE})*",
    },
}

EDGES: dict[str, tuple[str, ...]] = {
    "int-arrays": ("[]", "[0]", "[-0]", "[01]", "[1,]", "[,1]", "[1,-2,30]", "[", "", "[ 1]"),
    "identifier-lists": ("a", "a,b", "a, b", "a,  b", "é😀", "0a", "a,", "_", "a b", ""),
    "parens-depth-3": ("", "x", "()", "((()))", "(((x)))", "((x)(x))", "(()", ")("),
    "quoted-strings": ('""', '"\x00"', '"\x01"', '"\\n"', '"\\t"', '"é😀"', '"a","b"', '"'),
}

REFERENCE = "llguidance-lark"
CASES = [(lang, e) for lang, texts in LANGUAGES.items() for e in texts if e != REFERENCE]


@functools.cache
def strings_for(language: str) -> tuple[str, ...]:
    return (*candidates(LANGUAGES[language][REFERENCE], 50, seed=17), *EDGES[language])


@pytest.mark.parametrize(("language", "engine"), CASES, ids=[f"{g}-{e}" for g, e in CASES])
def test_engines_agree_with_the_reference(language: str, engine: str) -> None:
    texts = LANGUAGES[language]
    reference = compile_or_skip(REFERENCE, texts[REFERENCE])
    other = compile_or_skip(engine, texts[engine])
    strings = strings_for(language)
    accepted = sum(map(reference.accepts, strings))
    assert 50 <= accepted < len(strings)  # members and non-members both
    found = check_agreement(reference, {engine: other}, strings)
    assert not found, report(found)
