"""Fixtures shared across test folders: the 32k BPE vocabulary trained on the standard
library, the same vocabulary loaded into llama.cpp, and the tiny random model the ``local``
backend runs. Registers the Hypothesis profiles (``hypothesis_profiles``: ``ci`` by
default, ``nightly`` by hand)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests import hypothesis_profiles
from tests.suite_helpers import missing, require_module

hypothesis_profiles.register()

if TYPE_CHECKING:
    from ananke.engines.llamacpp_sampler import LlamaVocab


@pytest.fixture(scope="session")
def bpe32k(request: pytest.FixtureRequest) -> Path:
    """The tokenizer.json of a 32k byte-level BPE, trained once and kept in pytest's cache."""
    require_module("tokenizers")
    from ananke.engines.bpe import train_bpe

    return train_bpe(32000, Path(request.config.cache.mkdir("ananke-bpe")))


@pytest.fixture(scope="session")
def llama32k(bpe32k: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaVocab]:
    """:func:`bpe32k` loaded into llama.cpp (when llama.cpp or gguf is missing: skipped,
    failed under CI)."""
    require_module("gguf")
    from ananke.engines.llamacpp_sampler import LlamaVocab, library_path, vocab_gguf
    from ananke.engines.membership import llamacpp_modules

    library = library_path(llamacpp_modules())
    if library is None:
        missing("llama.cpp (node-llama-cpp) is not installed")
    with LlamaVocab(library, vocab_gguf(bpe32k, tmp_path_factory.mktemp("gguf"))) as vocab:
        yield vocab


@pytest.fixture(scope="session")
def tiny_model(request: pytest.FixtureRequest) -> Path:
    """The default tiny random model, made once and kept in pytest's cache."""
    require_module("torch")
    require_module("transformers")
    from ananke.runtime.models import make_model

    args = {"vocab_size": 4096, "hidden": 128, "layers": 2, "seed": 0}
    key = "-".join(f"{k}{v}" for k, v in args.items())
    root = Path(request.config.cache.mkdir("ananke-models"))
    out = root / key
    if not (out / "config.json").is_file():
        # Made beside and renamed, so an interrupted run never leaves half a model.
        tmp = root / f".{key}.{os.getpid()}"
        make_model(tmp, **args)
        os.replace(tmp, out)
    return out
