"""What the phone cut & paste tests share: a real engine in this process with its outbox in a folder
(the ``engine`` fixture; a new one on the same folder is the engine after a restart), an editor
plug-in stand-in that answers place_layer and canvas_snapshot, and the photos a phone sends."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image
from sample_images import red_disc_image
from server_thread import ServerThread

from core.imageio import float_to_uint8
from engine_server.security import PairingCodes, PhoneLinks
from engine_server.server import EngineServer
from engine_server.tokens import TokenStore
from wire.client import SoftcutClient, raw_image
from wire.protocol import messages

TOKEN = "phone-test-token"


class PhoneEngine(ServerThread):
    """An EngineServer in this process (own thread and loop) on a loopback port, with its outbox in
    ``outbox`` (a new PhoneEngine on the same folder is the engine after a restart)."""

    def __init__(self, model: Path, outbox: Path, *, lan: bool = False, screenshot=None) -> None:
        from core.models.session import open_session
        from engine_server.engine import Engine

        self.links = PhoneLinks() if lan else None
        self.server = EngineServer(Engine(open_session(str(model), device="cpu")), TOKEN, host="127.0.0.1", port=0,
                                   pairing=PairingCodes(), phone_links=self.links,
                                   lan_host="127.0.0.1" if lan else None, outbox_dir=outbox,
                                   screenshot=screenshot, tokens=TokenStore(outbox.parent / "tokens.json"))
        self.outbox = outbox
        super().__init__(self.server)

    def phone(self) -> SoftcutClient:
        client = SoftcutClient(port=self.port, token=TOKEN, timeout=60, name="softcut-phone")
        client.connect()
        return client

    def records(self) -> dict[str, dict]:
        """The outbox's JSON records by id (a record the engine removes while this reads is left out)."""
        found = {}
        for path in sorted(self.outbox.glob("d*.json")):
            try:
                found[path.stem] = json.loads(path.read_text())
            except FileNotFoundError:
                continue
        return found


class Editor:
    """An editor plug-in stand-in: the Python client with accepts handlers, answering from a thread.

    ``snapshot``: the canvas_snapshot handler (None: not accepted); ``answers``: what place_layer
    answers, one per request in turn (then ok).
    """

    def __init__(self, port: int, *, name: str = "softcut-test-editor", snapshot=None, answers=()) -> None:
        self.requests: list[messages.Message] = []
        self.answers = list(answers)
        accepts = {"place_layer": self._place}
        if snapshot is not None:
            accepts["canvas_snapshot"] = snapshot
        self.client = SoftcutClient(port=port, token=TOKEN, name=name, accepts=accepts, timeout=30)
        self.client.connect()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _place(self, request: messages.Message) -> dict:
        self.requests.append(request)
        ok, text = self.answers.pop(0) if self.answers else (True, "placed")
        return {"delivery": request.fields["delivery"], "ok": ok, "message": text}

    def _serve(self) -> None:
        while not self._stop.is_set():
            self.client.poll(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.client.close()


def eventually(predicate, what: str, timeout: float = 30.0) -> None:
    """Wait until ``predicate()`` holds (the engine works in the background)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.02)


def jpeg_bytes(rgb: np.ndarray, *, orientation: int | None = None) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    Image.fromarray(rgb).save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def disc_photo(h: int = 240, w: int = 320, centre: tuple[int, int] | None = None) -> np.ndarray:
    """(h, w, 3) uint8: a red disc (the tiny model's subject) on blue, centred at ``centre`` (x, y)."""
    image, _ = red_disc_image(h, w)
    rgb = float_to_uint8(image)
    if centre is not None:
        rgb = np.roll(rgb, (centre[1] - h // 2, centre[0] - w // 2), axis=(0, 1))
    return rgb


def rgb8(name: str, rgb: np.ndarray):
    return raw_image(rgb.shape[1], rgb.shape[0], "rgb8", np.ascontiguousarray(rgb).tobytes(), name=name)


def png_rgba(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def phone_engine(model: Path, tmp_path: Path):
    """Body of a phone test module's ``engine`` fixture: a PhoneEngine with ``model``, its outbox in
    ``tmp_path``; stopped after the test."""
    server = PhoneEngine(model, tmp_path / "outbox")
    yield server
    server.stop()


def new_cut(phone: SoftcutClient, rgb: np.ndarray | None = None) -> str:
    """phone_cut of ``rgb`` (default: :func:`disc_photo`) through ``phone``: the staged cut's id."""
    return phone.phone_cut(rgb8("image", disc_photo() if rgb is None else rgb)).fields["cut"]

