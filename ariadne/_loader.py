"""Imports: a file and every file it imports, checked into one :class:`Module`.

``import "path/other.ariadne";`` reads a file relative to the importing one; its sets and
``let`` values are then named as written there (``api_handler``). ``import std.python;``
reads a module: ``std.<language>`` ships with Ananke (the ``std.ariadne`` of the language's
folder), any other dotted path is ``a/b.ariadne`` relative to the importing file; its names
are qualified by the module path (``std.python.safe``). Each file is read and checked
once however often it is imported.
A cycle of imports is an error that shows the chain.

Sets and constraints from imported files are marked ``library``: they serve ``extends``
and ``let`` references, rank below the file being compiled when constraints conflict,
and are not emitted on their own.
"""

from __future__ import annotations

import importlib.resources
import re
from dataclasses import dataclass, field
from pathlib import Path

from ananke.ir.constraint import Module
from ananke.ir.diagnostics import Diagnostics, Label, quote
from ananke.ir.lower.language import names
from ananke.ir.source import SourceFile, Span

from ._ast import ImportItem, StringValue, TypeValue
from ._check import LetBinding, Scope, check
from ._parser import parse
from ._source import read_source

__all__ = ["STD_MODULES", "compile_source", "std_source"]


STD_MODULES = ("std.python",)
"""The modules of the standard library, importable as ``import std.python;``."""


_STD_NAME = re.compile(r"std/([A-Za-z_][A-Za-z0-9_]*)\.ariadne")


def std_source(name: str) -> SourceFile | None:
    """The text of a standard-library file by the name its spans carry
    (``std/python.ariadne``, the ``std.ariadne`` of the registered language's folder);
    None for any other name."""
    found = _STD_NAME.fullmatch(name)
    if found is None or found.group(1) not in names():
        return None
    try:
        resource = importlib.resources.files(f"ananke.languages.{found.group(1)}")
        resource = resource.joinpath("std.ariadne")
        if not resource.is_file():
            return None
    except (ModuleNotFoundError, OSError):  # a language without a folder: no std module
        return None
    return SourceFile(name, resource.read_text("utf-8"))


@dataclass
class _Unit:
    """One file, checked: what it defines, under the names the module gives them."""

    source: SourceFile
    module: Module | None
    sets: dict[str, str] = field(default_factory=dict)
    """Local name → name in the module."""
    lets: dict[str, LetBinding] = field(default_factory=dict)
    schemas: dict[str, str] = field(default_factory=dict)


