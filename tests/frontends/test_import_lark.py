"""Lark import: every construct, every diagnostic (exact message and span), and the
meaning of the result checked against llguidance reading the original grammar."""

from __future__ import annotations

from pathlib import Path

import pytest
from ananke.runtime.acceptance import ByteMatcher

from tests.frontends.import_helpers import describe, emitted, matcher, run

# --- constructs -> GrammarIR, shown as the llguidance text the backend prints ---------------

CONSTRUCTS = [
    # rules, terminals, sequences, alternatives, groups
    ('start: a B\na: "x" | "y"\nB: "b"', 'start: a B\na: "x" | "y"\nB: "b"\n'),
    # inlining marks, keep-tokens mark and aliases only shape lark's tree: dropped
    (
        'start: _a ?b !c\n_a: "x" -> one\n?b: "y"\n!c: "z"',
        'start: _a b c\n_a: "x"\nb: "y"\nc: "z"\n',
    ),
    # operators
    ('start: "a"? "b"* "c"+ ["d"]', 'start: "a"? "b"* "c"+ "d"?\n'),
    ('start: "a" ~ 3 "b" ~ 1..2', 'start: "a"{3} "b"{1,2}\n'),
    ('start: "a"{2} "b"{1,3} "c"{2,} "d"{,4}', 'start: "a"{2} "b"{1,3} "c"{2,} "d"{0,4}\n'),
    # literals: escapes, ranges, case-insensitive strings (one regex: one lexeme)
    (r'start: "a\n\t\"\\\x41\u00e9"', 'start: "a\\n\\t\\"\\\\Aé"\n'),
    ('start: "a".."f"', "start: /[a-f]/\n"),
    # Python's case folding, as lark matches `(?i:If)`: `i` also matches U+0130 and U+0131
    ('start: "If"i', r"start: /[Ii\u0130\u0131][Ff]/" + "\n"),
    ('start: "+1"i', 'start: "+1"\n'),
    # regexes: read as Python's `re` reads them, written with explicit classes only;
    # groups that only group are dropped
    (r"start: /[a-z]+\/(?a:\d)/", r"start: /[a-z]+\/[0-9]/" + "\n"),
    (r"start: /(?a)\w\s\W/", r"start: /[0-9A-Z_a-z][\t-\r ][^0-9A-Z_a-z]/" + "\n"),
    ("start: /a.c/", r"start: /a[^\n]c/" + "\n"),
    ("start: /a.c/s", r"start: /a[\x00-\U0010FFFF]c/" + "\n"),
    ("start: /ab/s", "start: /ab/\n"),
    # the `i` flag spelt out as Python folds case
    (r"start: /0x[a-f]*/i", r"start: /0[Xx][A-Fa-f]*/" + "\n"),
    ("start: /[^a-c_]é/i", r"start: /[^A-C_a-c][\u00C9\u00E9]/" + "\n"),
    ("start: /sk/i", r"start: /[Ss\u017F][Kk\u212A]/" + "\n"),
    ("start: /a b # c/ix", "start: /[Aa][Bb]/\n"),
    ("start: /(?P<x>a)b(?#c)/", "start: /ab/\n"),
    ("start: /[(?=]x/", "start: /[(=?]x/\n"),
    # Python reads `{` alone as a literal, and `[` in a class as a literal
    ("start: /{[[]/", r"start: /\{\[/" + "\n"),
    # lark evaluates `\xHH` before `re` reads the pattern: `\x2e` is `.`
    (r"start: /a\x2e/", r"start: /a[^\n]/" + "\n"),
    # not Python: llguidance's own (Rust) syntax is kept for the engines that read it
    (r"start: /\p{L}[[:digit:]]/", r"start: /\p{L}[[:digit:]]/" + "\n"),
    # llguidance extensions
    ('start: A\nA: /[a-z]+/ & ~"if"', 'start: A\nA: /[a-z]+/ & (~"if")\n'),
    ("start: <|eos|>", "start: <|eos|>\n"),
    ('start: %json {\n  "type": "integer"\n}', 'start: %json {\n  "type": "integer"\n}\n'),
    ('%llguidance {}\nstart: "a"', 'start: "a"\n'),
    ('start: a-b\na-b: "x"', 'start: a_b\na_b: "x"\n'),
    # rule priorities only choose among parse trees
    ('start.2: "a"', 'start: "a"\n'),
    # lexeme option `capture` names a capture, nothing else
    ('start: x\nx[capture]: "a"', 'start: x\nx: "a"\n'),
    # %override / %extend
    ('start: "a"\n%override start: "b"', 'start: "b"\n'),
    ('start: "a"\n%extend start: "b"', 'start: "a" | "b"\n'),
    ('%import common.WS\n%override WS: " "\nstart: WS', 'start: WS\nWS: " "\n'),
    # another start rule
]


