"""The ``local`` generator: what it writes is in the grammar's language, check-then-mask
chooses exactly what mask-first chooses, and its failures are service errors with a code."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.suite_helpers import require_module

torch = require_module("torch")
require_module("transformers")
require_module("tokenizers")

import llguidance  # noqa: E402
from ananke.engines.acceptance import ByteMatcher  # noqa: E402
from ananke.runtime.generators import create  # noqa: E402
from ananke.runtime.generators.local import LocalGenerator, Sampler, TokenChooser  # noqa: E402
from ananke.runtime.protocol import (  # noqa: E402
    Completion,
    GenerationRequest,
    Prompt,
    ServiceError,
    ServiceOptions,
)

import ananke  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SEED_EXAMPLE = ROOT / "examples" / "api_handler.ariadne"
PROMPT = Prompt(
    system="Write one Python function.",
    user="return the user's id",
    text="# return the user's id\n",
)
ENDED = "input ended before the grammar was complete"


@pytest.fixture(scope="session")
def seed_grammar() -> str:
    return ananke.emit(ananke.load(SEED_EXAMPLE), "llguidance")


def _complete(gen: Any, request: GenerationRequest) -> Completion:
    async def run() -> Completion:
        try:
            return await gen.complete(request)
        finally:
            await gen.aclose()

    return asyncio.run(run())


def _generator(model: Path, **kw: Any) -> LocalGenerator:
    chat = kw.pop("chat", False)
    gen = create("local", options=ServiceOptions(model=str(model), chat=chat), **kw)
    assert isinstance(gen, LocalGenerator)
    return gen


def _assert_in_language(grammar: str, c: Completion) -> None:
    verdict = ByteMatcher(grammar).check(c.text)
    if c.finish_reason == "stop":
        assert verdict.accepted, verdict
    else:
        # Cut at max_tokens: a prefix of the language, rejected only because it ended.
        assert c.finish_reason == "length"
        assert verdict.accepted or (
            verdict.error == ENDED and verdict.offset == len(c.text.encode("utf-8"))
        ), verdict


def _assert_stats(c: Completion, strategy: str) -> None:
    e = c.extra
    assert e["strategy"] == strategy
    assert c.completion_tokens is not None
    # Tokens chosen: the text's, plus the end-of-sequence token when the model ended.
    assert e["tokens"] == c.completion_tokens + (c.raw_finish_reason == "eos")
    assert 0 <= e["refusals"] <= e["tokens"]
    assert len(e["constraint_us"]) == e["tokens"]
    assert len(e["mask_us"]) == e["masks"]
    if strategy == "mask-first":
        assert e["refusals"] == 0 and e["masks"] == e["tokens"]
    else:
        assert e["masks"] == e["refusals"]
    assert e["constraint_us_p50"] <= e["constraint_us_p99"] <= max(e["constraint_us"])
    assert e["constraint_us_mean"] == pytest.approx(sum(e["constraint_us"]) / e["tokens"])


@pytest.mark.parametrize("strategy", ["check-then-mask", "mask-first"])
@pytest.mark.parametrize(("temperature", "chat"), [(0.0, False), (1.0, False), (0.8, True)])
def test_generation_under_the_seed_example_is_in_its_language(
    tiny_model: Path, seed_grammar: str, strategy: str, temperature: float, chat: bool
) -> None:
    gen = _generator(tiny_model, strategy=strategy, chat=chat)
    request = GenerationRequest(
        PROMPT, {"grammar": seed_grammar}, max_tokens=80, temperature=temperature, seed=7
    )
    c = _complete(gen, request)
    assert c.completion_tokens is not None and 0 < c.completion_tokens <= 80
    assert c.prompt_tokens and c.prompt_tokens > 0
    assert c.model == str(tiny_model)
    _assert_in_language(seed_grammar, c)
    _assert_stats(c, strategy)


def test_a_finite_language_ends_with_stop_and_a_whole_sentence(tiny_model: Path) -> None:
    # Once the text is complete only the end-of-sequence token is allowed: the generator
    # must end there, whatever the random model prefers.
    grammar = 'start: "def f():\\n    return " /[1-9][0-9]{0,2}/ "\\n"\n'
    for strategy in ("check-then-mask", "mask-first"):
        for seed in range(3):
            gen = _generator(tiny_model, strategy=strategy)
            request = GenerationRequest(
                PROMPT, {"grammar": grammar}, max_tokens=40, temperature=1.0, seed=seed
            )
            c = _complete(gen, request)
            assert c.finish_reason == "stop", c
            body = c.text.removeprefix("def f():\n    return ")
            assert body.endswith("\n") and body[:-1].isdigit() and len(body) <= 4, c.text
            compile(c.text, "<generated>", "exec")
            _assert_stats(c, strategy)


def test_greedy_check_then_mask_picks_what_mask_first_picks(
    tiny_model: Path, seed_grammar: str
) -> None:
    refusals = 0
    prompts = [PROMPT, Prompt("", "", "def handler(request):\n"), Prompt("", "", "")]
    for prompt in prompts:
        out = {}
        for strategy in ("check-then-mask", "mask-first"):
            gen = _generator(tiny_model, strategy=strategy)
            request = GenerationRequest(prompt, {"grammar": seed_grammar}, max_tokens=96)
            out[strategy] = _complete(gen, request)
        check, mask = out["check-then-mask"], out["mask-first"]
        assert (check.text, check.finish_reason) == (mask.text, mask.finish_reason)
        assert check.completion_tokens == mask.completion_tokens
        assert check.extra["masks"] < mask.extra["masks"]
        refusals += check.extra["refusals"]
    # The greedy token was refused somewhere, so the masked path was compared too.
    assert refusals > 0


# --- the distribution of one sampling step, computed exactly -----------------------------

_VOCAB = [b"a", b"b", b"c", b"1", b"2", b"ab", b"ba", b" ", b"(", b"x", b"bb", b"<eos>"]
_EOS = len(_VOCAB) - 1


class _SmallVocab:
    """The tokenizer object ``llguidance.TokenizerWrapper`` wraps: twelve tokens."""

    eos_token_id = _EOS
    bos_token_id = None
    special_token_ids = (_EOS,)
    tokens = _VOCAB

    def __call__(self, text: bytes | str) -> list[int]:
        data = text.encode() if isinstance(text, str) else text
        return [_VOCAB.index(bytes([b])) for b in data]


def _softmax(logits: list[float], temperature: float, allowed: set[int]) -> list[float]:
    weights = [math.exp(x / temperature) if i in allowed else 0.0 for i, x in enumerate(logits)]
    total = math.fsum(weights)
    return [w / total for w in weights]


def _cells(probs: list[float]) -> list[tuple[float, float]]:
    """(midpoint, width) of each token's interval of [0, 1) in id order; zero-width
    intervals are no draws at all."""
    out, low = [], 0.0
    for p in probs:
        if p > 0:
            out.append((low + p / 2, p))
        low += p
    return out


def _exact_distribution(
    step: Callable[[Callable[[], float]], int], first: list[float], second: list[float]
) -> dict[int, float]:
    """The exact probability of each token ``step`` returns, when its first uniform draw
    falls in the intervals of ``first`` and a second one, if asked for, in those of
    ``second``: the step is constant on each interval, so one draw at its midpoint gives
    its token."""
    dist: dict[int, float] = {}
    for u1, w1 in _cells(first):
        asked: list[float] = []

        def once(asked: list[float] = asked, u1: float = u1) -> float:
            asked.append(u1)
            if len(asked) > 1:
                raise LookupError("second draw")
            return u1

        try:
            token = step(once)
            dist[token] = dist.get(token, 0.0) + w1
            continue
        except LookupError:
            pass
        for u2, w2 in _cells(second):
            draws = iter([u1, u2])
            token = step(lambda draws=draws: next(draws))
            dist[token] = dist.get(token, 0.0) + w1 * w2
    return dist


@pytest.mark.parametrize("prefix", [b"", b"ab", b"abba1"])
@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_one_sampling_step_draws_each_allowed_token_with_p_over_z(
    prefix: bytes, temperature: float
) -> None:
    grammar = 'start: /[ab]+/ "1" " "?\n'
    tok = llguidance.LLTokenizer(llguidance.TokenizerWrapper(_SmallVocab()))
    base = llguidance.LLMatcher(tok, grammar, log_level=0)
    assert not base.is_error()
    assert base.consume_tokens(list(_SmallVocab()(prefix)))
    allowed = {t for t in range(len(_VOCAB)) if base.deep_copy().validate_tokens([t]) == 1}
    # The state leaves both allowed and refused tokens with real mass.
    assert 1 <= len(allowed) < len(_VOCAB) - 2
    # Refused tokens get the largest logits: most first draws are refused.
    logits = [0.3, -0.2, 2.1, 0.9, 1.4, -0.7, 0.1, 1.8, 0.5, 2.4, -1.1, 1.2]
    tensor = torch.tensor(logits, dtype=torch.float32)
    exact = [float(x) for x in tensor]  # the float32 values the generator sees
    expected = _softmax(exact, temperature, allowed)

    for strategy in ("check-then-mask", "mask-first"):

        def step(uniform: Callable[[], float], strategy: str = strategy) -> int:
            sampler = Sampler(temperature, uniform=uniform)
            chooser = TokenChooser(base.deep_copy(), tok.vocab_size, len(_VOCAB), sampler, strategy)
            return chooser.choose(tensor.clone())

        unmasked = _softmax(exact, temperature, set(range(len(_VOCAB))))
        first = expected if strategy == "mask-first" else unmasked
        dist = _exact_distribution(step, first, expected)
        assert set(dist) == {t for t in allowed if expected[t] > 0}, strategy
        for t in allowed:
            assert dist.get(t, 0.0) == pytest.approx(expected[t], abs=1e-12), (strategy, t)


def test_greedy_step_on_a_refused_argmax_takes_the_best_allowed_token() -> None:
    tok = llguidance.LLTokenizer(llguidance.TokenizerWrapper(_SmallVocab()))
    matcher = llguidance.LLMatcher(tok, 'start: /[ab]+/ "1"\n', log_level=0)
    logits = torch.tensor([0.1, 0.4, 9.0, 0.0, 0.0, 0.3, 0.2, 0.0, 0.0, 5.0, 0.0, 7.0])
    chooser = TokenChooser(matcher, tok.vocab_size, len(_VOCAB), Sampler(0.0), "check-then-mask")
    assert chooser.choose(logits) == _VOCAB.index(b"b")
    assert (chooser.stats.refusals, chooser.stats.masks, chooser.stats.tokens) == (1, 1, 1)
    # "c", the end of sequence and "x" rank above it and are refused each time.
    assert chooser.choose(logits) == _VOCAB.index(b"b")
    assert (chooser.stats.refusals, chooser.stats.masks, chooser.stats.tokens) == (2, 2, 2)


# --- failures -----------------------------------------------------------------------------


def test_a_grammar_that_does_not_load_is_refused(tiny_model: Path) -> None:
    gen = _generator(tiny_model)
    request = GenerationRequest(PROMPT, {"grammar": "start: missing_rule\n"}, max_tokens=4)
    with pytest.raises(ServiceError) as e:
        _complete(gen, request)
    assert e.value.code == "inference-refused"
    assert "missing_rule" in e.value.message and "\n" not in e.value.message
    # The same generator (model loaded) serves the next request.
    gen2 = _generator(tiny_model)
    c = _complete(gen2, GenerationRequest(PROMPT, {"grammar": 'start: "x"\n'}, max_tokens=4))
    assert c.text == "x" and c.finish_reason == "stop"


def test_a_body_without_a_grammar_is_refused(tiny_model: Path) -> None:
    body = json.loads(ananke.emit(ananke.load(SEED_EXAMPLE), "vllm"))
    with pytest.raises(ServiceError) as e:
        _complete(_generator(tiny_model), GenerationRequest(PROMPT, body, max_tokens=4))
    assert e.value.code == "inference-refused"


@pytest.mark.parametrize("model", [None, "no-such-model-folder"])
def test_a_missing_model_is_a_service_error_and_nothing_is_downloaded(
    model: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    gen = create("local", options=ServiceOptions(model=model))
    with pytest.raises(ServiceError) as e:
        _complete(gen, GenerationRequest(PROMPT, {"grammar": 'start: "x"\n'}))
    assert e.value.code == "model-unavailable"
    assert e.value.help


def test_cancellation_stops_the_loop_and_the_generator_serves_again(
    tiny_model: Path, seed_grammar: str
) -> None:
    gen = _generator(tiny_model)

    async def run() -> Completion:
        long = GenerationRequest(PROMPT, {"grammar": seed_grammar}, max_tokens=100_000)
        task = asyncio.create_task(gen.complete(long))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Generations run one at a time: this one starts only once the cancelled loop
        # has stopped, and a loop that ran on would take 100,000 tokens to let it.
        short = GenerationRequest(PROMPT, {"grammar": 'start: "ok"\n'}, max_tokens=4)
        return await gen.complete(short)

    c = asyncio.run(run())
    assert (c.text, c.finish_reason) == ("ok", "stop")


def test_a_stop_string_ends_the_text_before_it(tiny_model: Path) -> None:
    # The grammar leaves one text: the stop string must cut it, whatever the model picks.
    grammar = 'start: "alpha = 1\\n" "beta = 2\\n" "gamma = 3\\n"\n'
    request = GenerationRequest(PROMPT, {"grammar": grammar}, max_tokens=40, stop=("beta",))
    c = _complete(_generator(tiny_model), request)
    assert (c.text, c.finish_reason, c.raw_finish_reason) == ("alpha = 1\n", "stop", "stop string")


def test_the_unconstrained_loop_ignores_the_grammar(tiny_model: Path) -> None:
    gen = _generator(tiny_model)
    request = GenerationRequest(PROMPT, {"grammar": 'start: "x"\n'}, max_tokens=12, seed=3)

    async def run() -> Completion:
        try:
            return await gen.complete_unconstrained(request)
        finally:
            await gen.aclose()

    c = asyncio.run(run())
    assert c.text != "x" and c.completion_tokens is not None and c.completion_tokens >= 1
    assert (c.extra["masks"], c.extra["refusals"]) == (0, 0)
