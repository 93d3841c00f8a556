"""Ananke: compile code constraints into grammars that inference engines enforce."""

__version__ = "0.1.0"

__all__ = ["__version__"]

# Fills the registry of languages the lower pass asks (names and factories only: cheap).
import ananke.languages  # noqa: F401
