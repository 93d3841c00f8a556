"""Exact string-language membership for llguidance grammars, with no model.

A byte-level tokenizer (one token per byte plus an end-of-sequence token) makes the
matcher's token language equal to the grammar's byte language, so consuming a string's
bytes and asking ``is_accepting()`` decides membership exactly. This is how Ananke's tests
measure what an emitted grammar accepts.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["ByteMatcher", "Verdict", "byte_tokenizer"]

_EOS = 256


class _ByteLevel:
    """The minimal tokenizer object ``llguidance.TokenizerWrapper`` wraps."""

    eos_token_id = _EOS
    bos_token_id = None
    special_token_ids = (_EOS,)

    def __init__(self) -> None:
        self.tokens: list[bytes] = [bytes([i]) for i in range(256)] + [b"<|eos|>"]

    def __call__(self, text: bytes | str) -> list[int]:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return list(data)


@functools.cache
def byte_tokenizer() -> Any:
    """An ``llguidance.LLTokenizer`` with 256 byte tokens and one EOS token (cached)."""
    import llguidance

    return llguidance.LLTokenizer(llguidance.TokenizerWrapper(_ByteLevel()))


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0] if text else ""


_SHARED_LIMITS = ("too many expressions constructed", "too many states")
"""llguidance's errors for lexer limits counted over every copy of a loaded matcher (the
copies share one lexer), unlike its fuel, which each step resets."""


def _shared_limit(error: str) -> bool:
    return any(limit in error for limit in _SHARED_LIMITS)


class Verdict:
    """The outcome of matching one string: accepted, or where and why it was rejected."""

    __slots__ = ("accepted", "error", "offset")

    def __init__(self, accepted: bool, offset: int, error: str) -> None:
        self.accepted = accepted
        self.offset = offset
        """Byte offset of the first byte the grammar could not take (len(data) if all were)."""
        self.error = error

    def __bool__(self) -> bool:
        return self.accepted

    def __repr__(self) -> str:
        if self.accepted:
            return "Verdict(accepted)"
        return f"Verdict(rejected at byte {self.offset}: {self.error})"


class ByteMatcher:
    """Decides whether strings belong to the language of one llguidance grammar.

    ``limits`` are llguidance's ``LLParserLimits``; the default (None) is llguidance's own
    defaults, which is what vLLM and SGLang use. The grammar is checked with llguidance's
    validator first (unless ``validate`` is false: for variants of a grammar that has
    passed it), so every grammar matched through this class has passed it.
    """

    def __init__(self, grammar: str, *, limits: Any = None, validate: bool = True) -> None:
        import llguidance

        self.grammar = grammar
        self._limits = limits
        self._tok = byte_tokenizer()
        # llguidance's own validator first: it reports problems a matcher tolerates.
        problem = validate and llguidance.LLMatcher.validate_grammar(grammar, self._tok)
        if problem:
            raise ValueError(f"grammar is not valid: {problem}")
        self._initial = self._load()
        if self._initial.is_error():
            raise ValueError(f"grammar does not load: {self._initial.get_error()}")

    def _load(self) -> Any:
        import llguidance

        return llguidance.LLMatcher(self._tok, self.grammar, log_level=0, limits=self._limits)

    def check(self, text: str | bytes) -> Verdict:
        data = text.encode("utf-8") if isinstance(text, str) else text
        verdict = self._check(data)
        if not verdict.accepted and _shared_limit(verdict.error):
            # The copies share the loaded matcher's lexer, and these limits count over all
            # of them: once one string has used one up, every later string would fail
            # too. A freshly loaded matcher decides this string alone, and the next ones.
            self._initial = self._load()
            verdict = self._check(data)
            if not verdict.accepted and _shared_limit(verdict.error):
                self._initial = self._load()
        return verdict

    def _check(self, data: bytes) -> Verdict:
        # A copy of the loaded matcher: as fresh as a new one, and thousands of times
        # cheaper to make (building one from the grammar takes milliseconds).
        m = self._initial.deep_copy()
        for i, b in enumerate(data):
            # Compute the mask before every byte, as an inference engine does before every
            # token: llguidance resets its per-step lexer budget there, so skipping it would
            # measure a different (stricter) budget than users run with.
            m.compute_bitmask()
            if not m.consume_token(b):
                return Verdict(False, i, _first_line(m.get_error()) or "byte not allowed")
        if m.is_error():
            return Verdict(False, len(data), _first_line(m.get_error()))
        if not m.is_accepting():
            return Verdict(False, len(data), "input ended before the grammar was complete")
        return Verdict(True, len(data), "")

    def accepts(self, text: str | bytes) -> bool:
        return self.check(text).accepted
