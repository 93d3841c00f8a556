"""Engine calls in a worker process, each under a time limit, so that a hang is a found bug.

The engines run in one long-lived child process (this file run as a script), which keeps
them imported and the grammars it compiled cached; the test process sends it one JSON
line per request and waits for each answer at most ``limit_s`` seconds (each string of a
batch has its own). An answer that does not come raises :class:`EngineHang`, naming the
engine, the grammar and the string (or the compile) that hung; a worker that dies raises
:class:`EngineCrash`. Either way the worker is killed and the next call starts a new one.

One llguidance bug is known and handled here, never excused wholesale:
:data:`ENDLESS_FORCING`. Before every mask llguidance computes the bytes the grammar forces
next, and when a lexeme forces bytes forever (``start: R R`` with ``R: /a+/``: after ``a``
only another ``a`` may follow, since the lexer is greedy) that computation never ends.
For every string given to an llguidance grammar, the worker first reads it with forcing
turned off (``%llguidance {"no_forcing": true}``, which changes no mask and no string's
membership) and looks, before each byte, for a run of :data:`FORCED_RUN` masks in a row
that each allow one byte and no end. Where it finds one, llguidance with forcing on would
never answer: the worker answers with forcing off and says so (``RemoteCompiled.unforced``).
Such a state is dead, so the verdict is a rejection, still compared with the other
engines'; only the hang is excused, and any other hang fails. (The check also finds runs
forced one lexeme at a time, ``start: "a" start``, where llguidance stops by itself; the
verdict is the same.)
"""

from __future__ import annotations

import atexit
import json
import os
import re
import selectors
import subprocess
import sys
import traceback
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ENDLESS_FORCING",
    "FORCED_RUN",
    "OUTLINES_INDEX",
    "OUTLINES_STATES",
    "EngineCrash",
    "EngineHang",
    "EngineWorker",
    "KnownHang",
    "RemoteCompiled",
    "outlines_can_index",
    "worker",
]

LIMIT_ENV = "ANANKE_ENGINE_LIMIT_S"
"""Overrides the seconds one engine call may take (default :data:`DEFAULT_LIMIT_S`)."""

DEFAULT_LIMIT_S = 20.0
"""Far above what any call in the tests takes (milliseconds), so that only a hang reaches it
on a loaded machine."""

STARTUP_LIMIT_S = 180.0
"""The seconds an engine may take the first time a worker uses it (importing its package,
XGrammar's torch included, or starting llama.cpp's process), which no call limit covers."""

FORCED_RUN = 4096
"""Masks in a row allowing one byte and no end that count as forcing without end: far longer
than any literal in the grammars the tests build."""


@dataclass(frozen=True)
class KnownHang:
    """An engine bug that makes a call take forever (or minutes), recognised by an exact
    predicate before the engine is given what would hang it."""

    name: str
    description: str


ENDLESS_FORCING = KnownHang(
    "llguidance-endless-forcing",
    "llguidance 1.9.1 never returns from computing a mask where a lexeme forces bytes "
    f"without end ({FORCED_RUN} single-byte masks in a row, read with forcing off), e.g. "
    "`start: R R` with `R: /a+/` on any string; such a string is decided with forcing off",
)


OUTLINES_STATES = 1_000
"""The automaton states (as :class:`ananke.ir.automata.DFA` builds them over code points,
before minimizing) up to which outlines-core indexes a regex in well under a second; past
them it may take seconds or minutes (see :data:`OUTLINES_INDEX`). Measured: 120 and 926
states, 0.02 s; 1,905 states, 16 s; 10,446 states, minutes."""

OUTLINES_INDEX = KnownHang(
    "outlines-core-index",
    "outlines-core 0.2.14 builds the whole automaton of a regex, unminimized, before its "
    "index, and takes minutes on some regexes whose minimal automaton is small: "
    "`(?:(?:a|(?:a|中|[^é]){2,5}[b-中][a-𝒶]*|[中-𝒶]){1,4}aa)+` (288 states minimized, "
    "10,446 before) takes it minutes with a 258-token vocabulary. The tests give "
    f"outlines-core only the regexes built in at most {OUTLINES_STATES:,} states; "
    "llguidance's regex reader reads every one.",
)


def outlines_can_index(regex: str) -> bool:
    """Whether the regex target's ``regex`` builds in at most :data:`OUTLINES_STATES`
    automaton states (see :data:`OUTLINES_INDEX`)."""
    from ananke.ir.automata import DFA, StateLimitExceeded
    from ananke.ir.grammar import Regex

    # The printer writes `$` only as its final anchor (a dollar sign is `\x{24}`).
    try:
        DFA.from_expr(Regex(pattern=regex.replace("$", "")), max_states=OUTLINES_STATES)
    except StateLimitExceeded:
        return False
    return True


