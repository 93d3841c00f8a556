"""The Python function grammar: what it accepts and rejects, checked with llguidance.

Every grammar here is emitted by the llguidance backend and loaded into llguidance with a
byte-level tokenizer, so acceptance is exact string membership.
"""

from __future__ import annotations

import ast
import functools
import io
import itertools
import sys
import tokenize
import warnings

import llguidance
import pytest
from ananke.backends import get_backend
from ananke.engines.acceptance import ByteMatcher, byte_tokenizer
from ananke.ir.constraint import Param, TypeExpr
from ananke.languages.python.grammar import (
    FunctionShape,
    PythonGrammarOptions,
    build_grammar,
    identifier_except,
)
from ananke.languages.python.keywords import (
    BLOCK_KEYWORDS,
    KEYWORDS,
    KEYWORDS_BEFORE_STRINGS,
    SOFT_KEYWORDS,
)
from ananke.languages.python.signature import params_regex, returns_regex

PLAIN = PythonGrammarOptions()


@functools.cache
def matcher(opts: PythonGrammarOptions = PLAIN) -> ByteMatcher:
    grammar = build_grammar(opts)
    grammar.verify()
    text = get_backend("llguidance").emit(grammar)
    assert llguidance.LLMatcher.validate_grammar(text, byte_tokenizer()) == ""
    return ByteMatcher(text)


FORBID = PythonGrammarOptions(forbid=("eval", "exec", "open", "print"))


def accepts(code: str, opts: PythonGrammarOptions = PLAIN) -> bool:
    return matcher(opts).accepts(code)


VALID = {
    "simple": "def f(x):\n    return x + 1\n",
    "docstring": 'def f():\n    """Doc.\n\n    More.\n    """\n    return None\n',
    "decorators": "@functools.cache\n@register('x', y=1)\ndef f():\n    pass\n",
    "async": "async def f(x):\n    async with x as y:\n        await y\n",
    "nested": (
        "def f():\n    class C:\n        def m(self):\n            return 1\n"
        "    def g():\n        return C()\n    return g\n"
    ),
    "comments and blanks": (
        "def f():\n    # leading comment\n\n    x = 1  # trailing\n        # odd indent\n"
        "\n    return x\n"
    ),
    "brackets across lines": (
        "def f():\n    x = call(a,\n        b,  # comment inside\n  c)\n    return [\n1,\n]\n"
    ),
    "brackets in comments inside brackets": (
        "def f(x):\n    if (  # (see below\n        x  # ) [\n    ):\n"
        "        return (1,  # {\n 2)\n"
    ),
    "backslash": "def f():\n    x = 1 + \\\n        2\n    return x\n",
    "strings": (
        "def f():\n    a = 'it''s'\n    b = r\"\\d+\"\n    c = b'\\x00'\n"
        "    d = '''multi\nline'''\n    return f\"{a!r:>{b}}\"\n"
    ),
    "match": (
        "def f(p):\n    match p:\n        case [x, y]:\n            return x\n"
        "        case _:\n            return None\n"
    ),
    "walrus": "def f(xs):\n    if (n := len(xs)) > 3:\n        return n\n",
    "one line body": "def f(): return 1\n",
    "one-line compound statements": (
        "def f(x):\n    if x: return 1\n    while x: x -= 1\n    try: pass\n"
        "    finally: pass\n    for y in x: print(y)\n"
    ),
    "if else chains": (
        "def f(x):\n    if x:\n        pass\n    elif x > 1:\n        pass\n    else:\n"
        "        return 2\n    try:\n        pass\n    except (A, B) as e:\n        raise\n"
        "    finally:\n        pass\n"
    ),
    "tabs": "def f(x):\n\tif x:\n\t\treturn 1\n\treturn 2\n",
    "two spaces": "def f(x):\n  if x:\n    return 1\n  return 2\n",
    "body at two units": "def f(x):\n        if x:\n            return 1\n        return 2\n",
    "eight spaces": "def f(x):\n        if x:\n                return 1\n        return 2\n",
    "blank lines with odd indentation": "def f(x):\n\n  \n    if x:\n\n\n        pass\n\n",
    "lambda and dict": "def f():\n    g = lambda a, b=2: {a: b, **x}\n    return g\n",
    "unicode": "def f():\n    naïve = 'é'\n    return naïve\n",
    "semicolons": "def f():\n    a = 1; b = 2\n    return a; \n",
    "numbers": "def f():\n    return 0x1F + 1_000 + 1.5e-3 + .5 + 1j + 0o7 + 0b1\n",
    "soft keywords as names": "def f():\n    match = 1\n    case = match\n    return case\n",
    "names that start like keywords": "def f():\n    iffy = format = tryst = 1\n    return iffy\n",
}

