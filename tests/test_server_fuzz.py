"""Property-based fuzzing of the real engine process (``softcut serve``) over WebSocket.

One engine per module (a tiny ONNX model, so jobs are quick). Every example opens its
own connection, sends frames drawn by hypothesis (malformed JSON, wrong field types and
values for every request type, out-of-order messages, stray and lying binary frames,
bad PNG headers, random interleavings of all of these), then checks:

* every message the engine sends decodes with ``codec.Decoder(role="client")`` (which
  validates it against ``schemas.REPLY_SCHEMAS``), and an ``error``'s code is one of
  ``ERROR_CODES``;
* each broken message gets exactly one ``error`` (or nothing, where the codec's SKIP
  state drops frames silently): a local ``Decoder(role="engine")`` fed the same frames
  predicts which, and a message that ``jsonschema`` finds invalid is never accepted;
* good messages get their documented answers, and jobs follow
  ``accepted → progress* → result | error | cancelled`` (no ``internal`` errors);
* the engine stays up: after every example a fresh connection says hello and gets a
  ``status`` reply, and the process is alive.

``SOFTCUT_FUZZ_EXAMPLES`` sets the examples per test (default small enough for CI);
run with ``-s`` to see the total number of cases tried.
"""

from __future__ import annotations

import collections
import io
import itertools
import json
import os
import struct
import time
from dataclasses import dataclass, field

import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import build_tiny_model, write_sidecar
from testing.raw_websocket import ConnectionClosed, Opcode
from engine_server.gate import PRE_HELLO_FRAME_BYTES
from wire.protocol import auth, codec, messages, schemas
from wire.protocol.errors import ERROR_CODES, ProtocolError
from handshake import handshake
from test_server import Engine

