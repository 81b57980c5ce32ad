"""A generated sample photo with a known matte, for the README's first run and for tests.

A furry subject (a body with hundreds of thin hair strands, drawn at 4×
supersampling so strands are genuinely fractional) over an out-of-focus
background. Deterministic for a given seed.
"""

from __future__ import annotations

import cv2
import numpy as np


def furry_subject(*, width: int = 960, height: int = 720, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Render the sample.

    Returns
    -------
    image: (height, width, 3) float32 in [0, 1], RGB, the composite αF + (1 − α)B.
    alpha: (height, width) float32 in [0, 1], the true matte.
    """
    rng = np.random.default_rng(seed)
    ss = 4
    H, W = height * ss, width * ss
    cov = np.zeros((H, W), np.uint8)
    cx, cy = W * 0.5, H * 0.56
    ax, ay = W * 0.2, H * 0.3
    cv2.ellipse(cov, (int(cx), int(cy)), (int(ax), int(ay)), 0, 0, 360, 255, -1, cv2.LINE_AA)
    cv2.circle(cov, (int(cx), int(cy - ay * 1.05)), int(ax * 0.62), 255, -1, cv2.LINE_AA)
    for _ in range(900):
        t = rng.uniform(0, 2 * np.pi)
        on_head = rng.random() < 0.35
        if on_head:
            bx, by, rx, ry = cx, cy - ay * 1.05, ax * 0.62, ax * 0.62
        else:
            bx, by, rx, ry = cx, cy, ax, ay
        x0, y0 = bx + rx * np.cos(t) * 0.95, by + ry * np.sin(t) * 0.95
        length = rng.uniform(0.08, 0.22) * W
        angle = t + rng.normal(0, 0.35)
        bend = rng.normal(0, 0.5)
        pts = []
        for s in np.linspace(0, 1, 12):
            a = angle + bend * s
            pts.append((x0 + np.cos(a) * length * s, y0 + np.sin(a) * length * s))
        thickness = int(rng.integers(1, 4))
        cv2.polylines(cov, [np.round(np.array(pts)).astype(np.int32)], False, 255, thickness, cv2.LINE_AA)
    alpha = cv2.resize(cov, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    texture = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), 1.2)
    fg = np.stack([0.55 + 0.25 * texture, 0.36 + 0.2 * texture, 0.2 + 0.1 * texture], axis=2)
    bg = np.stack([0.25 + 0.5 * xx / width, 0.55 + 0.2 * yy / height, 0.75 - 0.3 * xx / width], axis=2)
    blobs = np.zeros((height, width), np.float32)
    for _ in range(14):
        cv2.circle(blobs, (int(rng.uniform(0, width)), int(rng.uniform(0, height))), int(rng.uniform(20, 70)), 1.0, -1)
    blobs = cv2.GaussianBlur(blobs, (0, 0), 12)[:, :, None]
    bg = bg * (1 - 0.35 * blobs) + 0.35 * blobs * np.array([0.95, 0.9, 0.6], np.float32)
    image = alpha[:, :, None] * fg + (1 - alpha[:, :, None]) * bg
    return np.clip(image, 0, 1).astype(np.float32), alpha
