"""What every GrammarIR lowering is (:class:`GrammarPass`) and what it raises when its
target cannot express a rule (:class:`CannotLower`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ananke.ir.diagnostics import Diagnostics
    from ananke.ir.grammar import Grammar

__all__ = ["CannotLower", "GrammarPass"]


@runtime_checkable
class GrammarPass(Protocol):
    """A GrammarIR → GrammarIR lowering: a frozen object with a ``name`` (as the docs and
    ``arc explain`` name it) that a backend lists in ``Backend.passes``."""

    @property
    def name(self) -> str: ...

    def run(self, grammar: Grammar, diags: Diagnostics) -> Grammar | None:
        """``grammar`` rewritten into the same language; None when an error went to
        ``diags``. Raises :class:`CannotLower` for a rule the target cannot express."""
        ...


class CannotLower(Exception):
    """A rule the target cannot express; ``origins`` are the constraints behind it (empty
    when the rule belongs to the output's language itself), so that the caller can demote
    them to checks after generation. ``also`` names other rules the refusal is about (the
    rest of a cycle), where the caller may place it when ``rule`` is one a lowering made."""

    def __init__(
        self,
        code: str,
        message: str,
        rule: str,
        origins: tuple[str, ...],
        *,
        also: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule
        self.origins = origins
        self.also = also
