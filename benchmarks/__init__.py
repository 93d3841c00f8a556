"""Ananke's benchmarks, run as ``python -m benchmarks.run [--quick]`` from the repository
root (see ``run``)."""
