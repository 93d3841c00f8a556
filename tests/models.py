"""Small models for the tests, made once per machine and kept in pytest's cache."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.suite_helpers import require_module

__all__ = ["MODEL_ARGS", "cached_model", "training_texts"]

ROOT = Path(__file__).resolve().parents[1]
MODEL_ARGS: dict[str, int] = {"vocab_size": 4096, "hidden": 128, "layers": 2, "seed": 0}
"""The tiny model's arguments (``make_model``'s)."""


def training_texts() -> list[str]:
    """What ``examples/pure-local/make_model.py`` trains its model on."""
    import importlib.util

    path = ROOT / "examples" / "pure-local" / "make_model.py"
    spec = importlib.util.spec_from_file_location("pure_local_make_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    texts: list[str] = module.training_texts()
    return texts


def cached_model(cache: pytest.Cache, *, trained: bool = False, **args: int) -> Path:
    """``make_model(**args)``, made once and kept in pytest's cache, keyed by ``args``;
    ``trained``: on :func:`training_texts` (keyed by them too)."""
    require_module("transformers")
    from ananke.runtime.models import make_model

    texts = training_texts() if trained else []
    keyed = json.dumps([args, texts], sort_keys=True)
    key = hashlib.sha256(keyed.encode()).hexdigest()[:16]
    folder = Path(cache.mkdir(f"ananke-model-{key}"))
    done = folder / "model"
    if not (done / "config.json").is_file():
        # Made beside and renamed, so that an interrupted run leaves no half model.
        partial = Path(tempfile.mkdtemp(dir=folder))
        make_model(partial / "model", train=texts, steps=150, **args)
        shutil.rmtree(done, ignore_errors=True)
        (partial / "model").rename(done)
        shutil.rmtree(partial)
    return done
