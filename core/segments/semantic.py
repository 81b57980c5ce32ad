"""Semantic feature maps → three smooth, edge-aware channels (the paper's preprocessing)."""

from __future__ import annotations

import cv2
import numpy as np

from core.alpha.guided_filter import guided_filter
from core.errors import ModelError


def model_features(session, image: np.ndarray) -> np.ndarray | None:
    """``session.features(image)`` ((h, w, C) float32 decoder features, see
    :meth:`core.models.session.MaskSession.features`), or None for a model without them."""
    try:
        return session.features(image)
    except ModelError:
        return None


def reduce_features(features: np.ndarray, image: np.ndarray, *, dims: int = 3, radius: int = 0, eps: float = 1e-3) -> np.ndarray:
    """Resize a feature map to the image, project it on its principal axes and smooth it.

    Parameters
    ----------
    features : (h, w, C) float32, any values and resolution.
    image : (H, W, 3) float32 in [0, 1], RGB, the working image (the guide).
    dims : principal components kept (at most C).
    radius : guided filter radius in pixels; 0 picks 2 % of the long side (>= 2).
    eps : guided filter ridge.

    Returns
    -------
    reduced : (H, W, dims) float32 in [0, 1]: all channels share one scale, so
        Euclidean distances keep their meaning (1 spans the largest spread).
    """
    h, w = image.shape[:2]
    feats = features.astype(np.float32, copy=False)
    if feats.shape[:2] != (h, w):
        # cv2.resize handles at most 512 channels; beyond that, resize in slices.
        slices = [cv2.resize(feats[..., c : c + 256], (w, h), interpolation=cv2.INTER_LINEAR)
                  for c in range(0, feats.shape[2], 256)]
        feats = np.concatenate([s.reshape(h, w, -1) for s in slices], axis=2)
    flat = feats.reshape(h * w, -1).astype(np.float64)
    flat -= flat.mean(0)
    sample = flat[:: max(1, flat.shape[0] // 20_000)]
    _, _, vt = np.linalg.svd(sample, full_matrices=False)
    proj = flat @ vt[: min(dims, vt.shape[0])].T
    if proj.shape[1] < dims:
        proj = np.pad(proj, ((0, 0), (0, dims - proj.shape[1])))
    proj -= proj.min(0)
    proj /= max(float(proj.max()), 1e-12)
    radius = radius or max(2, round(0.02 * max(h, w)))
    out = np.empty((h, w, dims), np.float32)
    for c in range(dims):
        out[..., c] = guided_filter(image, proj[:, c].reshape(h, w).astype(np.float32), radius=radius, eps=eps)
    return np.clip(out, 0.0, 1.0, out=out)
