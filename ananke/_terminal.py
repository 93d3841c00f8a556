"""How ``arc`` shows a report: its diagnostics on stderr, once, in the output format asked
for, then the exit code they decide. The report itself is :class:`ananke.driver.Report`."""

from __future__ import annotations

import os
import sys
from typing import IO, NoReturn

from ananke.driver import Report

__all__ = ["TerminalReport", "use_color"]


def use_color(stream: IO[str]) -> bool:
    """Colour only on a terminal and only when ``NO_COLOR`` is unset or empty."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


class TerminalReport(Report):
    """A :class:`~ananke.driver.Report` printed to stderr once, in the ``--output-format``
    asked for, deciding the exit code."""

    def __init__(self, fmt: str) -> None:
        super().__init__()
        self.fmt = fmt

    def flush(self) -> None:
        from ananke.ir.render import render

        if not self.diags and self.fmt != "json":
            return
        self.attach_label_sources()
        stream = sys.stderr
        # The same problem met twice (a file checked, and imported by another) shows once.
        unique = list(dict.fromkeys(self.diags))
        text = render(unique, self.sources, self.fmt, use_color(stream))  # type: ignore[arg-type]
        stream.write(text)
        stream.flush()

    def exit(self) -> NoReturn:
        """Print the diagnostics and exit with the code they decide."""
        self.flush()
        raise SystemExit(self.exit_code)
