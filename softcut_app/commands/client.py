"""``softcut client select-subject`` and ``softcut client video``: the same work through a running engine."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

import numpy as np

from core.errors import AlignmentError, ImageInputError, ParameterError, SoftcutError
from core.imageio import uint8_to_float
from softcut_app.commands.batch import Matte, run_batch
from softcut_app.commands.common import add_common
from softcut_app.console import Console
from wire import config
from wire.protocol.constants import REFINE_MODES
from wire.protocol.request_schemas import defaults


def _raw_rgb(pixels, name: str = "image"):
    """A (H, W, 3) float32 RGB image in [0, 1] as a raw rgb8 buffer called ``name``."""
    from core.imageio import float_to_uint8
    from wire.client import raw_image

    data = float_to_uint8(pixels)
    return raw_image(data.shape[1], data.shape[0], "rgb8", data.tobytes(), name=name)


def _raw_file(path, max_pixels: int, name: str = "image"):
    """The image file ``path``, decoded exactly as `softcut cut` decodes it (EXIF, CMYK, 16-bit), as a raw
    rgb8 buffer called ``name``."""
    from core.imageio import load_image

    return _raw_rgb(load_image(path, max_pixels=max_pixels), name)


INPUT_CODES = {"bad_image": ImageInputError, "image_decode_failed": ImageInputError,
               "image_too_large": ImageInputError, "alignment_failed": AlignmentError}
"""The engine's refusals that concern one input (the batch goes on, exit 1 as with ``softcut cut``); any
other refusal is about the flags or the engine (exit 2)."""


def cmd_client_select_subject(args: argparse.Namespace, console: Console) -> int:
    return run_batch(args, console, lambda writer: _engine_matting(args, console, writer))


@contextlib.contextmanager
def _engine_matting(args: argparse.Namespace, console: Console, writer):
    """Select Subject through the engine (``--plate``: plate_matte), on one connection made once the
    inputs have been checked; the results come back raw and are written exactly as ``softcut cut`` writes."""
    from softcut_app.client_masking import use_c_masking
    from wire.client import EngineError, SoftcutClient

    use_c_masking()

    try:
        plate = _raw_file(args.plate, args.max_pixels, "plate") if args.plate else None
    except ImageInputError as exc:
        raise ImageInputError(f"--plate: {exc}") from None
    outputs = ["alpha"] + ([] if args.only_mask else ["foreground"]) + (["trimap"] if writer.wants_trimap else [])
    options = {"outputs": outputs, "format": "raw", "refine": args.refine, "band": args.band,
               "decontaminate": args.decontaminate, "model": args.model,
               "edges": {"smooth": args.smooth, "feather": args.feather, "contrast": args.contrast,
                         "shift_edge": args.shift_edge}}
    with SoftcutClient(host=args.host, port=args.port, timeout=args.timeout) as client:
        def process(image, item) -> Matte:
            buffer = _raw_rgb(image)
            bar = console.progress(item.name)
            try:
                if plate is not None:
                    result = client.plate_matte(buffer, plate, progress=bar, **options)
                else:
                    result = client.select_subject(buffer, progress=bar, **options)
            except EngineError as exc:
                if exc.code in INPUT_CODES:
                    raise INPUT_CODES[exc.code](f"{item.name}: {exc}") from None
                raise
            finally:
                bar.close()
            h, w = image.shape[:2]
            alpha = _plane(result, "alpha", h, w, 1)
            foreground = None if args.only_mask else uint8_to_float(_plane(result, "foreground", h, w, 3))
            trimap = _plane(result, "trimap", h, w, 1) if writer.wants_trimap else None
            fields = {k: v for k, v in result.fields.items() if k not in ("timings", "result")}
            return Matte(uint8_to_float(alpha), foreground, trimap, fields)

        yield process


def _plane(result, name: str, height: int, width: int, channels: int) -> np.ndarray:
    """The raw output ``name`` of ``result`` as (H, W) or (H, W, C) uint8."""
    data = np.frombuffer(result.buffers[name], np.uint8)
    if data.size != height * width * channels:
        raise SoftcutError(f"the engine's {name} holds {data.size} bytes, not {width}×{height}×{channels}")
    return data.reshape((height, width) if channels == 1 else (height, width, channels))


def _video_output(args: argparse.Namespace, console: Console) -> Path:
    """``-o FOLDER_OUT``, or the deprecated second argument (said once)."""
    if args.output_folder and args.legacy_output:
        raise ParameterError("FOLDER_OUT: give the output folder once, with -o")
    if args.legacy_output:
        console.warn("the output folder as a second argument is deprecated; use -o FOLDER_OUT")
    if not (args.output_folder or args.legacy_output):
        raise ParameterError("-o FOLDER_OUT: required (the folder for one RGBA PNG per frame)")
    return Path(args.output_folder or args.legacy_output)


def cmd_client_video(args: argparse.Namespace, console: Console) -> int:
    """Matte a folder of frames through the engine's video stream: one RGBA cut-out PNG per frame."""
    from core.video.sources import FolderSource
    from softcut_app.client_masking import use_c_masking
    from wire.client import SoftcutClient

    use_c_masking()

    source, target = Path(args.input), _video_output(args, console)
    if not source.is_dir():
        raise ParameterError(f"FOLDER_IN: expected a folder of frames; got {source}")
    folder = FolderSource(source, max_pixels=args.max_pixels)  # natural order; names, sizes checked
    target.mkdir(parents=True, exist_ok=True)
    frames = (_raw_rgb(frame) for frame in folder.frames())  # decoded as `softcut cut` decodes them, sent raw
    plate = _raw_file(args.plate, args.max_pixels, "plate") if args.plate else None
    bar = console.frame_progress(source.name)
    try:
        with SoftcutClient(host=args.host, port=args.port, timeout=args.timeout) as client:
            for result in client.video_matte(frames, outputs=["cutout"], format="png", refine=args.refine,
                                             smoothing=args.smoothing, delay=not args.no_delay, plate=plate):
                index = result.fields["index"]
                (target / folder.info.name(index)).write_bytes(result.buffers["cutout"])
                bar.frames(index + 1, folder.info.frames)
            summary = client.last_video or {}
    finally:
        bar.close()
    console.result({"input": str(source), "output": str(target), "frames": summary.get("frames"),
                    "timings": summary.get("timings")}, f"{source} -> {target}: {summary.get('frames')} frames")
    return 0


