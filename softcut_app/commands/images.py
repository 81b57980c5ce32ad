"""``softcut cut``, ``refine``, ``trimap`` and ``layers``: matting still images on this machine."""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import cv2
import numpy as np

from core.errors import ImageInputError, ParameterError
from core.imageio import float_to_uint8, load_grey, load_image, save_image
from softcut_app.commands.batch import Matte, add_batch_flags, run_batch
from softcut_app.commands.common import add_common, add_edge_flags, matte_options, open_session
from softcut_app.commands.outputs import output_folder, single_output
from softcut_app.console import Console
from wire.protocol.constants import REFINE_MODES, SEGMENTS_MAX, SEGMENTS_MIN
from wire.protocol.request_schemas import defaults

SELECT = defaults("select_subject")
"""The protocol's defaults for Select Subject, which ``cut`` (with or without a plate) shares."""


def cmd_cut(args: argparse.Namespace, console: Console) -> int:
    return run_batch(args, console, lambda writer: _local_matting(args, console, writer))


@contextlib.contextmanager
def _local_matting(args: argparse.Namespace, console: Console, writer):
    """Select Subject on this machine (``--plate``: with a clean plate): the model is opened here,
    once the inputs have been checked."""
    from core.subject.select import select_subject

    options = matte_options(args)
    plate = None
    if args.plate:
        from core.plate.align import prepare_plate
        from core.plate.pipeline import plate_matte

        try:
            plate = prepare_plate(load_image(args.plate, max_pixels=args.max_pixels))  # features found once for all inputs
        except ImageInputError as exc:
            raise ImageInputError(f"--plate: {exc}") from None
    session = open_session(args, console)

    def process(image: np.ndarray, item) -> Matte:
        bar = console.progress(item.name)
        try:
            if plate is None:
                matte = select_subject(image, session.predict, options, progress=bar)
            else:
                matte = plate_matte(image, plate, session.predict, options, progress=bar)
        finally:
            bar.close()
        trimap = None
        if writer.wants_trimap:
            h, w = image.shape[:2]
            trimap = cv2.resize(matte.trimap, (w, h), interpolation=cv2.INTER_NEAREST)
        if plate is None:
            _warn_if_unsure(console, item.name, matte.confidence, matte.low_confidence)
        fields = {"confidence": round(matte.confidence, 4), "low_confidence": matte.low_confidence,
                  "device": session.device, "timings": {k: round(v, 4) for k, v in matte.timings.items()},
                  **({} if plate is None else {"plate": args.plate, "alignment": matte.alignment.summary()})}
        return Matte(matte.alpha, matte.foreground, trimap, fields)

    yield process


def _warn_if_unsure(console: Console, source: Path | str, confidence: float, unsure: bool) -> None:
    """Warn when a result is flagged ``unsure`` (its model confidence is quoted)."""
    if unsure:
        console.warn(
            f"{source}: the model is unsure about the subject (confidence {confidence:.2f}); "
            "check the result, or refine a rough selection with `softcut refine --mask`"
        )


def cmd_refine(args: argparse.Namespace, console: Console) -> int:
    from core.subject.selection import refine_mask, refine_with_trimap

    output = single_output(args.output, args.image, ".alpha.png")
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
    save_image(output, float_to_uint8(alpha))
    console.result(
        {"input": str(args.image), "output": str(output), "seconds": round(time.perf_counter() - start, 3)},
        f"{args.image} -> {output}",
    )
    return 0


def cmd_trimap(args: argparse.Namespace, console: Console) -> int:
    from core.subject.trimap import mask_trimap, subject_trimap

    output = single_output(args.output, args.image, ".trimap.png")
    image = load_image(args.image, max_pixels=args.max_pixels)
    if args.mask:
        mask = load_grey(args.mask, max_pixels=args.max_pixels)
        _check_same_size(mask, image, args.mask)
        trimap = mask_trimap(mask.astype(np.float32) / 255.0)
    else:
        trimap, coarse = subject_trimap(image, open_session(args, console).predict, band=args.band)
        from core.subject.result import LOW_CONFIDENCE

        _warn_if_unsure(console, args.image, coarse.confidence, coarse.confidence < LOW_CONFIDENCE)
    save_image(output, trimap)
    console.result({"input": str(args.image), "output": str(output)}, f"{args.image} -> {output}")
    return 0


