"""Clean-plate matting against plain Select Subject on synthetic composites.

For each alphamatting image (input/ + gt/): its foreground (estimated from the photo
and its gt) is composited over another image of the set (the 7th after it, scaled to
cover the frame), and ``--plates`` perturbed clean plates are made of that background
(:mod:`testing.plate_synthetic`: rigid motion up to 3 % / 2°, exposure ±0.2–0.7 stops,
noise 2–5/255). Each composite is matted by plain Select Subject once and with each of
its plates; whole-image SAD, MSE and gradient error are reported against the true alpha.

Alignment is scored on ``--align-plates`` further plates per image: it succeeds when
``align_plate`` raises nothing and the found homography maps every pixel where the
background is seen (true alpha < 0.99) within 1 working-size pixel of where the true
motion maps it. The error at the frame's corners is reported too.

    python bench/eval_plate.py [--plates 2] [--align-plates 10] [--images GT01,GT02] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import csv
import pickle
import time
from pathlib import Path

import numpy as np

from core.errors import AlignmentError
from core.eval.alphamatting import image_names
from core.eval.metrics import gradient_error, mse, sad
from core.imageio import load_grey, load_image
from core.phone.homography import frame_corners, map_points, scale_matrix
from core.plate.align import align_plate
from core.plate.pipeline import plate_stage
from core.subject.coarse import model_stage
from core.subject.options import MatteOptions
from core.subject.refine import refine_stage
from core.subject.working import resize_image
from testing.plate_synthetic import estimate_foreground, plate_case

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"
BACKGROUND_OFFSET = 7


def scores(alpha: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    region = np.ones(gt.shape, bool)
    return {"sad": sad(alpha, gt, region), "mse": mse(alpha, gt, region), "grad": gradient_error(alpha, gt, region)}


def corner_error(found: np.ndarray, truth: np.ndarray, size: tuple[int, int]) -> float:
    """Largest distance (pixels) between where two homographies send the frame's corners."""
    corners = frame_corners(*size)
    return float(np.max(np.linalg.norm(map_points(found, corners) - map_points(truth, corners), axis=1)))


def seen_error(found: np.ndarray, truth: np.ndarray, seen: np.ndarray) -> float:
    """Largest distance (pixels) between where two image → plate mappings send the pixels
    where the background is seen (``seen``: (h, w) bool), i.e. where the plate matters."""
    ys, xs = np.nonzero(seen)
    points = np.column_stack([xs, ys]).astype(np.float64)
    moved = map_points(np.linalg.inv(found), points) - map_points(np.linalg.inv(truth), points)
    return float(np.max(np.linalg.norm(moved, axis=1)))


def cached(path: Path | None, make):
    if path is not None and path.is_file():
        return pickle.loads(path.read_bytes())
    value = make()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(value))
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--plates", type=int, default=2, help="plates matted per image")
    parser.add_argument("--align-plates", type=int, default=10, help="further plates per image, aligned only")
    parser.add_argument("--images", help="comma-separated subset, e.g. GT01,GT02")
    parser.add_argument("--csv", type=Path, help="per-case rows")
    parser.add_argument("--cache", type=Path, help="folder to keep foregrounds and model stages between runs")
    parser.add_argument("--model", default="isnet")
    args = parser.parse_args()
    from core.models.session import open_session

    session = open_session(args.model, device="cpu")
    options = MatteOptions()
    everything = image_names(args.data)
    names = args.images.split(",") if args.images else everything
    rows, aligned, tried, times, errors, corners = [], 0, 0, [], [], []
    print("| image | plate | plain SAD | plate SAD | plain MSE | plate MSE | plain grad | plate grad | s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        gt = load_grey(args.data / "gt" / f"{name}.png").astype(np.float32) / 255.0
        photo = load_image(args.data / "input" / f"{name}.png")
        other = everything[(everything.index(name) + BACKGROUND_OFFSET) % len(everything)]
        fg = cached(args.cache and args.cache / f"{name}.fg.pkl", lambda: estimate_foreground(photo, gt))
        back = load_image(args.data / "input" / f"{other}.png")
        rng = np.random.default_rng(int(name[2:]))
        cases = [plate_case(fg, gt, back, rng) for _ in range(args.plates + args.align_plates)]
        image = cases[0].image
        stage = cached(args.cache and args.cache / f"{name}.stage.pkl",
                       lambda: model_stage(image, session.predict, options))
        plain = scores(refine_stage(image, stage, options).alpha, gt)
        for k, case in enumerate(cases[: args.plates]):
            start = time.perf_counter()
            try:
                matte = plate_stage(case.image, case.plate, stage, options)
                got = scores(matte.alpha, gt)
            except AlignmentError as exc:
                print(f"  {name} plate {k}: {exc}")
                got = plain
            seconds = time.perf_counter() - start
            times.append(seconds)
            rows.append({"image": name, "plate": k, **{f"plain_{m}": v for m, v in plain.items()},
                         **{f"plate_{m}": v for m, v in got.items()}, "seconds": seconds})
            print(f"| {name} | {k} | {plain['sad']:.2f} | {got['sad']:.2f} | {plain['mse'] * 1e3:.2f} | "
                  f"{got['mse'] * 1e3:.2f} | {plain['grad']:.2f} | {got['grad']:.2f} | {seconds:.1f} |", flush=True)
        small = stage.small.shape[:2]
        to_small = scale_matrix(small[1] / gt.shape[1], small[0] / gt.shape[0])
        seen = resize_image(gt, small) < 0.99
        for case in cases[args.plates:]:
            tried += 1
            try:
                _, valid, found = align_plate(stage.small, case.plate)
            except AlignmentError as exc:
                print(f"  {name}: alignment failed: {exc}")
                continue
            truth = to_small @ case.plate_to_image
            corners.append(corner_error(found.homography, truth, small))
            errors.append(seen_error(found.homography, truth, seen & valid))
            aligned += errors[-1] <= 1.0
            if errors[-1] > 1.0:
                print(f"  {name}: alignment off by up to {errors[-1]:.2f} px where the background is seen")
    if rows:
        mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k not in ("image", "plate")}
        median = {k: float(np.median([r[k] for r in rows])) for k in mean}
        print(f"\n{len(rows)} composites over {len(names)} images")
        for m in ("sad", "mse", "grad"):
            gain = 1.0 - mean[f"plate_{m}"] / mean[f"plain_{m}"]
            print(f"{m}: plain mean {mean[f'plain_{m}']:.4g} median {median[f'plain_{m}']:.4g}; "
                  f"plate mean {mean[f'plate_{m}']:.4g} median {median[f'plate_{m}']:.4g} ({gain:.0%} lower)")
        print(f"plate stage: {np.mean(times):.2f} s mean per composite")
    if tried:
        print(f"alignment: {aligned}/{tried} plates ({aligned / tried:.1%}) succeed; geometric error where the "
              f"background is seen: median {np.median(errors):.2f} px, 95th percentile {np.percentile(errors, 95):.2f} "
              f"px; at the frame's corners: median {np.median(corners):.2f} px, 95th percentile "
              f"{np.percentile(corners, 95):.2f} px")
    if args.csv and rows:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
