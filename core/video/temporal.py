"""Temporal consistency for a sequence of per-frame mattes.

Two steps, each frame's matte seen once, in order:

1. **One-frame delay** (after MODNet, Ke et al., AAAI 2022): where the previous and the
   next frame's mattes agree and the current one differs from both, the current value is
   a flicker, and takes their mean. It costs one frame of latency.
2. **Motion-compensated smoothing**: the previous *output* matte is carried to the current
   frame along the optical flow (OpenCV's DIS flow, current → previous, on grey images) and
   blended with the current matte. The blend weight falls where the previous frame, carried
   the same way, does not look like the current one (an occlusion, a flow error, a new
   edge), so moving edges take the current matte and leave no ghost.

:class:`TemporalFilter` holds the little state this needs (two frames) and works as a
stream: ``push`` a frame and its matte, get back the finished matte of the frame before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from core.errors import ParameterError
from core.imageio import float_to_uint8
from core.locate import to_grey


def one_frame_delay(previous: np.ndarray, current: np.ndarray, following: np.ndarray,
                    *, threshold: float = 0.1) -> np.ndarray:
    """MODNet's one-frame-delay correction of ``current``.

    All (H, W) float32 in [0, 1]. Where |previous − following| ≤ threshold and ``current``
    differs from both by more than ``threshold``, the result is (previous + following) / 2;
    elsewhere it is ``current``.
    """
    agree = np.abs(previous - following) <= threshold
    flicker = agree & (np.abs(current - previous) > threshold) & (np.abs(current - following) > threshold)
    out = current.copy()
    out[flicker] = 0.5 * (previous[flicker] + following[flicker])
    return out


@dataclass
class FlowSmoother:
    """Motion-compensated recursive smoothing of mattes.

    strength: the previous output's share where it is fully trusted, in [0, 1); 0 turns
        smoothing off.
    colour_sigma: colour distance (sRGB units, 0–√3) at which trust falls to e^(−1/2).
    """

    strength: float = 0.8
    colour_sigma: float = 0.04

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength < 1.0:
            raise ParameterError(f"strength: expected a value in [0, 1); got {self.strength}")
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._previous: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        """Forget the previous frame (a cut in the footage)."""
        self._previous = None

    def seed(self, image: np.ndarray, output: np.ndarray) -> None:
        """Take ``image`` (H, W, 3) and its ``output`` matte (H, W), float32 in [0, 1], as the
        previous frame (continuing a sequence)."""
        grey = to_grey(float_to_uint8(image), name="frame")
        self._previous = (grey, image.astype(np.float32, copy=False), output.astype(np.float32, copy=True))

    def __call__(self, image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """The smoothed matte of ``image`` (H, W, 3) float32 RGB in [0, 1], given its own matte
        ``alpha`` (H, W) float32 in [0, 1]. Returns (H, W) float32 in [0, 1]."""
        grey = to_grey(float_to_uint8(image), name="frame")
        out = alpha.astype(np.float32, copy=True)
        if self.strength == 0.0:
            return np.clip(out, 0.0, 1.0, out=out)
        if self._previous is not None and self._previous[0].shape == grey.shape:
            prev_grey, prev_image, prev_alpha = self._previous
            flow = self._flow.calc(grey, prev_grey, None)  # where each current pixel was
            h, w = grey.shape
            xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
            map_x, map_y = xs + flow[:, :, 0], ys + flow[:, :, 1]
            carried_alpha = cv2.remap(prev_alpha, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            carried_image = cv2.remap(prev_image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            diff = cv2.GaussianBlur(image, (0, 0), 1.0) - cv2.GaussianBlur(carried_image, (0, 0), 1.0)
            distance_sq = np.einsum("ijk,ijk->ij", diff, diff)
            weight = np.float32(self.strength) * np.exp(-distance_sq / (2.0 * self.colour_sigma ** 2)).astype(np.float32)
            out += weight * (carried_alpha - out)
        self._previous = (grey, image.astype(np.float32, copy=False), out)
        return np.clip(out, 0.0, 1.0, out=out)


class TemporalFilter:
    """Stream filter: the one-frame delay, then motion-compensated smoothing.

    ``push(image, alpha)`` returns the finished matte of the frame pushed before it (None for
    the first frame); ``finish()`` returns the last frame's. Holds two frames.
    """

    def __init__(self, *, delay: bool = True, smoother: FlowSmoother | None = None) -> None:
        self.delay = delay
        self.smoother = smoother if smoother is not None else FlowSmoother()
        self._held: tuple[np.ndarray, np.ndarray] | None = None  # the frame waiting for its successor
        self._before: np.ndarray | None = None  # the raw matte of the frame before the held one

    def push(self, image: np.ndarray, alpha: np.ndarray) -> np.ndarray | None:
        """Take the next frame (H, W, 3) and its matte (H, W), float32 in [0, 1]."""
        if alpha.shape != image.shape[:2]:
            raise ParameterError(f"alpha: expected shape {image.shape[:2]}; got {alpha.shape}")
        done = None
        if self._held is not None:
            held_image, held_alpha = self._held
            corrected = held_alpha
            if self.delay and self._before is not None and self._before.shape == alpha.shape == held_alpha.shape:
                corrected = one_frame_delay(self._before, held_alpha, alpha)
            done = self.smoother(held_image, corrected)
            self._before = held_alpha
        self._held = (image, alpha)
        return done

    def seed(self, image: np.ndarray, unedited: np.ndarray, output: np.ndarray) -> None:
        """Continue a sequence: ``image`` (H, W, 3) was the frame before the next pushed one,
        ``unedited`` its own matte and ``output`` the matte it was given ((H, W), float32 in [0, 1])."""
        self._held = None
        self._before = unedited.astype(np.float32, copy=False)
        self.smoother.seed(image, output)

    def finish(self) -> np.ndarray | None:
        """The last frame's matte (its successor never comes); the filter is then empty."""
        if self._held is None:
            return None
        image, alpha = self._held
        self._held, self._before = None, None
        done = self.smoother(image, alpha)
        self.smoother.reset()
        return done


def smooth_sequence(frames: Iterator[tuple[np.ndarray, np.ndarray]], **options) -> Iterator[np.ndarray]:
    """The filtered mattes of ``(image, alpha)`` pairs, in order (see :class:`TemporalFilter`)."""
    temporal = TemporalFilter(**options)
    for image, alpha in frames:
        done = temporal.push(image, alpha)
        if done is not None:
            yield done
    last = temporal.finish()
    if last is not None:
        yield last