INVALID = {
    "missing indent": "def f():\nreturn 1\n",
    "over indent": "def f():\n    x = 1\n        y = 2\n",
    "dedent to unknown column": "def f():\n    if x:\n        y = 1\n  z = 2\n",
    "mixed block widths": "def f():\n    x = 1\n   y = 2\n",
    "empty body": "def f():\n",
    "unclosed bracket": "def f():\n    return (1\n",
    "unterminated string": "def f():\n    return 'abc\n",
    "not a def": "x = 1\n",
    "block opener without block": "def f():\n    if x:\n    return 1\n",
    "nested block with another unit": "def f():\n    if x:\n       return 1\n",
    "block without a keyword": "def f():\n    x = 1:\n        y = 2\n",
}


@pytest.mark.parametrize("name", VALID)
def test_accepts_valid_python(name: str) -> None:
    compile(VALID[name], name, "exec")  # the sample itself is valid Python
    assert accepts(VALID[name])


@pytest.mark.parametrize("name", INVALID)
def test_rejects_broken_structure(name: str) -> None:
    assert not accepts(INVALID[name])


BARE_USES = {
    "call": "def f(s):\n    return eval(s)\n",
    "reference": "def f():\n    g = exec\n    return g\n",
    "assignment target": "def f():\n    print = 1\n    return print\n",
    "parameter": "def f(open):\n    return 1\n",
    "keyword argument": "def f():\n    return g(print=1)\n",
    "import": "def f():\n    from builtins import eval\n    return 1\n",
    "after string": "def f():\n    return [''eval]\n",
    "decorator": "@print\ndef f():\n    pass\n",
    "in f-string field": "def f(x):\n    return f'{eval(x)}'\n",
    "in nested block": "def f(x):\n    if x:\n        for y in x:\n            open(y)\n",
    "inside brackets on a new line": "def f():\n    return g(\n        print)\n",
    "in the signature": "def f(x=eval):\n    return x\n",
    "as the function's name": "def open(path):\n    return path\n",
}

ALLOWED_USES = {
    "attribute": "def f(m):\n    return m.eval()\n",
    "attribute with spaces": "def f(m):\n    return m . exec\n",
    "attribute on next line": "def f(m):\n    return (m.\n        print)\n",
    "in a string": "def f():\n    return 'eval(x)'\n",
    "in a comment": "def f():\n    # print(x)\n    return 1\n",
    "longer names": "def f():\n    evaluate = printer = opened = 1\n    return evaluate\n",
    "prefix of name": "def f():\n    ev = 1\n    return ev\n",
    "escaped f-string braces": "def f():\n    return f'{{eval}}'\n",
}


@pytest.mark.parametrize("name", BARE_USES)
def test_forbid_rejects_bare_uses(name: str) -> None:
    code = BARE_USES[name]
    assert accepts(code), "the unconstrained grammar accepts it"
    assert not accepts(code, FORBID)


@pytest.mark.parametrize("name", ALLOWED_USES)
def test_forbid_allows_attributes_strings_comments(name: str) -> None:
    assert accepts(ALLOWED_USES[name], FORBID)


def test_identifier_except_is_exact() -> None:
    from ananke.ir.automata import DFA
    from ananke.ir.grammar import Regex

    dfa = DFA.from_expr(Regex(pattern=identifier_except(["eval", "e", "exec"])))
    for word, ok in [
        ("eval", False),
        ("e", False),
        ("exec", False),
        ("ev", True),
        ("evalx", True),
        ("execs", True),
        ("x", True),
        ("_e", True),
        ("é", True),
        ("ｅval", False),  # NFKC: Python reads these as the forbidden names
        ("ℯ", False),
        ("𝐞xec", False),
        ("ｅvalｘ", True),
    ]:
        assert dfa.accepts(word) is ok, word


