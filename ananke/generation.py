"""Generation, from the compiler's side: the settings of a generation, compiling a
constraint set for a generator's target (through the driver, cached by content hash), and
turning what Maze found into diagnostics. ``arc generate``, ``arc validate`` and
:class:`ananke.Ananke` all go through here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ananke.driver as driver

if TYPE_CHECKING:
    from ananke.ir import Diagnostic, Module, SourceFile
    from ananke.ir.diagnostics import Severity
    from ananke.runtime.cache import CompiledSet, GrammarCache
    from ananke.runtime.maze import Result
    from ananke.runtime.protocol import ServiceError
    from ananke.runtime.verify import Verification

__all__ = [
    "API_KEY_VARIABLES",
    "GenerateOptions",
    "compile_set",
    "default_cache_dir",
    "result_diagnostics",
    "service_diagnostic",
    "verification_diagnostics",
]

API_KEY_VARIABLES = {
    "openai": "OPENAI_API_KEY",
    "vllm": "VLLM_API_KEY",
    "sglang": "SGLANG_API_KEY",
    "llamacpp": "LLAMA_API_KEY",
}
"""The environment variable each backend's key is read from (``ANANKE_API_KEY`` for all
of them when that one is not set)."""

_BODY_TARGETS = ("vllm", "sglang", "llamacpp", "openai")
"""Targets whose output is a request body (JSON) rather than a grammar."""


@dataclass(frozen=True)
class GenerateOptions:
    """Every setting of a generation, with its default (spec/runtime.md, "Settings")."""

    backend: str = "vllm"
    url: str | None = None
    model: str | None = None
    api_key: str | None = None
    chat: bool = False
    stream: bool = True
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int | None = None
    attempts: int = 3
    concurrency: int = 4
    timeout: float = 600.0
    cache_dir: str | None = None
    max_nesting: int | None = None
    save_dir: str | None = None
    device: str | None = None

    def __repr__(self) -> str:
        # The key is a secret: never shown, whatever prints the options.
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        if shown["api_key"] is not None:
            shown["api_key"] = "***"
        return "GenerateOptions(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    def updated(self, **changes: Any) -> GenerateOptions:
        """These options with ``changes`` (None values left out); ``TypeError`` for a name
        that is not an option, with the closest one."""
        import difflib

        names = [f.name for f in fields(self)]
        for key in changes:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TypeError(f"unknown generation option {key!r}{hint}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def key(self) -> str | None:
        """The API key: the option, else the backend's environment variable, else
        ``ANANKE_API_KEY``."""
        if self.api_key:
            return self.api_key
        var = API_KEY_VARIABLES.get(self.backend)
        return (os.environ.get(var) if var else None) or os.environ.get("ANANKE_API_KEY")

    def service(self) -> Any:
        """The :class:`~ananke.runtime.protocol.ServiceOptions` of the generator."""
        from ananke.runtime.protocol import ServiceOptions

        return ServiceOptions(
            url=self.url,
            model=self.model,
            api_key=self.key(),
            chat=self.chat,
            stream=self.stream,
            total_timeout=self.timeout,
            first_token_timeout=min(self.timeout, 120.0),
            save_dir=self.save_dir,
            device=self.device,
        )


def default_cache_dir() -> Path:
    """Where compiled grammars are kept: ``$XDG_CACHE_HOME/ananke/grammars`` (by default
    ``~/.cache/ananke/grammars``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ananke" / "grammars"


def target_of(backend: str) -> str:
    """The ``arc emit`` target whose output the generator ``backend`` sends."""
    from ananke.runtime.generators import target

    return target(backend)


def compile_set(
    module: Module,
    constraint: str | None,
    target: str,
    report: driver.Report,
    cache: GrammarCache,
    *,
    max_nesting: int | None = None,
) -> CompiledSet | None:
    """The one constraint set of ``module`` that ``constraint`` names (it may be left out
    when the module's own file defines one set) compiled for ``target``, from ``cache``
    when it was compiled before; None with diagnostics in ``report`` when that fails.
    :class:`~ananke.driver.UnknownSet` when no set or several match."""
    from ananke._version import __version__
    from ananke.runtime.cache import CompiledSet, cache_key

    chosen = driver.select(module, constraint)
    if not chosen.sets:
        driver.no_sets(report, module.sources[0] if module.sources else "<module>")
        return None
    if len(chosen.sets) > 1:
        names = ", ".join(s.name for s in chosen.sets)
        raise driver.UnknownSet(
            f"the input defines {len(chosen.sets)} constraint sets ({names}): choose one "
            "with --constraint NAME"
        )
    cset = chosen.sets[0]
    key = cache_key(
        cset, chosen.schemas, target, {"max_nesting": max_nesting, "version": __version__}
    )

    class _Failed(Exception):
        pass

    def build() -> CompiledSet:
        lowered = driver.lower(chosen, target, report, max_nesting=max_nesting)
        texts = driver.emit_texts(lowered or (), target, report)
        if not lowered or not texts or report.diags.has_errors:
            raise _Failed
        text = texts[0][1]
        body = json.loads(text) if target in _BODY_TARGETS else {"grammar": text}
        low = lowered[0]
        return CompiledSet(cset, target, body, text, low.enforcements, low.notes)

    try:
        return cache.get(key, build)
    except _Failed:
        return None


# --- diagnostics ----------------------------------------------------------------------------


def _code_span(source: SourceFile, line: int, column: int, length: int = 1) -> Any:
    from ananke.ir import Span

    lines = source.text.split("\n")
    line = max(1, min(line, len(lines)))
    text = lines[line - 1]
    column = max(1, min(column, len(text) + 1))
    start = source.offset(line, column)
    if start is None:
        return Span.start_of(source.name)
    end = min(start + max(1, length), len(source.text))
    if end <= start:
        return Span.start_of(source.name) if not source.text else source.span(start, start)
    return source.span(start, end)


def _where(cset_spans: dict[str, Any], cid: str) -> tuple[str, ...]:
    span = cset_spans.get(cid)
    if span is None:
        return ()
    return (f"`{cid}` is defined at {span.file}:{span.line}:{span.column}",)


def verification_diagnostics(
    v: Verification, source: SourceFile, module_spans: dict[str, Any]
) -> list[Diagnostic]:
    """What verification found in ``source`` (the checked code), as diagnostics:
    ``grammar-rejected`` where the grammar stops, ``constraint-violated`` per violation,
    ``constraint-undecided`` (a warning) where a check could not decide."""
    from ananke.ir import Diagnostic, Label

    out: list[Diagnostic] = []
    g = v.grammar
    if g.status == "rejected":
        out.append(
            Diagnostic(
                code="grammar-rejected",
                severity="error",
                message=f"the grammar rejects the code at {g.line}:{g.column}",
                labels=(Label(span=_code_span(source, g.line, g.column), message=g.reason),),
                notes=(f"checked by {g.engine}",),
            )
        )
    for x in v.violations:
        severity: Severity = "warning" if x.undecided else "error"
        code = "constraint-undecided" if x.undecided else "constraint-violated"
        who = x.constraint_id if x.kind != "syntax" else "the language"
        out.append(
            Diagnostic(
                code=code,
                severity=severity,
                message=f"{who}: {x.message}" if x.kind != "syntax" else x.message,
                labels=(Label(span=_code_span(source, x.line, x.column, len(x.text))),),
                notes=_where(module_spans, x.constraint_id),
            )
        )
    return out


def service_diagnostic(e: ServiceError) -> Diagnostic:
    """A failed inference service as a diagnostic (exit status 4). It has no source span:
    its message names the service's URL."""
    from ananke.ir import Diagnostic

    notes = list(e.notes)
    if e.saved:
        notes.append(f"the grammar sent is saved in {e.saved}")
    return Diagnostic(
        code=e.code,
        severity="error",
        message=e.message,
        notes=tuple(dict.fromkeys(notes)),
        help=e.help,
    )


def constraint_spans(module: Module) -> dict[str, Any]:
    """Constraint id → the span that defines it (for notes)."""
    from ananke.ir.constraint import SourceProvenance

    out: dict[str, Any] = {}
    for s in module.sets:
        for c in s.constraints:
            if isinstance(c.provenance, SourceProvenance):
                out[c.id] = c.provenance.span
    return out


def result_diagnostics(
    result: Result, source: SourceFile, module: Module, url: str | None
) -> list[Diagnostic]:
    """The diagnostics of one generation: the service's failure, or what the last
    attempt's verification found, led by what it means for the result."""
    from ananke.ir import Diagnostic, Label, Span

    if result.error is not None:
        return [service_diagnostic(result.error)]
    v = result.verification
    if v is None:
        return []
    out = verification_diagnostics(v, source, constraint_spans(module))
    ignored: dict[str, str] = {}
    for attempt in result.attempts:
        ignored.update(attempt.completion.extra.get("ignored", {}))
    for setting, said in sorted(ignored.items()):
        out.append(
            Diagnostic(
                code="setting-ignored",
                severity="warning",
                message=f"{result.backend} does not take `{setting}` for this model: it was "
                "left out of the request",
                notes=(f"the service said: {said}",),
            )
        )
    tries = f"after {len(result.attempts)} attempt{'s' * (len(result.attempts) != 1)}"
    if result.status == "not-enforced":
        lead = Diagnostic(
            code="grammar-not-enforced",
            severity="error",
            message=f"{result.backend} at {url or 'its default URL'} returned code its grammar "
            "rejects: the service did not enforce the grammar",
            help="run vLLM with `--structured-outputs-config.backend guidance` (the grammar "
            "needs llguidance), and a vLLM that reads `structured_outputs` (0.12 or later); "
            "see deploy/",
        )
        out.insert(0, lead)
    elif result.status == "truncated":
        last = result.attempts[-1]
        got = last.completion.completion_tokens
        tokens = f"{got} tokens" if got is not None else "max_tokens"
        lead = Diagnostic(
            code="output-truncated",
            severity="error",
            message=f"the output was cut at {tokens} before the function was complete",
            labels=(Label(span=_code_span(source, 10**9, 10**9)),),
            notes=(
                f"{len(last.code.splitlines())} lines were written, every byte allowed by "
                "the grammar",
            ),
            help="raise --max-tokens",
        )
        out.insert(0, lead)
    elif result.status == "failed" and not any(d.severity == "error" for d in out):
        out.append(
            Diagnostic(
                code="constraint-violated",
                severity="error",
                message=f"some constraints are not known to hold {tries}",
                labels=(Label(span=Span.start_of(source.name)),),
            )
        )
    return out


def validate_code(code: str, compiled: CompiledSet, truncated: bool = False) -> Verification:
    """Verification of ``code`` against a set compiled for the reference target."""
    from ananke.runtime.verify import checker_for, verify

    return verify(
        code,
        compiled.cset,
        compiled.enforcements,
        checker_for(compiled.target, compiled.body),
        truncated=truncated,
    )


def intents_of(lines: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """Parsed lines of an intents file: JSON objects with ``intent`` (and optionally
    ``id``, ``constraint``), or JSON strings; ``ValueError`` naming the line. An intent
    without an ``id`` is named by a hash of its text and constraint set."""
    out: list[tuple[str, dict[str, Any]]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"line {n}: not JSON: {e.msg}") from None
        if isinstance(item, str):
            item = {"intent": item}
        if not isinstance(item, dict) or not isinstance(item.get("intent"), str):
            raise ValueError(f'line {n}: expected {{"intent": "..."}} or a JSON string')
        ident = item.get("id")
        if ident is None:
            # The intent itself names it, so that a rerun finds it wherever the line moved.
            import hashlib

            seed = json.dumps([item["intent"], item.get("constraint")], ensure_ascii=False)
            ident = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]
        out.append((str(ident), item))
    return out
