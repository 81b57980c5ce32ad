"""Per-image signals of a wrong Select Subject result, beside the image's IoU, for choosing
``low_confidence``'s rule on one subset and checking it on another.

    PYTHONPATH=. python bench/confidence_features.py DATA --every 4 --offset 0 --model-cache DIR --csv OUT.csv

DATA holds ``input/`` and binary ``gt/`` (ECSSD). Each row: the image, IoU of ``best`` at 0.5
against the ground truth, and the signals of :func:`signals`.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

from core.eval import folder
from core.eval.cache import CachedPredict
from core.imageio import load_image
from core.models.session import open_session
from core.subject.colours import colour_overlap
from core.subject.options import MatteOptions
from core.subject.select import select_subject
from core.subject.working import resize_image
from core.views import CoarseMask, agreement


_MIN_PART = 0.002
"""A connected part smaller than this share of the image is noise, not a part."""


def _parts(mask: np.ndarray) -> np.ndarray:
    """Areas (pixels) of ``mask``'s 8-connected parts larger than ``_MIN_PART``, largest first."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1]
    return areas[areas >= _MIN_PART * mask.size]


def _edge_contrast(image: np.ndarray, subject: np.ndarray) -> float:
    """Mean gradient magnitude of ``image`` ((h, w, 3) float32 in [0, 1]) on ``subject``'s
    contour over its mean on the whole image: well below 1 when the outline follows no edge."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    magnitude = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
    ring = cv2.morphologyEx(subject.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    if not ring.any():
        return 0.0
    return float(magnitude[ring].mean() / max(1e-6, float(magnitude.mean())))


def signals(coarse: CoarseMask, refined: np.ndarray, strands: np.ndarray | None = None,
            image: np.ndarray | None = None) -> dict[str, float]:
    """Signals of a wrong result (``is_unsure`` decides on confidence, agreement and area).

    coarse: the model's mask; refined: (h, w) float32 in [0, 1], the refined alpha at the
    coarse mask's size; strands: (h, w) bool or None, where the trimap looked for strands the
    model missed (left out of the agreement).

    Returns floats: ``confidence`` (the views'), ``agreement`` (soft IoU of refined and model
    outside strands), ``area`` (share of the image at ≥ 0.5), ``frame`` (share of the outer
    frame at ≥ 0.5), ``parts`` (connected parts at ≥ 0.5), ``main_part`` (the largest part's
    share of the subject), ``rival`` (the model's faint response, 0.05–0.5, away from the
    subject, as a share of the subject's area), ``soft`` (the model's 0.1–0.9 pixels over its
    ≥ 0.5 pixels); with ``image`` ((h, w, 3) float32 in [0, 1] at the same size) also
    ``edges`` (:func:`_edge_contrast`) and ``colours`` (:func:`core.subject.colours.colour_overlap`).
    """
    model = coarse.alpha if coarse.alpha.shape == refined.shape else resize_image(coarse.alpha, refined.shape)
    kept = slice(None) if strands is None or strands.shape != refined.shape else ~strands
    subject = refined >= 0.5
    solid = max(1, int(subject.sum()))
    frame = np.concatenate([subject[0, :], subject[-1, :], subject[1:-1, 0], subject[1:-1, -1]])
    parts = _parts(subject)
    reach = max(3, int(round(0.03 * max(refined.shape))))
    near = cv2.dilate(subject.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)) > 0
    faint = (model > 0.05) & (model < 0.5) & ~near
    found = {
        "confidence": float(coarse.confidence),
        "agreement": float(agreement(refined[kept], model[kept])),
        "area": float(subject.mean()),
        "frame": float(frame.mean()),
        "parts": float(len(parts)),
        "main_part": float(parts[0] / solid) if len(parts) else 0.0,
        "rival": float(model[faint].sum() / solid),
        "soft": float(np.count_nonzero((model > 0.1) & (model < 0.9)) / max(1, int((model >= 0.5).sum()))),
    }
    if image is not None:
        found["edges"] = _edge_contrast(image, subject)
        found["colours"] = colour_overlap(image, subject)
    return found


def working(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(h, w, 3) float32 in [0, 1]: ``image`` (the same, full size) at the working size."""
    return resize_image(image, shape)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data", type=Path)
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--model-cache", type=Path, required=True)
    ap.add_argument("--csv", type=Path, required=True)
    args = ap.parse_args(argv)
    session = open_session("isnet", device="cpu")
    predict = CachedPredict(session.predict, args.model_cache.expanduser(), f"{session.name}|{session.spec.sha256}")
    pairs = folder.plan(args.data, gt="binary", every=args.every, offset=args.offset).pairs
    rows = []
    for i, pair in enumerate(pairs):
        image = load_image(pair.image)
        gt = folder.load_mask(pair.gt) > 128
        matte = select_subject(image, predict, MatteOptions(decontaminate=0.0))
        chosen = matte.alpha >= 0.5
        iou = float((chosen & gt).sum() / max(1, (chosen | gt).sum()))
        row = {"image": pair.name, "iou": round(iou, 4), "flagged": int(matte.low_confidence)}
        row.update({k: round(float(v), 4) for k, v in signals(matte.coarse, matte.refined, matte.strands, image=working(image, matte.refined.shape)).items()})
        rows.append(row)
        print(f"{i + 1}/{len(pairs)} {pair.name} iou {iou:.3f}", file=sys.stderr)
    with open(args.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    iou = np.array([r["iou"] for r in rows])
    flag = np.array([r["flagged"] for r in rows], bool)
    bad, good = iou < 0.8, iou >= 0.9
    print(f"bad {bad.sum()} flagged {flag[bad].sum()}; good {good.sum()} flagged {flag[good].sum()}; all flagged {flag.sum()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
