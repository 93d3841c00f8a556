"""Library mode: the `Ananke` class (spec/api.md, "Generation"), for what needs no service.
Generation through services is tested in tests/runtime/."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import ananke
from ananke import Ananke, DiagnosticError
from tests.seed_example import GOOD, HANDLER


def test_overrides_and_defaults() -> None:
    a = Ananke(config=False, backend="local", max_tokens=64)
    assert (a.options.backend, a.options.max_tokens, a.options.attempts) == ("local", 64, 3)
    with pytest.raises(TypeError, match="did you mean 'max_tokens'"):
        Ananke(config=False, max_token=5)


def test_the_key_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    a = Ananke(config=False, backend="openai", api_key="sk-secret-123")
    assert "sk-secret-123" not in repr(a) and "'***'" in repr(a)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    assert Ananke(config=False, backend="openai").options.key() == "sk-from-env"
    assert "sk-from-env" not in repr(Ananke(config=False, backend="openai").options)


def test_compile_takes_paths_text_and_modules() -> None:
    a = Ananke(config=False)
    from_path = a.compile_sync(HANDLER)
    from_str_path = asyncio.run(a.compile(str(HANDLER)))
    from_text = a.compile_sync(HANDLER.read_text())
    assert [s.name for s in from_path.sets] == ["api_handler"]
    assert from_str_path.sets == from_path.sets
    assert [c.id for c in from_text.sets[0].constraints] == [
        c.id for c in from_path.sets[0].constraints
    ]
    assert a.compile_sync(from_path) is from_path
    with pytest.raises(DiagnosticError):
        a.compile_sync("constraint a { max_lines: 0; }\n")


def test_validate(tmp_path: Path) -> None:
    a = Ananke(config=False, cache_dir=str(tmp_path))
    ok = a.validate_sync(GOOD, HANDLER)
    assert ok.ok and ok.grammar.status == "accepted"
    bad_code = GOOD.replace("return data", "return eval(data)")
    bad = asyncio.run(a.validate(bad_code, HANDLER))
    assert not bad.ok and bad.grammar.status == "rejected"
    assert {v.id for v in bad.verdicts if v.held is False} == {"api_handler.forbid.eval"}
    # The same violations as the module-level validate, which runs the post checks only.
    module = ananke.load(HANDLER)
    post_only = [x.constraint_id for x in ananke.validate(module, bad_code)]
    assert post_only == [x.constraint_id for x in a.validate_sync(bad_code, module).violations]


def test_unknown_or_ambiguous_set(tmp_path: Path) -> None:
    a = Ananke(config=False, cache_dir=str(tmp_path))
    two = "constraint a { max_lines: 5; }\nconstraint b { max_lines: 6; }\n"
    with pytest.raises(ValueError, match="--constraint NAME"):
        a.validate_sync("def f(x):\n    return x\n", two)
    with pytest.raises(ValueError, match="no constraint set named"):
        a.validate_sync("def f(x):\n    return x\n", two, constraint="zz")
    assert a.validate_sync("def f(x):\n    return x\n", two, constraint="b").ok


def test_sync_wrappers_refuse_a_running_loop() -> None:
    a = Ananke(config=False)

    async def inside() -> None:
        with pytest.raises(RuntimeError, match="await the method"):
            a.validate_sync(GOOD, HANDLER)

    asyncio.run(inside())


def test_settings_come_from_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "key.txt"
    key.write_text("sk-from-file\n")
    cfg = tmp_path / "ananke.config.yaml"
    cfg.write_text(
        "generation:\n  backend: modal\n  endpoint: http://10.1.2.3:8000\n"
        "  max_tokens: 99\n  api_key_file: key.txt\n"
    )
    a = Ananke(config=cfg, temperature=0.5)
    o = a.options
    assert (o.backend, o.url, o.max_tokens, o.temperature) == (
        "vllm",
        "http://10.1.2.3:8000",
        99,
        0.5,
    )
    assert o.key() == "sk-from-file" and "sk-from-file" not in repr(a)
    # With config=None, the nearest file above the current folder is read.
    monkeypatch.chdir(tmp_path)
    assert Ananke().options.max_tokens == 99
    assert Ananke(config=False).options.max_tokens == 512
