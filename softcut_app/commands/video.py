"""``softcut video``: matte every frame of a video or a folder of frames, resumably."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.errors import ParameterError
from core.imageio import load_image
from softcut_app.commands.common import add_common, add_edge_flags, matte_options, open_session
from softcut_app.commands.interruptible import run_interruptibly
from softcut_app.console import Console
from wire.protocol.constants import REFINE_MODES
from wire.protocol.request_schemas import defaults

INTERRUPTED = 130
"""The exit status after Ctrl-C (as :data:`softcut_app.cli.EXIT_INTERRUPTED`)."""
INPUT_FAILED = 1
"""The exit status when a frame cannot be read (a bad input, as :data:`softcut_app.cli.EXIT_INPUTS_FAILED`)."""

VIDEO = defaults("video_start")
"""The protocol's defaults for a video stream, which ``softcut video`` shares."""


def _file_identity(path: str) -> dict:
    """A file's absolute path and sha256: a resumed run must find the same file, also when it was edited in place."""
    from core.models.store import sha256_file

    resolved = Path(path).resolve()
    return {"path": str(resolved), "sha256": sha256_file(resolved)}


def cmd_video(args: argparse.Namespace, console: Console) -> int:
    from core.video.encode import check_outputs, parse_outputs
    from core.video.lock import OutputLock
    from core.video.run import finished_before
    from core.video.sources import open_source

    outputs = parse_outputs(args.output)
    source = open_source(args.input, max_pixels=args.max_pixels)
    check_outputs(source.info, outputs)
    options = _video_options(args)
    plate = load_image(args.plate, max_pixels=args.max_pixels) if args.plate else None
    fingerprint = {"model": args.model, "plate": _file_identity(args.plate) if args.plate else None}
    with OutputLock(outputs):  # another run on these outputs: refused here (exit 2)
        done = None if args.restart else finished_before(source, outputs, options, fingerprint=fingerprint)
        if done is not None:
            paths = [str(o.path) for o in outputs]
            console.result({"input": str(args.input), "frames": done, "outputs": paths, "already_done": True},
                           f"{args.input} -> {', '.join(paths)}: already done ({done} frames, by an earlier run with "
                           "the same input and options); add --restart to do it again")
            return 0
        code = _run(args, console, source, outputs, options, plate, fingerprint)
    if code == INTERRUPTED:
        _exit_at_once(code)
    return code


def _exit_at_once(code: int) -> None:
    """End the process after Ctrl-C without the interpreter's teardown. Everything is in order by then (the
    frames done are whole files, the state says how many, the locks are given back, the message is out),
    while the teardown could take a second (numba's compiled code) and would run onnxruntime's destructors
    under a model run that has not yet seen its terminate flag (a crash, "terminate called")."""
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run(args: argparse.Namespace, console: Console, source, outputs, options, plate, fingerprint: dict) -> int:
    """The run itself, its outputs' locks held: the frames matted in a worker thread (Ctrl-C stops it
    within a model operator), then the outputs written."""
    from core.video.run import DEFAULT_FPS, VideoRun
    from core.video.sources import FrameDecodeError

    session = open_session(args, console)
    run = VideoRun(source, outputs, session.predict, options, fingerprint=fingerprint, plate=plate,
                   fps=args.fps or source.info.fps or DEFAULT_FPS, restart=args.restart)
    if run.begin():
        console.info(f"resuming after frame {run.resumed_from} (the frames done are in {run.store.folder})")
    bar = console.frame_progress(Path(args.input).name)

    def stop() -> None:
        run.stop()
        session.interrupt()

    start = time.perf_counter()
    try:
        frames = run.open_frames()  # a video's decoder process started from this thread
        run_interruptibly(lambda: run.matte(progress=bar.frames, frames=frames), on_interrupt=stop)
        matting = time.perf_counter() - start
        bar.close()
        written = run.write_outputs(progress=lambda path: console.info(f"writing {path}"))
    except KeyboardInterrupt:
        bar.close()
        console.error(f"interrupted after {run.done} frames; run the same command again to resume "
                      f"(the frames done are in {run.store.folder})")
        return INTERRUPTED
    except FrameDecodeError as exc:
        bar.close()
        console.error(f"{exc}; the {run.done} frames finished before it are kept in {run.store.folder}: "
                      "replace the frame and run the same command again to resume")
        return INPUT_FAILED
    rate = run.matted / matting if run.matted else 0.0
    if run.without_plate:
        console.warn(f"the clean plate could not be aligned to {run.without_plate} of {run.matted} frames "
                     "(the subject hid most of the scene); those were matted without it")
    console.result(
        {"input": str(args.input), "frames": run.done, "matted": run.matted, "resumed_from": run.resumed_from,
         "seconds": round(time.perf_counter() - start, 3), "frames_per_second": round(rate, 3), "fps": run.fps,
         "frames_without_plate": run.without_plate,
         "width": source.info.width, "height": source.info.height, "outputs": written, "device": session.device,
         "timings": {k: round(v, 4) for k, v in run.timings.items()}},
        f"{args.input} -> {', '.join(written)} ({run.done} frames, {rate:.2f} frames/s)",
    )
    return 0


def _video_options(args: argparse.Namespace):
    from core.video.pipeline import VideoOptions

    if args.fps is not None and args.fps <= 0:
        raise ParameterError(f"--fps: expected a positive frame rate; got {args.fps}")
    return VideoOptions(matte=matte_options(args), delay=not args.no_delay, smoothing=args.smoothing)


def add_video(sub: argparse._SubParsersAction) -> None:
    """``softcut video``."""
    video = sub.add_parser(
        "video", help="matte every frame of a video or a folder of frames",
        description="Matte a video (any file ffmpeg reads) or a folder of frames (natural order). An interrupted "
                    "run (Ctrl-C, crash) resumes after its last finished frame when run again with the same input "
                    "and options; a different input or options for the same outputs is refused unless --restart. A run "
                    "that finished is not redone (unless --restart), and one run at a time may write an output.")
    video.add_argument("input", metavar="INPUT", help="a video file or a folder of frames")
    video.add_argument("-o", "--output", required=True, action="append",
                       help="a folder (RGBA PNG per frame), .mov (ProRes 4444 with alpha), .webm (VP9 with alpha) or "
                            ".mp4/.mkv/.avi (the matte as a grey video); may be given several times")
    video.add_argument("--refine", default=VIDEO["refine"], choices=REFINE_MODES,
                       help=f"per-frame refinement (default {VIDEO['refine']})")
    add_edge_flags(video, "video_start")
    video.add_argument("--no-delay", action="store_true", help="turn off the one-frame-delay flicker correction")
    video.add_argument("--smoothing", type=float, default=float(VIDEO["smoothing"]),
                       help=f"0-0.99, motion-compensated smoothing with the previous frame (0: off; default "
                            f"{VIDEO['smoothing']:g})")
    video.add_argument("--plate", metavar="PLATE", help="a clean plate: a photo of the scene without the subject")
    video.add_argument("--fps", type=float, help="frame rate of video outputs (default: the input video's, else 25)")
    video.add_argument("--restart", action="store_true", help="start over, ignoring an earlier run, unfinished or finished")
    add_common(video)
    video.set_defaults(func=cmd_video)
