"""`arc test`: examples with known outcomes, deliberate failures run in a subprocess (their
output asserted), golden files, the JSON and JUnit reports, and the language of examples."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ananke.ariadne import compile_source
from ananke.ir import Diagnostics, SourceFile

from tests.suite_helpers import arc

ROOT = Path(__file__).resolve().parents[2]

GOOD = '''\
constraint api_handler {
    returns: Result<Response, Error>;
    validates: input_schema;
    forbid: ["eval", "exec"];

    example accept """
        def get_user(user_id: int) -> Result[Response, Error]:
            data = input_schema(user_id)
            return Ok(data)
        """;
    example reject """
        def get_user(user_id: int) -> Result[Response, Error]:
            data = input_schema(user_id)
            return eval(data)
        """ by forbid.eval;
    example reject """
        def get_user(user_id: int) -> Result[Response, Error]:
            return Ok(user_id)
        """ by validates;
    example reject #"""
        def get_user(user_id: int) -> Result[Response, Error]:
            """Docstrings need the #-delimited form."""
            return input_schema((user_id)
        """# by syntax;
    example reject file "bad_return.py" by returns;
}
'''

BAD_RETURN = "def get_user(user_id: int) -> dict:\n    return input_schema(user_id)\n"

# Three deliberate failures, one of each kind.
FAILING = '''\
constraint f {
    forbid: ["eval"];
    example accept """
        def f(x):
            return eval(x)
        """;
    example reject """
        def f(x):
            return x
        """ by forbid;
    example reject """
        def f(x):
            return eval(x)
        """ by syntax;
}
'''


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _arc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return arc(cwd, "test", *args)


def test_known_outcomes_pass(tmp_path: Path) -> None:
    _tree(tmp_path, {"api.ariadne": GOOD, "bad_return.py": BAD_RETURN})
    done = _arc(tmp_path, "api.ariadne", "--engine", "llguidance-lark,llguidance-gbnf")
    assert done.returncode == 0, done.stdout + done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("PASSED 0 failed, 10 passed (5 examples in 1 file; engines "), first
    assert "llguidance-lark, llguidance-gbnf" in first


def test_deliberate_failures_are_reported_with_their_explanation(tmp_path: Path) -> None:
    _tree(tmp_path, {"f.ariadne": FAILING})
    done = _arc(tmp_path, "f.ariadne", "--engine", "llguidance-lark")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert out.splitlines()[0] == (
        "FAILED 3 failed, 0 passed (3 examples in 1 file; engines llguidance-lark)"
    )
    # The accepted example is rejected by the forbid, at the byte after `eval`, with the
    # culprit underlined in the .ariadne file.
    assert (
        "error[example-rejected]: f example 1 (accept): the grammar rejects it: `eval` at "
        "2:12 is forbidden by f.forbid.eval (f.ariadne:2:14), enforced by grammar rule IDOK"
    ) in out
    assert " --> f.ariadne:5:24\n" in out
    assert "5 |             return eval(x)\n" in out
    assert "  |                    ---- rejected for this\n" in out
    assert "  |                        ^ the grammar takes no more from here\n" in out
    assert "at 2:16 of the example's text" in out
    assert (
        "error[example-accepted]: f example 2 (reject by forbid): accepted by the grammar "
        "and the post checks"
    ) in out
    assert (
        "error[example-wrong-rejection]: f example 3 (reject by syntax): rejected by "
        "f.forbid.eval, not by syntax"
    ) in out


def test_post_check_rejection_is_reported_as_such(tmp_path: Path) -> None:
    source = '''\
constraint g {
    validates: input_schema;
    example accept """
        def g(x):
            return x
        """;
}
'''
    _tree(tmp_path, {"g.ariadne": source})
    done = _arc(tmp_path, "g.ariadne", "--engine", "llguidance-lark")
    assert done.returncode == 1
    assert (
        "g example 1 (accept): the grammar accepts it, the post checks reject it "
        "(g.validates: the body must reference `input_schema` at 2:5)"
    ) in done.stdout


def test_json_and_junit_reports(tmp_path: Path) -> None:
    _tree(tmp_path, {"f.ariadne": FAILING})
    done = _arc(
        tmp_path,
        "f.ariadne",
        "--engine",
        "llguidance-lark",
        "--output-format",
        "json",
        "--junit-xml",
        "report.xml",
    )
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["passed"] is False
    examples = doc["files"][0]["examples"]
    assert [(e["expect"], e["passed"], e["rejected_by"]) for e in examples] == [
        ("accept", False, ["f.forbid.eval"]),
        ("reject", False, []),
        ("reject", False, ["f.forbid.eval"]),
    ]
    assert examples[0]["position"] == [2, 16]
    suite = ET.parse(tmp_path / "report.xml").getroot()
    assert suite.get("tests") == "3" and suite.get("failures") == "3"
    names = [c.get("name") for c in suite.iter("testcase")]
    assert names[0] == "f example 1 (accept) [llguidance-lark]"


def test_golden_files_update_compare_and_diff(tmp_path: Path) -> None:
    _tree(tmp_path, {"api.ariadne": GOOD, "bad_return.py": BAD_RETURN})
    written = _arc(
        tmp_path,
        "api.ariadne",
        "--update",
        "--engine",
        "llguidance-lark",
        "--target",
        "llguidance,gbnf",
    )
    assert written.returncode == 0, written.stdout
    folder = tmp_path / "api.golden"
    assert sorted(p.name for p in folder.iterdir()) == [
        "api_handler.gbnf.gbnf",
        "api_handler.llguidance.lark",
        "explain.gbnf.txt",
        "explain.llguidance.txt",
        "ir.txt",
    ]
    assert "(example reject by forbid.eval" in (folder / "ir.txt").read_text()
    same = _arc(
        tmp_path, "api.ariadne", "--engine", "llguidance-lark", "--target", "llguidance,gbnf"
    )
    assert same.returncode == 0 and "golden files: 5 same" in same.stdout
    # The constraint changes: the grammar and the IR no longer match their golden files.
    (tmp_path / "api.ariadne").write_text(GOOD.replace('"exec"]', '"exec", "open"]'))
    changed = _arc(
        tmp_path, "api.ariadne", "--engine", "llguidance-lark", "--target", "llguidance,gbnf"
    )
    assert changed.returncode == 1
    assert "error[golden-mismatch]: golden file `api.golden/ir.txt` differs" in changed.stdout
    assert "--- api.golden/ir.txt (checked in)\n+++ api.golden/ir.txt (compiled now)" in (
        changed.stdout
    )
    assert '+    (forbid api_handler.forbid.open "open"' in changed.stdout
    # A file of the folder that belongs to nothing is obsolete, and --update removes it.
    (folder / "old.llguidance.lark").write_text("start: ''\n")
    stale = _arc(
        tmp_path,
        "api.ariadne",
        "--engine",
        "llguidance-lark",
        "--target",
        "llguidance,gbnf",
        "--update",
    )
    assert stale.returncode == 0 and not (folder / "old.llguidance.lark").exists()


LIB = 'constraint api {\n    max_lines: 100;\n    forbid: ["eval"];\n}\n'
WEB = """\
import "lib/api.ariadne";
constraint web extends api {
    max_lines: 80;
    example accept \"\"\"
        def f(x):
            return x
        \"\"\";
}
"""


def test_golden_files_give_the_same_result_from_any_folder(tmp_path: Path) -> None:
    project = _tree(tmp_path / "project", {"web.ariadne": WEB, "lib/api.ariadne": LIB})
    engine = ("--engine", "llguidance-lark")
    assert _arc(project, ".", "--update", *engine).returncode == 0
    ir = (project / "web.golden" / "ir.txt").read_text()
    # Spans name files relative to the .ariadne file, whatever folder ran `arc test`.
    assert '(sources "web.ariadne" "lib/api.ariadne")' in ir
    assert "@lib/api.ariadne:3:14 library" in ir
    explain = (project / "web.golden" / "explain.llguidance.txt").read_text()
    assert "from web.ariadne:3 intersected with 100 from lib/api.ariadne:2" in explain
    assert '(sources "api.ariadne")' in (project / "lib" / "api.golden" / "ir.txt").read_text()
    for cwd, paths in (
        (project / "lib", [".."]),
        (tmp_path, ["project/web.ariadne", "project/lib"]),
    ):
        done = _arc(cwd, *paths, *engine)
        assert done.returncode == 0, done.stdout
        assert done.stdout.splitlines()[0].endswith("golden files: 6 same"), done.stdout
    # A change in the library: both files' golden files no longer match.
    (project / "lib" / "api.ariadne").write_text(LIB.replace('"eval"', '"eval", "exec"'))
    done = _arc(tmp_path, "project", *engine)
    assert done.returncode == 1
    first = done.stdout.splitlines()[0]
    mismatches = done.stdout.count("error[golden-mismatch]")
    assert mismatches >= 3
    assert first.startswith(f"FAILED {mismatches} golden files mismatched in 2 files; 0 failed"), (
        first
    )


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    _tree(tmp_path, {"f.ariadne": FAILING})
    assert _arc(tmp_path, "missing.ariadne").returncode == 2
    assert _arc(tmp_path, "f.ariadne", "--engine", "nope").returncode == 2
    (tmp_path / "pyproject.toml").write_text("[tool.ananke.test]\nengines = ['nope']\n")
    bad = _arc(tmp_path, "f.ariadne")
    assert bad.returncode == 2 and "unknown engine `nope`" in bad.stderr


def test_configuration_chooses_engines_and_targets(tmp_path: Path) -> None:
    _tree(tmp_path, {"api.ariadne": GOOD, "bad_return.py": BAD_RETURN})
    (tmp_path / "ananke.toml").write_text(
        '[test]\nengines = ["llguidance-gbnf"]\ntargets = ["gbnf"]\n'
    )
    done = _arc(tmp_path, ".", "--update")
    assert done.returncode == 0, done.stdout
    assert "engines llguidance-lark, llguidance-gbnf" in done.stdout
    assert (tmp_path / "api.golden" / "api_handler.gbnf.gbnf").is_file()


def _examples(text: str) -> tuple[list[object], list[str]]:
    diags = Diagnostics()
    module = compile_source(SourceFile("t.ariadne", text), diags)
    codes = [d.code for d in diags]
    return (list(module.sets[0].examples) if module else []), codes


def test_text_blocks_strip_the_closing_delimiters_indentation() -> None:
    examples, codes = _examples(
        'constraint t {\n    example accept """\n        def f():\n\n            return 1\n'
        '        """;\n    example accept """\n      a\n        b""";\n}\n'
    )
    assert codes == []
    first, second = examples
    assert first.text == "def f():\n\n    return 1\n"  # type: ignore[attr-defined]
    assert first.where(3, 5) == (5, 13)  # type: ignore[attr-defined]
    assert second.text == "a\n  b"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('example accept """x\n""";', "invalid-text-block"),
        ('example accept """\n  x\n    """;', "invalid-text-block"),
        ('example acept "x";', "invalid-example"),
        ('example accept "x" by forbid;', "invalid-example"),
        ('example reject "x" by frobid;', "invalid-example"),
        ('example reject "x" by syntax.eval;', "invalid-example"),
        ('example reject "x" by returns.int;', "invalid-example"),
        ('example reject "x" by doc;', "invalid-example"),
        ('accept """\n  x\n  """;', "syntax-error"),
        ('forbid: ["eval"]\n    example accept """\n  x = {\n  """;', "syntax-error"),
        ('example reject file "nowhere.py";', "unreadable-file"),
        ('example reject """\n', "syntax-error"),
    ],
)
def test_malformed_examples_are_diagnosed(text: str, code: str) -> None:
    _, codes = _examples(f"constraint t {{\n    {text}\n}}\n")
    assert codes == [code]