def test_the_keyword_lists_are_pythons() -> None:
    import keyword

    assert set(keyword.kwlist) == KEYWORDS
    assert set(keyword.softkwlist) <= SOFT_KEYWORDS <= set(keyword.softkwlist) | {"type"}
    assert all(keyword.iskeyword(k) or keyword.issoftkeyword(k) for k in BLOCK_KEYWORDS)
    assert set(KEYWORDS_BEFORE_STRINGS) <= KEYWORDS


OPENERS = {
    "if": "def f(x):\n    if x:\n        pass\n",
    "elif": "def f(x):\n    if x:\n        pass\n    elif x:\n        pass\n",
    "else": "def f(x):\n    for y in x:\n        pass\n    else:\n        pass\n",
    "for": "def f(x):\n    for y in x:\n        pass\n",
    "while": "def f(x):\n    while x:\n        pass\n",
    "with": "def f(x):\n    with x:\n        pass\n",
    "class": "def f(x):\n    class C:\n        pass\n",
    "try": "def f(x):\n    try:\n        pass\n    finally:\n        pass\n",
    "except": "def f(x):\n    try:\n        pass\n    except E:\n        pass\n",
    "finally": "def f(x):\n    try:\n        pass\n    finally:\n        pass\n",
    "match": "def f(x):\n    match x:\n        case 1:\n            pass\n",
    "case": "def f(x):\n    match x:\n        case 1:\n            pass\n",
    "async": "async def f(x):\n    async for y in x:\n        pass\n",
}


@pytest.mark.parametrize("word", [k for k in BLOCK_KEYWORDS if k != "def"] + ["async"])
def test_a_forbidden_block_keyword_opens_no_block(word: str) -> None:
    """The line that opens a block starts with its keyword spelled out in the grammar, not
    with an identifier: forbidding the keyword must remove it there too."""
    text = OPENERS[word]
    compile(text, "t.py", "exec", dont_inherit=True)
    assert accepts(text) and accepts(text, FORBID)
    assert not accepts(text, PythonGrammarOptions(forbid=(word,)))


def test_an_attribute_may_not_be_spelled_as_a_forbidden_keyword() -> None:
    opts = PythonGrammarOptions(forbid=("import", "match"))
    assert not accepts("def f():\n    from . import x\n", opts)
    assert not accepts("def f():\n    from .. import x\n", opts)
    assert accepts("def f(x):\n    return x.match(1) or x.imports or x.ｉmport\n", opts)


def test_pinned_signature() -> None:
    opts = PythonGrammarOptions(
        shape=FunctionShape(
            name="handle",
            params=params_regex(
                (
                    Param(name="request", type=TypeExpr(name="Request")),
                    Param(name="timeout", type=TypeExpr(name="float"), default="1.0"),
                )
            ),
            returns=(returns_regex(TypeExpr(name="Result", args=(TypeExpr(name="Response"),))),),
        )
    )
    body = "    return ok\n"
    assert accepts(
        "def handle(request: Request, timeout: float = 1.0) -> Result[Response]:\n" + body, opts
    )
    assert accepts(
        "def handle(\n    request: Request,\n    timeout: float=1.0,\n) -> Result[ Response ]:\n"
        + body,
        opts,
    )
    assert not accepts("def handle(request: Request) -> Result[Response]:\n" + body, opts)
    assert not accepts(
        "def handler(request: Request, timeout: float = 1.0) -> Result[Response]:\n" + body, opts
    )
    assert not accepts(
        "def handle(request: Request, timeout: float = 1.0) -> Response:\n" + body, opts
    )
    assert not accepts("def handle(request: Request, timeout: float = 1.0):\n" + body, opts)


def test_name_pattern() -> None:
    opts = PythonGrammarOptions(shape=FunctionShape(name_pattern=r"_*[a-z][a-z0-9_]*"))
    assert accepts("def parse_input(x):\n    return x\n", opts)
    assert not accepts("def parseInput(x):\n    return x\n", opts)


