"""The compile driver (``ananke.driver``): it prints nothing and never exits; its report
decides the exit code ``arc`` then uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from ananke import driver
from tests.cli.cli_helpers import run_arc

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.ariadne"))
BROKEN = sorted((ROOT / "tests" / "fixtures" / "broken").glob("*.ariadne"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_loads_lowers_and_emits_silently(
    path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    report = driver.Report()
    module = driver.load(path, report)
    assert module is not None and report.exit_code == 0
    chosen = driver.select(module, None)
    lowered = driver.lower(driver.with_sets(chosen, chosen.sets[:1]), "llguidance", report)
    assert lowered is not None
    ((name, text),) = driver.emit_texts(lowered, "llguidance", report)
    assert name == chosen.sets[0].name and text
    assert capfd.readouterr() == ("", "")


def test_a_broken_file_is_a_report_with_the_exit_code_of_arc_check(
    capfd: pytest.CaptureFixture[str],
) -> None:
    for path in BROKEN:
        report = driver.Report()
        assert driver.compile_path(path, report) is None
        assert capfd.readouterr() == ("", ""), path
        errors = [d for d in report.diags if d.severity == "error"]
        assert errors and all(d.labels for d in errors), path
        code, _, _ = run_arc(capfd, "check", path)
        assert report.exit_code == code, path


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    report = driver.Report()
    assert driver.load(tmp_path / "nowhere.ariadne", report) is None
    assert [d.code for d in report.diags] == ["unreadable-file"]
    assert report.input_error and report.exit_code == 2


def test_an_unknown_set_names_the_sets_there_are() -> None:
    report = driver.Report()
    module = driver.load(ROOT / "examples" / "multi.ariadne", report)
    assert module is not None
    with pytest.raises(driver.UnknownSet) as caught:
        driver.select(module, "nope")
    for cset in module.sets:
        assert cset.name in str(caught.value)