@pytest.mark.parametrize(("source", "expected"), CONSTRUCTS)
def test_construct(source: str, expected: str) -> None:
    assert emitted(source, "lark") == expected


def test_other_start_rule() -> None:
    assert emitted('top: "a"', "lark", start="top") == 'start: top\ntop: "a"\n'


def test_common_import_resolves_from_lark_package() -> None:
    text = emitted("%import common.INT\n%import common (WORD, LETTER)\nstart: INT WORD", "lark")
    # Imported names keep their name; what they use gets the module's name as a prefix.
    assert text == (
        "start: INT WORD\nINT: COMMON__DIGIT+\nWORD: COMMON__LETTER+\nCOMMON__DIGIT: /[0-9]/\n"
        "COMMON__LETTER: COMMON__UCASE_LETTER | COMMON__LCASE_LETTER\n"
        "COMMON__UCASE_LETTER: /[A-Z]/\nCOMMON__LCASE_LETTER: /[a-z]/\n"
    )


def test_common_import_alias_and_namespaced_dependencies() -> None:
    text = emitted("%import common.SIGNED_NUMBER -> NUM\nstart: NUM", "lark")
    assert text.startswith("start: NUM\nNUM: ")
    assert "COMMON__" in text  # the dependencies keep the module's name
    m = ByteMatcher(text)
    assert m.accepts("-1.5e3") and m.accepts("42") and not m.accepts("1.2.3")


def test_common_escaped_string_keeps_lark_meaning() -> None:
    # lark's common.lark writes ESCAPED_STRING with a lookbehind and lazy quantifiers;
    # the import uses the same language in plain regex syntax.
    grammar, diags = run("%import common.ESCAPED_STRING\nstart: ESCAPED_STRING", "lark")
    assert not diags and grammar is not None
    m = matcher(grammar)
    for s, ok in [
        ('"a"', True),
        ('""', True),
        ('"a\\"b"', True),
        ('"a\\\\"', True),
        ('"a"b"', False),
        ('"a\\"', False),
        ('"a\nb"', False),
    ]:
        assert m.accepts(s) is ok, s


def test_common_c_comment() -> None:
    grammar, diags = run("%import common.C_COMMENT\nstart: C_COMMENT", "lark")
    assert not diags and grammar is not None
    m = matcher(grammar)
    for s, ok in [("/**/", True), ("/* a * b **/", True), ("/* a */ b */", False)]:
        assert m.accepts(s) is ok, s


def test_relative_import(tmp_path: Path) -> None:
    (tmp_path / "words.lark").write_text('word: LETTER+\nLETTER: "a".."z"\n')
    main = tmp_path / "main.lark"
    main.write_text("%import .words.word\nstart: word")
    grammar, diags = run(main.read_text(), "lark", name=str(main))
    assert not diags and grammar is not None
    assert [r.name for r in grammar.rules] == ["start", "word", "WORDS__LETTER"]


def test_ignore_lowering() -> None:
    text = emitted('%import common.WS\n%ignore WS\nstart: "a" b\nb: "b" B\nB: "c" "d"', "lark")
    assert text == (
        'start: IGNORE* "a" b IGNORE*\nb: IGNORE* "b" IGNORE* B\nB: "c" "d"\n'
        "WS: /[\\t\\n\\f\\r ]/+\n// %ignore\nIGNORE: WS\n"
    )
    m = ByteMatcher(text)
    # between lexemes, as llguidance; at both ends too, as the lark package
    for s, ok in [("abcd", True), ("a b  cd", True), ("  a\nbcd\t", True), ("ab c d", False)]:
        assert m.accepts(s) is ok, s


