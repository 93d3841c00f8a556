"""Lark templates and `%import` from the `lark` package's own grammars.

The oracle is the `lark` package reading the original grammar: every sample string is
accepted by the imported grammar (through llguidance) exactly when lark parses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.frontends.import_helpers import describe, emitted, matcher, run

# (grammar, samples): templates with rules, terminals and strings as arguments, nested,
# applied to other applications, recursive with the same arguments; and imports of a few
# names from lark's own grammar files, whose other definitions (templates, `%declare`,
# lookarounds) are not needed.
AGREES = [
    (
        '_sep{x, sep}: x (sep x)*\nstart: _sep{A, ","}\nA: "a"',
        ["a", "a,a", "a,a,a", "", "a,", ",a", "aa"],
    ),
    (
        '_sep{x, sep}: x (sep x)*\nlist{item}: "[" _sep{item, ";"} "]"\n'
        'start: list{pair}\npair: "(" NUM ":" NUM ")"\nNUM: /[0-9]+/',
        ["[(1:2)]", "[(1:2);(30:4)]", "[]", "[(1:2);]", "[(1:2)(3:4)]", "(1:2)"],
    ),
    (
        'pair{k, v}: k "=" v\nstart: pair{key, NUM} | pair{"#", key}\nkey: /[a-z]+/\nNUM: /[0-9]+/',
        ["ab=12", "#=ab", "ab=ab", "#=12", "12=ab", "="],
    ),
    (
        'nest{x}: x | "(" nest{x} ")"\nstart: nest{"a"}',
        ["a", "(a)", "((a))", "(a", "()", "((a)"],
    ),
    (
        'wrap{x}: "(" x ")"\nstart: wrap{wrap{"a"}} | wrap{"b"}',
        ["((a))", "(b)", "(a)", "((b))", "a"],
    ),
    # a template's body sees its own module's names; the argument the caller's
    (
        '%import python (name, _cs_list)\nstart: "[" _cs_list{item} "]"\nitem: /[0-9]+/',
        ["[1]", "[1,2]", "[1,2,]", "[]", "[,1]", "[a]"],
    ),
    ("%import python (name, _cs_list)\nstart: _cs_list{name}", ["a,b", "a,b,", "a", ",a"]),
    ("%import python (name)\nstart: name", ["abc", "é1", "_x", "match", "1a", "a-b"]),
    ("%import python.HEX_NUMBER -> HEX\nstart: HEX", ["0x1F", "0X_1", "0x", "0x1_"]),
    ("%import lark (RULE, TOKEN)\nstart: RULE | TOKEN", ["a_b", "?a", "_A1", "A_", "1a", "aB"]),
    ("%import unicode (WS)\nstart: WS", [" ", "\xa0 \t", "", "a"]),
]


@pytest.mark.parametrize(("source", "samples"), AGREES)
def test_accepts_what_lark_parses(source: str, samples: list[str]) -> None:
    import lark

    grammar, diags = run(source, "lark")
    assert grammar is not None and not [d for d in diags if d.severity == "error"], describe(diags)
    assert not [
        d for d in diags if d.severity == "warning" and d.code != "ignored-grammar-construct"
    ]
    ours = matcher(grammar)
    theirs = lark.Lark(source)
    for s in samples:
        try:
            theirs.parse(s)
            expected = True
        except lark.LarkError:
            expected = False
        assert ours.accepts(s) == expected, s


def test_one_rule_per_distinct_arguments() -> None:
    text = emitted('t{x}: x t{x}?\nstart: t{"a"} t{"a"} t{B}\nB: "b"', "lark")
    # the same arguments share a rule (recursive here); the rule says what it expands
    assert text == (
        'start: t t t_2\nB: "b"\n// t applied: t{"a"}\nt: "a" t?\n// t applied: t{B}\nt_2: B t_2?\n'
    )


def test_import_reports_only_what_the_named_definitions_use() -> None:
    # python.lark has templates, `%declare _INDENT _DEDENT` and a lookahead in DEC_NUMBER;
    # `NUMBER` is not one of its names (lark itself says so too).
    _, diags = run("%import python (name, NUMBER)\nstart: name | NUMBER", "lark")
    assert describe(diags) == [
        (
            "error",
            "unresolved-grammar-import",
            "grammar module `python` has no rule `NUMBER`",
            8,
            14,
        )
    ]


def test_declared_terminal_in_use_is_reported_once_at_the_declare() -> None:
    _, diags = run("%import python (suite)\nstart: suite", "lark")
    declares = [d for d in diags if "%declare" in d.message]
    assert len(declares) == 1
    span = declares[0].primary_span
    assert span is not None and span.file.endswith("python.lark")
    assert span.line == next(
        i
        for i, line in enumerate(Path(span.file).read_text(encoding="utf-8").splitlines(), 1)
        if line.startswith("%declare")
    )


def test_unused_templates_are_not_expanded() -> None:
    # lark accepts a template nobody applies, even one that could not be expanded
    assert emitted('t{x}: t{(x x)}\nstart: "a"', "lark") == 'start: "a"\n'


T = "invalid-grammar-template"
DIAGNOSTICS = [
    (
        'start: pair{"a"}\npair{x, y}: x y',
        [("error", T, "template `pair` takes 2 arguments, 1 given", 7, 16)],
    ),
    ("start: t\nt{x}: x", [("error", T, "template `t` needs arguments: `t{...}`", 7, 8)]),
    ('start: r{"a"}\nr: "b"', [("error", T, "`r` is not a template", 7, 8)]),
    ('start: q{"a"}', [("error", "undefined-grammar-rule", "template `q` is not defined", 7, 8)]),
    (
        'start: t{"a", "b"}\nt{x, x}: x',
        [("error", T, "template `t` names a parameter twice", 20, 26)],
    ),
    (
        "start{x}: x",
        [("error", T, "the start rule `start` is a template: it needs arguments", 0, 5)],
    ),
    (
        "start: A\nA{x}: x",
        [
            (
                "error",
                "grammar-syntax-error",
                "terminal `A` cannot be a template: templates are rules",
                10,
                13,
            )
        ],
    ),
    (
        'start: A\nA: t{"a"}\nt{x}: x',
        [
            (
                "error",
                "unsupported-grammar-construct",
                "templates are rules: they cannot be used in a terminal",
                12,
                18,
            )
        ],
    ),
    # growing arguments: a diagnostic at the application that grows, not a hang
    (
        't{x}: "a" | t{(x x)}\nstart: t{"b"}',
        [
            (
                "error",
                T,
                "template `t` expands without end: each expansion needs another with "
                "different arguments",
                12,
                20,
            )
        ],
    ),
    # the argument doubles at each expansion and is also the body: its size bounds it
    (
        'start: t{"a"}\nt{x}: x | t{(x x)}',
        [
            (
                "error",
                T,
                "template `t` expands without end: each expansion needs another with "
                "different arguments",
                24,
                32,
            )
        ],
    ),
    # errors in a template's body are reported once, however often it is applied
    (
        't{x}: x /(?=a)/\nstart: t{"a"} t{"b"}',
        [
            (
                "error",
                "unsupported-grammar-construct",
                "regex lookaround assertions have no equivalent in grammar engines",
                9,
                12,
            )
        ],
    ),
]


@pytest.mark.parametrize(("source", "expected"), DIAGNOSTICS)
def test_diagnostic(source: str, expected: list[tuple[str, str, str, int, int]]) -> None:
    grammar, diags = run(source, "lark")
    assert describe(diags) == expected
    assert grammar is None


def test_exponential_expansion_stops() -> None:
    # every application makes two larger ones: bounded by the number of expansions
    source = 't{x}: x | t{(x "a")} | t{(x "b")}\nstart: t{"c"}'
    grammar, diags = run(source, "lark")
    assert grammar is None
    assert [d.code for d in diags] == [T]
