"""`arc test` on texts that made Python's backtracking `re` hang, and on texts the post
checks cannot decide within their budget (a failure of its own, `example-undecided`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ananke.languages import validate

from ananke import testing
from tests.suite_helpers import arc

RUNS = '''\
constraint runs {
    grammar: { lark: #"""
        start: /[a!]+/
        """# };
    matches: "(a+)+$";
    example accept "aaaa";
    example reject file "run.txt" by matches;
}
'''


def _arc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return arc(cwd, "test", *args)


def test_a_run_that_makes_re_backtrack(tmp_path: Path) -> None:
    """The issue's case, 10,000 `a` then `!` (`re` took 22 s for 28): decided, rejected by
    `matches` as expected."""
    (tmp_path / "runs.ariadne").write_text(RUNS, encoding="utf-8")
    (tmp_path / "run.txt").write_text("a" * 10_000 + "!", encoding="utf-8")
    done = _arc(tmp_path, "runs.ariadne", "--engine", "llguidance-lark")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("PASSED 0 failed, 2 passed"), done.stdout


def test_a_text_past_the_input_cap_fails_as_undecided(tmp_path: Path) -> None:
    (tmp_path / "runs.ariadne").write_text(RUNS, encoding="utf-8")
    n = validate.DEFAULT_BUDGET.max_input_chars
    (tmp_path / "run.txt").write_text("a" * n + "!", encoding="utf-8")
    done = _arc(tmp_path, "runs.ariadne", "--engine", "llguidance-lark", "--output-format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    (result,) = json.loads(done.stdout)["files"][0]["examples"][1:]
    assert not result["passed"]
    assert result["violations"] == [
        {
            "constraint": "runs.matches",
            "message": f"not decided: the text has {n + 1:,} characters, more than the "
            f"{n:,} the post checks read",
            "line": 1,
            "column": 1,
            "undecided": True,
        }
    ]
    text = _arc(tmp_path, "runs.ariadne", "--engine", "llguidance-lark")
    assert (
        "error[example-undecided]: runs example 2 (reject by matches): the post checks "
        "cannot decide it: runs.matches: not decided: the text has"
    ) in text.stdout


@pytest.mark.parametrize("accept", [True, False])
def test_undecided_fails_whatever_the_example_expects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, accept: bool
) -> None:
    monkeypatch.setattr(validate, "DEFAULT_BUDGET", validate.Budget(max_pattern_steps=500))
    verdict = "accept" if accept else "reject"
    text = "a" * 1_000 + ("" if accept else "!")  # both take more than 500 steps
    source = RUNS.replace('    example accept "aaaa";\n', "").replace(
        'example reject file "run.txt" by matches;', f'example {verdict} "{text}";'
    )
    path = tmp_path / "runs.ariadne"
    path.write_text(source, encoding="utf-8")
    config = testing.Config(engines=("llguidance-lark",))
    (example,) = testing.run_file(path, config).examples
    assert not example.passed
    assert example.message == (
        "the post checks cannot decide it: runs.matches: not decided: /(a+)+$/ needs more "
        "than 500 steps on this text"
    )
    diagnostic = testing.failure_diagnostic(example, {})
    assert diagnostic.code == "example-undecided"
