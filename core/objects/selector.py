"""Object Selection in two steps, as segment-anything's predictor: :class:`ObjectSelector` prepares
an image once (the working image, the model on the whole frame); :meth:`ObjectSelector.predict`
turns prompts into a soft alpha at full size.

How a prediction is made, at the working size:

1. **A prior** says where the object probably is. A box: the model run on the box's crop
   (so that it looks for the salient thing *inside* the box), nothing outside it. A lasso: the
   same on the lasso's bounding crop, nothing outside the lasso. Clicks alone: the model on the
   whole frame, or on a crop around the first positive click when the whole frame does not
   hold the clicked pixel; or, to correct a matte, that matte.
2. **A graph cut** (:mod:`.graphcut`) from that prior: clicks are sure labels, the prior's
   confident pixels away from the clicks are sure too, the rest is left to the colour models
   and the contrast-sensitive smoothness. A correcting click deep inside a region the matte has
   wrong (:data:`WALK_DEPTH` or more from the matte's other side) goes instead to **the random
   walker** (:mod:`.walker`): the matte is its prior, taken as the click says over a disc scaled
   to the click's depth, and the walk carries that over the region the click sits in up to the
   image's edges. A graph cut's colour models learn the wrong region's colours from the matte
   and keep it; a walk does not (COCO-MVal: docs/quality.md).
3. **What the clicks pick:** the connected parts holding a positive click (a box: its largest
   part), so a click adds an object part, not every pixel of its colour. A box alone is held to
   its object's bounds (:meth:`ObjectSelector._fit_box`): a cut that does not reach the box's
   sides gives way to a reading of the box that does, or to the box as drawn.
4. **A soft matte:** the binary cut at full size through the refinement of a rough selection
   (:func:`core.subject.selection.refine_mask`: a trimap around its edge, the alpha solver).
5. **With the previous matte**, by ``mode`` (:mod:`.combine`). Clicks that correct a matte
   change it only near the clicks it does not yet agree with (:func:`_unmet`: the clicks come with
   their history, and those taken earlier are not re-decided; the walker: in the box it walks),
   and as each click says: where the nearest click is positive the matte only grows, where it is
   negative it only shrinks (:meth:`ObjectSelector._as_the_clicks_say`).

Crops the model has seen are kept, so only the first prompt in a new place runs the model.

**With SAM** (``backend="sam"``: rembg's Segment Anything files, :mod:`.sam`), the encoder runs
once on the whole image at preparation, and each prediction is one decoder run at full size in
place of steps 1–3: the clicks and the box go to SAM as they are; a lasso goes as its bounding
box (with any clicks), and SAM's mask is then cut to the lasso; a correction (clicks with a
``previous`` matte in mode "new") asks SAM about the clicks and the box around the matte and
the positive clicks, and takes SAM's answer only near the clicks and over the part a positive
click adds. Steps 4 and 5 are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from core.errors import ParameterError
from core.imageio import float_to_uint8, uint8_to_float
from core.models.registry import DEFAULT_MODEL
from core.objects.combine import MODES, combine
from core.objects.graphcut import (SURE, components_touching, graph_cut, grown, largest_component, seed_labels,
                                   undecided_bounds)
from core.objects.prompts import Prompts, check_prompts, disks, scaled
from core.objects.sam import DEFAULT_SAM, SamImage, SamModel, check_sam_name, open_sam
from core.objects.walker import random_walk
from core.subject.selection import refine_mask, solver_size
from core.subject.working import resize_image, working_size

Predict = Callable[[np.ndarray], np.ndarray]
"""One model run: (h, w, 3) float32 in [0, 1] RGB → (h, w) float32 in [0, 1], probable subject."""

Rect = tuple[int, int, int, int]


class Cut(NamedTuple):
    """What a prediction's cut found, before its soft edge: ``found``, the object ((h, w) bool at the working
    size, or (H, W) from SAM); ``near``, with a matte to correct, where the result may change it (the same
    grid as ``found`` from :meth:`ObjectSelector._cut`, (H, W) from the backends), else None; ``drawn``, the
    part of the result that is the user's own drawing and keeps its drawn edge (``found``'s grid), or None."""

    found: np.ndarray
    near: np.ndarray | None = None
    drawn: np.ndarray | None = None

BACKENDS = ("model", "sam")
OBJECT_REACH = 0.5
"""A correction's clicks re-decide at most this share of sqrt(the object's area) around them (at least
three click radii): a click on a small object does not re-decide the background around it."""
LASSO_SLACK = 0.03
"""How loosely a lasso is drawn, as a share of sqrt(h·w): a subtract lasso may run this far over the
subject's edge and leave the subject whole."""
ROI_MARGIN = 0.25
"""A click's graph cut runs in the box around what it may change, grown by this share of its size a side
(a box or a lasso: in the whole frame)."""
BOX_SLACK = 0.025
"""How loosely a box is drawn, a share of its size a side: the object's bounds are expected that far inside."""
BOX_FIT = 0.9
"""A box's cut whose bounds fit the box (IoU, :func:`_fit`) this well stands; a worse fit lets other readings
of the box compete (:meth:`ObjectSelector._fit_box`)."""
BOX_GAIN = 0.05
"""How much better another reading of a box must fit it to replace the cut from the model's view."""
BOX_COLOUR_GAIN = 0.1
"""How much better still GrabCut's readings of a box must fit it: colour alone spills into background that looks like
the object out to the box's sides, which raises its fit too (the orange ground by a flower's thin stem)."""
BOX_LOST = 0.3
"""A box where no reading fits it this well is taken as it is drawn: better the box than another thing or nothing."""
BOX_FAINT = (0.2, 0.05)
"""The model's faint response in a box: its largest part at or above each of these is a reading of the box."""
PART_CAP = 3.0
"""A positive click in a hole of the matte brings the model's part there only when that part is at most this many
times the matte's object: a larger one is another thing (the table under a spoon took IoU 0.89 → 0.06 in one click,
and six negative clicks to undo), and the click's own walk or cut decides instead. Measured on COCO-MVal and
alphamatting against no limit and 8 (docs/quality.md)."""
WALK_DEPTH = 0.03
"""A correcting click this far (a share of sqrt(h·w)) or farther inside a wrong region of the matte is
answered by the random walker (:mod:`.walker`), which takes the region it sits in; nearer the matte's
edge, the graph cut re-decides the edge from the colours."""
WALK_FLIP = 0.9
"""Around a click deep in a wrong region, the disc of this share of its depth (its distance to the
matte's other side) is taken as the click says in the walker's prior."""
WALK_SPAN = 3.0
"""The walker decides the box of this many depths around each such click; the matte stands outside."""
WALK_PULL = 0.001
"""The walker's pull towards the matte, times the matte's certainty |2a − 1|, against contrast links of at
most 1: a click's reach through a region of even colour is about 1 / sqrt(pull) pixels (30 at the working
size) beyond its disc. Measured on COCO-MVal against 0.01 and 0.0001 (docs/quality.md)."""
WALK_PIXELS = 50_000
"""The most pixels the walker solves for; a larger box is walked on a coarser grid."""


