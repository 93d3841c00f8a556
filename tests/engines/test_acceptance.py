"""ByteMatcher: each verdict is the one a freshly loaded matcher gives, whatever was
checked before."""

from __future__ import annotations

import llguidance
from ananke.engines.acceptance import ByteMatcher

# Lexing the long string needs more lexer states than the limit allows; the short one
# needs few.
GRAMMAR = "start: W\nW: /(a|b)*a(a|b){12}/\n"
LIMITS = llguidance.LLParserLimits(max_lexer_states=50)
SHORT = "bbba" + "b" * 12
LONG = "ab" * 30 + "a" + "b" * 12


def test_a_string_that_uses_up_a_shared_lexer_limit_leaves_later_verdicts_alone() -> None:
    """The copies of a loaded matcher share its lexer, whose state limit counts over all of
    them: a string that reached it made every later string fail too."""
    alone = ByteMatcher(GRAMMAR, limits=LIMITS).check(LONG)
    assert not alone and "too many states" in alone.error

    m = ByteMatcher(GRAMMAR, limits=LIMITS)
    assert m.check(SHORT)
    after = m.check(LONG)
    assert (after.accepted, after.offset, after.error) == (False, alone.offset, alone.error)
    assert m.check(SHORT)
    assert m.check("a" + "b" * 12)