@dataclass
class _Loader:
    diags: Diagnostics
    units: dict[str, _Unit] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    stack: list[tuple[str, Span | None]] = field(default_factory=list)
    """Files being loaded, outermost first, each with the import that led to it."""
    names: dict[str, str] = field(default_factory=dict)
    """Key → the file's name as spans show it."""

    def load(
        self, key: str, source: SourceFile, qualifier: str, library: bool, via: Span | None
    ) -> _Unit | None:
        self.names[key] = source.name
        # A file that fails is remembered too, so that its errors are reported once.
        self.units[key] = _Unit(source, None)
        tree = parse(source, self.diags)
        if tree is None:
            return None
        self.stack.append((key, via))
        scope = Scope(qualifier=qualifier, library=library)
        ok = True
        for item in tree.items:
            if isinstance(item, ImportItem):
                ok = self.import_(item, source, scope) and ok
        self.stack.pop()
        if not ok:
            return None
        module = check(tree, source, self.diags, scope)
        unit = _Unit(source, module)
        # What this file exports: its own definitions, not what it imported.
        strip = len(qualifier) + 1 if qualifier else 0
        unit.sets = {s.name[strip:]: s.name for s in module.sets} if module else {}
        unit.schemas = {s.name[strip:]: s.name for s in module.schemas} if module else {}
        unit.lets = {k: v for k, v in scope.lets.items() if v.source is source}
        self.units[key] = unit
        self.order.append(key)
        return unit if module is not None else None

    def import_(self, item: ImportItem, importer: SourceFile, scope: Scope) -> bool:
        span = importer.span(item.start, item.end)
        found = self.resolve(item, importer)
        if found is None:
            return False
        key, source, qualifier = found
        chain = [k for k, _ in self.stack]
        if key in chain:
            self.cycle(key, span)
            return False
        unit = self.units.get(key) or self.load(key, source, qualifier, True, span)
        if unit is None or unit.module is None:
            return False  # its errors are reported once, where they are
        for local, name in unit.sets.items():
            scope.sets[f"{qualifier}.{local}" if qualifier else local] = name
        for local, binding in unit.lets.items():
            scope.lets[f"{qualifier}.{local}" if qualifier else local] = binding
        for local, name in unit.schemas.items():
            scope.schemas[f"{qualifier}.{local}" if qualifier else local] = name
        if qualifier:
            scope.modules.add(qualifier)
        return True

    def resolve(self, item: ImportItem, importer: SourceFile) -> tuple[str, SourceFile, str] | None:
        """The imported file's key, text and qualifier; None (reported) if there is none."""
        here = Path(importer.name).parent
        where: StringValue | TypeValue
        if item.path is not None:
            where = item.path
            path = here / item.path.value
            qualifier = ""
        else:
            assert item.module is not None
            where = item.module
            parts = [p.text for p in item.module.parts]
            qualifier = item.module.name
            if parts[0] == "std":
                name = "std/" + "/".join(parts[1:]) + ".ariadne"
                std = std_source(name)
                if std is None:
                    self.unresolved(
                        importer,
                        where,
                        f"no module {quote(qualifier)} in the standard library",
                        f"the standard library has {', '.join(STD_MODULES)}",
                    )
                    return None
                return f"std:{qualifier}", std, qualifier
            path = here.joinpath(*parts[:-1], parts[-1] + ".ariadne")
        try:
            missing = "" if path.is_file() else "no such file"
        except OSError as e:  # a name the file system refuses (too long, say)
            missing = e.strerror or type(e).__name__
        if missing:
            self.unresolved(
                importer,
                where,
                f"cannot import {quote(path.as_posix())}: {missing}",
                "paths are relative to the importing file",
            )
            return None
        probe = Diagnostics()
        source = read_source(path, probe)
        if source is None:
            self.diags.extend(probe)
            return None
        return str(path.resolve()), source, qualifier

    def unresolved(
        self, importer: SourceFile, node: StringValue | TypeValue, message: str, help: str
    ) -> None:
        self.diags.error(
            "unresolved-import",
            message,
            Label(span=importer.span(node.start, node.end), message="imported here"),
            help=help,
        )

    def cycle(self, key: str, closing: Span) -> None:
        at = [k for k, _ in self.stack].index(key)
        names = [self.name_of(k) for k, _ in self.stack[at:]] + [self.name_of(key)]
        labels = [Label(span=closing, message="closes the cycle")]
        labels += [
            Label(span=via, message="imported here", primary=False)
            for _, via in self.stack[at + 1 :]
            if via is not None
        ]
        self.diags.error(
            "import-cycle",
            "import cycle: " + " imports ".join(names),
            *labels,
            help="move what both files need into a third file that both import",
        )

    def name_of(self, key: str) -> str:
        return self.names.get(key, key)


def compile_source(source: SourceFile, diags: Diagnostics) -> Module | None:
    """Parse, check and lower ``source`` and every file it imports; None if any of them has
    errors (all in ``diags``)."""
    errors_before = diags.error_count
    loader = _Loader(diags)
    path = Path(source.name)
    key = str(path.resolve()) if path.is_file() else f"root:{source.name}"
    root = loader.load(key, source, "", False, None)
    if root is None or root.module is None or diags.error_count > errors_before:
        return None
    # The file being compiled first, then what it imports in the order they were read.
    modules = [root.module]
    modules += [m for k in loader.order if (m := loader.units[k].module) not in (None, root.module)]
    sets = [s for m in modules for s in m.sets]
    seen: dict[str, Span | None] = {}
    for s in sets:
        first = seen.setdefault(s.name, s.span)
        if first is not s.span:
            diags.error(
                "duplicate-definition",
                f"constraint {quote(s.name)} is defined in two files",
                *([Label(span=s.span, message="defined again here")] if s.span else []),
                *(
                    [Label(span=first, message="first defined here", primary=False)]
                    if first
                    else []
                ),
                help="rename one of them, or import one file by module path "
                "(`import lib.api;`) so that its names are qualified",
            )
    if diags.error_count > errors_before:
        return None
    return Module(
        sources=tuple(src for m in modules for src in m.sources),
        sets=tuple(sets),
        schemas=tuple(x for m in modules for x in m.schemas),
    )
