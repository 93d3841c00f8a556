"""The ``local`` generator: a transformers model on this machine, llguidance's masks on its logits.

The development and test backend, and Ananke's reference runtime. The request body is what
``arc emit --target llguidance`` prints, wrapped as ``{"grammar": <text>}``. The model and
its tokenizer load once, on the first request, from ``options.model`` (a folder in the
Hugging Face layout, such as one ``python -m ananke.runtime.models`` writes); each request
gets a fresh ``LLMatcher`` and runs the decoding loop (KV cache, one token per forward
pass) in a worker thread.

Two strategies choose each token under the grammar (``strategy=``):

* ``check-then-mask`` (default): sample from the unconstrained logits, ask the matcher
  whether it takes that one token (a few microseconds), and only when it refuses compute
  the full mask (up to milliseconds at a 128k vocabulary) and sample again from the masked
  logits. An allowed token t is drawn with probability p(t) + (1 − Z)·p(t)/Z = p(t)/Z,
  where Z is the mass of the allowed tokens: exactly what masking first draws; greedy
  decoding picks the same token.
* ``mask-first``: compute the full mask before every token, as serving engines do. The
  mask for the next token is computed in a background thread while the model computes
  the logits (llguidance releases the GIL); ``prefetch=False`` computes it in line.

The tokenizer llguidance reads is built with slices chosen for code (:data:`CODE_SLICES`)
unless ``slices="default"``; ``spec/runtime.md`` gives the measurements behind the choice.
"""

from __future__ import annotations

import asyncio
import inspect
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from ananke.runtime.protocol import Completion, GenerationRequest, ServiceError, ServiceOptions

__all__ = ["CODE_SLICES", "LocalGenerator", "Sampler", "Strategy", "TokenChooser", "slices_for"]

Strategy = Literal["check-then-mask", "mask-first"]
Slices = Literal["code", "default"]

CODE_SLICES: tuple[str, ...] = (
    r"[a-zA-Z_][a-zA-Z0-9_]*",
    r"\x20[a-zA-Z_][a-zA-Z0-9_]*",
    r"[0-9]+",
)
"""Slices for code, ahead of llguidance's general slices (whitespace runs and string
contents): identifiers, identifiers after one space, and digit runs. llguidance checks a
slice's tokens together when the lexer allows the whole slice, instead of walking them
one by one through its token trie."""


def slices_for(choice: Slices) -> list[str]:
    """The slice regexes of the tokenizer llguidance builds (``code`` or ``default``)."""
    import llguidance

    general = list(llguidance.LLTokenizer.general_slices())
    return [*CODE_SLICES, *general] if choice == "code" else general


def _refused(message: str, **kw: Any) -> ServiceError:
    return ServiceError(code="inference-refused", message=message, **kw)


def _unavailable(message: str, help: str) -> ServiceError:
    return ServiceError(code="model-unavailable", message=message, help=help)


class Sampler:
    """Picks a token from logits: the argmax at temperature 0, else inverse-CDF sampling
    from the softmax with a uniform draw in [0, 1) (``uniform``; by default from a
    ``torch.Generator`` seeded with ``seed``). Tokens are laid out in id order, so a draw
    maps to the token whose cumulative-probability interval holds it."""

    def __init__(
        self,
        temperature: float,
        seed: int | None = None,
        *,
        uniform: Callable[[], float] | None = None,
    ) -> None:
        import torch

        self.temperature = temperature
        if uniform is None:
            gen = torch.Generator()
            if seed is None:
                gen.seed()
            else:
                gen.manual_seed(seed)

            def uniform() -> float:
                return float(torch.rand((), generator=gen, dtype=torch.float64))

        self.uniform = uniform

    def pick(self, logits: Any) -> int:
        import torch

        if self.temperature <= 0:
            return int(torch.argmax(logits))
        probs = torch.softmax(logits.to(torch.float64) / self.temperature, dim=-1)
        cdf = torch.cumsum(probs, dim=0)
        u = torch.tensor([self.uniform() * float(cdf[-1])], dtype=torch.float64)
        i = int(torch.searchsorted(cdf, u, right=True)[0])
        if i >= len(probs):  # the draw rounded up to the total: the last possible token
            i = int(torch.nonzero(probs)[-1][0])
        return i


