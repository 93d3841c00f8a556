"""What a GrammarIR lowering raises when its target cannot express a rule."""

from __future__ import annotations

__all__ = ["CannotLower"]


class CannotLower(Exception):
    """A rule the target cannot express; ``origins`` are the constraints behind it (empty
    when the rule belongs to the output's language itself), so that the caller can demote
    them to checks after generation."""

    def __init__(self, code: str, message: str, rule: str, origins: tuple[str, ...]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule
        self.origins = origins
