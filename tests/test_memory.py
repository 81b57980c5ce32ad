"""engine_server.memory: sizes, estimates and the budget's admission rules (no engine process;
the real-engine checks are in tests/test_server_memory.py)."""

from __future__ import annotations

import asyncio
import functools

import pytest

from core.errors import ParameterError
from engine_server import memory
from engine_server.jobs import Job, JobCancelled
from engine_server.memory import GIB, MIB, MemoryBudget, MemoryTooLarge
from engine_server.errors import error_code


def _job(name: str = "j") -> Job:
    return Job(id=name, client="c", kind="select_subject", priority=0, work=None)


def test_sizes_parse_in_powers_of_1024_and_bad_ones_name_the_flag():
    assert memory.parse_size("6G") == 6 * GIB
    assert memory.parse_size("800M") == 800 * MIB
    assert memory.parse_size("1.5g") == int(1.5 * GIB)
    assert memory.parse_size("512MiB") == 512 * MIB
    assert memory.parse_size(str(2 * GIB)) == 2 * GIB
    for bad in ("", "lots", "6X", "-1G", "10M"):
        with pytest.raises(ParameterError, match="memory"):
            memory.parse_size(bad)


def test_the_default_is_half_the_physical_memory_and_caches_get_at_most_a_quarter():
    physical = memory.physical_memory()
    assert physical and abs(memory.default_memory() - physical / 2) <= MIB
    cache, jobs = memory.split(1 * GIB, 1 * GIB)
    assert cache + cache // 8 <= GIB // 4 and jobs == GIB - cache - cache // 8
    assert memory.split(16 * GIB, 512 * MIB) == (512 * MIB, 16 * GIB - 576 * MIB)


def test_estimates_grow_with_pixels_mode_and_outputs():
    def estimate(op="select_subject", w=4000, h=3000, **fields):
        return memory.job_estimate(op, fields, [("png", w, h, 1000)])

    assert estimate(refine="none") < estimate(refine="best")
    assert estimate(refine="none", outputs=["alpha"]) < estimate(refine="none", outputs=["cutout"])
    per_pixel = memory.COSTS["select_subject", "best"].per_pixel + memory.OUTPUT_BYTES_PER_PIXEL["alpha"]
    assert estimate(w=8000, h=6000) - estimate() == pytest.approx(36_000_000 * per_pixel, abs=2)  # the working size is capped
    assert estimate("trimap") < estimate(refine="none")
    frame = [("rgb8", 1920, 1080, 1920 * 1080 * 3)]
    assert memory.job_estimate("video_start", {}, frame) == memory.job_estimate("video_start", {"refine": "fast"}, frame)
    raw = memory.job_estimate("select_subject", {}, [("rgba8", 4000, 3000, 48_000_000)])
    assert raw == estimate() - 1000 + 48_000_000  # the payload itself is counted
    adjust = memory.job_estimate("adjust_edges", {"outputs": ["alpha"]}, [], result_pixels=12_000_000)
    assert 0 < adjust < estimate(refine="none")
    tiny_image_big_guide = memory.job_estimate("refine", {"mode": "fast"}, [("png", 10, 10, 0), ("grey8", 4000, 3000, 0)])
    assert tiny_image_big_guide == memory.job_estimate("refine", {"mode": "fast"}, [("png", 4000, 3000, 0)] * 2)
    assert estimate(refine="no-such-mode") == estimate(refine="best")  # refused later; costs the most meanwhile
    with pytest.raises(ParameterError, match="no memory estimate"):
        memory.job_estimate("hello", {}, [])


