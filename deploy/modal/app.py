"""vLLM on Modal for Ananke: a GPU container that scales to zero when idle, serving vLLM's
OpenAI-compatible API at a web URL that ``arc generate --backend vllm --url URL`` calls.

    pip install modal && modal setup
    modal secret create ananke-vllm VLLM_API_KEY=$(openssl rand -hex 24)
    ANANKE_MODAL_MODEL=Qwen/Qwen2.5-Coder-7B-Instruct modal deploy deploy/modal/app.py

``modal deploy`` prints the URL (``https://WORKSPACE--ananke-vllm.modal.run``);
send the same key from the client. The first request after an idle spell waits for a
container to start and the model to load (minutes for large models: the weights are kept
in a Modal volume after the first download). Settings come from the environment at deploy
time: ``ANANKE_MODAL_MODEL``, ``ANANKE_MODAL_GPU`` (``H100``), ``ANANKE_MODAL_MAX_MODEL_LEN``
(8192), ``ANANKE_MODAL_IDLE_SECONDS`` (300: how long an idle container stays up),
``ANANKE_MODAL_MAX_CONTAINERS`` (1).
"""

from __future__ import annotations

import os
import subprocess

import modal

VLLM_VERSION = "0.32.0"
"""The vLLM release the image installs: the one whose ``vllm serve`` flags the tests check."""
PORT = 8000
MINUTES = 60

MODEL = os.environ.get("ANANKE_MODAL_MODEL", "Qwen/Qwen2.5-Coder-7B-Instruct")
GPU = os.environ.get("ANANKE_MODAL_GPU", "H100")
MAX_MODEL_LEN = int(os.environ.get("ANANKE_MODAL_MAX_MODEL_LEN", "8192"))
IDLE_SECONDS = int(os.environ.get("ANANKE_MODAL_IDLE_SECONDS", str(5 * MINUTES)))
MAX_CONTAINERS = int(os.environ.get("ANANKE_MODAL_MAX_CONTAINERS", "1"))
MAX_INPUTS = 64
"""Requests one container takes at once: vLLM batches them on the GPU."""

image = (
    modal.Image.debian_slim(python_version="3.12")
    .uv_pip_install(f"vllm=={VLLM_VERSION}", "huggingface-hub[hf_transfer]")
    .env({"HF_HUB_ENABLE_HF_TRANSFER": "1"})
)

# Downloaded weights and vLLM's compilation cache outlive the containers.
weights = modal.Volume.from_name("ananke-hf-cache", create_if_missing=True)
compiled = modal.Volume.from_name("ananke-vllm-cache", create_if_missing=True)

app = modal.App("ananke-vllm")


def serve_command(model: str = MODEL, port: int = PORT) -> list[str]:
    """The ``vllm serve`` command the container runs (deploy/vllm/serve.sh's settings)."""
    return [
        "vllm",
        "serve",
        model,
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
        "--max-model-len",
        str(MAX_MODEL_LEN),
        # llguidance runs the Lark grammars `arc emit --target vllm` prints as written.
        "--structured-outputs-config.backend",
        "guidance",
        "--generation-config",
        "vllm",
    ]


@app.cls(
    image=image,
    gpu=GPU,
    # Scale to zero: no container (and no GPU bill) while nobody sends requests.
    min_containers=0,
    max_containers=MAX_CONTAINERS,
    scaledown_window=IDLE_SECONDS,
    timeout=30 * MINUTES,
    volumes={"/root/.cache/huggingface": weights, "/root/.cache/vllm": compiled},
    # VLLM_API_KEY: vLLM refuses requests without it.
    secrets=[modal.Secret.from_name("ananke-vllm", required_keys=["VLLM_API_KEY"])],
)
@modal.concurrent(max_inputs=MAX_INPUTS)
class VLLM:
    """One container: vLLM's engine on a GPU behind its OpenAI-compatible server."""

    @modal.web_server(port=PORT, startup_timeout=20 * MINUTES, label="ananke-vllm")
    def serve(self) -> None:
        # Modal routes requests to the port once it answers.
        self.process = subprocess.Popen(serve_command())

    @modal.exit()
    def stop(self) -> None:
        process = getattr(self, "process", None)
        if process is not None:
            process.terminate()
            process.wait(timeout=60)
