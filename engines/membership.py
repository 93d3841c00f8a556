"""One small uniform API over the real grammar engines: compile a grammar, test strings.

Every engine decides exact whole-string membership with no model and no download:

- llguidance (``llguidance-*``): a byte-level tokenizer (256 byte tokens and an EOS token,
  :mod:`ananke.engines.acceptance`) makes the token language equal to the byte language;
  the string's UTF-8 bytes are consumed one by one, then ``is_accepting()``.
- XGrammar (``xgrammar-*``): an empty ``TokenizerInfo``, a fresh ``GrammarMatcher`` with
  ``terminate_without_stop_token=True`` per string, ``accept_string(s)`` then
  ``is_terminated()``.
- outlines-core (``outlines-*``): its ``Index`` over a vocabulary of the 256 single bytes
  plus the whole string as one more token; the string is accepted when that token leads
  from the initial state to a final state. Walking byte by byte is not exact: outlines-core
  0.2.14 drops every transition that leaves a state where the regex has just matched for
  one where it has not (``(ab)*`` would reject ``abab``), and a token spanning the whole
  string never does that.
- lark (``lark``): the lark package, Earley parser with the dynamic lexer; a string is
  accepted when it parses.
- llama.cpp (``llamacpp-gbnf``): llama.cpp's own GBNF parser and matcher, from the prebuilt
  library of the npm package node-llama-cpp (pinned in ``engines/llamacpp/package.json``),
  run by Node.js as one long-lived process per Python process (``serve.mjs``). A string is
  accepted when, fed code point by code point from ``root``, it leaves an empty parse
  stack (node-llama-cpp's ``isTextCompatible``). No model is needed. (Token by token, over
  a vocabulary, llama.cpp is driven by :mod:`ananke.engines.llamacpp_sampler`.)

Which engines read which target's output is declared once, by each backend
(``Backend.readers``); :func:`readers` is how ``arc test``, the differential tests and the
benchmarks ask for it.

Engines are imported lazily, inside methods: importing this module is cheap.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import selectors
import shutil
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ananke.engines.acceptance import Verdict

__all__ = [
    "Compiled",
    "Deviation",
    "Engine",
    "EngineError",
    "Format",
    "LlamaCppCompiled",
    "engine_names",
    "get_engine",
    "is_scalar_text",
    "llamacpp_modules",
    "llamacpp_version",
    "readers",
]

Format = Literal["lark", "gbnf", "ebnf", "regex", "json-schema"]
"""The grammar dialect an engine reads."""


class EngineError(Exception):
    """An engine refused a grammar; ``message`` is the engine's own words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Deviation:
    """A documented way in which a backend's output accepts other strings than the reference.

    A backend module lists its deviations in ``DEVIATIONS: tuple[Deviation, ...]``; the
    differential tests excuse a disagreement on a string when one of them ``applies`` to it.
    """

    name: str
    description: str
    applies: Callable[[str], bool]


def is_scalar_text(s: str) -> bool:
    """True when ``s`` is a sequence of Unicode scalar values (no lone surrogates)."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Compiled(ABC):
    """A grammar compiled by one engine."""

    def __init__(self, engine: str, text: str) -> None:
        self.engine = engine
        self.text = text

    def accepts(self, s: str) -> bool:
        """Whether the whole of ``s`` is in the grammar's language.

        A string holding a lone surrogate is no sequence of Unicode scalar values: no
        grammar's language holds it, and every engine rejects it.
        """
        return is_scalar_text(s) and self._accepts(s)

    def accepts_many(self, strings: Sequence[str]) -> list[bool]:
        """:meth:`accepts` of each of ``strings``, in order (an engine may decide them
        together, faster than one by one)."""
        return [self.accepts(s) for s in strings]

    @abstractmethod
    def _accepts(self, s: str) -> bool: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.engine}>"


class Engine(ABC):
    """One engine reading one dialect."""

    name: str
    format: Format
    package: str
    """The import name of the engine's Python package."""

    def available(self) -> bool:
        """Whether the engine's package imports in this environment."""
        return _importable(self.package)

    @abstractmethod
    def compile(self, text: str) -> Compiled:
        """Compile grammar ``text``; raises :class:`EngineError` if the engine refuses it."""

    def __repr__(self) -> str:
        return f"<Engine {self.name} ({self.format})>"


@functools.cache
def _importable(package: str) -> bool:
    try:
        importlib.import_module(package)
    except Exception:  # a broken install is as unavailable as a missing one
        return False
    return True


