"""Hypothesis strategies for grammar-import fuzzing: grammars generated in each dialect
(Lark, GBNF, XGrammar's EBNF) and grammars others wrote, mutated.

Shared by test_transpile_fuzz.py and the atheris target (fuzz_transpile_atheris.py)."""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from ananke.backends import target_names
from hypothesis import strategies as st

from ananke.cli import main

TARGETS = tuple(target_names())
SUFFIX = {"lark": ".lark", "gbnf": ".gbnf", "ebnf": ".ebnf"}


# --- running `arc transpile` ------------------------------------------------------------


def transpile(path: Path, target: str) -> tuple[int, str, str]:
    """`arc transpile PATH --to TARGET --output-format json` in-process: code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    code: Any = None
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(["transpile", str(path), "--to", target, "--output-format", "json"])
        except SystemExit as e:
            code = e.code
    assert isinstance(code, int), code
    return code, out.getvalue(), err.getvalue()


def check_all_targets(path: Path, *, validate: bool = False) -> None:
    """No target ends in an internal error; a failure shows an error with a span in the
    file. With ``validate``, every grammar printed without an error is loaded by the
    engines that read its target (:func:`assert_engines_load`)."""
    for target in TARGETS:
        code, out, err = transpile(path, target)
        assert code in (0, 1, 2), f"--to {target}: exit {code}\n{err}"
        if code != 0:
            assert_error_in_file(path, target, code, err)
        elif validate:
            assert_engines_load(target, out)


# Target -> the engines that read what it prints: llama.cpp for GBNF (llguidance's GBNF
# converter refuses some grammars llama.cpp reads, a deviation of that converter), and for
# a regex llguidance, whose reader parses the same Rust syntax as outlines-core (which
# builds its whole index to load one, for minutes on some: engine_worker.OUTLINES_INDEX).
READERS: dict[str, tuple[str, ...]] = {
    "llguidance": ("llguidance-lark",),
    "lark-vllm": ("llguidance-lark",),
    "xgrammar": ("xgrammar-ebnf",),
    "gbnf": ("llamacpp-gbnf",),
    "lark": ("lark",),
    "regex": ("llguidance-regex",),
    "json-schema": ("llguidance-json", "xgrammar-json"),
}

# Request target -> the target whose grammar its body holds, and where.
BODIES: dict[str, tuple[str, Callable[[Any], str]]] = {
    "vllm": ("lark-vllm", lambda body: body["structured_outputs"]["grammar"]),
    "sglang": ("xgrammar", lambda body: body["ebnf"]),
    "llamacpp": ("gbnf", lambda body: body["grammar"]),
    "openai": ("lark-vllm", lambda body: body["format"]["definition"]),
}


def assert_engines_load(target: str, out: str) -> None:
    """Every engine that reads ``target`` loads ``out``, what arc printed for it with no
    error: a grammar an engine refuses is a bug of the printer. Each load runs in the
    test harness's engine worker, under its time limit."""
    from ananke.engines.membership import EngineError, get_engine

    from tests.engine_worker import worker

    if target in BODIES:
        target, extract = BODIES[target]
        out = extract(json.loads(out))
    text = out.removesuffix("\n") if target == "regex" else out
    if target == "json-schema":
        text = json.dumps(json.loads(text))
    for engine in READERS[target]:
        if not get_engine(engine).available():
            continue
        if engine.startswith("llguidance-"):
            # Its own validator, with no tokenizer: special tokens need the model's.
            problem = worker().validate(engine, text)
        else:
            try:
                worker().compile(engine, text)
                problem = ""
            except EngineError as e:
                problem = e.message
        assert not problem, f"--to {target}: {engine} refuses what arc printed: {problem}\n{text}"


def assert_error_in_file(path: Path, target: str, code: int, err: str) -> None:
    errors = [d for d in json.loads(err) if d["severity"] == "error"]
    placed = [d for d in errors if any(label["file"] == str(path) for label in d["labels"])]
    assert placed, f"--to {target}: exit {code} without an error at a place in the file\n{err}"


# --- seeds: grammars others wrote ------------------------------------------------------


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


