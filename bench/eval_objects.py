"""Object Selection quality: the standard click protocol of interactive segmentation, and the box.

    python bench/eval_objects.py [--data ../shared/data/coco_mval] [--every 4 [--offset 2]] [--clicks 20]
                                 [--refine none|fast|best] [--csv docs/eval/objects_coco.csv]
    python bench/eval_objects.py --protocol box [--every 8 --offset 4]
    python bench/eval_objects.py --protocol correct --data ../shared/data/alphamatting

Any folder of ``input/`` photos and ``gt/`` masks (soft ground truth is binarised at 0.5).

- **Clicks** (RITM, f-BRS and later): each next click goes at the point of the larger error
  region (missed object → positive click, false object → negative) farthest from that region's
  boundary, the image border counting as boundary; the prediction is thresholded at 0.49; up to
  ``--clicks`` clicks, each prediction correcting the last (``previous``). NoC@85 / NoC@90: the
  clicks needed to reach that IoU (``--clicks`` where never reached); mean IoU after 1, 3 and 5
  clicks; seconds per click.
- **Box** (also alone: ``--protocol box``): the ground truth's bounding box enlarged by 5 % (2.5 % a
  side); IoU and SAD (sum of absolute alpha errors / 1000).
- **Correction** (``--protocol correct``): from Select Subject's matte (``best``), up to 3 rough
  lassos, each the convex hull of the largest error region (at 0.5) dilated by 2 % of
  sqrt(H·W), in add mode (missed object) or subtract (false object); SAD after each. Against
  the same lassos simply unioned with (or cut from) the matte and then refined as a rough
  selection (``refine_mask``, ``fast``), which a user can do today.

The model's preparation (one run on the whole frame) is timed apart from the clicks.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from core.imageio import float_to_uint8, load_image, uint8_to_float
from core.models.session import open_session
from core.objects import ObjectOptions, ObjectSelector

ROOT = Path(__file__).resolve().parents[1]


def next_click(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float, bool]:
    """(x, y, positive): the protocol's next click for ``predicted`` against ``truth`` (both (H, W) bool)."""
    best = (-1.0, 0.0, 0.0, True)
    for error, positive in ((truth & ~predicted, True), (predicted & ~truth, False)):
        padded = np.pad(error.astype(np.uint8), 1)  # the border is boundary
        distance = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
        y, x = np.unravel_index(int(np.argmax(distance)), distance.shape)
        if distance[y, x] > best[0]:
            best = (float(distance[y, x]), x + 0.5, y + 0.5, positive)
    return best[1], best[2], best[3]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def grown_box(truth: np.ndarray, grow: float = 0.05) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(truth)
    height, width = truth.shape
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    dx, dy = (x1 - x0) * grow / 2, (y1 - y0) * grow / 2
    return max(0.0, x0 - dx), max(0.0, y0 - dy), min(float(width), x1 + dx), min(float(height), y1 + dy)


def evaluate(name: str, image: np.ndarray, truth: np.ndarray, options: ObjectOptions, predict,
             clicks: int) -> dict:
    """The box protocol's row, and with ``clicks`` the click protocol's columns."""
    started = time.perf_counter()
    selector = ObjectSelector(image, options, predict=predict)
    row: dict = {"image": name, "prepare_s": time.perf_counter() - started, "area": float(truth.mean())}
    started = time.perf_counter()
    alpha = selector.predict(box=grown_box(truth))
    row["box_s"] = time.perf_counter() - started
    row["box_iou"] = iou(alpha >= 0.49, truth)
    row["box_sad"] = float(np.abs(alpha - truth).sum() / 1000.0)
    if not clicks:
        return row
    points: list[tuple[float, float, bool]] = []
    previous, ious, seconds = None, [], []
    predicted = np.zeros_like(truth)
    for _ in range(clicks):
        points.append(next_click(predicted, truth))
        started = time.perf_counter()
        previous = selector.predict(points=points, previous=previous)
        seconds.append(time.perf_counter() - started)
        predicted = previous >= 0.49
        ious.append(iou(predicted, truth))
        if ious[-1] >= 0.9 and len(ious) >= 5:
            break  # NoC@90 reached and the IoU@k columns filled: more clicks change no figure
    ious += [ious[-1]] * (clicks - len(ious))  # a protocol that stops at 90 % keeps its IoU
    for target in (85, 90):
        row[f"noc{target}"] = next((k + 1 for k, v in enumerate(ious) if v >= target / 100), clicks)
    for k in (1, 3, 5):
        row[f"iou@{k}"] = ious[k - 1]
    row["s_per_click"] = statistics.fmean(seconds)
    row["model_runs"] = selector.model_runs
    return row


