"""The protocol's request schemas and its validator agree; docs/protocol.md is current and its
examples valid; the protocol package imports only the standard library."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from protocol_support import NONCE, header, spec
from wire.protocol import codec, docgen, messages, schemas
from wire.protocol.codec import encode
from wire.protocol.errors import ERROR_CODES, ProtocolError
from wire.protocol.messages import BufferSpec

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "protocol.md"
PACKAGE = ROOT / "wire" / "protocol"


# ---------------------------------------------------------------- check_request and the schemas agree

IMG = spec()
VALID_REQUESTS = [
    {"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "gimp", "version": ""}, "key": "master", "nonce": NONCE},
    {"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "ps", "version": "1"}, "key": "t0a-_Z", "nonce": NONCE,
     "accepts": ["place_layer"], "cutout_format": "rgba8"},
    {"v": 2, "type": "auth", "id": "c2", "ref": "e1", "proof": NONCE},
    {"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG]},
    {"v": 2, "type": "select_subject", "id": "a.b:c-d_9", "buffers": [spec(fmt="png", size=10)], "outputs": ["cutout", "coarse"],
     "format": "png", "refine": "none", "edges": {"smooth": 100, "feather": 0, "contrast": 50.5, "shift_edge": -100},
     "decontaminate": 0, "band": 0.5, "priority": "batch", "model": "u2net"},
    {"v": 2.0, "type": "select_subject", "id": "c1", "buffers": [spec(w=2.0)], "band": 0},
    {"v": 2, "type": "trimap", "id": "c1", "buffers": [spec(fmt="grey8")], "band": 0.1, "format": "png"},
    {"v": 2, "type": "refine", "id": "c1", "buffers": [IMG, spec("guide", "grey8")], "guide": "mask", "mode": "fast"},
    {"v": 2, "type": "adjust_edges", "id": "c1", "result": "r1", "edges": {}, "outputs": ["foreground"]},
    {"v": 2, "type": "models.list", "id": "c1"},
    {"v": 2, "type": "status", "id": "c1", "buffers": []},
    {"v": 2, "type": "cancel", "id": "c1", "job": "c0"},
    {"v": 2, "type": "pair", "id": "c1", "code": "000042", "client": {"name": "ps", "version": "1"}},
    {"v": 2, "type": "video_start", "id": "c1"},
    {"v": 2, "type": "video_start", "id": "c1", "buffers": [spec("plate", "jpeg", size=100)], "outputs": ["foreground"],
     "refine": "best", "delay": False, "smoothing": 0.99, "edges": {"shift_edge": -5}, "priority": "batch"},
    {"v": 2, "type": "video_frame", "id": "c2", "buffers": [spec(fmt="png", size=10)], "stream": "c1"},
    {"v": 2, "type": "video_end", "id": "c3", "stream": "c1"},
]
INVALID_REQUESTS = [  # (object, code, the field the message names)
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "gimp"}, "key": "master", "nonce": NONCE}, "bad_parameter", "client.version"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": "2", "client": {"name": "g", "version": "1"}, "key": "master", "nonce": NONCE}, "bad_parameter", "protocol"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "g", "version": "1"}, "key": "", "nonce": NONCE}, "bad_parameter", "key"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "g", "version": "1"}, "key": "t.1", "nonce": NONCE}, "bad_parameter", "key"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "g", "version": "1"}, "key": "master", "nonce": NONCE[:-1]}, "bad_parameter", "nonce"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "g", "version": "1"}, "key": "master"}, "bad_parameter", "nonce"),
    ({"v": 2, "type": "hello", "id": "c1", "protocol": 2, "client": {"name": "g", "version": "1"}, "key": "master", "nonce": NONCE,
      "token": "t"}, "bad_parameter", "token"),
    ({"v": 2, "type": "auth", "id": "c2", "ref": "e1", "proof": "G" * 64}, "bad_parameter", "proof"),
    ({"v": 2, "type": "auth", "id": "c2", "ref": "e1"}, "bad_parameter", "proof"),
    ({"v": 2, "type": "select_subject", "id": "c1"}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": []}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG, spec("guide", "grey8")]}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [spec("img")]}, "bad_parameter", "buffers[0].name"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "outputs": []}, "bad_parameter", "outputs"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "outputs": ["alpha", "alpha"]}, "bad_parameter", "outputs[1]"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "outputs": ["mask"]}, "bad_parameter", "outputs[0]"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "outputs": "alpha"}, "bad_parameter", "outputs"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "format": "jpeg"}, "bad_parameter", "format"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "edges": {"feather": 1001}}, "bad_parameter", "edges.feather"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "edges": {"shift_edge": True}}, "bad_parameter", "edges.shift_edge"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "edges": {"soft": 1}}, "bad_parameter", "edges.soft"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "edges": []}, "bad_parameter", "edges"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "decontaminate": 1.01}, "bad_parameter", "decontaminate"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "band": -0.1}, "bad_parameter", "band"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "band": "0.1"}, "bad_parameter", "band"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "priority": "urgent"}, "bad_parameter", "priority"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "model": ""}, "bad_parameter", "model"),
    ({"v": 2, "type": "select_subject", "id": "c1", "buffers": [IMG], "refien": "best"}, "bad_parameter", "refien"),
    ({"v": 2, "type": "trimap", "id": "c1", "buffers": [IMG], "outputs": ["alpha"]}, "bad_parameter", "outputs"),
    ({"v": 2, "type": "refine", "id": "c1", "buffers": [IMG, spec("guide", "rgb8")]}, "bad_parameter", "buffers[1].format"),
    ({"v": 2, "type": "refine", "id": "c1", "buffers": [IMG, spec("guide", "grey8")], "mode": "none"}, "bad_parameter", "mode"),
    ({"v": 2, "type": "refine", "id": "c1", "buffers": [IMG, spec("guide", "grey8")], "outputs": ["trimap"]}, "bad_parameter", "outputs[0]"),
    ({"v": 2, "type": "adjust_edges", "id": "c1"}, "bad_parameter", "result"),
    ({"v": 2, "type": "adjust_edges", "id": "c1", "result": "r 1"}, "bad_parameter", "result"),
    ({"v": 2, "type": "adjust_edges", "id": "c1", "result": "r1", "buffers": [IMG]}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "models.list", "id": "c1", "verbose": True}, "bad_parameter", "verbose"),
    ({"v": 2, "type": "cancel", "id": "c1", "job": 3}, "bad_parameter", "job"),
    ({"v": 2, "type": "status", "id": "c1", "ref": "c0"}, "bad_message", "ref"),
    ({"v": 2, "type": "status", "id": "c" * 65}, "bad_message", "id"),
    ({"v": 2, "type": "status", "id": "c/1"}, "bad_message", "id"),
    ({"v": 1, "type": "status", "id": "c1"}, "unsupported_version", "v"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "12345", "client": {"name": "p", "version": "1"}}, "bad_parameter", "code"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "12345\n", "client": {"name": "p", "version": "1"}}, "bad_parameter", "code"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "12a456", "client": {"name": "p", "version": "1"}}, "bad_parameter", "code"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "\u0661\u0662\u0663\u0664\u0665\u0666", "client": {"name": "p", "version": "1"}},
     "bad_parameter", "code"),
    ({"v": 2, "type": "pair", "id": "c1", "code": 123456, "client": {"name": "p", "version": "1"}}, "bad_parameter", "code"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "123456"}, "bad_parameter", "client"),
    ({"v": 2, "type": "pair", "id": "c1", "code": "123456", "client": {"name": "p", "version": "1"}, "token": "t"},
     "bad_parameter", "token"),
    ({"v": 2, "type": "video_start", "id": "c1", "smoothing": 1}, "bad_parameter", "smoothing"),
    ({"v": 2, "type": "video_start", "id": "c1", "smoothing": -0.1}, "bad_parameter", "smoothing"),
    ({"v": 2, "type": "video_start", "id": "c1", "outputs": ["trimap"]}, "bad_parameter", "outputs[0]"),
    ({"v": 2, "type": "video_start", "id": "c1", "delay": 1}, "bad_parameter", "delay"),
    ({"v": 2, "type": "video_start", "id": "c1", "buffers": [IMG]}, "bad_parameter", "buffers[0].name"),
    ({"v": 2, "type": "video_start", "id": "c1", "buffers": [spec("plate"), spec("plate")]}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "video_frame", "id": "c2", "buffers": [IMG]}, "bad_parameter", "stream"),
    ({"v": 2, "type": "video_frame", "id": "c2", "stream": "c1"}, "bad_parameter", "buffers"),
    ({"v": 2, "type": "video_frame", "id": "c2", "buffers": [IMG], "stream": "c1", "index": 0}, "bad_parameter", "index"),
    ({"v": 2, "type": "video_end", "id": "c3"}, "bad_parameter", "stream"),
]


@pytest.fixture(scope="module")
def jsonschema():
    return pytest.importorskip("jsonschema")


def _schema_valid(jsonschema, obj) -> bool:
    validator = jsonschema.Draft202012Validator(schemas.REQUEST_SCHEMAS[obj["type"]])
    return validator.is_valid(obj)


@pytest.mark.parametrize("obj", VALID_REQUESTS, ids=lambda o: o["type"])
def test_valid_requests_agree(jsonschema, obj):
    assert _schema_valid(jsonschema, obj)
    schemas.check_request_object(obj)


@pytest.mark.parametrize("obj, code, field", INVALID_REQUESTS, ids=[f for _, _, f in INVALID_REQUESTS])
def test_invalid_requests_agree(jsonschema, obj, code, field):
    assert not _schema_valid(jsonschema, obj)
    with pytest.raises(ProtocolError) as info:
        schemas.check_request_object(obj)
    assert info.value.code == code
    assert info.value.message.startswith(field + ":"), info.value.message
    assert info.value.ref == (obj["id"] if messages.is_valid_id(obj["id"]) else None)


def test_rules_beyond_the_schema():
    guide = spec("guide", "grey8", w=3)
    with pytest.raises(ProtocolError, match=r"buffers\[1\]: expected the guide to be 2x3"):
        schemas.check_request_object({"v": 2, "type": "refine", "id": "c1", "buffers": [IMG, guide]})
    with pytest.raises(ProtocolError, match=r"buffers\[0\].size"):
        schemas.check_request_object({"v": 2, "type": "select_subject", "id": "c1", "buffers": [spec(size=1)]})


def test_check_request_on_messages():
    image = messages.buffer("image", bytes(24), format="rgba8", width=2, height=3)
    schemas.check_request(messages.select_subject(image, edges={"contrast": 20}))
    with pytest.raises(ProtocolError) as info:
        schemas.check_request(messages.select_subject(image, refine="slow", id="c5"))
    assert (info.value.code, info.value.ref) == ("bad_parameter", "c5")
    with pytest.raises(ProtocolError) as info:
        schemas.check_request(messages.accepted("c1", position=0))
    assert info.value.code == "unknown_type"


def test_video_defaults_and_limits():
    assert schemas.defaults("video_start") == {
        "outputs": ["alpha"], "format": "raw", "refine": "fast",
        "edges": {"smooth": 0, "feather": 0, "contrast": 0, "shift_edge": 0},
        "decontaminate": 1, "band": 0.015, "delay": True, "smoothing": 0.8, "priority": "interactive",
    }
    assert messages.Limits().to_json()["max_pending_frames"] == schemas.DEFAULT_MAX_PENDING_FRAMES == 8
    with pytest.raises(ValueError, match="max_pending_frames"):
        messages.Limits(max_pending_frames=1)  # a stream answers a frame once it has the next
    assert "video_start" in schemas.JOB_TYPES and set(schemas.STREAM_TYPES) <= set(schemas.REQUEST_TYPES)
    with pytest.raises(ValueError, match="index"):
        messages.frame("c1", index=-1, frame="c2", confidence=1.0, buffers=[])


def test_defaults():
    assert schemas.defaults("select_subject") == {
        "outputs": ["alpha"], "format": "raw", "refine": "best",
        "edges": {"smooth": 0, "feather": 0, "contrast": 0, "shift_edge": 0},
        "decontaminate": 1, "band": 0.015, "priority": "interactive",
    }
    m = codec.decode_all([header("adjust_edges", result="r1", edges={"feather": 2})])[0]
    full = schemas.with_defaults(m)
    assert full["edges"] == {"smooth": 0, "feather": 2, "contrast": 0, "shift_edge": 0}
    assert full["result"] == "r1" and full["outputs"] == ["alpha"] and m.fields["edges"] == {"feather": 2}
    with pytest.raises(ValueError, match="type_"):
        schemas.defaults("welcome")


def _walk(schema):
    if isinstance(schema, dict):
        yield schema
        for key, value in schema.items():
            if key in ("properties",):
                for sub in value.values():
                    yield from _walk(sub)
            elif key in ("items", "not", "additionalProperties"):
                yield from _walk(value)
            elif key in ("prefixItems", "anyOf"):
                for sub in value:
                    yield from _walk(sub)


def test_schemas_are_valid_and_use_supported_keywords(jsonschema):
    for schema in [*schemas.REQUEST_SCHEMAS.values(), *schemas.REPLY_SCHEMAS.values(),
                   *schemas.ENGINE_REQUEST_SCHEMAS.values(), *schemas.EDITOR_REPLY_SCHEMAS.values()]:
        jsonschema.Draft202012Validator.check_schema(schema)
        for node in _walk(schema):
            assert set(node) <= schemas.SUPPORTED_KEYWORDS, set(node) - schemas.SUPPORTED_KEYWORDS
    assert set(schemas.JOB_TYPES) <= set(schemas.REQUEST_TYPES)


# ---------------------------------------------------------------- the document


def _doc_examples():
    text = DOC.read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", text, flags=re.S)]


def test_doc_generated_sections_are_current():
    text = DOC.read_text(encoding="utf-8")
    for name in docgen.SECTIONS:
        assert docgen.generated_block(name) in text, f"run: python -m wire.protocol.docgen {DOC.relative_to(ROOT)}"
    for type_ in [*schemas.REQUEST_SCHEMAS, *schemas.REPLY_SCHEMAS, *schemas.ENGINE_REQUEST_SCHEMAS,
                  *schemas.EDITOR_REPLY_SCHEMAS]:
        assert f"`{type_}`" in text
    for code in ERROR_CODES:
        assert f"| `{code}` |" in text


def test_doc_examples_validate(jsonschema):
    examples = _doc_examples()
    seen = set()
    for obj in examples:
        # Ids say who sent a message: "c…" a client (an editor's answers carry ref "e…"), "e…" the engine.
        from_client = obj["id"].startswith("c")
        if from_client:
            editor_reply = obj["type"] in schemas.EDITOR_REPLY_SCHEMAS and "ref" in obj
            table = schemas.EDITOR_REPLY_SCHEMAS if editor_reply else schemas.REQUEST_SCHEMAS
        else:
            engine_request = obj["type"] in schemas.ENGINE_REQUEST_SCHEMAS and "ref" not in obj
            table = schemas.ENGINE_REQUEST_SCHEMAS if engine_request else schemas.REPLY_SCHEMAS
        errors = list(jsonschema.Draft202012Validator(table[obj["type"]]).iter_errors(obj))
        assert not errors, (obj, [e.message for e in errors])
        (schemas.check_from_client if from_client else schemas.check_from_engine)(obj)
        seen.add(obj["type"])
    assert {"hello", "challenge", "auth", "pair", "paired", "welcome", "select_subject", "result", "adjust_edges", "error",
            "cancelled"} <= seen
    assert {"phone_cut", "phone_paste", "phone_link", "canvas_snapshot", "snapshot", "place_layer", "placed"} <= seen
    assert {"video_start", "video_frame", "video_end", "frame"} <= seen


def test_doc_worked_example_matches_the_codec():
    select = next(o for o in _doc_examples() if o["type"] == "select_subject")
    frames = [json.dumps(select, separators=(",", ":")), bytes(1228800)]
    (m,) = codec.decode_all(frames)
    assert m.buffers[0][0] == BufferSpec("image", "rgba8", 640, 480, 1228800)
    assert encode(m)[0] == frames[0]


# ---------------------------------------------------------------- standard library only, no side effects


def test_protocol_imports_only_the_standard_library():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [] if node.level else [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names and top not in ("asyncio", "socket"), f"{path.name}: {name}"
    code = (
        "import sys, wire.protocol, wire.protocol.docgen;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('asyncio', 'socket', 'numpy', 'core', 'websockets')];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