_ROOT = Path(__file__).resolve().parents[2]


def _gbnf_package_grammars() -> list[str]:
    import ast

    base = _package_dir("gbnf")
    if base is None:
        return []
    tree = ast.parse((base / "rules_builder" / "rules_builder_test.py").read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple) and len(node.elts) >= 2:
            text = node.elts[1]
            if isinstance(text, ast.Constant) and "::=" in str(text.value):
                found.append(str(text.value))
    return found


def _xgrammar_ebnf() -> list[str]:
    try:
        import xgrammar as xgr
    except ImportError:
        return []
    schema = (
        '{"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": '
        '"array", "items": {"type": "string", "pattern": "^[a-z]{2,4}$"}}}, "required": ["a"]}'
    )
    return [str(xgr.Grammar.builtin_json_grammar()), str(xgr.Grammar.from_json_schema(schema))]


def seed_grammars() -> list[tuple[str, bytes]]:
    """(dialect, text) of every grammar installed here that others wrote, plus ours."""
    seeds: list[tuple[str, bytes]] = []
    for package, folder in (("lark", "grammars"), ("outlines", "grammars")):
        base = _package_dir(package)
        if base is not None:
            for path in sorted((base / folder).glob("*.lark")):
                seeds.append(("lark", path.read_bytes()))
    for path in (_ROOT / "ariadne" / "ariadne.lark", _ROOT / "frontends/grammars/lark_syntax.lark"):
        if path.is_file():
            seeds.append(("lark", path.read_bytes()))
    seeds += [("gbnf", text.encode()) for text in _gbnf_package_grammars()]
    seeds += [("ebnf", text.encode()) for text in _xgrammar_ebnf()]
    return seeds


# --- generated grammars -----------------------------------------------------------------

# Any scalar value but surrogates: NUL, controls, non-ASCII, astral.
_ANY_CHAR = st.characters(exclude_categories=("Cs",))
_SMALL = st.integers(0, 3)


def _hex_escape(ch: str) -> str:
    n = ord(ch)
    if n < 0x100:
        return f"\\x{n:02x}"
    if n < 0x10000:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


@st.composite
def _quantifier(draw: st.DrawFn, no_lower: bool = True) -> str:
    kinds = ["", "", "*", "+", "?", "{m}", "{m,}", "{m,n}"]
    if no_lower:
        kinds.append("{,n}")
    kind = draw(st.sampled_from(kinds))
    m, n = draw(_SMALL), draw(_SMALL)
    m, n = min(m, n), max(m, n)
    return kind.replace("m", str(m)).replace("n", str(n))


# Python `re` inside Lark's /.../ ----------------------------------------------------------

_RE_SPECIAL = set(".^$*+?{}[]\\|()/")
_RE_CLASSES = ["\\d", "\\w", "\\s", "\\D", "\\W", "\\S"]


@st.composite
def _re_char(draw: st.DrawFn, in_class: bool = False) -> str:
    ch = draw(_ANY_CHAR)
    special = set("]\\^-/[") if in_class else _RE_SPECIAL
    if ch in special:
        return "\\" + ch
    if ch in "\n\r" or ord(ch) < 0x20 or (ord(ch) > 0x7E and draw(st.booleans())):
        return _hex_escape(ch)
    return ch


@st.composite
def _re_class(draw: st.DrawFn) -> str:
    items = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["char", "range", "class", "named"]))
        if kind == "char":
            items.append(draw(_re_char(in_class=True)))
        elif kind == "range":
            a, b = sorted([draw(_ANY_CHAR), draw(_ANY_CHAR)])
            items.append(_hex_escape(a) + "-" + _hex_escape(b))
        elif kind == "class":
            items.append(draw(st.sampled_from(_RE_CLASSES)))
        else:
            items.append(draw(st.sampled_from(["a-z", "A-Z0-9_", "\\-", "\\]", "\\n\\t", "é-ü"])))
    neg = draw(st.sampled_from(["", "", "^"]))
    return f"[{neg}{''.join(items)}]"


def _rarely(draw: st.DrawFn, n: int = 6) -> bool:
    """True about once in ``n`` draws: for constructs that make the whole grammar fail."""
    return draw(st.integers(0, n - 1)) == 0


