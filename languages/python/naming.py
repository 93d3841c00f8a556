"""Naming styles as Python identifier patterns, shared by the grammar and the validator."""

from __future__ import annotations

from ananke.ir.constraint import NamingStyle

__all__ = ["NAMING_STYLES"]

NAMING_STYLES: dict[NamingStyle, str] = {
    "snake": r"_*[a-z][a-z0-9_]*",
    "camel": r"_*[a-z][a-zA-Z0-9]*",
    "pascal": r"_*[A-Z][a-zA-Z0-9]*",
    "screaming": r"_*[A-Z][A-Z0-9_]*",
}
"""Each style as a regex a whole name must match; leading underscores mark private names."""
