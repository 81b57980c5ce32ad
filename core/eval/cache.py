"""A model's ``predict`` with its outputs kept on disk, so that evaluation reruns (other
refine modes, other view strategies, another subset) never repeat an inference."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]


class CachedPredict:
    """``predict`` behind an on-disk cache keyed by the exact model input.

    Parameters
    ----------
    predict: the model, ``(h, w, 3) float32 in [0, 1], RGB -> (h, w) float32 in [0, 1]``.
    cache_dir: where outputs are kept (``<sha1>.npy``, float32); created on first write.
    model: the model's identity (e.g. its name and file hash): part of every key, so one
        folder can serve several models.

    Calling it maps an image as ``predict`` does. The key is a hash of ``model``, the
    input's shape and its float32 bytes; a stored output is returned as it was computed.
    ``runs`` counts calls, ``computed`` the calls that ran the model.
    """

    def __init__(self, predict: Predict, cache_dir: Path, model: str) -> None:
        self.predict = predict
        self.cache_dir = Path(cache_dir)
        self.model = model
        self.runs = 0
        self.computed = 0

    def key(self, image: np.ndarray) -> str:
        """The cache key of a model input (H, W, 3) float32."""
        return hashlib.sha1(self.model.encode() + b"|" + str(image.shape).encode() + image.tobytes()).hexdigest()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        self.runs += 1
        image = np.ascontiguousarray(image, dtype=np.float32)
        path = self.cache_dir / f"{self.key(image)}.npy"
        if path.is_file():
            return np.load(path).astype(np.float32)
        alpha = np.asarray(self.predict(image), dtype=np.float32)
        self.computed += 1
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a concurrent run or an interruption never leaves half a file.
        handle, temporary = tempfile.mkstemp(dir=self.cache_dir, suffix=".npy.part")
        try:
            with os.fdopen(handle, "wb") as f:
                np.save(f, alpha)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return alpha
