"""One generator per inference service (``arc generate --backend NAME``).

Each module speaks one service's wire format and nothing else; they are imported on first
use, so that a command that talks to vLLM never imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["NAMES", "create", "generator_class", "target"]

_REGISTRY: dict[str, tuple[str, str, str]] = {
    "vllm": ("vllm", "VLLMGenerator", "vllm"),
    "vllm-inprocess": ("vllm_inprocess", "VLLMInProcessGenerator", "vllm"),
    "sglang": ("sglang", "SGLangGenerator", "sglang"),
    "llamacpp": ("llamacpp", "LlamaCppGenerator", "llamacpp"),
    "openai": ("openai", "OpenAIGenerator", "openai"),
    "local": ("local", "LocalGenerator", "llguidance"),
}
"""``--backend`` name → module, class, and the ``arc emit`` target whose output it sends
(the class's ``target``; a test keeps them equal)."""

NAMES: tuple[str, ...] = tuple(_REGISTRY)
"""The ``--backend`` names."""


def target(name: str) -> str:
    """The ``arc emit`` target whose output the generator ``name`` sends (known without
    importing it)."""
    return _REGISTRY[name][2]


def generator_class(name: str) -> Any:
    """The class of the generator ``name`` (``KeyError`` for an unknown name)."""
    module_name, class_name, _ = _REGISTRY[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, class_name)


def create(name: str, **options: Any) -> Any:
    """A generator ``name`` made with ``options`` (its class's keyword arguments)."""
    return generator_class(name)(**options)
