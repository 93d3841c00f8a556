"""The seed example (`examples/api_handler.ariadne`) and functions written against it, for
the tests of generation and validation: one that keeps every constraint, one that breaks a
post-level constraint (`validates: input_schema`), one that breaks a token-level one
(`forbid: eval`). Written by hand, and each checked by Python's parser in
tests/test_seed_example.py."""

from __future__ import annotations

from pathlib import Path

__all__ = ["FORBIDDEN", "GOOD", "HANDLER", "UNVALIDATED"]

HANDLER = Path(__file__).resolve().parents[1] / "examples" / "api_handler.ariadne"
GOOD = (
    "def handler(request) -> Result[Response, Error]:\n"
    "    data = input_schema(request)\n"
    "    return data\n"
)
UNVALIDATED = "def handler(request) -> Result[Response, Error]:\n    return request\n"
FORBIDDEN = GOOD.replace("return data", "return eval(data)")
