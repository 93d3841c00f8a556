"""The import graph of the package against its stages: no upward import, no cycle.

Every module of the installed package (found through ``package-dir`` in pyproject.toml) is
parsed with ``ast``; every import counts, those inside functions and under
``TYPE_CHECKING`` too, relative ones resolved. A module may import modules of its own
stage or of a lower rank only, and no two modules may reach each other (Tarjan's strongly
connected components). There are no exceptions.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RANKS: dict[str, int] = {
    "ir": 0,
    "languages": 1,
    "frontends": 2,
    "backends": 2,
    "ariadne": 3,
    "engines": 4,
    "runtime": 5,
    "ananke": 6,
}
"""Each stage (a folder, ``ananke`` for the top package's own modules) and its rank."""


def package_dirs() -> dict[str, Path]:
    """Each package of the distribution and its folder, from pyproject.toml."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    mapping: dict[str, str] = setuptools["package-dir"]
    return {pkg: ROOT / mapping.get(pkg, pkg.replace(".", "/")) for pkg in setuptools["packages"]}


def module_files(packages: Mapping[str, Path]) -> dict[str, Path]:
    """Each module's dotted name and its file (a package is its ``__init__.py``)."""
    out: dict[str, Path] = {}
    for pkg, folder in packages.items():
        for path in sorted(folder.glob("*.py")):
            out[pkg if path.stem == "__init__" else f"{pkg}.{path.stem}"] = path
    return out


def _resolve(name: str, modules: Iterable[str]) -> str | None:
    """The longest dotted prefix of ``name`` that is a module of the package."""
    known = set(modules)
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def imports_of(module: str, path: Path, modules: Iterable[str]) -> set[str]:
    """The modules of the package that ``module`` (the file ``path``) imports anywhere."""
    known = set(modules)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # `from . import x` in a package is relative to the package itself.
                parts = module.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = ".".join(parts[:keep])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            # `from pkg import name` imports the module pkg.name where there is one.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            target = _resolve(name, known)
            if target is not None and target != module:
                out.add(target)
    return out


def import_graph(files: Mapping[str, Path]) -> dict[str, set[str]]:
    return {module: imports_of(module, path, files) for module, path in files.items()}


def stage(module: str) -> str:
    """The stage a module of the ``ananke`` package belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANKS else "ananke"


def layer_violations(graph: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    """Every import of a module of another stage that is not of a lower rank."""
    out: set[tuple[str, str]] = set()
    for src, targets in graph.items():
        for dst in targets:
            a, b = stage(src), stage(dst)
            if a != b and RANKS[b] >= RANKS[a]:
                out.add((src, dst))
    return out


def cycles(graph: Mapping[str, Iterable[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _show_edges(edges: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"  {a} -> {b} ({stage(a)} imports {stage(b)})" for a, b in sorted(edges))


def _show_cycles(groups: Iterable[frozenset[str]]) -> str:
    return "\n".join(f"  {{{', '.join(sorted(g))}}}" for g in sorted(groups, key=sorted))


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(module_files(package_dirs()))


def test_every_package_is_a_stage() -> None:
    for pkg in package_dirs():
        parts = pkg.split(".")
        assert parts[0] == "ananke", pkg
        assert len(parts) == 1 or parts[1] in RANKS, f"{pkg} is in no stage of RANKS"


def test_the_graph_is_read(graph: dict[str, set[str]]) -> None:
    # A graph read wrongly (no module, no edge) would pass every check below.
    assert "ananke.ir.grammar" in graph and "ananke.cli" in graph
    assert "ananke.ir.grammar" in graph["ananke.ir.automata"]


def test_no_import_of_a_later_stage(graph: dict[str, set[str]]) -> None:
    found = layer_violations(graph)
    assert not found, "imports of a later stage:\n" + _show_edges(found)


def test_no_import_cycle(graph: dict[str, set[str]]) -> None:
    found = cycles(graph)
    assert not found, "modules that import each other:\n" + _show_cycles(found)


# --- the checks themselves, on graphs made up for them --------------------------------


def test_an_upward_import_is_found() -> None:
    graph = {
        "ananke.ir.lower": {"ananke.languages.python", "ananke.ir.grammar"},
        "ananke.languages.python": {"ananke.ir.grammar"},
        "ananke.ir.grammar": set(),
    }
    assert layer_violations(graph) == {("ananke.ir.lower", "ananke.languages.python")}


def test_a_same_rank_import_between_stages_is_found() -> None:
    graph = {"ananke.backends.gbnf": {"ananke.frontends.grammars"}}
    assert layer_violations(graph) == {("ananke.backends.gbnf", "ananke.frontends.grammars")}


def test_downward_imports_pass() -> None:
    graph = {
        "ananke.cli": {"ananke.runtime", "ananke.engines.readers", "ananke.ir"},
        "ananke.runtime": {"ananke.engines.readers"},
        "ananke.engines.readers": {"ananke.backends.gbnf", "ananke.ariadne"},
        "ananke.backends.gbnf": {"ananke.languages.python", "ananke.ir.grammar"},
    }
    assert layer_violations(graph) == set()
    assert cycles(graph) == set()


def test_a_cycle_is_found_with_its_modules() -> None:
    graph = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},
        "d": {"e"},
        "e": {"d"},
        "f": {"a"},
    }
    assert cycles(graph) == {frozenset({"a", "b", "c"}), frozenset({"d", "e"})}


def test_imports_are_resolved(tmp_path: Path) -> None:
    pkg = tmp_path / "ananke"
    (pkg / "ir").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "ir" / "__init__.py").write_text("from . import grammar\n")
    (pkg / "ir" / "grammar.py").write_text("import json\n")
    (pkg / "ir" / "ranges.py").write_text("from .grammar import Expr\n")
    (pkg / "ir" / "lower.py").write_text(
        "from ..ir import ranges\n"
        "def later() -> None:\n"
        "    import ananke.cli\n"
        "    from ananke.ir.grammar import Rule\n"
    )
    (pkg / "cli.py").write_text("from ananke import ir\nfrom ananke.ir.nothing import x\n")
    files = module_files({"ananke": pkg, "ananke.ir": pkg / "ir"})
    assert import_graph(files) == {
        "ananke": set(),
        "ananke.cli": {"ananke.ir"},
        "ananke.ir": {"ananke.ir.grammar"},
        "ananke.ir.grammar": set(),
        "ananke.ir.lower": {"ananke.ir.ranges", "ananke.cli", "ananke.ir.grammar"},
        "ananke.ir.ranges": {"ananke.ir.grammar"},
    }


# --- the documents say what the tree is -------------------------------------------------


def _documented_folders(page: str) -> set[str]:
    """The folders a page's tables name in their first column (`` `ir/compose/` ``)."""
    text = (ROOT / page).read_text(encoding="utf-8")
    return {
        cell.strip("`/")
        for line in text.splitlines()
        if line.startswith("| `")
        for cell in [line.split("|")[1].strip()]
        if cell.endswith("/`") and "<" not in cell  # not a pattern (`backends/<target>/`)
    }


@pytest.mark.parametrize("page", ["README.md", "spec/architecture.md"])
def test_the_layout_tables_name_the_stages_of_the_tree(page: str) -> None:
    folders = _documented_folders(page)
    missing = {stage for stage in RANKS if stage not in folders}
    assert not missing, f"{page} names no folder for the stages {sorted(missing)}"
    assert all((ROOT / f).is_dir() for f in folders), [
        f for f in folders if not (ROOT / f).is_dir()
    ]


def test_the_architecture_page_gives_the_ranks_the_test_checks() -> None:
    # Its table lists the stages in rank order; the import rule here is the one it states.
    text = (ROOT / "spec" / "architecture.md").read_text(encoding="utf-8")
    order = [f for f in _documented_folders("spec/architecture.md") if f in RANKS]
    rows = sorted(order, key=lambda f: text.index(f"| `{f}/`"))
    assert [RANKS[f] for f in rows] == sorted(RANKS[f] for f in rows), rows