def test_ignore_agrees_with_llguidance_between_lexemes() -> None:
    source = '%ignore " "\nstart: "a" ("b" | c)+\nc: "c"'
    grammar, diags = run(source, "lark")
    assert not diags and grammar is not None
    ours, theirs = matcher(grammar), ByteMatcher(source)
    for s in ["ab", "a b", "a  b c", "abcb", "a bc  c", "a", "ba", "a x"]:
        assert ours.accepts(s) == theirs.accepts(s), s


def test_case_insensitive_string_is_one_lexeme() -> None:
    grammar, _ = run('%ignore " "\nstart: "ab"i', "lark")
    assert grammar is not None
    m = matcher(grammar)
    assert m.accepts("aB") and m.accepts(" Ab ") and not m.accepts("a b")


# --- diagnostics: (severity, code, message, start, end) -------------------------------------

U = "unsupported-grammar-construct"
DIAGNOSTICS = [
    (
        "start: /a(?=b)/",
        [
            (
                "error",
                U,
                "regex lookaround assertions have no equivalent in grammar engines",
                9,
                12,
            )
        ],
    ),
    (
        "start: /a(?<!b)/",
        [
            (
                "error",
                U,
                "regex lookaround assertions have no equivalent in grammar engines",
                9,
                13,
            )
        ],
    ),
    (
        "start: /a+?/",
        [
            (
                "error",
                U,
                "regex lazy quantifiers have no equivalent in grammar engines",
                9,
                11,
            )
        ],
    ),
    (
        r"start: /(a)\1/",
        [
            (
                "error",
                U,
                "regex backreferences have no equivalent in grammar engines",
                11,
                13,
            )
        ],
    ),
    (
        r"start: /\bx/",
        [
            (
                "error",
                U,
                "regex word-boundary assertions have no equivalent in grammar engines",
                8,
                10,
            )
        ],
    ),
    (
        "start: /^x$/",
        [
            ("error", U, "regex anchors have no equivalent in grammar engines", 8, 9),
            ("error", U, "regex anchors have no equivalent in grammar engines", 10, 11),
        ],
    ),
    ("start: /x/l", [("error", U, "regex flag `l` has no equivalent", 10, 11)]),
    # from the `[` to the end of the regex
    (
        "start: /[a-/",
        [("error", "grammar-syntax-error", "invalid regex: unterminated character class", 8, 11)],
    ),
    (
        'start: /[a/ "x"',
        [("error", "grammar-syntax-error", "invalid regex: unterminated character class", 8, 10)],
    ),
    # what Python's `re` refuses: its message, at its place
    (
        "start: /ab{2,1}/",
        [
            (
                "error",
                "grammar-syntax-error",
                "invalid regex: min repeat greater than max repeat",
                11,
                12,
            )
        ],
    ),
    (
        "%declare INDENT\nstart: INDENT",
        [
            (
                "error",
                U,
                "`%declare` has no equivalent: declared terminals are produced by a "
                "custom lexer or postlexer that a grammar engine does not run",
                0,
                15,
            )
        ],
    ),
    (
        'start: A\nA.2: "a"',
        [
            (
                "warning",
                "ignored-grammar-construct",
                "priority of terminal `A` ignored: llguidance's lexer has no terminal priorities",
                10,
                12,
            )
        ],
    ),
    ('start: "a" & "b"', [("error", U, "`&` is only allowed in terminal definitions", 7, 16)]),
    ('start: ~"a"', [("error", U, "`~` negation is only allowed in terminal definitions", 7, 11)]),
    (
        "start: A\nA: <|eos|>",
        [("error", U, "special tokens are not allowed in terminal definitions", 12, 19)],
    ),
    (
        "start: <[128000]>",
        [
            (
                "error",
                U,
                "token ids `<[...]>` have no equivalent: they depend on the tokenizer",
                7,
                17,
            )
        ],
    ),
    ("start: @sub", [("error", U, "sub-grammar references `@name` have no equivalent", 7, 11)]),
    ('start: x\nx[lazy]: "a"', [("error", U, "lexeme option `lazy` has no equivalent", 11, 15)]),
    (
        '%llguidance {"no_forcing": true}\nstart: "a"',
        [("error", U, "`%llguidance` options have no equivalent in GrammarIR", 0, 32)],
    ),
    (
        "start: A\nA: %json {}",
        [("error", U, "`%json` is not allowed in terminal definitions", 12, 20)],
    ),
    ("start: b", [("error", "undefined-grammar-rule", "`b` is not defined", 7, 8)]),
    ('a: "x"', [("error", "undefined-grammar-rule", "start rule `start` is not defined", 0, 0)]),
    (
        'start: "a"\nstart: "b"',
        [("error", "duplicate-grammar-rule", "`start` is defined twice", 11, 16)],
    ),
    (
        'start: A\nA: b\nb: "x"',
        [("error", "invalid-grammar-terminal", "terminal `A` refers to rule `b`", 12, 13)],
    ),
    (
        'start: A\nA: "x" A?',
        [("error", "invalid-grammar-terminal", "terminal `A` refers to itself", 9, 10)],
    ),
    (
        "%import nosuchmodule.X\nstart: X",
        [
            (
                "error",
                "unresolved-grammar-import",
                "cannot find grammar module `nosuchmodule`",
                8,
                22,
            )
        ],
    ),
    (
        "%import common.NOPE\nstart: NOPE",
        [
            (
                "error",
                "unresolved-grammar-import",
                "grammar module `common` has no rule `NOPE`",
                8,
                19,
            )
        ],
    ),
    (
        '%extend b: "x"\nstart: "a"',
        [("error", "undefined-grammar-rule", "`%extend` of undefined `b`", 8, 9)],
    ),
    (
        '%import common.WS\n%extend WS: "x"\nstart: WS',
        [("error", U, "`%extend` of imported `WS` is not supported: copy its definition", 26, 28)],
    ),
    ('start: "a"\nb: ("x"', [("error", "grammar-syntax-error", "unexpected end of file", 18, 18)]),
    ("start: $", [("error", "grammar-syntax-error", "unexpected character '$'", 7, 8)]),
    (
        'start: "b".."a"',
        [("error", "grammar-syntax-error", "a range needs two single characters in order", 7, 15)],
    ),
    (
        "start: %json {1: 2}",
        [
            (
                "error",
                "grammar-syntax-error",
                "invalid JSON after `%json`: Expecting property name enclosed in double quotes",
                14,
                15,
            )
        ],
    ),
]


