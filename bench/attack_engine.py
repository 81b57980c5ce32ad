"""The attacks of issue 19 against a real `softcut serve` on loopback, with their figures.

    python bench/attack_engine.py [--model isnet] [--only pairing,frozen,frames,idle,bombs,storm] [--json OUT]

For each attack: what the attacker achieved (tries per second, tries the engine checked,
bytes it read, connections it held), the engine's peak RSS (VmHWM) before and after, and
how a legitimate client fared while the attack ran: the time to connect, for ``status``,
and for a small Select Subject job (64×48, a new image each time so that its model run is
not cached, refine none) next to that job's own ``job_seconds``. docs/security.md records
a run of this script.

- baseline: no attack (the legitimate client's times alone).
- pairing: four threads guess pairing codes on the machine's LAN address (``--lan``) for
  ``--pairing-s`` seconds, each try on a fresh connection; meanwhile the user pairs with the
  real code over loopback.
- frozen: a client sends two 4000×4000 jobs and is stopped (SIGSTOP) before reading.
- frames: eight connections each announce a 500 MB frame before hello and stream into it.
- idle: 2,000 TCP connections held open (half upgraded to WebSocket), none saying hello.
- bombs: four clients each send a 100 MP PNG of a few hundred KB (refine none).
- storm: with two long jobs running, 25 rounds of submit-14 / cancel-14.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from functools import partial
from pathlib import Path

import numpy as np

from engine_server import lan
from wire.client import SoftcutClient, png_image, raw_image
from testing.raw_websocket import ConnectionClosed, RawWebSocket
from testing.launcher import EngineProcess
from wire.protocol import codec, messages

ROOT = Path(__file__).resolve().parents[1]


def lan_address() -> str | None:
    """This machine's LAN address (to guess from "another host"), or None when it has only loopback."""
    address = lan.lan_address()
    return None if address.startswith("127.") else address


_SEEDS = itertools.count(7)


def small_image():
    """A new 64×48 photo-like image each call (a disc on a plain ground, its colour drawn anew), so
    the engine's model cache never answers for it."""
    rng = np.random.default_rng(next(_SEEDS))
    yy, xx = np.mgrid[:48, :64]
    disc = (yy - 24) ** 2 + (xx - 32) ** 2 < 14**2
    pixels = np.where(disc[..., None], rng.integers(120, 255, 3), rng.integers(0, 60, 3)).astype(np.uint8)
    return raw_image(64, 48, "rgb8", pixels.tobytes())


