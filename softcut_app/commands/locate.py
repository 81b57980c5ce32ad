"""``softcut locate``: which document pixel a phone photo of the screen points at."""

from __future__ import annotations

import argparse

from core.imageio import float_to_uint8, load_image
from softcut_app.commands.common import add_common
from softcut_app.console import Console


def cmd_locate(args: argparse.Namespace, console: Console) -> int:
    from core.phone.locate import locate

    document = float_to_uint8(load_image(args.document, max_pixels=args.max_pixels))
    photo = float_to_uint8(load_image(args.photo, max_pixels=args.max_pixels))  # EXIF orientation applied
    found = locate(document, photo)
    payload = {
        "x": None if found.x is None else round(found.x, 2),
        "y": None if found.y is None else round(found.y, 2),
        "confidence": round(found.confidence, 4),
    }
    if found.x is None:
        text = f"{args.photo}: could not find where it points on {args.document} (confidence {found.confidence:.2f})"
    else:
        text = (
            f"{args.photo} points at pixel ({found.x:.1f}, {found.y:.1f}) of {args.document} "
            f"(confidence {found.confidence:.2f})"
        )
    console.result(payload, text)
    return 0


def add_locate(sub: argparse._SubParsersAction) -> None:
    """``softcut locate``."""
    loc = sub.add_parser("locate", help="which document pixel a phone photo of the screen points at")
    loc.add_argument("document", metavar="DOCUMENT_IMAGE", help="the document as displayed (or a screenshot)")
    loc.add_argument("photo", metavar="PHONE_PHOTO", help="a photo of the screen; its centre is the point")
    add_common(loc, model=False)
    loc.set_defaults(func=cmd_locate)