# --- llguidance ---------------------------------------------------------------------------


class LlguidanceCompiled(Compiled):
    """An llguidance grammar with its byte-level matcher; ``grammar`` is what LLMatcher reads."""

    def __init__(self, engine: str, text: str, grammar: str) -> None:
        super().__init__(engine, text)
        from ananke.engines.acceptance import ByteMatcher

        self.grammar = grammar
        try:
            self._matcher = ByteMatcher(grammar)
        except ValueError as e:
            raise EngineError(str(e).removeprefix("grammar is not valid: ").strip()) from None

    def _accepts(self, s: str) -> bool:
        return self._matcher.accepts(s)

    def check(self, s: str) -> Verdict:
        """Whether ``s`` is accepted, and if not, at which byte and with what error."""
        return self._matcher.check(s)


class _Llguidance(Engine):
    package = "llguidance"

    def __init__(
        self, name: str, fmt: Format, llg_format: Literal["lark", "gbnf", "regex", "json_schema"]
    ) -> None:
        self.name = name
        self.format = fmt
        self._llg_format = llg_format

    def compile(self, text: str) -> Compiled:
        import llguidance

        try:
            grammar = llguidance.grammar_from(self._llg_format, text)
        except ValueError as e:  # GBNF that does not convert
            raise EngineError(str(e)) from None
        return LlguidanceCompiled(self.name, text, grammar)


# --- XGrammar -----------------------------------------------------------------------------

_XGR_PREFIX = re.compile(r"^\[[0-9:]+\] \S+?:\d+: ")


def _xgrammar_message(e: Exception) -> str:
    """XGrammar's message without its log prefix (time and C++ source location)."""
    return _XGR_PREFIX.sub("", str(e).strip())


@functools.cache
def _xgrammar_compiler() -> Any:
    import xgrammar

    return xgrammar.GrammarCompiler(xgrammar.TokenizerInfo([]))


class _XgrammarCompiled(Compiled):
    def __init__(self, engine: str, text: str, compiled: Any) -> None:
        super().__init__(engine, text)
        self._compiled = compiled

    def _accepts(self, s: str) -> bool:
        import xgrammar

        m = xgrammar.GrammarMatcher(self._compiled, terminate_without_stop_token=True)
        return bool(m.accept_string(s)) and bool(m.is_terminated())


class _Xgrammar(Engine):
    package = "xgrammar"

    def __init__(self, name: str, fmt: Format, method: str) -> None:
        self.name = name
        self.format = fmt
        self._method = method

    def compile(self, text: str) -> Compiled:
        import xgrammar

        try:
            grammar = getattr(xgrammar.Grammar, self._method)(text)
            compiled = _xgrammar_compiler().compile_grammar(grammar)
        except (RuntimeError, ValueError) as e:
            raise EngineError(_xgrammar_message(e)) from None
        return _XgrammarCompiled(self.name, text, compiled)


# --- outlines-core ------------------------------------------------------------------------

_OUTLINES_EOS = 256
_OUTLINES_WHOLE = 257


class _OutlinesCompiled(Compiled):
    def __init__(self, engine: str, text: str, regex: str) -> None:
        super().__init__(engine, text)
        self.regex = regex
        try:
            self._index(b"")  # the engine's own checks of the regex
        except ValueError as e:
            raise EngineError(str(e)) from None

    def _index(self, data: bytes) -> Any:
        return self._index_of({data: _OUTLINES_WHOLE} if data else {})

    def _index_of(self, whole: dict[bytes, int]) -> Any:
        """The index over the 256 bytes and, as one token each, the strings of ``whole``."""
        import outlines_core

        tokens: dict[bytes, list[int]] = {bytes([b]): [b] for b in range(256)}
        for data, token in whole.items():
            tokens.setdefault(data, []).append(token)
        return outlines_core.Index(self.regex, outlines_core.Vocabulary(_OUTLINES_EOS, tokens))

    def _accepts(self, s: str) -> bool:
        return self.accepts_many([s])[0]

    def accepts_many(self, strings: Sequence[str]) -> list[bool]:
        # One index for them all, each string a token of its own: building the index is
        # what costs, and a token spanning a whole string is exact (see the module).
        texts = [s.encode("utf-8") if is_scalar_text(s) else None for s in strings]
        whole = {d: _OUTLINES_WHOLE + i for i, d in enumerate(dict.fromkeys(filter(None, texts)))}
        index = self._index_of(whole)
        start = index.get_initial_state()
        out = []
        for data in texts:
            if data is None:  # a lone surrogate: no text
                out.append(False)
                continue
            state = index.get_next_state(start, whole[data]) if data else start
            out.append(state is not None and bool(index.is_final_state(state)))
        return out


