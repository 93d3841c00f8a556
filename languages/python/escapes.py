"""Ways around ``forbid``: how generated code can reach a forbidden name without writing it.

``forbid: ["eval"]`` rejects the name written bare; it does not make code unable to
evaluate text. This table says, for each way around it, whether a grammar can close it
(by forbidding other plain names), what the checks after generation report, and what
``std.python.no_dynamic_code`` adds. ``arc explain`` shows the rows that apply to a
constraint set (:func:`forbid_notes`) and ``spec/python.md`` holds the whole table
(:func:`markdown_table`); a test keeps both, and the standard library, in step with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["ESCAPES", "STD_SET", "Escape", "forbid_notes", "markdown_table"]

STD_SET = "std.python.no_dynamic_code"


@dataclass(frozen=True, slots=True)
class Escape:
    """One way around ``forbid``."""

    what: str
    example: str
    """Python code, shown in backquotes."""
    more: tuple[str, ...]
    """More examples for the documentation (Python code)."""
    closers: tuple[str, ...]
    """Plain names that, all forbidden, make the grammar reject every instance of it; empty
    when no grammar can close it."""
    post: str
    """What the checks after generation report (Markdown)."""
    std: str
    """What ``std.python.no_dynamic_code`` does against it (Markdown)."""
    std_names: tuple[str, ...] = ()
    """The names ``std`` says the set forbids after generation."""
    applies: Literal["plain", "dotted", "any"] = "any"
    """Which forbidden names it goes around."""


ESCAPES: tuple[Escape, ...] = (
    Escape(
        "the `builtins` module",
        "builtins.eval(x)",
        ('__builtins__["eval"](x)', "b = builtins; b.eval(x)"),
        ("builtins", "__builtins__"),
        "reported, also through an alias",
        "closes it in the grammar",
        applies="plain",
    ),
    Escape(
        "an alias made in the function",
        "import os as o; o.system(x)",
        ("m = os; m.system(x)", "from os import system as s; s(x)"),
        (),
        "reported at each use through the alias",
        "nothing more: the check after generation reports it",
        applies="dotted",
    ),
    Escape(
        "an attribute named by a constant string",
        'getattr(os, "system")(x)',
        ('vars(os)["system"]',),
        ("getattr", "vars"),
        "reported when the object is a module or `builtins`",
        "closes it in the grammar",
    ),
    Escape(
        "an attribute looked up through a method or a `__dict__`",
        'os.__dict__["system"]',
        ('object.__getattribute__(os, "system")', 'operator.attrgetter("system")(os)'),
        (),
        "reported when the name is a constant and the object a module or `builtins`",
        "forbids `.__getattribute__`, `operator.attrgetter` and `operator.methodcaller` "
        "after generation",
        std_names=(".__getattribute__", "operator.attrgetter", "operator.methodcaller"),
    ),
    Escape(
        "a namespace looked up by a constant string",
        'globals()["eval"](x)',
        ('locals()["eval"]', 'vars()["eval"]'),
        ("globals", "locals", "vars"),
        "reported",
        "closes it in the grammar",
    ),
    Escape(
        "a module imported by a constant string",
        '__import__("os").system(x)',
        ('importlib.import_module("os")',),
        ("__import__", "importlib"),
        "reported",
        "closes it in the grammar",
    ),
    Escape(
        "a module taken from `sys.modules`",
        'sys.modules["os"].system(x)',
        (),
        (),
        "reported when the key is a constant",
        "forbids `sys.modules` after generation",
        std_names=("sys.modules",),
    ),
    Escape(
        "introspection of functions, frames and classes",
        "().__class__.__base__.__subclasses__()",
        ('f.__globals__["eval"]', "sys._getframe().f_globals"),
        (),
        "a constant name looked up in `__globals__`, `f_globals` or `__builtins__` is "
        "reported; the walk itself only where its attributes are forbidden",
        "forbids `.__globals__`, `.__builtins__`, `.__subclasses__`, `.__code__`, "
        "`.f_globals` and more after generation",
        std_names=(".__globals__", ".__builtins__", ".__subclasses__", ".__code__", ".f_globals"),
    ),
    Escape(
        "code run from text or bytes by a builtin or a module",
        "pickle.loads(b)",
        ('exec(compile(s, "f", "exec"))', "marshal.loads(b)", "runpy.run_path(p)"),
        ("compile", "exec", "pickle", "marshal", "shelve", "runpy"),
        "reported where forbidden",
        "closes it in the grammar",
    ),
    Escape(
        "a standard-library function that runs text",
        "timeit.timeit(s)",
        ("types.FunctionType(code, {})()", "pydoc.locate(s)", "code.InteractiveInterpreter()"),
        (),
        "reported where forbidden",
        "forbids the ones it lists (`timeit.timeit`, `types.FunctionType`, ...) after generation",
        std_names=("timeit.timeit", "types.FunctionType", "pydoc.locate"),
    ),
    Escape(
        "a name built at run time",
        'getattr(x, "ev" + "al")',
        ("obj.__dict__[name]", "sys.modules[name]"),
        (),
        "open: no reading of the text can tell the name",
        "narrows it (`getattr`, `globals`, `vars`, `sys.modules` are forbidden); "
        "`obj.__dict__[name]` stays open",
    ),
    Escape(
        "code outside the function's text",
        "logging.config.dictConfig(d)",
        (),
        (),
        "open: `forbid` reads the function's own text",
        "open",
    ),
)
"""Every way around ``forbid`` that Ananke knows, in the order the documentation shows."""


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _in_grammar(e: Escape, forbidden: frozenset[str] | None) -> str:
    """How the grammar fares against ``e`` when ``forbidden`` are the plain names it rejects
    (None: in general, for the documentation)."""
    if not e.closers:
        return "open (no grammar can close it)" if forbidden is not None else "open"
    if forbidden is None:
        return f"closed by forbidding {_names(e.closers)}"
    missing = [n for n in e.closers if n not in forbidden]
    if not missing:
        return f"closed ({_names(e.closers)} forbidden)"
    return f"open (forbid {_names(missing)} to close it)"


def forbid_notes(names: Iterable[str], in_grammar: Iterable[str]) -> tuple[str, ...]:
    """Notes for ``arc explain`` on a constraint set that forbids ``names`` (plain, dotted
    and attribute names), of which the grammar rejects ``in_grammar``: each way around
    them that remains, at each level, and what ``std.python.no_dynamic_code`` does."""
    names = list(names)
    if not names:
        return ()
    plain = frozenset(in_grammar)
    applies = {
        "plain": any("." not in n for n in names),
        "dotted": any("." in n.lstrip(".") for n in names),
        "any": True,
    }
    notes = [
        "forbid is not a sandbox: code can reach a forbidden name without writing it; the "
        'ways that remain follow (spec/python.md, "Ways around forbid")'
    ]
    closed: list[str] = []
    for e in ESCAPES:
        if not applies[e.applies]:
            continue
        if e.closers and set(e.closers) <= plain:
            closed.append(e.what)
            continue
        std = e.std
        if e.std_names and set(e.std_names) <= set(names):
            std = "in effect here"
        notes.append(
            f"way around forbid: {e.what} (`{e.example}`): token: {_in_grammar(e, plain)}; "
            f"post: {e.post}; {STD_SET}: {std}"
        )
    if closed:
        notes.append("ways around forbid closed in the grammar: " + "; ".join(closed))
    return tuple(notes)


def markdown_table() -> str:
    """The table of ``spec/python.md``, "Ways around forbid"."""
    rows = [
        f"| way around | examples | in the grammar | after generation | `{STD_SET}` |",
        "| --- | --- | --- | --- | --- |",
    ]
    for e in ESCAPES:
        examples = ", ".join(f"`{x}`" for x in (e.example, *e.more)).replace("|", "\\|")
        what = e.what + {"plain": " (plain names)", "dotted": " (dotted names)"}.get(e.applies, "")
        rows.append(f"| {what} | {examples} | {_in_grammar(e, None)} | {e.post} | {e.std} |")
    return "\n".join(rows) + "\n"