def _re_atom(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        _re_char(),
        _re_class(),
        st.sampled_from([*_RE_CLASSES, ".", "\\.", "\\/", "\\\\", "\\n", "\\t", "\\x00"]),
        # Case folding of large classes is slow to analyse: (?i: is the rarer group.
        st.tuples(st.sampled_from(["(", "(?:", "(", "(?:", "(?i:"]), inner).map(
            lambda t: f"{t[0]}{t[1]})"
        ),
    )


# Python-only constructs the importer must report, not crash on (never quantified).
_RE_EXOTIC = [
    "\\p{L}",
    "^",
    "$",
    "\\b",
    "\\A",
    "\\Z",
    "(?=a)",
    "(?<!b)",
    "(?P<n>x)(?P=n)",
    "\\1",
    "(?s)",
]


def _py_regex(wild: bool) -> st.SearchStrategy[str]:
    lazy = st.sampled_from(["", "", "", "?"] if wild else [""])

    def body(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        piece = st.tuples(_re_atom(inner), _quantifier(), lazy).map(
            lambda t: t[0] + t[1] + (t[2] if t[1] else "")
        )
        if wild:
            piece = st.one_of(piece, piece, piece, st.sampled_from(_RE_EXOTIC))
        seq = st.lists(piece, min_size=1, max_size=3).map("".join)
        return st.lists(seq, min_size=1, max_size=2).map("|".join)

    return st.recursive(body(st.just("a")), body, max_leaves=5)


PY_REGEX = {wild: _py_regex(wild) for wild in (False, True)}


# Lark -------------------------------------------------------------------------------------

_COMMON = ["NUMBER", "INT", "WS", "ESCAPED_STRING", "CNAME", "LETTER", "WORD", "NEWLINE"]
_COMMON += ["SIGNED_NUMBER", "DECIMAL", "HEXDIGIT", "WS_INLINE", "CPP_COMMENT", "SH_COMMENT"]


@st.composite
def _lark_string(draw: st.DrawFn) -> str:
    chars = []
    for ch in draw(st.lists(_ANY_CHAR, max_size=5)):
        if ch in '"\\':
            chars.append("\\" + ch)
        elif ch == "\n" or draw(st.integers(0, 3)) == 0:
            chars.append(
                # Surrogates and code points past Unicode are no characters (errors).
                draw(
                    st.sampled_from(
                        [_hex_escape(ch), "\\n", "\\t", '\\"', "\\\\", "\\u00e9", "\\ud800"]
                    )
                )
            )
        else:
            chars.append(ch)
    return '"' + "".join(chars) + '"' + draw(st.sampled_from(["", "", "i"]))


@st.composite
def _lark_regex(draw: st.DrawFn, wild: bool) -> str:
    flags = draw(st.sampled_from(["", "", "", "", "", "i", "s", "x", "m"]))
    return "/" + draw(PY_REGEX[wild]) + "/" + flags


def _lark_expr(
    names: list[str], terminal: bool, wild: bool, templates: bool = False
) -> st.SearchStrategy[str]:
    atom = st.one_of(
        st.sampled_from(names),
        _lark_string(),
        _lark_regex(wild),
        st.tuples(_ANY_CHAR, _ANY_CHAR).map(
            lambda t: f'"{_hex_escape(min(t))}".."{_hex_escape(max(t))}"'
        ),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        item = st.one_of(
            atom,
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"[{e}]"),
            st.tuples(inner, st.sampled_from(["?", "*", "+", " ~ 2", " ~ 0..3"])).map(
                lambda t: f"({t[0]}){t[1]}"
            ),
        )
        if templates:
            item = st.one_of(item, st.tuples(item, item).map(lambda t: f"_sep{{{t[0]}, {t[1]}}}"))
        seq = st.lists(item, min_size=1, max_size=3).map(" ".join)
        return st.lists(seq, min_size=1, max_size=3).map(" | ".join)

    body = st.recursive(atom, extend, max_leaves=4)
    if terminal:
        return body
    # Aliases name the top-level alternatives of a rule.
    alias = st.sampled_from(["", "", " -> named"])
    return st.lists(st.tuples(body, alias).map("".join), min_size=1, max_size=3).map(" | ".join)


@st.composite
def lark_grammar(draw: st.DrawFn) -> str:
    # A wild grammar has constructs no target takes (lookarounds, anchors, lazy quantifiers,
    # `%declare`, ...): it must fail with diagnostics. Tame ones often transpile.
    wild = _rarely(draw, 3)
    templates = _rarely(draw)
    # Few lexemes: the lexeme-boundary analysis of character-level targets takes time
    # with the square of their number, and seconds for lexemes with large Unicode classes.
    rules = ["start", *draw(st.lists(st.sampled_from(["a", "_c", "?d"]), unique=True, max_size=2))]
    terms = draw(st.lists(st.sampled_from(["T", "_V"]), unique=True, max_size=1))
    imports = draw(st.lists(st.sampled_from(_COMMON), unique=True, max_size=2))
    used_terms = [t for t in terms] + imports
    lines = []
    for name in imports:
        lines.append(draw(st.sampled_from([f"%import common.{name}", f"%import common ({name})"])))
    if wild and _rarely(draw, 2):
        lines.append("%import python (NAME, DEC_NUMBER)")
        used_terms += ["NAME", "DEC_NUMBER"]
    if templates:
        lines.append("_sep{x, s}: x (s x)*")
    for name in terms:
        prio = draw(st.sampled_from(["", "", ".2", ".-1"]))
        body = draw(_lark_expr(used_terms or ['"x"'], terminal=True, wild=wild))
        lines.append(f"{name}{prio}: {body}")
    refs = [r.lstrip("?") for r in rules] + used_terms
    for name in rules:
        body = draw(_lark_expr(refs, terminal=False, wild=wild, templates=templates))
        lines.append(f"{name}: {body}")
    if used_terms and draw(st.booleans()):
        lines.append(f"%ignore {draw(st.sampled_from(used_terms))}")
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(['%ignore " "', "%ignore /[ \\t]+/", "%ignore WS"])))
    if wild and _rarely(draw, 2):
        lines.append(draw(st.sampled_from(["%declare INDENT DEDENT", "%declare T"])))
    if wild and _rarely(draw, 2):
        lines.append(draw(st.sampled_from(["%override a: T", '%extend T: "z"', "%import .x (Y)"])))
    if wild and _rarely(draw, 2):
        # Intersection and negation (llguidance's); an empty one has no character rules.
        lines.append(draw(st.sampled_from(["W: /a+/ & /b+/", "W: /[a-z]+/ & ~/x.*/", "W: ~/a/"])))
    order = draw(st.permutations(lines))
    return "\n".join(order) + draw(st.sampled_from(["\n", "", "\n\n// end\n"]))