@dataclass
class Stats:
    """Constraint work of one request (``Completion.extra``)."""

    tokens: int = 0
    masks: int = 0
    """Full masks computed."""
    refusals: int = 0
    """Tokens sampled from the unconstrained logits that the grammar refused."""
    constraint_ns: list[int] = field(default_factory=list)
    """Per token: time the decoding loop spent on the grammar (checks, waiting for the
    mask, masking, sampling again, consuming)."""
    mask_ns: list[int] = field(default_factory=list)
    """Per full mask: time llguidance took to compute it (in whichever thread)."""

    def extra(self, strategy: Strategy, slices: Slices, prefetch: bool) -> dict[str, Any]:
        c = [x / 1000 for x in self.constraint_ns]
        m = [x / 1000 for x in self.mask_ns]
        return {
            "strategy": strategy,
            "slices": slices,
            "prefetch": prefetch and strategy == "mask-first",
            "tokens": self.tokens,
            "masks": self.masks,
            "refusals": self.refusals,
            "constraint_us_mean": _mean(c),
            "constraint_us_p50": _quantile(c, 0.5),
            "constraint_us_p99": _quantile(c, 0.99),
            "mask_us_mean": _mean(m),
            "mask_us_p50": _quantile(m, 0.5),
            "mask_us_p99": _quantile(m, 0.99),
            "constraint_us": c,
            "mask_us": m,
        }


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