EXAMPLES = int(os.environ.get("SOFTCUT_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
WAIT_S = 60.0
CASES: collections.Counter[str] = collections.Counter()
"""Examples run per test, and frames sent (printed when the module's engine stops)."""

_ids = itertools.count(1)


def fresh_id(prefix: str = "q") -> str:
    return f"{prefix}{next(_ids)}"


# ---------------------------------------------------------------- the engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz_engine")
    model = build_tiny_model(tmp / "tiny.onnx")
    write_sidecar(model)
    server = Engine(tmp, model)
    with server.raw() as ws:  # the loaded model's name, for predicting `model` checks
        welcome = handshake(ws, server.token)
        server.model_name = next(m["name"] for m in welcome.fields["models"] if m.get("loaded"))
    started = time.monotonic()
    try:
        yield server
    finally:
        alive = server.proc.poll() is None
        server.stop()
        total = sum(v for k, v in CASES.items() if ":" not in k and k != "frames")
        print(
            f"\n[fuzz] {total} cases (examples), {CASES['frames']} frames in {time.monotonic() - started:.1f} s "
            f"({', '.join(f'{k}={v}' for k, v in sorted(CASES.items()))}); engine alive at the end: {alive}"
        )
        assert alive, "the engine process died:\n" + "".join(server.log[-40:])


# ---------------------------------------------------------------- one fuzzed connection


@dataclass
class Job:
    type: str
    allowed_errors: set[str]
    outputs: list[str]
    state: str = "submitted"  # → accepted | busy | done
    cancels: set[str] = field(default_factory=set)
    fraction: float = 0.0
    ended: bool = False  # a video stream whose video_end was sent
    frames: int = 0  # the frame messages a video stream sent


class Conn:
    """A raw connection plus a model of what the engine owes it.

    Every frame sent is also fed to a local ``Decoder(role="engine")`` (the mirror)
    that predicts the engine's codec verdict; the dispatch rules of docs/protocol.md
    give the answer to each decoded message. Answers are matched by ``ref``: sent ids
    are unique, so each expected answer is claimed exactly once.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ws = engine.raw()
        self.decoder = codec.Decoder(role="client")
        self.mirror = codec.Decoder(role="engine")
        self.ready = False
        self.closing = False  # an unknown key or a wrong proof was sent: the engine closes (4001)
        self.close_code = 4001  # the close that ``closing`` expects (1009: a frame too large before welcome)
        self._welcome_due: str | None = None  # the proving auth whose welcome must come before the next frame
        self.nonce: str | None = None  # the nonce of the hello the engine owes a challenge (or has sent one)
        self.challenge: tuple[str, str] | None = None  # (id, engine nonce) of the challenge received
        self.sync_owed: dict[str, tuple[set[tuple[str, str | None]], bool]] = {}  # ref → (answers, optional)
        self.anonymous_errors: collections.Counter[str] = collections.Counter()  # codes owed with ref None
        self.jobs: dict[str, Job] = {}
        self.results: list[str] = []  # result ids this connection got
        self.frames_owed: dict[str, set[tuple[str, str | None]]] = {}  # video_frame id → its possible errors
        self.closed_with: int | None = None
        self.log: list[str] = []
        self._header_text: str | None = None

    # ------------------------------------------------------------ sending

    def send(self, frame: str | bytes) -> None:
        """Send one frame and record what the engine owes for it."""
        if self.closing or self.closed_with is not None:
            return
        CASES["frames"] += 1
        self.log.append(f"> {frame[:200]!r}" if isinstance(frame, str) else f"> binary {len(frame)} bytes")
        size = len(frame.encode("utf-8", "surrogatepass")) if isinstance(frame, str) else len(frame)
        if not self.ready and size > PRE_HELLO_FRAME_BYTES:
            # Before welcome the engine takes frames of a hello's size only: this one is refused from its
            # header and the connection closed (1009); answers still queued for earlier frames may be lost.
            CASES["pre_hello_too_large"] += 1
            self.closing, self.close_code = True, 1009
            try:
                (self.ws.send_text if isinstance(frame, str) else self.ws.send_binary)(frame, timeout=WAIT_S)
            except (ConnectionClosed, OSError):
                pass
            return
        try:
            message = self.mirror.feed(frame)
        except ProtocolError as exc:
            self._owe(exc.ref, ("error", exc.code))
        else:
            if isinstance(frame, str):
                self._check_jsonschema(frame)
            if message is not None:
                self._expect(message)
        try:
            (self.ws.send_text if isinstance(frame, str) else self.ws.send_binary)(frame, timeout=WAIT_S)
        except (ConnectionClosed, OSError) as exc:
            raise AssertionError(f"the engine closed the connection unexpectedly: {exc!r}\n" + self.transcript()) from None
        deadline = time.monotonic() + WAIT_S
        while self._welcome_due in self.sync_owed:  # the engine takes full-size frames once welcome is out
            if not self._receive(deadline):
                raise AssertionError(f"connection closed ({self.closed_with}) before welcome\n" + self.transcript())
        self._welcome_due = None

    def send_json(self, obj, *payloads: bytes) -> None:
        if isinstance(obj, dict) and isinstance(obj.get("stream"), OpenStream):
            obj = {**obj, "stream": obj["stream"].resolve(self)}
        self.send(dumps(obj))
        for data in payloads:
            self.send(data)

    def _owe(self, ref: str | None, *answers: tuple[str, str | None], optional: bool = False) -> None:
        """The engine owes ``ref`` one of ``answers`` (none at all where ``optional``)."""
        if ref is None:
            (answer,) = answers
            assert answer[0] == "error"
            self.anonymous_errors[answer[1]] += 1
            return
        assert ref not in self.sync_owed and ref not in self.jobs, f"test bug: id {ref!r} reused"
        self.sync_owed[ref] = (set(answers), optional)

    def _check_jsonschema(self, frame: str) -> None:
        """Independent oracle: the codec never accepts a request JSON its JSON Schema refuses."""
        obj = json.loads(frame)
        errors = list(jsonschema.Draft202012Validator(schemas.REQUEST_SCHEMAS[obj["type"]]).iter_errors(obj))
        assert not errors, f"the codec accepted a request its JSON Schema refuses: {errors[0].message}\n{frame[:500]}"

    def _expect(self, message: messages.Message) -> None:
        """What the engine answers to a decoded request (docs/protocol.md, dispatch rules)."""
        t, mid = message.type, message.id
        if t in schemas.EDITOR_REPLY_TYPES and message.ref is not None:  # an editor's answer to an engine request
            if not self.ready:
                self._owe(mid, ("error", "not_ready"))
            return  # after hello: no engine request awaits it, so it is dropped without an answer
        if not self.ready:
            if self.nonce is not None:  # a challenge is owed or came: only auth is answered
                if t != "auth":
                    self._owe(mid, ("error", "not_ready"))
                elif self.proves(message):
                    self._owe(mid, ("welcome", None))
                    self.ready = True
                    self._welcome_due = mid  # like every client, wait for it before sending more
                else:
                    self._owe(mid, ("error", "unauthorized"))
                    self.closing = True
            elif t != "hello":
                self._owe(mid, ("error", "not_ready"))
            elif message.fields["key"] != auth.MASTER_KEY:  # the fuzz engine issued no scoped token
                self._owe(mid, ("error", "unauthorized"))
                self.closing = True
            else:
                self._owe(mid, ("challenge", None))
                self.nonce = message.fields["nonce"]
            return
        if t in ("hello", "pair", "auth"):
            self._owe(mid, ("error", "bad_message"))
        elif t in ("status", "models.list"):
            self._owe(mid, ("status" if t == "status" else "models", None))
        elif t == "phone_link":
            self._owe(mid, ("error", "not_found"))  # the fixture's engine is not in LAN mode
        elif t in ("video_frame", "video_end"):
            stream = self.jobs.get(message.fields["stream"])
            if stream is None or stream.type != "video_start" or stream.ended or stream.state == "done":
                self._owe(mid, ("error", "not_found"))
            elif t == "video_end":
                stream.ended = True  # the stream's result ends it (not_found if it was refused as busy)
                self._owe(mid, ("error", "not_found"), optional=True)
            else:  # a frame: a `frame` message for the stream later, or an error for this id: it cannot be
                # decoded, is too small or not the first frame's size, max_pending_frames are unanswered, or
                # the stream was refused (busy) or failed (an unknown model, a bad plate) before it came.
                # The stream answers it in its own time (after later syncs), or not at all if it fails.
                self.frames_owed[mid] = {("error", code) for code in ("bad_image", "bad_parameter", "busy", "not_found")}
        elif t == "cancel":
            job = self.jobs.get(message.fields["job"])
            if job is not None and job.state in ("submitted", "accepted"):
                job.cancels.add(mid)  # nothing now (running) or `cancelled` by=mid; not_found if it just ended
                self._owe(mid, ("error", "not_found"), optional=True)
            else:
                self._owe(mid, ("error", "not_found"))
        else:
            allowed: set[str] = set()
            if any(spec.format == "png" for spec in message.specs):
                allowed.add("bad_image")  # a PNG whose header is right and whose body is not
            if any(min(spec.width, spec.height) < 2 for spec in message.specs):
                allowed |= {"bad_parameter", "bad_image"}  # the pipeline needs 2x2 (not checked on arrival)
            if t == "refine":
                allowed.add("bad_parameter")  # a guide with no known pixels cannot be refined
            if t == "plate_matte":
                allowed.add("alignment_failed")  # flat fuzz images have nothing to align by
            if "model" in message.fields and message.fields["model"] != self.model_name():
                allowed.add("not_found")
            if t == "adjust_edges" and message.fields["result"] not in self.results:
                allowed = {"not_found"}
            if t == "phone_paste":
                allowed = {"not_found"}  # no cut of this connection's making
            outputs = {"trimap": ["trimap"], "phone_cut": ["preview"], "phone_paste": [], "video_start": []}.get(
                t, list(message.fields.get("outputs", ["alpha"])))
            assert mid not in self.sync_owed and mid not in self.jobs, f"test bug: id {mid!r} reused"
            self.jobs[mid] = Job(t, allowed, outputs)

    def proves(self, message: messages.Message) -> bool:
        """Whether ``auth`` ``message`` answers the challenge received with the right proof."""
        if self.challenge is None:
            return False
        challenge, engine_nonce = self.challenge
        proof = auth.client_proof(self.engine.token, self.nonce, engine_nonce)
        return message.ref == challenge and message.fields["proof"] == proof

    def handshake(self, *, key: str = auth.MASTER_KEY, proof: str | None = None) -> None:
        """hello, then (once its challenge is in) auth with the right proof or ``proof``."""
        self.send_json(hello_obj(key))
        if self.nonce is None or self.ready or self.challenge is not None:
            return  # no challenge owed for this hello (it is refused, or the handshake was done)
        deadline = time.monotonic() + WAIT_S
        while self.challenge is None:
            if not self._receive(deadline):
                raise AssertionError(f"connection closed ({self.closed_with}) before the challenge\n" + self.transcript())
        challenge, engine_nonce = self.challenge
        self.send_json({"v": 2, "type": "auth", "id": fresh_id("auth"), "ref": challenge,
                        "proof": proof if proof is not None else auth.client_proof(self.engine.token, self.nonce, engine_nonce)})

    def model_name(self) -> str:
        return self.engine.model_name  # set by the fixture

    # ------------------------------------------------------------ receiving

    def _receive(self, deadline: float) -> bool:
        """Take one message from the engine and check it; False once the connection closed."""
        try:
            frame = self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as exc:
            self.closed_with = exc.code
            return False
        except Exception as exc:
            raise AssertionError(f"no answer from the engine ({exc!r})\n" + self.transcript()) from None
        try:
            message = self.decoder.feed(frame)
        except ProtocolError as exc:
            raise AssertionError(f"the engine sent a non-conforming frame: {exc!r}: {frame[:300]!r}\n" + self.transcript()) from None
        if message is not None:
            self.log.append(f"< {message.type} ref={message.ref} {str(message.fields)[:160]}")
            self._check(message)
        return True

    def _check(self, m: messages.Message) -> None:
        where = f"{m.type} ref={m.ref} {m.fields}\n" + self.transcript()
        schemas.check_reply(m)
        if m.type == "error":
            assert m.fields["code"] in ERROR_CODES, where
        if m.ref in self.jobs:
            self._job_event(self.jobs[m.ref], m, where)
        elif m.ref in self.frames_owed:
            answers = self.frames_owed.pop(m.ref)
            assert (m.type, m.fields.get("code")) in answers, f"expected {answers}; got " + where
        elif m.ref in self.sync_owed:
            answers, _ = self.sync_owed.pop(m.ref)
            assert (m.type, m.fields.get("code")) in answers, f"expected {answers}; got " + where
            if m.type == "challenge":
                self.challenge = (m.id, m.fields["nonce"])
                assert m.fields["proof"] == auth.engine_proof(self.engine.token, self.nonce, m.fields["nonce"]), where
            if m.type == "welcome":
                assert m.fields["limits"]["max_text_bytes"] == self.mirror.max_text_bytes, where
                assert m.fields["limits"]["max_frame_bytes"] == self.mirror.max_frame_bytes, where
                assert m.fields["limits"]["max_pixels"] == self.mirror.max_pixels, where
        elif m.ref is None and m.type == "error":
            code = m.fields["code"]
            assert self.anonymous_errors[code] > 0, "unexpected error without ref: " + where
            self.anonymous_errors[code] -= 1
        else:
            raise AssertionError("unexpected message: " + where)

    def _job_event(self, job: Job, m: messages.Message, where: str) -> None:
        assert job.state != "done", "message after the end of the job: " + where
        if job.state == "submitted":
            if m.type == "error" and m.fields["code"] == "busy":
                job.state = "done"
                return
            assert m.type == "accepted", "expected accepted or busy: " + where
            job.state = "accepted"
            return
        if m.type == "progress":
            assert m.fields["fraction"] >= job.fraction, "progress went back: " + where
            job.fraction = m.fields["fraction"]
            return
        if m.type == "frame":
            assert job.type == "video_start" and m.fields["index"] == job.frames, "frames in order: " + where
            assert self.frames_owed.pop(m.fields["frame"], None), "a frame for no video_frame awaiting one: " + where
            job.frames += 1
            return
        job.state = "done"
        if m.type == "result":
            assert [s.name for s in m.specs] == job.outputs, where
            if job.type not in ("trimap", "phone_cut", "phone_paste", "video_start"):  # no matte: their result ids are not for adjust_edges
                self.results.append(m.fields["result"])
        elif m.type == "error":
            assert m.fields["code"] in job.allowed_errors, f"job error not allowed here ({job.allowed_errors}): " + where
        elif m.type == "cancelled":
            assert job.cancels, "cancelled though nobody asked: " + where
            assert m.fields.get("by") in job.cancels, "cancelled must carry by = the cancel's id: " + where
        else:
            raise AssertionError("unexpected job message: " + where)

    # ------------------------------------------------------------ synchronising

    def sync(self) -> None:
        """Wait until the engine has answered every frame sent so far (a status round trip)."""
        deadline = time.monotonic() + WAIT_S
        if self.closing:
            while self._receive(deadline):
                pass
            assert self.closed_with == self.close_code, \
                f"expected close {self.close_code}; got {self.closed_with}\n" + self.transcript()
        else:
            marker = None
            while marker is None or marker not in self.sync_owed:
                # a text frame while buffers are due is dropped (and answered by an error): send another
                marker = fresh_id("sync")
                self.send(json.dumps({"v": 2, "type": "status", "id": marker}))
            while marker in self.sync_owed:
                if not self._receive(deadline):
                    raise AssertionError(f"connection closed ({self.closed_with}) during sync\n" + self.transcript())
        if self.close_code != 1009:  # after a 1009, answers queued for earlier frames may not have gone out
            leftover = {ref: a for ref, (a, optional) in self.sync_owed.items() if not optional}
            assert not leftover, f"unanswered: {leftover}\n" + self.transcript()
            assert not +self.anonymous_errors, f"errors owed, never sent: {dict(+self.anonymous_errors)}\n" + self.transcript()
        self.sync_owed.clear()
        for job in self.jobs.values():
            assert job.state != "submitted", "job neither accepted nor refused before a later reply\n" + self.transcript()

    def drain(self) -> None:
        """End the open video streams, sync, then wait for every accepted job to end."""
        for ref, job in list(self.jobs.items()):
            # a text frame while buffers are due is dropped with the request they belong to: send another
            while job.type == "video_start" and job.state != "done" and not job.ended and not self.closing and self.closed_with is None:
                self.send(json.dumps({"v": 2, "type": "video_end", "id": fresh_id("end"), "stream": ref}))
        self.sync()
        deadline = time.monotonic() + WAIT_S
        while self.closed_with is None and any(j.state != "done" for j in self.jobs.values()):
            if not self._receive(deadline):
                raise AssertionError("connection closed with jobs running\n" + self.transcript())
        if self.closed_with is None:
            self.sync()

    def close(self) -> None:
        self.ws.close(timeout=2)

    def transcript(self) -> str:
        return "transcript:\n  " + "\n  ".join(self.log[-40:])


def dumps(obj, ensure_ascii: bool = False) -> str:
    """Compact JSON; lone surrogates (which a UTF-8 frame cannot carry) go out as \\uXXXX escapes."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=ensure_ascii)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(obj, separators=(",", ":"))
    return text


def hello_obj(key: str = auth.MASTER_KEY, id: str | None = None) -> dict:
    return {"v": 2, "type": "hello", "id": id or fresh_id("h"), "protocol": 2, "client": {"name": "fuzz", "version": "0"},
            "key": key, "nonce": auth.new_nonce()}


def assert_engine_up(engine: Engine) -> None:
    assert engine.proc.poll() is None, "the engine died:\n" + "".join(engine.log[-40:])
    conn = Conn(engine)
    try:
        conn.handshake()
        conn.drain()
        assert conn.ready
    finally:
        conn.close()


def run_example(engine: Engine, name: str, ops, *, hello_first: bool = True) -> None:
    """Run ``ops`` (callables taking a Conn) on fresh connections, then check the engine is up."""
    CASES[name] += 1
    conn = Conn(engine)
    try:
        if hello_first:
            conn.handshake()
        for op in ops:
            if conn.closing:  # the engine hung up after an unknown key or a wrong proof: carry on on a new connection
                conn.drain()
                conn.close()
                conn = Conn(engine)
            op(conn)
        conn.drain()
    finally:
        conn.close()
    assert_engine_up(engine)


# ---------------------------------------------------------------- strategies

SAFE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
"""Text a UTF-8 frame can carry as it is."""
TEXT = st.text(max_size=40) | st.sampled_from(["\ud800", "a\udfff", "\udc00\ud800", "é\u2028\x00"])
"""Any text, lone surrogates included (JSON strings carry them escaped)."""
IDS = st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True)
KEY_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True).filter(lambda k: k != auth.MASTER_KEY)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 1, 2, 10**30, 10**300, -(10**300)]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.5, -0.0, 1e-300, 1e308, 1.0, 100.0001, 1000.5, -100.5, 0.50001]),
    TEXT,
)
JSON = st.recursive(SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(TEXT, c, max_size=3), max_leaves=8)
NOT_OBJECTS = st.recursive(SCALARS, lambda c: st.lists(c, max_size=3), max_leaves=6)


