"""Grammar backends: one module (or folder, with the lowerings only it needs) per target
dialect, found by name."""

from __future__ import annotations

import functools
import importlib

from .base import Backend, UnsupportedFeature

__all__ = ["Backend", "UnsupportedFeature", "get_backend", "target_names"]

_REGISTRY: dict[str, tuple[str, str]] = {
    "llguidance": ("ananke.backends.llguidance", "LLGuidanceBackend"),
    "lark-vllm": ("ananke.backends.lark_vllm", "LarkVLLMBackend"),
    "xgrammar": ("ananke.backends.xgrammar", "XGrammarBackend"),
    "gbnf": ("ananke.backends.gbnf", "GBNFBackend"),
    "lark": ("ananke.backends.lark", "LarkBackend"),
    "regex": ("ananke.backends.regex", "RegexBackend"),
    "json-schema": ("ananke.backends.json_schema", "JsonSchemaBackend"),
    "vllm": ("ananke.backends.requests", "VLLMRequest"),
    "sglang": ("ananke.backends.requests", "SGLangRequest"),
    "llamacpp": ("ananke.backends.requests", "LlamaCppRequest"),
    "openai": ("ananke.backends.requests", "OpenAIToolRequest"),
}
"""Target name -> (module, class); modules are imported on first use."""


def target_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


@functools.cache
def get_backend(name: str) -> Backend:
    """The backend for ``name`` (one shared, stateless instance); ``KeyError`` when there is
    none."""
    module_name, class_name = _REGISTRY[name]
    cls: type[Backend] = getattr(importlib.import_module(module_name), class_name)
    return cls()
