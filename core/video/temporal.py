"""Temporal consistency for a sequence of per-frame mattes.

Two steps, each frame's matte seen once, in order, both along the optical flow (OpenCV's
DIS flow on grey images) so that moving edges are compared with themselves:

1. **One-frame delay** (after MODNet, Ke et al., AAAI 2022), motion-compensated: the
   previous and the next frame's own mattes are carried to the current frame; where they
   agree and the current one differs from both, the current value is a flicker and takes
   their mean. MODNet compares the mattes in place, which on moving footage "mends" thin
   structures that moved (a hair strand is elsewhere in both neighbours) and the subject's
   turning points; carrying them along the flow does not. It costs one frame of latency.
2. **Motion-compensated smoothing**: the previous *output* matte is carried to the current
   frame and blended with the current matte.

Both trust a carried value only where the carried frame looks like the current one (the
colour check): an occlusion, a flow error or a newly uncovered edge takes the current
matte, so moving edges leave no ghost.

3. **Subject tracking**: a per-frame matte sometimes jumps to a salient thing of the
   background (a crowd, another car) or to the whole picture, for a frame or a few. The
   colour check cannot see that (the background looks like itself), so the carried output
   gets a share of ``track`` whatever the check says (a) at pixels far from the carried
   subject (:func:`subject_distance_gate`) and (b) everywhere in a frame whose matte agrees
   badly with the carried subject (:func:`jump_weight`); a neighbour that jumped is no witness
   for the one-frame delay either. A new region that lasts is taken after a few frames (the
   share is below 1): hysteresis, not a wall; a first subject after empty frames at once.

:class:`TemporalFilter` holds the little state this needs (two frames) and works as a
stream: ``push`` a frame and its matte, get back the finished matte of the frame before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache

import cv2
import numpy as np

from core.errors import ParameterError
from core.imageio import float_to_uint8
from core.phone.locate import to_grey

FLOW_PIXELS = 1_000_000
"""Optical flow runs on frames scaled to at most this many pixels (720p runs at full size)."""

TRUSTED = 0.5
"""The colour check's value above which the one-frame delay may use a carried matte."""


def one_frame_delay(previous: np.ndarray, current: np.ndarray, following: np.ndarray,
                    *, threshold: float = 0.1, where: np.ndarray | None = None) -> np.ndarray:
    """MODNet's one-frame-delay correction of ``current``.

    All (H, W) float32 in [0, 1] (``previous`` and ``following`` carried to the current
    frame); ``where``: (H, W) bool, the pixels where the correction may act (None: all).
    Where |previous − following| ≤ threshold and ``current`` differs from both by more
    than ``threshold``, the result is (previous + following) / 2; elsewhere it is ``current``.
    """
    agree = np.abs(previous - following) <= threshold
    flicker = agree & (np.abs(current - previous) > threshold) & (np.abs(current - following) > threshold)
    if where is not None:
        flicker &= where
    out = current.copy()
    out[flicker] = 0.5 * (previous[flicker] + following[flicker])
    return out


def subject_distance_gate(carried: np.ndarray, *, reach: tuple[float, float] = (0.03, 0.08)) -> np.ndarray:
    """How far each pixel is from the subject of the previous output, as a weight.

    carried: (H, W) float32 in [0, 1], the previous frame's output carried to this frame.
    reach: (near, far), distances as fractions of the image's diagonal. Returns (H, W)
    float32 in [0, 1]: 0 within ``near`` of the carried subject (α ≥ 0.5), 1 beyond ``far``,
    linear between; all 0 when the carried matte has no subject (nothing to track yet).
    """
    subject = carried >= 0.5
    if not subject.any():
        return np.zeros(carried.shape, np.float32)
    h, w = carried.shape
    diagonal = float(np.hypot(h, w))
    distance = cv2.distanceTransform((~subject).astype(np.uint8), cv2.DIST_L2, 3)
    near, far = reach[0] * diagonal, reach[1] * diagonal
    return np.clip((distance - near) / max(far - near, 1e-6), 0.0, 1.0).astype(np.float32)