def png_bytes(width: int, height: int, mode: str = "RGB") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 20) if mode == "RGB" else 128).save(out, "PNG")
    return out.getvalue()


@st.composite
def image_buffers(draw, name: str = "image", formats=schemas.IMAGE_FORMATS, size: tuple[int, int] | None = None):
    """(spec json, payload): a good raw or PNG buffer, or a PNG with a broken header or body."""
    width, height = size or (draw(st.integers(1, 24)), draw(st.integers(1, 24)))
    fmt = draw(st.sampled_from(formats))
    if fmt in schemas.RAW_CHANNELS:
        payload = draw(st.sampled_from([b"\x00", b"\xff", b"\x80\x10\xf0"]))
        payload = (payload * (width * height * 4))[: width * height * schemas.RAW_CHANNELS[fmt]]
    else:
        payload = png_bytes(width, height, "L" if name == "guide" else "RGB")
        damage = draw(st.sampled_from(["none", "none", "signature", "ihdr_size", "truncated", "body", "not_png"]))
        if damage == "signature":
            payload = b"\x89PNG\r\n\x1a\x00" + payload[8:]
        elif damage == "ihdr_size":
            payload = payload[:16] + struct.pack(">II", width + 1, height) + payload[24:]
        elif damage == "truncated":
            payload = payload[: draw(st.integers(1, 32))]
        elif damage == "body":
            payload = payload[:33] + b"\x00" * max(1, len(payload) - 33)
        elif damage == "not_png":
            payload = draw(st.binary(min_size=1, max_size=64))
    return {"name": name, "format": fmt, "width": width, "height": height, "size": len(payload)}, payload


