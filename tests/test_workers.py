"""The engine's worker pools: smallest job first, a lane that big jobs cannot take."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from engine_server.workers import PriorityPool

BIG, SMALL = 10**10, 10


def test_a_small_call_runs_on_the_reserved_thread_while_big_ones_hold_the_others():
    pool = PriorityPool(3, reserved=1, small=100)
    release = threading.Event()
    try:
        big = [pool.submit(release.wait, 10, priority=BIG) for _ in range(4)]  # two run, two wait
        time.sleep(0.2)
        assert sum(f.running() for f in big) == 2  # big calls never take the reserved thread
        assert pool.submit(lambda: "small", priority=SMALL).result(timeout=2) == "small"
        release.set()
        assert all(f.result(timeout=5) for f in big)
    finally:
        release.set()
        pool.shutdown()


def test_queued_calls_of_small_jobs_run_first_then_each_kind_in_arrival_order():
    pool = PriorityPool(1, small=10)
    gate = threading.Event()
    order = []
    try:
        first = pool.submit(gate.wait, 10, priority=0)
        time.sleep(0.1)  # the thread is busy: what follows queues
        futures = [pool.submit(order.append, name, priority=p) for name, p in
                   [("big", 500), ("small-1", 5), ("mid", 50), ("small-2", 10)]]
        gate.set()
        first.result(timeout=5)
        for f in futures:
            f.result(timeout=5)
        assert order == ["small-1", "small-2", "big", "mid"]  # small first; big ones in arrival order
    finally:
        gate.set()
        pool.shutdown()


def test_exceptions_reach_the_caller_and_shutdown_cancels_what_is_queued():
    pool = PriorityPool(1)
    gate = threading.Event()

    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        pool.submit(fail).result(timeout=5)
    busy = pool.submit(gate.wait, 10)
    time.sleep(0.1)
    queued = pool.submit(lambda: 1)
    pool.shutdown()
    assert queued.cancelled()
    gate.set()
    assert busy.result(timeout=5)
    with pytest.raises(RuntimeError):
        pool.submit(lambda: 1)


def test_arguments_are_checked():
    with pytest.raises(ValueError):
        PriorityPool(1, reserved=1)
    with pytest.raises(ValueError):
        PriorityPool(0)


def test_an_idle_thread_keeps_nothing_of_its_last_call_alive():
    """A worker waiting for work must not pin the last call's arguments or result (full-size arrays)."""
    import gc
    import weakref

    import numpy as np

    class Big:  # numpy arrays cannot be weakly referenced; an object holding one can
        def __init__(self):
            self.pixels = np.zeros(10)

    pool = PriorityPool(2, reserved=1, small=100)
    try:
        argument, result = Big(), []
        watched = [weakref.ref(argument)]

        def work(arg):
            out = Big()
            result.append(weakref.ref(out))
            return out

        pool.submit(work, argument, priority=BIG).result(timeout=5)
        del argument
        time.sleep(0.1)
        gc.collect()
        assert watched[0]() is None and result[0]() is None
    finally:
        pool.shutdown()


def _nice(native_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, native_id)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_big_calls_run_at_the_engines_priority_until_a_small_call_starts():
    """A big job's call keeps the process's priority while no small job runs; a small call drops the
    running big call's thread (not itself), and that thread is replaced by one at the first priority."""
    base = _nice(threading.get_native_id())
    pool = PriorityPool(2, reserved=1, small=100, general_nice=5)
    release = threading.Event()
    seen: dict[str, list[int]] = {}

    def big_call(label):
        seen.setdefault(label, []).append(threading.get_native_id())
        seen[label].append(_nice(threading.get_native_id()))
        release.wait(10)
        seen[label].append(_nice(threading.get_native_id()))

    try:
        first = pool.submit(big_call, "first", priority=BIG)
        time.sleep(0.2)
        small = pool.submit(lambda: _nice(threading.get_native_id()), priority=SMALL).result(timeout=5)
        release.set()
        first.result(timeout=5)
        release.clear()
        second = pool.submit(big_call, "second", priority=BIG)
        time.sleep(0.2)
        release.set()
        second.result(timeout=5)
        assert seen["first"][1] == base and small == base  # big at first, and the small call, at the pool's priority
        assert seen["first"][2] == base + 5  # dropped while the small call ran
        assert seen["second"][0] != seen["first"][0]  # the dropped thread retired
        assert seen["second"][1] == base  # its replacement runs big calls at the first priority again
    finally:
        release.set()
        pool.shutdown()
