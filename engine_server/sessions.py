"""The models the engine runs: its default, always loaded, and a few others opened when a request
names them.

A request's ``model`` may name the default (``softcut serve --model``) or any registered model
whose file is on this machine (Softcut's cache or rembg's folder, :func:`core.models.store.locate`);
nothing is fetched while the engine runs. Other names are ``not_found``, with a message that
says what the engine can run or where to put the file.

Other models are opened on the model thread (so a load waits for the inference in progress, not
the event loop) and kept, least recently used first, at most ``max_loaded`` of them
(``softcut serve --max-models``). Each one's memory (:func:`session_estimate`) is counted in the
engine's memory budget while it is kept (:meth:`~engine_server.memory.MemoryBudget.hold`): jobs
admitted after it see less room, and a job that has to wait for memory first evicts the idle
ones. A model evicted while jobs still use it gives its memory back when the last of them ends.
The default model's memory stays on top of the budget, as ``--memory`` documents.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from core.errors import ModelNotFoundError
from core.models import registry, store
from core.models.session import MaskSession
from engine_server.memory import MemoryBudget, Reservation, format_size
from engine_server.errors import NotFound

log = logging.getLogger(__name__)

DEFAULT_MAX_LOADED = 2
"""Other models kept loaded at once, besides the default (``softcut serve --max-models``)."""
SESSION_BASE_BYTES = 16 * 1024**2
"""An onnxruntime session's own small change, whatever its weights."""
SESSION_BYTES_PER_FILE_BYTE = 4.0
"""An extra session's resident memory per byte of its .onnx file: a second IS-Net session (88 MB
file) added 300 MB after loading, the first one 420 MB, on the CPU (onnxruntime 1.x, memory arena
off). Inference's working memory is not counted per model: inferences run one at a time on the
model thread, within the default model's share on top of the budget."""


def session_estimate(path: Path) -> int:
    """Bytes to count for keeping the model in ``path`` loaded (see :data:`SESSION_BYTES_PER_FILE_BYTE`)."""
    return SESSION_BASE_BYTES + int(SESSION_BYTES_PER_FILE_BYTE * path.stat().st_size)


@dataclass(eq=False)
class _Kept:
    """A loaded model, the memory counted for it and the jobs using it now."""

    session: MaskSession
    reservation: Reservation
    users: int = 0
    evicted: bool = False

    def release_if_unused(self) -> None:
        if self.evicted and self.users == 0:
            self.reservation.release()


class Models:
    """The default session and up to ``max_loaded`` others, least recently used evicted first.

    ``open_model(name)``: opens a registered, present model without fetching (blocking; run
    through ``run_on_model``, the model thread). ``memory``: the engine's budget, in which the
    others' memory is counted; its ``reclaim`` is set to evict idle ones.
    """

    def __init__(self, default: MaskSession, memory: MemoryBudget, *, open_model: Callable[[str], MaskSession],
                 run_on_model: Callable[..., Awaitable[MaskSession]], max_loaded: int = DEFAULT_MAX_LOADED) -> None:
        if max_loaded < 0:
            raise ValueError(f"max_loaded: expected >= 0; got {max_loaded}")
        self.default = default
        self.max_loaded = max_loaded
        self._memory = memory
        self._open = open_model
        self._run_on_model = run_on_model
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        """Loaded others by name, least recently used first."""
        self._loading = asyncio.Lock()
        memory.reclaim = self._reclaim

    def loaded(self) -> list[str]:
        """The models in memory now: the default, then the others, most recently used first."""
        return [self.default.name, *reversed(self._kept)]

    @asynccontextmanager
    async def use(self, name: str | None, job=None) -> AsyncIterator[MaskSession]:
        """The session of model ``name`` (None: the default) for an ``async with`` block, loaded
        first when needed; it is not let go while the block runs.

        Raises :class:`~engine_server.errors.NotFound` for a name that is neither the
        default nor a registered model present on this machine (the message says which models
        are, or where the file goes), :class:`~core.errors.ModelError` when the file cannot be
        loaded, :class:`~engine_server.memory.MemoryTooLarge` when its memory could never fit.
        """
        if name is None or name == self.default.name:
            yield self.default
            return
        kept = await self._get(name, job)
        kept.users += 1  # no await since _get: nothing can have evicted it in between
        try:
            yield kept.session
        finally:
            kept.users -= 1
            kept.release_if_unused()

    async def _get(self, name: str, job) -> _Kept:
        kept = self._kept.get(name)
        if kept is not None:
            self._kept.move_to_end(name)
            return kept
        path = self._present(name)
        async with self._loading:  # one load at a time (they run on the model thread anyway)
            kept = self._kept.get(name)
            if kept is not None:  # loaded for another job while this one waited
                self._kept.move_to_end(name)
                return kept
            if job is not None:
                job.check()
            while len(self._kept) >= self.max_loaded:
                self._evict(next(iter(self._kept)))
            reservation = self._memory.hold(session_estimate(path), what=f"model {name}")
            try:
                session = await self._run_on_model(self._open, name)
            except ModelNotFoundError as exc:  # removed since it was looked for
                reservation.release()
                raise NotFound(str(exc)) from exc
            except BaseException:
                reservation.release()
                raise
            log.info("model %s loaded (%s counted in the memory budget)", name, format_size(reservation.nbytes))
            kept = self._kept[name] = _Kept(session, reservation)
            return kept

    def _present(self, name: str) -> Path:
        """The file of model ``name``; NotFound when it is not one this engine may run."""
        spec = registry.MODELS.get(name)
        if spec is None:
            raise NotFound(f"model {name!r} is unknown: this engine runs {self.default.name!r} and the registered "
                           f"models whose files are on its machine ({', '.join(registry.MODELS)}; models.list "
                           f"says which are present)")
        if self.max_loaded == 0:
            raise NotFound(f"model {name!r}: this engine runs only {self.default.name!r} (softcut serve --max-models 0)")
        path = store.locate(spec)
        if path is None:
            where = [store.cached_path(spec)] + ([store.rembg_dir() / spec.rembg_filename] if spec.rembg_filename else [])
            how = f"`softcut models fetch {name}`, or put" if spec.npm else "put"
            raise NotFound(f"model {name!r} is not on the engine's machine: {how} its file at "
                           f"{' or '.join(map(str, where))}")
        return path

    def _evict(self, name: str) -> None:
        kept = self._kept.pop(name)
        kept.evicted = True
        kept.release_if_unused()
        log.info("model %s unloaded%s", name, " (in use: its memory is given back when its jobs end)" if kept.users else "")

    def _reclaim(self) -> bool:
        """A job would have to wait for memory: evict the least recently used idle model; False when none is."""
        idle = next((name for name, kept in self._kept.items() if kept.users == 0), None)
        if idle is None:
            return False
        self._evict(idle)
        return True