def test_block_line_bound() -> None:
    opts = PythonGrammarOptions(max_block_lines=3)
    three = "def f():\n    a = 1\n    b = 2\n    return a\n"
    four = "def f():\n    a = 1\n    b = 2\n    c = 3\n    return a\n"
    assert accepts(three, opts)
    assert not accepts(four, opts)
    # The bound is per block: nested blocks have their own.
    nested = "def f():\n    if x:\n        a = 1\n        b = 2\n        c = 3\n    return a\n"
    assert accepts(nested, opts)


def test_default_limits_with_long_function() -> None:
    """A long function stays within llguidance's default limits (rows stay flat)."""
    lines = "".join(f"    x{i} = call(x{i - 1}, [1, 2], {{'k': {i}}})\n" for i in range(1, 1500))
    code = "def f(x0):\n" + lines + "    if x0:\n        return x0\n" * 50
    assert accepts(code)


def test_signature_whitespace_bound_is_the_grammar_bound() -> None:
    from ananke.languages.python import signature
    from ananke.languages.python.grammar import MAX_WHITESPACE_RUN

    assert signature._WS.endswith(f"{{0,{MAX_WHITESPACE_RUN}}}")
    assert signature._HWS.endswith(f"{{0,{MAX_WHITESPACE_RUN}}}")


@pytest.mark.parametrize("opts", [PLAIN, FORBID], ids=["relaxed-runs", "word-runs"])
def test_whitespace_is_bounded(opts: PythonGrammarOptions) -> None:
    """No run of whitespace in code is unbounded: between two tokens at most
    MAX_WHITESPACE_RUN, inside brackets newlines included; blank lines in a row at most
    MAX_BLANK_LINES (comment lines do not count). Strings and comments are text."""
    from ananke.languages.python.grammar import MAX_BLANK_LINES, MAX_WHITESPACE_RUN

    w, b = MAX_WHITESPACE_RUN, MAX_BLANK_LINES
    for n, ok in ((w, True), (w + 1, False)):
        assert accepts(f"def f(x):\n    y = x +{' ' * n}1\n    return y\n", opts) is ok, n
        assert accepts(f"def f(x):\n    return g(x,{' ' * n}1)\n", opts) is ok, n
        assert accepts(f"def f(x):\n    return g(x,{chr(10) * n}1)\n", opts) is ok, n
        assert accepts(f"def f(x):\n    return x{' ' * n}\n", opts) is True  # two runs meet
    for n, ok in ((b, True), (b + 1, False)):
        body = f"def f(x):\n    y = x\n{chr(10) * n}    return y\n"
        assert accepts(body, opts) is ok, n
        assert accepts("\n" * n + "def f():\n    pass\n", opts) is ok, n
    # comment lines break a run of blank lines; text inside strings is not code
    gap = "\n" * b + "    # note\n" + "\n" * b
    assert accepts(f"def f(x):\n    y = x\n{gap}    return y\n", opts)
    assert accepts(f"def f(x):\n    return '{' ' * (2 * w)}'\n", opts)
    assert not accepts(f"def f(x):\n    return x{' ' * (2 * w + 1)}\n", opts)


# Strings written next to each other with nothing between: Python's tokenizer decides how
# they split (`''''x'''` is one triple-quoted string, never `''` then `''x'''`).
_ADJACENT = ('""', "''", '"a"', "'a'", '"""a"""', 'r""', 'f""', '"""')


def _tokenizes(code: str) -> bool:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    return all(t.type != tokenize.ERRORTOKEN for t in tokens)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


@pytest.mark.parametrize("opts", [PLAIN, FORBID], ids=["plain", "forbid"])
def test_adjacent_strings_split_as_python_tokenizes(opts: PythonGrammarOptions) -> None:
    """Runs of up to three adjacent string pieces, on a line followed by another line.

    Valid Python must be accepted, and text that Python cannot even tokenize rejected (the
    grammar leaves the rest of the syntax to the post-generation check). A wrong split let
    a line's lexeme run on as an unclosed triple-quoted string into the following lines.
    """
    wrong = []
    for n in (1, 2, 3):
        for parts in itertools.product(_ADJACENT, repeat=n):
            lines = [f"x = {''.join(parts)}"] + ([] if n == 3 else ["".join(parts)])
            for line in lines:
                code = f"def f():\n    {line}\n    return x\n"
                accepted = accepts(code, opts)
                if (_parses(code) and not accepted) or (accepted and not _tokenizes(code)):
                    wrong.append(code)
    assert wrong == []