def jump_weight(current: np.ndarray, carried: np.ndarray, *, agree: tuple[float, float] = (0.3, 0.6)) -> float:
    """How much a frame's own matte looks like a jump away from the tracked subject, in [0, 1].

    current, carried: (H, W) float32 in [0, 1], the frame's matte and the previous output
    carried to it. The share of the frame's subject (α ≥ 0.5) that lies in the carried
    subject below ``agree[0]`` gives 1, above ``agree[1]`` 0, linear between; 0 when either
    has no subject. A matte that only lost a part of the subject (or a wrong part) is no
    jump: only one that reaches out of it (the whole picture, another object) is.
    """
    subject, now = carried >= 0.5, current >= 0.5
    found = np.count_nonzero(now)
    if found == 0 or not subject.any():
        return 0.0
    inside = np.count_nonzero(subject & now) / found
    return float(np.clip((agree[1] - inside) / max(agree[1] - agree[0], 1e-6), 0.0, 1.0))


@dataclass
class _Seen:
    """A frame the filter holds: image (H, W, 3) float32 [0, 1]; grey (h, w) uint8, the
    flow's input; alpha (H, W) float32 [0, 1], its own matte; output: its finished matte
    (None until finished)."""

    image: np.ndarray
    grey: np.ndarray
    alpha: np.ndarray
    output: np.ndarray | None = None

    @classmethod
    def of(cls, image: np.ndarray, alpha: np.ndarray, output: np.ndarray | None = None) -> _Seen:
        return cls(image, _flow_grey(image), alpha, output)

    @cached_property
    def blurred(self) -> np.ndarray:
        """(H, W, 3) float32: the image as the colour check compares it."""
        return _colour_blur(self.image)


@dataclass
class _Link:
    """Where each pixel of a frame is in another: ``maps`` (map_x, map_y), each (H, W)
    float32; ``trust`` (H, W) float32 in [0, 1], the colour check of the other frame
    carried along them."""

    maps: tuple[np.ndarray, np.ndarray]
    trust: np.ndarray

    def carry(self, values: np.ndarray) -> np.ndarray:
        """The other frame's ``values`` (H, W) carried to this frame."""
        return _remap(values, self.maps)


