"""``softcut sample``: a generated sample photo with its true matte."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.imageio import float_to_uint8, save_image
from softcut_app.commands.common import add_common
from softcut_app.console import Console


def cmd_sample(args: argparse.Namespace, console: Console) -> int:
    from core.sample import furry_subject

    image, alpha = furry_subject()
    save_image(Path(args.output), float_to_uint8(image))
    if args.alpha_out:
        save_image(Path(args.alpha_out), float_to_uint8(alpha))
    console.result({"output": str(args.output)}, f"sample photo written to {args.output}")
    return 0


def add_sample(sub: argparse._SubParsersAction) -> None:
    """``softcut sample``."""
    sample = sub.add_parser("sample", help="write a generated sample photo (with its true matte)")
    sample.add_argument("-o", "--output", required=True, help="where the photo goes (.png, .webp, .tif, .jpg)")
    sample.add_argument("--alpha-out", help="also write its true alpha (default: not written)")
    add_common(sample, model=False)
    sample.set_defaults(func=cmd_sample)