@st.composite
def valid_fields(draw, type_: str):
    """Some optional fields of ``type_`` with valid values."""
    props = schemas.REQUEST_SCHEMAS[type_]["properties"]
    out = {}
    for key, prop in props.items():
        if key in ("v", "type", "id", "buffers") or not draw(st.booleans()):
            continue
        if "enum" in prop:
            out[key] = draw(st.sampled_from(prop["enum"]))
        elif prop.get("type") == "number":
            out[key] = draw(st.floats(prop["minimum"], prop["maximum"]))
        elif prop.get("type") == "array":
            items = prop["items"]["enum"]
            out[key] = draw(st.lists(st.sampled_from(items), min_size=1, max_size=len(items), unique=True))
        elif key == "edges":
            out[key] = {k: draw(st.floats(p["minimum"], p["maximum"])) for k, p in prop["properties"].items() if draw(st.booleans())}
        elif key == "model":
            out[key] = draw(st.sampled_from(["tiny", "u2net", "no-such-model", "\ud800", "é\udfff"]) | TEXT.filter(bool))
    return out


VIDEO_FRAME_SIZE = (12, 9)
"""The size (width, height) of the fuzz's video frames, but for the few drawn to differ from their stream's."""


class OpenStream(str):
    """A ``video_frame``'s ``stream`` drawn as "one of the connection's open streams": :meth:`resolve`
    (by :meth:`Conn.send_json`) picks the id of an open ``video_start`` of the connection the frame
    is sent on; where it has none (or the JSON is sent as text as it is), this unknown id."""

    pick: int

    def __new__(cls, pick: int) -> "OpenStream":
        self = super().__new__(cls, "s" + fresh_id("nostream"))
        self.pick = pick
        return self

    def resolve(self, conn: "Conn") -> str:
        open_ = [ref for ref, job in conn.jobs.items() if job.type == "video_start" and not job.ended and job.state != "done"]
        return open_[self.pick % len(open_)] if open_ else str(self)


