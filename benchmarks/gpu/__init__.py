"""Benchmarks that need a GPU (not part of ``python -m benchmarks.run``)."""