def test_pytest_plugin_collects_examples(tmp_path: Path) -> None:
    _tree(tmp_path, {"f.ariadne": FAILING, "api.ariadne": GOOD, "bad_return.py": BAD_RETURN})
    (tmp_path / "ananke.toml").write_text('[test]\nengines = ["llguidance-lark"]\n')
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--arc-examples",
            "-q",
            "-rA",
            ".",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout
    assert "3 failed, 5 passed" in done.stdout
    assert "PASSED api.ariadne::api_handler example 2 (reject by forbid.eval)" in done.stdout
    assert "FAILED f.ariadne::f example 1 (accept)" in done.stdout
    assert "is forbidden by f.forbid.eval" in done.stdout
    # Off unless asked for: the same tree collects nothing.
    off = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert off.returncode == 5, off.stdout  # no tests collected


def test_syrupy_extension_snapshots_grammar_and_ir(tmp_path: Path) -> None:
    _tree(tmp_path, {"api.ariadne": GOOD, "bad_return.py": BAD_RETURN})
    (tmp_path / "test_snap.py").write_text(
        "from ananke.syrupy import ArcSnapshot, compile_file, lower_file\n\n"
        "def test_grammar(snapshot):\n"
        "    assert lower_file('api.ariadne', 'gbnf') == snapshot(extension_class=ArcSnapshot)\n\n"
        "def test_ir(snapshot):\n"
        "    assert compile_file('api.ariadne') == snapshot(extension_class=ArcSnapshot)\n"
    )

    def pytest_(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert pytest_("--snapshot-update").returncode == 0
    stored = sorted((tmp_path / "__snapshots__" / "test_snap").iterdir())
    assert [p.name for p in stored] == ["test_grammar.txt", "test_ir.txt"]
    assert stored[0].read_text().startswith("root ::=")
    assert "(set api_handler python" in stored[1].read_text()
    assert pytest_().returncode == 0
    (tmp_path / "api.ariadne").write_text(GOOD.replace('"exec"]', '"exec", "open"]'))
    changed = pytest_()
    assert changed.returncode == 1 and "2 failed" in changed.stdout


def test_bundled_examples_pass_in_every_installed_engine() -> None:
    done = _arc(ROOT, "examples/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("PASSED 0 failed, "), done.stdout
    assert "(5 examples in 4 files; engines llguidance-lark, llguidance-gbnf" in done.stdout


def test_a_one_line_text_block_at_the_end_of_the_file_is_diagnosed() -> None:
    diags = Diagnostics()
    assert (
        compile_source(SourceFile("t.ariadne", 'constraint t { example accept """x"""; }'), diags)
        is None
    )
    assert [d.code for d in diags] == ["invalid-text-block"]


def test_text_blocks_anywhere_a_string_is() -> None:
    diags = Diagnostics()
    module = compile_source(
        SourceFile(
            "t.ariadne",
            'constraint t {\n    doc: """\n        One.\n        Two.\n        """;\n}\n',
        ),
        diags,
    )
    assert module is not None and not diags
    assert module.sets[0].constraints[0].text == "One.\nTwo.\n"  # type: ignore[attr-defined]


def test_text_block_with_crlf_and_a_leading_blank_line() -> None:
    examples, codes = _examples(
        'constraint t {\r\n    example accept """\r\n\r\n        def f():\r\n'
        '            return 1\r\n        """;\r\n}\r\n'
    )
    assert codes == []
    (e,) = examples
    assert e.text == "\ndef f():\n    return 1\n"  # type: ignore[attr-defined]
    # The blank first line is line 3 of the file; the text's line 2 is the def line.
    assert (e.at.line, e.at.column) == (3, 9)  # type: ignore[attr-defined]
    assert e.where(2, 1) == (4, 9)  # type: ignore[attr-defined]


def test_by_naming_a_constraint_the_set_lacks_fails(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "f.ariadne": 'constraint f {\n    forbid: ["eval"];\n'
            '    example reject "def f(x):\\n    return exec(x)\\n" by forbid.exec;\n}\n'
        },
    )
    done = _arc(tmp_path, "f.ariadne", "--engine", "llguidance-lark")
    assert done.returncode == 1
    assert "no constraint of f is forbid.exec: nothing can reject it" in done.stdout


def test_grammar_output_sets_get_text_checks_only(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "g.ariadne": 'constraint g {\n    grammar: { lark: #"""\n        start: "a"+\n'
            '        """# };\n    max_chars: 3;\n    example accept "aaa";\n'
            '    example reject "aaaa" by max_chars;\n    example reject "b" by grammar;\n}\n'
        },
    )
    done = _arc(tmp_path, "g.ariadne", "--engine", "llguidance-lark")
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("PASSED 0 failed, 3 passed"), done.stdout


