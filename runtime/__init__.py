"""The generation runtime: what runs while a model generates, and right after.

The runtime that drives generation under a grammar will live here. Checking grammars
offline (the engines, acceptance, sampling) is :mod:`ananke.engines`.
"""
