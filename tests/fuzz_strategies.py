"""Hypothesis strategies of the engine fuzz (test_server_fuzz_*.py): text, ids and JSON values,
image buffers good and broken, well-formed and mutated requests, and the fuzzed operations the
tests' examples are made of (malformed texts, out-of-order messages, binary frames), each kind
counted in ``CASES``."""

from __future__ import annotations

import io
import json
import struct

from hypothesis import strategies as st

from fuzz_support import CASES, OpenStream, dumps, fresh_id, hello_obj
from wire.protocol import auth, messages, schemas


# ---------------------------------------------------------------- values, buffers, requests

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
        payload = png_bytes(width, height, "L" if name in ("guide", "mask") else "RGB")
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
        elif key == "points":
            coordinate = st.floats(0, 30)
            out[key] = draw(st.lists(st.fixed_dictionaries({"x": coordinate, "y": coordinate, "positive": st.booleans()}),
                                     max_size=4))
        elif key == "box":
            out[key] = draw(st.lists(st.floats(0, 30), min_size=4, max_size=4))
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
    elif type_ == "select_object":  # the image or (sometimes) a key, a mask of its size now and then
        spec, data = draw(image_buffers())
        if draw(st.integers(0, 3)):
            obj["buffers"], payloads = [spec], [data]
        else:
            obj["image"] = auth.new_nonce()  # a key this engine never prepared
        if draw(st.booleans()):
            mspec, mdata = draw(image_buffers("mask", schemas.GUIDE_FORMATS, (spec["width"], spec["height"])))
            obj.setdefault("buffers", []).append(mspec)
            payloads.append(mdata)
        if results and draw(st.booleans()):
            obj["previous"] = draw(st.sampled_from(results))
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


# ---------------------------------------------------------------- the fuzzed operations


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