class TokenChooser:
    """Chooses each next token under one matcher with one strategy, and counts the work.

    ``n_logits`` is the width of the model's logits (it may differ from the tokenizer's
    vocabulary: rows past it are never allowed). With no matcher (``None``) every token is
    allowed."""

    def __init__(
        self,
        matcher: Any,
        vocab_size: int,
        n_logits: int,
        sampler: Sampler,
        strategy: Strategy = "check-then-mask",
        *,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        import numpy as np

        self.matcher = matcher
        self.vocab_size = vocab_size
        self.n_logits = n_logits
        self.sampler = sampler
        self.strategy = strategy
        self.stats = Stats()
        self._words = np.zeros((vocab_size + 31) // 32, dtype=np.uint32)
        self._executor = executor
        self._pending: Future[Any] | None = None

    def _compute_mask(self) -> Any:
        """The allowed tokens as a bool tensor of ``n_logits``; an error leaves the matcher
        in its error state (checked by the caller)."""
        import numpy as np
        import torch

        t0 = time.perf_counter_ns()
        self.matcher.unsafe_compute_mask_ptr(self._words.ctypes.data, self._words.nbytes)
        self.stats.mask_ns.append(time.perf_counter_ns() - t0)
        self.stats.masks += 1
        bits = np.unpackbits(self._words.view(np.uint8), bitorder="little")
        allowed = torch.from_numpy(bits[: self.n_logits].astype(bool))
        if self.n_logits > len(bits):
            allowed = torch.cat([allowed, torch.zeros(self.n_logits - len(bits), dtype=torch.bool)])
        return allowed

    def prefetch(self) -> None:
        """Start computing the next mask in the background (``mask-first`` with an
        executor); call before the forward pass that produces the next logits."""
        background = self.strategy == "mask-first" and self._executor is not None
        if background and self.matcher is not None:
            assert self._executor is not None
            self._pending = self._executor.submit(self._compute_mask)

    def _mask(self) -> Any:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            allowed = pending.result()
        else:
            allowed = self._compute_mask()
        if self.matcher.is_error():
            error = _first_line(self.matcher.get_error())
            raise _refused(f"llguidance stopped the grammar: {error}")
        if not bool(allowed.any()):
            raise _refused("the grammar allows no token of this model's vocabulary here")
        return allowed

    def _consume(self, token: int) -> None:
        if not self.matcher.consume_token(token):
            error = _first_line(self.matcher.get_error())
            raise _refused(f"llguidance refused a token its mask allowed: {error}")

    def choose(self, logits: Any) -> int:
        """The next token (consumed by the matcher)."""
        perf = time.perf_counter_ns
        if self.matcher is None:
            token = self.sampler.pick(logits)
            spent = 0
        elif self.strategy == "mask-first":
            t0 = perf()
            masked = logits.masked_fill(~self._mask(), float("-inf"))
            spent = perf() - t0
            # Picking from the logits is not the grammar's work: unconstrained decoding
            # picks too.
            token = self.sampler.pick(masked)
            t0 = perf()
            self._consume(token)
            spent += perf() - t0
        else:
            token = self.sampler.pick(logits)
            t0 = perf()
            # One call checks and consumes: the cheapest exact test of one token.
            if token >= self.vocab_size or self.matcher.try_consume_tokens([token]) != 1:
                self.stats.refusals += 1
                token = self.sampler.pick(logits.masked_fill(~self._mask(), float("-inf")))
                self._consume(token)
            spent = perf() - t0
        self.stats.constraint_ns.append(spent)
        self.stats.tokens += 1
        return token


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0] if text else ""


@dataclass
class _Loaded:
    model: Any
    tokenizer: Any
    llg: Any
    """The ``LLTokenizer`` (with the chosen slices)."""
    device: Any
    n_logits: int
    token_bytes: list[bytes]
    cache_name: str
    """The forward pass's name for the KV cache (``cache``; ``past_key_values`` in
    earlier transformers releases)."""

    def cache_arg(self, result: Any) -> dict[str, Any]:
        """The keyword argument that hands ``result``'s KV cache to the next forward pass."""
        if self.cache_name == "cache":
            return {"cache": result.cache}
        return {"past_key_values": result.past_key_values}


class LocalGenerator:
    """A transformers causal LM on this machine, constrained by llguidance token masks."""

    name: ClassVar[str] = "local"
    target: ClassVar[str] = "llguidance"

    def __init__(
        self,
        options: ServiceOptions | None = None,
        *,
        strategy: Strategy = "check-then-mask",
        slices: Slices = "code",
        prefetch: bool = True,
    ) -> None:
        self.options = options or ServiceOptions()
        self.chat = self.options.chat
        self.model = self.options.model or ""
        if strategy not in ("check-then-mask", "mask-first"):
            raise ValueError(f"unknown strategy {strategy!r}")
        if slices not in ("code", "default"):
            raise ValueError(f"unknown slices {slices!r}")
        self.strategy: Strategy = strategy
        self.slices: Slices = slices
        self.prefetch = prefetch
        self._loaded: _Loaded | None = None
        self._load_lock = threading.Lock()
        # One generation at a time: they would only compete for the same cores.
        self._run_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    # --- loading ---------------------------------------------------------------------

    def load(self) -> _Loaded:
        """Load the model and tokenizers (once; later calls return the same)."""
        with self._load_lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self) -> _Loaded:
        if not self.options.model:
            raise _unavailable(
                "the local backend needs a model folder",
                "pass --model FOLDER (make a small one: python -m ananke.runtime.models FOLDER)",
            )
        try:
            import llguidance.hf
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise _unavailable(
                f"{e.name or e} is not installed",
                "install the local extra: pip install 'ananke-arc[local]' (with torch)",
            ) from None
        path = self.options.model
        if not Path(path).is_dir():
            # A name that is not a folder would make transformers try to download it.
            raise _unavailable(
                f"no model folder at {path!r}",
                "give the folder of a model saved with save_pretrained "
                "(make a small one: python -m ananke.runtime.models FOLDER)",
            )
        # Any: transformers' annotations vary between its releases.
        tokenizer: Any
        model: Any
        # The command's stderr is for diagnostics, not transformers' progress bars.
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(path, dtype="auto", local_files_only=True)
        except (OSError, ValueError) as e:
            raise _unavailable(
                f"cannot load the model {path!r}: {_first_line(str(e))}",
                "give a folder in the Hugging Face layout (config.json, the weights, "
                "tokenizer.json)",
            ) from None
        device = torch.device(self.options.device or "cpu")
        model.to(device)
        model.eval()
        try:
            llg = llguidance.hf.from_tokenizer(tokenizer, slices=slices_for(self.slices))
        except ValueError as e:
            raise _unavailable(
                f"llguidance cannot read the tokenizer of {path!r}: {e}",
                "the local backend needs a fast (tokenizer.json) tokenizer",
            ) from None
        n_logits = int(model.get_output_embeddings().weight.shape[0])
        token_bytes = [llg.decode_bytes([i]) for i in range(llg.vocab_size)]
        params = inspect.signature(model.forward).parameters
        cache_name = "cache" if "cache" in params else "past_key_values"
        return _Loaded(model, tokenizer, llg, device, n_logits, token_bytes, cache_name)

    # --- generation ------------------------------------------------------------------

    async def complete(self, request: GenerationRequest) -> Completion:
        cancel = threading.Event()
        try:
            return await asyncio.to_thread(self._generate, request, cancel)
        except asyncio.CancelledError:
            # The thread cannot be interrupted: it sees the flag before its next token.
            cancel.set()
            raise

    async def aclose(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._loaded = None

    def _grammar(self, request: GenerationRequest) -> str:
        grammar = request.body.get("grammar")
        if not isinstance(grammar, str):
            raise _refused(
                'the local backend takes a body {"grammar": <llguidance grammar>}',
                help="emit the constraints with --target llguidance",
            )
        return grammar

    def _prompt_ids(self, loaded: _Loaded, request: GenerationRequest) -> list[int]:
        tok = loaded.tokenizer
        if self.chat:
            if not getattr(tok, "chat_template", None):
                raise _unavailable(
                    f"the model {self.model!r} has no chat template",
                    "generate without --chat, or use a model whose tokenizer has one",
                )
            messages = [{"role": "user", "content": request.prompt.user}]
            if request.prompt.system:
                messages.insert(0, {"role": "system", "content": request.prompt.system})
            text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            ids = list(tok.encode(text, add_special_tokens=False))
        else:
            ids = list(tok.encode(request.prompt.text))
        if not ids:
            start = tok.bos_token_id if tok.bos_token_id is not None else loaded.llg.eos_token
            ids = [int(start)]
        return ids

    def _generate(self, request: GenerationRequest, cancel: threading.Event) -> Completion:
        import llguidance

        started = time.perf_counter()
        loaded = self.load()
        grammar = self._grammar(request)
        matcher = llguidance.LLMatcher(loaded.llg, grammar, log_level=0)
        if matcher.is_error():
            raise _refused(
                f"llguidance cannot load the grammar: {_first_line(matcher.get_error())}",
                help="check the grammar with `arc emit --target llguidance`",
            )
        return self._decode(request, cancel, matcher, started)

    async def complete_unconstrained(self, request: GenerationRequest) -> Completion:
        """The same decoding loop, in the same kind of thread, with no grammar
        (``request.body`` is ignored): the baseline the benchmark compares with."""
        cancel = threading.Event()

        def run() -> Completion:
            started = time.perf_counter()
            self.load()
            return self._decode(request, cancel, None, started)

        try:
            return await asyncio.to_thread(run)
        except asyncio.CancelledError:
            cancel.set()
            raise

    def _decode(
        self, request: GenerationRequest, cancel: threading.Event, matcher: Any, started: float
    ) -> Completion:
        import torch

        loaded = self.load()
        if self.strategy == "mask-first" and self.prefetch and self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="ananke-mask")
        chooser = TokenChooser(
            matcher,
            loaded.llg.vocab_size,
            loaded.n_logits,
            Sampler(request.temperature, request.seed),
            self.strategy,
            executor=self._executor if self.prefetch else None,
        )
        eos = set(loaded.llg.eos_tokens)
        prompt = self._prompt_ids(loaded, request)
        stops = [s.encode("utf-8") for s in request.stop if s]
        out = bytearray()
        tokens: list[int] = []
        finish: Literal["stop", "length"] = "length"
        raw = "length"
        first_token: float | None = None
        with self._run_lock, torch.inference_mode():
            chooser.prefetch()
            ids = torch.tensor([prompt], device=loaded.device)
            result = loaded.model(input_ids=ids, use_cache=True, logits_to_keep=1)
            while len(tokens) < request.max_tokens:
                if cancel.is_set():
                    raise asyncio.CancelledError
                logits = result.logits[0, -1].float().cpu()
                token = chooser.choose(logits)
                if first_token is None:
                    first_token = time.perf_counter() - started
                if token in eos:
                    finish, raw = "stop", "eos"
                    break
                tokens.append(token)
                out += loaded.token_bytes[token]
                cut = _stop_at(out, stops, len(loaded.token_bytes[token]))
                if cut is not None:
                    del out[cut:]
                    finish, raw = "stop", "stop string"
                    break
                if matcher is not None and matcher.is_stopped():
                    finish, raw = "stop", "grammar complete"
                    break
                if len(tokens) == request.max_tokens:
                    break
                chooser.prefetch()
                ids = torch.tensor([[token]], device=loaded.device)
                result = loaded.model(
                    input_ids=ids, use_cache=True, logits_to_keep=1, **loaded.cache_arg(result)
                )
        extra = chooser.stats.extra(self.strategy, self.slices, self.prefetch)
        return Completion(
            text=_decode(bytes(out)),
            finish_reason=finish,
            completion_tokens=len(tokens),
            prompt_tokens=len(prompt),
            model=self.model,
            seconds=time.perf_counter() - started,
            first_token_seconds=first_token,
            raw_finish_reason=raw,
            extra=extra,
        )


def _stop_at(out: bytearray, stops: list[bytes], added: int) -> int | None:
    """Where the first stop string that the last ``added`` bytes completed begins."""
    found: int | None = None
    for s in stops:
        start = max(0, len(out) - added - len(s) + 1)
        i = out.find(s, start)
        if i >= 0 and (found is None or i < found):
            found = i
    return found


def _decode(data: bytes) -> str:
    """UTF-8 text of the output; a character cut at the end (``max_tokens``) is dropped
    rather than replaced, so the text stays a prefix of what the grammar allows."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start >= len(data) - 3 and e.reason == "unexpected end of data":
            return data[: e.start].decode("utf-8", errors="replace")
        return data.decode("utf-8", errors="replace")
