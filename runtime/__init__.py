"""The generation runtime (Maze): what runs while a model generates, and right after.

A generator per inference service (:mod:`ananke.runtime.generators`), the prompt
(:mod:`~ananke.runtime.prompt`), verification of every output
(:mod:`~ananke.runtime.verify`), the repair loop and batches (:mod:`~ananke.runtime.maze`),
the grammar cache (:mod:`~ananke.runtime.cache`) and small models made offline
(:mod:`~ananke.runtime.models`). Checking grammars offline (the engines, acceptance,
sampling) is :mod:`ananke.engines`.
"""
