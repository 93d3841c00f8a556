"""Golden fixtures of the composition passes: ``tests/fixtures/passes/<pass>/*.ariadne``.

One file per case holds the input and what is expected::

    // file: web.ariadne          (the first file is the one compiled; without a marker,
                                   the text before any other marker is main.ariadne)
    ...Ariadne source...
    // file: api.ariadne          (more files, which the first may import)
    ...
    //== ir
    the IR text form after the pipeline up to and including <pass>
    //== diagnostics
    the diagnostics, one line each (the short format)

The pipeline runs from the first pass to the fixture's pass, verifying the IR after
every pass. For the ``lower`` folder the expected IR is replaced by ``//== plan``: the
``arc explain`` table. Update every fixture with ``pytest tests/ir --snapshot-update``
(the switch of the other golden files) and review the diff.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ananke.ariadne import compile_source, read_source
from ananke.ir import Diagnostics
from ananke.ir.compose import compose, pass_names
from ananke.ir.lower import lower
from ananke.ir.render import render
from ananke.ir.text import to_text
from ananke.ir.verify import verify

from ananke._explain import explain_table

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "passes"
CASES = sorted(FIXTURES.glob("*/*.ariadne"))
_FILE = re.compile(r"^// file: (\S+)\n", re.M)
_SECTION = re.compile(r"^//== (ir|plan|diagnostics)\n", re.M)


def _split(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """The fixture's input files (in order) and its expected sections."""
    first = _SECTION.search(text)
    inputs = text[: first.start()] if first else text
    sections: dict[str, str] = {}
    if first:
        parts = _SECTION.split(text[first.start() :])[1:]
        sections = dict(zip(parts[0::2], parts[1::2], strict=True))
    files: dict[str, str] = {}
    chunks = _FILE.split(inputs)
    # Text before the first `// file:` is the first file, unless it is only comments.
    if any(line.strip() and not line.startswith("//") for line in chunks[0].splitlines()):
        files["main.ariadne"] = chunks[0]
    files.update(dict(zip(chunks[1::2], chunks[2::2], strict=True)))
    return files, sections


def _run(case: Path, tmp: Path) -> dict[str, str]:
    files, _ = _split(case.read_text("utf-8"))
    for name, text in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text, "utf-8")
    pass_name = case.parent.name
    diags = Diagnostics()
    root = next(iter(files))
    source = read_source(Path(root), diags)
    assert source is not None
    module = compile_source(source, diags)
    out: dict[str, str] = {}
    if module is not None:
        verify(module)
        upto = (
            pass_names()
            if pass_name == "lower"
            else pass_names()[: pass_names().index(pass_name) + 1]
        )
        module = compose(module, diags, passes=upto, verify=True)
        if not diags.has_errors:
            # Every pass is idempotent: a .cir that went through them goes through again.
            again = Diagnostics()
            assert compose(module, again, passes=upto, verify=True) == module
            assert list(again) == [d for d in diags if d.code == "undecided-conflict"]
        if pass_name == "lower":
            if not diags.has_errors:
                own = module.own_sets
                lowered = lower(
                    type(module)(sources=module.sources, sets=own, schemas=module.schemas),
                    diags=diags,
                )
                out["plan"] = explain_table(lowered, {s.name: s.resolutions for s in own})
        else:
            out["ir"] = to_text(module)
    sources = {}
    for d in diags:
        for label in d.labels:
            if label.span.file not in sources and Path(label.span.file).is_file():
                src = read_source(Path(label.span.file), Diagnostics())
                if src is not None:
                    sources[label.span.file] = src
    out["diagnostics"] = render(diags, sources, "short", False)
    return out


def _write(case: Path, actual: dict[str, str]) -> None:
    text = case.read_text("utf-8")
    first = _SECTION.search(text)
    inputs = text[: first.start()] if first else text
    body = "".join(f"//== {k}\n{actual[k]}" for k in ("ir", "plan", "diagnostics") if k in actual)
    case.write_text(inputs.rstrip("\n") + "\n" + body, "utf-8")


def test_every_pass_has_fixtures() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders == {*pass_names(), "lower"}
    for folder in folders:
        assert len(list((FIXTURES / folder).glob("*.ariadne"))) >= 3, folder


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_pass_fixture(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.chdir(tmp_path)
    actual = _run(case, tmp_path)
    if request.config.option.update_snapshots:
        _write(case, actual)
        return
    _, expected = _split(case.read_text("utf-8"))
    assert expected == actual, f"{case.name} differs; update with --snapshot-update"