# GBNF and XGrammar's EBNF -----------------------------------------------------------------


@st.composite
def _gbnf_char(draw: st.DrawFn, in_class: bool) -> str:
    ch = draw(_ANY_CHAR)
    if ch in ('"\\' if not in_class else "]\\^-"):
        return "\\" + ch
    if ch in "\n\r\t" or ord(ch) < 0x20 or draw(st.integers(0, 3)) == 0:
        return draw(
            st.sampled_from(
                [_hex_escape(ch), "\\n", "\\r", "\\t", "\\\\", "\\]", "\\[", '\\"', "\\uDFFF"]
            )
        )
    return ch


@st.composite
def _gbnf_class(draw: st.DrawFn, wild: bool) -> str:
    items = []
    for _ in range(draw(st.integers(0 if wild else 1, 4))):
        if draw(st.booleans()):
            items.append(draw(_gbnf_char(in_class=True)))
        else:
            a, b = sorted([draw(_ANY_CHAR), draw(_ANY_CHAR)])
            items.append(_hex_escape(a) + "-" + _hex_escape(b))
    return "[" + draw(st.sampled_from(["", "", "^"])) + "".join(items) + "]"


def _gbnf_expr(names: list[str], ebnf: bool, wild: bool) -> st.SearchStrategy[str]:
    if ebnf:
        extra = ['Regex("(ab|c)*[^x]")', "(= [a])", '"x" (= "y")', "[^]"]
        extra += ['Regex("[a-z]+\\\\d")', 'TagDispatch("a")', "."] if wild else []
    else:
        extra = ["."] + (["<[12]>", "!<[3]>", "<|eot|>"] if wild else [])
    atom = st.one_of(
        st.sampled_from(names),
        st.lists(_gbnf_char(in_class=False), max_size=4).map(lambda cs: '"' + "".join(cs) + '"'),
        _gbnf_class(wild),
        st.sampled_from(extra),
    )
    # XGrammar needs the lower bound of `{,n}`.
    quantifier = _quantifier(no_lower=wild or not ebnf)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        item = st.tuples(st.one_of(atom, inner.map(lambda e: f"({e})")), quantifier).map("".join)
        seq = st.lists(item, min_size=1, max_size=4).map(" ".join)
        # Alternatives may continue on the next line in both dialects.
        return st.lists(seq, min_size=1, max_size=3).map(" |\n    ".join)

    return st.recursive(atom, extend, max_leaves=10)


