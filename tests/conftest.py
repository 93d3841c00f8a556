"""Fixtures shared across test folders: the 32k BPE vocabulary trained on the standard
library, the same vocabulary loaded into llama.cpp, and the tiny random model the ``local``
backend runs. Registers the Hypothesis profiles (``hypothesis_profiles``: ``ci`` by
default, ``nightly`` by hand)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests import hypothesis_profiles
from tests.models import MODEL_ARGS, cached_model
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
    return cached_model(request.config.cache, **MODEL_ARGS)


@pytest.fixture(scope="session")
def example_model(request: pytest.FixtureRequest) -> Path:
    """The model of examples/pure-local/: the tiny model trained on three intents."""
    require_module("torch")
    return cached_model(request.config.cache, trained=True, **MODEL_ARGS)