@dataclass(frozen=True)
class ObjectOptions:
    """How an :class:`ObjectSelector` works.

    model, device: the mask model and where it runs (when no ``predict`` is given).
    refine: the soft edge of each result: "fast", "best" (as Select Subject's refine modes)
    or "none" (the cut's edge, smoothed by the upsampling only).
    working_pixels: the graph cut's image size (pixels).
    click_radius: a click's sure disc, as a fraction of sqrt(h·w) of the working image.
    reach: how far around the clicks the model's confident pixels are left to the cut, as a
    fraction of sqrt(h·w); a correction changes the matte only there.
    iterations: GrabCut's rounds.
    box_margin: the crop around a box or a lasso that the model sees, as a fraction of its size.
    backend: "model" (the mask model and the graph cut, above) or "sam" (rembg's Segment Anything
    files, which must be on this machine: :func:`core.objects.sam.installed_sam`).
    sam: which SAM, with ``backend="sam"``: a name in rembg's folder (``NAME.encoder.onnx`` and
    ``NAME.decoder.onnx``; ``NAME.quant`` for the ``.quant`` pair).
    """

    model: str = DEFAULT_MODEL
    device: str = "auto"
    refine: str = "fast"
    working_pixels: int = 300_000
    click_radius: float = 0.01
    reach: float = 0.15
    iterations: int = 3
    box_margin: float = 0.1
    backend: str = "model"
    sam: str = DEFAULT_SAM

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ParameterError(f"backend: expected one of {', '.join(BACKENDS)}; got {self.backend!r}")
        check_sam_name(self.sam)
        if self.refine not in ("none", "fast", "best"):
            raise ParameterError(f"refine: expected none, fast or best; got {self.refine!r}")
        if not 10_000 <= self.working_pixels <= 4_000_000:
            raise ParameterError(f"working_pixels: expected 10000…4000000; got {self.working_pixels}")
        if not (0 < self.click_radius < 0.2 and 0 < self.reach <= 2 and 1 <= self.iterations <= 20
                and 0 <= self.box_margin <= 1):
            raise ParameterError("click_radius, reach, iterations or box_margin out of range")


