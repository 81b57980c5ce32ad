"""Peak memory per engine job, by operation, mode and size: the figures behind
:data:`engine_server.memory.COSTS` and ``OUTPUT_BYTES_PER_PIXEL`` (docs/benchmarks.md, "Engine memory per job").

Each measurement runs in a child process of its own: the child loads a tiny ONNX model
(the model's own memory is outside a job's and is not what is measured), warms the
operation up on a small image (numba compiles, pools start), receives the request as the
server would (codec frames → decoded message), resets the kernel's peak-RSS mark
(``/proc/self/clear_refs`` 5), runs the operation to its reply and reads ``VmHWM``. The
job's bytes are that peak minus the RSS just before; per pixel, divided by width × height.

The image is the worst case for the matte's soft pixels: a smooth red-to-blue gradient
whose every pixel the tiny model calls half subject (refine none: every pixel soft),
sent as a PNG (a few KB: the decompression bomb of issue 19) or as raw rgba8.

    python bench/bench_memory.py --sizes 4,16,36 --repeat 2 --out /tmp/mem.jsonl
    python bench/bench_memory.py --report /tmp/mem.jsonl

Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

CASES = {
    # name: (operation, request fields)
    "select_subject none alpha": ("select_subject", {"refine": "none", "outputs": ["alpha"]}),
    "select_subject fast alpha": ("select_subject", {"refine": "fast", "outputs": ["alpha"]}),
    "select_subject best alpha": ("select_subject", {"refine": "best", "outputs": ["alpha"]}),
    "select_subject none cutout": ("select_subject", {"refine": "none", "outputs": ["cutout"]}),
    "select_subject best all": ("select_subject",
                                {"refine": "best", "outputs": ["alpha", "foreground", "cutout", "trimap"]}),
    "select_subject none cutout png": ("select_subject", {"refine": "none", "outputs": ["cutout"], "format": "png"}),
    "trimap": ("trimap", {}),
    "refine fast": ("refine", {"mode": "fast", "outputs": ["alpha"]}),
    "refine best cutout": ("refine", {"mode": "best", "outputs": ["alpha", "cutout"]}),
    "adjust_edges alpha": ("adjust_edges", {"outputs": ["alpha"], "edges": {"feather": 3, "shift_edge": 10}}),
    "adjust_edges cutout": ("adjust_edges", {"outputs": ["cutout"], "edges": {"feather": 3}}),
    "soft_segments": ("soft_segments", {"count": 3}),
    "select_object fast": ("select_object", {"refine": "fast", "outputs": ["alpha"]}),
    "select_object best cutout": ("select_object", {"refine": "best", "outputs": ["alpha", "cutout"]}),
    "select_object prepared fast": ("select_object", {"refine": "fast", "outputs": ["alpha"]}),
    "select_object prepared none": ("select_object", {"refine": "none", "outputs": ["alpha"]}),
}
PREPARED = {"select_object prepared fast", "select_object prepared none"}
"""Cases whose image the engine prepared before the measurement (named by its key: the prompt's cost only)."""


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def gradient(width: int, height: int):
    """(height, width, 3) uint8 RGB: red to blue left to right, r − b within ±0.5, so that the
    tiny 'red' model's mask (sigmoid(8 (r − b))) is soft everywhere."""
    import numpy as np

    t = np.linspace(0.0, 1.0, width, dtype=np.float32)
    row = np.stack([0.25 + 0.5 * t, np.full_like(t, 0.5), 0.75 - 0.5 * t], axis=1)
    return np.ascontiguousarray(np.broadcast_to((row * 255 + 0.5).astype(np.uint8), (height, width, 3)))


def write_input(path: Path, width: int, height: int, fmt: str) -> None:
    import cv2
    import numpy as np

    pixels = gradient(width, height)
    if fmt == "png":
        ok, data = cv2.imencode(".png", pixels[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
        path.write_bytes(data.tobytes())
    else:
        rgba = np.empty((height, width, 4), np.uint8)
        rgba[:, :, :3] = pixels
        rgba[:, :, 3] = 255
        path.write_bytes(rgba.tobytes())


def _request(case: str, data: bytes, fmt: str, width: int, height: int, result: str | None):
    """The case's request, through the codec and with its defaults, as an operation receives it."""
    from dataclasses import replace

    from wire.protocol import codec, messages
    from wire.protocol.schemas import with_defaults

    op, fields = CASES[case]
    image = messages.buffer("image", data, format="png" if fmt == "png" else "rgba8", width=width, height=height)
    fields = dict(fields)
    if op == "select_subject":
        msg = messages.select_subject(image, **fields)
    elif op == "trimap":
        msg = messages.Message("trimap", messages.new_id(), fields={}, buffers=[image])
    elif op == "refine":
        import numpy as np

        guide = np.full((height, width), 128, np.uint8)
        guide[:, : width // 4] = 0
        guide[:, -width // 4:] = 255
        buffers = [image, messages.buffer("guide", guide.tobytes(), format="grey8", width=width, height=height)]
        msg = messages.Message("refine", messages.new_id(), fields={"guide": "trimap", **fields}, buffers=buffers)
    elif op == "adjust_edges":
        msg = messages.Message("adjust_edges", messages.new_id(), fields={"result": result, **fields})
    elif op == "soft_segments":
        msg = messages.Message("soft_segments", messages.new_id(), fields=fields, buffers=[image])
    elif op == "select_object":  # a box around the middle; by the image's key when it was prepared before
        box = (width / 4, height / 4, 3 * width / 4, 3 * height / 4)
        msg = messages.select_object(messages.buffer_key(image) if case in PREPARED else image, box=box, **fields)
    else:
        raise ValueError(op)
    decoder = codec.Decoder(role="engine", max_frame_bytes=1 << 31, max_pixels=200_000_000)
    out = None
    for frame in codec.encode(msg):
        out = decoder.feed(frame) or out
    return replace(out, fields=with_defaults(out))


def child(case: str, path: Path, fmt: str, width: int, height: int, model: Path) -> dict:
    """One measurement (run in a fresh process): the job's peak bytes above the RSS before it."""
    from types import SimpleNamespace

    from core.models.session import open_session
    from engine_server.engine import Engine
    from engine_server.jobs import Job
    from engine_server.operations import adjust_edges, refine, select_object, select_subject, soft_segments, trimap
    from wire.protocol.messages import Limits

    ops = {"select_subject": select_subject.run, "trimap": trimap.run, "refine": refine.run,
           "adjust_edges": adjust_edges.run, "soft_segments": soft_segments.run, "select_object": select_object.run}
    op = CASES[case][0]
    engine = Engine(open_session(str(model), device="cpu"), limits=Limits(max_pixels=200_000_000),
                    cache_bytes=8 * 1024**3)
    ctx = SimpleNamespace(engine=engine)  # what these operations read of the server

    def job():
        return Job(id="j", client="c", kind=op, priority=0, work=None)

    async def run(data: bytes, w: int, h: int) -> dict:
        result = None
        if op == "adjust_edges":  # the result it adjusts, made before the measurement
            first = _request("select_subject best alpha", data, fmt, w, h, None)
            result = (await select_subject.run(ctx, job(), first)).fields["result"]
        elif case in PREPARED:  # the image prepared (and kept) before the measurement
            await select_object.run(ctx, job(), _request("select_object fast", data, fmt, w, h, None))
        request = _request(case, data, fmt, w, h, result)
        del data
        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # freed heap memory back to the OS: RSS is what is in use
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        before = _rss_kb("VmRSS")
        started = time.perf_counter()
        reply = await ops[op](ctx, job(), request)
        seconds = time.perf_counter() - started
        peak = _rss_kb("VmHWM")
        del reply
        return {"before_kb": before, "peak_kb": peak, "seconds": seconds}

    warm = tempfile.NamedTemporaryFile(suffix="." + fmt)
    write_input(Path(warm.name), 96, 64, fmt)
    asyncio.run(run(Path(warm.name).read_bytes(), 96, 64))
    engine.results = type(engine.results)(engine.results.max_bytes)  # forget the warm-up's result
    out = asyncio.run(run(path.read_bytes(), width, height))
    job_bytes = (out["peak_kb"] - out["before_kb"]) * 1024
    pixels = width * height
    row = {"case": case, "format": fmt, "width": width, "height": height, "megapixels": round(pixels / 1e6, 2),
           "job_bytes": job_bytes, "bytes_per_pixel": round(job_bytes / pixels, 1), "seconds": round(out["seconds"], 2),
           "rss_before_mb": round(out["before_kb"] / 1024), "peak_rss_mb": round(out["peak_kb"] / 1024)}
    row["payload"] = path.stat().st_size
    return row


def estimate(row: dict) -> int:
    """This tree's :func:`engine_server.memory.job_estimate` for a measured case."""
    from engine_server.memory import job_estimate

    op, fields = CASES[row["case"]]
    fmt = "png" if row["format"] == "png" else "rgba8"
    if op == "adjust_edges" or row["case"] in PREPARED:
        return job_estimate(op, fields, [], result_pixels=row["width"] * row["height"])
    buffers = [(fmt, row["width"], row["height"], row.get("payload", 0))]
    if op == "refine":
        buffers.append(("grey8", row["width"], row["height"], row["width"] * row["height"]))
    return job_estimate(op, fields, buffers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="4,16", help="megapixels, comma-separated (3:2 images)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated names from CASES")
    parser.add_argument("--formats", default="png", help="png and/or raw")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", type=Path, help="print a Markdown table of a --out file and exit")
    parser.add_argument("--child", nargs=6, metavar=("CASE", "PATH", "FORMAT", "W", "H", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, path, fmt, w, h, model = args.child
        print(json.dumps(child(case, Path(path), fmt, int(w), int(h), Path(model))))
        return 0
    if args.report:
        return report(args.report)
    from tiny_models import build_tiny_model, write_sidecar

    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "tiny.onnx")
        write_sidecar(model)
        for mp in (float(s) for s in args.sizes.split(",")):
            height = int(round((mp * 1e6 / 1.5) ** 0.5))
            width = int(round(height * 1.5))
            for fmt in args.formats.split(","):
                path = Path(tmp) / f"in_{width}x{height}.{fmt}"
                write_input(path, width, height, fmt)
                for case in args.cases.split(","):
                    for _ in range(args.repeat):
                        done = subprocess.run([sys.executable, __file__, "--child", case, str(path), fmt, str(width),
                                               str(height), str(model)], capture_output=True, text=True)
                        if done.returncode != 0:
                            print(f"{case} {fmt} {mp} MP failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                            continue
                        row = json.loads(done.stdout.strip().splitlines()[-1])
                        print(json.dumps(row), flush=True)
                        if args.out:
                            with args.out.open("a") as f:
                                f.write(json.dumps(row) + "\n")
                path.unlink()
    return 0


def report(path: Path) -> int:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["case"], row["format"], row["megapixels"]), []).append(row)
    print("| case | format | MP | B/px (max of runs) | peak job MB | s | estimate MB | estimate / measured |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    lowest = None
    for (case, fmt, mp), group in groups.items():
        worst = max(group, key=lambda r: r["job_bytes"])
        est = estimate(worst)
        ratio = est / max(worst["job_bytes"], 1)
        lowest = ratio if lowest is None else min(lowest, ratio)
        print(f"| {case} | {fmt} | {mp} | {worst['bytes_per_pixel']} | {worst['job_bytes'] / 2**20:.0f} | "
              f"{statistics.median(r['seconds'] for r in group):.1f} | {est / 2**20:.0f} | {ratio:.2f} |")
    print(f"\nlowest estimate / measured: {lowest:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
