"""``softcut cut``, ``refine``, ``trimap`` and ``layers``: matting still images on this machine."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from core import composite
from core.errors import ParameterError, SoftcutError
from core.imageio import float_to_uint8, load_grey, load_image, save_png
from softcut_app.commands.common import add_common, add_edge_flags, matte_options, open_session
from softcut_app.console import Console
from wire.protocol.constants import REFINE_MODES, SEGMENTS_MAX, SEGMENTS_MIN
from wire.protocol.request_schemas import defaults

SELECT = defaults("select_subject")
"""The protocol's defaults for Select Subject, which ``cut`` (with or without a plate) shares."""


def _output_for(out: Path, source: Path, many: bool, suffix: str = ".png") -> Path:
    if many:
        out.mkdir(parents=True, exist_ok=True)
        return out / (source.stem + suffix)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    return out


def cmd_cut(args: argparse.Namespace, console: Console) -> int:
    from core.subject.select import select_subject

    options = matte_options(args)
    bg = composite.parse_colour(args.bg_color) if args.bg_color else None
    plate = None
    if args.plate:
        from core.plate.align import prepare_plate
        from core.plate.pipeline import plate_matte

        try:
            plate = prepare_plate(load_image(args.plate, max_pixels=args.max_pixels))  # features found once for all inputs
        except SoftcutError as exc:
            console.error(f"--plate: {exc}")
            return 1
    session = open_session(args, console)
    many = len(args.inputs) > 1
    failures = 0
    for source in map(Path, args.inputs):
        try:
            image = load_image(source, max_pixels=args.max_pixels)
            bar = console.progress(source.name)
            try:
                if plate is None:
                    matte = select_subject(image, session.predict, options, progress=bar)
                else:
                    matte = plate_matte(image, plate, session.predict, options, progress=bar)
            finally:
                bar.close()
            target = _output_for(Path(args.output), source, many)
            if bg is None:
                save_png(target, composite.cutout_rgba(matte.foreground, matte.alpha))
            else:
                save_png(target, composite.over_colour(matte.foreground, matte.alpha, bg))
            extra = {}
            if args.alpha_out:
                extra["alpha"] = _output_for(Path(args.alpha_out), source, many, ".alpha.png")
                save_png(extra["alpha"], float_to_uint8(matte.alpha))
            if args.trimap_out:
                extra["trimap"] = _output_for(Path(args.trimap_out), source, many, ".trimap.png")
                h, w = image.shape[:2]
                save_png(extra["trimap"], cv2.resize(matte.trimap, (w, h), interpolation=cv2.INTER_NEAREST))
            if plate is None:
                _warn_if_unsure(console, source, matte.confidence, matte.low_confidence)
            console.result(
                {
                    "input": str(source),
                    "output": str(target),
                    **{k: str(v) for k, v in extra.items()},
                    "width": image.shape[1],
                    "height": image.shape[0],
                    "confidence": round(matte.confidence, 4),
                    "low_confidence": matte.low_confidence,
                    "device": session.device,
                    "timings": {k: round(v, 4) for k, v in matte.timings.items()},
                    **({} if plate is None else {"plate": args.plate, "alignment": matte.alignment.summary()}),
                },
                f"{source} -> {target}",
            )
        except SoftcutError as exc:
            failures += 1
            console.error(str(exc))
    return 1 if failures else 0


def _warn_if_unsure(console: Console, source: Path | str, confidence: float, unsure: bool) -> None:
    """Warn when a result is flagged ``unsure`` (its model confidence is quoted)."""
    if unsure:
        console.warn(
            f"{source}: the model is unsure about the subject (confidence {confidence:.2f}); "
            "check the result, or refine a rough selection with `softcut refine --mask`"
        )


def cmd_refine(args: argparse.Namespace, console: Console) -> int:
    from core.subject.selection import refine_mask, refine_with_trimap

    image = load_image(args.image, max_pixels=args.max_pixels)
    start = time.perf_counter()
    if args.trimap:
        trimap = load_grey(args.trimap, max_pixels=args.max_pixels)
        _check_same_size(trimap, image, args.trimap)
        alpha = refine_with_trimap(image, trimap, mode=args.refine)
    else:
        mask = load_grey(args.mask, max_pixels=args.max_pixels)
        _check_same_size(mask, image, args.mask)
        alpha, _ = refine_mask(image, mask.astype(np.float32) / 255.0, mode=args.refine)
    save_png(Path(args.output), float_to_uint8(alpha))
    console.result(
        {"input": str(args.image), "output": str(args.output), "seconds": round(time.perf_counter() - start, 3)},
        f"{args.image} -> {args.output}",
    )
    return 0


