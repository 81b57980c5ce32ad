"""``softcut client select-subject`` and ``softcut client video``: the same work through a running engine."""

from __future__ import annotations

import argparse
from pathlib import Path

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


def cmd_client_select_subject(args: argparse.Namespace, console: Console) -> int:
    from wire.client import SoftcutClient

    buffer = _raw_file(args.image, args.max_pixels)
    options = {"outputs": ["cutout"], "format": "png", "refine": args.refine}
    bar = console.progress(Path(args.image).name)
    try:
        with SoftcutClient(host=args.host, port=args.port, timeout=args.timeout) as client:
            if args.plate:
                result = client.plate_matte(buffer, _raw_file(args.plate, args.max_pixels, "plate"),
                                            progress=bar, **options)
            else:
                result = client.select_subject(buffer, progress=bar, **options)
    finally:
        bar.close()
    Path(args.output).write_bytes(result.buffers["cutout"])
    fields = {k: v for k, v in result.fields.items() if k != "timings"}
    console.result({"input": args.image, "output": args.output, **fields}, f"{args.image} -> {args.output}")
    return 0


def cmd_client_video(args: argparse.Namespace, console: Console) -> int:
    """Matte a folder of frames through the engine's video stream: one RGBA cut-out PNG per frame."""
    from core.errors import ParameterError
    from core.video.sources import FolderSource
    from wire.client import SoftcutClient

    source, target = Path(args.input), Path(args.output)
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


def add_client(sub: argparse._SubParsersAction) -> None:
    """``softcut client select-subject|video``."""
    client = sub.add_parser("client", help="talk to a running engine")
    client_sub = client.add_subparsers(dest="client_command", required=True)
    sel = client_sub.add_parser("select-subject", help="cut out the subject through the engine")
    sel.add_argument("image")
    sel.add_argument("-o", "--output", required=True, help="RGBA PNG")
    sel.add_argument("--host", default=config.DEFAULT_HOST)
    sel.add_argument("--port", type=int, default=config.DEFAULT_PORT)
    sel.add_argument("--refine", default=defaults("select_subject")["refine"], choices=REFINE_MODES)
    sel.add_argument("--plate", help="a clean plate of the same scene without the subject (plate_matte)")
    sel.add_argument("--timeout", type=float, default=300.0)
    add_common(sel, model=False)
    sel.set_defaults(func=cmd_client_select_subject)
    vid = client_sub.add_parser("video", help="matte a folder of frames through the engine (one cut-out PNG per frame)")
    vid.add_argument("input", metavar="FOLDER_IN", help="the frames, in natural name order (frame2 before frame10)")
    vid.add_argument("output", metavar="FOLDER_OUT", help="one RGBA PNG per frame, named after it")
    vid.add_argument("--host", default=config.DEFAULT_HOST)
    vid.add_argument("--port", type=int, default=config.DEFAULT_PORT)
    video = defaults("video_start")
    vid.add_argument("--refine", default=video["refine"], choices=REFINE_MODES)
    vid.add_argument("--smoothing", type=float, default=float(video["smoothing"]),
                     help="motion-compensated smoothing in [0, 1); 0: off")
    vid.add_argument("--no-delay", action="store_true", help="no one-frame-delay correction of lone flickers")
    vid.add_argument("--plate", help="a clean plate of the static background without the subject")
    vid.add_argument("--timeout", type=float, default=300.0)
    add_common(vid, model=False)
    vid.set_defaults(func=cmd_client_video)
