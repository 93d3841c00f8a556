"""Source text and spans.

A :class:`Span` is a half-open range of character offsets into one source file, with the
1-based line and column of both ends precomputed so that a span stays meaningful when it
travels inside a ``.cir`` file without its source.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import msgspec

__all__ = ["SourceFile", "Span"]


class Span(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, gc=False):
    """A range ``[start, end)`` of character offsets in ``file``; lines and columns are 1-based."""

    file: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def start_of(cls, file: str) -> Span:
        """The empty span at the start of ``file`` (for a diagnostic about the whole file)."""
        return cls(file=file, start=0, end=0, line=1, column=1, end_line=1, end_column=1)

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span offsets {self.start}..{self.end}")
        if self.line < 1 or self.column < 1 or self.end_line < self.line:
            raise ValueError("span lines and columns are 1-based and ordered")


@dataclass(eq=False)
class SourceFile:
    """A decoded source file with a line index for offset → line/column conversion."""

    name: str
    text: str
    _line_starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self._line_starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def span(self, start: int, end: int | None = None) -> Span:
        """The span of ``[start, end)``; ``end`` defaults to ``start`` (an empty span)."""
        end = start if end is None else end
        start = max(0, min(start, len(self.text)))
        end = max(start, min(end, len(self.text)))
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(
            file=self.name,
            start=start,
            end=end,
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
        )

    def offset(self, line: int, column: int) -> int | None:
        """The character offset of 1-based ``line`` and ``column`` (the column clamped to
        the line's end); None for a line the text does not have."""
        if line < 1 or line > len(self._line_starts):
            return None
        return self._line_starts[line - 1] + min(column - 1, len(self.line_text(line)))

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its newline."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return self.text[start:end]

    @property
    def line_count(self) -> int:
        return len(self._line_starts)
