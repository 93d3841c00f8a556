"""The suite's Hypothesis profiles, registered by ``tests/conftest.py``.

- ``ci`` (loaded by default): random seeds, the example counts each test names, no
  deadline (wall time is never a test's verdict), and a failure prints the
  ``@reproduce_failure`` blob that replays it.
- ``nightly``: the same with :data:`NIGHTLY_FACTOR` times as many examples, run by hand:
  ``pytest --hypothesis-profile=nightly tests/differential tests/frontends``.

A test names its example count through :func:`examples`, so that a profile scales it.
Failures found are kept in ``.hypothesis/examples`` at the repository root, replayed first
by the next run on the same machine; a failure worth keeping for every run (CI starts from
a fresh clone) becomes an ``@example`` on the test, next to the fix.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

__all__ = ["CI", "NIGHTLY", "NIGHTLY_FACTOR", "examples", "register"]

CI = "ci"
NIGHTLY = "nightly"
NIGHTLY_FACTOR = 20
_BASE = 100  # the ci profile's max_examples: a test naming no count gets this many

_DATABASE = Path(__file__).resolve().parents[1] / ".hypothesis" / "examples"


def register() -> None:
    """Register both profiles and load ``ci`` (``--hypothesis-profile`` loads another)."""
    common = {
        "deadline": None,
        "derandomize": False,
        "print_blob": True,
        "database": DirectoryBasedExampleDatabase(_DATABASE),
    }
    settings.register_profile(CI, max_examples=_BASE, **common)
    settings.register_profile(NIGHTLY, max_examples=_BASE * NIGHTLY_FACTOR, **common)
    settings.load_profile(CI)


def examples(n: int) -> int:
    """``n`` examples under the ci profile, scaled to the one loaded (nightly: x20)."""
    return max(1, n * settings.default.max_examples // _BASE)