def _check_same_size(grey: np.ndarray, image: np.ndarray, name: str) -> None:
    if grey.shape != image.shape[:2]:
        raise ParameterError(f"{name}: size {grey.shape[1]}×{grey.shape[0]} differs from the image's {image.shape[1]}×{image.shape[0]}")


def cmd_layers(args: argparse.Namespace, console: Console) -> int:
    from core.segments import model_features, soft_segments
    from core.segments.preview import preview_sheet

    source = Path(args.image)
    folder = output_folder(args.output)
    image = load_image(source, max_pixels=args.max_pixels)
    session = open_session(args, console)
    features = model_features(session, image)
    if features is None:
        console.warn(f"model {session.name!r} offers no decoder feature maps; the layers go without the semantic term")
    segments = soft_segments(image, args.count, features=features)
    written = []
    for k, rgba in enumerate(segments.layers_rgba(args.masks), start=1):
        target = folder / f"{source.stem}.layer{k}.png"
        save_image(target, rgba)
        written.append(str(target))
    sheet = folder / f"{source.stem}.layers.png"
    save_image(sheet, preview_sheet(image, segments))
    console.result(
        {"input": str(source), "layers": written, "preview": str(sheet), "count": len(written),
         "masks": args.masks, "semantic": features is not None, "device": session.device},
        f"{source} -> {len(written)} layers in {folder} (preview {sheet.name})",
    )
    return 0


REFINE_HELP = ("the edge: none (the model's mask), fast (guided filter, for previews and batches) or best "
               "(information-flow matting)")

EXTRA_OUTPUTS = {
    False: {"--alpha-out": ("A", "also write the alpha as 8-bit grey (a file, a folder or -) (default: not written)"),
            "--trimap-out": ("T", "also write the automatic trimap (default: not written)")},
    True: {"--alpha-out": ("DIR", "also write each alpha into this folder or fsspec URL (<path>.alpha.png)"),
           "--trimap-out": ("DIR", ("also write each automatic trimap into this folder or fsspec URL "
                                    "(<path>.trimap.png)"))},
}
"""--alpha-out and --trimap-out: (metavar, help) for ``cut`` (False: a file, folder or -) and ``batch``
(True: always a folder, beside DST)."""


def add_cut_flags(p: argparse.ArgumentParser, *, refine_help: str = REFINE_HELP, batch: bool = False) -> None:
    """The flags of ``cut``, which ``client select-subject`` and ``batch`` share: the inputs and ``-o`` (not for
    ``batch``, whose SRC and DST replace them), the extra outputs, --only-mask, --refine, the edge flags, --plate,
    --bg-color and --glob (with ``cut``'s --watch; ``batch=True``: --glob for SRC folders and URLs). One list,
    so the commands cannot drift apart: each flag has the same name, default and meaning in all of them."""
    if not batch:
        p.add_argument("inputs", nargs="+", metavar="INPUT",
                       help="image files, folders (searched recursively, see --glob) or - (standard input)")
        p.add_argument("-o", "--output", required=True,
                       help="the cut-out: a file (.png, .webp, .tif keep transparency; .jpg is flattened on --bg-color, "
                            "white by default), a folder (several inputs, a folder input, an existing folder or a name "
                            "ending in /) or - (standard output, PNG)")
    for flag, (metavar, text) in EXTRA_OUTPUTS[batch].items():
        p.add_argument(flag, metavar=metavar, help=text)
    p.add_argument("--only-mask", "-om", action="store_true",
                   help="write the alpha (8-bit grey) as the output instead of the cut-out")
    p.add_argument("--refine", default=SELECT["refine"], choices=REFINE_MODES, help=refine_help)
    add_edge_flags(p, "select_subject")
    p.add_argument("--plate", metavar="PLATE",
                   help="a clean plate: the same scene without the subject, taken from about the same spot "
                        "(aligned automatically; gives a better matte)" + ("; one plate for every input" if batch else "")
                        + " (default: none)")
    p.add_argument("--bg-color", metavar="COLOUR",
                   help="composite over this colour ('#rrggbb' or 'r,g,b') instead of transparency "
                        "(default: transparent; white for .jpg)")
    if batch:
        from softcut_app.commands.inputs import DEFAULT_GLOB

        p.add_argument("--glob", default=DEFAULT_GLOB,
                       help="for folders and URLs: the files to take, searched recursively (comma-separated patterns, "
                            "any case)")
    else:
        add_batch_flags(p)


