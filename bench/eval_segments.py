"""How well do soft segments carve out the alphamatting subjects?

For each image of the alphamatting set (input/ + gt/), ``soft_segments`` runs
with the default model's decoder features; the union of layers (a subset of
the K layers, all 2^K tried) whose summed alpha is closest to the ground-truth
matte is scored by whole-image SAD = Σ|α − gt| / 1000. This measures whether
the subject comes out as whole layers with soft, correct edges (an oracle picks
the layers, as a user would by clicking them).

    python bench/eval_segments.py [--count 5] [--feature-size 128] [--no-features] [--data ../shared/data/alphamatting]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from core.eval.alphamatting import image_names
from core.eval.metrics import best_union_sad
from core.imageio import load_grey, load_image
from core.segments import SegmentOptions, soft_segments

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--feature-size", type=int, default=128)
    parser.add_argument("--no-features", action="store_true")
    parser.add_argument("--working-pixels", type=int, default=SegmentOptions().working_pixels)
    parser.add_argument("--model", default="isnet")
    args = parser.parse_args()
    session = None
    if not args.no_features:
        from core.models.session import open_session

        session = open_session(args.model, device="cpu")
    options = SegmentOptions(working_pixels=args.working_pixels)
    rows = []
    print("| image | SAD | layers in the union | seconds (segments) |\n|---|---:|---|---:|")
    for name in image_names(args.data):
        image = load_image(args.data / "input" / f"{name}.png")
        gt = load_grey(args.data / "gt" / f"{name}.png").astype(np.float32) / 255.0
        features = None if session is None else session.features(image, size=args.feature_size)
        start = time.perf_counter()
        segments = soft_segments(image, args.count, features=features, options=options)
        seconds = time.perf_counter() - start
        score, subset = best_union_sad(segments.alphas, gt)
        rows.append(score)
        print(f"| {name} | {score:.2f} | {', '.join(str(i) for i in subset)} | {seconds:.1f} |", flush=True)
    print(f"\nmean SAD {np.mean(rows):.2f}, median {np.median(rows):.2f} over {len(rows)} images (K = {args.count})")


if __name__ == "__main__":
    main()