@st.composite
def requests(draw, type_: str | None = None, results: tuple[str, ...] = ()):
    """(json object, payloads) of a well-formed request (its id fresh), token left to the caller.

    A ``video_frame``'s ``stream`` is an :class:`OpenStream`: one of the connection's open streams
    when sent (as :attr:`Conn.results` is for ``adjust_edges`` in the interleavings)."""
    type_ = type_ or draw(st.sampled_from([t for t in schemas.REQUEST_TYPES if t != "hello"]))
    obj = {"v": 2, "type": type_, "id": fresh_id()}
    payloads: list[bytes] = []
    if type_ == "hello":  # a key the engine does not know
        obj.update(protocol=2, client={"name": "fuzz", "version": "0"}, key=draw(KEY_IDS), nonce=auth.new_nonce())
    elif type_ == "auth":  # a proof for no challenge of this connection
        obj.update(ref=fresh_id("e"), proof=auth.new_nonce())
    elif type_ in ("select_subject", "plate_matte", "trimap", "refine", "phone_cut"):
        spec, data = draw(image_buffers())
        obj["buffers"], payloads = [spec], [data]
        if type_ == "refine":
            gspec, gdata = draw(image_buffers("guide", schemas.GUIDE_FORMATS, (spec["width"], spec["height"])))
            obj["buffers"].append(gspec)
            payloads.append(gdata)
        elif type_ == "plate_matte":  # a plate of the image's size, or (sometimes) of another
            size = (spec["width"], spec["height"]) if draw(st.integers(0, 3)) else None
            pspec, pdata = draw(image_buffers("plate", size=size))
            obj["buffers"].append(pspec)
            payloads.append(pdata)
    elif type_ == "video_frame":  # its stream's frame size, or (sometimes) another
        spec, data = draw(image_buffers(size=VIDEO_FRAME_SIZE if draw(st.integers(0, 5)) else None))
        obj["buffers"], payloads = [spec], [data]
        obj["stream"] = OpenStream(draw(st.integers(0, 3)))
    elif type_ == "video_end":
        obj["stream"] = OpenStream(draw(st.integers(0, 3)))
    elif type_ == "adjust_edges":
        obj["result"] = draw(st.sampled_from(results)) if results and draw(st.booleans()) else "r" + fresh_id("unknown")
    elif type_ == "cancel":
        obj["job"] = fresh_id("nojob")
    obj.update(draw(valid_fields(type_)))
    return obj, payloads


