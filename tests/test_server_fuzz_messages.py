"""Engine fuzz, message by message: malformed JSON text frames, wrong fields for every request
type, and messages out of order (before hello, second hellos, unknown keys, wrong proofs, stray
cancels, unknown types). The driver is fuzz_support.py, the strategies fuzz_strategies.py."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from fuzz_strategies import malformed_texts, mutated_requests, out_of_order_ops
from fuzz_support import CASES, FUZZ, engine, hello_obj, run_example
from wire.protocol import schemas

__all__ = ["engine"]  # this module's engine (a module-scoped fixture)


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


def test_messages_out_of_order(engine, record_property):
    @FUZZ
    @given(st.lists(out_of_order_ops(), min_size=1, max_size=6), st.booleans())
    @example([lambda c: c.handshake(proof="\ud800")], False)  # a proof that is not UTF-8
    @example([lambda c: c.send_json(hello_obj("\ud800"))], False)  # a key that is not UTF-8
    def check(ops, hello_first):
        run_example(engine, "out_of_order", ops, hello_first=hello_first)

    check()
    record_property("fuzz_cases", CASES["out_of_order"])
