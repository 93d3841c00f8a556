"""llama.cpp's grammar sampler over a real vocabulary, in process.

``llamacpp-gbnf`` in :mod:`ananke.engines.membership` asks llama.cpp whether a whole string
matches, code point by code point. A model meets the grammar differently: before each token
llama.cpp's grammar sampler sets the logit of every token the grammar does not allow to
minus infinity (``llama_sampler_apply``, its token mask), and after sampling it advances the
grammar by the token's bytes (``llama_sampler_accept``). This module drives that sampler
directly, to time llama.cpp's masks and to compare them with llguidance's, token by token.

The library is llama.cpp as node-llama-cpp ships it prebuilt (``libllama`` of the npm
package ``@node-llama-cpp/<platform>``, pinned in ``engines/llamacpp/package.json``), loaded
through ctypes; the structures declared here follow ``llama.h`` of that release, and a
mismatch is detected on load. The vocabulary comes from a ``tokenizer.json`` written into a
GGUF file that holds only the tokenizer (no weights: llama.cpp loads it with
``vocab_only``), so no model is needed. Writing it needs the ``gguf`` package
(``pip install ananke-arc[bench]``).

llama.cpp ends the process rather than report some misuses across its C interface (a C++
exception from ``accept`` when the grammar rejects the token, an abort when the end of
sequence is accepted before the grammar is complete), so :meth:`GrammarSampler.accept`
checks the token first and never passes the end-of-sequence token.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ananke.ir.files import replacing

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["GrammarSampler", "LlamaVocab", "library_path", "vocab_gguf"]

_GGUF_FORMAT = 1  # bump when the file's contents change, to invalidate cached files


class _ModelParams(ctypes.Structure):
    """``struct llama_model_params`` (llama.h)."""

    _fields_ = [
        ("devices", ctypes.c_void_p),
        ("tensor_buft_overrides", ctypes.c_void_p),
        ("n_gpu_layers", ctypes.c_int32),
        ("split_mode", ctypes.c_int),
        ("load_mode", ctypes.c_int),
        ("lazy_mode", ctypes.c_int),
        ("main_gpu", ctypes.c_int32),
        ("tensor_split", ctypes.c_void_p),
        ("progress_callback", ctypes.c_void_p),
        ("progress_callback_user_data", ctypes.c_void_p),
        ("kv_overrides", ctypes.c_void_p),
        ("vocab_only", ctypes.c_bool),
        ("check_tensors", ctypes.c_bool),
        ("use_extra_bufts", ctypes.c_bool),
        ("no_host", ctypes.c_bool),
        ("no_alloc", ctypes.c_bool),
        ("load_mtp", ctypes.c_bool),
    ]


class _TokenDataArray(ctypes.Structure):
    """``llama_token_data_array``: ``data`` points at ``size`` ``llama_token_data``
    records (``int32 id; float logit; float p``)."""

    _fields_ = [
        ("data", ctypes.c_void_p),
        ("size", ctypes.c_size_t),
        ("selected", ctypes.c_int64),
        ("sorted", ctypes.c_bool),
    ]


_LOG_ERROR = 4  # GGML_LOG_LEVEL_ERROR
_LogCallback = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


def library_path(modules: Path) -> Path | None:
    """``libllama`` inside the ``node_modules`` folder ``modules``, or None."""
    found = sorted(
        p
        for p in modules.glob("@node-llama-cpp/*/bins/*/libllama.*")
        if p.suffix in (".so", ".dylib")
    )
    return found[0] if found else None


class _Library:
    """libllama with the signatures this module calls, and llama.cpp's error log."""

    def __init__(self, path: Path) -> None:
        # libggml first and global, so that libllama finds its symbols.
        for ggml in sorted(path.parent.glob("libggml.*")):
            ctypes.CDLL(str(ggml), mode=ctypes.RTLD_GLOBAL)
        lib = ctypes.CDLL(str(path))
        p, i32, s = ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p
        sigs: dict[str, tuple[Any, list[Any]]] = {
            "llama_log_set": (None, [_LogCallback, p]),
            "llama_backend_init": (None, []),
            "llama_model_default_params": (_ModelParams, []),
            "llama_model_load_from_file": (p, [s, _ModelParams]),
            "llama_model_free": (None, [p]),
            "llama_model_get_vocab": (p, [p]),
            "llama_vocab_n_tokens": (i32, [p]),
            "llama_vocab_eos": (i32, [p]),
            "llama_token_to_piece": (i32, [p, i32, s, i32, i32, ctypes.c_bool]),
            "llama_sampler_init_grammar": (p, [p, s, s]),
            "llama_sampler_apply": (None, [p, ctypes.POINTER(_TokenDataArray)]),
            "llama_sampler_accept": (None, [p, i32]),
            "llama_sampler_clone": (p, [p]),
            "llama_sampler_free": (None, [p]),
        }
        for name, (restype, argtypes) in sigs.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
        self.lib = lib
        self.errors: list[str] = []
        self._log = _LogCallback(self._on_log)  # kept alive as long as the library
        lib.llama_log_set(self._log, None)
        lib.llama_backend_init()
        defaults = lib.llama_model_default_params()
        # llama.h's defaults: all layers offloaded, no vocabulary-only load, extra buffer
        # types on. Anything else means this structure does not match the library's.
        if (defaults.n_gpu_layers, defaults.vocab_only, defaults.use_extra_bufts) != (
            -1,
            False,
            True,
        ):
            raise OSError(f"{path.name} does not match the llama.h this module was written for")
        self.model_params = defaults

    def _on_log(self, level: int, text: bytes | None, _user: Any) -> None:
        if level == _LOG_ERROR and text:
            self.errors.append(text.decode("utf-8", "replace"))