def add_cut(sub: argparse._SubParsersAction) -> None:
    """``softcut cut``: cut the main subject out of images."""
    cut = sub.add_parser("cut", help="cut the main subject out of images")
    add_cut_flags(cut, refine_help=REFINE_HELP)
    add_common(cut)
    cut.set_defaults(func=cmd_cut)


def add_refine(sub: argparse._SubParsersAction) -> None:
    """``softcut refine``: a trimap or a rough mask into an alpha."""
    refine = sub.add_parser("refine", help="refine a trimap or a rough mask into an alpha matte")
    refine.add_argument("image", help="the photo the trimap or mask belongs to")
    group = refine.add_mutually_exclusive_group(required=True)
    group.add_argument("--trimap", help="grey PNG: 0 background, 128 unknown, 255 foreground")
    group.add_argument("--mask", help="a rough selection (grey PNG)")
    refine.add_argument("-o", "--output", required=True,
                        help="the alpha, 8-bit grey (.png, .webp, .tif or .jpg; an existing folder or a name "
                             "ending in / takes IMAGE's name)")
    refine.add_argument("--refine", default=defaults("refine")["mode"], choices=("fast", "best"),
                        help="fast: guided filter; best: information-flow matting")
    add_common(refine, model=False)
    refine.set_defaults(func=cmd_refine)


def add_trimap(sub: argparse._SubParsersAction) -> None:
    """``softcut trimap``: a trimap from the model or from a mask."""
    trimap = sub.add_parser("trimap", help="make a trimap from the model or from a mask")
    trimap.add_argument("image", help="the photo")
    trimap.add_argument("--mask", help="build it from this rough selection instead of the model")
    trimap.add_argument("--band", type=float, default=float(defaults("trimap")["band"]),
                        help="automatic trimap band, fraction of the image scale")
    trimap.add_argument("-o", "--output", required=True,
                        help="the trimap, grey: 0 background, 128 unknown, 255 foreground (an existing folder or a "
                             "name ending in / takes IMAGE's name)")
    add_common(trimap)
    trimap.set_defaults(func=cmd_trimap)


def add_layers(sub: argparse._SubParsersAction) -> None:
    """``softcut layers``: soft layers that sum to one."""
    layers = sub.add_parser("layers", help="decompose an image into soft layers that sum to one")
    layers.add_argument("image", help="the photo")
    layers.add_argument("-o", "--output", required=True, help="folder for one RGBA PNG per layer and a preview sheet")
    count = defaults("soft_segments")["count"]
    layers.add_argument("--count", type=int, default=count,
                        help=f"how many layers, {SEGMENTS_MIN}-{SEGMENTS_MAX} (default {count})")
    layers.add_argument("--masks", default="soft", choices=("soft", "stacked"),
                        help="soft: each layer's own alpha (they sum to one); stacked: alphas that give back the "
                             "image when the layers are stacked in order with normal blending")
    add_common(layers)
    layers.set_defaults(func=cmd_layers)
