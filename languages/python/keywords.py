"""Python's keywords, as the grammar and the validator read them (Python 3.11 to 3.13).

Written out rather than taken from the running interpreter's :mod:`keyword`, so that the
grammar of a constraint set does not depend on the Python that lowers it.
"""

from __future__ import annotations

__all__ = ["BLOCK_KEYWORDS", "KEYWORDS", "KEYWORDS_BEFORE_STRINGS", "SOFT_KEYWORDS"]

KEYWORDS = frozenset(
    {
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from",
        "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass",
        "raise", "return", "try", "while", "with", "yield",
    }
)  # fmt: skip
"""The hard keywords: never a name, never an attribute (``x.if`` is a syntax error).
Python does not normalize them: ``ｉｆ`` is the identifier ``if`` after NFKC, never the
keyword."""

SOFT_KEYWORDS = frozenset({"_", "case", "match", "type"})
"""Names that are keywords in some places only: ``match`` and ``case`` open blocks, ``_``
is the wildcard pattern, ``type`` starts a type alias statement (Python 3.12)."""

BLOCK_KEYWORDS = (
    "if", "elif", "else", "for", "while", "with", "def", "class", "try", "except",
    "finally", "match", "case",
)  # fmt: skip
"""The words a line that opens a block starts with (after an optional ``async``)."""

KEYWORDS_BEFORE_STRINGS = ("if", "else", "in", "not", "and", "or", "is", "await", "yield", "from")
"""The keywords an expression may hold directly before a string (``x if'a'else'b'``)."""
