"""The engine requests each editor action makes: recorded at a real socket, compared across editors.

:class:`RequestLog` is a TCP relay in front of a real engine: the editor under test talks to
it as to the engine, and every message's JSON header (both ways; buffers' payloads are not
kept) goes, before it is passed on, as one line of a JSON-lines file. A scenario notes the
file's line count before and after its action (``facts["requests"]``); the whole of an
action's requests are in the file by the time the editor has the answer, since each is
written before the engine could see it.

:data:`ACTIONS` says, once for every editor, which requests each user action makes (built
with :mod:`wire.protocol.messages`); :data:`GIMP_SCENARIOS` and :data:`KRITA_SCENARIOS` name
the scenario of each suite that performs it. Each real-editor suite checks that its
recorded requests are exactly :func:`expected`'s, so an editor that asks otherwise than the
others fails; ``tests/test_editor_requests.py`` checks that both suites cover every action.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import struct
import threading
from pathlib import Path
from typing import Any

from editor_files import (
    ADD_ROUGH, CHOSEN_MODEL, OBJECT_BOX, OBJECT_CLICKS, PLATE_SIZE, POSTER, REFINE, SEGMENTS_SIZE, SIZE, SUBTRACT_ROUGH,
)
from wire.protocol import messages
from wire.protocol.schemas import DEFAULT_SNAPSHOT_MAX_SIDE

LOG = "requests.jsonl"
HANDSHAKE = frozenset({"hello", "auth", "pair"})
"""Connection set-up, not an action: GIMP connects per run, Krita once."""
ENCODED = frozenset({"png", "jpeg"})
"""Buffer formats sent as files: their size is the file's, not the editor's choice."""
IMAGE_KEY = "<image key>"
"""What a select_object's ``image`` field (a key: a hash of the pixels) normalizes to."""
EARLIER_RESULT = "<an earlier result>"
"""What a ``previous`` result id made before the action's requests normalizes to."""


