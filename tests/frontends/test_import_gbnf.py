"""GBNF and XGrammar EBNF import: every construct, every diagnostic (exact message and
span), and the meaning checked against the engines that read the originals."""

from __future__ import annotations

import pytest
from ananke.backends import get_backend
from ananke.frontends.grammars import Dialect, dialect_for_path

from tests.frontends.import_helpers import describe, emitted, matcher, run
from tests.suite_helpers import missing

CONSTRUCTS: list[tuple[Dialect, str, str]] = [
    # strings split into one literal per character: no lexer, character-level meaning
    ("gbnf", 'root ::= "ab" x\nx ::= "c"', 'start: root\nroot: "a" "b" x\nx: "c"\n'),
    (
        "gbnf",
        r'root ::= "\x41\u00e9\U0001F600\n\t\r\\\""',
        'start: root\nroot: "A" "é" "😀" "\\n" "\\t" "\\r" "\\\\" "\\""\n',
    ),
    ("gbnf", r"root ::= [a-z_\]] [^0-9\-]", "start: root\nroot: /[a-z_\\x5d]/ /[^0-9\\x2d]/\n"),
    ("gbnf", "root ::= .", "start: root\nroot: /[\\x00-\\x{d7ff}\\x{e000}-\\x{10ffff}]/\n"),
    ("gbnf", "root ::= [^]", "start: root\nroot: /[\\x00-\\x{d7ff}\\x{e000}-\\x{10ffff}]/\n"),
    (
        "gbnf",
        'root ::= ("a" | "b")* "c"+ "d"? "e"{2} "f"{2,} "g"{1,3} "h"{,2}',
        'start: root\nroot: ("a" | "b")* "c"+ "d"? "e"{2} "f"{2,} "g"{1,3} "h"{0,2}\n',
    ),
    # comments, multi-line rules, `|` at the start of a line, empty alternative, `-` names
    (
        "gbnf",
        'root ::= # c\n  "a" # d\n  | my-rule |\nmy-rule ::= "b"',
        'start: root\nroot: "a" | my_rule | ""\nmy_rule: "b"\n',
    ),
    # llama.cpp takes raw newlines inside strings and classes
    ("gbnf", 'root ::= "a\nb" [\n]', 'start: root\nroot: "a" "\\n" "b" /[\\x0a]/\n'),
    # names that would be lexemes in Lark become lowercase CFG rules
    ("gbnf", 'root ::= Name\nName ::= "n"', 'start: root\nroot: name\nname: "n"\n'),
    # EBNF: `[^]`, Regex(...), {m, -1}, "" and ()
    (
        "ebnf",
        'root ::= [^] Regex("^[a-c]+x$") "a"{1, -1} ""',
        'start: root\nroot: /[\\x00-\\x{d7ff}\\x{e000}-\\x{10ffff}]/ /[a-c]/+ "x" "a"+ ""\n',
    ),
]


@pytest.mark.parametrize(("dialect", "source", "expected"), CONSTRUCTS)
def test_construct(dialect: Dialect, source: str, expected: str) -> None:
    assert emitted(source, dialect) == expected


def test_start_rule_parameter() -> None:
    assert emitted('top ::= "a"', "gbnf", start="top") == 'start: top\ntop: "a"\n'


def test_lookahead_is_dropped_with_a_warning() -> None:
    grammar, diags = run('root ::= "a" (= "b")', "ebnf")
    assert describe(diags) == [
        (
            "warning",
            "ignored-grammar-construct",
            "lookahead `(= ...)` ignored: XGrammar does not restrict the language with it either",
            13,
            20,
        )
    ]
    assert grammar is not None


def test_character_level_meaning_survives_greedy_lexing() -> None:
    # With "ab" as one lexeme, llguidance's greedy lexer would reject "abc" here.
    grammar, diags = run('root ::= ("ab" | "a") "bc"', "gbnf")
    assert not diags and grammar is not None
    m = matcher(grammar)
    assert m.accepts("abbc") and m.accepts("abc") and not m.accepts("ab")


def test_agrees_with_xgrammar() -> None:
    from ananke.runtime.engines import get_engine

    engine = get_engine("xgrammar-ebnf")
    if not engine.available():
        missing("the package 'xgrammar' is not installed")
    source = (
        'root ::= item ("," [ \\t]* item){0,3}\nitem ::= [a-z]+ | "\\"" [^"\\\\]* "\\"" | num\n'
        'num ::= "-"? [0-9]+ ("." [0-9]+)?'
    )
    grammar, diags = run(source, "ebnf")
    assert not diags and grammar is not None
    ours, theirs = matcher(grammar), engine.compile(source)
    for s in ["a", "abc,d", 'x, "y z",-1.5', "1.", "a,b,c,d,e", "a,,b", '"a\\"', "-"]:
        assert ours.accepts(s) == theirs.accepts(s), s


