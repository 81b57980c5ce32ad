"""``softcut sample``: a generated sample photo with its true matte, and with ``--cut`` its cut-out
and how good that is (the SAD against the matte it was drawn with)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from core.imageio import float_to_uint8, load_image, save_image
from softcut_app.commands.common import add_common, add_edge_flags, matte_options, open_session
from softcut_app.console import Console
from wire.protocol.constants import REFINE_MODES
from wire.protocol.request_schemas import defaults

SELECT = defaults("select_subject")
"""``--cut`` cuts the sample out as ``softcut cut`` does, with its defaults."""


def cmd_sample(args: argparse.Namespace, console: Console) -> int:
    from core.errors import ParameterError
    from core.imageio import save_format
    from core.sample import furry_subject

    if args.cut and save_format(args.cut) == "jpeg":  # checked before any work
        raise ParameterError(f"--cut {args.cut}: a cut-out keeps its transparency; name it .png, .webp or .tif")
    image, alpha = furry_subject()
    save_image(Path(args.output), float_to_uint8(image))
    if args.alpha_out:
        save_image(Path(args.alpha_out), float_to_uint8(alpha))
    if not args.cut:
        console.result({"output": str(args.output)}, f"sample photo written to {args.output}")
        return 0
    console.info(f"sample photo written to {args.output}")
    return _cut_sample(args, console, load_image(Path(args.output)), alpha)  # the file, as `cut` would read it


def _cut_sample(args: argparse.Namespace, console: Console, image: np.ndarray, truth: np.ndarray) -> int:
    """Cut the sample out as ``softcut cut`` would (``image``: the photo as read back from its file), write
    the cut-out to ``--cut`` and say its SAD against the matte the sample was drawn with."""
    from core.composite import cutout_rgba
    from core.eval.metrics import sad
    from core.subject.select import select_subject

    options = matte_options(args)
    session = open_session(args, console)
    bar = console.progress(Path(args.output).name)
    start = time.perf_counter()
    try:
        matte = select_subject(image, session.predict, options, progress=bar)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    rgba = cutout_rgba(matte.foreground, matte.alpha)
    save_image(Path(args.cut), rgba)
    written = rgba[:, :, 3].astype(np.float32) / 255.0  # scored as written: 8-bit alpha
    score = sad(written, truth, np.ones(truth.shape, bool))
    console.result(
        {"output": str(args.output), "cutout": str(args.cut), "model": session.name, "refine": options.refine,
         "device": session.device, "seconds": round(seconds, 3), "sad": round(score, 2)},
        f"{args.cut}: the sample cut out by {session.name} (refine {options.refine}, {seconds:.1f} s on the "
        f"{session.device}); SAD {score:.1f} against the sample's known matte (the sum of |alpha - truth| "
        "over the photo, / 1000: 0 is perfect)",
    )
    return 0


def add_sample(sub: argparse._SubParsersAction) -> None:
    """``softcut sample``."""
    sample = sub.add_parser(
        "sample", help="write a generated sample photo (with its true matte), and with --cut cut it out and score it",
        description="Write a generated photo of a furry subject whose true matte is known. With --cut, also cut it "
                    "out as `softcut cut` does (the same flags and defaults) and print the cut-out's SAD against "
                    "that matte: how good the cut-out is, measured.")
    sample.add_argument("-o", "--output", required=True, help="where the photo goes (.png, .webp, .tif, .jpg)")
    sample.add_argument("--alpha-out", help="also write its true alpha (default: not written)")
    sample.add_argument("--cut", metavar="CUTOUT", help="also cut the sample out into CUTOUT (.png, .webp, .tif) and "
                                                        "print its SAD against the true matte (default: not cut)")
    sample.add_argument("--refine", default=SELECT["refine"], choices=REFINE_MODES,
                        help=f"with --cut: the edge, as for cut (default {SELECT['refine']})")
    add_edge_flags(sample, "select_subject")
    add_common(sample)
    sample.set_defaults(func=cmd_sample)
