"""Load on a real engine process: 8 clients × 50 mixed jobs, every result arrives,
memory stays bounded."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from sample_images import red_disc_image
from core.imageio import float_to_uint8
from wire.client import raw_image
from test_server import Engine

CLIENTS, JOBS = 8, 50


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _images() -> list:
    out = []
    for i, (h, w) in enumerate([(90, 120), (120, 160), (150, 200), (100, 180)]):
        image, _ = red_disc_image(h, w)
        image = np.roll(image, i * 7, axis=1)  # distinct content: distinct cache entries
        out.append((raw_image(w, h, "rgb8", float_to_uint8(image).tobytes()), (h, w)))
    return out


def test_eight_clients_fifty_mixed_jobs_each(tmp_path, tiny_model):
    engine = Engine(tmp_path, tiny_model, "--cache-mb", "64")
    images = _images()
    failures: list[str] = []
    counts = [0] * CLIENTS

    def client_run(k: int) -> None:
        try:
            with engine.client() as client:
                last = None
                for j in range(JOBS):
                    image, (h, w) = images[(k + j) % len(images)]
                    kind = j % 5
                    if kind in (0, 1):
                        result = client.select_subject(image, refine=("fast", "none")[kind], outputs=["alpha"])
                        assert len(result.buffers["alpha"]) == h * w
                        last = result.result_id
                    elif kind == 2 and last:
                        assert len(client.adjust_edges(last, edges={"feather": 2}).buffers["alpha"]) > 0
                    elif kind == 3:
                        assert len(client.trimap(image).buffers["trimap"]) == h * w
                    else:
                        assert "jobs" in client.status()
                    counts[k] += 1
        except Exception as exc:  # collected and asserted on below
            failures.append(f"client {k}: {exc!r}")

    try:
        warm = engine.client()
        warm.connect()
        warm.select_subject(images[0][0], refine="fast")
        warm.close()
        before = _rss_kb(engine.proc.pid)
        threads = [threading.Thread(target=client_run, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert not failures, failures
        assert counts == [JOBS] * CLIENTS  # every result arrived
        after = _rss_kb(engine.proc.pid)
        assert after - before < 200_000, f"RSS grew by {(after - before) / 1024:.0f} MB under load"
        with engine.client() as client:
            status = client.status()
        assert status["jobs"] == {"queued": 0, "running": 0}
        assert status["cache_bytes"] <= 64 * 1024 * 1024
        assert engine.proc.poll() is None
    finally:
        engine.stop()
