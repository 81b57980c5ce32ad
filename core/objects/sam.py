"""Segment Anything (SAM) from rembg's model folder, run as rembg's own ``sam`` session runs it.

rembg keeps SAM as two ONNX files in its folder (``$U2NET_HOME``, else ``$XDG_DATA_HOME/.u2net``,
else ``~/.u2net``, see :func:`core.models.store.rembg_dir`): ``NAME.encoder.onnx`` and
``NAME.decoder.onnx`` (``NAME.encoder.quant.onnx`` and ``NAME.decoder.quant.onnx`` for the
quantised pair, called ``NAME.quant`` here), NAME e.g. ``sam_vit_b_01ec64``. Softcut never
fetches them; :func:`installed_sam` says which a user has.

The encoding is rembg's (``rembg/sessions/sam.py``), number for number:

- the image, RGB uint8, is mapped by one scale ``s = min(1024 / W, 684 / H)`` onto a 684×1024
  (height × width) frame with ``cv2.warpAffine`` (bilinear, black where the image does not
  reach: right or bottom), and given to the encoder as float32 HWC pixels 0–255 (the graph
  normalises and pads); the encoder's first output is the embedding;
- the decoder gets ``image_embeddings``; ``point_coords`` (1, N + 1, 2): the clicks, then a box's
  corners, then the padding point (0, 0), all times ``s``; ``point_labels`` (1, N + 1): 1 on the
  object, 0 not, 2 and 3 for the box's top-left and bottom-right corners, −1 for the padding
  point; ``mask_input`` (1, 1, 256, 256) zeros; ``has_mask_input`` (1,) zero; ``orig_im_size``
  (684, 1024);
- each mask it returns (1, M, 684, 1024, logits) goes back to the image by ``warpAffine`` with
  the inverse scale (bilinear); a pixel is inside where any of the M masks is > 0.

Pixel coordinates are passed as they come, as rembg passes them (SAM's decoder takes a point
at x as the centre of frame pixel x, so a click at the corner convention of
:mod:`core.objects.prompts` lands half a frame pixel to the right and below: far below the
decoder's 16-pixel patch).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.errors import ModelError, ParameterError
from core.models.session import device_and_warning, load_onnx
from core.models.store import rembg_dir
from core.providers import DeviceChoice, choose_providers

log = logging.getLogger(__name__)

DEFAULT_SAM = "sam_vit_b_01ec64"
"""rembg's default SAM (``sam_model``), ViT-B."""

FRAME = (684, 1024)
"""(height, width) of the frame the encoder sees and the decoder's masks fill, as rembg's ``input_size``."""

DECODER_INPUTS = ("image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input", "orig_im_size")

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class SamFiles:
    """One SAM in rembg's folder: its name (``NAME`` or ``NAME.quant``) and its two files."""

    name: str
    encoder: Path
    decoder: Path


