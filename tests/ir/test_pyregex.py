"""Python ``re`` patterns read as Python reads them: checked against ``re`` itself.

Single-character patterns (classes, ``\\d \\w \\s`` and their negations, ``.``, case
folding) are compared with ``re`` on every Unicode scalar value; whole patterns on
generated strings, both as read (an automaton of the expression) and as printed
(:func:`portable_pattern`, read back by Python's ``re``, by :func:`parse_regex` and by
llguidance).
"""

from __future__ import annotations

import functools
import re

import pytest
from ananke.ir.automata import DFA
from ananke.ir.grammar import CharClass, Lit
from ananke.ir.pyregex import PythonRegexError, parse_python_regex, portable_pattern
from ananke.ir.regex import parse_regex
from ananke.runtime.acceptance import ByteMatcher
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import examples


@functools.cache
def _all_scalars() -> str:
    return "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)


def _python_set(pattern: str, flags: int) -> str:
    """The scalar values ``re`` matches with a one-character pattern, in order, by one
    scan of them all."""
    return "".join(re.compile(pattern, flags).findall(_all_scalars()))


def _index(cp: int) -> int:
    return cp - 0x800 if cp > 0xDFFF else cp


def _our_set(pattern: str, flags: str) -> str:
    """The scalar values our expression of ``pattern`` matches, in order."""
    expr, problems = parse_python_regex(pattern, flags)
    assert not problems
    if isinstance(expr, Lit):
        assert len(expr.text) == 1
        return expr.text
    assert isinstance(expr, CharClass) and not expr.negated, expr
    scalars = _all_scalars()
    assert not any(lo <= 0xDFFF and hi >= 0xD800 for lo, hi in expr.ranges)
    return "".join(scalars[_index(lo) : _index(hi) + 1] for lo, hi in expr.ranges)


ONE_CHAR = [
    r"\d",
    r"\D",
    r"\w",
    r"\W",
    r"\s",
    r"\S",
    r"[\d]",
    r"[^\d]",
    r"[^\W\d]",  # lark's python.lark NAME, first character
    r"[\w\-]",
    r"[\s\S]",
    r"[^\s\S]",
    r"[\D_]",
    r"[^\S\n]",
    r".",
    r"(?s).",
    r"[^\n]",
    r"(?a)\w",
    r"(?a)[\W\d]",
    r"(?a:\s)",
    r"[\x00-\x1f\U0001F600-\U0001F64F]",
    r"[[]",
    r"[]a]",
    r"[a\]]",
    r"[\b]",
    r"\N{EM DASH}",
    r"\101",
    r"[\0-\7]",
    # the `i` flag
    r"(?i)k",
    r"(?i)s",
    r"(?i)i",
    r"(?i)I",
    r"(?i)\u0130",
    r"(?i)ß",
    r"(?i)µ",
    r"(?i)\u0345",
    r"(?i)[a-z]",
    r"(?i)[^a-z]",
    r"(?i)[\dA-F]",
    r"(?i)[^\W\d_a-f]",
    r"(?i)\w",
    r"(?i)[\w\s]",
    r"(?i)[\u0100-\u024f]",
    r"(?i)[\u1f80-\u1fff]",
    r"(?i)[\u0370-\u03ff]",
    r"(?i)[\U00010400-\U0001044f]",
    r"(?i)[\U00016E40-\U00016E9F\d]",
    r"(?i)\U0001E900",
    r"(?i)[^k]",
    r"(?i).",
    r"(?i)[\x00-\U0010ffff]",
    r"(?i)[\u2160-\u2188]",
    r"(?i)[\u24b6-\u24e9]",
    r"(?ia)[a-z\u0130]",
    r"(?ia)k",
    r"(?i:(?a:[^a-z]))",
]


@pytest.mark.parametrize("pattern", ONE_CHAR)
def test_one_character_on_every_scalar_value(pattern: str) -> None:
    assert _our_set(pattern, "") == _python_set(pattern, 0)


@pytest.mark.parametrize("pattern", ["[a-z\u0130]", "[\\w.]", "[Kk]", "\\d", "[^\\W\\d]"])
def test_lark_flag_i_on_every_scalar_value(pattern: str) -> None:
    assert _our_set(pattern, "i") == _python_set(pattern, re.I)


# --- whole patterns ------------------------------------------------------------------------

_ATOMS = [
    "a",
    "B",
    "k",
    "s",
    "é",
    "\u0130",
    "\U0001f600",
    "\x00",
    '"',
    "'",
    "/",
    "\\\\",
    "\\.",
    "\\d",
    "\\D",
    "\\w",
    "\\W",
    "\\s",
    "\\S",
    ".",
    "[a-f]",
    "[^x-zA]",
    "[]q]",
    "[q-]",
    "[\\d_]",
    "[^\\W\\d]",
    "[\\s\\S]",
    "[[]",
    "[&&]",
    "\\x41",
    "\\u00e9",
    "\\U0001F600",
    "\\n",
    "\\t",
    "\\0",
    "{",
    "}",
    "(?:a{,2})",
    "(?:x{2})",
    " ",
    "#",
]
_QUANT = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "{,2}", "{2,}"]