_REFUSAL = re.compile(r"error parsing grammar: ([^\n]*)")
"""How llama.cpp's grammar parser gives its reason, on the process's standard error."""


@contextlib.contextmanager
def _stderr_captured() -> Iterator[io.StringIO]:
    """What is written to file descriptor 2 meanwhile (llama.cpp's parser prints its
    errors there with ``fprintf``), available once the block has ended."""
    out = io.StringIO()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.write(tmp.read().decode("utf-8", "replace"))


@functools.cache
def _library(path: Path) -> _Library:
    return _Library(path)


def vocab_gguf(tokenizer_json: Path, cache_dir: Path) -> Path:
    """A GGUF file holding only the byte-level BPE vocabulary of ``tokenizer_json``.

    Cached in ``cache_dir`` under the tokenizer file's name and written atomically. The
    architecture keys are those of a one-layer llama model (llama.cpp reads them even for
    a vocabulary-only load); ``tokenizer.ggml.model`` is ``gpt2`` (byte-level BPE, whose
    token strings are stored as they are in ``tokenizer.json``), and the added tokens are
    control tokens, the first of them the end of sequence.
    """
    out = cache_dir / f"{tokenizer_json.stem}.vocab-v{_GGUF_FORMAT}.gguf"
    if out.exists() and out.stat().st_mtime >= tokenizer_json.stat().st_mtime:
        return out

    import gguf

    spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    model = spec["model"]
    if model.get("type") != "BPE" or spec.get("pre_tokenizer") is None:
        raise ValueError(f"{tokenizer_json.name}: not a byte-level BPE tokenizer")
    tokens = [""] * len(model["vocab"])
    for piece, i in model["vocab"].items():
        tokens[i] = piece
    added = {int(a["id"]): a["content"] for a in spec.get("added_tokens", [])}
    if not added:
        raise ValueError(f"{tokenizer_json.name}: no end-of-sequence token")
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]

    cache_dir.mkdir(parents=True, exist_ok=True)
    with replacing(out) as tmp:
        w = gguf.GGUFWriter(str(tmp), "llama")
        w.add_context_length(4096)
        w.add_embedding_length(64)
        w.add_block_count(1)
        w.add_feed_forward_length(128)
        w.add_head_count(4)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_types(
            [
                gguf.TokenType.CONTROL if i in added else gguf.TokenType.NORMAL
                for i in range(len(tokens))
            ]
        )
        w.add_token_merges(merges)
        eos = min(added)
        w.add_eos_token_id(eos)
        w.add_bos_token_id(eos)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
    return out


