"""How well does ``core.phone.locate.locate`` place phone photos of the screen on the document?

N synthetic phone photos (``testing.locate_synthetic``: an editor showing a document made from
the alphamatting photos, photographed at a tilt, blurred, with glare, moiré, noise and JPEG)
are located; a hit is an error within 1 % of the document's diagonal; "not located" counts
as a miss. The baseline is the AR Cut & Paste recipe (SIFT, photo ≤ 700 px, reference
≤ 400 px, grey, FLANN, ratio 0.7, ≥ 6 matches, RANSAC 5 px), given the same reference
image (the document, not a screenshot) for a fair comparison.

    python bench/eval_locate.py [--n 200] [--size 4032x3024] [--cache DIR] [--json] [--misses]

Photos are generated deterministically from (seed, index); ``--cache DIR`` keeps their JPEG
bytes so that later runs skip the rendering. Times are per call on decoded pixels
(JPEG decoding not included).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from core.imageio import decode_image_rgb8
from core.phone.locate import Location, locate
from testing.locate_synthetic import phone_photo_jpeg, synthetic_document

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"


def arcp_baseline(document: np.ndarray, photo: np.ndarray) -> Location:
    """The AR Cut & Paste screen-point recipe, with ``document`` as the reference.

    document: (H, W, 3) uint8 RGB; photo: (h, w, 3) uint8 RGB. Returns a Location in
    document pixels (confidence 1 when found, 0 otherwise).
    """
    grey_ref = cv2.cvtColor(document[:, :, :3], cv2.COLOR_RGB2GRAY)
    grey_photo = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    f_ref = min(1.0, 400 / max(grey_ref.shape))
    f_photo = min(1.0, 700 / max(grey_photo.shape))
    ref = cv2.resize(grey_ref, None, fx=f_ref, fy=f_ref, interpolation=cv2.INTER_AREA) if f_ref < 1 else grey_ref
    view = cv2.resize(grey_photo, None, fx=f_photo, fy=f_photo, interpolation=cv2.INTER_AREA) if f_photo < 1 else grey_photo
    sift = cv2.SIFT_create()
    kp_v, des_v = sift.detectAndCompute(view, None)
    kp_r, des_r = sift.detectAndCompute(ref, None)
    if des_v is None or des_r is None or len(kp_v) < 2 or len(kp_r) < 2:
        return Location(None, None, 0.0, 0, 0)
    flann = cv2.FlannBasedMatcher({"algorithm": 1, "trees": 5}, {"checks": 50})
    pairs = flann.knnMatch(des_v, des_r, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.7 * p[1].distance]
    if len(good) < 6:
        return Location(None, None, 0.0, len(good), 0)
    src = np.float32([kp_v[m.queryIdx].pt for m in good]).reshape(-1, 1, 2)
    dst = np.float32([kp_r[m.trainIdx].pt for m in good]).reshape(-1, 1, 2)
    h_mat, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    if h_mat is None:
        return Location(None, None, 0.0, len(good), 0)
    centre = np.float32([[[view.shape[1] / 2, view.shape[0] / 2]]])
    x, y = cv2.perspectiveTransform(centre, h_mat)[0, 0] / f_ref
    return Location(float(x), float(y), 1.0, len(good), int(mask.sum()))


METHODS = {"softcut": lambda document, photo: locate(document, photo), "ar-cut-paste": arcp_baseline}


def load_images(data: Path) -> list[np.ndarray]:
    """The alphamatting input photos, (H, W, 3) uint8 RGB, sorted by name."""
    files = sorted((data / "input").glob("*.png"))
    if not files:
        raise SystemExit(f"no images in {data / 'input'}")
    return [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files]


def cases(images: list[np.ndarray], n: int, *, seed: int, size: tuple[int, int], cache: Path | None):
    """Yield (index, document, photo JPEG bytes, truth (x, y)) for cases 0 … n − 1."""
    for i in range(n):
        document, rng = synthetic_document(images, i, seed=seed)
        jpg = cache / f"s{seed}-{size[0]}x{size[1]}-{i:04d}.jpg" if cache else None
        if jpg is not None and jpg.exists() and jpg.with_suffix(".json").exists():
            truth = tuple(json.loads(jpg.with_suffix(".json").read_text())["truth"])
            yield i, document, jpg.read_bytes(), truth
            continue
        data, truth = phone_photo_jpeg(document, rng, size=size)
        if jpg is not None:
            cache.mkdir(parents=True, exist_ok=True)
            jpg.write_bytes(data)
            jpg.with_suffix(".json").write_text(json.dumps({"truth": truth}))
        yield i, document, data, truth


def summarise(rows: list[dict]) -> dict:
    errors = [r["error_pct"] if r["error_pct"] is not None else float("inf") for r in rows]
    times = [r["seconds"] for r in rows]
    return {
        "n": len(rows),
        "hit_rate_1pct": sum(e <= 1.0 for e in errors) / len(rows),
        "hit_rate_2pct": sum(e <= 2.0 for e in errors) / len(rows),
        "not_located": sum(r["error_pct"] is None for r in rows),
        "wrong_place": sum(r["error_pct"] is not None and r["error_pct"] > 1.0 for r in rows),
        "median_error_pct": statistics.median(errors),
        "mean_seconds": statistics.fmean(times),
        "median_seconds": statistics.median(times),
        "max_seconds": max(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="4032x3024", help="landscape photo size WxH (a quarter come out portrait)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, help="keep the generated JPEGs here and reuse them")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    methods = args.methods.split(",")
    images = load_images(args.data)
    rows = {m: [] for m in methods}
    for i, document, data, truth in cases(images, args.n, seed=args.seed, size=size, cache=args.cache):
        photo = decode_image_rgb8(data)
        diag = float(np.hypot(*document.shape[:2]))
        for m in methods:
            start = time.perf_counter()
            loc = METHODS[m](document, photo)
            seconds = time.perf_counter() - start
            err = None if loc.x is None else float(np.hypot(loc.x - truth[0], loc.y - truth[1]) / diag * 100)
            rows[m].append({
                "index": i, "document": list(document.shape[:2]), "photo": list(photo.shape[:2]),
                "truth": list(truth), "x": loc.x, "y": loc.y, "confidence": loc.confidence,
                "matches": loc.matches, "inliers": loc.inliers, "error_pct": err, "seconds": seconds,
            })
    summary = {m: summarise(r) for m, r in rows.items()}
    if args.json:
        print(json.dumps({"size": list(size), "seed": args.seed, "summary": summary, "rows": rows}))
        return
    print(f"{args.n} photos {size[0]}×{size[1]}, seed {args.seed}")
    print(f"{'method':<14} {'hit ≤1%':>8} {'hit ≤2%':>8} {'not loc.':>9} {'wrong':>6} {'median err':>11} {'mean s':>7} {'median s':>9} {'max s':>6}")
    for m, s in summary.items():
        print(
            f"{m:<14} {s['hit_rate_1pct'] * 100:7.1f}% {s['hit_rate_2pct'] * 100:7.1f}% {s['not_located']:>9} {s['wrong_place']:>6}"
            f" {s['median_error_pct']:10.3f}% {s['mean_seconds']:7.3f} {s['median_seconds']:9.3f} {s['max_seconds']:6.2f}"
        )
    if args.misses:
        for m, rs in rows.items():
            for r in rs:
                if r["error_pct"] is None or r["error_pct"] > 1.0:
                    print(f"  {m} #{r['index']}: doc {r['document']} err {r['error_pct']} conf {r['confidence']:.2f} "
                          f"matches {r['matches']} inliers {r['inliers']}")


if __name__ == "__main__":
    main()
