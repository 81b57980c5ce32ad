"""``softcut object``: Object Selection on a still image: a box, clicks or a rough mask pick an
object, or correct an earlier alpha (``--previous``); with ``--backend sam``, through rembg's
Segment Anything files."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from core import composite
from core.errors import ParameterError
from core.imageio import float_to_uint8, load_grey, load_image, save_format, save_image
from softcut_app.commands.common import add_common, open_session
from softcut_app.commands.outputs import WHITE, single_output
from softcut_app.console import Console

DEFAULT_SAM = "sam_vit_b_01ec64"
"""``--sam``'s default: core.objects.sam.DEFAULT_SAM (tests/test_cli_help.py checks), written here so that
building the parser does not import core.objects (1.5 s of imports before a bad file could be refused)."""


def parse_box(text: str) -> tuple[float, float, float, float]:
    """``x0,y0,x1,y1`` (pixels) → a box."""
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected x0,y0,x1,y1 in pixels; got {text!r}") from None
    return x0, y0, x1, y1


def parse_point(text: str) -> tuple[float, float, bool]:
    """``x,y,+`` (a click on the object) or ``x,y,-`` (a click on what is not) → a click."""
    parts = text.split(",")
    try:
        if len(parts) != 3 or parts[2] not in ("+", "-"):
            raise ValueError
        return float(parts[0]), float(parts[1]), parts[2] == "+"
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected x,y,+ or x,y,- (pixels); got {text!r}") from None


def _grey(path: str, image: np.ndarray, what: str, max_pixels: int) -> np.ndarray:
    grey = load_grey(path, max_pixels=max_pixels)
    if grey.shape != image.shape[:2]:
        raise ParameterError(f"{what} {path}: {grey.shape[1]}×{grey.shape[0]}, but the image is "
                             f"{image.shape[1]}×{image.shape[0]}")
    return grey.astype(np.float32) / 255.0


def cmd_object(args: argparse.Namespace, console: Console) -> int:
    from core.foreground.blur_fusion import decontaminate
    from core.objects import ObjectOptions, ObjectSelector
    from core.objects.sam import open_sam

    output = single_output(args.output, args.image)  # checked (suffix, folder) before any work
    image = load_image(args.image, max_pixels=args.max_pixels)
    mask = _grey(args.mask, image, "--mask", args.max_pixels) if args.mask else None
    previous = _grey(args.previous, image, "--previous", args.max_pixels) if args.previous else None
    options = ObjectOptions(refine=args.refine, backend=args.backend, sam=args.sam)
    sam = predict = None
    if args.backend == "sam":
        session = sam = open_sam(args.sam, device=args.device)
        if sam.warning:
            console.warn(sam.warning)
    else:
        session = open_session(args, console)
        predict = session.predict
    start = time.perf_counter()
    selector = ObjectSelector(float_to_uint8(image), options, predict=predict, sam=sam)
    prepared = time.perf_counter()
    alpha = selector.predict(points=args.point or (), box=args.box, mask=mask, mode=args.mode, previous=previous)
    predicted = time.perf_counter()
    foreground = decontaminate(image, alpha)
    if save_format(output) == "jpeg":
        console.info("JPEG has no transparency: the object is flattened on white (write .png, .webp or .tif to keep it)")
        save_image(output, composite.over_colour(foreground, alpha, WHITE))
    else:
        save_image(output, composite.cutout_rgba(foreground, alpha))
    if args.alpha_out:
        save_image(single_output(args.alpha_out, args.image, ".alpha.png"), float_to_uint8(alpha))
    console.result(
        {"input": str(args.image), "output": str(output), **({"alpha": args.alpha_out} if args.alpha_out else {}),
         "width": image.shape[1], "height": image.shape[0], "device": session.device,
         "backend": args.backend, "model": session.name, "model_runs": selector.model_runs,
         "timings": {"prepare": round(prepared - start, 4), "predict": round(predicted - prepared, 4)}},
        f"{args.image} -> {output}",
    )
    return 0


def add_object(sub: argparse._SubParsersAction) -> None:
    """``softcut object``: pick or correct an object with a box, clicks or a rough mask."""
    p = sub.add_parser("object", help="select an object with a box, clicks or a rough mask",
                       description="Object Selection: a box, clicks or a rough mask pick an object; with --previous "
                                   "(an alpha PNG, e.g. from `softcut cut --alpha-out`) they correct it.")
    p.add_argument("image", help="the photo (PNG, JPEG, WebP, TIFF)")
    p.add_argument("-o", "--output", required=True,
                   help="the object cut out: .png, .webp, .tif (with alpha) or .jpg (flattened on white); an "
                        "existing folder or a name ending in / takes IMAGE's name")
    p.add_argument("--box", type=parse_box, metavar="X0,Y0,X1,Y1", help="a box around the object (pixels)")
    p.add_argument("--point", type=parse_point, action="append", metavar="X,Y,+|-",
                   help="a click: + on the object, - on what is not (repeat for more)")
    p.add_argument("--mask", metavar="M.png", help="a rough region (grey PNG), taken with --mode")
    p.add_argument("--mode", default="new", choices=("new", "add", "subtract", "intersect"),
                   help="how the result meets --previous (default new: with clicks, a correction of it)")
    p.add_argument("--previous", metavar="ALPHA.png", help="the alpha to correct (grey PNG)")
    p.add_argument("--alpha-out", metavar="A.png", help="also write the alpha as 8-bit grey PNG")
    p.add_argument("--refine", default="fast", choices=("none", "fast", "best"), help="the soft edge (default fast)")
    p.add_argument("--backend", default="model", choices=("model", "sam"),
                   help="model: the mask model (--model) and a colour graph cut; sam: Segment Anything from rembg's "
                        "folder ($U2NET_HOME, else ~/.u2net), where rembg put it (default model)")
    p.add_argument("--sam", default=DEFAULT_SAM, metavar="NAME",
                   help="with --backend sam: NAME.encoder.onnx and NAME.decoder.onnx in rembg's folder; NAME.quant for "
                        "the .quant pair (default %(default)s)")
    add_common(p)
    p.set_defaults(func=cmd_object)
