"""Property-based fuzzing of the real engine process (``softcut serve``) over WebSocket: the fuzz
driver and its model of the engine, shared by the fuzz tests (test_server_fuzz_*.py; their
strategies are in fuzz_strategies.py).

One engine per test module (a tiny ONNX model, so jobs are quick). Every example opens its
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
import itertools
import json
import os
import time
from dataclasses import dataclass, field

import jsonschema
import pytest
from hypothesis import HealthCheck, settings

from tiny_models import build_tiny_model, write_sidecar
from testing.raw_websocket import ConnectionClosed
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
"""Examples run per test, and frames sent, over every fuzz module run so far (printed when each
module's engine stops: the last summary is the run's total)."""
FUZZ_SECONDS = 0.0
"""The time spent fuzzing (the module engines' lifetimes after start-up), summed over the modules."""

_ids = itertools.count(1)


def fresh_id(prefix: str = "q") -> str:
    return f"{prefix}{next(_ids)}"


# ---------------------------------------------------------------- the engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    global FUZZ_SECONDS
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
        FUZZ_SECONDS += time.monotonic() - started
        alive = server.proc.poll() is None
        server.stop()
        total = sum(v for k, v in CASES.items() if ":" not in k and k != "frames")
        print(
            f"\n[fuzz] {total} cases (examples), {CASES['frames']} frames in {FUZZ_SECONDS:.1f} s "
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
            if t == "select_object":  # no prompt, a box or clicks off the image, an empty mask
                allowed.add("bad_parameter")
                if "image" in message.fields or "previous" in message.fields:
                    allowed.add("not_found")  # a key this engine never prepared; a result it let go of
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


# ---------------------------------------------------------------- a stream drawn before its connection


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