class _OutlinesRegex(Engine):
    name = "outlines-regex"
    format = "regex"
    package = "outlines_core"

    def compile(self, text: str) -> Compiled:
        return _OutlinesCompiled(self.name, text, text)


class _OutlinesJson(Engine):
    name = "outlines-json"
    format = "json-schema"
    package = "outlines_core"

    def compile(self, text: str) -> Compiled:
        from outlines_core.json_schema import build_regex_from_schema

        try:
            regex = build_regex_from_schema(text)
        except (ValueError, TypeError) as e:
            raise EngineError(str(e)) from None
        return _OutlinesCompiled(self.name, text, regex)


# --- lark ---------------------------------------------------------------------------------


class _LarkCompiled(Compiled):
    def __init__(self, engine: str, text: str, parser: Any) -> None:
        super().__init__(engine, text)
        self._parser = parser

    def _accepts(self, s: str) -> bool:
        from lark.exceptions import UnexpectedInput

        try:
            self._parser.parse(s)
        except UnexpectedInput:
            return False
        return True


class _Lark(Engine):
    name = "lark"
    format = "lark"
    package = "lark"

    def compile(self, text: str) -> Compiled:
        import lark

        try:
            parser = lark.Lark(text, parser="earley", lexer="dynamic")
        except (lark.exceptions.LarkError, ValueError, KeyError) as e:
            raise EngineError(str(e).strip()) from None
        return _LarkCompiled(self.name, text, parser)


# --- llama.cpp ----------------------------------------------------------------------------

LLAMACPP_MODULES_ENV = "ANANKE_NODE_MODULES"
"""Names a ``node_modules`` folder holding node-llama-cpp, to use instead of the one that
``npm ci --prefix engines/llamacpp`` installs beside the package's sources."""

_LLAMACPP_TIMEOUT_S = 300.0
_REFUSAL = re.compile(
    r"error parsing grammar: ([^\n]*)|\[node-llama-cpp\] (?!failed to parse)([^\n]*)"
)
"""Where llama.cpp says why it refused a grammar: its parser's message, or a check after
parsing (left recursion), which node-llama-cpp logs."""


def llamacpp_modules() -> Path:
    """The ``node_modules`` folder node-llama-cpp is looked for in."""
    modules = os.environ.get(LLAMACPP_MODULES_ENV)
    return Path(modules) if modules else Path(__file__).parent / "llamacpp" / "node_modules"


def _llamacpp_entry() -> Path | None:
    """node-llama-cpp's entry module, or None when Node.js or the package is missing."""
    if shutil.which("node") is None:
        return None
    entry = llamacpp_modules() / "node-llama-cpp" / "dist" / "index.js"
    return entry if entry.is_file() else None


def llamacpp_version() -> str | None:
    """The installed node-llama-cpp's version (which fixes the llama.cpp inside it)."""
    entry = _llamacpp_entry()
    if entry is None:
        return None
    package = json.loads((entry.parents[1] / "package.json").read_text(encoding="utf-8"))
    return str(package["version"])