class TemporalFilter:
    """Stream filter: the motion-compensated one-frame delay, then motion-compensated
    smoothing that tracks the subject.

    delay: apply the one-frame delay (one frame of latency either way).
    strength: the previous output's share where the colour check fully trusts it, in
        [0, 1); 0 turns smoothing off.
    colour_sigma: colour distance (sRGB units, 0–√3) between a frame and its neighbour
        carried along the flow at which trust falls to e^(−1/2).
    threshold: the one-frame delay's threshold.
    track: the carried output's share, in [0, 1), far from its subject and in a frame whose
        matte jumped away from it (0 turns tracking off: the filter without step 3).
    reach: (near, far) fractions of the image's diagonal: the distance from the carried
        subject at which "far" starts and is complete.
    agree: (low, high): the IoU at 0.5 of a frame's matte with the carried output below which
        the frame counts fully as a jump, and above which not at all.

    ``push(image, alpha)`` returns the finished matte of the frame pushed before it (None
    for the first frame); ``finish()`` returns the last frame's. Holds two frames.
    """

    def __init__(self, *, delay: bool = True, strength: float = 0.8, colour_sigma: float = 0.04,
                 threshold: float = 0.1, track: float = 0.9, reach: tuple[float, float] = (0.03, 0.08),
                 agree: tuple[float, float] = (0.3, 0.6)) -> None:
        if not 0.0 <= strength < 1.0:
            raise ParameterError(f"strength: expected a value in [0, 1); got {strength}")
        if not 0.0 <= track < 1.0:
            raise ParameterError(f"track: expected a value in [0, 1); got {track}")
        if not 0.0 <= reach[0] < reach[1]:
            raise ParameterError(f"reach: expected (near, far) with 0 <= near < far; got {reach}")
        if not 0.0 <= agree[0] < agree[1] <= 1.0:
            raise ParameterError(f"agree: expected (low, high) with 0 <= low < high <= 1; got {agree}")
        self.track, self.reach, self.agree = track, (float(reach[0]), float(reach[1])), (float(agree[0]), float(agree[1]))
        if colour_sigma <= 0.0:
            raise ParameterError(f"colour_sigma: expected a positive value; got {colour_sigma}")
        self.delay, self.strength, self.colour_sigma, self.threshold = delay, strength, colour_sigma, threshold
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._previous: _Seen | None = None  # the last finished frame
        self._held: _Seen | None = None  # the frame waiting for its successor

    def seed(self, image: np.ndarray, alpha: np.ndarray, output: np.ndarray) -> None:
        """Continue a sequence: ``image`` (H, W, 3) was the frame before the next pushed one,
        ``alpha`` its own matte and ``output`` the matte it was given ((H, W), float32 in [0, 1])."""
        self._held = None
        self._previous = _Seen.of(image, alpha, output.astype(np.float32, copy=True))

    def reset(self) -> None:
        """Forget the frames seen (a cut in the footage); a held frame is lost."""
        self._previous = self._held = None

    def push(self, image: np.ndarray, alpha: np.ndarray) -> np.ndarray | None:
        """Take the next frame (H, W, 3) and its matte (H, W), float32 in [0, 1]; returns the
        finished matte (H, W) float32 in [0, 1] of the frame before, or None."""
        if alpha.shape != image.shape[:2]:
            raise ParameterError(f"alpha: expected shape {image.shape[:2]}; got {alpha.shape}")
        incoming = _Seen.of(image, alpha)
        done = self._finish_held(incoming)
        self._held = incoming
        return done

    def finish(self) -> np.ndarray | None:
        """The last frame's matte (its successor never comes); the filter is then empty."""
        done = self._finish_held(None)
        self.reset()
        return done

    def _finish_held(self, following: _Seen | None) -> np.ndarray | None:
        held, previous = self._held, self._previous
        if held is None:
            return None
        if previous is not None and previous.grey.shape != held.grey.shape:
            previous = None  # another size: a new shot
        if following is not None and following.grey.shape != held.grey.shape:
            following = None
        delay = self.delay and previous is not None and following is not None
        smooth = previous is not None and self.strength > 0.0
        to_previous = self._link(held, previous) if delay or smooth else None
        tracked = to_previous.carry(previous.output) if to_previous is not None else None
        current = held.alpha
        if delay:
            to_following = self._link(held, following)
            before, after = to_previous.carry(previous.alpha), to_following.carry(following.alpha)
            # A neighbour whose own matte jumped away from the tracked subject is no witness.
            if self.track == 0.0 or max(jump_weight(before, tracked, agree=self.agree),
                                        jump_weight(after, tracked, agree=self.agree)) == 0.0:
                current = one_frame_delay(before, current, after, threshold=self.threshold,
                                          where=(to_previous.trust > TRUSTED) & (to_following.trust > TRUSTED))
        out = current.astype(np.float32, copy=True)
        if smooth:
            share = np.float32(self.strength) * to_previous.trust
            if self.track > 0.0:
                gate = np.maximum(subject_distance_gate(tracked, reach=self.reach),
                                  np.float32(jump_weight(out, tracked, agree=self.agree)))
                share = np.maximum(share, np.float32(self.track) * gate)
            out += share * (tracked - out)
        held.output = np.clip(out, 0.0, 1.0, out=out)
        self._previous = held
        return held.output

    def _link(self, frame: _Seen, other: _Seen) -> _Link:
        """The optical flow from ``frame`` to ``other`` and the colour check along it."""
        flow = self._flow.calc(frame.grey, other.grey, None)
        h, w = frame.alpha.shape
        if flow.shape[:2] != (h, w):
            flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
            flow[:, :, 0] *= w / frame.grey.shape[1]
            flow[:, :, 1] *= h / frame.grey.shape[0]
        xs, ys = _pixel_grid(h, w)
        maps = (xs + flow[:, :, 0], ys + flow[:, :, 1])
        diff = frame.blurred - _colour_blur(_remap(other.image, maps))
        distance_sq = np.einsum("ijk,ijk->ij", diff, diff)
        trust = np.exp(-distance_sq / (2.0 * self.colour_sigma ** 2)).astype(np.float32)
        return _Link(maps, trust)


def _remap(values: np.ndarray, maps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return cv2.remap(values, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _colour_blur(image: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), 1.0)


@lru_cache(maxsize=4)
def _pixel_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys), each (h, w) float32: every pixel's own coordinates (read only)."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    xs.flags.writeable = ys.flags.writeable = False
    return xs, ys


def _flow_grey(image: np.ndarray) -> np.ndarray:
    """The flow's input: (h, w) uint8 grey of ``image`` (H, W, 3) float32 [0, 1], scaled to at
    most :data:`FLOW_PIXELS` pixels."""
    grey = to_grey(float_to_uint8(image), name="frame")
    h, w = grey.shape
    scale = min(1.0, (FLOW_PIXELS / float(h * w)) ** 0.5)
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return grey


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