def test_a_job_that_can_never_fit_is_refused_at_once_with_what_to_do():
    budget = MemoryBudget(4 * GIB, memory=5 * GIB)

    async def go():
        async with budget.reserve(7 * GIB + GIB // 10, _job(), what="this 100.0 MP select_subject at refine best"):
            pass

    with pytest.raises(MemoryTooLarge) as refused:
        asyncio.run(go())
    text = str(refused.value)
    assert "100.0 MP select_subject at refine best needs about 7.1 GB" in text
    assert "budget for jobs is 4.0 GB" in text and "--memory 9G" in text and "smaller image" in text
    assert error_code(refused.value) == "image_too_large"
    assert budget.used == 0 and budget.waiting == 0


async def _hold(budget: MemoryBudget, order: list[str], name: str, nbytes: int, hold: asyncio.Event) -> None:
    """A job that reserves ``nbytes``, records that it started, and runs until ``hold`` is set."""
    async with budget.reserve(nbytes, _job(name)):
        order.append(name)
        assert budget.used <= budget.total
        await hold.wait()


def test_jobs_wait_first_come_first_served_and_start_as_memory_comes_back():
    budget = MemoryBudget(100, express=0)
    order = []
    job = functools.partial(_hold, budget, order)

    async def go():
        holds = {name: asyncio.Event() for name in "abcd"}
        tasks = {}
        for name, nbytes in (("a", 60), ("b", 50), ("c", 10), ("d", 40)):
            tasks[name] = asyncio.create_task(job(name, nbytes, holds[name]))
            await asyncio.sleep(0.01)
        assert order == ["a"] and budget.waiting == 3  # c (10) fits but may not pass b: FIFO
        holds["a"].set()
        await asyncio.sleep(0.01)
        assert order == ["a", "b", "c", "d"] and budget.used == 100
        for hold in holds.values():
            hold.set()
        await asyncio.gather(*tasks.values())

    asyncio.run(go())
    assert budget.used == 0 and budget.peak == 100


def test_small_jobs_pass_a_waiting_big_one_only_within_the_express_share():
    budget = MemoryBudget(100, express=20)
    order = []
    job = functools.partial(_hold, budget, order)

    async def go():
        holds = {name: asyncio.Event() for name in ("big1", "big2", "s1", "s2", "s3", "huge")}
        tasks = [asyncio.create_task(job("big1", 70, holds["big1"]))]
        await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(job("big2", 70, holds["big2"])))  # waits for big1
        for name in ("s1", "s2", "s3"):
            tasks.append(asyncio.create_task(job(name, 10, holds[name])))
        await asyncio.sleep(0.01)
        assert order == ["big1", "s1", "s2"]  # the express share (20) is full; s3 waits its turn
        holds["s1"].set()
        await asyncio.sleep(0.01)
        assert order == ["big1", "s1", "s2", "s3"]
        holds["big1"].set()
        await asyncio.sleep(0.01)
        assert order[-1] == "big2" and budget.used == 90
        # A head that would not fit beside a full express share blocks every later job.
        for name in ("s2", "s3", "big2"):
            holds[name].set()
        await asyncio.sleep(0.01)
        assert budget.used == 0
        holds["big1"].clear()
        tasks.append(asyncio.create_task(job("again", 50, holds["big1"])))
        await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(job("huge", 90, holds["huge"])))
        tasks.append(asyncio.create_task(job("small", 5, holds["huge"])))
        await asyncio.sleep(0.01)
        assert order[-1] == "again" and budget.waiting == 2  # small (5) fits but huge + 20 > 100
        holds["big1"].set()
        await asyncio.sleep(0.01)
        assert order[-2:] == ["huge", "small"]
        holds["huge"].set()
        await asyncio.gather(*tasks)

    asyncio.run(go())
    assert budget.used == 0 and budget.express_used == 0


def test_a_cancelled_waiting_job_leaves_the_queue_and_frees_its_turn():
    budget = MemoryBudget(100, express=0)
    started = []

    async def go():
        hold = asyncio.Event()

        async def job(j, nbytes):
            async with budget.reserve(nbytes, j):
                started.append(j.id)
                await hold.wait()

        first, waiting, behind = _job("first"), _job("waiting"), _job("behind")
        tasks = [asyncio.create_task(job(first, 50))]
        await asyncio.sleep(0.01)
        blocked = asyncio.create_task(job(waiting, 80))
        tasks.append(asyncio.create_task(job(behind, 40)))
        await asyncio.sleep(0.01)
        assert started == ["first"] and budget.waiting == 2
        waiting.cancel_event.set()  # what JobQueue.cancel does
        with pytest.raises(JobCancelled):
            await asyncio.wait_for(blocked, 2 * memory.POLL_S + 1)
        await asyncio.sleep(0.01)
        assert started == ["first", "behind"] and budget.waiting == 0 and budget.used == 90
        # A task cancelled while waiting (its client gone) leaves the queue too.
        gone = asyncio.create_task(job(_job("gone"), 60))
        await asyncio.sleep(0.01)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert budget.waiting == 0
        hold.set()
        await asyncio.gather(*tasks)

    asyncio.run(go())
    assert budget.used == 0 and budget.express_used == 0
