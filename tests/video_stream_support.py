"""What the engine video-stream tests (test_video_engine_*.py) share: frames of a red disc crossing a
textured ground, their buffers, core.video.pipeline.matte_frames run in this process on them (what the
engine's frames must equal), and a bare connection for speaking the video messages by hand."""

from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image
from sample_images import textured
from test_server import _hello, _send

from core.imageio import float_to_uint8
from core.video.pipeline import VideoOptions, matte_frames
from wire.client import raw_image
from wire.protocol import codec, messages

H, W = 72, 96


def disc_frames(n: int, h: int = H, w: int = W, *, step: int = 3) -> list[np.ndarray]:
    """``n`` frames (h, w, 3) uint8 RGB: a red disc (the tiny model's subject) with a soft rim
    crossing a textured ground by ``step`` px a frame, with a little noise."""
    rng = np.random.default_rng(7)
    ground = textured(h, w, seed=3).astype(np.float32) / 255.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for k in range(n):
        alpha = np.clip(0.3 * h - np.hypot(yy - h / 2, xx - w / 3 - step * k), 0.0, 1.0)[..., None]
        image = alpha * np.float32([0.9, 0.15, 0.1]) + (1 - alpha) * ground
        image += rng.normal(0, 0.01, image.shape).astype(np.float32)
        out.append(float_to_uint8(np.clip(image, 0, 1)))
    return out


def buffers(frames: list[np.ndarray]) -> list:
    return [raw_image(f.shape[1], f.shape[0], "rgb8", f.tobytes()) for f in frames]


def reference(frames: list[np.ndarray], predict, options: VideoOptions = VideoOptions(), **plate):
    """matte_frames in this process on the frames as the engine decodes them."""
    return list(matte_frames([f.astype(np.float32) / 255.0 for f in frames], predict, options, **plate))


def grey(data: bytes, h: int = H, w: int = W) -> np.ndarray:
    return np.frombuffer(data, np.uint8).reshape(h, w).astype(int)


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


class Raw:
    """A bare connection that has said hello, for speaking the video messages by hand."""

    def __init__(self, server) -> None:
        self.ws = server.raw()
        assert _hello(self.ws, server.token).type == "welcome"
        self.decoder = codec.Decoder(role="client")
        self.seen: list[messages.Message] = []
        """Every message received, in order."""
        self._unclaimed: list[messages.Message] = []

    def send(self, message: messages.Message) -> messages.Message:
        _send(self.ws, message)
        return message

    def next(self, timeout: float = 30.0) -> messages.Message:
        deadline = time.monotonic() + timeout
        while True:
            message = self.decoder.feed(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message is not None:
                self.seen.append(message)
                return message

    def until(self, ref: str, *types: str, timeout: float = 30.0) -> messages.Message:
        """The first message about ``ref`` of one of ``types`` not returned before (it may have come already)."""
        for message in self._unclaimed:
            if message.ref == ref and message.type in types:
                self._unclaimed.remove(message)
                return message
        while True:
            message = self.next(timeout)
            if message.ref == ref and message.type in types:
                return message
            self._unclaimed.append(message)

    def close(self) -> None:
        self.ws.close()


def frame_message(stream: str, pixels: np.ndarray) -> messages.Message:
    h, w = pixels.shape[:2]
    return messages.video_frame(stream, raw_image(w, h, "rgb8", pixels.tobytes()))

