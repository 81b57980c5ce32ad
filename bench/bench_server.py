"""Engine server figures: protocol overhead on a 12 MP Select Subject, and a load run.

    python bench/bench_server.py [--megapixels 12] [--clients 8] [--jobs 50]

1. Overhead: a 12 MP image (raw RGBA on the wire, raw alpha back) through a real
   engine on loopback. The protocol's cost (transfer, framing, encode/decode) is
   the client's round-trip time minus the engine's own time for the job (its
   ``job_seconds``), as a share of the latter. For reference, core is also called
   in-process on the same raw bytes; that difference also holds the run-to-run
   noise of the job itself. Each run uses a fresh image so the cache never answers. Then edge-slider tweaks
   (``adjust_edges``, alpha back raw) on that 12 MP result.
2. Load: N clients × M mixed jobs (select_subject fast / none, adjust_edges,
   trimap, status) on 0.5 MP images with the default model: jobs/s, p50 and p95
   latency per kind, and the engine's peak RSS.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from core.imageio import float_to_uint8, load_image, raw_to_image
from core.models.session import open_session
from core.subject.options import MatteOptions
from core.subject.select import select_subject
from wire.client import SoftcutClient, raw_image
from testing.launcher import EngineProcess

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting" / "input" / "GT05.png"


def photo_rgba(megapixels: float, seed: int) -> tuple[bytes, int, int]:
    """GT05 resized to ``megapixels``, as rgba8 bytes (opaque), width, height; ``seed`` changes one pixel."""
    image = load_image(SOURCE)
    h, w = image.shape[:2]
    scale = (megapixels * 1e6 / (h * w)) ** 0.5
    big = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    rgba = np.dstack([float_to_uint8(big), np.full(big.shape[:2], 255, np.uint8)])
    rgba[0, 0, 0] = seed % 256  # a different image for every run: no cache hit
    return rgba.tobytes(), big.shape[1], big.shape[0]


def overhead(engine: EngineProcess, megapixels: float, runs: int) -> dict:
    session = open_session("isnet", device="cpu")
    direct, remote, protocol = [], [], []
    with SoftcutClient(port=engine.port, token=engine.token, timeout=600) as client:
        for i in range(runs):
            data, w, h = photo_rgba(megapixels, 2 * i)
            start = time.perf_counter()
            image = raw_to_image(data, w, h, "rgba8")
            matte = select_subject(image, session.predict, MatteOptions())
            float_to_uint8(matte.alpha).tobytes()
            direct.append(time.perf_counter() - start)
            data, w, h = photo_rgba(megapixels, 2 * i + 1)
            start = time.perf_counter()
            result = client.select_subject(raw_image(w, h, "rgba8", data), outputs=["alpha"], format="raw")
            remote.append(time.perf_counter() - start)
            assert len(result.buffers["alpha"]) == w * h
            job = result.fields["job_seconds"]  # the engine's own time for the job
            protocol.append((remote[-1] - job) / job)
        slider = []
        for i in range(runs):  # edge-slider tweaks on the last 12 MP result, alpha back raw
            start = time.perf_counter()
            client.adjust_edges(result.result_id, edges={"feather": 1 + i, "contrast": 10 * i}, outputs=["alpha"])
            slider.append(time.perf_counter() - start)
    d, r = statistics.median(direct), statistics.median(remote)
    return {"width": w, "height": h, "direct_s": d, "engine_s": r, "overhead": (r - d) / d,
            "protocol": statistics.median(protocol), "adjust_edges_s": statistics.median(slider)}


def load(engine: EngineProcess, clients: int, jobs: int) -> dict:
    pool = []
    for k in range(4):
        data, w, h = photo_rgba(0.5, 1000 + k)
        pool.append(raw_image(w, h, "rgba8", data))
    latencies: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    errors: list[str] = []

    def run(k: int) -> None:
        try:
            with SoftcutClient(port=engine.port, token=engine.token, timeout=600) as client:
                last = None
                for j in range(jobs):
                    kind = ("select_fast", "select_none", "adjust_edges", "trimap", "status")[j % 5]
                    start = time.perf_counter()
                    image = pool[(k + j) % len(pool)]
                    if kind.startswith("select"):
                        last = client.select_subject(image, refine=kind[7:], priority="batch").result_id
                    elif kind == "adjust_edges" and last:
                        client.adjust_edges(last, edges={"feather": 3, "contrast": 20})
                    elif kind == "trimap":
                        client.trimap(image)
                    else:
                        client.status()
                    with lock:
                        latencies[kind].append(time.perf_counter() - start)
        except Exception as exc:
            errors.append(repr(exc))

    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    done = sum(len(v) for v in latencies.values())
    every = sorted(x for v in latencies.values() for x in v)
    return {
        "clients": clients,
        "jobs": done,
        "errors": errors,
        "seconds": elapsed,
        "jobs_per_s": done / elapsed,
        "p50_s": every[len(every) // 2],
        "p95_s": every[int(len(every) * 0.95)],
        "per_kind": {k: (statistics.median(v), sorted(v)[int(len(v) * 0.95)]) for k, v in latencies.items()},
        "peak_rss_mb": engine.peak_rss_kb() / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EngineProcess(Path(tmp), "isnet", "--device", "cpu") as engine:
        o = overhead(engine, args.megapixels, args.runs)
        print(f"| {args.megapixels:g} MP ({o['width']}×{o['height']}) | in-process core {o['direct_s']:.2f} s | "
              f"through the engine {o['engine_s']:.2f} s | difference {o['overhead'] * 100:+.1f} % | "
              f"transfer + encode/decode {o['protocol'] * 100:.1f} % of the job |"
              f" "
              f"adjust_edges {o['adjust_edges_s']:.2f} s |")
        result = load(engine, args.clients, args.jobs)
        print(f"load: {result['clients']} clients, {result['jobs']} jobs in {result['seconds']:.1f} s = "
              f"{result['jobs_per_s']:.2f} jobs/s; p50 {result['p50_s']:.2f} s, p95 {result['p95_s']:.2f} s; "
              f"engine peak RSS {result['peak_rss_mb']:.0f} MB; errors {len(result['errors'])}")
        for kind, (p50, p95) in sorted(result["per_kind"].items()):
            print(f"| {kind} | {p50:.3f} | {p95:.3f} |")


if __name__ == "__main__":
    main()