class FrameReader:
    """The text frames of one direction of a WebSocket connection, from its raw bytes.

    Skips the HTTP upgrade, unmasks what a client masked, joins fragments, and lets binary
    and control frames go by without keeping them.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._upgraded = False
        self._skip = 0
        self._text: list[bytes] | None = None

    def feed(self, chunk: bytes) -> list[str]:
        """The text messages completed by ``chunk``."""
        data = self._buffer
        data += chunk
        texts: list[str] = []
        if not self._upgraded:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                return texts
            del data[:end + 4]
            self._upgraded = True
        while True:
            if self._skip:
                gone = min(self._skip, len(data))
                del data[:gone]
                self._skip -= gone
                if self._skip:
                    return texts
            header = self._header(data)
            if header is None:
                return texts
            start, length, opcode, fin, key = header
            if not (opcode == 1 or (opcode == 0 and self._text is not None)):
                del data[:start]
                self._skip = length
                continue
            if len(data) < start + length:
                return texts
            payload = bytes(data[start:start + length])
            del data[:start + length]
            if key:
                payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            self._text = [payload] if opcode == 1 else [*self._text, payload]
            if fin:
                texts.append(b"".join(self._text).decode("utf-8"))
                self._text = None

    @staticmethod
    def _header(data: bytearray) -> tuple[int, int, int, bool, bytes] | None:
        """(payload start, payload length, opcode, FIN, mask key) of the frame ``data`` starts with,
        or None until its header is all there."""
        if len(data) < 2:
            return None
        opcode, fin, masked, length = data[0] & 0x0F, bool(data[0] & 0x80), bool(data[1] & 0x80), data[1] & 0x7F
        start = 2
        if length == 126:
            if len(data) < 4:
                return None
            length, start = struct.unpack(">H", data[2:4])[0], 4
        elif length == 127:
            if len(data) < 10:
                return None
            length, start = struct.unpack(">Q", data[2:10])[0], 10
        key = b""
        if masked:
            if len(data) < start + 4:
                return None
            key, start = bytes(data[start:start + 4]), start + 4
        return start, length, opcode, fin, key


class RequestLog:
    """A relay on a free loopback port to the engine on ``engine_port``, writing every message's
    JSON (``{"connection": n, "from": "client" | "engine", "message": {...}}``) to ``path``."""

    def __init__(self, engine_port: int, path: Path) -> None:
        self.path = Path(path)
        self.path.write_text("")
        self._engine_port = engine_port
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                editor, _ = self._server.accept()
            except OSError:
                return
            try:
                engine = socket.create_connection(("127.0.0.1", self._engine_port), timeout=10)
                engine.settimeout(None)
            except OSError:
                editor.close()
                continue
            number = next(self._numbers)
            for source, target, side in ((editor, engine, "client"), (engine, editor, "engine")):
                threading.Thread(target=self._pump, args=(source, target, number, side), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, number: int, side: str) -> None:
        frames = FrameReader()
        try:
            while True:
                chunk = source.recv(1 << 16)
                if not chunk:
                    break
                for text in frames.feed(chunk):
                    self._write({"connection": number, "from": side, "message": json.loads(text)})
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def _write(self, entry: dict[str, Any]) -> None:
        with self._lock, open(self.path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")


def read_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]


def normalize(message: dict[str, Any], results: dict[str, str] | None = None) -> dict[str, Any]:
    """What a request says, without what differs from run to run: its id and ref, a result's id
    (→ ``#k``: the result of the action's k-th request; a ``previous`` made before the action →
    :data:`EARLIER_RESULT`), an image key (→ :data:`IMAGE_KEY`), a delivery id, the position a
    ``placed`` message gives (located by the engine in each editor's own rendering); buffers
    as [name, format, width, height] ([name, format] for files)."""
    out: dict[str, Any] = {"type": message["type"]}
    for key, value in message.items():
        if key in ("v", "id", "ref", "type"):
            continue
        if key == "buffers":
            value = [[b["name"], b["format"]] + ([] if b["format"] in ENCODED else [b["width"], b["height"]])
                     + ([b["within"]] if "within" in b else []) for b in value]
        elif key == "result" and results is not None:
            value = results.get(value, f"unknown result {value}")
        elif key == "previous" and isinstance(value, str) and results is not None:
            value = results.get(value, EARLIER_RESULT)
        elif key == "image" and isinstance(value, str):
            value = IMAGE_KEY
        elif key == "delivery":
            value = "<delivery>"
        elif key == "message" and message["type"] == "placed":
            value = re.sub(r"-?\d+", "N", value)
        out[key] = value
    return out


def action_requests(log: list[dict[str, Any]], window: list[int], client: str) -> list[dict[str, Any]]:
    """The requests (and answers to the engine) that connections of the editor named ``client``
    sent in ``window`` (the log's [start, end) lines), handshakes left out, :func:`normalize` d."""
    start, end = window
    names = {e["connection"]: e["message"].get("client", {}).get("name") for e in log[:end]
             if e["from"] == "client" and e["message"]["type"] == "hello"}
    sent = [e["message"] for e in log[start:end]
            if e["from"] == "client" and names.get(e["connection"]) == client and e["message"]["type"] not in HANDSHAKE]
    position = {m["id"]: k for k, m in enumerate(sent)}
    results: dict[str, str] = {}  # a result id → the request that made it (adjust_edges answers with the same id)
    for e in log[start:end]:
        if e["from"] == "engine" and e["message"]["type"] == "result" and e["message"].get("ref") in position:
            results.setdefault(e["message"]["result"], f"#{position[e['message']['ref']]}")
    return [normalize(m, results) for m in sent]


# ── what each action asks, in every editor ───────────────────────────────────

def _raw(name: str, fmt: str, size: tuple[int, int]) -> tuple:
    channels = {"rgba8": 4, "rgb8": 3, "grey8": 1}[fmt]
    return messages.buffer(name, bytes(size[0] * size[1] * channels), format=fmt, width=size[0], height=size[1])


def _subject(**choice) -> list:
    return [messages.select_subject(_raw("image", "rgba8", SIZE), refine=REFINE, crop_alpha=True, **choice)]


def _plate(**choice) -> list:
    return [messages.plate_matte(_raw("image", "rgba8", PLATE_SIZE), _raw("plate", "rgba8", PLATE_SIZE),
                                 refine=REFINE, **choice)]


def _refine(edges=None) -> list:
    image, guide = _raw("image", "rgba8", SIZE), _raw("guide", "grey8", SIZE)
    chain = [messages.refine(image, guide, guide_kind="mask", mode=REFINE, outputs=["alpha"], crop_alpha=True)]
    if edges:
        chain.append(messages.adjust_edges("#0", edges=edges, outputs=["alpha"], crop_alpha=True))
    return chain


def _object(image, **choice):
    return messages.select_object(image, refine=REFINE, outputs=["alpha"], crop_alpha=True, **choice)


def _object_new() -> list:
    """Object on an image the engine has not prepared: its key first, then (not_found) its pixels."""
    prompts = {"points": OBJECT_CLICKS, "box": OBJECT_BOX, "mode": "new"}
    return [_object(IMAGE_KEY, **prompts), _object(_raw("image", "rgba8", SIZE), **prompts)]


def _correction(mode: str) -> list:
    """Add to or Subtract from Subject with the image and the last result held: the key, the rough mask (the
    box of the rectangle selected: :data:`ADD_ROUGH`, :data:`SUBTRACT_ROUGH`), the result's id."""
    x, y, w, h = ADD_ROUGH if mode == "add" else SUBTRACT_ROUGH
    mask = messages.buffer("mask", bytes(w * h), format="grey8", width=w, height=h, within=(x, y, *SIZE))
    return [_object(IMAGE_KEY, mask=mask, mode=mode, previous=EARLIER_RESULT)]


def _phone() -> list:
    scale = min(1.0, DEFAULT_SNAPSHOT_MAX_SIDE / max(POSTER))
    shown = (round(POSTER[0] * scale), round(POSTER[1] * scale))
    return [messages.snapshot("r1", _raw("image", "rgb8", shown), document={"width": POSTER[0], "height": POSTER[1]},
                              view=None),
            messages.placed("r2", delivery="<delivery>", ok=True, message="placed at (N, N)")]


ACTIONS = {
    "Select Subject into the selection": lambda: _subject(outputs=["alpha"]),
    "Select Subject into a mask": lambda: _subject(outputs=["alpha"]),
    "Select Subject into a new layer": lambda: _subject(outputs=["alpha", "foreground"]),
    "Select Subject with edge controls": lambda: _subject(outputs=["alpha"], edges={"feather": 3.0, "contrast": 20.0}),
    "Select Subject with a chosen model": lambda: _subject(outputs=["alpha"], model=CHOSEN_MODEL),
    "Refine Selection": lambda: _refine(),
    "Refine Selection with an edge control": lambda: _refine({"shift_edge": 30.0}),
    "Soft Segment Layers, 3": lambda: [messages.soft_segments(_raw("image", "rgba8", SEGMENTS_SIZE), count=3,
                                                               masks="stacked")],
    "Clean plate (a layer) into the selection": lambda: _plate(outputs=["alpha"]),
    "Clean plate (a layer) into a mask": lambda: _plate(outputs=["alpha"]),
    "Clean plate (a layer) into a new layer": lambda: _plate(outputs=["alpha", "foreground"]),
    "Clean plate (a PNG file) into the selection": lambda: _plate(outputs=["alpha"]),
    "A phone cut-out pasted": _phone,
    "Object (a box and clicks), the image new to the engine": _object_new,
    "Add to Subject (the engine holds the image and the last result)": lambda: _correction("add"),
    "Subtract from Subject (the engine holds the image and the last result)": lambda: _correction("subtract"),
}
"""Each user action → the requests it makes (in order), whichever editor performs it."""

GIMP_SCENARIOS = {
    "rgb8_selection": "Select Subject into the selection",
    "rgb8_mask": "Select Subject into a mask",
    "rgb8_layer": "Select Subject into a new layer",
    "edges_selection": "Select Subject with edge controls",
    "model_selection": "Select Subject with a chosen model",
    "refine": "Refine Selection",
    "refine_edges": "Refine Selection with an edge control",
    "segments_dialog": "Soft Segment Layers, 3",
    "plate_selection": "Clean plate (a layer) into the selection",
    "plate_mask": "Clean plate (a layer) into a mask",
    "plate_layer": "Clean plate (a layer) into a new layer",
    "plate_file_png": "Clean plate (a PNG file) into the selection",
    "phone_paste": "A phone cut-out pasted",
    "object_box_points": "Object (a box and clicks), the image new to the engine",
    "add_to_subject": "Add to Subject (the engine holds the image and the last result)",
    "subtract_from_subject": "Subtract from Subject (the engine holds the image and the last result)",
}
"""tests/gimp's scenario for each action."""

KRITA_SCENARIOS = {
    "rgba8_selection": "Select Subject into the selection",
    "rgba8_mask": "Select Subject into a mask",
    "rgba8_layer": "Select Subject into a new layer",
    "edges_selection": "Select Subject with edge controls",
    "model_choice": "Select Subject with a chosen model",
    "refine": "Refine Selection",
    "refine_edges": "Refine Selection with an edge control",
    "segments": "Soft Segment Layers, 3",
    "plate_selection": "Clean plate (a layer) into the selection",
    "plate_mask": "Clean plate (a layer) into a mask",
    "plate_layer": "Clean plate (a layer) into a new layer",
    "plate_file_png": "Clean plate (a PNG file) into the selection",
    "phone": "A phone cut-out pasted",
    "object_box_points": "Object (a box and clicks), the image new to the engine",
    "add_to_subject": "Add to Subject (the engine holds the image and the last result)",
    "subtract_from_subject": "Subtract from Subject (the engine holds the image and the last result)",
}
"""tests/krita's scenario for each action."""


def expected(action: str) -> list[dict[str, Any]]:
    """The requests ``action`` makes, :func:`normalize` d (a PNG plate: [name, format] only)."""
    made = [normalize(json.loads(json.dumps(m.to_json()))) for m in ACTIONS[action]()]
    if "PNG file" in action:
        made[0]["buffers"][1] = ["plate", "png"]
    return made
