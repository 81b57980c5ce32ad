"""A batch job: ``cut``'s options for every input, the key over what changes the outputs, and
:class:`Cutter`, which holds one model session and turns one input into its files and a manifest record,
exactly as ``softcut cut`` writes them (the same stages, the same :class:`~softcut_app.commands.outputs.Writer`)."""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import cv2

import core
from core.errors import SoftcutError
from core.imageio import decode_image, load_image

FORMATS = {"png": ".png", "webp": ".webp", "tif": ".tif", "jpg": ".jpg"}
"""``--format``: the cut-out's (or ``--only-mask``'s alpha's) file type and suffix in DST."""


@dataclass(frozen=True)
class Job:
    """What every input of a batch gets: the model, cut's matting flags and the outputs (picklable,
    sent to each worker). Built from the command's flags only (:meth:`from_args`), whose defaults are
    the protocol's: no field has a default of its own to drift from them."""

    dst: str
    model: str
    device: str
    refine: str
    band: float
    smooth: float
    feather: float
    contrast: float
    shift_edge: float
    decontaminate: float
    plate: str | None
    bg_color: str | None
    only_mask: bool
    format: str
    alpha_out: str | None
    trimap_out: str | None
    max_pixels: int
    model_id: str  # the model file's sha256 (a registered model's, or a file's own)
    plate_id: str  # the plate file's sha256

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, model_id: str, plate_id: str = "") -> Job:
        return cls(dst=str(args.dst), model=args.model, device=args.device, refine=args.refine, band=args.band,
                   smooth=args.smooth, feather=args.feather, contrast=args.contrast, shift_edge=args.shift_edge,
                   decontaminate=args.decontaminate, plate=args.plate, bg_color=args.bg_color,
                   only_mask=args.only_mask, format=args.format, alpha_out=args.alpha_out,
                   trimap_out=args.trimap_out, max_pixels=args.max_pixels, model_id=model_id, plate_id=plate_id)

    def options(self) -> dict:
        """What changes an input's outputs (the manifest's ``options``): not the device, the limits or where
        the model and plate files lie, only their contents."""
        fields = asdict(self)
        for name in ("dst", "device", "max_pixels", "plate"):
            fields.pop(name)
        if self.model_id:
            fields.pop("model")
        return {**fields, "softcut": core.__version__}

    def key(self) -> str:
        """A short hash of :meth:`options`."""
        return hashlib.sha256(json.dumps(self.options(), sort_keys=True).encode()).hexdigest()[:16]

    def namespace(self) -> argparse.Namespace:
        """The flags ``cut``'s Writer reads (the Cutter then puts URL destinations in place of its folders)."""
        return argparse.Namespace(output=self.dst, alpha_out=self.alpha_out, trimap_out=self.trimap_out,
                                  only_mask=self.only_mask, bg_color=self.bg_color, quiet=True, json=False)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_source(source: str) -> bytes:
    """An input's bytes: a local path, or an fsspec URL (``s3://…``, ``file://…``)."""
    from softcut_app.batchjob.storage import is_url, need_fsspec

    if is_url(source):
        with need_fsspec(source).open(source, "rb") as f:
            return f.read()
    return Path(source).read_bytes()


class Cutter:
    """One model session (``threads``: onnxruntime's CPU threads, 0 = all cores) and the writer; :meth:`run`
    does one input. Opening it loads the model (the model must be fetched already)."""

    def __init__(self, job: Job, *, threads: int = 0) -> None:
        from core.models.session import open_session
        from softcut_app.batchjob.storage import destination
        from softcut_app.commands.common import matte_options
        from softcut_app.commands.outputs import Writer
        from softcut_app.console import Console

        self.job = job
        self.key = job.key()
        if threads:
            cv2.setNumThreads(threads)
        self.session = open_session(job.model, device=job.device, threads=threads, fetch=False)
        self.options = matte_options(argparse.Namespace(**asdict(job)))
        args = job.namespace()
        self.writer = Writer(args, Console(args), many=True)
        self.writer.main = destination(job.dst, "DST", FORMATS[job.format])
        if job.alpha_out:
            self.writer.alpha = destination(job.alpha_out, "--alpha-out", ".alpha.png")
        if job.trimap_out:
            self.writer.trimap = destination(job.trimap_out, "--trimap-out", ".trimap.png")
        self.plate = None
        if job.plate:
            from core.plate.align import prepare_plate

            self.plate = prepare_plate(load_image(job.plate, max_pixels=job.max_pixels))

    def run(self, source: str, relative: str, previous: dict | None = None) -> dict:
        """Cut out ``source`` (a path or URL) into its outputs named after ``relative`` (its path below SRC,
        POSIX), unless ``previous`` (its done record) holds for the same bytes and all its outputs are there.
        Returns the manifest record; an input that cannot be cut out gives a ``failed`` record, never raises."""
        from softcut_app.batchjob.storage import output_exists
        from softcut_app.commands.inputs import Input

        start = time.perf_counter()
        record: dict = {"input": relative, "source": source, "options": self.key}
        try:
            data = read_source(source)
        except (OSError, ValueError) as exc:
            return {**record, "status": "failed", "error": f"{source}: cannot read ({getattr(exc, 'strerror', None) or exc})"}
        record["sha256"] = hashlib.sha256(data).hexdigest()
        if (previous is not None and previous.get("sha256") == record["sha256"]
                and previous.get("options") == self.key and all(map(output_exists, previous.get("outputs", ())))):
            return {**previous, "status": "done", "skipped": True}
        try:
            image = decode_image(data, name=source, max_pixels=self.job.max_pixels)
            del data
            alpha, foreground, trimap = self._matte(image)
            item = Input(None, source, Path(PurePosixPath(relative)))
            written = self.writer.write(item, alpha, foreground, trimap)
        except SoftcutError as exc:
            text = str(exc)
            return {**record, "status": "failed", "error": text if source in text else f"{source}: {text}"}
        except Exception as exc:  # noqa: BLE001 - one bad input must not stop the job; its error is recorded
            return {**record, "status": "failed", "error": f"{source}: {type(exc).__name__}: {exc}"}
        return {**record, "status": "done", "outputs": list(written.values()), "width": int(image.shape[1]),
                "height": int(image.shape[0]), "seconds": round(time.perf_counter() - start, 3)}

    def _matte(self, image):
        """As ``softcut cut``'s back end: (alpha, foreground, trimap at full size or None)."""
        from core.subject.select import select_subject

        if self.plate is None:
            matte = select_subject(image, self.session.predict, self.options)
        else:
            from core.plate.pipeline import plate_matte

            matte = plate_matte(image, self.plate, self.session.predict, self.options)
        trimap = None
        if self.writer.wants_trimap:
            h, w = image.shape[:2]
            trimap = cv2.resize(matte.trimap, (w, h), interpolation=cv2.INTER_NEAREST)
        return matte.alpha, matte.foreground, trimap
