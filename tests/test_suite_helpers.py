"""The suite's own helpers: what a missing package means with and without CI, and
counting work."""

from __future__ import annotations

import pytest

from tests.suite_helpers import calls, missing, require_module


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_a_missing_package_skips_off_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception, match="no-such-package"):
        require_module("no_such_package_here", "no-such-package")


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_a_missing_package_fails_under_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI installs every optional package"):
        missing("the package 'x' is not installed")


def test_an_installed_package_is_returned() -> None:
    assert require_module("json").dumps([]) == "[]"


def test_calls_count_the_work() -> None:
    def loop(n: int) -> None:
        for _ in range(n):
            abs(-1)

    assert calls(lambda: loop(2000)) - calls(lambda: loop(1000)) == 1000
