"""A constraint with `grammar: "file"` that `arc check` accepts: `arc emit` for every
target, `arc explain --target all` and `arc test` never crash; a target that cannot take
the grammar is a diagnostic pointing at the grammar file (a warning with --target all)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ananke.backends import target_names

from tests.cli.cli_helpers import run_arc

# Every kind of construct a target may refuse: a `%json` schema, a special token, a
# lexeme negation, Unicode classes, templates, an import from lark's own grammars, and
# lexemes that run into each other; GBNF and EBNF too.
GRAMMARS = {
    "json.lark": 'start: "x" value\nvalue: %json {"type": "integer"}\n',
    "special.lark": 'start: "a" <|eos|>\n',
    "neg.lark": 'start: "x" WORD\nWORD: ~/.*ab.*/ & /[a-z]{1,8}/\n',
    "classes.lark": "start: W+\nW: /[^\\W\\d]\\w*|\\s+|\\D\\S/\n",
    "tmpl.lark": '_sep{x, sep}: x (sep x)*\nstart: "[" _sep{item, ","} "]"\nitem: /\\d+/\n',
    "py.lark": "%import python (name, _cs_list)\nstart: _cs_list{name}\n",
    "boundary.lark": 'start: NUM "." NAME\nNUM: /[0-9]+(\\.[0-9]+)?/\nNAME: /[a-z]+/\n',
    "nested.lark": 'start: "(" start ")" | X\nX: "x"\n',
    "uni.gbnf": 'root ::= [^\\x00-\\x1f]+ "\\U0001F600"\n',
    "re.ebnf": 'root ::= Regex("[a-z]+[0-9]")\n',
}


def _files(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).write_text(GRAMMARS[name], encoding="utf-8")
    ariadne = tmp_path / "c.ariadne"
    ariadne.write_text(f'constraint c {{\n    grammar: "{name}";\n}}\n', encoding="utf-8")
    return ariadne


def _spans_in(err: str) -> list[dict[str, object]]:
    """The diagnostics of a JSON report on stderr (one object per line or one list)."""
    text = err.strip()
    if not text:
        return []
    data = json.loads(text)
    return list(data if isinstance(data, list) else data.get("diagnostics", [data]))


@pytest.mark.parametrize("name", sorted(GRAMMARS))
def test_every_target_emits_or_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    ariadne = _files(tmp_path, name)
    code, _, err = run_arc(capsys, "check", ariadne)
    assert code == 0, err
    for target in target_names():
        code, out, err = run_arc(capsys, "emit", ariadne, "-t", target, "--output-format", "json")
        assert code in (0, 1), (target, err)
        if code == 0:
            assert out.strip(), target
            continue
        errors = [d for d in _spans_in(err) if d["severity"] == "error"]
        assert errors, (target, err)
        for d in errors:
            files = [str(label["file"]) for label in d["labels"]]  # type: ignore[attr-defined]
            # the grammar file, where the rule that cannot be written is defined
            assert any(f.endswith(name) for f in files), (target, d)
    code, _, err = run_arc(capsys, "explain", ariadne, "-t", "all")
    assert code == 0, err
    assert "error" not in err.split("warning")[0], err


# A text each grammar holds (None: it needs a special token, which no text is).
ACCEPTED: dict[str, str | None] = {
    "json.lark": "x12",
    "special.lark": None,
    "neg.lark": "xcd",
    "classes.lark": "a1",
    "tmpl.lark": "[1,22]",
    "py.lark": "a,b",
    "boundary.lark": "1.5.a",
    "nested.lark": "((x))",
    "uni.gbnf": "ab\U0001f600",
    "re.ebnf": "ab1",
}


@pytest.mark.parametrize("name", sorted(GRAMMARS))
def test_arc_test_runs_every_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    ariadne = _files(tmp_path, name)
    text = ariadne.read_text(encoding="utf-8").removesuffix("}\n")
    sample = ACCEPTED[name]
    accept = (
        "" if sample is None else f"    example accept {json.dumps(sample, ensure_ascii=False)};\n"
    )
    ariadne.write_text(f'{text}{accept}    example reject "~" by grammar;\n}}\n', encoding="utf-8")
    (tmp_path / "c.golden").mkdir()
    targets = ",".join(target_names())
    code, out, err = run_arc(capsys, "test", ariadne, "--target", targets, "--update")
    # every installed engine agrees on both examples, for every target's golden grammar
    assert code == 0, out + err
    assert out.startswith("PASSED"), out


def test_a_refusal_names_the_rule_and_points_at_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ariadne = _files(tmp_path, "json.lark")
    code, _, err = run_arc(capsys, "emit", ariadne, "-t", "gbnf", "--output-format", "json")
    assert code == 1
    [d] = _spans_in(err)
    assert d["code"] == "target-cannot-express"
    assert "rule `value` embeds a JSON schema" in str(d["message"])
    spans = {(Path(lb["file"]).name, lb["line"]) for lb in d["labels"]}  # type: ignore[attr-defined]
    assert spans == {("json.lark", 2), ("c.ariadne", 2)}


def test_json_schema_refusal_of_a_grammar_is_about_the_grammar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "g.lark").write_text('start: "a"\n', encoding="utf-8")
    code, _, err = run_arc(capsys, "transpile", tmp_path / "g.lark", "--to", "json-schema")
    assert code == 1
    assert "language: json" not in err
    assert "error[target-cannot-express]: json-schema cannot express rule `start`" in err
    assert "g.lark:1:1" in err
    # a grammar whose start rule only refers to the schema is one
    (tmp_path / "s.lark").write_text('start: v\nv: %json {"type": "integer"}\n', encoding="utf-8")
    code, out, err = run_arc(capsys, "transpile", tmp_path / "s.lark", "--to", "json-schema")
    assert code == 0, err
    assert json.loads(out) == {"type": "integer"}


def test_lexeme_boundary_points_at_the_lexemes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "b.lark").write_text(GRAMMARS["boundary.lark"], encoding="utf-8")
    code, _, err = run_arc(capsys, "transpile", tmp_path / "b.lark", "--to", "gbnf")
    assert code == 0
    warning = "warning[lexeme-boundary]: gbnf may accept more than llguidance where NUM"
    assert f'{warning} meets "."' in err
    assert "#0" not in err  # no name the analysis made up
    assert "b.lark:2:1" in err  # NUM's definition
    assert '"." is written in `start`' in err


def test_a_refused_template_application_is_named_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "t.lark").write_text(
        'start: pair{"b", "c"} pair{"a", %json {"type": "integer"}}\npair{k, v}: k v\n',
        encoding="utf-8",
    )
    code, _, err = run_arc(capsys, "transpile", tmp_path / "t.lark", "--to", "gbnf")
    assert code == 1
    assert 'cannot express rule `pair{"a", %json {"type": "integer"}}`' in err
    assert "pair_2" not in err  # the name of the rule made of it
    assert "t.lark:2:1" in err  # the template's definition