NUL_PLACES = {
    "string": "def f():\n    return 'a\0b'\n",
    "docstring": 'def f():\n    """a\0b"""\n',
    "escape": "def f():\n    return 'a\\\0'\n",
    "f-string": "def f(x):\n    return f'{x}\0'\n",
    "comment": "def f():\n    # a\0b\n    return 1\n",
    "trailing comment": "def f():\n    return 1  # \0\n",
    "code": "def f():\n    return a\0b\n",
}


@pytest.mark.parametrize("opts", [PLAIN, FORBID], ids=["plain", "forbid"])
@pytest.mark.parametrize("name", NUL_PLACES)
def test_nul_is_rejected_wherever_python_rejects_it(name: str, opts: PythonGrammarOptions) -> None:
    """Python refuses source with a NUL character anywhere, strings and comments included."""
    code = NUL_PLACES[name]
    with pytest.raises((SyntaxError, ValueError)):
        compile(code, "f.py", "exec")
    assert accepts(code.replace("\0", "x"), opts)
    assert not accepts(code, opts)


# --- f-strings under forbid: Python 3.11's lexical rules ----------------------------------

FSTRING_SPEC = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11),
    reason="the grammar reads f-strings by Python 3.11's rules (before PEP 701)",
)


def _uses_forbidden(code: str) -> bool:
    """Whether ``code`` uses a name of FORBID bare, by ``ast``: names, parameters,
    keyword arguments (the replacement fields of f-strings are parsed by ``ast``)."""
    names = set(FORBID.forbid)
    for node in ast.walk(_parse(code)):
        if isinstance(node, ast.Name) and node.id in names:
            return True
        if isinstance(node, ast.arg | ast.keyword) and node.arg in names:
            return True
    return False


def _fstring_function(expr: str) -> str:
    return f"def f(p, x, y, d, w):\n    return {expr}\n"


def _parse(code: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(code)


def _compile(code: str) -> None:
    """``compile`` without its warnings (``\\{`` is an invalid escape, still valid code)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(code, "f.py", "exec", dont_inherit=True)


FSTRINGS_CLEAN = {
    "backslash before a field": r"f'\{p}'",
    "raw, backslash before a field": r'fr"a\{p}"',
    "raw, then doubled braces": r"rf'\{p}Zbs{{}}'",
    "escaped backslash, then a field": r"f'\\{p} \\\{x}'",
    "backslash before doubled braces": r"f'\{{p\}}'",
    "named escape": r'f"\N{BULLET} {x}"',
    "named escape, lower case": r"f'\N{bullet}{x}'",
    "named escape in a format spec": r"f'{x:\N{BULLET}>9}'",
    "raw: a field after backslash N": r'rf"\N{x}"',
    "quotes of the other kind in a field": r"""f"{d['k']}" f'{d["k"]}' """,
    "a forbidden word in a string in a field": r"""f"{d['eval']} {d["""
    + "'''"
    + r"""print"""
    + "'''"
    + r''']}"''',
    "an attribute in a field": r"f'{p.eval} {p . exec()}'",
    "an attribute across lines": "f'''{p.\n    print}'''",
    "conversion and nested fields in the spec": r"f'{x!r:>{w}} {x:{w}.{y}}'",
    "a forbidden word as format spec text": r"f'{x:eval} {x:>{w}print}'",
    "doubled braces": r"f'{{eval}} {x}}}{{'",
    "multi-line triple-quoted": "f'''a\n{x}\n{y!s:>{w}}\n'''",
    "quotes inside a triple-quoted f-string": '''f"""{'a' if x else "b"}""\"""''',
    "empty strings in a triple-quoted field": "f'''{x or ''}''' f\"\"\"{x or \"\"}\"\"\"",
    "self-documenting": r"f'{x=} {x = !r:^20} {x=:>{w}}'",
    "operators with =": r"f'{x!=y} {x<=y} {x>=y} {x==y} {x<y}'",
    "a colon inside brackets": r"f'{d[1:2]} {(lambda q: q)(x)} { {1: x}[1] }'",
    "a nested f-string": r'''f"{f'{x!r:>{w}}'}"''',
    "nested f-strings three deep": "f'''{f\"{f'{x}'}\"}'''",
    "braces and # in a string in a field": r'''f"{'{'}{'}'}{'#'}"''',
    "a set in a format spec": r"f'{x:{ {w} }}'",
    "implicit concatenation": r"f'{x}' 'eval' f'{y}' r'{eval}'",
    "byte strings are never f-strings": r"b'{eval}' rb'\{print}' Br'{exec}'",
    "prefixes in any case": r"F'{x}' fR'{x}' Rf'{x}'",
}