def cmd_trimap(args: argparse.Namespace, console: Console) -> int:
    from core.subject.trimap import mask_trimap, subject_trimap

    image = load_image(args.image, max_pixels=args.max_pixels)
    if args.mask:
        mask = load_grey(args.mask, max_pixels=args.max_pixels)
        _check_same_size(mask, image, args.mask)
        trimap = mask_trimap(mask.astype(np.float32) / 255.0)
    else:
        trimap, coarse = subject_trimap(image, open_session(args, console).predict, band=args.band)
        from core.subject.result import LOW_CONFIDENCE

        _warn_if_unsure(console, args.image, coarse.confidence, coarse.confidence < LOW_CONFIDENCE)
    save_png(Path(args.output), trimap)
    console.result({"input": str(args.image), "output": str(args.output)}, f"{args.image} -> {args.output}")
    return 0


def _check_same_size(grey: np.ndarray, image: np.ndarray, name: str) -> None:
    if grey.shape != image.shape[:2]:
        raise ParameterError(f"{name}: size {grey.shape[1]}×{grey.shape[0]} differs from the image's {image.shape[1]}×{image.shape[0]}")


def cmd_layers(args: argparse.Namespace, console: Console) -> int:
    from core.segments import model_features, soft_segments
    from core.segments.preview import preview_sheet

    source = Path(args.image)
    image = load_image(source, max_pixels=args.max_pixels)
    session = open_session(args, console)
    features = model_features(session, image)
    if features is None:
        console.warn(f"model {session.name!r} offers no decoder feature maps; the layers go without the semantic term")
    segments = soft_segments(image, args.count, features=features)
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for k, rgba in enumerate(segments.layers_rgba(args.masks), start=1):
        target = folder / f"{source.stem}.layer{k}.png"
        save_png(target, rgba)
        written.append(str(target))
    sheet = folder / f"{source.stem}.layers.png"
    save_png(sheet, preview_sheet(image, segments))
    console.result(
        {"input": str(source), "layers": written, "preview": str(sheet), "count": len(written),
         "masks": args.masks, "semantic": features is not None, "device": session.device},
        f"{source} -> {len(written)} layers in {folder} (preview {sheet.name})",
    )
    return 0


def add_cut(sub: argparse._SubParsersAction) -> None:
    """``softcut cut``: cut the main subject out of images."""
    cut = sub.add_parser("cut", help="cut the main subject out of images")
    cut.add_argument("inputs", nargs="+", metavar="INPUT")
    cut.add_argument("-o", "--output", required=True, help="RGBA PNG (a folder for several inputs)")
    cut.add_argument("--alpha-out", help="also write the alpha as 8-bit grey PNG")
    cut.add_argument("--trimap-out", help="also write the automatic trimap")
    cut.add_argument("--refine", default=SELECT["refine"], choices=REFINE_MODES)
    add_edge_flags(cut, "select_subject")
    cut.add_argument("--plate", metavar="PLATE",
                     help="a clean plate: the same scene without the subject, taken from about the same spot "
                          "(aligned automatically; gives a better matte)")
    cut.add_argument("--bg-color", help="composite over this colour ('#rrggbb' or 'r,g,b') instead of transparency")
    add_common(cut)
    cut.set_defaults(func=cmd_cut)


def add_refine(sub: argparse._SubParsersAction) -> None:
    """``softcut refine``: a trimap or a rough mask into an alpha."""
    refine = sub.add_parser("refine", help="refine a trimap or a rough mask into an alpha matte")
    refine.add_argument("image")
    group = refine.add_mutually_exclusive_group(required=True)
    group.add_argument("--trimap", help="grey PNG: 0 background, 128 unknown, 255 foreground")
    group.add_argument("--mask", help="a rough selection (grey PNG)")
    refine.add_argument("-o", "--output", required=True, help="8-bit grey alpha PNG")
    refine.add_argument("--refine", default=defaults("refine")["mode"], choices=("fast", "best"))
    add_common(refine, model=False)
    refine.set_defaults(func=cmd_refine)


def add_trimap(sub: argparse._SubParsersAction) -> None:
    """``softcut trimap``: a trimap from the model or from a mask."""
    trimap = sub.add_parser("trimap", help="make a trimap from the model or from a mask")
    trimap.add_argument("image")
    trimap.add_argument("--mask", help="build it from this rough selection instead of the model")
    trimap.add_argument("--band", type=float, default=float(defaults("trimap")["band"]),
                        help="automatic trimap band, fraction of the image scale")
    trimap.add_argument("-o", "--output", required=True)
    add_common(trimap)
    trimap.set_defaults(func=cmd_trimap)


def add_layers(sub: argparse._SubParsersAction) -> None:
    """``softcut layers``: soft layers that sum to one."""
    layers = sub.add_parser("layers", help="decompose an image into soft layers that sum to one")
    layers.add_argument("image")
    layers.add_argument("-o", "--output", required=True, help="folder for one RGBA PNG per layer and a preview sheet")
    count = defaults("soft_segments")["count"]
    layers.add_argument("--count", type=int, default=count,
                        help=f"how many layers, {SEGMENTS_MIN}-{SEGMENTS_MAX} (default {count})")
    layers.add_argument("--masks", default="soft", choices=("soft", "stacked"),
                        help="soft: each layer's own alpha (they sum to one); stacked: alphas that give back the "
                             "image when the layers are stacked in order with normal blending")
    add_common(layers)
    layers.set_defaults(func=cmd_layers)
