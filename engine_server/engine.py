"""The engine's state: the loaded model, its workers, the caches and the limits.

One model worker thread per device (inference is serialised, it uses every
core already) and a small CPU pool for refinement, so one job's refinement
overlaps the next job's inference.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from core.models.session import MaskSession
from engine_server.memory import MemoryBudget, default_memory, split
from engine_server.protocol.messages import Limits
from engine_server.results import LruCache


@dataclass
class Engine:
    """Everything an operation needs. ``session`` is the loaded default model;
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

    def __post_init__(self) -> None:
        self.model_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="softcut-model")
        self.cpu_pool = ThreadPoolExecutor(max_workers=self.cpu_workers, thread_name_prefix="softcut-cpu")
        memory = self.memory_bytes or default_memory()
        cache, jobs = split(memory, self.cache_bytes)
        self.coarse_cache = LruCache(cache // 8)
        self.results = LruCache(cache)
        self.memory = MemoryBudget(jobs, cache_bytes=cache + cache // 8, memory=memory)

    async def on_model(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.model_pool, fn, *args)

    async def on_cpu(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.cpu_pool, fn, *args)

    def close(self) -> None:
        self.model_pool.shutdown(wait=False, cancel_futures=True)
        self.cpu_pool.shutdown(wait=False, cancel_futures=True)