class EngineHang(Exception):
    """An engine did not answer within the time limit."""


class EngineCrash(Exception):
    """The worker process died or failed while it ran an engine."""


def _limit() -> float:
    return float(os.environ.get(LIMIT_ENV, DEFAULT_LIMIT_S))


def _show(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more)"


class RemoteCompiled:
    """A grammar compiled by one engine in the worker.

    ``decide`` and ``accepts`` answer as :meth:`ananke.engines.membership.Compiled.accepts`
    would in this process; ``unforced`` lists the strings llguidance decided with forcing
    off under :data:`ENDLESS_FORCING` (with where the endless run begins).
    """

    def __init__(self, worker: EngineWorker, engine: str, text: str, guard: bool) -> None:
        self.engine = engine
        self.text = text
        self.guard = guard
        self.unforced: list[tuple[str, int]] = []
        self._worker = worker
        self._key: tuple[int, int] | None = None  # (worker generation, id there)

    def accepts(self, s: str) -> bool:
        return self.decide([s])[0]

    def decide(self, strings: Sequence[str]) -> list[bool]:
        """Each string's verdict, in order (lone surrogates are rejected here, as
        :class:`Compiled` does)."""
        from ananke.engines.membership import is_scalar_text

        strings = list(strings)
        todo = [s for s in strings if is_scalar_text(s)]
        got = dict(zip(todo, self._worker.decide(self, todo), strict=True)) if todo else {}
        return [got.get(s, False) for s in strings]

    def __repr__(self) -> str:
        return f"<RemoteCompiled {self.engine}>"


class EngineWorker:
    """The client side: starts the worker lazily, restarts it after a hang or a crash."""

    def __init__(self, limit_s: float | None = None) -> None:
        self.limit_s = limit_s if limit_s is not None else _limit()
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._generation = 0
        self._warm: set[str] = set()  # engines the worker has started, this generation
        self._next_id = 0
        self._cache: OrderedDict[tuple[str, str, bool], RemoteCompiled] = OrderedDict()

    # --- the API -------------------------------------------------------------------------

    def compile(self, engine: str, text: str, *, guard: bool = True) -> RemoteCompiled:
        """``text`` compiled by ``engine``; raises :class:`EngineError` with the engine's
        words when it refuses the grammar (cached: the same grammar compiles once).

        ``guard=False`` runs llguidance on every string as it is, without first looking for
        :data:`ENDLESS_FORCING` (to show that the hang is real).
        """
        key = (engine, text, guard)
        found = self._cache.get(key)
        if found is None:
            found = RemoteCompiled(self, engine, text, guard)
            self._load(found)
            self._cache[key] = found
            if len(self._cache) > _CLIENT_CACHE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return found

    def sample(self, engine: str, text: str, n: int, *, seed: int, max_len: int) -> list[str]:
        """:func:`ananke.engines.sample.sample_strings` over the llguidance grammar that
        ``engine`` makes of ``text``, walked with forcing off (the same masks, without
        :data:`ENDLESS_FORCING`)."""
        what = f"{engine} sampling {n} strings (seed {seed})"
        self._ensure()
        self._warm_up(engine)
        reply = self._call(
            {"op": "sample", "engine": engine, "text": text, "n": n, "seed": seed, "max": max_len},
            what,
            text,
        )
        return list(reply["strings"])

    def validate(self, engine: str, text: str) -> str:
        """llguidance's own validator on ``text`` as ``engine`` (``llguidance-*``) reads it,
        with no tokenizer (special tokens are then not checked): its complaint, or ""."""
        self._ensure()
        self._warm_up(engine)
        reply = self._call(
            {"op": "validate", "engine": engine, "text": text}, f"{engine} validating", text
        )
        return str(reply["problem"])

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    # --- requests ------------------------------------------------------------------------

    def _load(self, compiled: RemoteCompiled) -> None:
        from ananke.engines.membership import EngineError

        self._ensure()
        self._warm_up(compiled.engine)
        ident = self._next_id
        self._next_id += 1
        req = {
            "op": "compile",
            "id": ident,
            "engine": compiled.engine,
            "text": compiled.text,
            "guard": compiled.guard,
        }
        reply = self._call(req, f"{compiled.engine} compiling the grammar", compiled.text)
        if "refused" in reply:
            raise EngineError(reply["refused"])
        compiled._key = (self._generation, ident)

    def decide(self, compiled: RemoteCompiled, strings: list[str]) -> list[bool]:
        for _ in range(2):
            if compiled._key is None or compiled._key[0] != self._generation:
                self._load(compiled)
            assert compiled._key is not None
            req = {"op": "decide", "id": compiled._key[1], "strings": strings}
            self._send(req)
            out: list[bool] = []
            for s in strings:
                what = f"{compiled.engine} deciding {s!r}"
                reply = self._reply(what, compiled.text)
                if reply.get("missing"):  # the worker dropped it from its cache
                    compiled._key = None
                    break
                out.append(bool(reply["r"]))
                if reply.get("f") is not None:
                    compiled.unforced.append((s, int(reply["f"])))
            else:
                return out
        raise EngineCrash(f"{compiled.engine}: the worker lost the grammar twice")

    def _warm_up(self, engine: str) -> None:
        """Start ``engine`` in the worker under :data:`STARTUP_LIMIT_S`."""
        if engine in self._warm:
            return
        limit, self.limit_s = self.limit_s, max(self.limit_s, STARTUP_LIMIT_S)
        try:
            self._call({"op": "warm", "engine": engine}, f"{engine} starting", "")
        finally:
            self.limit_s = limit
        self._warm.add(engine)

    def _call(self, req: dict[str, Any], what: str, grammar: str) -> dict[str, Any]:
        self._send(req)
        return self._reply(what, grammar)

    def _send(self, req: dict[str, Any]) -> None:
        proc = self._ensure()
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(req).encode() + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:
            code = self._restart()
            raise EngineCrash(f"the engine worker had ended (exit {code})") from None

    def _reply(self, what: str, grammar: str) -> dict[str, Any]:
        line = self._read_line()
        if line is None:
            self._restart()
            raise EngineHang(
                f"{what}: no answer within {self.limit_s:.0f} s (the worker was restarted)\n"
                f"--- grammar ---\n{_show(grammar)}"
            )
        if not line:
            code = self._restart()
            raise EngineCrash(
                f"{what}: the engine worker died (exit {code})\n--- grammar ---\n{_show(grammar)}"
            )
        reply: dict[str, Any] = json.loads(line)
        if "crash" in reply:
            self._restart()  # the rest of a batch will not come: start afresh
            raise EngineCrash(f"{what}: {reply['crash']}\n--- grammar ---\n{_show(grammar)}")
        return reply

    # --- the process ---------------------------------------------------------------------

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:
                self._restart()
            self._proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            self._buffer = b""
        return self._proc

    def _restart(self) -> int | None:
        """Kill the worker (the next call starts another); its exit status."""
        code = None
        if self._proc is not None:
            self._proc.kill()
            code = self._proc.wait()
            self._proc = None
        self._generation += 1
        self._warm.clear()
        self.restarts += 1
        return code

    def _read_line(self) -> bytes | None:
        """The next line from the worker; b"" when it ended, None after the time limit."""
        proc = self._ensure()
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                if not sel.select(self.limit_s):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return b""
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line


