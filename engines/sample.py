"""Random members of an llguidance grammar's language, and near misses, for differential tests.

:func:`sample_strings` walks the grammar's masks with the byte-level tokenizer of
:mod:`ananke.engines.acceptance`: before every byte it asks llguidance which bytes (and
whether the end of the string) are allowed, and picks one at random. Each sample is
therefore a member of the language as llguidance decides it. :func:`mutate` edits a string
a little, to get candidates that are mostly not members.
"""

from __future__ import annotations

import random
from typing import Any

__all__ = ["mutate", "sample_strings"]

_EOS = 256
_HARD_CAP_FACTOR = 4
"""A walk still unfinished at ``max_len * _HARD_CAP_FACTOR`` bytes is abandoned."""


def _allowed(mask: bytes) -> tuple[list[int], bool]:
    """The byte tokens a bitmask allows, and whether it allows EOS."""
    allowed = [b for b in range(256) if mask[b >> 3] >> (b & 7) & 1]
    return allowed, bool(mask[_EOS >> 3] >> (_EOS & 7) & 1)


def _walk(llg: Any, tok: Any, grammar: str, rng: random.Random, max_len: int) -> str | None:
    m = llg.LLMatcher(tok, grammar, log_level=0)
    out = bytearray()
    cap = max(max_len, 1) * _HARD_CAP_FACTOR
    openers: set[int] | None = None
    while len(out) <= cap:
        if m.is_error():
            return None
        allowed, eos = _allowed(m.compute_bitmask())
        if openers is None:
            openers = set(allowed)
        if eos and (
            not allowed or len(out) >= max_len or rng.random() < _stop_chance(out, max_len)
        ):
            if not m.is_accepting():
                return None
            try:
                return out.decode("utf-8")
            except UnicodeDecodeError:
                return None
        if not allowed:
            return None
        if len(out) >= max_len:
            allowed = _toward_the_end(m, allowed, openers, rng)
        ascii_ = [b for b in allowed if b < 0x80]
        # Prefer ASCII 3 times in 4: most of the byte space is lead bytes of long characters.
        pool = ascii_ if ascii_ and rng.random() < 0.75 else allowed
        b = rng.choice(pool)
        if not m.consume_token(b):
            return None
        out.append(b)
    return None


def _toward_the_end(m: Any, allowed: list[int], openers: set[int], rng: random.Random) -> list[int]:
    """Past max_len: the bytes most likely to bring the walk to an end.

    First the bytes after which the string may end (probing at most
    :data:`_MAX_PROBES` of them, in random order: each probe computes a mask); else the
    bytes that cannot start a string (closing brackets, separators), which tend to end
    constructs rather than open new ones; else every allowed byte.
    """
    tried = rng.sample(allowed, min(len(allowed), _MAX_PROBES))
    ending = []
    for b in tried:
        probe = m.deep_copy()
        if probe.consume_token(b) and _allowed(probe.compute_bitmask())[1]:
            ending.append(b)
            break
    if ending:
        return ending
    closers = [b for b in allowed if b not in openers]
    return closers or allowed


_MAX_PROBES = 8


def _stop_chance(out: bytearray, max_len: int) -> float:
    return 0.1 + 0.9 * min(1.0, len(out) / max(max_len, 1))


def sample_strings(grammar_text: str, n: int, *, seed: int, max_len: int = 200) -> list[str]:
    """Up to ``n`` distinct members of the language of llguidance grammar ``grammar_text``.

    ``grammar_text`` is anything ``llguidance.LLMatcher`` reads (Lark text, or the output of
    ``llguidance.grammar_from``). The same seed gives the same list. Strings are mostly at
    most ``max_len`` bytes long: past it, a walk ends as soon as the grammar allows, and
    prefers bytes after which it may end, else bytes that cannot start a string (closing
    brackets and quotes); a walk still going at ``4 * max_len`` bytes is dropped. Fewer
    than ``n`` strings come back when the language is smaller or walks keep failing (after
    ``20 * n + 20`` tries). Raises ``ValueError`` if llguidance refuses the grammar.
    """
    import llguidance
    from ananke.engines.acceptance import byte_tokenizer

    tok = byte_tokenizer()
    problem = llguidance.LLMatcher.validate_grammar(grammar_text, tok)
    if problem:
        raise ValueError(f"grammar is not valid: {problem}")
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    for _ in range(20 * n + 20):
        if len(seen) >= n:
            break
        s = _walk(llguidance, tok, grammar_text, rng, max_len)
        if s is not None:
            seen.setdefault(s, None)
    return list(seen)


_PALETTE = ("a", "z", "0", "9", " ", "\n", "\t", ",", "(", ")", "[", "]", '"', "\x00", "é", "😀")


def mutate(s: str, rng: random.Random) -> str:
    """``s`` with one small random edit (deterministic given ``rng``'s state).

    Edits: delete, insert, replace or duplicate one character; delete or duplicate a slice;
    swap two neighbours. Inserted characters come from ``s`` itself and a fixed palette that
    includes a NUL, a non-ASCII and an astral character. The result may equal ``s`` (e.g.
    swapping equal neighbours).
    """
    chars = list(s)
    pool = sorted(set(chars)) + list(_PALETTE)
    ops = ["insert"] if not chars else ["delete", "insert", "replace", "dup", "cut", "copy", "swap"]
    op = rng.choice(ops)
    i = rng.randrange(len(chars) + (1 if op == "insert" else 0))
    if op == "insert":
        chars.insert(i, rng.choice(pool))
    elif op == "delete":
        del chars[i]
    elif op == "replace":
        chars[i] = rng.choice(pool)
    elif op == "dup":
        chars.insert(i, chars[i])
    elif op in ("cut", "copy"):
        j = rng.randrange(i, len(chars)) + 1
        if op == "cut":
            del chars[i:j]
        else:
            chars[j:j] = chars[i:j]
    elif op == "swap" and i + 1 < len(chars):
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)