def _engine_flags(p: argparse.ArgumentParser) -> None:
    """--host, --port and --timeout: where the engine is and how long to wait for it."""
    p.add_argument("--host", default=config.DEFAULT_HOST, help="the engine's address")
    p.add_argument("--port", type=int, default=config.DEFAULT_PORT, help="the engine's port")
    p.add_argument("--timeout", type=float, default=300.0, metavar="S",
                   help="seconds to wait for the engine's next answer")


def add_client(sub: argparse._SubParsersAction) -> None:
    """``softcut client select-subject|video``."""
    from softcut_app.commands.images import REFINE_HELP, add_cut_flags

    client = sub.add_parser("client", help="talk to a running engine")
    client_sub = client.add_subparsers(dest="client_command", required=True)
    sel = client_sub.add_parser("select-subject", help="cut out the subject through the engine (the flags of `cut`)")
    add_cut_flags(sel, refine_help=REFINE_HELP)
    sel.add_argument("--model", help="a model the engine has (softcut models list) (default: the engine's --model)")
    _engine_flags(sel)
    add_common(sel, model=False)
    sel.set_defaults(func=cmd_client_select_subject)
    vid = client_sub.add_parser("video", help="matte a folder of frames through the engine (one cut-out PNG per frame)")
    vid.add_argument("input", metavar="FOLDER_IN", help="the frames, in natural name order (frame2 before frame10)")
    vid.add_argument("-o", "--output", dest="output_folder", metavar="FOLDER_OUT",
                     help="one RGBA PNG per frame, named after it (required)")
    vid.add_argument("legacy_output", nargs="?", metavar="FOLDER_OUT",
                     help="deprecated: the output folder as a second argument; use -o")
    _engine_flags(vid)
    video = defaults("video_start")
    vid.add_argument("--refine", default=video["refine"], choices=REFINE_MODES, help=REFINE_HELP)
    vid.add_argument("--smoothing", type=float, default=float(video["smoothing"]),
                     help="motion-compensated smoothing in [0, 1); 0: off")
    vid.add_argument("--no-delay", action="store_true", help="no one-frame-delay correction of lone flickers")
    vid.add_argument("--plate", help="a clean plate of the static background without the subject (default: none)")
    add_common(vid, model=False)
    vid.set_defaults(func=cmd_client_video)
