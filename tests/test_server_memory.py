"""The memory budget against a real engine process: PNG decompression bombs (tiny files of
huge solid images, issue 19) from several clients at once, with ``--memory 1G``.

The bombs are sized from the engine's own estimates (:func:`engine_server.memory.job_estimate`)
so that one fits the budget and two do not; without the budget the four of them run at once
and the engine's peak goes far past it.
"""

from __future__ import annotations

import io
import threading
import time

import pytest
from PIL import Image

import handshake
from sample_images import red_disc_image
from core.imageio import float_to_uint8
from engine_server import memory
from wire.client import EngineError, png_image, raw_image
from wire.protocol import codec, messages
from test_server import Engine

MEMORY = "1G"
BOMBS = 4


def _budget() -> tuple[int, int]:
    """(bytes for jobs, express share) of an engine started with --memory MEMORY and the default cache."""
    _, jobs = memory.split(memory.parse_size(MEMORY), 1024 * 1024 * 1024)
    return jobs, int(jobs * memory.EXPRESS_FRACTION)


def _estimate(side: int) -> int:
    return memory.job_estimate("select_subject", {"refine": "none", "outputs": ["alpha"]}, [("png", side, side, 0)])


def _bomb(side: int) -> bytes:
    """A PNG of side × side mid-grey pixels (the tiny model calls every pixel half subject: the
    matte is soft everywhere, the worst case), a few hundred KB at most."""
    out = io.BytesIO()
    Image.new("RGB", (side, side), (128, 128, 128)).save(out, "PNG", compress_level=9)
    return out.getvalue()


def _bomb_side() -> int:
    """The largest square bomb one of which fits the budget beside the express share, and two do not."""
    jobs, express = _budget()
    side = 1000
    while _estimate(side + 100) <= jobs - express:
        side += 100
    assert 2 * _estimate(side) > jobs, "the budget would run two bombs at once"
    return side


@pytest.fixture
def engine(tmp_path, tiny_model):
    server = Engine(tmp_path, tiny_model, "--memory", MEMORY)
    yield server
    server.stop()


def _small():
    image, _ = red_disc_image(120, 160)
    return raw_image(160, 120, "rgb8", float_to_uint8(image).tobytes())


def test_png_bombs_wait_for_memory_the_engine_stays_in_budget_and_small_jobs_still_answer(engine):
    side = _bomb_side()
    bomb = png_image(_bomb(side))
    never = png_image(_bomb(6000))
    assert _estimate(6000) > _budget()[0]
    with engine.client() as client:  # warm up: numba's compiled code loaded, the pools started
        client.select_subject(_small(), refine="none")
        client.select_subject(_small(), refine="fast", outputs=["alpha", "cutout"])
        baseline_kb = engine.peak_rss_kb()
    finished: dict[int, float] = {}
    failed: list[BaseException] = []

    def send_bomb(i: int) -> None:
        try:
            with engine.client() as client:
                result = client.select_subject(bomb, refine="none", outputs=["alpha"])
                assert len(result.buffers["alpha"]) == side * side
                finished[i] = time.monotonic()
        except BaseException as exc:  # reported by the main thread
            failed.append(exc)

    threads = [threading.Thread(target=send_bomb, args=(i,)) for i in range(BOMBS)]
    for thread in threads:
        thread.start()
    with engine.client() as client:
        waiting_seen = 0
        deadline = time.monotonic() + 10
        while waiting_seen == 0 and time.monotonic() < deadline:  # the bombs have arrived; all but one wait
            waiting_seen = client.status()["memory"]["waiting"]
            time.sleep(0.05)
        assert waiting_seen >= 1
        with pytest.raises(EngineError) as refused:  # a bomb that can never fit: refused at once, not queued
            client.select_subject(never, refine="none", outputs=["alpha"])
        assert client.status()["memory"]["waiting"] >= 1  # answered while the bombs still wait: it did not queue
        assert refused.value.code == "image_too_large"
        assert "36.0 MP select_subject at refine none needs about" in str(refused.value)
        assert "--memory" in str(refused.value) and "smaller image" in str(refused.value)
        small = client.select_subject(_small(), refine="none", outputs=["alpha"])
        small_done = time.monotonic()
        assert len(small.buffers["alpha"]) == 160 * 120
        status = client.status()
    for thread in threads:
        thread.join(120)
    assert not failed, failed
    assert len(finished) == BOMBS
    assert small_done < max(finished.values())  # the small job did not wait for the bombs
    mem = status["memory"]
    assert mem["memory"] == memory.parse_size(MEMORY) and mem["jobs"] + mem["caches"] <= mem["memory"]
    assert mem["peak_in_use"] <= mem["jobs"]
    peak_kb = engine.peak_rss_kb()
    assert (peak_kb - baseline_kb) * 1024 <= memory.parse_size(MEMORY), (baseline_kb, peak_kb)


def test_cancelling_a_job_that_waits_for_memory_frees_its_place(engine):
    bomb = png_image(_bomb(_bomb_side()))
    with engine.raw() as ws:
        decoder = codec.Decoder(role="client")
        assert handshake.handshake(ws, engine.token, decoder=decoder).type == "welcome"
        first, second, third = (messages.select_subject(bomb, refine="none") for _ in range(3))
        for message in (first, second, third):
            for frame in codec.encode(message):
                (ws.send_text if isinstance(frame, str) else ws.send_binary)(frame)
        seen: list[tuple[str, str]] = []

        def until(ref: str, types: tuple[str, ...], timeout: float = 60) -> messages.Message:
            deadline = time.monotonic() + timeout
            while True:
                msg = decoder.feed(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
                if msg is not None:
                    seen.append((msg.type, msg.ref))
                    if msg.ref == ref and msg.type in types:
                        return msg

        until(first.id, ("progress",))  # the first runs; the others wait for its memory
        cancel = messages.cancel(second.id)
        for frame in codec.encode(cancel):
            (ws.send_text if isinstance(frame, str) else ws.send_binary)(frame)
        cancelled = until(second.id, ("cancelled", "result", "error"), timeout=5)
        assert cancelled.type == "cancelled" and cancelled.fields.get("by") == cancel.id
        assert ("result", first.id) not in seen  # it was cancelled while waiting, not run
        assert until(first.id, ("result",)).type == "result"
        assert until(third.id, ("result",)).type == "result"  # its turn came after the first, not the second
        assert ("progress", second.id) not in seen
        status = messages.status()
        for frame in codec.encode(status):
            ws.send_text(frame)
        mem = until(status.id, ("status",)).fields["memory"]
        assert mem["waiting"] == 0 and mem["in_use"] == 0