def legitimate(engine: EngineProcess, rounds: int = 5) -> dict:
    """A legitimate client's times (s) while an attack runs: connect, status, a small job and its own work."""
    connect, status, job, work = [], [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        client = SoftcutClient(port=engine.port, token=engine.token, timeout=600)
        client.connect()
        connect.append(time.perf_counter() - start)
        start = time.perf_counter()
        client.status()
        status.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = client.select_subject(small_image(), refine="none")
        job.append(time.perf_counter() - start)
        work.append(float(result.fields["job_seconds"]))
        client.close()
    return {"connect_s_max": round(max(connect), 3), "status_s_max": round(max(status), 3),
            "small_job_s_median": round(statistics.median(job), 3), "small_job_s_max": round(max(job), 3),
            "its_own_work_s_max": round(max(work), 3),
            "small_job_wait_s_max": round(max(j - w for j, w in zip(job, work)), 3)}


def pairing(engine: EngineProcess, *, seconds: float) -> dict:
    lan = lan_address()
    if lan is None:
        return {"skipped": "no non-loopback address"}
    (code,) = engine.pairing_codes()[-1:]
    counts = {"tries": 0, "checked_wrong": 0, "held_back": 0, "paired": 0, "other": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def guess(worker: int) -> None:
        n = worker
        while time.monotonic() < stop:
            n += 4
            try:
                ws = RawWebSocket.connect(lan, engine.port, timeout=10)
                for frame in codec.encode(messages.pair(f"{n % 1_000_000:06d}", client={"name": "x", "version": "0"})):
                    ws.send_text(frame)
                decoder = codec.Decoder(role="client")
                reply = None
                while reply is None:
                    reply = decoder.feed(ws.recv(timeout=10))
                ws.close()
                text = str(reply.fields.get("message", ""))
                key = ("paired" if reply.type == "paired" else "checked_wrong" if "wrong or expired" in text
                       else "held_back" if "too many wrong" in text else "other")
            except (OSError, ConnectionClosed):
                key = "other"
            with lock:
                counts["tries"] += 1
                counts[key] += 1

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(min(5.0, seconds / 2))
    start = time.perf_counter()
    user = SoftcutClient(port=engine.port, timeout=60, name="bench-panel")
    user.pair(code)
    user_pair_s = time.perf_counter() - start
    user.close()
    for t in threads:
        t.join()
    return {**counts, "seconds": seconds, "tries_per_s": round(counts["tries"] / seconds, 1),
            "checked_per_s": round(counts["checked_wrong"] / seconds, 3), "user_paired_in_s": round(user_pair_s, 3),
            "codes_printed": len(engine.pairing_codes())}


FROZEN = """
import os, signal, sys
import numpy as np
from wire.client import SoftcutClient, raw_image
from wire.protocol import messages
client = SoftcutClient(port=int(sys.argv[1]), timeout=60)
client.connect()
side = int(sys.argv[2])
image = raw_image(side, side, "rgb8", np.random.default_rng(0).integers(0, 255, (side, side, 3), np.uint8).tobytes())
for _ in range(2):
    client._send_all(messages.select_subject(image, outputs=["alpha", "cutout"], refine="none"))
print("sent", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
"""


def frozen(engine: EngineProcess) -> dict:
    env = {**os.environ, "SOFTCUT_CONFIG": str(engine.config), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", FROZEN, str(engine.port), "4000"], stdout=subprocess.PIPE,
                            text=True, env=env)
    try:
        proc.stdout.readline()
        start = time.monotonic()
        with SoftcutClient(port=engine.port, token=engine.token, timeout=600) as client:
            while client.status()["jobs_done"] < 2:
                time.sleep(0.2)
        done_s = time.monotonic() - start
        served = legitimate(engine)
        while not any("read nothing" in line for line in engine.log):
            time.sleep(0.2)
        return {"its_two_jobs_done_after_s": round(done_s, 1), "dropped_after_s": round(time.monotonic() - start, 1),
                "legitimate": served}
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait()


def frames(engine: EngineProcess) -> dict:
    sent = [0] * 8
    codes: list[int | None] = [None] * 8

    def attack(i: int) -> None:
        ws = RawWebSocket.connect("127.0.0.1", engine.port, timeout=10)
        size = 500 * 1024**2
        ws.sock.sendall(struct.pack("!BBQ", 0x82, 0x80 | 127, size) + b"\0\0\0\0")
        chunk = b"\0" * (1 << 20)
        try:
            while sent[i] < size:
                ws.sock.sendall(chunk)
                sent[i] += len(chunk)
        except OSError:
            pass
        try:
            while True:
                ws.recv(timeout=10)
        except ConnectionClosed as exc:
            codes[i] = exc.code
        except OSError:
            pass

    threads = [threading.Thread(target=attack, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    served = legitimate(engine)
    for t in threads:
        t.join()
    return {"mb_each_attacker_got_sent_max": round(max(sent) / 1024**2, 1), "close_codes": codes, "legitimate": served}


def idle(engine: EngineProcess, count: int = 2000) -> dict:
    held = []
    upgrade = (f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{engine.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    for i in range(count):
        try:
            sock = socket.create_connection(("127.0.0.1", engine.port), timeout=10)
            if i % 2:  # upgraded to WebSocket (the answer is never read), then silent
                sock.sendall(upgrade)
            held.append(sock)
        except OSError:
            pass
    opened = len(held)
    served = legitimate(engine)
    fds = len(os.listdir(f"/proc/{engine.proc.pid}/fd"))
    for h in held:
        try:
            h.close()
        except OSError:
            pass
    return {"opened": opened, "engine_open_fds_during": fds, "legitimate": served}


def bomb_png(side: int) -> bytes:
    """A ``side``×``side`` RGB PNG of one grey, compressed to a few hundred KB."""
    raw = b"".join(b"\0" + b"\x80" * (3 * side) for _ in range(1))  # one row; every row is the same
    body = zlib.compressobj(9)
    data = b"".join(body.compress(raw) for _ in range(side)) + body.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack("!I", len(payload)) + kind + payload + struct.pack("!I", zlib.crc32(kind + payload))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def bombs(engine: EngineProcess) -> dict:
    png = bomb_png(10_000)
    outcomes: list[str] = []

    def send() -> None:
        try:
            with SoftcutClient(port=engine.port, token=engine.token, timeout=900) as client:
                client.select_subject(png_image(png), refine="none")
                outcomes.append("done")
        except Exception as exc:  # the engine's answer is the figure
            outcomes.append(f"{type(exc).__name__}: {exc}"[:160])

    threads = [threading.Thread(target=send) for _ in range(4)]
    start = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(1.0)
    served = legitimate(engine)
    for t in threads:
        t.join()
    return {"png_kb": round(len(png) / 1024, 1), "all_answered_after_s": round(time.monotonic() - start, 1),
            "outcomes": outcomes, "legitimate": served}


def storm(engine: EngineProcess) -> dict:
    side = 2000
    big = raw_image(side, side, "rgb8", np.random.default_rng(1).integers(0, 255, (side, side, 3), np.uint8).tobytes())
    with SoftcutClient(port=engine.port, token=engine.token, timeout=600) as busy, \
            SoftcutClient(port=engine.port, token=engine.token, timeout=600) as client:
        for _ in range(2):
            busy._send_all(messages.select_subject(big, refine="best"))
        def read_answers() -> None:  # the busy client reads its answers until the bench closes it
            try:
                for _ in range(600):
                    busy.poll(1.0)
            except Exception:  # closed at the end
                pass

        threading.Thread(target=read_answers, daemon=True).start()
        for _ in range(25):
            jobs = [messages.select_subject(small_image(), refine="best", priority="batch") for _ in range(14)]
            for job in jobs:
                client._send_all(job)
            for job in jobs:
                client.cancel(job.id)
        while client.status()["jobs"]["queued"]:
            client.poll(0.2)
        status = client.status()["jobs"]
        start = time.perf_counter()
        client.select_subject(small_image(), refine="none")
        return {"jobs_after": status, "next_job_s": round(time.perf_counter() - start, 3)}


def baseline(engine: EngineProcess) -> dict:
    """No attack: the legitimate client's own times, to compare the others with."""
    return {"legitimate": legitimate(engine)}


ATTACKS = {"baseline": baseline, "pairing": pairing, "frozen": frozen, "frames": frames, "idle": idle, "bombs": bombs,
           "storm": storm}
"""Each attack: a function of the engine (and ``seconds`` for those that run for a set time)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="isnet")
    parser.add_argument("--only", default=",".join(ATTACKS))
    parser.add_argument("--pairing-s", type=float, default=60.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = {}
    for name in args.only.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            extra = ["--lan"] if name == "pairing" else []
            with EngineProcess(Path(tmp) / "config", args.model, "--device", "cpu", *extra, timeout=600) as engine:
                legitimate(engine, rounds=1)  # the model's first run is not the attack's doing
                rss_start = engine.peak_rss_kb()
                run = partial(ATTACKS[name], seconds=args.pairing_s) if name == "pairing" else ATTACKS[name]
                start = time.monotonic()
                figures[name] = {**run(engine), "engine_peak_rss_mb_start": round(rss_start / 1024),
                                 "engine_peak_rss_mb": round(engine.peak_rss_kb() / 1024),
                                 "wall_s": round(time.monotonic() - start, 1),
                                 "engine_warnings": [line.strip() for line in engine.log if "WARNING" in line][:6]}
        print(name, json.dumps(figures[name]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
