"""select_object through a real engine (`softcut serve` on loopback, the tiny model): the image goes
once and is named by its key after, the alpha equals core's ObjectSelector's and the CLI's,
corrections take a previous result by id or as a buffer, adjust_edges works on the result, and bad
requests are refused by name without losing the prepared image."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from test_cli import softcut
from test_objects import LEFT, RIGHT, H, W, scene  # noqa: F401  (scene: the module's fixture)
from test_server import Engine, module_engine
from testing.sam_standin import build_sam_standin
from tiny_models import build_tiny_model, write_sidecar

from core.imageio import float_to_uint8, save_png
from core.objects import ObjectOptions, ObjectSelector
from wire.client import EngineError, objects, raw_image, session
from wire.client.results import _result
from wire.editor import MatteOptions, ObjectPrompts, Refused, select_object
from wire.protocol import messages

BOX = (148, 48, 213, 113)  # around the right disc


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    yield from module_engine(tmp_path_factory, "object-engine")


def _alpha(result) -> np.ndarray:
    return np.frombuffer(result.buffers["alpha"], np.uint8).reshape(H, W).astype(np.int16)


def _grey(name: str, alpha: np.ndarray):
    return raw_image(W, H, "grey8", float_to_uint8(alpha).tobytes(), name=name)


def _iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    a, b = alpha >= 128, truth >= 0.5
    return float((a & b).sum() / (a | b).sum())


def test_the_image_goes_once_and_the_alpha_is_cores(engine, scene):  # noqa: F811
    image, parts = scene
    pixels = raw_image(W, H, "rgb8", image.tobytes())
    with engine.client() as client:
        first = client.select_object(pixels, box=BOX, refine="fast")
        again = client.select_object(pixels, points=[(*LEFT, True)], refine="fast")
        by_key = client.request(messages.select_object(first.fields["image"], box=BOX))
    assert first.fields["prepared"] is True and again.fields["prepared"] is False
    assert first.fields["image"] == messages.buffer_key(pixels) == again.fields["image"]
    assert first.fields["model_runs"] == 2  # the whole frame, then the box's crop
    assert by_key.fields["model_runs"] == again.fields["model_runs"], "the box's crop was kept: no new inference"
    assert _iou(_alpha(first), parts["right"]) > 0.9 and _iou(_alpha(again), parts["left"]) > 0.9
    assert np.abs(_alpha(first) - _alpha(by_key)).max() <= 1, "the same prompt on the kept image: the same alpha"
    selector = ObjectSelector(image, ObjectOptions(model=str(engine.model), device="cpu", refine="fast"))
    core = float_to_uint8(selector.predict(box=BOX)).astype(np.int16)
    assert np.abs(core - _alpha(first)).max() <= 1, "the engine's alpha is core's within 1/255"


def test_the_cli_gives_the_engines_alpha(engine, scene, tmp_path):  # noqa: F811
    image, _ = scene
    path = tmp_path / "scene.png"
    save_png(path, image)
    alpha_out = tmp_path / "alpha.png"
    softcut("object", path, "-o", tmp_path / "cut.png", "--alpha-out", alpha_out, "--point",
            f"{RIGHT[0]:g},{RIGHT[1]:g},+", "--model", engine.model, "--device", "cpu", check=True)
    with engine.client() as client:
        result = client.select_object(raw_image(W, H, "rgb8", image.tobytes()), points=[(*RIGHT, True)])
    cli = np.asarray(Image.open(alpha_out), np.int16)
    assert np.abs(cli - _alpha(result)).max() <= 1


def test_corrections_take_the_previous_result_by_id_or_as_a_buffer(engine, scene):  # noqa: F811
    image, parts = scene
    pixels = raw_image(W, H, "rgb8", image.tobytes())
    both = np.maximum(parts["left"], parts["right"])
    with engine.client() as client:
        picked = client.select_object(pixels, points=[(*LEFT, True)])
        added = client.select_object(pixels, box=BOX, mode="add", previous=picked.fields["result"])
        removed = client.select_object(pixels, points=[(*RIGHT, False)], previous=_grey("previous", both))
        lasso = np.zeros((H, W), np.float32)
        lasso[40:125, 140:225] = 1.0
        cut = client.select_object(pixels, mask=_grey("mask", lasso), mode="subtract",
                                   previous=added.fields["result"])
        edged = client.adjust_edges(added.fields["result"], edges={"shift_edge": 60}, outputs=["alpha"])
        outputs = client.select_object(pixels, box=BOX, outputs=["alpha", "cutout"], format="png")
    assert _iou(_alpha(added), both) > 0.9
    assert _iou(_alpha(removed), parts["left"]) > 0.9 and _alpha(removed)[parts["right"] > 0.5].max() < 13
    assert _iou(_alpha(cut), parts["left"]) > 0.9
    assert np.frombuffer(edged.buffers["alpha"], np.uint8).astype(int).sum() > _alpha(added).sum()
    assert outputs.buffers["cutout"][:8] == b"\x89PNG\r\n\x1a\n"


def test_a_cropped_alpha_and_a_placed_mask_give_the_whole_ones_pixels(engine, scene, monkeypatch):  # noqa: F811
    """crop_alpha: the reply's alpha is the box where it is non-zero and the client gives it whole, byte for
    byte the alpha of a request without it; a mask sent as its box (``within``) is the whole mask."""
    image, parts = scene
    pixels = raw_image(W, H, "rgb8", image.tobytes())
    sent = []
    monkeypatch.setattr(session, "_result", lambda reply: sent.append(reply.specs) or _result(reply))
    lasso = np.zeros((H, W), np.uint8)
    lasso[40:125, 140:225] = 255
    box = np.ascontiguousarray(lasso[40:125, 140:225])
    placed = messages.buffer("mask", box.tobytes(), format="grey8", width=85, height=85, within=(140, 40, W, H))
    with engine.client() as client:
        picked = client.select_object(pixels, points=[(*LEFT, True)])
        cropped = client.select_object(pixels, box=BOX, mode="add", previous=picked.fields["result"])
        plain = client.request(messages.select_object(cropped.fields["image"], box=BOX, mode="add",
                                                      previous=picked.fields["result"]))
        whole_mask = client.select_object(pixels, mask=_grey("mask", lasso / 255.0), mode="subtract",
                                          previous=cropped.fields["result"])
        placed_mask = client.select_object(pixels, mask=placed, mode="subtract", previous=cropped.fields["result"])
        edged = client.adjust_edges(cropped.fields["result"], edges={"feather": 2})
        edged_plain = client.request(messages.adjust_edges(cropped.fields["result"], edges={"feather": 2}))
    alpha = sent[1][0]
    x, y, full_width, full_height = alpha.within
    assert (full_width, full_height) == (W, H) and alpha.width * alpha.height < W * H / 2, "only the objects' box went"
    assert sent[2][0].within is None, "a request without crop_alpha gets the whole alpha"
    assert cropped.specs["alpha"].within is None and (cropped.specs["alpha"].width, cropped.specs["alpha"].height) == (W, H)
    assert cropped.buffers["alpha"] == plain.buffers["alpha"]
    assert _iou(_alpha(cropped), np.maximum(parts["left"], parts["right"])) > 0.9
    assert placed_mask.buffers["alpha"] == whole_mask.buffers["alpha"]
    assert _iou(_alpha(placed_mask), parts["left"]) > 0.9
    assert edged.buffers["alpha"] == edged_plain.buffers["alpha"]


def test_bad_requests_are_refused_by_name_and_the_image_stays_prepared(engine, scene):  # noqa: F811
    image, _ = scene
    pixels = raw_image(W, H, "rgb8", image.tobytes())
    unknown = "0" * 64
    with engine.client() as client:
        with pytest.raises(EngineError) as not_prepared:
            client.request(messages.select_object(unknown, box=BOX))
        with pytest.raises(EngineError) as no_prompt:
            client.select_object(pixels)
        with pytest.raises(EngineError) as outside:
            client.select_object(pixels, box=(10, 60, 100, 10))
        with pytest.raises(EngineError) as stale:
            client.select_object(pixels, box=BOX, mode="add", previous="nosuchresult")
        with pytest.raises(EngineError) as small_mask:
            client.select_object(pixels, mask=raw_image(8, 8, "grey8", bytes(64), name="mask"), mode="add")
        with pytest.raises(EngineError) as both:
            client.request(messages.Message("select_object", "o1", fields={"image": unknown, "box": list(BOX)},
                                            buffers=[pixels]))
        kept = client.select_object(pixels, box=BOX)
    assert not_prepared.value.code == "not_found" and "send the image buffer again" in not_prepared.value.message
    assert no_prompt.value.code == "bad_parameter" and "prompt" in no_prompt.value.message
    assert outside.value.code == "bad_parameter" and "box" in outside.value.message
    assert stale.value.code == "not_found" and "nosuchresult" in stale.value.message
    assert small_mask.value.code in ("bad_message", "bad_parameter") and "mask" in small_mask.value.message
    assert both.value.code in ("bad_message", "bad_parameter") and "both" in both.value.message
    assert kept.fields["prepared"] is False, "refusals lose nothing the engine prepared"


def test_the_editor_flow_sends_pixels_only_when_the_engine_lacks_them(engine, scene):  # noqa: F811
    image, parts = scene
    rgba = np.concatenate([image, np.full((H, W, 1), 255, np.uint8)], axis=2).tobytes()
    source = SimpleNamespace(width=W, height=H, rgba=rgba)
    options = MatteOptions(output="selection", quality="fast")
    sent: list = []
    with engine.client() as client:

        def ask(message):
            sent.append((message.fields.get("image") is not None, [spec.name for spec in message.specs]))
            return client.request(message)

        first = select_object(ask, source, ObjectPrompts(points=((*LEFT, True),)), options)
        assert sent == [(True, []), (False, ["image"])], "the key, then the pixels the engine asked for"
        sent.clear()
        added = select_object(ask, source, ObjectPrompts(box=BOX), options, mode="add",
                              previous=first.fields["result"])
        assert sent == [(True, [])], "the image prepared, the previous result held: prompts only"
        sent.clear()
        left = float_to_uint8(parts["left"]).tobytes()
        again = select_object(ask, source, ObjectPrompts(box=BOX), options, mode="add", previous="r-gone",
                              previous_coverage=lambda: left)
        assert sent == [(True, []), (True, ["previous"])], "a result the engine let go of goes as pixels"
        with pytest.raises(Refused):
            select_object(ask, source, ObjectPrompts(rough=bytes(W * H)), options, mode="add")
    both = np.maximum(parts["left"], parts["right"])
    assert _iou(_alpha(added), both) > 0.9 and _iou(_alpha(again), both) > 0.9


def test_a_known_key_names_the_image_without_hashing_it_and_an_unknown_one_falls_back_to_the_pixels(
        engine, scene, monkeypatch):  # noqa: F811
    image, parts = scene
    pixels = raw_image(W, H, "rgb8", image.tobytes())
    sent: list = []
    with engine.client() as client:

        def ask(message):
            sent.append((message.fields.get("image"), [spec.name for spec in message.specs]))
            return client.request(message)

        key = client.select_object(pixels, points=[(*LEFT, True)]).fields["image"]
        hashed: list = []
        monkeypatch.setattr(messages, "buffer_key", lambda item: hashed.append(item) or key)
        by_key = objects.select_object(ask, pixels, key=key, points=[(*RIGHT, True)])
        assert sent == [(key, [])] and not hashed, "the key as given, the pixels neither sent nor hashed"
        sent.clear()
        unknown = objects.select_object(ask, pixels, key="0" * 64, points=[(*RIGHT, True)])
        assert sent == [("0" * 64, []), (None, ["image"])], "a key the engine lacks: the pixels go"
    assert _iou(_alpha(by_key), parts["right"]) > 0.9
    assert np.abs(_alpha(by_key) - _alpha(unknown)).max() <= 1


def test_a_segment_anything_model_in_rembgs_folder_picks_through_the_engine(tmp_path, monkeypatch, scene):  # noqa: F811
    image, _ = scene
    folder = tmp_path / "u2net"
    build_sam_standin(folder)
    monkeypatch.setenv("U2NET_HOME", str(folder))  # the engine's child process finds it there
    model = build_tiny_model(tmp_path / "tiny.onnx")
    write_sidecar(model)
    server = Engine(tmp_path, model)
    pixels = raw_image(W, H, "rgb8", image.tobytes())
    try:
        with server.client() as client:
            offered = client.request(messages.models_list()).fields["sam"]
            picked = client.select_object(pixels, box=BOX, sam="sam_vit_b_01ec64")
            again = client.select_object(pixels, box=BOX, sam="sam_vit_b_01ec64")
            plain = client.select_object(pixels, box=BOX)
            with pytest.raises(EngineError) as missing:
                client.select_object(pixels, box=BOX, sam="sam_vit_h_4b8939")
    finally:
        server.stop()
    assert offered == ["sam_vit_b_01ec64"]
    assert picked.fields["model"] == "sam:sam_vit_b_01ec64" and picked.fields["prepared"] is True
    assert again.fields["prepared"] is False and plain.fields["prepared"] is True, "prepared per backend"
    selector = ObjectSelector(image, ObjectOptions(backend="sam", sam="sam_vit_b_01ec64", device="cpu"))
    core = float_to_uint8(selector.predict(box=BOX)).astype(np.int16)
    assert np.abs(core - _alpha(picked)).max() <= 1, "the engine's SAM alpha is core's within 1/255"
    assert missing.value.code == "bad_parameter" and str(folder) in missing.value.message
