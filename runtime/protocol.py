"""What a generator is: the request Maze sends, the completion it gets back, the failures.

A generator speaks one inference service's wire format (:mod:`ananke.runtime.generators`);
everything else (prompts, grammars, verification, repair, caching) is the same for all of
them and lives in :mod:`ananke.runtime.maze`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

__all__ = [
    "Completion",
    "FinishReason",
    "GenerationRequest",
    "Generator",
    "Prompt",
    "ServiceError",
    "ServiceOptions",
]

FinishReason = Literal["stop", "length", "other"]
"""``stop``: the model (or the grammar) ended the text; ``length``: cut at ``max_tokens``;
``other``: anything else the service reported (content filter, abort)."""


@dataclass(frozen=True)
class Prompt:
    """The words a model is given: ``system`` and ``user`` for chat models, ``text`` (the
    same parts laid out as one document) for completion models."""

    system: str
    user: str
    text: str


@dataclass(frozen=True)
class GenerationRequest:
    """One generation: the prompt, the grammar in the service's own request fields, and
    the sampling settings."""

    prompt: Prompt
    body: dict[str, Any]
    """The grammar as the service reads it: the request body ``arc emit --target T``
    prints for the generator's target (for ``local``, ``{"grammar": <llguidance>}``)."""
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Completion:
    """What the service returned for one request."""

    text: str
    finish_reason: FinishReason
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    model: str = ""
    seconds: float = 0.0
    """Wall time of the request, from sending to the last byte."""
    first_token_seconds: float | None = None
    """Time to the first token, when the response was streamed."""
    raw_finish_reason: str = ""
    """The service's own word for why it stopped."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Per-generator measurements (the ``local`` generator's mask statistics)."""


@dataclass(frozen=True)
class ServiceOptions:
    """How to reach a service: what every generator's constructor takes (``options=``).

    A generator that has no use for a field ignores it (``local`` has no URL)."""

    url: str | None = None
    """The service's base URL (``http://127.0.0.1:8000``; a trailing ``/v1`` is accepted)."""
    model: str | None = None
    """The model name the service serves, or (``local``, ``vllm-inprocess``) the folder or
    name of the model to load. ``None``: ask the service (``/v1/models``) for its one model."""
    api_key: str | None = None
    """Sent as ``Authorization: Bearer``; read from the environment, never the command line."""
    chat: bool = False
    """Chat endpoint (``/v1/chat/completions``) instead of plain completions."""
    stream: bool = True
    """Stream the response (server-sent events) when the service can."""
    connect_timeout: float = 10.0
    first_token_timeout: float = 120.0
    """Seconds to wait for the first byte of the response (the server may queue)."""
    total_timeout: float = 600.0
    retries: int = 3
    """Retries of a request that failed with 429, 5xx or a dropped connection, with
    exponential backoff and jitter (``Retry-After`` honoured)."""
    save_dir: str | None = None
    """Where to save a grammar the service refused (default: the system's temporary folder)."""
    device: str | None = None
    """``local`` and ``vllm-inprocess``: where the model runs (``cpu``, ``cuda``)."""


class ServiceError(Exception):
    """The inference service failed (exit status 4): ``code`` is the diagnostic code
    (a page under ``spec/diagnostics/``), ``message`` one line, ``help`` what to change.
    ``saved`` is where the grammar that was refused was written, for inspection."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        help: str | None = None,
        notes: tuple[str, ...] = (),
        saved: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.help = help
        self.notes = notes
        self.saved = saved
        self.retryable = retryable


class Generator(Protocol):
    """One inference service (or an in-process model) that generates under a grammar."""

    name: ClassVar[str]
    """The ``--backend`` name."""
    target: ClassVar[str]
    """The ``arc emit`` target whose output this generator sends."""
    chat: bool
    """Whether it sends chat messages (``Prompt.system`` / ``Prompt.user``) rather than
    ``Prompt.text``."""
    model: str

    async def complete(self, request: GenerationRequest) -> Completion:
        """One completion of ``request``; :class:`ServiceError` when the service fails."""
        ...

    async def aclose(self) -> None:
        """Release connections, threads and models."""
        ...