class _LlamaCppServer:
    """One ``node serve.mjs`` process: JSON lines in, JSON lines out; its stderr, where
    llama.cpp writes why it refused a grammar, is read by a thread into ``_stderr``."""

    def __init__(self, entry: Path) -> None:
        self._proc = subprocess.Popen(
            ["node", str(Path(__file__).parent / "llamacpp" / "serve.mjs"), entry.as_uri()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._stderr: list[str] = []
        self._lock = threading.Lock()
        self._replies = selectors.DefaultSelector()
        self._replies.register(self._proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
        assert self._proc.stderr is not None
        threading.Thread(target=self._drain, args=(self._proc.stderr,), daemon=True).start()
        self._read()  # {"ready": true}

    def _drain(self, stream: Any) -> None:
        for line in stream:
            self._stderr.append(line)

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        if not self._replies.select(_LLAMACPP_TIMEOUT_S):
            self._proc.kill()
            raise EngineError(f"llama.cpp did not answer within {_LLAMACPP_TIMEOUT_S:.0f} s")
        line = self._proc.stdout.readline()
        if not line:
            said = "".join(self._stderr).strip().splitlines()[-1:]
            raise EngineError("llama.cpp's process ended" + (f": {said[0]}" if said else ""))
        reply: dict[str, Any] = json.loads(line)
        return reply

    def request(self, **req: Any) -> dict[str, Any]:
        assert self._proc.stdin is not None
        with self._lock:
            self._stderr.clear()
            self._proc.stdin.write(json.dumps(req) + "\n")
            self._proc.stdin.flush()
            reply = self._read()
            if "error" in reply:
                reply["error"] = self._reason(reply["error"])
            return reply

    def _reason(self, fallback: str) -> str:
        """llama.cpp's own words for a refused grammar, waited for briefly: its stderr
        arrives by another pipe than the reply."""
        for _ in range(50):
            found = _REFUSAL.search("".join(self._stderr))
            if found:
                return (found.group(1) or found.group(2)).strip()
            time.sleep(0.01)
        return fallback

    def alive(self) -> bool:
        return self._proc.poll() is None


_SERVERS: dict[int, _LlamaCppServer] = {}


def _llamacpp_server() -> _LlamaCppServer:
    """This process's server; a forked child starts its own rather than share pipes."""
    server = _SERVERS.get(os.getpid())
    if server is None or not server.alive():
        entry = _llamacpp_entry()
        if entry is None:
            raise EngineError("llama.cpp is not installed (Node.js and node-llama-cpp)")
        server = _SERVERS[os.getpid()] = _LlamaCppServer(entry)
    return server


def _llamacpp_load(server: _LlamaCppServer, text: str) -> tuple[int, float]:
    """The grammar's id in ``server`` and llama.cpp's parse time in ms."""
    reply = server.request(op="load", grammar=text)
    if "error" in reply:
        raise EngineError(reply["error"])
    return int(reply["id"]), float(reply["ms"])


class LlamaCppCompiled(Compiled):
    """A GBNF grammar loaded by llama.cpp; ``parse_ms`` is the time llama.cpp took to parse
    and check it (measured in the Node.js process)."""

    def __init__(self, engine: str, text: str) -> None:
        super().__init__(engine, text)
        self._server = _llamacpp_server()
        self._id, self.parse_ms = _llamacpp_load(self._server, text)

    def _accepts(self, s: str) -> bool:
        server = _llamacpp_server()
        if server is not self._server:  # a forked child, or a server started again
            self._server = server
            self._id, _ = _llamacpp_load(server, self.text)
        reply = server.request(op="check", id=self._id, texts=[s])
        if "error" in reply:
            raise EngineError(reply["error"])
        return bool(reply["results"][0])


class _LlamaCpp(Engine):
    name = "llamacpp-gbnf"
    format = "gbnf"
    package = "node-llama-cpp"

    def available(self) -> bool:
        return _llamacpp_entry() is not None

    def compile(self, text: str) -> Compiled:
        return LlamaCppCompiled(self.name, text)


# --- registry -----------------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {
    e.name: e
    for e in (
        _Llguidance("llguidance-lark", "lark", "lark"),
        _Llguidance("llguidance-gbnf", "gbnf", "gbnf"),
        _Llguidance("llguidance-regex", "regex", "regex"),
        _Llguidance("llguidance-json", "json-schema", "json_schema"),
        _Xgrammar("xgrammar-ebnf", "ebnf", "from_ebnf"),
        _Xgrammar("xgrammar-lark", "lark", "from_lark"),
        _Xgrammar("xgrammar-json", "json-schema", "from_json_schema"),
        _OutlinesRegex(),
        _OutlinesJson(),
        _Lark(),
        _LlamaCpp(),
    )
}


def engine_names() -> tuple[str, ...]:
    """Every engine's name, llguidance's first."""
    return tuple(_ENGINES)


def get_engine(name: str) -> Engine:
    """The engine called ``name``; ``KeyError`` naming the known ones for any other name."""
    try:
        return _ENGINES[name]
    except KeyError:
        raise KeyError(f"unknown engine {name!r}; known: {', '.join(_ENGINES)}") from None


def readers(target: str) -> tuple[str, ...]:
    """The names of the engines that read what ``target`` prints (a regex without the
    file's final newline), as its backend declares them; ``KeyError`` for an unknown target
    or a declared name no engine has."""
    from ananke.backends import get_backend

    names = get_backend(target).readers
    for name in names:
        get_engine(name)
    return names
