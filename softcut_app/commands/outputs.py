"""Where a batch command's results go and in which format: ``-o`` (and ``--alpha-out``,
``--trimap-out``) name a file, a folder (several inputs, a folder input, ``--watch``, an existing
folder or a trailing slash) or ``-`` (standard output, PNG). A file's suffix picks its format:
PNG, WebP and TIFF keep alpha; JPEG is flattened on ``--bg-color`` (white by default), said once.
Files are written beside their destination and renamed into place."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from core import composite
from core.errors import ParameterError
from core.imageio import encode_image, float_to_uint8, save_format, save_image
from softcut_app.commands.inputs import STDIN, Input
from softcut_app.console import Console

WHITE = (1.0, 1.0, 1.0)
"""What a JPEG cut-out is flattened on when no ``--bg-color`` is given."""


class Destination:
    """One of ``-o``, ``--alpha-out``, ``--trimap-out``: a file, a folder or standard output.

    ``flag``: its name in messages; ``suffix``: what a file in an output folder is named with
    after its input's stem (".png", ".alpha.png")."""

    def __init__(self, spec: str, flag: str, suffix: str, *, many: bool) -> None:
        self.spec, self.flag, self.suffix = spec, flag, suffix
        self.stdout = spec == STDIN
        self.folder = not self.stdout and (many or spec.endswith(("/", os.sep)) or Path(spec).is_dir())
        if self.folder and Path(spec).exists() and not Path(spec).is_dir():
            raise ParameterError(f"{flag} {spec}: a file of that name exists; several outputs need a folder")
        if self.stdout and many:
            raise ParameterError(f"{flag} -: standard output holds one image; give one input, or a folder as {flag}")
        if not self.stdout and not self.folder:
            save_format(spec)  # an unknown suffix is refused before any work

    def path_for(self, item: Input) -> Path | None:
        """Where ``item``'s output goes (None: standard output); folders are created."""
        if self.stdout:
            return None
        if self.folder:
            relative = item.relative
            target = Path(self.spec) / relative.with_name(relative.stem + self.suffix)
        else:
            target = Path(self.spec)
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def format(self, target: Path | None) -> str:
        return "png" if target is None else save_format(target)

    def write(self, target: Path | None, pixels: np.ndarray) -> str:
        """Write ``pixels`` (uint8) to ``target``; returns where, as messages say it."""
        if target is None:
            sys.stdout.buffer.write(encode_image(pixels, "png"))
            sys.stdout.buffer.flush()
            return "<stdout>"
        save_image(target, pixels)
        return str(target)


class Writer:
    """Writes each input's results as ``-o``, ``--alpha-out``, ``--trimap-out``, ``--only-mask`` and
    ``--bg-color`` say (``many``: outputs go into folders)."""

    def __init__(self, args: argparse.Namespace, console: Console, *, many: bool) -> None:
        self.console = console
        self.only_mask = args.only_mask
        self.bg = composite.parse_colour(args.bg_color) if args.bg_color else None
        self.main = Destination(args.output, "-o", ".png", many=many)
        self.alpha = Destination(args.alpha_out, "--alpha-out", ".alpha.png", many=many) if args.alpha_out else None
        self.trimap = Destination(args.trimap_out, "--trimap-out", ".trimap.png", many=many) if args.trimap_out else None
        streams = [d.flag for d in (self.main, self.alpha, self.trimap) if d is not None and d.stdout]
        if len(streams) > 1:
            raise ParameterError(f"{' and '.join(streams)}: only one output can go to standard output")
        if streams:
            console.take_stdout()
        self.flattened_said = False

    @property
    def wants_trimap(self) -> bool:
        return self.trimap is not None

    def write(self, item: Input, alpha: np.ndarray, foreground: np.ndarray | None,
              trimap: np.ndarray | None = None) -> dict[str, str]:
        """Write one input's results: ``alpha`` (H, W) and ``foreground`` (H, W, 3) float32 in [0, 1]
        (None with ``--only-mask``), ``trimap`` (H, W) uint8. Returns {"output": …, "alpha": …,
        "trimap": …} for those written."""
        target = self.main.path_for(item)
        written = {"output": self.main.write(target, self._main_pixels(target, alpha, foreground))}
        if self.alpha is not None:
            written["alpha"] = self.alpha.write(self.alpha.path_for(item), float_to_uint8(alpha))
        if self.trimap is not None and trimap is not None:
            written["trimap"] = self.trimap.write(self.trimap.path_for(item), trimap)
        return written

    def _main_pixels(self, target: Path | None, alpha: np.ndarray, foreground: np.ndarray | None) -> np.ndarray:
        if self.only_mask:
            return float_to_uint8(alpha)
        if self.bg is not None:
            return composite.over_colour(foreground, alpha, self.bg)
        if self.main.format(target) == "jpeg":
            if not self.flattened_said:
                self.flattened_said = True
                self.console.info("JPEG has no transparency: the cut-out is flattened on white (choose the colour "
                                  "with --bg-color, or write .png, .webp or .tif to keep it)")
            return composite.over_colour(foreground, alpha, WHITE)
        return composite.cutout_rgba(foreground, alpha)


def single_output(spec: str, source: str | os.PathLike, suffix: str = ".png") -> Path:
    """The file a one-input command (``refine``, ``trimap``, ``object``) writes for ``-o spec``: ``spec``
    itself, or inside it named after ``source`` (``<stem><suffix>``) when it is an existing folder or
    ends in a slash. Its suffix is checked (and its folder made) before any work."""
    if spec.endswith(("/", os.sep)) or Path(spec).is_dir():
        target = Path(spec) / (Path(source).stem + suffix)
    else:
        target = Path(spec)
    save_format(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def output_folder(spec: str) -> Path:
    """The folder ``-o`` names for a command that writes several files (``layers``), created;
    :class:`ParameterError` when a file of that name is in the way."""
    folder = Path(spec)
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"-o {spec}: a file of that name exists; this command writes a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
