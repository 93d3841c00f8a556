"""Fixtures of the runtime tests: the vLLM server (one per session, in vLLM's own
environment) and the tiny model it serves."""

from tests.runtime.vllm_server import vllm_env, vllm_model, vllm_server

__all__ = ["vllm_env", "vllm_model", "vllm_server"]