def _schema_paths(schema: dict, prefix: tuple = ()) -> list[tuple]:
    """Every property path of a request schema (nested objects and buffer specs included)."""
    out = []
    for key, prop in schema.get("properties", {}).items():
        out.append((*prefix, key))
        if prop.get("type") == "object":
            out += _schema_paths(prop, (*prefix, key))
        if key == "buffers" and "prefixItems" in prop:
            for i, item in enumerate(prop["prefixItems"]):
                out += _schema_paths(item, (*prefix, key, i))
    return out


BAD_VALUES = st.one_of(JSON, SCALARS, st.sampled_from(["", "x" * 300, "rgba8", "png", "alpha", "best", "batch", "status"]))


@st.composite
def mutated_requests(draw, type_: str):
    """A request of ``type_`` with fields set to random (mostly wrong) values, removed or added."""
    obj, payloads = draw(requests(type_))
    if type_ == "hello" and draw(st.booleans()):
        obj["key"] = auth.MASTER_KEY  # the key the engine knows: a challenge, unless a mutation breaks the hello
    paths = _schema_paths(schemas.REQUEST_SCHEMAS[type_])
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["set", "set", "set", "delete", "add"]))
        path = draw(st.sampled_from(paths))
        parent = obj
        for key in path[:-1]:
            ok = (isinstance(parent, dict) and key in parent) or (isinstance(parent, list) and isinstance(key, int) and key < len(parent))
            if not ok:
                break
            parent = parent[key]
        else:
            key = path[-1]
            if not isinstance(parent, dict):
                continue
            if action == "set":
                parent[key] = draw(BAD_VALUES)
            elif action == "delete":
                parent.pop(key, None)
            else:
                parent[draw(TEXT.filter(lambda k: k not in parent))] = draw(JSON)
    if messages.is_valid_id(obj.get("id")):
        obj["id"] = fresh_id()  # valid ids stay unique per connection
    # the payloads follow whatever the (mutated) buffers announce; sizes that lie are sent short
    frames = []
    buffers = obj.get("buffers")
    if isinstance(buffers, list):
        for i, spec in enumerate(buffers[:8]):
            size = spec.get("size") if isinstance(spec, dict) else None
            if i < len(payloads) and size == len(payloads[i]):
                frames.append(payloads[i])
            elif isinstance(size, int) and not isinstance(size, bool) and size > 0:
                frames.append(b"\x07" * min(size, 4096))
    return obj, frames


# ---------------------------------------------------------------- the properties


