"""select_object through a real engine (`softcut serve` on loopback, the tiny model): the image goes
once and is named by its key after, the alpha equals core's ObjectSelector's and the CLI's,
corrections take a previous result by id or as a buffer, adjust_edges works on the result, and bad
requests are refused by name without losing the prepared image."""

from __future__ import annotations

import dataclasses
import io
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


def test_a_cropped_alpha_and_placed_masks_give_the_whole_ones_pixels(engine, scene, monkeypatch):  # noqa: F811
    """To an engine that says it can (``crop_alpha`` in welcome), the client asks for the alpha as its box and
    sends the lasso and a previous matte as theirs; every result is byte for byte what the same requests give
    sent whole (the client told the engine cannot: what it does for an engine from before this)."""
    image, parts = scene
    pixels = raw_image(W, H, "rgb8", image.tobytes())
    lasso = np.zeros((H, W), np.uint8)
    lasso[40:125, 140:225] = 255
    both = np.maximum(parts["left"], parts["right"])
    replies, requests = [], []
    monkeypatch.setattr(session, "_result", lambda reply: replies.append(reply.specs) or _result(reply))

    def run(client):
        picked = client.select_object(pixels, points=[(*LEFT, True)])
        added = client.select_object(pixels, box=BOX, mode="add", previous=picked.fields["result"])
        cut = client.select_object(pixels, mask=raw_image(W, H, "grey8", lasso.tobytes(), name="mask"),
                                   mode="subtract", previous=added.fields["result"])
        removed = client.select_object(pixels, points=[(*RIGHT, False)], previous=_grey("previous", both))
        edged = client.adjust_edges(added.fields["result"], edges={"feather": 2})
        return [r.buffers["alpha"] for r in (picked, added, cut, removed, edged)]

    with engine.client() as client:
        exchange = client._exchange
        client._exchange = lambda message, **kw: requests.append(message) or exchange(message, **kw)
        assert "crop_alpha" in client.welcome["capabilities"]
        boxed = run(client)
        sent_boxed, replied_boxed = requests[:], replies[:]
        requests.clear(), replies.clear()
        client.welcome["capabilities"] = [c for c in client.welcome["capabilities"] if c != "crop_alpha"]
        plain = run(client)
    assert [m.fields.get("crop_alpha") for m in sent_boxed] == [True] * 5
    assert [m.fields.get("crop_alpha") for m in requests] == [None] * 5, "not to an engine that cannot"
    mask, previous = sent_boxed[2].buffer("mask")[0], sent_boxed[3].buffer("previous")[0]
    assert mask.within == (140, 40, W, H) and (mask.width, mask.height) == (85, 85)
    assert previous.within is not None and previous.width * previous.height < W * H / 2
    assert all(spec.within is None for m in requests for spec in m.specs)
    alphas = [specs[0] for specs in replied_boxed]
    assert all(a.within is not None and a.within[2:] == (W, H) and a.width * a.height < W * H / 2 for a in alphas)
    assert all(specs[0].within is None for specs in replies)
    assert boxed == plain, "the same pixels, sent whole or as boxes"
    assert all(len(alpha) == W * H for alpha in boxed)
    assert _iou(_alpha(SimpleNamespace(buffers={"alpha": boxed[1]})), both) > 0.9
    assert _iou(_alpha(SimpleNamespace(buffers={"alpha": boxed[2]})), parts["left"]) > 0.9


def test_a_placed_guide_refines_as_the_whole_one_and_png_alphas_stay_whole(engine, scene):  # noqa: F811
    """The engine places any grey guide sent as its box (a client may); crop_alpha does not apply to a PNG
    alpha; an image the engine reads as colours may not come as a box."""
    image, parts = scene
    rgb = raw_image(W, H, "rgb8", image.tobytes())
    rough = (parts["left"] >= 0.5).astype(np.uint8) * 255
    guide = raw_image(W, H, "grey8", rough.tobytes(), name="guide")
    placed = messages.cropped(guide)
    assert placed[0].within is not None
    with engine.client() as client:
        whole_guide = client.request(messages.refine(rgb, guide, guide_kind="mask", mode="fast"))
        placed_guide = client.request(messages.refine(rgb, placed, guide_kind="mask", mode="fast"))
        as_png = client.request(messages.select_object(rgb, box=BOX, format="png", crop_alpha=True))
        spec, data = messages.cropped(raw_image(W, H, "grey8", rough.tobytes()))
        with pytest.raises(EngineError) as boxed_image:
            client.request(messages.select_subject((dataclasses.replace(spec, name="image"), data)))
    assert placed_guide.buffers["alpha"] == whole_guide.buffers["alpha"]
    assert as_png.specs["alpha"].format == "png" and as_png.specs["alpha"].within is None
    assert Image.open(io.BytesIO(as_png.buffers["alpha"])).size == (W, H)
    assert boxed_image.value.code in ("bad_message", "bad_parameter") and "within" in boxed_image.value.message


def test_a_first_lasso_on_an_image_new_to_the_engine_goes_as_its_box_with_the_pixels(engine, scene):  # noqa: F811
    """The key first (not_found), then the pixels with the lasso's box: the engine checks the box's whole size."""
    image, parts = scene
    fresh = image.copy()
    fresh[0, 0] ^= 1  # pixels the engine has not prepared
    lasso = np.zeros((H, W), np.uint8)
    lasso[40:125, 140:225] = 255
    with engine.client() as client:
        result = client.select_object(raw_image(W, H, "rgb8", fresh.tobytes()),
                                      mask=raw_image(W, H, "grey8", lasso.tobytes(), name="mask"), mode="add",
                                      previous=_grey("previous", parts["left"]))
    assert result.fields["prepared"] is True
    assert _iou(_alpha(result), np.maximum(parts["left"], parts["right"])) > 0.85


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
