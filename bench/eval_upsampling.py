"""How well does guided upsampling restore full-resolution alpha?

Each ground-truth alpha of the alphamatting set is shrunk by a factor (area
filter), brought back to full size with ``core.subject.working.upsample_alpha``'s
guided upsampling at several radii and ridges, and compared with the original
(whole-image SAD); bilinear resizing is the baseline.

    python bench/eval_upsampling.py [--factors 2,4,6] [--data ../shared/data/alphamatting]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from core.alpha.guided_filter import guided_upsample
from core.imageio import load_grey, load_image

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factors", default="2,4,6")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    settings = [(r, e) for r in (1, 2, 4) for e in (1e-4, 1e-5)]
    factors = [int(f) for f in args.factors.split(",")]
    scores: dict[tuple, list[float]] = {}
    for path in sorted((args.data / "input").glob("*.png")):
        image = load_image(path)
        gt = load_grey(args.data / "gt" / path.name).astype(np.float32) / 255.0
        h, w = gt.shape
        for f in factors:
            size = (w // f, h // f)
            image_s = np.clip(cv2.resize(image, size, interpolation=cv2.INTER_AREA), 0, 1)
            gt_s = np.clip(cv2.resize(gt, size, interpolation=cv2.INTER_AREA), 0, 1)
            linear = cv2.resize(gt_s, (w, h), interpolation=cv2.INTER_LINEAR)
            scores.setdefault((f, "bilinear"), []).append(float(np.abs(linear - gt).sum() / 1000))
            for r, e in settings:
                up = guided_upsample(gt_s, image_s, image, radius=r, eps=e)
                scores.setdefault((f, f"guided r={r} eps={e:g}"), []).append(float(np.abs(up - gt).sum() / 1000))
    print("| factor | method | mean SAD |\n|---:|---|---:|")
    for (f, name), values in scores.items():
        print(f"| {f}× | {name} | {np.mean(values):.2f} |")


if __name__ == "__main__":
    main()