U = "unsupported-grammar-construct"
S = "grammar-syntax-error"
DIAGNOSTICS: list[tuple[Dialect, str, list[tuple[str, str, str, int, int]]]] = [
    (
        "gbnf",
        "root ::= <[128000]>",
        [("error", U, "token references have no equivalent: they depend on the tokenizer", 9, 19)],
    ),
    (
        "gbnf",
        "root ::= !<[1]> x",
        [
            (
                "error",
                U,
                "token references have no equivalent: they depend on the tokenizer",
                9,
                15,
            ),
            ("error", "undefined-grammar-rule", "`x` is not defined", 16, 17),
        ],
    ),
    (
        "ebnf",
        'root ::= Token(1) | TagDispatch(("a", r))\nr ::= "b"',
        [
            ("error", U, "`Token(...)` has no equivalent in GrammarIR", 9, 17),
            ("error", U, "`TagDispatch(...)` has no equivalent in GrammarIR", 20, 41),
        ],
    ),
    (
        "ebnf",
        'root ::= ExcludeToken("a")',
        [("error", U, "`ExcludeToken(...)` has no equivalent in GrammarIR", 9, 26)],
    ),
    (
        "ebnf",
        'root ::= Regex("a(?=b)")',
        [
            (
                "error",
                U,
                "`Regex(...)`: lookaround is not supported (at offset 1 of the pattern)",
                15,
                24,
            )
        ],
    ),
    (
        "ebnf",
        'root ::= Regex("a", json_string=true)',
        [("error", U, "`Regex(...)` options have no equivalent in GrammarIR", 9, 37)],
    ),
    ("ebnf", "root ::= .", [("error", S, "XGrammar's EBNF has no `.`: write `[^]`", 9, 10)]),
    (
        "ebnf",
        'root ::= "a"{,2}',
        [("error", S, "XGrammar's EBNF needs a lower bound: write `{0,n}`", 12, 16)],
    ),
    ("ebnf", 'root ::= "a" |', [("error", S, "expected an element on both sides of `|`", 13, 14)]),
    ("gbnf", r'root ::= "\q"', [("error", S, "invalid escape `\\q`", 10, 12)]),
    ("gbnf", 'root ::= "abc', [("error", S, "unterminated string", 9, 13)]),
    ("ebnf", 'root ::= "abc\n"', [("error", S, "unterminated string", 9, 13)]),
    ("gbnf", "root ::= [a-", [("error", S, "unterminated character class", 9, 12)]),
    ("ebnf", "root ::= [a\n]", [("error", S, "unterminated character class", 9, 11)]),
    # in a Regex: from its `[` to the end of the pattern (after an anchor, too)
    (
        "ebnf",
        'root ::= Regex("^x[a-z")',
        [("error", S, "invalid regex: unterminated character class", 18, 22)],
    ),
    ("gbnf", "root ::= []", [("error", S, "empty character class `[]` matches nothing", 9, 11)]),
    ("gbnf", "root ::= [z-a]", [("error", S, "character range `z-a` is out of order", 10, 13)]),
    ("gbnf", 'root ::= ("a"', [("error", S, "expected `)`, found end of file", 13, 13)]),
    ("gbnf", 'root ::= "a"{3,1}', [("error", S, "bad repetition bounds {3,1}", 12, 17)]),
    (
        "gbnf",
        'root ::= "a"{x}',
        [("error", S, "expected a repetition `{m}`, `{m,}` or `{m,n}`", 12, 13)],
    ),
    ("gbnf", 'root = "a"', [("error", S, "expected a rule `name ::= ...`, found `r`", 0, 1)]),
    ("gbnf", "root ::= )", [("error", S, "unmatched `)`", 9, 10)]),
    ("gbnf", "root ::= ?", [("error", S, "expected an element, found `?`", 9, 10)]),
    (
        "gbnf",
        'root ::= "a"\nroot ::= "b"',
        [("error", "duplicate-grammar-rule", "`root` is defined twice", 13, 17)],
    ),
    (
        "gbnf",
        'x ::= "a"',
        [("error", "undefined-grammar-rule", "start rule `root` is not defined", 0, 0)],
    ),
]


