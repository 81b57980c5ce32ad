"""The engine's outputs on a few real photos, to compare two versions of the code (the
memory reductions of docs/benchmarks.md "Engine memory per job" must leave them identical,
or within 1/255).

    python bench/memory_outputs.py --out /tmp/new.npz                   # this tree
    (cd /tmp/old_tree && python /work/main/bench/memory_outputs.py --root . --out /tmp/old.npz)
    python bench/memory_outputs.py --compare /tmp/old.npz /tmp/new.npz

Each photo of ../shared/data/alphamatting/input (GT01, GT05, GT13 by default, upscaled 2×
so guided upsampling and the strip loops run) goes through select_subject (refine none,
fast, best; alpha, foreground, cutout, trimap), refine (its trimap1, fast and best, with
the cut-out) and trimap, with the tiny "red" model of tests/tiny_models.py, as PNG and as raw.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting"


def run(root: Path, names: list[str], out: Path) -> None:
    sys.path.insert(0, str(root))
    sys.path.insert(0, str(root / "tests"))
    import cv2
    from tiny_models import build_tiny_model, write_sidecar
    from core.models.session import open_session
    from engine_server.engine import Engine
    from engine_server.jobs import Job
    from dataclasses import replace
    from types import SimpleNamespace

    from engine_server.operations import refine, select_subject, trimap
    from wire.protocol import codec, messages
    from wire.protocol.schemas import with_defaults

    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "tiny.onnx")
        write_sidecar(model)
        engine = Engine(open_session(str(model), device="cpu"))
    results: dict[str, np.ndarray] = {}

    def through_codec(msg):  # and with its defaults, as an operation receives it
        decoder = codec.Decoder(role="engine", max_frame_bytes=1 << 31)
        got = None
        for frame in codec.encode(msg):
            got = decoder.feed(frame) or got
        return replace(got, fields=with_defaults(got))

    async def go():
        for name in names:
            bgr = cv2.imread(str(DATA / "input" / f"{name}.png"))
            bgr = cv2.resize(bgr, (bgr.shape[1] * 2, bgr.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
            h, w = bgr.shape[:2]
            rgb = np.ascontiguousarray(bgr[:, :, ::-1])
            tri = cv2.resize(cv2.imread(str(DATA / "trimap1" / f"{name}.png"), cv2.IMREAD_GRAYSCALE), (w, h),
                             interpolation=cv2.INTER_NEAREST)
            png = cv2.imencode(".png", bgr)[1].tobytes()
            rgba = np.dstack([rgb, np.full((h, w), 255, np.uint8)])
            for fmt, image in (("png", messages.buffer("image", png, format="png", width=w, height=h)),
                               ("raw", messages.buffer("image", rgba.tobytes(), format="rgba8", width=w, height=h))):
                requests = {
                    f"select_subject {mode}": (select_subject.run, messages.select_subject(
                        image, refine=mode, outputs=["alpha", "foreground", "cutout", "trimap"]))
                    for mode in ("none", "fast", "best")
                }
                requests["select_subject fast alpha"] = (select_subject.run, messages.select_subject(
                    image, refine="fast", outputs=["alpha"], edges={"feather": 2, "shift_edge": 20}))
                guide = messages.buffer("guide", tri.tobytes(), format="grey8", width=w, height=h)
                for mode in ("fast", "best"):
                    requests[f"refine {mode}"] = (refine.run, messages.Message(
                        "refine", messages.new_id(), fields={"guide": "trimap", "mode": mode, "outputs": ["alpha", "cutout"]},
                        buffers=[image, guide]))
                requests["trimap"] = (trimap.run, messages.Message("trimap", messages.new_id(), buffers=[image]))
                for label, (op, msg) in requests.items():
                    job = Job(id="j", client="c", kind=msg.type, priority=0, work=None)
                    reply = await op(SimpleNamespace(engine=engine), job, through_codec(msg))
                    for buf in reply.buffers:
                        data = bytes(buf.data)
                        if buf.format == "png":
                            decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
                        else:
                            decoded = np.frombuffer(data, np.uint8)
                        results[f"{name} {fmt} {label} {buf.name}"] = np.asarray(decoded).reshape(-1)
                    print(name, fmt, label, flush=True)

    asyncio.run(go())
    np.savez_compressed(out, **results)


def compare(old: Path, new: Path) -> int:
    a, b = np.load(old), np.load(new)
    worst = 0
    for key in sorted(set(a.files) | set(b.files)):
        if key not in a.files or key not in b.files:
            print(f"{key}: only in {'new' if key in b.files else 'old'}")
            worst = 255
            continue
        x, y = a[key].astype(int), b[key].astype(int)
        diff = int(np.abs(x - y).max()) if x.shape == y.shape else 255
        differing = int(np.count_nonzero(x != y)) if x.shape == y.shape else -1
        worst = max(worst, diff)
        print(f"{key}: max |diff| {diff}/255, {differing} values differ")
    print(f"worst: {worst}/255 over {len(a.files)} outputs")
    return 0 if worst <= 1 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1], help="the tree to run")
    parser.add_argument("--images", default="GT01,GT05,GT13")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    run(args.root.resolve(), args.images.split(","), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