class ObjectSelector:
    """An image prepared for Object Selection.

    image: (H, W, 3) uint8 RGB. options: :class:`ObjectOptions`. predict: the model (see
    :data:`Predict`); None opens ``options.model`` on ``options.device``. sam: with
    ``options.backend == "sam"``, a loaded :class:`~core.objects.sam.SamModel`; None opens
    ``options.sam`` on ``options.device``. The SAM backend's encoder runs here, once.
    """

    def __init__(self, image: np.ndarray, options: ObjectOptions | None = None, *,
                 predict: Predict | None = None, sam: SamModel | None = None) -> None:
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 2:
            raise ParameterError(f"image: expected (H, W, 3) uint8 RGB; got {image.dtype} {image.shape}")
        self.options = options or ObjectOptions()
        if self.options.backend == "sam":
            if predict is not None:
                raise ParameterError('predict: a mask model is used only with backend "model"')
            if sam is None:
                sam = open_sam(self.options.sam, device=self.options.device)
        elif sam is not None:
            raise ParameterError('sam: a SAM model is used only with backend "sam"')
        elif predict is None:
            from core.models.session import open_session

            predict = open_session(self.options.model, device=self.options.device).predict
        self._predict = predict
        self.image = image
        self.shape = image.shape[:2]
        self.image_float = uint8_to_float(image)
        self._crops: dict[Rect, np.ndarray] = {}
        self._solver_images: dict[tuple[int, int], np.ndarray] = {}
        self._sam: SamImage | None = None
        if sam is not None:  # SAM's preparation: its encoder on the whole image, once
            self._sam = sam.prepare(image)
            return
        self.size = working_size(image.shape, self.options.working_pixels)
        self.small = resize_image(self.image_float, self.size)
        self.small_u8 = float_to_uint8(self.small)
        height, width = self.size
        self.whole = self._model_on((0, 0, width, height))
        """(h, w) float32 in [0, 1]: the model on the whole frame at the working size."""

    @property
    def model_runs(self) -> int:
        """How many times the model has run on this image (the whole frame and each crop; with SAM,
        its encoder, once at preparation: predictions run only the decoder)."""
        if self._sam is not None:
            return 1
        return len(self._crops)

    def arrays(self) -> list[np.ndarray]:
        """The arrays this prepared image holds (its images and the model's views, or SAM's embedding),
        for a byte-bounded cache that counts memory shared with other values once."""
        held = [self.image, self.image_float, *self._solver_images.values()]
        if self._sam is not None:
            return [*held, self._sam.embedding]
        return [*held, self.small, self.small_u8, *self._crops.values()]

    @property
    def nbytes(self) -> int:
        """Bytes of :meth:`arrays`."""
        return sum(array.nbytes for array in self.arrays())

    def use_model(self, predict: Predict) -> None:
        """Run the model through ``predict`` from now on (the same model, called another way: an
        engine binds each request's job to it, so a new crop waits its turn and can be cancelled).
        The SAM backend runs no mask model, so this changes nothing there."""
        self._predict = predict

    # ------------------------------------------------------------ the model

    def _model_on(self, rect: Rect) -> np.ndarray:
        """(h, w) float32: the model's probability inside ``rect`` (x0, y0, x1, y1 at the working size), 0 outside."""
        if rect not in self._crops:
            x0, y0, x1, y1 = rect
            self._crops[rect] = np.asarray(self._predict(self.small[y0:y1, x0:x1]), np.float32)
        x0, y0, x1, y1 = rect
        out = np.zeros(self.size, np.float32)
        out[y0:y1, x0:x1] = self._crops[rect]
        return out

    def _crop_around(self, x0: float, y0: float, x1: float, y1: float, margin: float) -> Rect:
        """The working-size rect of (x0, y0, x1, y1) grown by ``margin`` of its size, at least 32 px a side."""
        height, width = self.size
        grow_x, grow_y = max((x1 - x0) * margin, 16 - (x1 - x0) / 2), max((y1 - y0) * margin, 16 - (y1 - y0) / 2)
        return (max(0, int(x0 - grow_x)), max(0, int(y0 - grow_y)),
                min(width, int(np.ceil(x1 + grow_x))), min(height, int(np.ceil(y1 + grow_y))))

    def _prior_at(self, x: float, y: float) -> np.ndarray:
        """The model's view of the object at click (x, y), only the part that holds the click
        (other things the model sees are not this object); zeros where no view holds the pixel.

        The views: crops around the click of a quarter and half the frame's long side, then the
        whole frame. The smallest view whose part holding the click is whole (it does not run
        into the crop's edge inside the image) wins: a small object seen up close, a large one
        from afar. With none whole, the view most sure of the clicked pixel wins."""
        height, width = self.size
        seed = np.zeros(self.size, bool)
        seed[int(y), int(x)] = True
        rects = [self._crop_around(x - h, y - h, x + h, y + h, 0.0) for h in (0.125 * max(height, width),
                                                                                0.25 * max(height, width))]
        rects.append((0, 0, width, height))
        best, best_score = None, 0.5
        for rect in dict.fromkeys(rects):  # a crop as large as the frame is the frame
            prior = self._model_on(rect)
            score = float(prior[int(y), int(x)])
            if score < 0.5:
                continue
            part = components_touching(prior >= 0.5, seed)
            if not _runs_into_edge(part, rect, self.size):
                return np.where(part, prior, 0.0).astype(np.float32)
            if score >= best_score:
                best, best_score = np.where(part, prior, 0.0).astype(np.float32), score
        return best if best is not None else np.zeros(self.size, np.float32)

    def _added_parts(self, positive: np.ndarray, held: np.ndarray) -> list[np.ndarray]:
        """What the positive clicks ((n, 2) x, y at the working size) in holes of the matte ``held`` ((h, w)
        bool) bring: the model's part at each (:meth:`_prior_at`), (h, w) float32 in [0, 1], where it sees
        one no more than :data:`PART_CAP` times the matte's object (the table under a spoon is not a missed
        piece of it)."""
        parts = []
        for x, y in positive:
            if not held[int(y), int(x)]:
                part = self._prior_at(x, y)
                if 0 < (part >= 0.5).sum() <= PART_CAP * max(1, int(held.sum())):
                    parts.append(part)
        return parts

    # ------------------------------------------------------------ prediction

    def predict(self, points: Sequence = (), box: Sequence[float] | None = None, mask: np.ndarray | None = None,
                mode: str = "new", previous: np.ndarray | None = None) -> np.ndarray:
        """The object the prompts pick, as a soft matte, taken with ``mode`` into ``previous``.

        points: (x, y, positive) clicks in full-image pixels; box: (x0, y0, x1, y1) or None;
        mask: (H, W) rough region (bool or float in [0, 1]) or None; mode: one of
        :data:`~core.objects.combine.MODES`; previous: (H, W) float32 in [0, 1], the matte to
        correct (Select Subject's or the last prediction), or None.

        With ``mode="new"`` and a ``previous`` matte, clicks correct that matte (near the clicks
        only); with add, subtract or intersect, the prompts pick an object that is then taken
        into ``previous``. Returns (H, W) float32 in [0, 1].
        """
        if mode not in MODES:
            raise ParameterError(f"mode: expected one of {', '.join(MODES)}; got {mode!r}")
        prompts = check_prompts(self.shape, points, box, mask)
        if previous is not None:
            previous = np.asarray(previous, np.float32)
            if previous.shape != self.shape:
                raise ParameterError(f"previous: expected shape {self.shape}; got {previous.shape}")
            if not np.isfinite(previous).all() or previous.min() < 0 or previous.max() > 1:
                raise ParameterError("previous: expected values in [0, 1]")
        correcting = mode == "new" and previous is not None and prompts.mask is None and prompts.box is None
        if (self._sam is None and mode in ("add", "subtract") and previous is not None and prompts.mask is not None
                and prompts.box is None and not len(prompts.clicks)):
            return combine(previous, self._soft(self._lasso_correction(prompts, previous, mode)), mode).astype(np.float32)
        unmet = _unmet(prompts, previous) if correcting else None
        if unmet is not None and not len(unmet.clicks):
            return previous.copy()  # the matte already agrees with every click: nothing to re-decide
        backend = self._sam_cut if self._sam is not None else self._model_cut
        cut = backend(prompts, previous if correcting else None, unmet)
        alpha = self._soft(cut)
        if correcting:
            return self._as_the_clicks_say(np.where(cut.near, alpha, previous).astype(np.float32, copy=False),
                                           previous, prompts)
        return combine(previous, alpha, mode).astype(np.float32)

    def _as_the_clicks_say(self, alpha: np.ndarray, previous: np.ndarray, prompts: Prompts) -> np.ndarray:
        """A correction ``alpha`` of ``previous`` (both (H, W) float32 in [0, 1]) held to what its clicks
        say: where the nearest click is positive the matte only grows, where it is negative it only
        shrinks; returns ``alpha``, changed in place ((H, W) float32 in [0, 1]).

        A positive click says there is more object there, never that the matte's object is not; re-cut
        near it, the colours still took away object the matte had (on COCO-MVal a second positive click
        took 319 object pixels of an aeroplane's 2,122 and a third 2,917 of a doughnut's 44,007), and
        likewise a negative click's cut added. Every click in the history keeps its say around it, so
        a negative click's removal is not undone by a later positive click elsewhere."""
        if not len(prompts.negative):
            return np.maximum(alpha, previous, out=alpha)
        if not len(prompts.positive):
            return np.minimum(alpha, previous, out=alpha)
        small = scaled(prompts, self.shape, self.size)
        to_positive, to_negative = (_distance_to(points, self.size) for points in (small.positive, small.negative))
        grows = cv2.resize((to_positive <= to_negative).astype(np.uint8), (self.shape[1], self.shape[0]),
                           interpolation=cv2.INTER_NEAREST) > 0
        np.maximum(alpha, previous, out=alpha, where=grows)
        return np.minimum(alpha, previous, out=alpha, where=~grows)

    def _model_cut(self, prompts: Prompts, previous: np.ndarray | None, unmet: Prompts | None) -> Cut:
        """The model backend's :class:`Cut`: the object at the working size; with a ``previous`` matte to
        correct ((H, W) float32 in [0, 1]) and its ``unmet`` clicks (:func:`_unmet`, at least one), the
        region it may change at full size."""
        base = None if previous is None else self._working(previous)
        if base is not None and not (base >= 0.5).any():
            base = None  # nothing selected yet: the clicks pick anew, as a first click does
        cut = self._cut(scaled(prompts, self.shape, self.size), base,
                        None if base is None else scaled(unmet, self.shape, self.size))
        if previous is None:
            return cut._replace(near=None)
        near = cv2.resize(cut.near.astype(np.uint8), (self.shape[1], self.shape[0]), interpolation=cv2.INTER_NEAREST)
        return cut._replace(near=near > 0)

    def _working(self, matte: np.ndarray) -> np.ndarray:
        """A full-size matte ((H, W) float32 in [0, 1]) at the working size, (h, w) float32 (area-averaged)."""
        return cv2.resize(matte, (self.size[1], self.size[0]), interpolation=cv2.INTER_AREA)

    def _lasso_correction(self, prompts: Prompts, previous: np.ndarray,
                          mode: str) -> Cut:
        """A lasso that corrects ``previous`` ((H, W) float32 in [0, 1]) in "add" or "subtract" mode: the
        :class:`Cut` of what to add or take away, at the working size, with subtract ``drawn``: what goes
        whatever its soft edge says (the lasso deeper than the slack; its own edge is where the user drew it).

        The lasso says the matte is wrong inside it. Outside, the matte is taken as it stands (its
        object and its background are the colour models' samples); inside, every pixel starts as
        the mode says (probable object to add, probable background to subtract) and the graph cut
        re-decides it from those colours and the contrast of its edges, in the lasso's box with
        a margin. Add: the pixels inside found to be object. Subtract: all the matte inside but
        what the cut finds to be object, joined to the matte outside the lasso, within
        :data:`LASSO_SLACK` of the lasso's edge (a lasso drawn loosely over the subject's edge
        leaves the subject whole; deeper in, the lasso means what it says: a part of the subject
        cut through, or a lookalike held whole, goes)."""
        height, width = self.size
        base = self._working(previous)
        region = scaled(prompts, self.shape, self.size).mask
        labels = np.where(base >= 0.5, cv2.GC_FGD, cv2.GC_BGD).astype(np.uint8)
        labels[region] = cv2.GC_PR_FGD if mode == "add" else cv2.GC_PR_BGD
        found = graph_cut(self.small_u8, labels, iterations=self.options.iterations,
                          within=grown(_rect(region), ROI_MARGIN, self.size))
        if mode == "add":
            return Cut(region & found)
        slack = max(1, int(round(LASSO_SLACK * float(np.sqrt(height * width)))))
        inner = cv2.erode(region.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * slack + 1,) * 2)) > 0
        return Cut(region & ~components_touching(found & ~inner, (base >= 0.5) & ~region), drawn=inner)

    def _sam_cut(self, prompts: Prompts, previous: np.ndarray | None, unmet: Prompts | None) -> Cut:
        """The SAM backend's :class:`Cut`: the object, (H, W) bool; with a ``previous`` matte to correct
        ((H, W) float32 in [0, 1]), the region it may change, (H, W) bool.

        SAM is asked about the clicks and the box; a lasso without a box gives its bounding box,
        and the object is cut to the lasso; a correction gives the box around the matte and the
        positive clicks, and may change the matte near the clicks (``reach``) and over the part
        SAM adds at a positive click the matte missed; only around the ``unmet`` clicks (:func:`_unmet`)."""
        labels = np.r_[np.ones(len(prompts.positive)), np.zeros(len(prompts.negative))]
        box = prompts.box
        if box is None and prompts.mask is not None:
            box = _bounds(prompts.mask)
        if previous is not None and (previous >= 0.5).any():
            held = previous >= 0.5
            for x, y in prompts.positive:
                held[int(y), int(x)] = True
            box = _bounds(held)
        found = self._sam.decode(prompts.clicks, labels, box) > 0
        if prompts.mask is not None:
            found &= prompts.mask
        if previous is None:
            return Cut(found)
        near = disks(unmet.clicks, self.shape, self.options.reach * float(np.sqrt(self.shape[0] * self.shape[1])))
        for x, y in unmet.positive:  # outside the matte: the part SAM adds there
            seed = np.zeros(self.shape, bool)
            seed[int(y), int(x)] = True
            added = components_touching(found & (previous < 0.5), seed)
            near |= cv2.dilate(added.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        return Cut(found, near)

    def _cut(self, prompts: Prompts, base: np.ndarray | None, unmet: Prompts | None = None) -> Cut:
        """The :class:`Cut` at the working size, ``near`` always given (everywhere but for a correction).
        ``unmet``: with ``base``, the clicks the matte does not yet agree with (:func:`_unmet`, at least one, at
        the working size): only they flip, bring parts and free the pixels around them; every click stays a
        sure label."""
        o = self.options
        scale = float(np.sqrt(self.size[0] * self.size[1]))
        positive = disks(prompts.positive, self.size, o.click_radius * scale)
        negative = disks(prompts.negative, self.size, o.click_radius * scale)
        everywhere = np.ones(self.size, bool)
        if prompts.mask is not None or prompts.box is not None:
            if prompts.mask is not None:
                region = prompts.mask
                ys, xs = np.nonzero(region)
                rect = self._crop_around(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1, o.box_margin)
            else:
                x0, y0, x1, y1 = prompts.box
                region = np.zeros(self.size, bool)
                region[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))] = True
                rect = self._crop_around(x0, y0, x1, y1, o.box_margin)
            seen = np.where(region, self._model_on(rect), 0.0).astype(np.float32)
            prior = seen
            if not _fills(prior >= 0.5, region):  # the model sees something else there: the region is the guess
                prior = np.where(region, np.maximum(prior, 0.5), 0.0).astype(np.float32)
            free = disks(prompts.clicks, self.size, o.reach * scale)  # where clicks say the model is wrong
            labels = seed_labels(prior, free=free, sure_object=positive, sure_background=~region | negative)
            # the whole frame: the background's colour model needs more than the box's margin
            found = graph_cut(self.small_u8, labels, iterations=o.iterations) & region
            picked = components_touching(found, positive) if positive.any() else largest_component(found)
            if prompts.mask is None and not len(prompts.clicks):
                return self._fit_box(picked, seen, region)._replace(near=everywhere)
            return Cut(picked, everywhere)
        if base is not None:
            walked = self._walk(unmet, base, positive, negative)
            if walked is not None:
                return walked
        if base is None:
            prior = self._prior_at(*prompts.positive[0]) if len(prompts.positive) else np.zeros(self.size, np.float32)
        else:
            prior = base
        # A correction re-decides everything near the clicks; a first pick trusts the model's view
        # of the clicked object but close to the clicks.
        seen = base is not None or (prior >= 0.5).any()
        reach = o.reach * scale * (1.0 if base is not None or not seen else 1 / 3)
        if base is not None:  # a correction stays at the scale of the object it corrects (never an empty matte)
            reach = min(reach, max(3 * o.click_radius * scale, OBJECT_REACH * float(np.sqrt((base >= 0.5).sum()))))
        near = disks(prompts.clicks if base is None else unmet.clicks, self.size, reach)
        if not seen:  # nothing seen: the clicks' surroundings are the guess
            prior = np.where(disks(prompts.positive, self.size, o.reach * scale / 2), 0.5, 0.0).astype(np.float32)
        if base is not None:  # a click on a missed part brings the part the model sees there
            for part in self._added_parts(unmet.positive, base >= 0.5):
                prior = np.maximum(prior, part)
                near |= cv2.dilate((part >= 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        labels = seed_labels(prior, free=near, sure_object=positive, sure_background=negative)
        # the cut where it can change anything (a correction: near the clicks), with a margin of context
        within = undecided_bounds(labels, ROI_MARGIN) if base is None else grown(_rect(near), ROI_MARGIN, self.size)
        found = graph_cut(self.small_u8, labels, iterations=o.iterations, within=within)
        if base is None:
            return Cut(components_touching(found, positive), everywhere)
        kept = (base >= 0.5) & ~near  # the matte away from the clicks stays as it was
        return Cut(components_touching(found, positive | kept) | (found & kept), near)

    def _fit_box(self, found: np.ndarray, seen: np.ndarray, region: np.ndarray) -> Cut:
        """The object a box alone picks, held to the box: a box is drawn around its object, so the object
        reaches the box's four sides (the tightness prior of Lempitsky et al. 2009). ``found`` is the cut
        from the model's view, ``seen`` that view ((h, w) float32 in [0, 1], 0 outside the box) and
        ``region`` the box, (h, w) bool; returns the :class:`Cut` of the object (without ``near``).

        When the bounds of ``found`` fit the box (shrunk by :data:`BOX_SLACK` a side) less than :data:`BOX_FIT`
        (bounding-box IoU), other readings of the box compete: the model's faint response (its largest
        part above each of :data:`BOX_FAINT`) and GrabCut from the box as the classical tool starts it,
        alone and with the model's sure pixels held. The one whose bounds fit best wins if it fits
        :data:`BOX_GAIN` better than ``found`` (GrabCut's, :data:`BOX_COLOUR_GAIN` more): the model that sees
        only the head of a teddy bear filling the box, or a fork's handle and not its tines. In a small box
        it must also fit better by a pixel's share of the box's sides: the bounds of a few pixels fit it no
        better than to a pixel. Nothing found that fits the box better than :data:`BOX_LOST`: the box itself,
        as drawn (a wine glass the model does not see, a traffic light of a few pixels)."""
        x0, y0, x1, y1 = _rect(region)
        slack_x, slack_y = BOX_SLACK * (x1 - x0), BOX_SLACK * (y1 - y0)
        target = (x0 + slack_x, y0 + slack_y, x1 - slack_x, y1 - slack_y)
        fit = _fit(found, target)
        if fit < BOX_FIT:
            gain = BOX_GAIN + 1 / (x1 - x0) + 1 / (y1 - y0)  # and a pixel's share of a small box
            readings = [(largest_component(seen >= threshold), gain) for threshold in BOX_FAINT]
            labels = np.where(region, cv2.GC_PR_FGD, cv2.GC_BGD).astype(np.uint8)
            for _ in range(2):  # GrabCut as the classical tool starts it, then with the model's sure pixels held
                cut = graph_cut(self.small_u8, labels, iterations=self.options.iterations) & region
                readings.append((largest_component(cut), gain + BOX_COLOUR_GAIN))
                labels[seen >= SURE] = cv2.GC_FGD
            best = fit
            for reading, needed in readings:
                reading_fit = _fit(reading, target)
                if reading_fit > max(best, fit + needed):
                    found, best = reading, reading_fit
            fit = best
        return Cut(found) if fit >= BOX_LOST else Cut(region, drawn=region)

    def _walk(self, prompts: Prompts, base: np.ndarray, positive: np.ndarray,
              negative: np.ndarray) -> Cut | None:
        """A correction of ``base`` ((h, w) float32 in [0, 1], the matte at the working size) by the random
        walker, when a click sits at least :data:`WALK_DEPTH` deep in a region the matte has wrong:
        its :class:`Cut` (the object, and the box walked as ``near``); None when every click is nearer the matte's edge (the
        graph cut's work). ``prompts``: the clicks the matte does not yet agree with (:func:`_unmet`);
        ``positive`` and ``negative`` are the sure discs of every click.

        The walker's prior is the matte, with the model's part at a positive click in a hole (its pixels
        the model is sure of held as object; a part somewhat larger than the object, such as a hand holding
        it, is taken too and left to the next negative click, which the walker carries over it; one more than
        :data:`PART_CAP` times the object is not: :meth:`_added_parts`) and, around each other wrong click, a disc of
        :data:`WALK_FLIP` of its depth taken as the click says; it pulls with :data:`WALK_PULL` times the prior's certainty.
        The walk runs in the box of :data:`WALK_SPAN` depths around the wrong clicks (and the parts),
        its edge held at the matte, on at most :data:`WALK_PIXELS` pixels."""
        height, width = self.size
        scale = float(np.sqrt(height * width))
        held = base >= 0.5
        prior = base.copy()
        sure = np.zeros(self.size, bool)  # the model's confident pixels of a part it adds
        boxes: list[Rect] = []
        flips: list[tuple[float, float, float, bool]] = []
        depths: dict[bool, np.ndarray] = {}  # per sign: each pixel's distance to where the matte says it
        for (x, y), says_object in [*((point, True) for point in prompts.positive),
                                    *((point, False) for point in prompts.negative)]:
            if held[int(y), int(x)] == says_object:
                continue
            agrees = held if says_object else ~held  # where the matte already says what the click says
            if not agrees.any():
                continue  # a full matte gives a negative click no depth: the graph cut's work
            if says_object not in depths:
                depths[says_object] = cv2.distanceTransform((~agrees).astype(np.uint8), cv2.DIST_L2, 5)
            flips.append((x, y, float(depths[says_object][int(y), int(x)]), says_object))
        if not flips or max(depth for _, _, depth, _ in flips) < WALK_DEPTH * scale:
            return None
        for part in self._added_parts(prompts.positive, held):  # a click in a hole brings the model's part there
            prior = np.maximum(prior, part)
            sure |= part >= SURE
            boxes.append(_rect(part >= 0.5))
        click_radius = self.options.click_radius * scale
        for x, y, depth, says_object in flips:
            if says_object and prior[int(y), int(x)] >= 0.5:
                continue  # the model's part is the prior there: the click's distance to the matte says nothing of its size
            disc = disks(np.array([[x, y]]), self.size, WALK_FLIP * depth)
            prior[disc] = 1.0 if says_object else 0.0
            span = max(WALK_SPAN * depth, 4 * click_radius)
            boxes.append((max(0, int(x - span)), max(0, int(y - span)), min(width, int(x + span) + 1),
                          min(height, int(y + span) + 1)))
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        crop = (slice(y0, y1), slice(x0, x1))
        edge = np.zeros((y1 - y0, x1 - x0), bool)  # the box's sides inside the image hold the matte
        edge[0, :], edge[-1, :], edge[:, 0], edge[:, -1] = y0 > 0, y1 < height, x0 > 0, x1 < width
        sure_object = positive[crop] | sure[crop] | (edge & held[crop])
        sure_background = (negative[crop] | (edge & ~held[crop])) & ~sure_object
        image, guess = self.small[crop], prior[crop]
        size = working_size(guess.shape, WALK_PIXELS)  # a large box is walked on a coarser grid
        if size != guess.shape:
            image, guess = resize_image(image, size), resize_image(guess, size)
            sure_object = cv2.resize(sure_object.astype(np.uint8), size[::-1], interpolation=cv2.INTER_NEAREST) > 0
            sure_background = (cv2.resize(sure_background.astype(np.uint8), size[::-1],
                                          interpolation=cv2.INTER_NEAREST) > 0) & ~sure_object
        chance = resize_image(random_walk(image, guess, WALK_PULL * np.abs(2 * guess - 1), sure_object,
                                          sure_background), (y1 - y0, x1 - x0))
        found = held.copy()
        found[crop] = chance >= 0.5
        found = (found | positive) & ~negative
        changed = np.zeros(self.size, bool)
        changed[crop] = True
        return Cut(found, changed)

    def _soft(self, cut: Cut) -> np.ndarray:
        """(H, W) float32 in [0, 1]: the object ``cut.found`` as a soft matte at full size; its ``drawn`` part
        keeps the edge the user drew (a result that is all drawn is not refined: it has no edge of its own)."""
        height, width = self.shape
        found, drawn = cut.found, cut.drawn
        if drawn is not None:
            drawn = cv2.resize(drawn.astype(np.float32), (width, height), interpolation=cv2.INTER_NEAREST)
            if not (found & ~cut.drawn).any():
                return drawn
        if self.options.refine == "none" or not found.any() or found.all():
            alpha = np.clip(cv2.resize(found.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR), 0, 1)
        else:  # the band drawn from the cut at its own size: no full-size rough mask in between
            alpha = refine_mask(self.image_float, found.astype(np.float32), mode=self.options.refine,
                                image_small=self._solver_image())[0]
        return alpha if drawn is None else np.maximum(alpha, drawn)

    def _solver_image(self) -> np.ndarray:
        """The image at the edge solver's working size for this refine mode
        (:func:`core.subject.selection.solver_size`), made once per size and kept with the crops (shared
        by an engine's per-request copies, as they are): every prediction's soft edge is solved there."""
        size = solver_size(self.shape, self.options.refine)
        if size not in self._solver_images:
            self._solver_images[size] = resize_image(self.image_float, size)
        return self._solver_images[size]


def _unmet(prompts: Prompts, matte: np.ndarray) -> Prompts:
    """The clicks of ``prompts`` the ``matte`` ((H, W) float32 in [0, 1], full size) does not yet agree with
    (a positive click below 0.5, a negative one at or above), as :class:`Prompts` of clicks alone: where a
    correction re-decides. A click the matte already agrees with was made earlier and taken then;
    re-deciding around it again with every later click let the colours undo it (on COCO-MVal a 14th
    click took 0.79 IoU to 0.40, all of it around the earlier clicks). Read at full size, where the
    user clicked: a thin missed strand is still missed though the working size blurs it away."""
    def wrong(points: np.ndarray, says_object: bool) -> np.ndarray:
        return points[np.array([(matte[int(y), int(x)] >= 0.5) != says_object for x, y in points], bool).reshape(-1)]
    return Prompts(wrong(prompts.positive, True), wrong(prompts.negative, False), None, None)


def _distance_to(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) float32: each pixel's distance to the nearest of ``points`` ((n, 2) x, y, n ≥ 1) in a grid of ``size``."""
    away = np.ones(size, np.uint8)
    for x, y in points:
        away[min(size[0] - 1, max(0, int(y))), min(size[1] - 1, max(0, int(x)))] = 0
    return cv2.distanceTransform(away, cv2.DIST_L2, 5)


def _rect(region: np.ndarray) -> tuple[int, int, int, int]:
    """The integer box (x0, y0, x1, y1) around ``region`` ((h, w) bool, not empty)."""
    x0, y0, x1, y1 = _bounds(region)
    return int(x0), int(y0), int(x1), int(y1)


def _bounds(region: np.ndarray) -> tuple[float, float, float, float]:
    """The box (x0, y0, x1, y1) around ``region`` ((h, w) bool, not empty), pixel corners."""
    ys, xs = np.nonzero(region)
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def _fit(found: np.ndarray, target: tuple[float, float, float, float]) -> float:
    """How well the bounds of ``found`` ((h, w) bool) fit the box ``target`` (x0, y0, x1, y1): their IoU, 0 when
    nothing is found."""
    if not found.any():
        return 0.0
    x0, y0, x1, y1 = _bounds(found)
    width = max(0.0, min(x1, target[2]) - max(x0, target[0]))
    height = max(0.0, min(y1, target[3]) - max(y0, target[1]))
    union = (x1 - x0) * (y1 - y0) + (target[2] - target[0]) * (target[3] - target[1]) - width * height
    return width * height / union if union > 0 else 0.0


def _fills(seen: np.ndarray, region: np.ndarray, *, span: float = 0.6) -> bool:
    """Whether what the model ``seen`` in ``region`` (both (h, w) bool) could be the object the user
    framed: it spans at least ``span`` of the region's width and height (a box is drawn around
    the object, so the object reaches across it)."""
    if not seen.any():
        return False
    ys, xs = np.nonzero(seen)
    rys, rxs = np.nonzero(region)
    return (xs.max() - xs.min() + 1 >= span * (rxs.max() - rxs.min() + 1)
            and ys.max() - ys.min() + 1 >= span * (rys.max() - rys.min() + 1))


def _runs_into_edge(part: np.ndarray, rect: Rect, size: tuple[int, int]) -> bool:
    """Whether ``part`` ((h, w) bool) touches an edge of crop ``rect`` that is not the image's edge
    (so the thing it shows goes on beyond what the model saw)."""
    x0, y0, x1, y1 = rect
    height, width = size
    return bool((x0 > 0 and part[y0:y1, x0].any()) or (x1 < width and part[y0:y1, x1 - 1].any())
                or (y0 > 0 and part[y0, x0:x1].any()) or (y1 < height and part[y1 - 1, x0:x1].any()))
