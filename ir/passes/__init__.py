"""Placeholder facade; filled in by its stage."""