class LlamaVocab:
    """A vocabulary loaded into llama.cpp from a vocabulary-only GGUF file."""

    def __init__(self, library: Path, gguf_file: Path) -> None:
        import numpy as np

        self._lib = _library(library)
        lib = self._lib.lib
        params = _ModelParams.from_buffer_copy(self._lib.model_params)
        params.vocab_only = True
        self._lib.errors.clear()
        self._model = lib.llama_model_load_from_file(str(gguf_file).encode(), params)
        if not self._model:
            said = "".join(self._lib.errors).strip()
            raise ValueError(f"llama.cpp could not load {gguf_file.name}: {said or 'no reason'}")
        self._vocab = lib.llama_model_get_vocab(self._model)
        self.n_tokens: int = lib.llama_vocab_n_tokens(self._vocab)
        self.eos: int = lib.llama_vocab_eos(self._vocab)
        dtype = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])
        self._fresh = np.zeros(self.n_tokens, dtype=dtype)
        self._fresh["id"] = np.arange(self.n_tokens, dtype=np.int32)

    def piece(self, token: int) -> bytes:
        """The bytes llama.cpp matches against the grammar for ``token``."""
        buf = ctypes.create_string_buffer(256)
        n = self._lib.lib.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self._lib.lib.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]

    def grammar(self, text: str, root: str = "root") -> GrammarSampler:
        """llama.cpp's grammar sampler for GBNF ``text``; ValueError with llama.cpp's
        reason when it refuses the grammar."""
        if not text.strip():
            # llama.cpp reads an empty grammar as no grammar at all: everything allowed.
            raise ValueError("llama.cpp refused the grammar: it is empty")
        with _stderr_captured() as said:
            handle = self._lib.lib.llama_sampler_init_grammar(
                self._vocab, text.encode("utf-8"), root.encode("utf-8")
            )
        if not handle:
            found = _REFUSAL.search(said.getvalue())
            reason = found.group(1).strip() if found else "no reason given"
            raise ValueError(f"llama.cpp refused the grammar: {reason}")
        return GrammarSampler(self, handle)

    def close(self) -> None:
        """Free the vocabulary; grammar samplers made from it must not be used after."""
        if self._model:
            self._lib.lib.llama_model_free(self._model)
            self._model = None

    def __enter__(self) -> LlamaVocab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GrammarSampler:
    """One grammar's state in llama.cpp: what the grammar allows next, token by token."""

    def __init__(self, vocab: LlamaVocab, handle: int) -> None:
        self._vocab = vocab
        self._lib = vocab._lib.lib
        self._handle: int | None = handle
        self._cand = vocab._fresh.copy()
        self._arr = _TokenDataArray(self._cand.ctypes.data, vocab.n_tokens, -1, False)
        self._one = vocab._fresh[:1].copy()
        self._one_arr = _TokenDataArray(self._one.ctypes.data, 1, -1, False)

    def mask(self) -> npt.NDArray[np.bool_]:
        """The tokens the grammar allows next (True), computed over the whole vocabulary
        as llama.cpp does when it applies the grammar to every candidate."""
        import numpy as np

        self._cand[:] = self._vocab._fresh
        self._arr.data, self._arr.size = self._cand.ctypes.data, self._vocab.n_tokens
        self._arr.selected, self._arr.sorted = -1, False
        self._lib.llama_sampler_apply(self._handle, ctypes.byref(self._arr))
        # The sampler only lowers logits to minus infinity; it neither reorders nor
        # shrinks the candidates it is given.
        return np.asarray(np.isfinite(self._cand["logit"]))

    def allows(self, token: int) -> bool:
        """Whether the grammar allows ``token`` next, checked as the only candidate (what
        llama.cpp does first with the token it sampled)."""
        self._one[0] = (token, 0.0, 0.0)
        self._one_arr.data, self._one_arr.size = self._one.ctypes.data, 1
        self._one_arr.selected, self._one_arr.sorted = -1, False
        self._lib.llama_sampler_apply(self._handle, ctypes.byref(self._one_arr))
        return math.isfinite(float(self._one["logit"][0]))

    def accepting(self) -> bool:
        """Whether the grammar is complete here (it allows the end of sequence)."""
        return self.allows(self._vocab.eos)

    def accept(self, token: int) -> None:
        """Advance by ``token``; ValueError, and no change, when the grammar does not allow
        it or it is the end of sequence."""
        if token == self._vocab.eos or not self.allows(token):
            raise ValueError(f"token {token} is not allowed here")
        self._lib.llama_sampler_accept(self._handle, token)

    def clone(self) -> GrammarSampler:
        """An independent copy of this state (llama.cpp copies it; nothing is parsed)."""
        return GrammarSampler(self._vocab, self._lib.llama_sampler_clone(self._handle))

    def close(self) -> None:
        if self._handle:
            self._lib.llama_sampler_free(self._handle)
            self._handle = None

    def __del__(self) -> None:
        self.close()
