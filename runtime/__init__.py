"""The generation runtime: what runs while a model generates, and right after.

The runtime that drives generation under a grammar (Maze) will live here; today it holds
the checks run on a finished text. Checking grammars offline (the engines, acceptance,
sampling) is :mod:`ananke.engines`.
"""
