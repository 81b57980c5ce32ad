"""Object Selection at 12 MP: ``prepare`` against one Select Subject, each prompt after it, and the
engine's overhead over calling core directly.

    PYTHONPATH=. python bench/bench_objects.py --megapixels 12 --runs 3

The image is alphamatting GT05 upscaled (bicubic) to the size; the prompts come from its known
matte: a click at the subject's most interior pixel, the matte's bounding box grown by 5 %, a
negative click and a positive click correcting Select Subject's matte (each at the most interior
pixel of what the matte has wrong: a click where it is right already changes nothing), a lasso (the box's left
half) in add mode, which the client sends as its box (``within``; the alpha comes back as its box too,
``crop_alpha``, and the client makes it whole: what an editor gets). Times are medians of ``--runs`` (after one warm-up prediction); "engine" is the
client's wall time for the same request by the image's key (the image sent once, before; the key from
the first reply, as a client that keeps it sends it: not hashed again).

Core and engine calls alternate (core, engine, core, engine, …) so that both see the same machine: on
a shared virtual machine one call's wall time varies by ±30 % from run to run (CPU steal), far more
than the overhead looked for. The CPU seconds each call costs its process (all its threads, from
``/proc``), which steal does not inflate, are reported beside the wall times. Two processes still
differ by ±20 % on the same work (their memory: fresh pages, allocator state), so the overhead is also
read within each engine call: the client's wall time less the engine's own ``predict`` (core's
``ObjectSelector.predict``, timed in the engine: ``fields["timings"]``) is all the engine path adds
(hashing, sending, decoding, queuing, encoding, receiving), set against that same call.
Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
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
from softcut_app.client_masking import use_c_masking
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
    missed = (subject < 0.5) & (truth >= 0.5)  # a click where the matte agrees already changes nothing
    deep = cv2.distanceTransform(missed.astype(np.uint8), cv2.DIST_L2, 5)
    py, px = np.unravel_index(int(deep.argmax()), deep.shape)
    lasso = np.zeros((h, w), np.float32)
    lasso[int(box[1]):int(box[3]), int(box[0]):int((box[0] + box[2]) / 2)] = 1.0
    return {
        "click": {"points": [(float(x), float(y), True)]},
        "box": {"box": box},
        "negative click on Select Subject": {"points": [(float(nx), float(ny), False)], "previous": subject},
        "positive click on Select Subject": {"points": [(float(px), float(py), True)], "previous": subject},
        "lasso, add": {"mask": lasso, "mode": "add", "previous": subject},
    }


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system, all threads) process ``pid`` has used so far, in seconds (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(fn, pid: int) -> tuple[float, float, object]:
    """One call of ``fn``: (wall seconds, CPU seconds of process ``pid``, what ``fn`` returned)."""
    cpu, start = cpu_seconds(pid), time.perf_counter()
    value = fn()
    return time.perf_counter() - start, cpu_seconds(pid) - cpu, value


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
    use_c_masking()  # as the CLI's client does: this is the engine's environment
    with tempfile.TemporaryDirectory() as tmp:
        engine = EngineProcess(Path(tmp), "isnet")
        try:
            with SoftcutClient(port=engine.port, token=engine.token, timeout=600) as client:
                pixels = raw_image(w, h, "rgb8", image.tobytes())
                key = client.select_object(pixels, refine=args.refine, points=cases["click"]["points"]).fields["image"]
                for name, kwargs in cases.items():
                    sent = dict(kwargs)
                    if "previous" in sent:  # a fresh result: the earlier prompts' results push old ones out
                        sent["previous"] = client.select_subject(pixels, refine="best").fields["result"]
                    if "mask" in sent:
                        sent["mask"] = raw_image(w, h, "grey8", float_to_uint8(sent["mask"]).tobytes(), name="mask")

                    def in_core(kwargs=kwargs):
                        selector.predict(**kwargs)

                    def in_engine(sent=sent):
                        return client.select_object(pixels, key=key, refine=args.refine, **sent)

                    in_core(), in_engine()  # warm-up: a new crop's model run is part of the first prompt only
                    pairs = [(measured(in_core, os.getpid()), measured(in_engine, engine.proc.pid))
                             for _ in range(args.runs)]
                    around = [engine_s - result.fields["timings"]["predict"] for _, (engine_s, _, result) in pairs]
                    inside = [result.fields["timings"]["predict"] for _, (_, _, result) in pairs]
                    rows.append([name] + [statistics.median(pair[i][j] for pair in pairs)
                                          for i in (0, 1) for j in (0, 1)]
                                + [statistics.median(around), statistics.median(inside)])
        finally:
            engine.stop()
    print(f"{platform.processor() or platform.machine()}, {w}×{h}, refine {args.refine}, median of {args.runs}\n")
    print(f"Select Subject (best): {subject_s:.2f} s; prepare: {prepare_s:.2f} s ({prepare_s / subject_s:.2f}×)\n")
    print("| prompt | core s | engine s | engine over core | core CPU s | engine CPU s | engine over core (CPU) "
          "| engine's own core call s | around it s | around over the call |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, core_s, core_cpu, engine_s, engine_cpu, around, inside in rows:
        print(f"| {name} | {core_s:.2f} | {engine_s:.2f} | {100 * (engine_s - core_s) / core_s:+.1f} % "
              f"| {core_cpu:.2f} | {engine_cpu:.2f} | {100 * (engine_cpu - core_cpu) / core_cpu:+.1f} % "
              f"| {inside:.3f} | {around:.3f} | {100 * around / inside:+.1f} % |")

if __name__ == "__main__":
    main()
