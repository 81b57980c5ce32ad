"""Engine fuzz, all at once: random interleavings of every fuzzed operation with good jobs, video
streams and syncs on one connection, each job followed from accepted to its end. The driver is
fuzz_support.py, the strategies fuzz_strategies.py."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from fuzz_strategies import (VIDEO_FRAME_SIZE, binary_ops, malformed_texts, mutated_requests, out_of_order_ops, requests,
                             valid_fields)
from fuzz_support import CASES, FUZZ, engine, fresh_id, run_example
from wire.protocol import schemas

__all__ = ["engine"]  # this module's engine (a module-scoped fixture)


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