_CLIENT_CACHE = 256
_WORKER_CACHE = 512

_WORKER: EngineWorker | None = None


def worker() -> EngineWorker:
    """This process's worker (one per test process), closed when the process exits."""
    global _WORKER
    if _WORKER is None:
        _WORKER = EngineWorker()
        atexit.register(_WORKER.close)
    return _WORKER


# --- the worker's side -----------------------------------------------------------------------

_DIRECTIVE = re.compile(r"^%llguidance\s*(\{.*\})\s*$", re.MULTILINE)


def unforced(grammar: str) -> str:
    """The llguidance grammar ``grammar`` (Lark text, or the JSON that
    ``llguidance.grammar_from`` makes) with forcing turned off."""
    if grammar.lstrip().startswith("{"):
        data = json.loads(grammar)
        for g in data.get("grammars", []):
            if g.get("lark_grammar") is not None:
                g["lark_grammar"] = unforced(g["lark_grammar"])
        return json.dumps(data)
    found = _DIRECTIVE.search(grammar)
    if found is None:
        return '%llguidance {"no_forcing": true}\n' + grammar
    options = json.loads(found.group(1))
    options["no_forcing"] = True
    return grammar[: found.start()] + f"%llguidance {json.dumps(options)}" + grammar[found.end() :]


_EOS = 256

_LLG_FORMATS = {
    "llguidance-lark": "lark",
    "llguidance-gbnf": "gbnf",
    "llguidance-regex": "regex",
    "llguidance-json": "json_schema",
}

_TRIVIAL = {
    "lark": 'start: "a"',
    "gbnf": 'root ::= "a"',
    "ebnf": 'root ::= "a"',
    "regex": "a",
    "json-schema": '{"type": "string"}',
}


