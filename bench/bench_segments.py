"""Time and peak memory of soft segmentation (core.segments) at 640×480 and 12 MP.

Each size runs in a fresh child process (so its peak RSS is its own): the default
model's decoder features (one inference) and then ``soft_segments``, timed per
stage; the median of --repeat runs is kept, after a warm-up on a small image
(numba compilation and first-run allocations are not the method's cost).

    python bench/bench_segments.py [--sizes 640x480,12] [--count 5] [--repeat 3] [--no-features]

Sizes are WxH or megapixels; the source is an alphamatting photo resized
(bicubic) to each size. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "alphamatting" / "input" / "GT04.png"


def _image_at(source: Path, size: str):
    import cv2
    import numpy as np

    from core.imageio import load_image

    image = load_image(source)
    h, w = image.shape[:2]
    if "x" in size:
        dims = tuple(int(v) for v in size.split("x"))
    else:
        scale = (float(size) * 1e6 / (h * w)) ** 0.5
        dims = (round(w * scale), round(h * scale))
    return np.ascontiguousarray(cv2.resize(image, dims, interpolation=cv2.INTER_CUBIC).clip(0, 1))


def child(config: dict) -> dict:
    """Run one size in this process and return its figures."""
    import numpy as np

    from core.segments.pipeline import segment_with_timings

    image = _image_at(Path(config["source"]), config["size"])
    session = None
    if config["features"]:
        from core.models.session import open_session

        session = open_session(config["model"], device="cpu")
    warm = image[:97, :131].copy()
    segment_with_timings(warm, config["count"], features=None if session is None else session.features(warm))
    runs = []
    for _ in range(config["repeat"]):
        start = time.perf_counter()
        features = None if session is None else session.features(image)
        t_model = time.perf_counter() - start
        seg, stages = segment_with_timings(image, config["count"], features=features)
        total = time.perf_counter() - start
        runs.append((total, {"features": t_model, **stages}))
        assert np.abs(seg.alphas.sum(0) - 1).max() < 1e-4
        del seg
    runs.sort(key=lambda r: r[0])
    seconds, stages = runs[len(runs) // 2]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {**config, "width": image.shape[1], "height": image.shape[0], "seconds": seconds, "stages": stages,
            "peak_rss_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="640x480,12")
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--source", default=str(DEFAULT_SOURCE))
    parser.add_argument("--model", default="isnet")
    parser.add_argument("--no-features", action="store_true", help="segment without the model's features")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    print("| size | K | total s | per stage (s) | peak RSS MB |\n|---|---:|---:|---|---:|")
    for size in args.sizes.split(","):
        config = {"size": size, "count": args.count, "repeat": args.repeat, "source": args.source,
                  "model": args.model, "features": not args.no_features}
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps(config)], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        stages = ", ".join(f"{k} {v:.2f}" for k, v in r["stages"].items())
        mp = r["width"] * r["height"] / 1e6
        print(f"| {mp:.1f} MP ({r['width']}×{r['height']}) | {r['count']} | {r['seconds']:.2f} | {stages} "
              f"| {r['peak_rss_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