def lasso_for(alpha: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, str] | None:
    """The correction protocol's next lasso for ``alpha`` against ``truth`` (soft, (H, W) float32):
    (region (H, W) bool, "add" or "subtract"), or None when no error region is left."""
    best = None
    for error, mode in ((truth >= 0.5) & (alpha < 0.5), "add"), ((alpha >= 0.5) & (truth < 0.5), "subtract"):
        count, parts, stats, _ = cv2.connectedComponentsWithStats(error.astype(np.uint8), connectivity=8)
        if count > 1:
            k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            if best is None or stats[k, cv2.CC_STAT_AREA] > best[0]:
                best = (stats[k, cv2.CC_STAT_AREA], parts == k, mode)
    if best is None or best[0] < 20:
        return None
    hull = cv2.convexHull(cv2.findNonZero(best[1].astype(np.uint8)))
    region = np.zeros(truth.shape, np.uint8)
    cv2.fillPoly(region, [hull], 1)
    grow = max(1, int(round(0.02 * np.sqrt(truth.size))))
    region = cv2.dilate(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    return region > 0, best[2]


def evaluate_correction(name: str, image: np.ndarray, truth: np.ndarray, options: ObjectOptions, predict) -> dict:
    from core.subject.options import MatteOptions
    from core.subject.select import select_subject
    from core.subject.selection import refine_mask

    image_float = uint8_to_float(image)
    start = select_subject(image_float, predict, MatteOptions()).alpha
    sad = lambda alpha: float(np.abs(alpha - truth).sum() / 1000.0)  # noqa: E731
    row: dict = {"image": name, "sad0": sad(start)}
    selector = ObjectSelector(image, options, predict=predict)
    ours, plain = start, start
    for k in (1, 2, 3):
        lasso = lasso_for(ours, truth)
        if lasso is not None:
            region, mode = lasso
            ours = selector.predict(mask=region, mode=mode, previous=ours)
            rough = np.maximum(plain, region) if mode == "add" else np.where(region, 0.0, plain)
            plain, _ = refine_mask(image_float, rough.astype(np.float32), mode="fast")
        row[f"sad{k}"], row[f"plain_sad{k}"] = sad(ours), sad(plain)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "coco_mval")
    parser.add_argument("--every", type=int, default=1, help="score every Nth image (sorted by name)")
    parser.add_argument("--offset", type=int, default=0, help="starting from this one (0-based)")
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--refine", default="none", choices=("none", "fast", "best"))
    parser.add_argument("--model", default=ObjectOptions.model)
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--protocol", default="clicks", choices=("clicks", "box", "correct"),
                        help="clicks: the click and box protocols; box: the box alone; "
                             "correct: lassos on Select Subject's matte")
    args = parser.parse_args()
    session = open_session(args.model, device="cpu")
    options = ObjectOptions(refine=args.refine)
    inputs = sorted(p for p in (args.data / "input").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    rows = []
    for path in inputs[args.offset:: args.every]:
        image = float_to_uint8(load_image(path))
        gt = cv2.imread(str(args.data / "gt" / f"{path.stem}.png"), cv2.IMREAD_GRAYSCALE)
        if args.protocol == "correct":
            rows.append(evaluate_correction(path.stem, image, gt.astype(np.float32) / 255.0, options, session.predict))
            print(", ".join(f"{k} {v:.2f}" if isinstance(v, float) else str(v) for k, v in rows[-1].items()), flush=True)
            continue
        truth = gt >= 128
        rows.append(evaluate(path.stem, image, truth, options, session.predict,
                             0 if args.protocol == "box" else args.clicks))
        r = rows[-1]
        print(f"{path.stem}: box IoU {r['box_iou']:.3f}" + ("" if args.protocol == "box" else
              f", NoC@90 {r['noc90']}, IoU@1 {r['iou@1']:.3f}, {r['s_per_click']:.2f} s/click"), flush=True)
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with args.csv.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    mean = lambda key: statistics.fmean(r[key] for r in rows)  # noqa: E731
    if args.protocol == "correct":
        print(f"\n{len(rows)} images of {args.data.name}, refine {args.refine}: mean SAD from Select Subject's "
              f"{mean('sad0'):.2f}")
        for k in (1, 2, 3):
            worse = sum(r[f"sad{k}"] > r[f"plain_sad{k}"] for r in rows)
            print(f"after {k} lasso(s): prompts {mean(f'sad{k}'):.2f}, union/cut + refine {mean(f'plain_sad{k}'):.2f}"
                  f" (prompts worse on {worse} of {len(rows)})")
        return
    box = sorted(r["box_iou"] for r in rows)
    box_line = (f"box: IoU {mean('box_iou'):.3f} (median {statistics.median(box):.3f}, below 0.5 on "
                f"{sum(v < 0.5 for v in box)})  SAD {mean('box_sad'):.2f}  {mean('box_s'):.2f} s")
    if args.protocol == "box":
        print(f"\n{len(rows)} images of {args.data.name}, refine {args.refine}\n{box_line}")
        return
    print(f"\n{len(rows)} images of {args.data.name}, refine {args.refine}, up to {args.clicks} clicks")
    print(f"NoC@85 {mean('noc85'):.2f}  NoC@90 {mean('noc90'):.2f}  IoU@1 {mean('iou@1'):.3f}  "
          f"IoU@3 {mean('iou@3'):.3f}  IoU@5 {mean('iou@5'):.3f}  {mean('s_per_click'):.2f} s/click  "
          f"prepare {mean('prepare_s'):.2f} s")
    print(box_line)


if __name__ == "__main__":
    main()