@st.composite
def malformed_texts(draw):
    kind = draw(st.sampled_from(["random", "truncated", "non_object", "huge_number", "nan", "duplicate", "deep", "bad_utf16", "too_long", "envelope"]))
    CASES[f"text:{kind}"] += 1
    obj, _ = draw(requests())
    good = json.dumps(obj)
    if kind == "random":
        return draw(SAFE_TEXT)
    if kind == "truncated":
        return good[: draw(st.integers(0, 10**6)) % len(good)]  # (ids differ in length between runs)
    if kind == "non_object":
        return json.dumps(draw(NOT_OBJECTS))
    if kind == "huge_number":
        key = draw(st.sampled_from(["v", "band", "decontaminate", "protocol", "width", "size", "position", "id"]))
        number = draw(st.sampled_from(["1e400", "-1e400", "9" * 5000, "1" + "0" * 400, "1e-400", "1.0", "-0"]))
        return good[:-1] + f',"{key}":{number}}}' if key not in obj else good.replace(f'"{key}": ', f'"{key}": {number}, "x{key}": ', 1)
    if kind == "nan":
        key = draw(st.sampled_from(["v", "band", "decontaminate", "edges", "zz"]))
        return good[:-1] + f',"{key}":{draw(st.sampled_from(["NaN", "Infinity", "-Infinity"]))}}}'
    if kind == "duplicate":
        key = draw(st.sampled_from(["v", "type", "id", "buffers", "band"]))
        return good[:-1] + f',"{key}":{json.dumps(obj.get(key, 1))}}}'
    if kind == "deep":
        # not near 1000: where Python's recursion limit stops the JSON parser depends on each process's stack
        depth = draw(st.sampled_from([50, 500, 700, 2000, 5000, 100000]))
        key = draw(st.sampled_from(["zz", "outputs", "edges", "model", "token", "buffers", "id", "type"]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return good[:-1] + f',"{key}":' + opener * depth + "1" + closer * depth + "}"
    if kind == "bad_utf16":
        key = draw(st.sampled_from(["type", "id", "model", "zz", "token", "outputs", "format"]))
        value = draw(st.sampled_from(['"\\ud800"', '"a\\udfff"', '["\\ud83d"]', '{"\\udc00":1}']))
        if key in obj:
            del obj[key]
        return json.dumps(obj)[:-1] + f',"{key}":{value}}}'
    if kind == "too_long":
        return good[:-1] + ',"zz":"' + "a" * (1024 * 1024) + '"}'
    # envelope: v / type / id replaced by a random value or removed
    key = draw(st.sampled_from(["v", "type", "id", "buffers", "ref"]))
    if draw(st.booleans()):
        obj.pop(key, None)
    else:
        obj[key] = draw(BAD_VALUES | IDS)
    if messages.is_valid_id(obj.get("id")):
        obj["id"] = fresh_id()
    return dumps(obj, ensure_ascii=draw(st.booleans()))


def test_malformed_json_text_frames(engine, record_property):
    @FUZZ
    @given(st.lists(malformed_texts(), min_size=1, max_size=4), st.booleans())
    @example(['{"v":2,"id":"a1","type":"\\ud800"}', '{"v":2,"id":"a2","type":"status","x\\udfff":1}'], True)  # found by fuzzing
    def check(texts, hello_first):
        run_example(engine, "malformed_text", [lambda c, t=t: c.send(t) for t in texts], hello_first=hello_first)

    check()
    record_property("fuzz_cases", CASES["malformed_text"])


def test_wrong_fields_for_every_request_type(engine, record_property):
    @FUZZ
    @given(st.data())
    def check(data):
        type_ = data.draw(st.sampled_from(schemas.REQUEST_TYPES))
        CASES[f"fields:{type_}"] += 1
        obj, frames = data.draw(mutated_requests(type_))
        hello_first = type_ != "hello" or data.draw(st.booleans())
        run_example(engine, "wrong_fields", [lambda c: c.send_json(obj, *frames)], hello_first=hello_first)

    check()
    record_property("fuzz_cases", CASES["wrong_fields"])


@st.composite
def out_of_order_ops(draw):
    """Requests before hello, second hellos, unknown keys, wrong proofs, cancels and adjust_edges of unknown ids,
    unknown and engine-only types."""
    kind = draw(st.sampled_from(["request", "hello", "bad_key", "bad_proof", "bad_protocol", "cancel", "adjust", "unknown_type",
                                 "engine_type"]))
    CASES[f"order:{kind}"] += 1
    if kind == "request":
        obj, payloads = draw(requests())
        return lambda c: c.send_json(obj, *payloads)
    if kind == "hello":
        return lambda c: c.handshake()
    if kind == "bad_key":  # unknown to the engine, or not a key id at all (bad_parameter)
        key = draw(KEY_IDS | TEXT.filter(bool) | st.text(min_size=1, max_size=256))
        return lambda c: c.handshake(key=key)
    if kind == "bad_proof":
        proof = draw(st.from_regex(r"[0-9a-f]{64}", fullmatch=True) | TEXT)
        return lambda c: c.handshake(proof=proof)
    if kind == "bad_protocol":
        protocol = draw(st.integers(3, 10**20) | st.just(1))
        return lambda c: c.send_json({**hello_obj(), "protocol": protocol})
    if kind == "cancel":
        target = draw(st.sampled_from(["own", "unknown", "twice"]))

        def cancel(c):
            job = fresh_id("nojob")
            if target != "unknown" and c.jobs:
                job = list(c.jobs)[-1]
            c.send_json({"v": 2, "type": "cancel", "id": fresh_id(), "job": job})
            if target == "twice":
                c.send_json({"v": 2, "type": "cancel", "id": fresh_id(), "job": job})

        return cancel
    if kind == "adjust":
        return lambda c: c.send_json({"v": 2, "type": "adjust_edges", "id": fresh_id(), "result": "r" + fresh_id("gone")})
    type_ = draw(st.sampled_from(schemas.REPLY_TYPES)) if kind == "engine_type" else draw(TEXT.filter(lambda t: t not in schemas.REQUEST_TYPES))
    fields = draw(st.dictionaries(st.sampled_from(["ref", "code", "message", "position", "by", "models"]), JSON, max_size=3))
    return lambda c: c.send_json({"v": 2, "type": type_, "id": fresh_id(), **fields})


def test_messages_out_of_order(engine, record_property):
    @FUZZ
    @given(st.lists(out_of_order_ops(), min_size=1, max_size=6), st.booleans())
    @example([lambda c: c.handshake(proof="\ud800")], False)  # a proof that is not UTF-8
    @example([lambda c: c.send_json(hello_obj("\ud800"))], False)  # a key that is not UTF-8
    def check(ops, hello_first):
        run_example(engine, "out_of_order", ops, hello_first=hello_first)

    check()
    record_property("fuzz_cases", CASES["out_of_order"])


@st.composite
def binary_ops(draw):
    """Binary frames nobody announced; announcements followed by too few, short, long or extra frames;
    raw sizes that lie; PNGs with broken headers."""
    kind = draw(st.sampled_from(["stray", "short", "long", "missing", "extra", "lying_size", "huge_announce", "png", "text_between"]))
    CASES[f"binary:{kind}"] += 1
    type_ = draw(st.sampled_from(["select_subject", "trimap", "refine"]))
    obj, payloads = draw(requests(type_))
    blob = draw(st.binary(max_size=64))
    if kind == "stray":
        n = draw(st.integers(1, 3))
        return lambda c: [c.send(blob or b"\x00") for _ in range(n)]
    i = draw(st.integers(0, len(payloads) - 1))
    if kind == "short":
        payloads[i] = payloads[i][: draw(st.integers(0, len(payloads[i]) - 1))]
    elif kind == "long":
        payloads[i] = payloads[i] + (blob or b"\x00")
    elif kind == "missing":
        payloads = payloads[:i]
    elif kind == "extra":
        payloads = payloads + [blob or b"\x01"] * draw(st.integers(1, 3))
    elif kind == "lying_size":
        spec = obj["buffers"][i]
        spec["size"] = max(1, spec["size"] + draw(st.sampled_from([-1, 1, 3, -3, 1000])))
    elif kind == "huge_announce":
        spec = obj["buffers"][i]
        spec["width"], spec["height"] = draw(st.sampled_from([(20000, 20000), (10**6, 10**6), (2**31, 2), (1, 10**20)]))
        if draw(st.booleans()) and spec["format"] != "png":
            spec["size"] = spec["width"] * spec["height"] * schemas.RAW_CHANNELS[spec["format"]]
    elif kind == "png":
        spec, data = draw(image_buffers(formats=("png",)))
        obj["buffers"][0], payloads[0] = spec, data
        if type_ == "refine":
            gspec, gdata = draw(image_buffers("guide", ("png", "grey8"), (spec["width"], spec["height"])))
            obj["buffers"][1], payloads[1] = gspec, gdata
    if kind == "text_between":
        text = draw(st.sampled_from(["status", "garbage"]))
        return lambda c: (
            c.send(json.dumps(obj)),
            c.send(json.dumps({"v": 2, "type": "status", "id": fresh_id()}) if text == "status" else "{]"),
            [c.send(p) for p in payloads],
        )
    return lambda c: c.send_json(obj, *payloads)


def test_binary_frames(engine, record_property):
    @FUZZ
    @given(st.lists(binary_ops(), min_size=1, max_size=4))
    def check(ops):
        run_example(engine, "binary", ops)

    check()
    record_property("fuzz_cases", CASES["binary"])


def test_random_interleavings(engine, record_property):
    texts = malformed_texts().map(lambda t: lambda c: c.send(t))

    @st.composite
    def good_job(draw):
        CASES["interleave:good_job"] += 1
        adjust = draw(st.integers(0, 3)) == 0
        fields = draw(valid_fields("adjust_edges"))
        obj, payloads = draw(requests(draw(st.sampled_from(["select_subject", "plate_matte", "trimap", "refine",
                                                            "video_start", "video_start", "video_frame"]))))
        # a video_start opens a stream: frames follow it at once (more may come from later ops)
        frames = draw(st.lists(requests("video_frame"), min_size=1, max_size=4)) if obj["type"] == "video_start" else []

        def op(c):
            if adjust and c.results:  # adjust one of this connection's results
                c.send_json({"v": 2, "type": "adjust_edges", "id": fresh_id(), "result": c.results[-1], **fields})
            else:
                c.send_json(obj, *payloads)
                for frame, frame_payloads in frames:
                    c.send_json(frame, *frame_payloads)

        return op

    @st.composite
    def sync(draw):
        return (lambda c: c.drain()) if draw(st.booleans()) else (lambda c: c.sync())

    @st.composite
    def mutated(draw):
        obj, frames = draw(mutated_requests(draw(st.sampled_from(schemas.REQUEST_TYPES))))
        return lambda c: c.send_json(obj, *frames)

    ops = st.lists(st.one_of(texts, out_of_order_ops(), binary_ops(), good_job(), mutated(), sync()), min_size=1, max_size=12)

    def video_stream(c):  # frames that all reach an open stream, so its `frame` messages are checked every run
        stream = fresh_id()
        c.send_json({"v": 2, "type": "video_start", "id": stream})
        width, height = VIDEO_FRAME_SIZE
        for pattern in (b"\x00", b"\x80\x10\xf0", b"\xff"):
            data = (pattern * width * height * 3)[: width * height * 3]
            spec = {"name": "image", "format": "rgb8", "width": width, "height": height, "size": len(data)}
            c.send_json({"v": 2, "type": "video_frame", "id": fresh_id(), "buffers": [spec], "stream": stream}, data)

    @FUZZ
    @given(ops, st.booleans())
    @example([video_stream], True)
    def check(ops, hello_first):
        run_example(engine, "interleaving", ops, hello_first=hello_first)

    check()
    record_property("fuzz_cases", CASES["interleaving"])


@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY])
def test_frames_beyond_max_size_close_the_connection_with_1009(engine, opcode, record_property):
    """A frame longer than the WebSocket max_size (= max_frame_bytes) is refused by its header."""
    CASES["oversized"] += 1
    conn = Conn(engine)
    try:
        conn.handshake()
        conn.sync()
        length = conn.mirror.max_frame_bytes + 1
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length) + b"\x00\x00\x00\x00"
        conn.ws.sock.sendall(header + b"\x00" * 1024)  # the header alone says too much; the rest never comes
        deadline = time.monotonic() + WAIT_S
        try:
            while conn._receive(deadline):
                pass
        except AssertionError:
            raise
        assert conn.closed_with == 1009, conn.closed_with
    finally:
        try:
            conn.ws.sock.close()
        except OSError:
            pass
    assert_engine_up(engine)
    record_property("fuzz_cases", 1)