@st.composite
def _patterns(draw: st.DrawFn) -> str:
    def piece(depth: int) -> str:
        kind = draw(st.integers(0, 9 if depth < 2 else 6))
        if kind <= 6:
            return draw(st.sampled_from(_ATOMS)) + draw(st.sampled_from(_QUANT))
        inner = "".join(piece(depth + 1) for _ in range(draw(st.integers(1, 3))))
        if kind == 7:
            other = "".join(piece(depth + 1) for _ in range(draw(st.integers(0, 2))))
            return f"(?:{inner}|{other})"
        flags = draw(st.sampled_from(["", "?i:", "?-i:", "?s:", "?a:", "?x:", "?P<g>"]))
        return f"({flags}{inner})" + draw(st.sampled_from(_QUANT))

    body = "".join(piece(0) for _ in range(draw(st.integers(1, 4))))
    prefix = draw(st.sampled_from(["", "", "(?i)", "(?s)", "(?x)", "(?a)", "(?ix)"]))
    return prefix + body


_SAMPLE_CHARS = "aABbkKsSſ\u212aéÉ\u0130\u0131\U0001f600\x00\"'/\\.x_ 9٣\n\t\u3000{}q-&[]#"


@pytest.mark.filterwarnings("ignore::FutureWarning")  # `re` on `[[`: a literal, as read here
@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pattern=_patterns(),
    flags=st.sampled_from(["", "i", "s", "x", "is"]),
    samples=st.lists(st.text(alphabet=_SAMPLE_CHARS, max_size=6), max_size=25),
)
def test_pattern_means_what_re_says(pattern: str, flags: str, samples: list[str]) -> None:
    py = sum({"i": re.I, "s": re.S, "x": re.X}[f] for f in flags)
    try:
        compiled = re.compile(pattern, py)
    except re.error:
        with pytest.raises(PythonRegexError) as info:
            parse_python_regex(pattern, flags)
        assert info.value.invalid
        return
    expr, problems = parse_python_regex(pattern, flags)
    assert not problems, [p.message for p in problems]
    printed = portable_pattern(expr)
    ours = DFA.from_expr(expr)
    again = DFA.from_expr(parse_regex(printed))
    as_printed = re.compile(printed)
    for s in samples:
        want = compiled.fullmatch(s) is not None
        assert ours.accepts(s) == want, (s, printed)
        assert again.accepts(s) == want, (s, printed)
        assert (as_printed.fullmatch(s) is not None) == want, (s, printed)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@settings(max_examples=examples(60), deadline=None)
@given(pattern=_patterns(), samples=st.lists(st.text(alphabet=_SAMPLE_CHARS, max_size=5)))
def test_llguidance_reads_the_printed_pattern_as_re_reads_the_original(
    pattern: str, samples: list[str]
) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error:
        return
    expr, problems = parse_python_regex(pattern)
    assume(not problems)
    printed = portable_pattern(expr)
    assume(printed)  # llguidance refuses an empty lexeme
    matcher = ByteMatcher("start: /" + printed.replace("/", "\\/") + "/")
    for s in samples:
        assert matcher.accepts(s) == (compiled.fullmatch(s) is not None), (s, printed)


REPORTED = [
    ("a(?=b)", "regex lookaround assertions have no equivalent in grammar engines", 1, 4),
    ("a(?<!b)", "regex lookaround assertions have no equivalent in grammar engines", 1, 5),
    ("a+?", "regex lazy quantifiers have no equivalent in grammar engines", 1, 3),
    ("a*+", "regex possessive quantifiers have no equivalent in grammar engines", 1, 3),
    ("(a)\\1", "regex backreferences have no equivalent in grammar engines", 3, 5),
    ("(?P<n>a)(?P=n)", "regex named backreferences have no equivalent in grammar engines", 8, 14),
    ("\\bx", "regex word-boundary assertions have no equivalent in grammar engines", 0, 2),
    ("x\\Z", "regex anchors have no equivalent in grammar engines", 1, 3),
    ("(?>a)", "regex atomic groups have no equivalent in grammar engines", 0, 3),
    ("(a)?(?(1)b|c)", "regex conditional groups have no equivalent in grammar engines", 4, 7),
    ("a{200000}", "regex repeat counts above 100,000 have no equivalent in grammar engines", 1, 9),
]


@pytest.mark.parametrize(("pattern", "message", "start", "end"), REPORTED)
def test_constructs_no_engine_expresses(pattern: str, message: str, start: int, end: int) -> None:
    _, problems = parse_python_regex(pattern)
    assert [(p.message, p.pos, p.end) for p in problems] == [(message, start, end)]
    assert not problems[0].invalid


@pytest.mark.parametrize(
    ("pattern", "message", "pos"),
    [("[a-", "unterminated character set", 0), ("a{2,1}", "min repeat greater than max repeat", 2)],
)
def test_what_re_refuses_is_reported_with_its_message(pattern: str, message: str, pos: int) -> None:
    with pytest.raises(PythonRegexError) as info:
        parse_python_regex(pattern)
    assert info.value.invalid
    assert (info.value.message, info.value.pos) == (message, pos)
