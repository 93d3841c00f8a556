"""The registry of languages (``ir/lower/language.py``) is the only way from the passes to a
language: a language registered under a new name, defined here and nowhere in ``ir/``, is
what the checker accepts, what the lower pass lowers with and what detect-conflicts asks
for its names. And ``ir/`` imports nothing outside ``ir/``."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from ananke.ariadne import compile_source, read_source
from ananke.ir import Diagnostics, Module
from ananke.ir.compose import compose
from ananke.ir.constraint import ConstraintSet, NamingStyle, Param
from ananke.ir.grammar import Grammar, Rule
from ananke.ir.lower import lower
from ananke.ir.lower.language import names, register, supported, unregister
from ananke.ir.plan import Enforcement, Lowered
from ananke.ir.regex import parse_regex
from ananke.languages.validate import check

ROOT = Path(__file__).resolve().parents[2]

WORD = Grammar(start="start", rules=(Rule(name="start", body=parse_regex("[a-z]{1,8}")),))


class Words:
    """A language whose output is one lowercase word; it records what the pass asked."""

    name = "words"
    output = "lowercase word"
    pattern_help = "fix the pattern: every output is one lowercase word"
    identifier = "[a-z]{1,8}"
    naming_styles: Mapping[NamingStyle, str] = {"snake": "[a-z_]+"}

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, int | None]] = []

    def pinned_words(
        self, params: Sequence[Param] | None, is_async: bool | None
    ) -> list[tuple[str, str]]:
        return []

    def lower_set(
        self,
        cset: ConstraintSet,
        diags: Diagnostics,
        *,
        target: str,
        demote: Mapping[str, str],
        max_nesting: int | None,
    ) -> Lowered:
        self.asked.append((cset.name, target, max_nesting))
        plan = tuple(
            Enforcement(
                constraint_id=c.id,
                kind=c.__struct_config__.tag,  # type: ignore[arg-type]
                level="post",
                reason="checked after generation",
                target=target,
            )
            for c in cset.constraints
        )
        return Lowered(set_name=cset.name, target=target, grammar=WORD, enforcements=plan)


@pytest.fixture
def words() -> Iterator[Words]:
    language = Words()
    register("words", lambda: language)
    yield language
    unregister("words")


def compile_text(text: str, tmp_path: Path) -> tuple[Module | None, Diagnostics]:
    path = tmp_path / "t.ariadne"
    path.write_text(text, encoding="utf-8")
    diags = Diagnostics()
    source = read_source(path, diags)
    assert source is not None
    return compile_source(source, diags), diags


def test_an_unregistered_language_is_refused_with_the_registered_ones(tmp_path: Path) -> None:
    module, diags = compile_text("constraint s { language: words; }", tmp_path)
    assert module is None
    (error,) = [d for d in diags if d.code == "unsupported-language"]
    assert error.help == "supported languages: python, json"


def test_the_checker_and_the_lower_pass_reach_a_registered_language(
    words: Words, tmp_path: Path
) -> None:
    assert names() == ("python", "words")
    assert supported() == ("python", "words", "json")
    module, diags = compile_text("constraint s { language: words; max_chars: 8; }", tmp_path)
    assert module is not None, [d.message for d in diags]
    (lowered,) = lower(module, target="xgrammar", diags=diags, max_nesting=3)
    assert lowered.grammar == WORD
    assert [e.constraint_id for e in lowered.enforcements] == ["s.max_chars"]
    assert words.asked == [("s", "xgrammar", 3)]


def test_detect_conflicts_asks_the_language_for_its_names(words: Words, tmp_path: Path) -> None:
    """``[A-Z]+`` names Python identifiers but no word of this language: the conflict
    comes from the identifier the language gives, not from Python's."""
    text = 'constraint s {{ language: {}; naming: r"^[A-Z]+$"; }}'
    python, diags = compile_text(text.format("python"), tmp_path)
    assert python is not None
    compose(python, diags)
    assert not diags.has_errors, [d.message for d in diags]
    module, diags = compile_text(text.format("words"), tmp_path)
    assert module is not None
    compose(module, diags)
    assert any("no identifier matches the naming rule" in d.message for d in diags), [
        d.message for d in diags
    ]


def test_a_language_without_post_checks_skips_what_reads_code(words: Words, tmp_path: Path) -> None:
    module, diags = compile_text(
        'constraint s { language: words; max_chars: 3; naming: r"^[a-z]+$"; }', tmp_path
    )
    assert module is not None, [d.message for d in diags]
    report = check("abcd", module.sets[0])
    assert [(v.constraint_id, v.kind) for v in report.violations] == [("s.max_chars", "limit")]
    assert [(s.constraint_id, s.reason) for s in report.skipped] == [
        ("s.naming", "words has no post checks")
    ]


def _imports(path: Path) -> Iterator[str]:
    """The absolute name of every module ``path`` imports, relative imports resolved."""
    package = ["ananke", *path.relative_to(ROOT).parent.parts]
    package[1] = "ir"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            yield ".".join([*base, *([node.module] if node.module else [])])


@pytest.mark.parametrize(
    "path", sorted((ROOT / "ir").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_ir_imports_nothing_outside_ir(path: Path) -> None:
    outside = [
        m for m in _imports(path) if m.startswith("ananke") and not m.startswith("ananke.ir")
    ]
    assert outside == []
