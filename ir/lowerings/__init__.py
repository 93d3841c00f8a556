"""GrammarIR → GrammarIR lowerings that several targets share.

Each lowering is a frozen :class:`GrammarPass` (a ``name`` and ``run(grammar, diags)``) that
a backend lists, in order, in ``Backend.passes``; the driver runs them before the printer.

* :mod:`.charlevel`: ``char-level``, every lexeme written out as rules over characters, for
  targets without a lexer.
* :mod:`.boundaries`: ``greedy-boundaries``, llguidance's greedy lexing written into a
  grammar someone wrote (:mod:`.greedy`), and the lexeme boundaries where a
  character-level target may still accept more; both read :mod:`.terminals`.
* :mod:`.repeats`: ``small-repeats``, large bounds split into repeats of repeats.
* :mod:`.recursion`: rewrites of recursion and empty loops the target-only lowerings use.

A lowering only one target needs lives beside its printer: ``llamacpp-shape`` in
``ananke.backends.gbnf``, ``lark-shape`` in ``ananke.backends.lark``, ``regular`` in
``ananke.backends.regex``.
"""

from __future__ import annotations

from .base import CannotLower, GrammarPass

__all__ = ["CannotLower", "GrammarPass"]