@pytest.mark.parametrize(("source", "expected"), DIAGNOSTICS)
def test_diagnostic(source: str, expected: list[tuple[str, str, str, int, int]]) -> None:
    grammar, diags = run(source, "lark")
    got = describe(diags)
    assert sorted(got) == sorted(expected)
    errors = any(d[0] == "error" for d in expected)
    assert (grammar is None) == errors


def test_rule_called_start_gives_way_to_another_start_rule() -> None:
    text = emitted('start: "a"\ntop: start', "lark", start="top")
    assert text == 'start: top\ntop: start_2\nstart_2: "a"\n'
    assert ByteMatcher(text).accepts("a")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (r'start: "a\ud800"', r"`\ud800` is a surrogate"),
        (r'start: "\U00110000"', r"`\U00110000` is beyond Unicode"),
        (r'start: "\U0000d800".."\U0000dfff"', r"`\U0000d800` is a surrogate"),
    ],
)
def test_escape_that_is_no_character_is_an_error(text: str, message: str) -> None:
    # Found by fuzzing: chr() raised past 0x10FFFF, and a surrogate reached the gbnf
    # printer, which cannot encode it.
    _, diags = run(text, "lark")
    ((severity, code, got, start, end),) = describe(diags)
    assert (severity, code) == ("error", "grammar-syntax-error")
    assert got == message + ", not a character: no UTF-8 text contains it"
    assert (start, end) == (7, len(text))


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    # Found by fuzzing: 1000 nested `[...]` overflowed the recursive conversion.
    _, diags = run("start: " + "[" * 1000 + '"a"' + "]" * 1000, "lark")
    ((severity, code, message, _, _),) = describe(diags)
    assert (severity, code, message) == (
        "error",
        "grammar-syntax-error",
        "expression nested too deeply (more than 200 levels)",
    )
    grammar, diags = run("start: " + "[" * 60 + '"a"' + "]" * 60, "lark")
    assert not diags and grammar is not None
