"""Lowerings from the GrammarIR to the shapes each target can print."""
