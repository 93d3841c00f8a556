"""Ananke: compile code constraints into grammars that inference engines enforce.

The Python API (spec/api.md)::

    import ananke

    module = ananke.load("examples/api_handler.ariadne")
    grammar = ananke.emit(module, "llguidance")

Its names are imported on first use, so that ``import ananke`` (and ``arc --version``)
stays fast.
"""

from ananke._version import __version__

# A constant of this name is what type checkers read as `typing.TYPE_CHECKING`; the facade
# itself imports nothing but the registry of languages at the end.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from ananke.api import check, compile, emit, explain, load, lower, validate
    from ananke.ir import Diagnostic, DiagnosticError, Diagnostics, Lowered, Module
    from ananke.languages.validate import Violation
    from ananke.library import Ananke

__all__ = [
    "Ananke",
    "Diagnostic",
    "DiagnosticError",
    "Diagnostics",
    "Lowered",
    "Module",
    "Violation",
    "__version__",
    "check",
    "compile",
    "emit",
    "explain",
    "load",
    "lower",
    "validate",
]

_API = frozenset({"check", "compile", "emit", "explain", "load", "lower", "validate"})
_TYPES = frozenset({"Diagnostic", "DiagnosticError", "Diagnostics", "Lowered", "Module"})


def __getattr__(name: str) -> object:
    # PEP 562: the compiler is imported by the first use of a name, not by `import ananke`.
    if name in _API:
        from ananke import api

        return getattr(api, name)
    if name in _TYPES:
        from ananke import ir

        return getattr(ir, name)
    if name == "Ananke":
        from ananke.library import Ananke

        return Ananke
    if name == "Violation":
        from ananke.languages.validate import Violation

        return Violation
    raise AttributeError(f"module 'ananke' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


# Fills the registry of languages the lower pass asks (names and factories only: cheap).
import ananke.languages  # noqa: E402, F401
