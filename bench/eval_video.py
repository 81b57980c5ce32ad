"""Temporal consistency of video mattes on synthetic videos with a known alpha per frame.

For each chosen alphamatting image, its foreground (estimated from the photo and its gt)
moves over another photo of the set for ``--frames`` frames (:mod:`testing.video_synthetic`,
with per-frame noise). Each frame is matted independently by Select Subject (``--plate``: with
a clean plate, the static background with its own noise, as from a camera on a tripod),
then the sequence goes through :class:`core.video.temporal.TemporalFilter`. Reported per method:
mean per-frame SAD (Σ|α − gt| / 1000) and flicker, the mean over frames and pixels of
| |Δα_t| − |Δgt_t| | beyond the truth's own change, i.e. mean(max(0, |α_t − α_{t−1}| −
|gt_t − gt_{t−1}|)), ×1000.

    python bench/eval_video.py [--images GT01,GT05] [--frames 12] [--refine fast] [--scale 0.5] [--plate]
                               [--strength S] [--sigma S] [--track T] [--cache DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from core.eval.alphamatting import image_names
from core.eval.metrics import flicker
from core.imageio import load_grey, load_image
from core.subject.options import MatteOptions
from testing.plate_synthetic import background_canvas, estimate_foreground
from core.video.pipeline import VideoOptions, frame_matte
from testing.video_synthetic import moving_subject
from core.video.temporal import smooth_sequence

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--images", help="comma-separated subset")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--refine", default="fast", choices=("none", "fast", "best"))
    parser.add_argument("--scale", type=float, default=0.5, help="frame size as a fraction of the photo's")
    parser.add_argument("--model", default="isnet")
    parser.add_argument("--strength", type=float, default=None, help="TemporalFilter strength (default: its own)")
    parser.add_argument("--sigma", type=float, default=None, help="TemporalFilter colour_sigma (default: its own)")
    parser.add_argument("--track", type=float, default=None, help="TemporalFilter track (default: its own; 0: no tracking)")
    parser.add_argument("--plate", action="store_true", help="matte each frame with a clean plate of the background")
    parser.add_argument("--cache", type=Path, help="keep the per-frame mattes here (.npz) to tune the filter quickly")
    args = parser.parse_args()
    from core.models.session import open_session

    session = open_session(args.model, device="cpu")
    everything = image_names(args.data)
    names = args.images.split(",") if args.images else everything
    options = VideoOptions(matte=MatteOptions(refine=args.refine))
    totals = {"independent": [], "filtered": []}
    print("| image | independent SAD | filtered SAD | independent flicker | filtered flicker | matte s/frame | filter s/frame |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        gt = load_grey(args.data / "gt" / f"{name}.png").astype(np.float32) / 255.0
        photo = load_image(args.data / "input" / f"{name}.png")
        fg = estimate_foreground(photo, gt)
        size = (round(gt.shape[1] * args.scale), round(gt.shape[0] * args.scale))
        fg = cv2.resize(fg, size, interpolation=cv2.INTER_AREA)
        gt = cv2.resize(gt, size, interpolation=cv2.INTER_AREA)
        other = everything[(everything.index(name) + 7) % len(everything)]
        back = load_image(args.data / "input" / f"{other}.png")
        rng = np.random.default_rng(int(name[2:]))
        frames = list(moving_subject(fg, gt, back, args.frames, rng))
        plate = None
        if args.plate:
            plate = background_canvas(back, gt.shape, margin=0.0)
            plate = np.clip(plate + rng.normal(0.0, 2.0 / 255.0, plate.shape), 0.0, 1.0).astype(np.float32)
        start = time.perf_counter()
        cached = args.cache / f"{name}-{args.frames}-{args.scale}-{args.refine}{'-plate' if args.plate else ''}.npz" if args.cache else None
        if cached is not None and cached.exists():
            raw = list(np.load(cached)["raw"])
        else:
            raw = [frame_matte(f.image, session.predict, options, plate=plate).unedited for f in frames]
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(cached, raw=np.stack(raw))
        matte_s = (time.perf_counter() - start) / len(frames)
        start = time.perf_counter()
        tuning = {k: v for k, v in (("strength", args.strength), ("colour_sigma", args.sigma), ("track", args.track))
                  if v is not None}
        filtered = list(smooth_sequence(zip((f.image for f in frames), raw), **tuning))
        filter_s = (time.perf_counter() - start) / len(frames)
        truth = [f.alpha for f in frames]
        row = {}
        for method, mattes in (("independent", raw), ("filtered", filtered)):
            sad = float(np.mean([np.abs(a - g).sum() / 1000.0 for a, g in zip(mattes, truth)]))
            row[method] = (sad, flicker(mattes, truth))
            totals[method].append(row[method])
        print(f"| {name} | {row['independent'][0]:.2f} | {row['filtered'][0]:.2f} | {row['independent'][1]:.3f} | "
              f"{row['filtered'][1]:.3f} | {matte_s:.2f} | {filter_s:.3f} |", flush=True)
    ind = np.array(totals["independent"])
    fil = np.array(totals["filtered"])
    print(f"\nmean per-frame SAD: independent {ind[:, 0].mean():.3f}, filtered {fil[:, 0].mean():.3f} "
          f"({fil[:, 0].mean() / ind[:, 0].mean() - 1:+.1%})")
    print(f"mean flicker: independent {ind[:, 1].mean():.4f}, filtered {fil[:, 1].mean():.4f} "
          f"({1 - fil[:, 1].mean() / ind[:, 1].mean():.0%} lower)")


if __name__ == "__main__":
    main()
