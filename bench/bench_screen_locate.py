"""Phone paste through a desktop screenshot: what the fallback adds to a paste.

    python bench/bench_screen_locate.py [--runs 5] [--megapixels 12]

When the editor's snapshot has nothing to match (a plain document) the engine grabs the
screen, locates the phone photo on it and maps the point into the document (through the
editor's view, or by finding the snapshot on the screen). Timed here, in this process:

1. ``grab_screen()`` of a 1920 × 1080 × 24 Xvfb display (started here);
2. locating a 12 MP photo of the screen's top-left part on the 1920 × 1080 screenshot
   (a synthetic editor screen showing a white document beside its toolbars);
3. finding a 1600 px snapshot (a half-textured document) on that screen (no view).

Steps 1–2 (or 1–3) come on top of the paste's snapshot locate, which failed first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

import cv2
import numpy as np

from core.phone.locate import locate
from testing.locate_synthetic import editor_screen_by_toolbars
from core.phone.placement import find_on_screen
from engine_server.phone.screen import grab_screen


def median_seconds(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--megapixels", type=float, default=12.0)
    args = parser.parse_args()

    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        os.environ["DISPLAY"] = ":" + pipe.readline().strip()
    try:
        assert grab_screen() is not None, "no screenshot from Xvfb"
        grab = median_seconds(grab_screen, args.runs)
    finally:
        xvfb.terminate()

    white = np.full((800, 1200, 3), 255, np.uint8)
    screen = editor_screen_by_toolbars(white)[0]
    crop = screen[0:400, 0:600]
    side = (args.megapixels * 1e6 / (600 * 400)) ** 0.5
    photo = cv2.resize(crop, (round(600 * side), round(400 * side)), interpolation=cv2.INTER_CUBIC)
    found = locate(screen, photo)
    assert found.x is not None and abs(found.x - 300) < 3 and abs(found.y - 200) < 3, found
    on_screen = median_seconds(lambda: locate(screen, photo), args.runs)

    textured = cv2.resize(np.random.default_rng(1).integers(0, 256, (40, 30, 3), dtype=np.uint8), (600, 800),
                          interpolation=cv2.INTER_CUBIC)
    half = white.copy()
    half[:, 600:] = textured
    half_screen = editor_screen_by_toolbars(half)[0]
    snapshot = cv2.resize(half, (1600, round(1600 * 800 / 1200)), interpolation=cv2.INTER_CUBIC)
    assert find_on_screen(half_screen, snapshot) is not None
    find = median_seconds(lambda: find_on_screen(half_screen, snapshot), args.runs)

    print(f"| step | median s ({args.runs} runs) |")
    print("|---|---:|")
    print(f"| grab_screen, 1920 x 1080 Xvfb | {grab:.3f} |")
    print(f"| locate a {photo.shape[1]}x{photo.shape[0]} photo on the screenshot | {on_screen:.3f} |")
    print(f"| find a 1600 px snapshot on the screenshot (no view) | {find:.3f} |")


if __name__ == "__main__":
    main()
