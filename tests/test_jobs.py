"""The job queue and the result caches, without a server."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from engine_server.jobs import PRIORITIES, Job, JobCancelled, JobQueue, JobState, QueueFull
from engine_server.results import LruCache, content_key


async def _noop(job):
    return None


def _job(id, client="a", priority="interactive"):
    return Job(id=id, client=client, kind="select_subject", priority=PRIORITIES[priority], work=_noop)


def test_interactive_jobs_go_ahead_of_batch_and_limits_hold():
    async def scenario():
        queue = JobQueue(max_per_client=3)
        queue.submit(_job("b1", priority="batch"))
        queue.submit(_job("b2", priority="batch"))
        assert queue.submit(_job("i1")) == 0  # nothing interactive ahead of it
        with pytest.raises(QueueFull):
            queue.submit(_job("b3", priority="batch"))
        queue.submit(_job("x1", client="other"))
        order = [(await queue.next()).id for _ in range(4)]
        assert order[:2] == ["i1", "x1"] and order[2:] == ["b1", "b2"]

    asyncio.run(scenario())


def test_cancel_queued_running_and_a_whole_client():
    async def scenario():
        queue = JobQueue()
        for i in range(3):
            queue.submit(_job(f"j{i}"))
        running = await queue.next()
        assert running.state is JobState.RUNNING
        queued = queue.cancel("a", "j1")
        assert queued.state is JobState.CANCELLED and "j1" not in queue.active("a")
        assert queue.cancel("a", "j0") is running and running.state is JobState.RUNNING
        with pytest.raises(JobCancelled):
            running.report(0.5, "refine")  # the work stops at its next report
        queue.finish(running, JobState.CANCELLED)
        assert queue.cancel("a", "nope") is None
        assert [j.id for j in queue.cancel_client("a")] == ["j2"]
        assert queue.counts() == {"queued": 0, "running": 0}

    asyncio.run(scenario())


def test_lru_cache_is_bounded_by_array_bytes():
    cache = LruCache(max_bytes=3000)
    for i in range(5):
        cache.put(f"k{i}", {"a": np.zeros(1000, np.uint8)})
    assert len(cache) == 3 and cache.bytes == 3000
    assert cache.get("k0") is None and cache.get("k4") is not None
    cache.put("huge", np.zeros(10_000, np.uint8))  # larger than the cache: not kept
    assert cache.get("huge") is None and cache.bytes <= 3000
    assert content_key(b"abc", 1, "m") != content_key(b"abd", 1, "m")


def test_lru_cache_counts_memory_that_values_share_once():
    image = np.zeros(1000, np.uint8)
    cache = LruCache(max_bytes=2500)
    cache.put("prepared", {"image": image, "view": image[:500]})  # a view of the same memory
    assert cache.bytes == 1000
    for i in range(3):  # results that keep the prepared image's pixels beside their own alpha
        cache.put(f"r{i}", (image, np.zeros(100, np.uint8)))
    assert len(cache) == 4 and cache.bytes == 1300
    cache.put("prepared", {"image": image})  # put again (grown or not): counted once still
    assert cache.bytes == 1300
    cache.put("other", np.zeros(1500, np.uint8))  # evicts the oldest until it fits
    assert cache.bytes <= 2500 and cache.get("other") is not None
    held = [key for key in ("prepared", "r0", "r1", "r2") if cache.get(key) is not None]
    assert cache.bytes == 1500 + (1000 if held else 0) + 100 * sum(key.startswith("r") for key in held)


def test_a_failed_job_answers_the_nearest_protocol_code_of_its_exception():
    from core.errors import (AlignmentError, ImageDecodeError, ImageTooLargeError, ModelNotFoundError, ParameterError,
                             SolverError, StorageError)
    from engine_server.errors import NotFound, error_code

    assert error_code(ImageTooLargeError("x")) == "image_too_large"
    assert error_code(ImageDecodeError("x")) == "bad_image"  # its own code is not a protocol code: its parent's is
    assert error_code(ParameterError("x")) == "bad_parameter"
    assert error_code(ModelNotFoundError("x")) == "model_error"
    assert error_code(AlignmentError("x")) == "alignment_failed"
    assert error_code(StorageError("x")) == "storage_failed"
    assert error_code(NotFound("x")) == "not_found"
    assert error_code(SolverError("x")) == "internal"
    assert error_code(KeyError("x")) == "internal"



def test_every_request_type_has_one_operation_of_the_kind_the_protocol_says():
    from engine_server import operations
    from engine_server.jobs import INSTANT, STREAM
    from engine_server.scopes import HANDSHAKE_TYPES
    from wire.protocol import schemas

    registry = operations.registry()
    assert set(registry) == set(schemas.REQUEST_TYPES) - HANDSHAKE_TYPES
    assert {t for t, module in registry.items() if module.KIND.queued} == set(schemas.JOB_TYPES)
    assert {t for t, module in registry.items() if module.KIND is STREAM} == {"video_start"}
    assert all(registry[t].KIND is INSTANT for t in schemas.STREAM_TYPES)  # they feed a stream, no job of their own


def test_a_cancel_sets_by_and_calls_the_jobs_on_cancel_hook():
    async def scenario():
        queue = JobQueue()
        woken = []
        queue.submit(job := _job("s1"))
        job.on_cancel = lambda: woken.append(job.cancel_event.is_set())
        assert await queue.next() is job
        assert queue.cancel("a", "s1", by="c1") is job
        assert woken == [True] and job.cancelled_by == "c1" and job.state is JobState.RUNNING
        queue.cancel_client("a")  # a disconnect keeps the cancel request's id
        assert job.cancelled_by == "c1" and woken == [True, True]

    asyncio.run(scenario())

# ---------------------------------------------------------------- counts under any submit/cancel/disconnect order

from hypothesis import given, settings, strategies as st  # noqa: E402

_steps = st.lists(st.tuples(st.sampled_from(["submit", "cancel", "start", "finish", "disconnect"]),
                            st.sampled_from(["a", "b", "c"]), st.integers(0, 5)), max_size=80)


@settings(max_examples=300, deadline=None)
@given(_steps)
def test_counts_stay_exact_under_any_order_of_submit_cancel_and_disconnect(steps):
    """A model of the queue (which jobs each client has queued or running) is checked against
    JobQueue's own counts after every step, and a client under its limit can always submit."""

    async def scenario():
        queue = JobQueue(max_per_client=4, max_total=6)
        queued: dict[str, set[str]] = {"a": set(), "b": set(), "c": set()}
        running: dict[str, Job] = {}
        for n, (action, client, k) in enumerate(steps):
            job_id = f"{client}{k}"
            if action == "submit":
                busy = job_id in queued[client] or job_id in running or \
                    len(queued[client]) + sum(j.client == client for j in running.values()) >= 4 or \
                    sum(map(len, queued.values())) >= 6
                try:
                    queue.submit(_job(job_id, client=client))
                    assert not busy
                    queued[client].add(job_id)
                except QueueFull:
                    assert busy
            elif action == "cancel":
                job = queue.cancel(client, job_id)
                assert (job is not None) == (job_id in queued[client] or job_id in running)
                queued[client].discard(job_id)  # a running job ends when its work stops ("finish")
            elif action == "start" and any(queued.values()):
                job = await asyncio.wait_for(queue.next(), 1)
                queued[job.client].remove(job.id)
                running[job.id] = job
            elif action == "finish" and running:
                job = running.pop(sorted(running)[k % len(running)])
                queue.finish(job, JobState.CANCELLED if job.cancel_event.is_set() else JobState.DONE)
            elif action == "disconnect":
                queue.cancel_client(client)
                queued[client].clear()
            assert queue.counts() == {"queued": sum(map(len, queued.values())), "running": len(running)}, n
            for name in queued:
                mine = {j for j in queue.active(name)}
                assert mine == queued[name] | {i for i, j in running.items() if j.client == name}

    asyncio.run(scenario())
