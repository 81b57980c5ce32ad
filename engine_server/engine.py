"""The engine's state: its models, its workers, the caches and the limits.

One model worker thread per device (inference is serialised, it uses every
core already) and a small CPU pool for refinement, so one job's refinement
overlaps the next job's inference. Both run small jobs' calls first, and the CPU
pool keeps one more thread for small jobs (:mod:`engine_server.workers`), so a small job
does not wait for a big one's stages.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from core.models import registry, store
from core.models.session import MaskSession
from engine_server.memory import MemoryBudget, default_memory, split
from wire.protocol.messages import Limits
from engine_server.results import LruCache
from engine_server.sessions import DEFAULT_MAX_LOADED, Models
from engine_server.workers import PriorityPool, job_size

BIG_JOB_NICE = 10
"""Niceness a CPU worker running a big job's call drops to while a small job's call starts (the
small-job worker and the model's keep the engine's): the kernel then gives the small job most of
the cores (:class:`~engine_server.workers.PriorityPool`)."""


@dataclass
class Engine:
    """Everything an operation needs. ``session`` is the loaded default model; :attr:`models` also
    opens the others a request names (``open_model(name)``, without fetching; None: the default
    only), at most ``max_models`` of them at once (:class:`~engine_server.sessions.Models`);
    ``limits`` are what one client may send and queue (sent in ``welcome``).

    ``memory_bytes`` (``softcut serve --memory``; None: :func:`~engine_server.memory.default_memory`)
    is split by :func:`~engine_server.memory.split` between the result caches (``cache_bytes``
    at most) and :attr:`memory`, the jobs' :class:`~engine_server.memory.MemoryBudget`; the
    model's own memory is on top.
    """

    session: MaskSession
    limits: Limits = field(default_factory=Limits)
    cache_bytes: int = 1024**3
    cpu_workers: int = max(1, min(2, os.cpu_count() or 1))
    memory_bytes: int | None = None
    open_model: Callable[[str], MaskSession] | None = None
    max_models: int = DEFAULT_MAX_LOADED

    def __post_init__(self) -> None:
        self.model_pool = PriorityPool(1, name="softcut-model")
        self.cpu_pool = PriorityPool(self.cpu_workers + 1, reserved=1, general_nice=BIG_JOB_NICE, name="softcut-cpu")
        memory = self.memory_bytes or default_memory()
        cache, jobs = split(memory, self.cache_bytes)
        self.coarse_cache = LruCache(cache // 8)
        self.results = LruCache(cache)
        self.memory = MemoryBudget(jobs, cache_bytes=memory - jobs, memory=memory)
        self.sam_model: Any = None
        """select_object's loaded Segment Anything model (:class:`core.objects.sam.SamModel`), one at a time."""
        self.models = Models(self.session, self.memory, open_model=self.open_model or self._default_only,
                             run_on_model=self.on_model, max_loaded=self.max_models if self.open_model else 0)

    def model_list(self) -> list[dict[str, Any]]:
        """Every registered model, with whether it is the default, whether it is in memory now and
        whether its file is on this machine (our cache or rembg's folder: a request may name it),
        then the default when it is a user's file rather than a registered model."""
        default = self.session.name
        loaded = set(self.models.loaded())
        return [
            {"name": name, "default": name == default, "loaded": name in loaded,
             "present": name == default or store.locate(spec) is not None,
             "licence": spec.licence, "description": spec.description}
            for name, spec in registry.MODELS.items()
        ] + ([] if default in registry.MODELS
             else [{"name": default, "default": True, "loaded": True, "present": True, "licence": "user-provided"}])

    def _default_only(self, name: str) -> MaskSession:
        raise RuntimeError(f"model {name!r}: this engine was given no way to open other models")

    async def on_model(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on the model's thread, in the order of the jobs' sizes (:data:`~engine_server.workers.job_size`)."""
        return await asyncio.wrap_future(self.model_pool.submit(fn, *args, priority=job_size.get()))

    def predict(self, session: MaskSession | None = None) -> Callable[[Any], Any]:
        """``session``'s ``predict`` (None: the default model's) for a stage that runs on a CPU worker
        (``on_cpu``): each call (one per view) is queued on the model's thread in the current job's
        size order, so a small job waits for at most one inference of a big one, not for all of its views."""
        priority = job_size.get()
        predict = (session or self.session).predict
        return lambda batch: self.model_pool.submit(predict, batch, priority=priority).result()

    async def on_cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` on a CPU worker, in the order of the jobs' sizes."""
        return await asyncio.wrap_future(self.cpu_pool.submit(fn, *args, priority=job_size.get()))

    def close(self) -> None:
        self.model_pool.shutdown()
        self.cpu_pool.shutdown()
