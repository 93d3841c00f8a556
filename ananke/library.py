"""Library mode: ``from ananke import Ananke`` (spec/api.md, "Generation").

::

    from ananke import Ananke

    async with Ananke(backend="vllm", url="http://127.0.0.1:8000") as ananke:
        compiled = await ananke.compile("examples/api_handler.ariadne")
        result = await ananke.generate("return the user's id", constraints=compiled)
        if result.ok:
            print(result.code)

Settings come from the project's configuration (as for ``arc generate``), then from the
keyword arguments. Every method has a synchronous twin (``generate_sync``...) for code that
does not run an event loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import ananke.driver as driver

from .generation import GenerateOptions

if TYPE_CHECKING:
    from ananke.ir import Module
    from ananke.runtime.cache import CompiledSet, GrammarCache
    from ananke.runtime.maze import Result
    from ananke.runtime.verify import Verification

__all__ = ["Ananke"]

_T = TypeVar("_T")


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError("the *_sync methods cannot run inside an event loop: await the method")


class Ananke:
    """Compile constraints, generate code under them through one inference backend, and
    verify code. ``config`` is a configuration file (``ananke.toml``, ``pyproject.toml``
    or ``ananke.config.yaml``; default: the nearest one at or above the current folder, as
    ``arc`` finds it; ``False``: none), ``overrides`` are generation settings
    (:class:`~ananke.generation.GenerateOptions`: ``backend``, ``url``, ``model``,
    ``max_tokens``, ``temperature``, ``seed``, ``attempts``, ...)."""

    def __init__(
        self, config: str | os.PathLike[str] | bool | None = None, **overrides: Any
    ) -> None:
        from ananke import config as settings

        found: dict[str, object] = {}
        if config is None or config is True:
            found = settings.load(Path.cwd()).for_command("generate")
        elif config is not False:
            loader = getattr(settings, "load_file", None)
            if loader is None:  # pragma: no cover - the loader always has it
                raise TypeError("config files are not supported")
            found = loader(Path(config)).for_command("generate")
        known = {k: v for k, v in found.items() if k in GenerateOptions.__dataclass_fields__}
        if "cache_dir" in known:
            known["cache_dir"] = str(known["cache_dir"])
        key_file = found.get("api_key_file")
        if isinstance(key_file, Path) and "api_key" not in known:
            known["api_key"] = settings.read_key(key_file)
        self.options = GenerateOptions().updated(**known).updated(**overrides)
        self._generator: Any = None
        self._cache: GrammarCache | None = None

    def __repr__(self) -> str:
        return f"Ananke({self.options!r})"

    # --- compiling ------------------------------------------------------------------------

    async def compile(
        self, constraints: Module | str | os.PathLike[str], *, constraint: str | None = None
    ) -> Module:
        """Constraints compiled and composed: a path (``.ariadne``, ``.cir``, or an IR
        document in JSON), Ariadne source text, or a module (returned as is).
        ``constraint`` keeps that one set. Raises
        :class:`~ananke.ir.DiagnosticError` for errors in them."""
        return self._module(constraints, constraint)

    def compile_sync(
        self, constraints: Module | str | os.PathLike[str], *, constraint: str | None = None
    ) -> Module:
        """:meth:`compile` for code with no event loop."""
        return self._module(constraints, constraint)

    def _module(self, constraints: Any, constraint: str | None) -> Module:
        from ananke import api
        from ananke.ir import Module

        if isinstance(constraints, Module):
            return constraints
        if isinstance(constraints, os.PathLike) or (
            isinstance(constraints, str) and "\n" not in constraints and "{" not in constraints
        ):
            return api.load(constraints, constraint=constraint)
        return api.compile(str(constraints), constraint=constraint)

    def _compiled(self, module: Module, constraint: str | None, target: str) -> CompiledSet:
        from ananke.api import _done
        from ananke.generation import compile_set, default_cache_dir
        from ananke.runtime.cache import GrammarCache

        if self._cache is None:
            d = self.options.cache_dir
            self._cache = GrammarCache(Path(d) if d else default_cache_dir())
        report = driver.Report()
        try:
            compiled = compile_set(
                module,
                constraint,
                target,
                report,
                self._cache,
                max_nesting=self.options.max_nesting,
            )
        except driver.UnknownSet as e:
            raise ValueError(str(e)) from None
        if compiled is None:
            _done(report, None)
            raise ValueError("; ".join(d.message for d in report.diags))
        return compiled

    # --- generating -----------------------------------------------------------------------

    def _gen(self) -> Any:
        from ananke.runtime.generators import create

        if self._generator is None:
            self._generator = create(self.options.backend, options=self.options.service())
        return self._generator

    async def generate(
        self,
        intent: str,
        constraints: Module | str | os.PathLike[str],
        *,
        constraint: str | None = None,
        context: Sequence[str | os.PathLike[str]] = (),
        **settings: Any,
    ) -> Result:
        """Code for ``intent`` under ``constraints`` (one set; ``constraint`` names it),
        verified: see :class:`~ananke.runtime.maze.Result`. ``context`` files are shown to
        the model. ``settings`` override ``max_tokens``, ``temperature``, ``seed`` and
        ``attempts`` for this call. A failed service is not raised: the result's status is
        ``error`` and ``result.error`` says why."""
        from ananke.generation import target_of
        from ananke.runtime.maze import Maze, Settings
        from ananke.runtime.prompt import ContextFile

        opts = self.options.updated(**settings)
        module = self._module(constraints, constraint)
        compiled = self._compiled(module, constraint, target_of(opts.backend))
        files = [ContextFile(str(p), Path(p).read_text(encoding="utf-8")) for p in context]
        run = Settings(opts.max_tokens, opts.temperature, opts.seed, opts.attempts)
        return await Maze(self._gen()).generate(intent, compiled, run, context=files)

    def generate_sync(self, intent: str, constraints: Any, **kwargs: Any) -> Result:
        """:meth:`generate` for code with no event loop. Each call runs its own loop, so
        the backend's connections (or, for ``local``, its model) are released after it:
        for many intents, prefer :meth:`generate_many`."""
        return _run(self._generate_once(intent, constraints, **kwargs))

    async def _generate_once(self, intent: str, constraints: Any, **kwargs: Any) -> Result:
        try:
            return await self.generate(intent, constraints, **kwargs)
        finally:
            await self.aclose()

    async def generate_many(
        self,
        intents: Sequence[str],
        constraints: Module | str | os.PathLike[str],
        *,
        constraint: str | None = None,
        concurrency: int | None = None,
        **settings: Any,
    ) -> list[Result]:
        """One result per intent, in order, at most ``concurrency`` in flight."""
        from ananke.generation import target_of
        from ananke.runtime.maze import Maze, Settings

        opts = self.options.updated(**settings)
        module = self._module(constraints, constraint)
        compiled = self._compiled(module, constraint, target_of(opts.backend))
        run = Settings(opts.max_tokens, opts.temperature, opts.seed, opts.attempts)
        results: list[Result | None] = [None] * len(intents)
        jobs = [(i, compiled) for i in intents]
        async for k, r in Maze(self._gen()).generate_many(
            jobs, run, concurrency=concurrency or opts.concurrency
        ):
            results[k] = r
        return [r for r in results if r is not None]

    # --- validating -----------------------------------------------------------------------

    async def validate(
        self,
        code: str,
        constraints: Module | str | os.PathLike[str],
        *,
        constraint: str | None = None,
    ) -> Verification:
        """``code`` checked as ``arc validate`` checks it: the grammar (llguidance's, of
        the reference target) and every post check, with a verdict per constraint."""
        from ananke.generation import validate_code

        module = self._module(constraints, constraint)
        return validate_code(code, self._compiled(module, constraint, "llguidance"))

    def validate_sync(self, code: str, constraints: Any, **kwargs: Any) -> Verification:
        """:meth:`validate` for code with no event loop."""
        return _run(self.validate(code, constraints, **kwargs))

    # --- lifetime -------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the backend's connections (or unload its model)."""
        gen, self._generator = self._generator, None
        if gen is not None:
            await gen.aclose()

    async def __aenter__(self) -> Ananke:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
