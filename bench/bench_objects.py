"""Object Selection at 12 MP: ``prepare`` against one Select Subject, each prompt after it, and the
engine's overhead over calling core directly.

    PYTHONPATH=. python bench/bench_objects.py --megapixels 12 --runs 3

The image is alphamatting GT05 upscaled (bicubic) to the size; the prompts come from its known
matte: a click at the subject's most interior pixel, the matte's bounding box grown by 5 %, a
negative click and a positive click correcting Select Subject's matte, a lasso (the box's left
half) in add mode. Times are medians of ``--runs`` (after one warm-up prediction); "engine" is the
client's wall time for the same request by the image's key (the image sent once, before).
Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from core.imageio import float_to_uint8, load_grey, load_image
from core.models.session import open_session
from core.objects import ObjectOptions, ObjectSelector
from core.subject.options import MatteOptions
from core.subject.select import select_subject
from testing.launcher import EngineProcess
from wire.client import SoftcutClient, raw_image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"


def scene(megapixels: float) -> tuple[np.ndarray, np.ndarray]:
    """GT05 and its matte at ``megapixels``: (H, W, 3) uint8 RGB, (H, W) float32 in [0, 1]."""
    image, truth = load_image(DATA / "input" / "GT05.png"), load_grey(DATA / "gt" / "GT05.png") / 255.0
    h, w = truth.shape
    scale = (megapixels * 1e6 / (h * w)) ** 0.5
    size = (round(w * scale), round(h * scale))
    big = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC).clip(0, 1)
    return float_to_uint8(big), cv2.resize(truth.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)


def prompts(truth: np.ndarray, subject: np.ndarray) -> dict[str, dict]:
    """The benchmark's prompts (``predict`` keyword arguments) from the true matte and Select Subject's."""
    inside = (truth >= 0.5).astype(np.uint8)
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    y, x = np.unravel_index(int(distance.argmax()), distance.shape)
    ys, xs = np.nonzero(inside)
    grow_x, grow_y = 0.05 * (xs.max() - xs.min()), 0.05 * (ys.max() - ys.min())
    h, w = truth.shape
    box = (max(0.0, xs.min() - grow_x), max(0.0, ys.min() - grow_y), min(w - 1.0, xs.max() + grow_x),
           min(h - 1.0, ys.max() + grow_y))
    wrong = (subject >= 0.5) & (truth < 0.5)
    far = cv2.distanceTransform(wrong.astype(np.uint8), cv2.DIST_L2, 5)
    ny, nx = np.unravel_index(int(far.argmax()), far.shape)
    lasso = np.zeros((h, w), np.float32)
    lasso[int(box[1]):int(box[3]), int(box[0]):int((box[0] + box[2]) / 2)] = 1.0
    return {
        "click": {"points": [(float(x), float(y), True)]},
        "box": {"box": box},
        "negative click on Select Subject": {"points": [(float(nx), float(ny), False)], "previous": subject},
        "positive click on Select Subject": {"points": [(float(x), float(y), True)], "previous": subject},
        "lasso, add": {"mask": lasso, "mode": "add", "previous": subject},
    }


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--refine", default="fast", choices=("none", "fast", "best"))
    args = parser.parse_args()
    image, truth = scene(args.megapixels)
    h, w = truth.shape
    session = open_session("isnet", device="cpu")
    session.predict(np.zeros((64, 64, 3), np.float32))
    image_float = image.astype(np.float32) / 255.0
    subject_s = timed(lambda: select_subject(image_float, session.predict, MatteOptions()), 1)
    subject = select_subject(image_float, session.predict, MatteOptions()).alpha
    options = ObjectOptions(refine=args.refine)
    prepare_s = timed(lambda: ObjectSelector(image, options, predict=session.predict), 1)
    selector = ObjectSelector(image, options, predict=session.predict)
    cases = prompts(truth, subject)
    rows = []
    for name, kwargs in cases.items():
        selector.predict(**kwargs)  # warm-up: a new crop's model run is part of the first prompt only
        rows.append([name, timed(lambda: selector.predict(**kwargs), args.runs)])
    with tempfile.TemporaryDirectory() as tmp:
        engine = EngineProcess(Path(tmp), "isnet")
        try:
            with SoftcutClient(port=engine.port, token=engine.token, timeout=600) as client:
                pixels = raw_image(w, h, "rgb8", image.tobytes())
                client.select_object(pixels, refine=args.refine, **{"points": cases["click"]["points"]})
                previous = client.select_subject(pixels, refine="best").fields["result"]
                for row, (name, kwargs) in zip(rows, cases.items()):
                    sent = dict(kwargs)
                    if "previous" in sent:
                        sent["previous"] = previous
                    if "mask" in sent:
                        sent["mask"] = raw_image(w, h, "grey8", float_to_uint8(sent["mask"]).tobytes(), name="mask")
                    client.select_object(pixels, refine=args.refine, **sent)  # warm-up, as in core
                    row.append(timed(lambda: client.select_object(pixels, refine=args.refine, **sent), args.runs))
        finally:
            engine.stop()
    print(f"{platform.processor() or platform.machine()}, {w}×{h}, refine {args.refine}, median of {args.runs}\n")
    print(f"Select Subject (best): {subject_s:.2f} s; prepare: {prepare_s:.2f} s ({prepare_s / subject_s:.2f}×)\n")
    print("| prompt | core s | engine s | engine overhead |")
    print("|---|---:|---:|---:|")
    for name, core_s, engine_s in rows:
        print(f"| {name} | {core_s:.2f} | {engine_s:.2f} | {100 * (engine_s - core_s) / core_s:+.1f} % |")


if __name__ == "__main__":
    main()