@pytest.mark.parametrize(("dialect", "source", "expected"), DIAGNOSTICS)
def test_diagnostic(
    dialect: Dialect, source: str, expected: list[tuple[str, str, str, int, int]]
) -> None:
    grammar, diags = run(source, dialect)
    assert describe(diags) == expected
    assert grammar is None


def test_duplicate_points_at_first_definition() -> None:
    _, diags = run('root ::= "a"\nroot ::= "b"', "gbnf")
    (d,) = diags
    secondary = [label for label in d.labels if not label.primary]
    assert [(lb.span.start, lb.span.end, lb.message) for lb in secondary] == [
        (0, 4, "first defined here")
    ]


def test_unclosed_group_points_at_its_opening() -> None:
    _, diags = run('root ::= ("a"', "gbnf")
    (d,) = diags
    assert [(lb.span.start, lb.message) for lb in d.labels if not lb.primary] == [
        (9, "group opened here")
    ]


@pytest.mark.parametrize(
    ("path", "dialect"),
    [("a.lark", "lark"), ("x/B.GBNF", "gbnf"), ("c.ebnf", "ebnf"), ("d.txt", None)],
)
def test_dialect_for_path(path: str, dialect: str | None) -> None:
    assert dialect_for_path(path) == dialect


def test_rule_called_start_gives_way_to_root() -> None:
    text = emitted('root ::= start\nstart ::= "a"', "gbnf")
    assert text == 'start: root\nroot: start_2\nstart_2: "a"\n'


# XGrammar's own classes in `Regex(...)`: the oracle is XGrammar reading the original.
XGRAMMAR_CLASS_PATTERNS = [
    r"\d",
    r"\w",
    r"\s",
    r"\D",
    r"\W",
    r"\S",
    r"[\d_-]",
    r"[^\s]",
    r"[^\W\d]",
    r"[\S\s]",
    r"a\\d",  # an escaped backslash, then `d`
]


@pytest.mark.parametrize("pattern", XGRAMMAR_CLASS_PATTERNS)
def test_regex_classes_mean_what_xgrammar_reads(pattern: str) -> None:
    from ananke.runtime.engines import get_engine

    source = 'root ::= Regex("' + pattern.replace("\\", "\\\\") + '")'
    grammar, diags = run(source, "ebnf")
    assert grammar is not None and not diags, describe(diags)
    theirs = get_engine("xgrammar-ebnf").compile(source)
    ours = get_engine("xgrammar-ebnf").compile(get_backend("xgrammar").emit(grammar))
    reference = matcher(grammar)
    # every code point where any of the classes changes, and a few of each block
    points = sorted(
        {*range(0x100), 0x1680, 0x180E, *range(0x1FFF, 0x2030), 0x205F, 0x3000, 0xFEFF}
        | {0x660, 0x669, 0xFF10, 0x10400, 0x1D7CE, 0x10FFFF}
    )
    for cp in points:
        text = ("a\\" if pattern.startswith("a") else "") + chr(cp)
        expected = theirs.accepts(text)
        assert ours.accepts(text) == expected, (pattern, hex(cp))
        assert reference.accepts(text) == expected, (pattern, hex(cp))


@pytest.mark.parametrize("dialect", ["gbnf", "ebnf"])
def test_deep_groups_are_an_error_not_a_crash(dialect: Dialect) -> None:
    # Found by fuzzing: 500 nested groups overflowed the recursive-descent parser.
    _, diags = run("root ::= " + "(" * 500 + '"a"' + ")" * 500, dialect)
    assert describe(diags) == [
        ("error", "grammar-syntax-error", "groups nested more than 100 deep", 109, 110)
    ]
    grammar, diags = run("root ::= " + "(" * 100 + '"a"' + ")" * 100, dialect)
    assert not diags and grammar is not None


@pytest.mark.parametrize(
    ("dialect", "text", "escape"),
    [("gbnf", r'root ::= "a\uD800"', r"\uD800"), ("ebnf", r'root ::= "\U0000dfff"', r"\U0000dfff")],
)
def test_surrogate_in_a_string_is_an_error(dialect: Dialect, text: str, escape: str) -> None:
    # Found by fuzzing: a surrogate reached the gbnf printer, which cannot encode it.
    _, diags = run(text, dialect)
    start = text.index(escape)
    message = f"`{escape}` is a surrogate, not a character: no UTF-8 text contains it"
    assert describe(diags) == [
        ("error", "grammar-syntax-error", message, start, start + len(escape))
    ]
