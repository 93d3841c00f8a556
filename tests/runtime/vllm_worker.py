"""Run by the tests with the vLLM environment's Python (vLLM cannot be imported in the
project's own environment): ``python vllm_worker.py COMMAND < input.json``, one JSON
document on stdout.

* ``requests``: validates request bodies with vLLM's own pydantic request models; input
  ``[{"endpoint": "completions"|"chat", "body": {...}}]``, output per body the fields vLLM
  does not know (which it would ignore) and the ``structured_outputs`` it read, or the
  validation error.
* ``serve-args``: parses a ``vllm serve`` command line with vLLM's own parser; input the
  arguments after ``vllm``, output the structured-outputs settings it read.
* ``inprocess``: completes requests with ``VLLMInProcessGenerator``; input ``{"model":
  DIR, "save_dir": DIR, "engine_args": {...}, "chat_requests": N, "requests": [{"text",
  "system", "user", "body", "max_tokens", "temperature", "seed"}]}``, output the
  completions (or errors) through the completion prompt, then of the first N requests
  through the chat template (one engine for both: loading it is the slow part), and the
  calls into vLLM with the number of prompts each carried.

It imports nothing of the test suite (it runs outside it); the in-process generator's
worker processes need the ``__main__`` guard below.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from typing import Any


def requests(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
    from vllm.entrypoints.openai.completion.protocol import CompletionRequest

    results = []
    for item in items:
        model = ChatCompletionRequest if item["endpoint"] == "chat" else CompletionRequest
        body = item["body"]
        known = {name for name, f in model.model_fields.items()} | {
            f.alias for f in model.model_fields.values() if f.alias
        }
        try:
            parsed = model.model_validate(body)
        except Exception as e:
            results.append({"error": str(e)})
            continue
        so = parsed.structured_outputs
        results.append(
            {
                "unknown": sorted(set(body) - known),
                "structured_outputs": None
                if so is None
                else {
                    f.name: getattr(so, f.name)
                    for f in dataclasses.fields(so)
                    if f.init and getattr(so, f.name) not in (None, False)
                },
                "max_tokens": parsed.max_tokens,
                "stream": parsed.stream,
            }
        )
    return results


def serve_args(argv: list[str]) -> dict[str, Any]:
    from vllm.entrypoints.cli.serve import ServeSubcommand
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(prog="vllm")
    subparsers = parser.add_subparsers(dest="subparser")
    command = ServeSubcommand()
    command.subparser_init(subparsers)
    args = parser.parse_args(argv)
    command.validate(args)
    config = args.structured_outputs_config
    backend = config.get("backend") if isinstance(config, dict) else config.backend
    return {
        "subcommand": args.subparser,
        "model": args.model_tag,
        "structured_outputs_backend": backend,
    }


def inprocess(spec: dict[str, Any]) -> dict[str, Any]:
    import vllm
    from ananke.runtime.generators import create
    from ananke.runtime.protocol import GenerationRequest, Prompt, ServiceError, ServiceOptions

    # How many prompts each call into vLLM carried: the real methods, counted.
    calls: list[list[Any]] = []

    def counted(method: Any) -> Any:
        def run(self: Any, prompts: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append([method.__name__, len(prompts)])
            return method(self, prompts, *args, **kwargs)

        return run

    vllm.LLM.generate = counted(vllm.LLM.generate)
    vllm.LLM.chat = counted(vllm.LLM.chat)

    def outcome(c: Any) -> dict[str, Any]:
        if isinstance(c, ServiceError):
            return {"error": c.code, "message": c.message, "saved": c.saved}
        if isinstance(c, BaseException):
            raise c
        return {
            "text": c.text,
            "finish_reason": c.finish_reason,
            "raw_finish_reason": c.raw_finish_reason,
            "completion_tokens": c.completion_tokens,
            "prompt_tokens": c.prompt_tokens,
            "model": c.model,
        }

    async def run() -> dict[str, Any]:
        options = ServiceOptions(model=spec["model"], device="cpu", save_dir=spec["save_dir"])
        generator = create("vllm-inprocess", options=options, **spec.get("engine_args", {}))
        requests = [
            GenerationRequest(
                prompt=Prompt(system=r["system"], user=r["user"], text=r["text"]),
                body=r["body"],
                max_tokens=r["max_tokens"],
                temperature=r["temperature"],
                seed=r["seed"],
            )
            for r in spec["requests"]
        ]
        try:
            # Together: the generator batches what arrives while the engine is busy.
            generated = await asyncio.gather(
                *(generator.complete(r) for r in requests), return_exceptions=True
            )
            generator.chat = True
            chatted = await asyncio.gather(
                *(generator.complete(r) for r in requests[: spec["chat_requests"]]),
                return_exceptions=True,
            )
        finally:
            await generator.aclose()
        return {
            "generated": [outcome(c) for c in generated],
            "chatted": [outcome(c) for c in chatted],
            "calls": calls,
        }

    return asyncio.run(run())


def main() -> None:
    command = sys.argv[1]
    data = json.load(sys.stdin)
    handler = {"requests": requests, "serve-args": serve_args, "inprocess": inprocess}[command]
    result = handler(data)
    # vLLM logs to stdout: the result is the last line.
    sys.stdout.write("\n" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
