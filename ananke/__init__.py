"""Ananke: compile code constraints into grammars that inference engines enforce."""

__version__ = "0.1.0"

__all__ = ["__version__"]
