"""Maze: generate under the constraints, verify every output, repair what fails.

``Maze(generator)`` drives one generator (:mod:`ananke.runtime.generators`). For each
intent it builds the prompt from the compiled constraint set, sends the request with the
set's grammar, verifies the output (:mod:`ananke.runtime.verify`) and, when a post check
fails, asks again with what the checks found, up to ``attempts`` times. Every attempt is
recorded in the :class:`Result`; a result is a success only when the grammar accepts the
whole output and every hard constraint held.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .cache import CompiledSet
from .prompt import ContextFile, Feedback, build_prompt
from .protocol import Completion, GenerationRequest, Generator, ServiceError
from .verify import Verification, checker_for, verify

__all__ = ["Attempt", "Maze", "Result", "Settings", "Status"]

Status = Literal["ok", "failed", "truncated", "not-enforced", "error"]
"""``ok``: every constraint held; ``failed``: some post check still fails after every
attempt; ``truncated``: cut at ``max_tokens``; ``not-enforced``: the grammar rejects what
the service returned (it did not enforce the grammar); ``error``: the service failed."""


@dataclass(frozen=True)
class Settings:
    """The sampling settings and the repair budget of one generation."""

    max_tokens: int = 512
    temperature: float = 0.0
    seed: int | None = None
    attempts: int = 3
    """How many times to generate when post checks fail (the first try included)."""


@dataclass(frozen=True)
class Attempt:
    """One request and what verification found."""

    code: str
    completion: Completion
    verification: Verification
    seconds: float
    """Generation and verification of this attempt."""


@dataclass
class Result:
    """The outcome of one intent."""

    intent: str
    constraint_set: str
    status: Status
    code: str
    """The last attempt's output (shown even when it failed, marked as such)."""
    attempts: list[Attempt] = field(default_factory=list)
    backend: str = ""
    model: str = ""
    grammar_hash: str = ""
    error: ServiceError | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def verification(self) -> Verification | None:
        return self.attempts[-1].verification if self.attempts else None

    @property
    def completion_tokens(self) -> int:
        return sum(a.completion.completion_tokens or 0 for a in self.attempts)

    def to_json(self) -> dict[str, Any]:
        """The result as one JSON object (``arc generate --output-format json`` and each
        line of ``--batch``); spec/runtime.md documents its fields."""
        v = self.verification
        out: dict[str, Any] = {
            "intent": self.intent,
            "constraint_set": self.constraint_set,
            "status": self.status,
            "ok": self.ok,
            "code": self.code,
            "backend": self.backend,
            "model": self.model,
            "grammar_hash": self.grammar_hash,
            "attempts": len(self.attempts),
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 4),
            "grammar": None
            if v is None
            else {
                "status": v.grammar.status,
                "engine": v.grammar.engine,
                "offset": v.grammar.offset,
                "reason": v.grammar.reason,
            },
            "verdicts": []
            if v is None
            else [
                {
                    "id": c.id,
                    "kind": c.kind,
                    "level": c.level,
                    "strength": c.strength,
                    "held": c.held,
                    "detail": c.detail,
                }
                for c in v.verdicts
            ],
            "violations": []
            if v is None
            else [
                {
                    "constraint_id": x.constraint_id,
                    "kind": x.kind,
                    "message": x.message,
                    "line": x.line,
                    "column": x.column,
                    "undecided": x.undecided,
                }
                for x in v.violations
            ],
            "history": [
                {
                    "status": _status(a.verification),
                    "finish_reason": a.completion.finish_reason,
                    "completion_tokens": a.completion.completion_tokens,
                    "seconds": round(a.seconds, 4),
                    "failures": list(a.verification.failures),
                }
                for a in self.attempts
            ],
        }
        if self.error is not None:
            out["error"] = {"code": self.error.code, "message": self.error.message}
        return out


def _status(v: Verification) -> Status:
    if v.ok:
        return "ok"
    if v.grammar.status == "rejected":
        return "not-enforced"
    if v.truncated:
        return "truncated"
    return "failed"


class Maze:
    """Generation through one generator, with verification and repair."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    async def generate(
        self,
        intent: str,
        compiled: CompiledSet,
        settings: Settings = Settings(),
        *,
        context: Sequence[ContextFile] = (),
    ) -> Result:
        """Generate for ``intent`` under ``compiled`` (the set compiled for this
        generator's target). A service failure is not raised: the result has status
        ``error`` and the :class:`ServiceError`."""
        start = time.perf_counter()
        gen = self.generator
        result = Result(
            intent=intent,
            constraint_set=compiled.cset.name,
            status="error",
            code="",
            backend=gen.name,
            model=gen.model,
            grammar_hash=compiled.grammar_hash,
        )
        checker = checker_for(compiled.target, compiled.body)
        feedback: list[Feedback] = []
        for i in range(max(1, settings.attempts)):
            prompt = build_prompt(
                intent, compiled.cset, compiled.enforcements, context=context, feedback=feedback
            )
            request = GenerationRequest(
                prompt=prompt,
                body=compiled.body,
                max_tokens=settings.max_tokens,
                temperature=settings.temperature,
                seed=None if settings.seed is None else settings.seed + i,
            )
            t0 = time.perf_counter()
            try:
                completion = await gen.complete(request)
            except ServiceError as e:
                result.error = e
                result.status = "error"
                break
            result.model = completion.model or result.model
            code = completion.text
            verification = verify(
                code,
                compiled.cset,
                compiled.enforcements,
                checker,
                truncated=completion.finish_reason == "length",
            )
            result.attempts.append(
                Attempt(code, completion, verification, time.perf_counter() - t0)
            )
            result.code = code
            result.status = _status(verification)
            # Only a post check that failed is worth another try: a grammar the service
            # ignored or a cut output would fail the same way again.
            if result.status != "failed":
                break
            feedback.append(Feedback(code, verification.failures))
        result.seconds = time.perf_counter() - start
        return result

    async def generate_many(
        self,
        jobs: Sequence[tuple[str, CompiledSet]],
        settings: Settings = Settings(),
        *,
        concurrency: int = 4,
        context: Sequence[ContextFile] = (),
    ) -> AsyncIterator[tuple[int, Result]]:
        """Each job (intent, compiled set) generated, at most ``concurrency`` at a time;
        yields (index, result) as each finishes. With a seed, job ``i`` starts from
        ``seed + i * attempts``, so that no two attempts share one (the same intent
        asked twice gives two independent samples)."""
        sem = asyncio.Semaphore(max(1, concurrency))

        def seeded(i: int) -> Settings:
            if settings.seed is None:
                return settings
            return replace(settings, seed=settings.seed + i * max(1, settings.attempts))

        async def one(i: int, intent: str, compiled: CompiledSet) -> tuple[int, Result]:
            async with sem:
                return i, await self.generate(intent, compiled, seeded(i), context=context)

        tasks = [asyncio.create_task(one(i, it, c)) for i, (it, c) in enumerate(jobs)]
        try:
            for next_done in asyncio.as_completed(tasks):
                yield await next_done
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
