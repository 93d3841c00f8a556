"""A pytest plugin: the examples of ``.ariadne`` files as test items.

Installed with Ananke (entry point ``pytest11``) and off until asked for, so that a project
whose tests hold deliberately broken ``.ariadne`` files is not affected::

    pytest --arc-examples              # or, in the pytest configuration:
    [tool.pytest.ini_options]
    arc_examples = true

Each ``.ariadne`` file pytest collects becomes one test per example (named
``SET example N (accept|reject ...)``), checked by every engine as ``arc test`` does
(settings from ``[tool.ananke.test]``, found from the current folder as ``arc test``
finds them), one test for its golden files when its ``NAME.golden/`` folder exists, and
one test that fails when the file does not compile.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ananke import testing

__all__ = ["AriadneFile", "ExampleItem", "GoldenItem"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ananke")
    group.addoption(
        "--arc-examples",
        action="store_true",
        default=None,
        help="collect .ariadne files and run their examples (as `arc test` does)",
    )
    parser.addini(
        "arc_examples", type="bool", default=False, help="collect .ariadne files' examples"
    )


def _enabled(config: pytest.Config) -> bool:
    flag = config.getoption("--arc-examples")
    return bool(flag) if flag is not None else bool(config.getini("arc_examples"))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".ariadne" and _enabled(parent.config):
        found: AriadneFile = AriadneFile.from_parent(parent, path=file_path)
        return found
    return None


class AriadneFile(pytest.File):
    """One ``.ariadne`` file; it is compiled and run once, by its first test."""

    _result: testing.FileResult | None = None

    def result(self) -> testing.FileResult:
        from ananke import testing

        if self._result is None:
            try:
                config = testing.load_config(Path.cwd())
            except testing.ConfigError as e:
                raise pytest.UsageError(e.args[0]) from None
            self._result = testing.run_file(self._relative(), config)
        return self._result

    def _relative(self) -> Path:
        try:
            return self.path.relative_to(Path.cwd())
        except ValueError:
            return self.path

    def collect(self) -> Iterator[pytest.Item]:
        from ananke import testing
        from ananke.ir import Diagnostics

        source, module = testing.load(self._relative(), Diagnostics())
        if module is None or source is None:
            yield CompileItem.from_parent(self, name="compile")
            return
        for cset in module.sets:
            for index, example in testing.examples_of(cset, source.name):
                yield ExampleItem.from_parent(
                    self,
                    name=testing.example_name(cset.name, index, example),
                    set_name=cset.name,
                    index=index,
                )
        if testing.golden_folder(self.path).is_dir():
            yield GoldenItem.from_parent(self, name="golden files")


class _Item(pytest.Item):
    parent: AriadneFile

    def file_result(self) -> testing.FileResult:
        """The file's run; the file's diagnostics as the failure when it does not compile."""
        from ananke.ir.render import render

        result = self.parent.result()
        if result.diagnostics.has_errors:
            raise ArcFailure(render(list(result.diagnostics), result.sources, "full", False))
        return result

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ArcFailure):
            return excinfo.value.args[0]  # type: ignore[no-any-return]
        return str(super().repr_failure(excinfo))


class ArcFailure(Exception):
    """A failed check, with the report ``arc test`` prints for it."""


class CompileItem(_Item):
    def runtest(self) -> None:
        self.file_result()


class ExampleItem(_Item):
    def __init__(self, *, set_name: str, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_name = set_name
        self.index = index

    def runtest(self) -> None:
        from ananke import testing
        from ananke.ir.render import render

        result = self.file_result()
        mine = [r for r in result.examples if (r.set_name, r.index) == (self.set_name, self.index)]
        failed = [r for r in mine if not r.passed]
        if failed:
            diags = [
                testing.failure_diagnostic(failed[0], result.sources, [r.engine for r in failed])
            ]
            raise ArcFailure(render(diags, result.sources, "full", False))


class GoldenItem(_Item):
    def runtest(self) -> None:
        result = self.file_result()
        bad = [g for g in result.goldens if not g.passed]
        if bad:
            lines = [f"{g.path}: {g.status}" for g in bad]
            lines += [g.diff for g in bad if g.diff]
            lines.append("run `arc test --update` to accept the change")
            raise ArcFailure("\n".join(lines))