def check_sam_name(name: str) -> str:
    """``name`` if it can name SAM files (a plain file stem: letters, digits, ``_ . -``); else ParameterError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith("."):
        raise ParameterError(f"sam: expected a SAM model name such as {DEFAULT_SAM!r}; got {name!r}")
    return name


def sam_files(name: str, folder: Path | None = None) -> SamFiles:
    """Where SAM ``name``'s files are (or would be) in ``folder`` (default rembg's folder).

    ``NAME`` → ``NAME.encoder.onnx``, ``NAME.decoder.onnx``; ``NAME.quant`` →
    ``NAME.encoder.quant.onnx``, ``NAME.decoder.quant.onnx`` (rembg's ``sam_quant``)."""
    folder = rembg_dir() if folder is None else folder
    base, quant = (name[: -len(".quant")], ".quant") if check_sam_name(name).endswith(".quant") else (name, "")
    return SamFiles(name, folder / f"{base}.encoder{quant}.onnx", folder / f"{base}.decoder{quant}.onnx")


def installed_sam(folder: Path | None = None) -> list[str]:
    """The SAM models whose encoder and decoder both lie in ``folder`` (default rembg's folder),
    sorted: names beginning ``sam`` as rembg names them, ``.quant`` for the quantised pairs."""
    folder = rembg_dir() if folder is None else folder
    if not folder.is_dir():
        return []
    names = []
    for encoder in folder.glob("sam*.encoder*.onnx"):
        stem, _, rest = encoder.name.partition(".encoder")
        name = {".onnx": stem, ".quant.onnx": f"{stem}.quant"}.get(rest)
        if name is not None and _NAME.fullmatch(stem) and sam_files(name, folder).decoder.is_file():
            names.append(name)
    return sorted(names)


def find_sam(name: str = DEFAULT_SAM) -> SamFiles:
    """SAM ``name``'s files in rembg's folder; ParameterError naming where they were looked for."""
    files = sam_files(name)
    if files.encoder.is_file() and files.decoder.is_file():
        return files
    have = installed_sam()
    raise ParameterError(
        f"sam: no SAM model {name!r} in rembg's folder {files.encoder.parent} (looked for "
        f"{files.encoder.name} and {files.decoder.name}; set U2NET_HOME to use another folder); "
        f"SAM models there: {', '.join(have) if have else 'none'}. Softcut does not fetch SAM: "
        "rembg downloads these files the first time its 'sam' model runs")


def letterbox(image: np.ndarray) -> tuple[np.ndarray, float]:
    """rembg's encoder input for ``image`` ((H, W, 3) uint8 RGB): ((684, 1024, 3) float32 in
    [0, 255] RGB, the image scaled by ``s`` at the top-left, black elsewhere; ``s``)."""
    height, width = image.shape[:2]
    scale = min(FRAME[1] / width, FRAME[0] / height)
    frame = cv2.warpAffine(image, _matrix(scale)[:2], (FRAME[1], FRAME[0]), flags=cv2.INTER_LINEAR)
    return frame.astype(np.float32), scale


def _matrix(scale: float) -> np.ndarray:
    """(3, 3) float64: the image → frame map (one scale, no shift), as rembg's ``transform_matrix``."""
    return np.array([[scale, 0, 0], [0, scale, 0], [0, 0, 1]], np.float64)


class SamModel:
    """A loaded SAM: rembg's encoder and decoder files on ``choice``'s providers.

    :meth:`prepare` runs the encoder on an image (the expensive step) and returns a
    :class:`SamImage`, whose ``decode`` is cheap. ``encoder_runs`` counts the encoder's runs.
    """

    def __init__(self, files: SamFiles, choice: DeviceChoice, *, threads: int = 0) -> None:
        self.files = files
        self._encoder = load_onnx(files.encoder, choice, threads=threads)
        self._decoder = load_onnx(files.decoder, choice, threads=threads)
        self.device, self.warning = device_and_warning(self._encoder, choice)
        self._encoder_input = self._encoder.get_inputs()[0].name  # rembg takes the first input, whatever its name
        names = [i.name for i in self._decoder.get_inputs()]
        if sorted(names) != sorted(DECODER_INPUTS):
            raise ModelError(f"{files.decoder}: expected SAM decoder inputs {', '.join(DECODER_INPUTS)}; "
                             f"found {', '.join(names)}")
        self._masks_output = self._decoder.get_outputs()[0].name  # masks, as rembg takes output 0
        self.encoder_runs = 0

    @property
    def name(self) -> str:
        return self.files.name

    def prepare(self, image: np.ndarray) -> SamImage:
        """Run the encoder on ``image`` ((H, W, 3) uint8 RGB): its :class:`SamImage`."""
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ParameterError(f"image: expected (H, W, 3) uint8 RGB; got {image.dtype} {image.shape}")
        frame, scale = letterbox(image)
        try:
            embedding = self._encoder.run(None, {self._encoder_input: frame})[0]
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{self.files.encoder}: the SAM encoder failed ({exc})") from exc
        self.encoder_runs += 1
        return SamImage(self, np.asarray(embedding, np.float32), image.shape[:2], scale)

    def _masks(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """The decoder's masks for ``inputs``: (M, 684, 1024) float32 logits."""
        try:
            (masks,) = self._decoder.run([self._masks_output], inputs)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"{self.files.decoder}: the SAM decoder failed ({exc})") from exc
        masks = np.asarray(masks, np.float32)
        if masks.ndim != 4 or masks.shape[0] != 1 or masks.shape[2:] != FRAME:
            raise ModelError(f"{self.files.decoder}: expected masks (1, M, {FRAME[0]}, {FRAME[1]}); got {masks.shape}")
        return masks[0]


class SamImage:
    """One image encoded by a :class:`SamModel`: ``embedding`` (1, 256, 64, 64) float32 for an
    image of ``shape`` (H, W) mapped onto the frame by ``scale``."""

    def __init__(self, model: SamModel, embedding: np.ndarray, shape: tuple[int, int], scale: float) -> None:
        self.model = model
        self.embedding = embedding
        self.shape = shape
        self.scale = scale

    @property
    def nbytes(self) -> int:
        """Bytes the embedding holds."""
        return int(self.embedding.nbytes)

    def decoder_inputs(self, points: np.ndarray, labels: np.ndarray,
                       box: tuple[float, float, float, float] | None = None) -> dict[str, np.ndarray]:
        """The decoder's inputs for clicks ``points`` ((n, 2) x, y in image pixels) with ``labels``
        ((n,) 1 on the object, 0 not) and ``box`` ((x0, y0, x1, y1) image pixels, or None), as rembg builds them."""
        points = np.asarray(points, np.float64).reshape(-1, 2)
        labels = np.asarray(labels, np.float64).reshape(-1)
        if len(points) != len(labels) or not np.isin(labels, (0, 1)).all():
            raise ParameterError(f"labels: expected one 0 or 1 per point ({len(points)}); got {labels.tolist()}")
        if box is not None:
            x0, y0, x1, y1 = (float(v) for v in box)
            points = np.concatenate([points, [[x0, y0], [x1, y1]]])
            labels = np.concatenate([labels, [2, 3]])
        if not len(points):
            raise ParameterError("no prompt: give points or a box")
        coords = np.concatenate([points, [[0.0, 0.0]]]) * self.scale  # rembg's apply_coords is 1:1 for 684×1024
        return {
            "image_embeddings": self.embedding,
            "point_coords": coords[None].astype(np.float32),
            "point_labels": np.concatenate([labels, [-1]])[None].astype(np.float32),
            "mask_input": np.zeros((1, 1, 256, 256), np.float32),
            "has_mask_input": np.zeros(1, np.float32),
            "orig_im_size": np.array(FRAME, np.float32),
        }

    def decode(self, points: np.ndarray, labels: np.ndarray,
               box: tuple[float, float, float, float] | None = None) -> np.ndarray:
        """SAM's mask for the prompts (see :meth:`decoder_inputs`): (H, W) float32 logits at the
        image's size, > 0 inside (the largest of the decoder's M masks at each pixel)."""
        masks = self.model._masks(self.decoder_inputs(points, labels, box))
        inverse = np.linalg.inv(_matrix(self.scale))[:2]
        height, width = self.shape
        out = cv2.warpAffine(masks[0], inverse, (width, height), flags=cv2.INTER_LINEAR)
        for mask in masks[1:]:  # one full-size mask at a time: SAM may give four
            np.maximum(out, cv2.warpAffine(mask, inverse, (width, height), flags=cv2.INTER_LINEAR), out=out)
        return out


def open_sam(name: str = DEFAULT_SAM, *, device: str = "auto", threads: int = 0) -> SamModel:
    """SAM ``name`` from rembg's folder, loaded on ``device`` (see :func:`core.providers.choose_providers`)."""
    choice = choose_providers(device)
    return SamModel(find_sam(name), choice, threads=threads)
