"""Per-stage time and peak memory of Select Subject at several image sizes,
beside the rembg recipe (closed-form matting on a 240/10, 10 px-eroded trimap)
measured in the same run.

Each configuration runs in a fresh child process so its peak RSS is its own;
times are the median of --repeat runs in that process (after a warm-up).

    python bench/bench_pipeline.py --sizes 0.5,2,12,24 --modes fast,best --rembg-sizes 0.5,2,12

Prints a Markdown table (paste into docs/benchmarks.md) and writes JSON lines
to --out if given. The source photo is an alphamatting image upscaled with a
bicubic filter to each size (content does not change the cost much).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "alphamatting" / "input" / "GT05.png"


def _image_at(source: Path, megapixels: float):
    import cv2
    import numpy as np

    from core.imageio import load_image

    image = load_image(source)
    h, w = image.shape[:2]
    scale = (megapixels * 1e6 / (h * w)) ** 0.5
    size = (round(w * scale), round(h * scale))
    return np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC).clip(0, 1))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(config: dict) -> dict:
    """Run one configuration in this process and return its figures."""
    import numpy as np

    from core.models.session import open_session
    from core.subject.options import MatteOptions
    from core.subject.select import select_subject

    session = open_session(config["model"], device=config["device"], threads=0)
    image = _image_at(Path(config["source"]), config["megapixels"])
    session.predict(image[:64, :64].copy())  # warm-up: first-run allocations are not the model's cost
    base_rss = _peak_rss_mb()
    result = {**config, "width": image.shape[1], "height": image.shape[0], "device": session.device}
    if config["mode"] == "rembg":
        result.update(_rembg_recipe(image, session))
    elif config["mode"] == "inference":
        times = []
        for _ in range(config.get("repeat", 1)):
            start = time.perf_counter()
            session.predict(image)
            times.append(time.perf_counter() - start)
        result["seconds"] = sorted(times)[len(times) // 2]
    else:
        runs = []
        for _ in range(config.get("repeat", 1)):
            start = time.perf_counter()
            matte = select_subject(image, session.predict, MatteOptions(refine=config["mode"]))
            runs.append((time.perf_counter() - start, matte.timings))
        runs.sort(key=lambda r: r[0])
        result["seconds"], result["stages"] = runs[len(runs) // 2]
        result["repeats"] = len(runs)
        result["model_runs"] = len(matte.coarse.views) if hasattr(matte.coarse, "views") else None
        result["alpha_mean"] = float(np.mean(matte.alpha))
    result["peak_rss_mb"] = _peak_rss_mb()
    result["base_rss_mb"] = base_rss
    return result


def _rembg_recipe(image, session) -> dict:
    """rembg's alpha matting: model mask → 240/10 trimap eroded 10 px → pymatting CF + ML foreground."""
    import numpy as np
    from pymatting import estimate_alpha_cf, estimate_foreground_ml
    from scipy.ndimage import binary_erosion

    start = time.perf_counter()
    mask = session.predict(image) * 255.0
    t_model = time.perf_counter() - start
    structure = np.ones((10, 10), bool)
    fg = binary_erosion(mask > 240, structure=structure, border_value=0)
    bg = binary_erosion(mask < 10, structure=structure, border_value=1)
    trimap = np.full(mask.shape, 0.5)
    trimap[fg] = 1.0
    trimap[bg] = 0.0
    img64 = image.astype(np.float64)
    alpha = estimate_alpha_cf(img64, trimap)
    estimate_foreground_ml(img64, alpha)
    total = time.perf_counter() - start
    return {"seconds": total, "stages": {"model": t_model, "matting+foreground": total - t_model}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0.5,2,12,24", help="megapixels")
    parser.add_argument("--modes", default="fast,best")
    parser.add_argument("--rembg-sizes", default="0.5,2,12", help="sizes at which to run the rembg recipe ('' for none)")
    parser.add_argument("--source", default=str(DEFAULT_SOURCE))
    parser.add_argument("--model", default="isnet")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (median kept; rembg runs once)")
    parser.add_argument("--out", help="append JSON lines here")
    parser.add_argument("--report", help="only print the table for the JSON lines in this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    if args.report:
        latest = {}
        for line in open(args.report):
            if line.strip():
                row = json.loads(line)
                latest[(row["megapixels"], row["mode"])] = row
        rows = list(latest.values())
        rows.sort(key=lambda r: (r["megapixels"], ["inference", "fast", "best", "rembg"].index(r["mode"])))
        print(_markdown(rows))
        return

    rows = []
    sizes = [float(s) for s in args.sizes.split(",") if s]
    rembg_sizes = {float(s) for s in args.rembg_sizes.split(",") if s}
    for mp in sizes:
        modes = ["inference"] + args.modes.split(",") + (["rembg"] if mp in rembg_sizes else [])
        for mode in modes:
            config = {"megapixels": mp, "mode": mode, "model": args.model, "device": args.device,
                      "source": args.source, "repeat": 1 if mode == "rembg" else args.repeat}
            done = subprocess.run(
                [sys.executable, __file__, "--child", json.dumps(config)], capture_output=True, text=True, cwd=ROOT
            )
            if done.returncode != 0:
                print(f"{mp} MP {mode}: FAILED\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"{mp:>5} MP {mode:<9} {row['seconds']:7.2f} s  peak {row['peak_rss_mb']:7.0f} MB", file=sys.stderr)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
    print(_markdown(rows))


def _markdown(rows: list[dict]) -> str:
    by = {(r["megapixels"], r["mode"]): r for r in rows}
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "",
        "| size | mode | total s | × inference | model runs | per stage (s) | peak RSS MB | vs rembg recipe |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        inf = by.get((r["megapixels"], "inference"))
        rem = by.get((r["megapixels"], "rembg"))
        ratio = f"{inf['seconds'] and r['seconds'] / inf['seconds']:.2f}" if inf else ""
        speedup = ""
        if rem and r["mode"] in ("fast", "best"):
            ratio_r = rem["seconds"] / r["seconds"]
            speedup = f"{ratio_r:.1f}× faster" if ratio_r >= 1 else f"{1 / ratio_r:.1f}× slower"
        stages = ", ".join(f"{k} {v:.2f}" for k, v in r.get("stages", {}).items())
        lines.append(
            f"| {r['megapixels']:g} MP ({r['width']}×{r['height']}) | {r['mode']} | {r['seconds']:.2f} | {ratio} | "
            f"{r.get('model_runs') or ''} | {stages} | {r['peak_rss_mb']:.0f} | {speedup} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