def _single_byte(mask: bytes) -> int | None:
    """The one byte a mask allows when it allows one byte and not the end, else None."""
    bits = int.from_bytes(mask, "little")
    if not bits or bits & (bits - 1) or bits >> _EOS & 1:
        return None
    return bits.bit_length() - 1


def _forces_forever(m: Any) -> bool:
    for _ in range(FORCED_RUN):
        b = _single_byte(m.compute_bitmask())
        if b is None or not m.consume_token(b):
            return False
    return True


def endless_forcing_at(initial: Any, data: bytes) -> int | None:
    """Where (the length of the prefix of ``data``) llguidance, reading ``data`` with masks,
    would first compute a mask in a state that forces bytes without end; None when it never
    does. ``initial`` is a fresh matcher of the grammar with forcing off."""
    m = initial.deep_copy()
    for i, b in enumerate(data):
        if _forces_forever(m.deep_copy()):
            return i
        m.compute_bitmask()
        if not m.consume_token(b):
            return None
    return None


class _Twin:
    """The same llguidance grammar with forcing off."""

    def __init__(self, grammar: str) -> None:
        import llguidance
        from ananke.engines.acceptance import byte_tokenizer

        self.grammar = unforced(grammar)
        self.initial = llguidance.LLMatcher(byte_tokenizer(), self.grammar, log_level=0)


def _decide(compiled: Any, twins: dict[int, _Twin], ident: int, s: str) -> dict[str, Any]:
    from ananke.engines.acceptance import ByteMatcher
    from ananke.engines.membership import LlguidanceCompiled

    if isinstance(compiled, LlguidanceCompiled):
        twin = twins.get(ident)
        if twin is None:
            twin = twins[ident] = _Twin(compiled.grammar)
        at = endless_forcing_at(twin.initial, s.encode("utf-8"))
        if at is not None:
            # A state that forces bytes without end is dead: no string through it is in
            # the language, or the check is wrong.
            if ByteMatcher(twin.grammar, validate=False).accepts(s):
                return {"crash": f"{s!r} is accepted past an endless forced run at {at}"}
            return {"r": False, "f": at}
    return {"r": compiled.accepts(s)}


def _serve(inp: IO[bytes], out: IO[bytes]) -> None:
    from ananke.engines.membership import Compiled, EngineError, get_engine
    from ananke.engines.sample import sample_strings

    compiled: OrderedDict[int, Any] = OrderedDict()
    twins: dict[int, _Twin] = {}
    unguarded: set[int] = set()

    def send(reply: dict[str, Any]) -> None:
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()

    for line in inp:
        req = json.loads(line)
        try:
            if req["op"] == "compile":
                try:
                    compiled[req["id"]] = get_engine(req["engine"]).compile(req["text"])
                except EngineError as e:
                    send({"refused": e.message})
                    continue
                if not req["guard"]:
                    unguarded.add(req["id"])
                if len(compiled) > _WORKER_CACHE:
                    old, _ = compiled.popitem(last=False)
                    twins.pop(old, None)
                    unguarded.discard(old)
                send({"ok": True})
            elif req["op"] == "decide":
                c = compiled.get(req["id"])
                if c is None:
                    send({"missing": True})  # once: the client compiles it again
                    continue
                if type(c).accepts_many is not Compiled.accepts_many:
                    # Decided together (outlines-core: one index for them all).
                    for verdict in c.accepts_many(req["strings"]):
                        send({"r": verdict})
                    continue
                for s in req["strings"]:
                    if req["id"] in unguarded:
                        send({"r": c.accepts(s)})
                    else:
                        send(_decide(c, twins, req["id"], s))
            elif req["op"] == "warm":
                engine = get_engine(req["engine"])
                engine.compile(_TRIVIAL[engine.format]).accepts("a")
                send({"ok": True})
            elif req["op"] == "validate":
                import llguidance

                fmt = _LLG_FORMATS[req["engine"]]
                try:
                    grammar = llguidance.grammar_from(fmt, req["text"])  # type: ignore[arg-type]
                except ValueError as e:
                    send({"problem": str(e)})
                    continue
                send({"problem": llguidance.LLMatcher.validate_grammar(grammar, None)})
            elif req["op"] == "sample":
                import llguidance

                fmt = _LLG_FORMATS[req["engine"]]
                grammar = unforced(llguidance.grammar_from(fmt, req["text"]))  # type: ignore[arg-type]
                strings = sample_strings(grammar, req["n"], seed=req["seed"], max_len=req["max"])
                send({"strings": strings})
            else:
                send({"crash": f"unknown request {req['op']!r}"})
        except Exception:
            send({"crash": traceback.format_exc()})


if __name__ == "__main__":
    # Replies go to a copy of stdout; whatever an engine prints goes to stderr.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.stdin.buffer, replies)
