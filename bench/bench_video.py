"""`softcut video` throughput at 720p: frames per second, per-stage time and peak memory.

A synthetic 1280×720 clip (an alphamatting photo's matted subject moving over another
photo, :mod:`testing.video_synthetic`) is encoded as H.264 (.mp4) once; then, for each refine
mode, a fresh process runs :class:`core.video.run.VideoRun` on it, exactly as
``softcut video clip.mp4 -o frames/ -o cut.mov --refine MODE`` does, with the real default
model on the CPU. Reported per mode: frames per second over the matting loop (decode to PNG
written), seconds per frame per stage (decode, model, refine, temporal filter, edges and
colours, PNG write), the ProRes 4444 encode of the finished frames, and the process's peak
RSS (``resource.getrusage``; model and onnxruntime included). "load avg" is the machine's
1-minute load average before and after each mode: above the core count, other work shared
the CPU and the times are longer than this code alone needs.

    SOFTCUT_HOME=~/.cache/softcut-test python bench/bench_video.py [--frames 30] [--modes fast,none,best]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"
SIZE = (1280, 720)


def make_clip(folder: Path, frames: int, data: Path) -> Path:
    """Write a ``frames``-frame 1280×720 H.264 clip into ``folder``; returns its path."""
    from core.imageio import float_to_uint8, load_grey, load_image
    from testing.plate_synthetic import estimate_foreground
    from core.video.encode import ffmpeg_exe
    from testing.video_synthetic import moving_subject

    gt = cv2.resize(load_grey(data / "gt" / "GT05.png").astype(np.float32) / 255.0, SIZE, interpolation=cv2.INTER_AREA)
    photo = cv2.resize(load_image(data / "input" / "GT05.png"), SIZE, interpolation=cv2.INTER_AREA)
    foreground = estimate_foreground(photo, gt)
    back = load_image(data / "input" / "GT12.png")
    clip = folder / "clip.mp4"
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{SIZE[0]}x{SIZE[1]}",
           "-framerate", "25", "-i", "-", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", str(clip)]
    encoder = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    for frame in moving_subject(foreground, gt, back, frames, np.random.default_rng(5)):
        encoder.stdin.write(float_to_uint8(frame.image).tobytes())
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise SystemExit("ffmpeg could not encode the clip")
    return clip


def run_one(clip: Path, refine: str, folder: Path) -> dict:
    """Matte ``clip`` with ``refine`` in this process; the figures as a dict."""
    from core.models.session import open_session
    from core.subject.options import MatteOptions
    from core.video.encode import parse_outputs
    from core.video.pipeline import VideoOptions
    from core.video.run import VideoRun
    from core.video.sources import open_source

    session = open_session("isnet", device="cpu")
    session.predict(np.zeros((SIZE[1], SIZE[0], 3), np.float32))  # warm-up
    source = open_source(clip)
    outputs = parse_outputs([folder / "frames", folder / "cut.mov"])
    options = VideoOptions(matte=MatteOptions(refine=refine))
    calls = []

    def predict(image: np.ndarray) -> np.ndarray:
        calls.append(1)
        return session.predict(image)

    run = VideoRun(source, outputs, predict, options, fingerprint={"model": "isnet"},
                   fps=source.info.fps or 25.0, restart=True)
    run.begin()
    start = time.perf_counter()
    run.matte()
    loop = time.perf_counter() - start
    start = time.perf_counter()
    run.write_outputs()
    encode = time.perf_counter() - start
    frames = run.done
    return {
        "refine": refine, "frames": frames, "fps": frames / loop, "seconds_per_frame": loop / frames,
        "stages": {k: v / frames for k, v in run.timings.items()}, "encode_mov_s": encode,
        "model_runs_per_frame": len(calls) / frames,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "device": session.device,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--modes", default="fast,none,best")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--one", nargs=2, metavar=("CLIP", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(run_one(Path(args.one[0]), args.one[1], Path(tmp))))
        return
    from core.video.run import STAGES as stages

    with tempfile.TemporaryDirectory() as tmp:
        clip = make_clip(Path(tmp), args.frames, args.data)
        print(f"{args.frames} frames of {SIZE[0]}×{SIZE[1]} H.264, model isnet on the CPU\n")
        print("| refine | frames/s | s/frame | " + " | ".join(stages) + " | temporal share | model runs/frame | .mov encode s | peak RSS MB | load avg |")
        print("|---|---:|---:|" + "---:|" * len(stages) + "---:|---:|---:|---:|---:|")
        for mode in args.modes.split(","):
            load = os.getloadavg()[0]
            done = subprocess.run([sys.executable, __file__, "--one", str(clip), mode], capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"refine {mode} failed:\n{done.stderr}")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            s = row["stages"]
            share = s["temporal"] / row["seconds_per_frame"]
            print(f"| {mode} | {row['fps']:.2f} | {row['seconds_per_frame']:.2f} | "
                  + " | ".join(f"{s[k]:.3f}" for k in stages)
                  + f" | {share:.0%} | {row['model_runs_per_frame']:.2f} | {row['encode_mov_s']:.1f} | {row['peak_rss_mb']:.0f}"
                  + f" | {load:.1f}–{os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