@st.composite
def gbnf_grammar(draw: st.DrawFn, ebnf: bool = False) -> str:
    wild = _rarely(draw, 3)
    names = ["root", *draw(st.lists(st.sampled_from(["a", "b-c", "d_1"]), unique=True))]
    lines = []
    for name in names:
        lines.append(f"{name} ::= {draw(_gbnf_expr(names, ebnf, wild))}")
        if _rarely(draw, 4):
            lines.append('# a comment "with" [brackets] ::=')
    return "\n".join(draw(st.permutations(lines))) + "\n"


def generated(dialect: str) -> st.SearchStrategy[bytes]:
    strategy = lark_grammar() if dialect == "lark" else gbnf_grammar(ebnf=dialect == "ebnf")
    return strategy.map(lambda text: text.encode("utf-8"))


# --- mutations --------------------------------------------------------------------------

_TOKENS = [
    *b'()[]{}|*+?~.:"/\\%-<>@&!,^$ \n\t#=\x00\xff\xc3\xa9',
]
_WORDS = [
    b"::=",
    b"->",
    b"..",
    b"%import common.WS",
    b"%ignore ",
    b"%declare X",
    b"_sep{",
    b"{2,3}",
    b"{,99999}",
    b"\\d",
    b"\\W",
    b"[^\\s]",
    b"\\U0001F600",
    b"\\x00",
    b"\\u00e9",
    "\U0001f600".encode(),
    b"(?i)",
    b"(?=",
    b"Regex(",
    b"\\ud800",
    b"\\U00110000",
    b"(" * 300,
    b"[" * 300,
    b"start",
    b"root",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """A seed grammar with a few lines dropped, duplicated or swapped (those often keep
    it valid) and byte spans deleted, duplicated, swapped or inserted."""
    dialect, data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["lines", "lines", "delete", "duplicate", "swap", "insert"]))
        if op == "lines":
            lines = data.split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            how = draw(st.sampled_from(["drop", "dup", "swap"]))
            if how == "drop":
                del lines[i]
            elif how == "dup":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
            continue
        n = len(data)
        i = draw(st.integers(0, n))
        j = min(n, i + draw(st.integers(0, 40)))
        if op == "delete":
            data = data[:i] + data[j:]
        elif op == "duplicate":
            data = data[:j] + data[i:j] + data[j:]
        elif op == "swap":
            k = draw(st.integers(0, n))
            a, b = sorted([(i, j), (k, min(n, k + j - i))])
            if a[1] <= b[0]:
                head, first, middle = data[: a[0]], data[a[0] : a[1]], data[a[1] : b[0]]
                data = head + data[b[0] : b[1]] + middle + first + data[b[1] :]
        else:
            insert = draw(
                st.one_of(
                    st.sampled_from(_WORDS),
                    st.sampled_from(_TOKENS).map(lambda b: bytes([b])),
                    st.binary(min_size=1, max_size=3),
                )
            )
            data = data[:i] + insert + data[i:]
    return dialect, data