FSTRINGS_USING = {
    "backslash before a field": r"f'\{eval(x)}'",
    "raw: backslash N then a field": r'rf"\N{eval}"',
    "after an escaped backslash": r"f'\\\{print}'",
    "in a nested field of the spec": r"f'{x:{eval}}'",
    "after a conversion": r"f'{x!r:>{open}}'",
    "self-documenting": r"f'{exec=}'",
    "in brackets": r'''f"{(eval)} {d[open]}"''',
    "in a conditional": r'''f"{'a' if eval else 'b'}"''',
    "in a nested f-string": r'''f"{f'{eval(x)}'}"''',
    "on a later line of a triple-quoted field": "f'''{x +\n    print(x)}'''",
    "in the second of two f-strings": r"f'{x}' f'{eval}'",
    "upper-case prefix": r"F'{eval}'",
    "raw upper-case prefix": r"fR'{exec}'",
    "in a comprehension": r"f'{[eval for _ in x]}'",
    "as a keyword argument": r"f'{d(open=1)}'",
    "as a lambda parameter": r"f'{(lambda print: 1)}'",
}


@FSTRING_SPEC
@pytest.mark.parametrize("name", FSTRINGS_CLEAN)
def test_forbid_accepts_fstrings_without_a_forbidden_name(name: str) -> None:
    code = _fstring_function(FSTRINGS_CLEAN[name])
    _compile(code)
    assert not _uses_forbidden(code)
    assert accepts(code, FORBID)


@FSTRING_SPEC
@pytest.mark.parametrize("name", FSTRINGS_USING)
def test_forbid_rejects_a_forbidden_name_in_an_fstring(name: str) -> None:
    code = _fstring_function(FSTRINGS_USING[name])
    _compile(code)
    assert _uses_forbidden(code)
    assert accepts(code)
    assert not accepts(code, FORBID)


# Written the way Python 3.12 allows (PEP 701) and Python 3.11 does not.
FSTRINGS_312 = {
    "the same quote in a field": 'f"{d["k"]}"',
    "a backslash in a field": r'''f"{'\n'.join(x)}"''',
    "a comment in a field": "f'''{x # note\n}'''",
    "a nested f-string with the same quote": 'f"{f"{x}"}"',
}


@FSTRING_SPEC
@pytest.mark.parametrize("name", FSTRINGS_312)
def test_forbid_rejects_fstrings_python_3_11_rejects(name: str) -> None:
    code = _fstring_function(FSTRINGS_312[name])
    with pytest.raises(SyntaxError):
        _compile(code)
    assert not accepts(code, FORBID)


def test_forbid_bounds_whitespace_in_fields() -> None:
    from ananke.languages.python.grammar import MAX_WHITESPACE_RUN

    for n, ok in ((MAX_WHITESPACE_RUN, True), (MAX_WHITESPACE_RUN + 1, False)):
        assert accepts(_fstring_function(f"f'{{x +{' ' * n}y}}'"), FORBID) is ok
        assert accepts(_fstring_function(f"f'''{{x +{chr(10) * n}y}}'''"), FORBID) is ok


