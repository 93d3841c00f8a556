"""What the lower pass and ``detect-conflicts`` ask of a code language, and the registry
that answers them.

A language is registered by name with a factory (``ananke.languages`` registers the ones
Ananke ships when ``ananke`` is imported); the factory runs on the first :func:`get`, so
registering imports nothing of the language. ``json`` is no code language: its output is a
document lowered from its schema by the lower pass itself (:data:`DOCUMENT_LANGUAGES`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ananke.ir.constraint import ConstraintSet, NamingStyle, Param
    from ananke.ir.diagnostics import Diagnostics
    from ananke.ir.plan import Lowered

__all__ = [
    "DOCUMENT_LANGUAGES",
    "Language",
    "UnknownLanguage",
    "get",
    "names",
    "register",
    "supported",
    "unregister",
]

DOCUMENT_LANGUAGES: tuple[str, ...] = ("json",)
"""Languages whose output is a document the lower pass builds from its schema."""


class Language(Protocol):
    """A language whose output is code: the grammar of that code, its names and how each
    constraint of a set is enforced in it."""

    @property
    def name(self) -> str:
        """The name ``language:`` gives it."""
        ...

    @property
    def output(self) -> str:
        """What one output is, after "the shortest" or "no" in a message
        (``Python function definition``)."""
        ...

    @property
    def pattern_help(self) -> str:
        """The help of a pattern that no output of the language alone matches."""
        ...

    @property
    def identifier(self) -> str:
        """A regex (:mod:`ananke.ir.regex` syntax) of every name of the language."""
        ...

    @property
    def naming_styles(self) -> Mapping[NamingStyle, str]:
        """Each ``naming: style`` as a regex a whole name must match."""
        ...

    def pinned_words(
        self, params: Sequence[Param] | None, is_async: bool | None
    ) -> list[tuple[str, str]]:
        """The words every definition with these parameters spells, each with where (for a
        message): a forbidden one among them admits no output."""
        ...

    def lower_set(
        self,
        cset: ConstraintSet,
        diags: Diagnostics,
        *,
        target: str,
        demote: Mapping[str, str],
        max_nesting: int | None,
    ) -> Lowered:
        """``cset`` as a grammar with an enforcement plan; see
        :class:`ananke.ir.lower.LowerToGrammar` for the arguments."""
        ...


class UnknownLanguage(KeyError):
    """No language of that name is registered."""


_factories: dict[str, Callable[[], Language]] = {}
_made: dict[str, Language] = {}


def register(name: str, factory: Callable[[], Language]) -> None:
    """Make ``factory()`` the language named ``name`` (a later registration replaces it)."""
    _factories[name] = factory
    _made.pop(name, None)


def unregister(name: str) -> None:
    """Forget the language named ``name`` (nothing if none is registered)."""
    _factories.pop(name, None)
    _made.pop(name, None)


def get(name: str) -> Language:
    """The language registered as ``name``, made on first use."""
    if name not in _made:
        if name not in _factories:
            raise UnknownLanguage(name)
        _made[name] = _factories[name]()
    return _made[name]


def names() -> tuple[str, ...]:
    """The registered code languages, in the order they were registered."""
    return tuple(_factories)


def supported() -> tuple[str, ...]:
    """Every value ``language:`` accepts: the code languages, then the documents."""
    return (*names(), *DOCUMENT_LANGUAGES)
