"""parse_regex: every accepted construct, every refusal, and agreement with llguidance."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from ananke.engines.acceptance import ByteMatcher
from ananke.ir.automata import DFA
from ananke.ir.grammar import Alt, CharClass, Empty, Lit, Regex, Repeat, Seq, walk
from ananke.ir.ranges import ANY_SCALAR
from ananke.ir.regex import RegexError, parse_regex

ROOT = Path(__file__).resolve().parents[2]
NOT_NL = CharClass(ranges=((10, 10),), negated=True)


def cc(*ranges: tuple[int, int] | str, negated: bool = False) -> CharClass:
    out = [(ord(r), ord(r)) if isinstance(r, str) else r for r in ranges]
    return CharClass(ranges=tuple(out), negated=negated)


def rep(item: Lit | CharClass | Seq | Alt, lo: int, hi: int | None) -> Repeat:
    return Repeat(item=item, min=lo, max=hi)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("abc", Lit(text="abc")),
        ("", Empty()),
        ("()", Empty()),
        ("é𝔘", Lit(text="é𝔘")),
        (r"\n\t\r\f\v\a", Lit(text="\n\t\r\f\v\x07")),
        (r"\\\/\.\-\[\]\{\}\(\)\|\?\*\+\^\$\#\&\~\ \'\"", Lit(text="\\/.-[]{}()|?*+^$#&~ '\"")),
        (
            r"\x41\x{1F600}\u00e9\u{10FFFF}\U0001F600\U{41}",
            Lit(text="A\U0001f600é\U0010ffff\U0001f600A"),
        ),
        (".", NOT_NL),
        ("(?s:.)", CharClass(ranges=ANY_SCALAR)),
        ("(?s).", CharClass(ranges=ANY_SCALAR)),
        ("(?s)(?-s).", NOT_NL),
        ("(?s:(?-s:.))", NOT_NL),
        ("(?s:a)(.)", Seq(items=(Lit(text="a"), NOT_NL))),
        # (?s) lasts to the end of its group, across later alternatives.
        (
            "((?s)a|.).",
            Seq(items=(Alt(items=(Lit(text="a"), CharClass(ranges=ANY_SCALAR))), NOT_NL)),
        ),
        ("a|b|", Alt(items=(Lit(text="a"), Lit(text="b"), Empty()))),
        ("a|a", Lit(text="a")),
        ("(?:ab)(cd)(?P<x>e)(?<y>f)", Lit(text="abcdef")),
        ("ab*", Seq(items=(Lit(text="a"), rep(Lit(text="b"), 0, None)))),
        ("a+b?", Seq(items=(rep(Lit(text="a"), 1, None), rep(Lit(text="b"), 0, 1)))),
        ("a{3}", rep(Lit(text="a"), 3, 3)),
        ("a{3,}", rep(Lit(text="a"), 3, None)),
        ("a{2,5}", rep(Lit(text="a"), 2, 5)),
        ("xa{0}y", Lit(text="xy")),
        ("(ab)*", rep(Lit(text="ab"), 0, None)),
        ("[a-c]", cc((0x61, 0x63))),
        ("[^a-c\\n]", cc("\n", (0x61, 0x63), negated=True)),
        ("[]a]", cc("]", "a")),
        ("[^]a]", cc("]", "a", negated=True)),
        ("[a-]", cc("-", "a")),
        ("[-a]", cc("-", "a")),
        ("[c-ea-d]", cc((0x61, 0x65))),
        (r"[\]\[\\\-\^]", cc("-", (0x5B, 0x5E))),
        (r"[\x00-\x{10FFFF}]", cc((0, 0x10FFFF))),
        ("[.*+?(){}|$]", cc("$", (0x28, 0x2B), ".", "?", (0x7B, 0x7D))),
        ("[[:digit:]x]", cc((0x30, 0x39), "x")),
        ("[[:^digit:]]", cc((0, 0x2F), (0x3A, 0xD7FF), (0xE000, 0x10FFFF))),
        ("[a[x-z]]", cc("a", (0x78, 0x7A))),
        ("[a[^\\x00-`b-\\x{10FFFF}]]", cc("a")),
        ("&&|--", Alt(items=(Lit(text="&&"), Lit(text="--")))),
        ("#", Lit(text="#")),
    ],
)
def test_constructs(pattern: str, expected: object) -> None:
    assert parse_regex(pattern) == expected
    _llg(pattern)  # llguidance reads every accepted construct too


@pytest.mark.parametrize(
    ("pattern", "pos", "message"),
    [
        ("^abc", 0, "anchors are implicit"),
        ("abc$", 3, "anchors are implicit"),
        ("a^b", 1, "`^` anchors are not supported"),
        ("a$b", 1, "`$` anchors are not supported"),
        (r"a\d", 1, r"\d is Unicode-aware"),
        (r"\w", 0, r"write an explicit class such as [0-9A-Za-z_]"),
        (r"\S", 0, r"\S is Unicode-aware"),
        (r"[\s]", 1, r"\s is Unicode-aware"),
        (r"\p{L}", 0, "Unicode classes"),
        (r"[\P{L}]", 1, "Unicode classes"),
        (r"\bx", 0, r"assertion \b"),
        (r"\A", 0, r"assertion \A"),
        (r"x\z", 1, r"assertion \z"),
        (r"\<", 0, r"assertion \<"),
        (r"[\b]", 1, r"unknown escape \b"),
        (r"(a)\1", 3, "backreferences"),
        (r"\0", 0, "backreferences and octal"),
        (r"\q", 0, r"unknown escape \q"),
        ("\\", 0, "trailing backslash"),
        ("(?=a)", 0, "lookaround"),
        ("(?!a)", 0, "lookaround"),
        ("(?<=a)", 0, "lookaround"),
        ("(?<!a)", 0, "lookaround"),
        ("(?i)a", 2, "flag `i` is not supported"),
        ("(?x:a)", 2, "flag `x` is not supported"),
        ("(?s-i:a)", 4, "flag `i`"),
        ("(?--s)", 3, "repeated `-`"),
        ("(?)", 0, "empty flag group"),
        ("(?s", 0, "unclosed flag group"),
        ("(?P<>a)", 0, "bad capture group name"),
        ("a*?", 2, "lazy quantifiers"),
        ("a??", 2, "lazy quantifiers"),
        ("a{2}?", 4, "lazy quantifiers"),
        ("a**", 2, "cannot follow a quantifier"),
        ("a*+", 2, "possessive"),
        ("*a", 0, "`*` has nothing to repeat"),
        ("a|?", 2, "`?` has nothing to repeat"),
        ("{2}", 0, "`{` has nothing to repeat"),
        ("a{", 2, "needs a number"),
        ("a{x}", 2, "needs a number"),
        ("a{,}", 2, "needs a number"),
        ("a{,5}", 2, "needs a number"),
        ("a{2", 3, "unclosed counted repetition"),
        ("a{3,2}", 1, "minimum above maximum"),
        ("a{100001}", 1, "repetition count above 100000"),
        ("(a", 0, "unclosed group"),
        ("(?:a", 0, "unclosed group"),
        ("(?s:a", 0, "unclosed group"),
        ("a)", 1, "unopened group"),
        ("[a", 0, "unclosed character class"),
        ("[]", 0, "unclosed character class"),
        ("[z-a]", 2, "end before start"),
        ("[a-[b]]", 2, "`-` before a nested class"),
        ("[a&&b]", 2, "set operations"),
        ("[a--b]", 2, "set operations"),
        ("[a~~b]", 2, "set operations"),
        ("[[:alfa:]]", 1, "unknown ASCII class"),
        (r"\x4", 0, "expected 2 hex digits"),
        (r"\xZZ", 0, "not a hex digit"),
        (r"\x{}", 0, "bad hexadecimal escape"),
        (r"\x{110000}", 0, "not a Unicode scalar value"),
        (r"\u{D800}", 0, "not a Unicode scalar value"),
        (r"\uD83D", 0, "not a Unicode scalar value"),
        ("(" * 101 + ")" * 101, 100, "nested more than 100 deep"),
        ("[" * 101 + "a" + "]" * 101, 100, "nested more than 100 deep"),
        ("(?:" * 5000, 300, "nested more than 100 deep"),
    ],
)
def test_errors(pattern: str, pos: int, message: str) -> None:
    with pytest.raises(RegexError) as info:
        parse_regex(pattern)
    assert info.value.pos == pos
    assert message in info.value.message
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def _emitted_patterns() -> list[str]:
    """Every regex in the grammars the example files lower to (llguidance target)."""
    from ananke.ariadne import compile_source, read_source
    from ananke.ir.diagnostics import Diagnostics
    from ananke.ir.lower import lower

    patterns: set[str] = set()
    for name in ("api_handler", "multi", "safe_parser"):
        diags = Diagnostics()
        source = read_source(ROOT / "examples" / f"{name}.ariadne", diags)
        assert source is not None
        module = compile_source(source, diags)
        for lowered in lower(module, target="llguidance", diags=diags):
            for rule in lowered.grammar.rules:
                patterns.update(n.pattern for n in walk(rule.body) if isinstance(n, Regex))
    return sorted(patterns)


def test_every_pattern_our_grammars_emit_parses() -> None:
    patterns = _emitted_patterns()
    assert len(patterns) > 20
    for pattern in patterns:
        expr = parse_regex(pattern)
        allowed = Lit | CharClass | Seq | Alt | Repeat | Empty
        assert all(isinstance(node, allowed) for node in walk(expr)), pattern


def _slashes_escaped(pattern: str) -> str:
    """``pattern`` inside ``/.../``: an unescaped ``/`` gets a backslash."""
    out: list[str] = []
    escaped = False
    for ch in pattern:
        out.append("\\/" if ch == "/" and not escaped else ch)
        escaped = ch == "\\" and not escaped
    return "".join(out)


@functools.cache
def _llg(pattern: str) -> ByteMatcher:
    return ByteMatcher(f"start: X\nX: /{_slashes_escaped(pattern)}/\n")


# Patterns whose meaning differs between engines if read carelessly; the strings probe it.
AGREEMENT = [
    (".", ["a", "\n", "é", "\U0001f600", "", "ab", "\r"]),
    ("(?s:.)", ["a", "\n", "\U0001f600", ""]),
    ("((?s)a|.).", ["a\n", "\n\n", "bb", "b\n", "\nb"]),
    ("[]a]+", ["]", "a]a", "[", ""]),
    ("[^]a]", ["]", "b", "\n", "\U0010ffff"]),
    ("[a-]x", ["-x", "ax", "bx"]),
    ("a{0,2}", ["", "a", "aa", "aaa"]),
    ("x{2,3}|y{2}", ["xx", "xxx", "xxxx", "yy", "y"]),
    (r"[\x80-\x{10FFFF}]", ["é", "\U0010ffff", "\x7f", "\ud7ff", "\ue000"]),
    ("[[:punct:]]", ["!", "~", "a", "\u00a1"]),
    ("[a[^\\x00-`b-\\x{10FFFF}]]z", ["az", "bz"]),
    (r"\#\&\~\ x", ["#&~ x"]),
    ("a|", ["", "a", "aa"]),
    (r"(?:[ \t\f]*(?:#[^\r\n]*)?\r?\n)+", ["\n", " # x\r\n\n", "#\r", "\t\n"]),
]


@pytest.mark.parametrize(("pattern", "samples"), AGREEMENT)
def test_reading_agrees_with_llguidance(pattern: str, samples: list[str]) -> None:
    dfa = DFA.from_expr(parse_regex(pattern))
    matcher = _llg(pattern)
    for s in samples:
        assert dfa.accepts(s) == matcher.accepts(s), (pattern, s)


def test_emitted_patterns_agree_with_llguidance_on_samples() -> None:
    samples = ["x", "é", "'a'", '"\\n"', "0x1F", "1_000.5e-3j", "# c\n", " \t\n", "eval", "ev"]
    for pattern in _emitted_patterns()[:40]:
        dfa = DFA.from_expr(Regex(pattern=pattern))
        matcher = _llg(pattern)
        for s in samples:
            assert dfa.accepts(s) == matcher.accepts(s), (pattern, s)