def test_golden_files_that_cannot_be_read_or_written(tmp_path: Path) -> None:
    _tree(tmp_path, {"f.ariadne": FAILING})
    (tmp_path / "f.golden").write_text("a file where the folder goes\n")
    done = _arc(tmp_path, "f.ariadne", "--engine", "llguidance-lark", "--update")
    assert done.returncode == 2, done.stdout
    assert "error[unwritable-file]: cannot write golden file" in done.stdout
    (tmp_path / "f.golden").unlink()
    assert _arc(tmp_path, "f.ariadne", "--engine", "llguidance-lark", "--update").returncode == 1
    (tmp_path / "f.golden" / "ir.txt").write_bytes(b"\xff\x01not text\n")
    done = _arc(tmp_path, "f.ariadne", "--engine", "llguidance-lark", "--junit-xml", "r.xml")
    assert done.returncode == 1
    assert "error[golden-mismatch]: golden file `f.golden/ir.txt` differs" in done.stdout
    suite = ET.parse(tmp_path / "r.xml").getroot()  # well-formed despite the bytes
    assert suite.get("failures") == "4"


def test_each_engine_checks_the_output_of_a_target_it_reads() -> None:
    """`arc test` takes its engines from what each backend declares it is read by."""
    from ananke.engines.membership import readers

    from ananke import testing

    engines = [c.engine for c in testing.CHECKS]
    assert len(set(engines)) == len(engines)
    assert all(c.engine in readers(c.target) for c in testing.CHECKS)
    assert testing.REFERENCE.engine in readers("llguidance")
