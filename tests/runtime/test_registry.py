"""The generator registry: names, targets, and modules that import nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys

from ananke.runtime.generators import NAMES, generator_class, target


def test_each_class_sends_the_target_the_registry_names() -> None:
    for name in NAMES:
        cls = generator_class(name)
        assert cls.name == name and cls.target == target(name)


def test_importing_a_generator_imports_no_model_library() -> None:
    # `arc generate --backend vllm` must not pay for torch; the SDKs load on first use.
    code = (
        "import json, sys\n"
        "from ananke.runtime.generators import NAMES, generator_class\n"
        "for n in NAMES: generator_class(n)\n"
        "print(json.dumps(sorted(m for m in ('torch', 'transformers', 'vllm', 'openai') "
        "if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert json.loads(out) == []
