"""Phone cut & paste on a real engine (in this process, loopback, the tiny model) with real sockets:
jpeg photos, phone_cut's preview and staged cut-out, phone_paste's outcomes, the outbox across
restarts, phone links and pairing with their one-time token, the phone page over HTTP.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import ServerThread, red_disc_image, textured
from core.imageio import float_to_uint8
from engine_server.phone import http as phone_http
from wire.client import EngineError, SoftcutClient, jpeg_image, raw_image
from testing.raw_websocket import HandshakeError, RawWebSocket
from testing.launcher import EngineProcess
from engine_server.operations import phone_paste
from wire.protocol import codec, messages
from engine_server.security import PairingCodes, PhoneLinks
from engine_server.server import EngineServer
from engine_server.tokens import TokenStore

TOKEN = "phone-test-token"
ROOT = Path(__file__).resolve().parents[1]
KEPT = "no editor connected — kept, will paste when one connects"


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


@pytest.fixture
def engine(tiny_model, tmp_path):
    server = PhoneEngine(tiny_model, tmp_path / "outbox")
    yield server
    server.stop()


def _cut(phone: SoftcutClient, rgb: np.ndarray | None = None) -> str:
    return phone.phone_cut(rgb8("image", disc_photo() if rgb is None else rgb)).fields["cut"]


# ---------------------------------------------------------------- phone_cut


def test_phone_cut_decodes_a_jpeg_with_its_exif_rotation_and_stages_the_full_cut(engine):
    stored = disc_photo(240, 320, centre=(80, 120))  # disc in the left half as stored
    data = jpeg_bytes(stored, orientation=6)  # "rotate 90° clockwise to display": the disc goes to the top
    with engine.phone() as phone:
        result = phone.phone_cut(jpeg_image(data), preview_max=100)
    assert result.specs["preview"].format == "png"
    assert (result.fields["width"], result.fields["height"]) == (240, 320)
    preview = png_rgba(result.buffers["preview"])
    assert preview.shape == (100, 75, 4)
    alpha = preview[..., 3] / 255.0
    assert alpha[:50].mean() > 0.3 > 0.02 > alpha[50:].mean()
    assert alpha[:, :37].mean() == pytest.approx(alpha[:, 38:].mean(), abs=0.05)  # centred across
    disc = alpha > 0.9
    assert preview[..., 0][disc].mean() > 200 > 60 > preview[..., 2][disc].mean()  # red, blue removed
    cut = result.fields["cut"]
    eventually(lambda: engine.records().get(cut, {}).get("state") == "staged", "the full-resolution cut-out")
    record = engine.records()[cut]
    full = png_rgba((engine.outbox / f"{cut}.png").read_bytes())
    assert (record["state"], record["width"], record["height"]) == ("staged", full.shape[1], full.shape[0])
    # cropped to the subject (in the upper half once rotated): smaller than the photo, opaque in
    # the middle, nearly transparent along its edges
    assert full.shape[0] < 200 and full.shape[1] <= 240
    alpha = full[..., 3].astype(float)
    assert alpha[full.shape[0] // 2, full.shape[1] // 2] > 240
    edges = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    assert edges.mean() < 40


def test_a_jpeg_whose_spec_disagrees_with_its_sof_is_refused_on_arrival(engine):
    data = jpeg_bytes(disc_photo())
    wrong = messages.buffer("image", data, format="jpeg", width=240, height=320)  # the file says 320x240
    with engine.phone() as phone, pytest.raises(EngineError, match="bad_image: .*the JPEG is 320x240"):
        phone.request(messages.phone_cut(wrong))


# ---------------------------------------------------------------- phone_paste


def test_paste_without_an_editor_is_kept_on_disk_then_delivered_when_one_connects(engine):
    with engine.phone() as phone:
        cut = _cut(phone)
        result = phone.phone_paste(cut, rgb8("photo", textured(120, 160)), name="Mug")
    assert result.fields["status"] == "kept" and result.fields["message"] == KEPT
    assert result.fields["delivery"] == cut and result.fields["x"] is None
    record = engine.records()[cut]
    assert (record["state"], record["name"], record["x"], record["target"]) == ("pending", "Mug", None, None)
    assert (engine.outbox / f"{cut}.png").is_file()
    editor = Editor(engine.port)
    try:
        eventually(lambda: not engine.records(), "the delivery to be placed and removed")
        (request,) = editor.requests
        assert request.type == "place_layer" and request.fields == {"delivery": cut, "name": "Mug", "x": None, "y": None}
        spec, data = request.buffer("cutout")
        cutout = png_rgba(data)  # the subject, cropped out of the 320 x 240 photo
        assert spec.format == "png" and cutout.shape[:2] == (spec.height, spec.width)
        assert spec.width < 320 and spec.height < 240 and cutout[spec.height // 2, spec.width // 2, 3] > 240
        # the record goes first, its PNG right after (on the engine's thread)
        eventually(lambda: not list(engine.outbox.iterdir()), "the outbox to be empty")
    finally:
        editor.close()


def test_a_kept_cut_out_larger_than_the_document_is_fitted_to_it_on_delivery(engine):
    with engine.phone() as phone:
        cut = _cut(phone)  # the disc, about 150 x 150
        assert phone.phone_paste(cut, rgb8("photo", textured(120, 160))).fields["status"] == "kept"
    native = engine.records()[cut]
    sizes = []

    def snapshot(request):
        sizes.append(request.fields["max_side"])
        return {"document": {"width": 100, "height": 60}, "view": None, "buffers": [rgb8("image", textured(10, 16))]}

    editor = Editor(engine.port, snapshot=snapshot)
    try:
        eventually(lambda: not engine.records(), "the delivery")
        (request,) = editor.requests
        spec, data = request.buffer("cutout")
        scale = min(100 / native["width"], 60 / native["height"])
        assert (spec.width, spec.height) == (round(native["width"] * scale), round(native["height"] * scale))
        assert spec.height == 60 and png_rgba(data).shape == (spec.height, spec.width, 4)
        assert sizes == [16] and request.fields["x"] is None  # only the size was asked for; centred
    finally:
        editor.close()


def test_paste_into_an_editor_whose_screen_is_located(engine):
    document = textured(600, 800, seed=3)  # the snapshot; the document is twice its size
    x0, y0, w, h = 380, 200, 320, 240
    photo = cv2.resize(document[y0:y0 + h, x0:x0 + w], (w * 3, h * 3), interpolation=cv2.INTER_CUBIC)

    def snapshot(request):
        assert request.fields["max_side"] == 1600
        return {"document": {"width": 1600, "height": 1200}, "view": None, "buffers": [rgb8("image", document)]}

    editor = Editor(engine.port, snapshot=snapshot)
    try:
        with engine.phone() as phone:
            cut = _cut(phone)
            result = phone.phone_paste(cut, rgb8("photo", photo))
        fields = result.fields
        assert fields["status"] == "placed" and fields["editor"] == "softcut-test-editor", fields
        # The photo's centre is the crop's: snapshot (539.5, 319.5) = document (1080, 640); the
        # cut-out (the subject cropped out of the photo) is centred there.
        (request,) = editor.requests
        spec, _ = request.buffer("cutout")
        assert abs(fields["x"] - (1080 - spec.width / 2)) <= 6 and abs(fields["y"] - (640 - spec.height / 2)) <= 6, fields
        assert fields["message"] == f"pasted into softcut-test-editor at ({fields['x']}, {fields['y']})"
        assert 0 < fields["confidence"] <= 1 and fields["delivery"] == cut and fields["through"] == "snapshot"
        assert fields["scale"] == 1.0  # the subject's share of the view would need 2x: never enlarged
        assert (request.fields["x"], request.fields["y"]) == (fields["x"], fields["y"])
        assert not engine.records()
    finally:
        editor.close()


def test_the_cut_out_covers_the_share_of_the_view_the_subject_had_in_its_photo(engine):
    document = textured(600, 800, seed=5)
    x0, y0, w, h = 300, 200, 160, 120  # the photo sees 160 x 120 snapshot = document pixels
    photo = cv2.resize(document[y0:y0 + h, x0:x0 + w], (960, 720), interpolation=cv2.INTER_CUBIC)

    def snapshot(request):
        return {"document": {"width": 800, "height": 600}, "view": None, "buffers": [rgb8("image", document)]}

    editor = Editor(engine.port, snapshot=snapshot)
    try:
        with engine.phone() as phone:
            cut = _cut(phone)  # from a 320 x 240 photo
            eventually(lambda: engine.records().get(cut, {}).get("state") == "staged", "the full-resolution cut-out")
            native = engine.records()[cut]  # read before the paste: placing it removes the record
            fields = phone.phone_paste(cut, rgb8("photo", photo)).fields
        assert fields["status"] == "placed" and fields["through"] == "snapshot", fields
        # 1/6 document px per paste-photo px, 960/320 paste-photo px per cut-photo px: 0.5
        assert fields["scale"] == pytest.approx(0.5, abs=0.02), fields
        (request,) = editor.requests
        spec, data = request.buffer("cutout")
        assert (spec.width, spec.height) == (round(native["width"] * fields["scale"]),
                                             round(native["height"] * fields["scale"]))
        assert png_rgba(data).shape[:2] == (spec.height, spec.width) and spec.width < 160
        # centred where the photo's centre points: document (380, 260)
        assert abs(fields["x"] + spec.width / 2 - 380) <= 3 and abs(fields["y"] + spec.height / 2 - 260) <= 3, fields
    finally:
        editor.close()


def test_without_a_view_the_snapshot_found_on_the_screen_maps_screen_to_document():
    from testing.locate_synthetic import editor_screen

    document = textured(400, 600, seed=11)
    screen, viewport = editor_screen(document, np.random.default_rng(3))
    shot = cv2.resize(document, (300, 200), interpolation=cv2.INTER_AREA)  # the snapshot, half size
    answer = messages.snapshot("r1", messages.buffer("image", shot.tobytes(), format="rgb8", width=300, height=200),
                               document={"width": 600, "height": 400})
    to_document = phone_paste.screen_to_document(screen, answer, shot, (600, 400))
    doc_to_screen = viewport.doc_to_screen()
    left, top, right, bottom = viewport.visible_document(600, 400)
    for fx, fy in ((0.3, 0.3), (0.5, 0.5), (0.7, 0.6)):
        sx, sy = left + fx * (right - left), top + fy * (bottom - top)
        truth = np.linalg.solve(doc_to_screen, [sx, sy, 1.0])[:2]
        mapped = (to_document @ np.array([sx, sy, 1.0]))
        assert np.hypot(*(mapped[:2] / mapped[2] - truth)) <= 2.0, (fx, fy, mapped, truth)
    blank = np.full_like(screen, 128)
    assert phone_paste.screen_to_document(blank, answer, shot, (600, 400)) is None


def test_paste_at_centre_when_the_screen_is_not_found_or_no_document_is_open(engine):
    open_documents = [True, False]

    def snapshot(request):  # a plain grey document: nothing in it to match the photo
        if not open_documents.pop(0):
            raise LookupError("no document is open")
        return {"document": {"width": 400, "height": 300}, "view": {"x": 0, "y": 0, "width": 400, "height": 300},
                "buffers": [rgb8("image", np.full((300, 400, 3), 128, np.uint8))]}

    editor = Editor(engine.port, snapshot=snapshot)
    try:
        with engine.phone() as phone:
            for _ in range(2):
                result = phone.phone_paste(_cut(phone), rgb8("photo", textured(90, 120)))
                assert result.fields["status"] == "placed_at_centre"
                assert result.fields["message"] == "screen not found — pasted at centre"
                assert result.fields["x"] is None and result.fields["y"] is None
        assert [r.fields["x"] for r in editor.requests] == [None, None] and not engine.records()
    finally:
        editor.close()


def test_the_last_active_editor_or_the_named_one_gets_the_paste(engine):
    first, second = Editor(engine.port, name="softcut-krita"), Editor(engine.port, name="softcut-gimp")
    try:
        with engine.phone() as phone:
            assert phone.phone_paste(_cut(phone), rgb8("photo", textured(90, 120))).fields["editor"] == "softcut-gimp"
            first.client.status()  # krita is the most recently active now
            assert phone.phone_paste(_cut(phone), rgb8("photo", textured(90, 120))).fields["editor"] == "softcut-krita"
            named = phone.phone_paste(_cut(phone), rgb8("photo", textured(90, 120)), target="softcut-gimp")
            assert named.fields["editor"] == "softcut-gimp"
            nobody = phone.phone_paste(_cut(phone), rgb8("photo", textured(90, 120)), target="softcut-photoshop")
            assert nobody.fields["status"] == "kept"
        assert (len(first.requests), len(second.requests)) == (1, 2)
        (kept,) = engine.records().values()
        assert kept["target"] == "softcut-photoshop"  # not sent to the others when they say hello again
    finally:
        first.close()
        second.close()


def test_an_unknown_or_pasted_cut_is_not_found(engine):
    editor = Editor(engine.port)
    try:
        with engine.phone() as phone:
            with pytest.raises(EngineError, match="not_found"):
                phone.phone_paste("d0123456789abcdef", rgb8("photo", textured(90, 120)))
            cut = _cut(phone)
            assert phone.phone_paste(cut, rgb8("photo", textured(90, 120))).fields["status"] == "placed_at_centre"
            with pytest.raises(EngineError, match="not_found: cut .* already pasted"):
                phone.phone_paste(cut, rgb8("photo", textured(90, 120)))
    finally:
        editor.close()


def test_a_refused_delivery_is_kept_sent_again_at_the_next_hello_and_never_after_its_ack(engine):
    refusing = Editor(engine.port, answers=[(False, "no document is open")])
    try:
        with engine.phone() as phone:
            cut = _cut(phone)
            result = phone.phone_paste(cut, rgb8("photo", textured(90, 120)))
        assert result.fields["status"] == "kept" and "no document is open" in result.fields["message"]
        assert engine.records()[cut]["state"] == "pending"
    finally:
        refusing.close()
    again = Editor(engine.port)
    try:
        eventually(lambda: not engine.records(), "the second delivery's ack")
        assert [r.fields["delivery"] for r in again.requests] == [cut]
    finally:
        again.close()
    later = Editor(engine.port)
    try:
        assert later.client.status()["clients"] == 1  # its hello is done: pending deliveries went out then
        assert later.requests == []
    finally:
        later.close()


def test_a_pending_cut_survives_a_restart_and_is_delivered_once(tiny_model, tmp_path):
    first = PhoneEngine(tiny_model, tmp_path / "outbox")
    try:
        with first.phone() as phone:
            cut = _cut(phone)
            assert phone.phone_paste(cut, rgb8("photo", textured(90, 120))).fields["status"] == "kept"
    finally:
        first.stop()
    second = PhoneEngine(tiny_model, tmp_path / "outbox")
    try:
        assert list(second.records()) == [cut]
        editor = Editor(second.port)
        try:
            eventually(lambda: not second.records(), "the delivery after the restart")
        finally:
            editor.close()
        assert [r.fields["delivery"] for r in editor.requests] == [cut]
        again = Editor(second.port)
        try:
            assert again.client.status()["jobs_done"] == 0 and again.requests == []
        finally:
            again.close()
    finally:
        second.stop()


def test_an_editor_asking_for_rgba8_gets_the_cutout_raw(engine):
    with engine.phone() as phone:
        cut = _cut(phone)
        phone.phone_paste(cut, rgb8("photo", textured(90, 120)))
    got = []
    editor = SoftcutClient(port=engine.port, token=TOKEN, name="softcut-photoshop", cutout_format="rgba8",
                           accepts={"place_layer": lambda r: got.append(r) or {"delivery": r.fields["delivery"], "ok": True}})
    with editor:
        assert editor.poll(30) == 1
    spec, data = got[0].buffer("cutout")
    assert spec.format == "rgba8" and len(data) == spec.width * spec.height * 4
    assert spec.width < 320 and spec.height < 240  # the subject, cropped out of the photo
    eventually(lambda: not engine.records(), "the ack")


# ---------------------------------------------------------------- LAN: phone_link, pairing, the page


def test_phone_link_needs_lan_mode(engine):
    with engine.phone() as phone, pytest.raises(EngineError, match="not_found: LAN mode is off"):
        phone.phone_link()


def test_phone_link_and_pairing_with_its_one_time_token(tiny_model, tmp_path):
    server = PhoneEngine(tiny_model, tmp_path / "outbox", lan=True)
    try:
        with server.phone() as panel:
            link = panel.phone_link()
        url = link.fields["url"]
        prefix = f"http://127.0.0.1:{server.port}/phone#t="
        assert url.startswith(prefix) and link.buffers["qr"][:8] == codec.PNG_SIGNATURE
        assert link.specs["qr"].width == link.specs["qr"].height > 100
        token = url[len(prefix):]
        phone = SoftcutClient(port=server.port, timeout=30, name="softcut-phone")
        credential = phone.pair(token)
        assert TOKEN not in credential and phone.scope == "phone"  # a phone-scoped token, never the master
        assert phone.status()["clients"] == 1
        phone.close()
        assert server.links.current != token  # single use: a fresh one replaces it
        with pytest.raises(EngineError, match="unauthorized"):
            SoftcutClient(port=server.port, timeout=30).pair(token)
    finally:
        server.stop()


def test_a_url_token_without_lan_mode_is_unauthorized(engine):
    with pytest.raises(EngineError, match="unauthorized: LAN mode is off"):
        SoftcutClient(port=engine.port, timeout=30).pair("A" * 22)


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_the_phone_page_and_the_panel_client_are_served_over_http(engine):
    page = phone_http.PAGE_DIR / "index.html"
    for path in ("/phone", "/phone/", "/phone?x=1"):
        status, kind, body = _get(engine.port, path)
        assert (status, kind, body) == (200, "text/html; charset=utf-8", page.read_bytes())
    # The page loads its own scripts in order; modules.js loads every file of wire/js, the panel's.
    scripts = re.findall(r'<script src="/phone/([^"]+)" defer></script>', page.read_text())
    assert tuple(scripts) == phone_http.PAGE_SCRIPTS
    for name in phone_http.SHARED_JS:
        status, kind, body = _get(engine.port, f"/phone/{name}")
        assert status == 200 and kind.startswith("text/javascript"), name
        assert body == (ROOT / "plugins" / "photoshop_uxp" / "src" / name).read_bytes()
    for name in phone_http.PAGE_FILES:
        status, kind, body = _get(engine.port, f"/phone/{name}")
        assert status == 200 and body == (phone_http.PAGE_DIR / name).read_bytes(), name
    for path in ("/", "/phone/missing.js", "/phone/../engine_server/server.py", "/phone/.hidden", "/phonex", "/token",
                 "/phone/http.py", "/phone/__init__.py"):
        assert _get(engine.port, path)[0] == 404, path


def test_the_phone_pages_own_origin_is_accepted_for_an_ip_host_only(engine):
    RawWebSocket.connect("127.0.0.1", engine.port, origin=f"http://127.0.0.1:{engine.port}", timeout=10).close()
    for host, origin in (("localhost", f"http://localhost:{engine.port}"),
                         ("127.0.0.1", f"http://127.0.0.1:{engine.port + 1}"),
                         ("127.0.0.1", f"https://127.0.0.1:{engine.port}")):
        with pytest.raises(HandshakeError) as refused:
            RawWebSocket.connect(host, engine.port, origin=origin, timeout=10)
        assert refused.value.status_code == 403, origin


def test_softcut_serve_lan_prints_the_phone_url_and_a_qr_code(tmp_path, tiny_model):
    server = EngineProcess(tmp_path / "config", tiny_model, "--device", "cpu", "--lan", home=tmp_path / "home", timeout=60)
    try:
        deadline = time.monotonic() + 30
        while not any("phone: http://" in line for line in server.log):
            assert time.monotonic() < deadline, server.log
            time.sleep(0.05)
        (line,) = [line for line in server.log if "phone: http://" in line]
        assert f":{server.port}/phone#t=" in line
        eventually(lambda: any("█" in line for line in server.log), "the QR code")
    finally:
        server.stop()