def test_forbid_bounds_brackets_in_fields() -> None:
    from ananke.languages.python.grammar import MAX_FIELD_BRACKET_DEPTH

    for n, ok in ((MAX_FIELD_BRACKET_DEPTH, True), (MAX_FIELD_BRACKET_DEPTH + 1, False)):
        assert accepts(_fstring_function(f"f'{{{'(' * n}x{')' * n}}}'"), FORBID) is ok


_FIELD_PIECES = (
    "{x}",
    "{eval}",
    "{x!r}",
    "{x:>{w}}",
    "{x:eval}",
    "{p.eval}",
    "{{",
    "}}",
    "{",
    "}",
    "\\{",
    "\\\\",
    "\\",
    "\\N{BULLET}",
    "N{eval}",
    "{d['eval']}",
    '{d["k"]}',
    "{f'{x}'}",
    '{f"{eval}"}',
    "{x=}",
    "'",
    '"',
    "''",
    "a",
    "\n",
    " ",
    "{x!r:{eval}}",
    "{(x:=1)}",
    "{x:\\{y}}",
    "{''}",
    '{""}',
    "{x #}",
    "{'''a'''}",
    '{"""a"""}',
)


@FSTRING_SPEC
def test_forbid_fstrings_against_python() -> None:
    """Random f-strings from pieces that matter to the lexical rules, in every quote and
    prefix: every one Python 3.11 compiles is accepted exactly when it uses no forbidden
    name; none it reads as using one is accepted."""
    import random

    rng = random.Random(20261126)
    wrong = []
    valid = using = 0
    for _ in range(3000):
        prefix = rng.choice(["f", "rf", "F", "fR"])
        quote = rng.choice(["'", '"', "'''", '"""'])
        body = "".join(rng.choice(_FIELD_PIECES) for _ in range(rng.randint(1, 4)))
        literal = f"{prefix}{quote}{body}{quote}"
        code = _fstring_function(literal)
        try:
            _compile(code)
        except (SyntaxError, ValueError):
            continue  # the grammar may accept what Python rejects: the post check says so
        tree = _parse(code)
        if len(tree.body) != 1 or len(getattr(tree.body[0], "body", ())) != 1:
            continue  # not one expression: a string ended early and other code follows
        valid += 1
        using += _uses_forbidden(code)
        if accepts(code, FORBID) is _uses_forbidden(code):
            wrong.append(code)
    assert valid > 1000 and using > 200  # both sides are exercised
    assert wrong == []


def _brute_spellings() -> dict[str, list[str]]:
    """ASCII text -> identifier characters that NFKC reads as it, from unicodedata alone."""
    import unicodedata

    out: dict[str, list[str]] = {}
    for cp in range(0x80, 0x110000):
        ch = chr(cp)
        if ("a" + ch).isidentifier():
            text = unicodedata.normalize("NFKC", ch)
            if text != ch and text.isascii():
                out.setdefault(text, []).append(ch)
    return out


def test_many_forbidden_names_stay_exact_at_default_limits() -> None:
    """Sixty builtins forbidden: llguidance at its default limits rejects every NFKC
    spelling (a spelled letter anywhere in the word) and accepts identifiers that only
    extend or shorten a forbidden word, starting with characters of each UTF-8 length."""
    import builtins

    names = [n for n in dir(builtins) if not n.startswith("_")][:60]
    m = matcher(PythonGrammarOptions(forbid=tuple(names)))
    spellings = _brute_spellings()

    def body(word: str) -> str:
        return f"def fn(arg):\n    return {word}(arg)\n"

    for word in names[::3]:
        for i, ch in enumerate(word):
            for alt in spellings.get(ch, [])[::4]:
                spelled = word[:i] + alt + word[i + 1 :]
                assert not m.check(body(spelled)).accepted, spelled
        for ok in (word + "x", word[:-1], "x" + word, "\xe9" + word, "\u4e00" + word):
            if ok and ok not in names:
                assert m.check(body(ok)).accepted, ok
    for ok in ("\U0001d41evalx", "\uff45valx", "\u00e9x", "\U00020000x", "abc"):
        assert m.check(body(ok)).accepted, ok
