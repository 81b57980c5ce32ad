"""Phone cut & paste: the engine's round trips with a 12 MP phone photo and the default model.

    python bench/bench_phone.py [--megapixels 12] [--runs 3] [--source GT05]

1. Cut: a 12 MP JPEG photo (an alphamatting image upscaled, quality 90) sent as
   ``phone_cut`` to a real engine (``softcut serve --model isnet --device cpu``) over
   loopback: seconds from the upload's start until the preview arrives, against the
   model's inference alone (one ``predict`` on the same image in this process, the
   engine idle), and until the full-resolution cut-out is staged in the outbox.
   Target: upload → preview ≤ inference + 1 s.
2. Paste: a test editor (the Python client with ``accepts``) answers ``canvas_snapshot``
   with a 1600 px document and ``place_layer`` by decoding the cut-out; the phone sends
   a 12 MP JPEG photo of part of that document as ``phone_paste``. Seconds from the
   upload's start until the result (the layer is placed by then). Target ≤ 1.5 s.

Each run uses a different photo (a 16 × 16 corner changed), so the engine's caches never answer;
run 0 warms the engine up (the solver's JIT compilation) and is not counted.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from core.imageio import float_to_uint8, load_image
from core.models.session import open_session
from wire.client import SoftcutClient, jpeg_image, raw_image
from testing.launcher import EngineProcess

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "alphamatting" / "input"


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return out.getvalue()


def upscaled(rgb: np.ndarray, megapixels: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = (megapixels * 1e6 / (h * w)) ** 0.5
    return cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)


def inference_seconds(photo: np.ndarray, runs: int) -> float:
    """Median seconds of one model call on the full-size image (resizing in and out included)."""
    session = open_session("isnet", device="cpu")
    image = photo.astype(np.float32) / 255.0
    session.predict(image)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.predict(image)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Editor:
    """A test editor: answers canvas_snapshot with ``document`` and place_layer after decoding the PNG."""

    def __init__(self, port: int, token: str, document: np.ndarray, scale: int) -> None:
        self.document, self.scale = document, scale
        self.placed: list[tuple[int, int]] = []
        self.client = SoftcutClient(port=port, token=token, name="softcut-bench-editor", timeout=120,
                                    accepts={"canvas_snapshot": self.snapshot, "place_layer": self.place})
        self.client.connect()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def snapshot(self, request) -> dict:
        h, w = self.document.shape[:2]
        image = raw_image(w, h, "rgb8", self.document.tobytes())
        return {"document": {"width": w * self.scale, "height": h * self.scale}, "view": None, "buffers": [image]}

    def place(self, request) -> dict:
        _, data = request.buffer("cutout")
        cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)  # what an editor does first
        self.placed.append((request.fields["x"], request.fields["y"]))
        return {"delivery": request.fields["delivery"], "ok": True, "message": "placed"}

    def serve(self) -> None:
        while not self.stop.is_set():
            self.client.poll(0.05)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", default="GT05", help="alphamatting input image for the cut")
    args = parser.parse_args()

    subject = upscaled(float_to_uint8(load_image(DATA / f"{args.source}.png")), args.megapixels)
    document = cv2.resize(float_to_uint8(load_image(DATA / "GT01.png")), (1600, 1200), interpolation=cv2.INTER_AREA)
    print(f"photo {subject.shape[1]}x{subject.shape[0]} ({subject.shape[0] * subject.shape[1] / 1e6:.1f} MP)")
    inference = inference_seconds(subject, args.runs)
    print(f"inference alone (isnet, full-size image in, mask out): {inference:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        engine = EngineProcess(Path(tmp) / "config", "isnet", "--device", "cpu")
        outbox = Path(tmp) / "config" / "outbox"
        try:
            phone = SoftcutClient(port=engine.port, token=engine.token, name="softcut-phone", timeout=300)
            phone.connect()
            editor = Editor(engine.port, engine.token, document, scale=2)
            cuts, staged, pastes, engine_timings = [], [], [], []
            for run in range(args.runs + 1):  # run 0 warms the engine up
                photo = subject.copy()
                photo[:16, :16] = (run * 67) % 256  # survives JPEG: another image for the caches
                data = jpeg(photo)
                start = time.perf_counter()
                result = phone.phone_cut(jpeg_image(data))
                cut_s = time.perf_counter() - start
                cut = result.fields["cut"]
                while not (outbox / f"{cut}.json").exists():
                    time.sleep(0.01)
                staged_s = time.perf_counter() - start
                # The phone's photo of the screen: a quarter of the document, at 12 MP.
                shot = upscaled(document[300:900, 400:1200], args.megapixels)
                shot[:16, :16] = (run * 67) % 256
                shot_data = jpeg(shot)
                start = time.perf_counter()
                pasted = phone.phone_paste(cut, jpeg_image(shot_data, name="photo"))
                paste_s = time.perf_counter() - start
                assert pasted.fields["status"] == "placed", pasted.fields
                if run:
                    cuts.append(cut_s)
                    staged.append(staged_s)
                    pastes.append(paste_s)
                    engine_timings.append((result.fields["timings"], pasted.fields["timings"]))
                print(f"run {run}: upload→preview {cut_s:.2f} s, staged {staged_s:.2f} s, paste {paste_s:.2f} s "
                      f"({len(data) / 1e6:.1f} MB + {len(shot_data) / 1e6:.1f} MB JPEG) at {pasted.fields['x']}, "
                      f"{pasted.fields['y']}; engine: cut {result.fields['timings']}, paste {pasted.fields['timings']}")
            editor.close()
            phone.close()
        finally:
            engine.stop()
    cut_m, staged_m, paste_m = (statistics.median(v) for v in (cuts, staged, pastes))
    print()
    print("| step | median s (runs) | target |")
    print("|---|---:|---|")
    print(f"| inference alone | {inference:.2f} ({args.runs}) | |")
    print(f"| phone_cut: upload → preview | {cut_m:.2f} ({args.runs}) | ≤ inference + 1 s = {inference + 1:.2f} |")
    print(f"| phone_cut: upload → full-resolution cut-out staged | {staged_m:.2f} ({args.runs}) | before the paste |")
    print(f"| phone_paste: photo upload → layer placed | {paste_m:.2f} ({args.runs}) | ≤ 1.5 |")


if __name__ == "__main__":
    main()
