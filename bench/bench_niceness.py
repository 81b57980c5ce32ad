"""What a thread's niceness does to one Object Selection prompt: the same box prediction on a thread
at niceness 0 and at 10 (Linux), wall time and the thread's own CPU time, median of 3, twice each.

    PYTHONPATH=. python bench/bench_niceness.py [--megapixels 4]

On an idle machine both are alike; with other work on the machine the niced thread waits.
"""
from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np

from bench.bench_objects import prompts, scene
from core.models.session import open_session
from core.objects import ObjectOptions, ObjectSelector


def timed_on_thread(selector: ObjectSelector, kwargs: dict, nice: int) -> tuple[float, float]:
    """(median wall s, median thread CPU s) of three predictions on a new thread at ``nice``."""
    out: dict[str, tuple[float, float]] = {}

    def body() -> None:
        if nice:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        walls, cpus = [], []
        for _ in range(3):
            wall, cpu = time.perf_counter(), time.thread_time()
            selector.predict(**kwargs)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.thread_time() - cpu)
        out["times"] = (float(np.median(walls)), float(np.median(cpus)))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    return out["times"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=4.0)
    args = parser.parse_args()
    image, truth = scene(args.megapixels)
    session = open_session("isnet", device="cpu")
    selector = ObjectSelector(image, ObjectOptions(refine="fast"), predict=session.predict)
    box = prompts(truth, truth.astype(np.float32))["box"]
    selector.predict(**box)  # the box's crop: its model run belongs to the first prediction only
    print(f"load average {os.getloadavg()[0]:.1f}")
    for _ in range(2):
        for nice in (0, 10):
            wall, cpu = timed_on_thread(selector, box, nice)
            print(f"niceness {nice:2d}: wall {wall:.2f} s, thread CPU {cpu:.2f} s")


if __name__ == "__main__":
    main()
