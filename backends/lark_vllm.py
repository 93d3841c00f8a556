"""llguidance's Lark as vLLM's ``guidance`` structured-outputs backend reads it.

Spec: llguidance ``docs/syntax.md`` at 1.7 (vLLM 0.33 pins ``llguidance>=1.7,<1.8``);
output checked by loading it in llguidance 1.9.1. Takes the reference (lexeme) grammar,
no lowerings. The printer is the llguidance one: output starts with a ``start:`` rule
(comments may precede it), which is how both vLLM and llguidance recognise Lark.

What llguidance 1.8 added (its changelog): ``\\xHH`` escapes in Lark string literals,
single-match skip lexemes, ``max_tokens=0`` as the empty string, and Unicode escapes in
JSON strings and keys (JSON output, not grammar syntax). The llguidance printer writes
string escapes as ``\\uXXXX`` (JSON style, read since long before 1.7) and prints no lexeme
options, so none of these can reach the output; the tests check the first on every
printed literal. No 1.9 grammar feature is used either (the printer writes only what
``docs/syntax.md`` at 1.8 documents).

Known deviations: none against llguidance.

vLLM's ``auto`` and ``xgrammar`` structured outputs backends do *not* read this grammar
as llguidance does (vLLM converts Lark to XGrammar's EBNF, which has no ``~``, ``&`` or
``%json`` and lexes per character), so the server must run with
``--structured-outputs-config.backend guidance``.
"""

from __future__ import annotations

from typing import ClassVar

from .llguidance import LLGuidanceBackend

__all__ = ["LarkVLLMBackend"]


class LarkVLLMBackend(LLGuidanceBackend):
    name: ClassVar[str] = "lark-vllm"
    readers: ClassVar[tuple[str, ...]] = ("llguidance-lark",)
