"""One generator per inference service (``arc generate --backend NAME``).

Each module speaks one service's wire format and nothing else; they are imported on first
use, so that a command that talks to vLLM never imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["NAMES", "create"]

_REGISTRY: dict[str, tuple[str, str]] = {
    "vllm": ("vllm", "VLLMGenerator"),
    "vllm-inprocess": ("vllm_inprocess", "VLLMInProcessGenerator"),
    "sglang": ("sglang", "SGLangGenerator"),
    "llamacpp": ("llamacpp", "LlamaCppGenerator"),
    "openai": ("openai", "OpenAIGenerator"),
    "local": ("local", "LocalGenerator"),
}

NAMES: tuple[str, ...] = tuple(_REGISTRY)
"""The ``--backend`` names."""


def generator_class(name: str) -> Any:
    """The class of the generator ``name`` (``KeyError`` for an unknown name)."""
    module_name, class_name = _REGISTRY[name]
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, class_name)


def create(name: str, **options: Any) -> Any:
    """A generator ``name`` made with ``options`` (its class's keyword arguments)."""
    return generator_class(name)(**options)
