"""Object Selection with rembg's SAM files (core.objects.sam and ObjectSelector's "sam" backend),
run for real by onnxruntime on tiny stand-ins built to the real files' signatures
(:mod:`testing.sam_standin`): the stand-in decoder answers with discs around the clicks and the
box between the corners, in frame pixels, and with nothing unless the prompts are encoded as
rembg encodes them; so bounds and centres of its masks check the encoding and the way back."""

from __future__ import annotations

import re

import numpy as np
import onnxruntime
import pytest

from core.errors import ParameterError
from core.objects import ObjectOptions, ObjectSelector
from core.objects.sam import FRAME, installed_sam, open_sam, sam_files
from testing.sam_standin import NOTHING, PIXEL_MEAN, PIXEL_STD, build_sam_standin

RADIUS = 40.0  # the stand-in's click discs, frame pixels


@pytest.fixture(scope="module")
def u2net_home(tmp_path_factory):
    """rembg's folder holding the stand-in ViT-B pair."""
    folder = tmp_path_factory.mktemp("u2net")
    build_sam_standin(folder, radius=RADIUS)
    return folder


@pytest.fixture(scope="module")
def sam(u2net_home):
    """The stand-in SAM, loaded on the CPU from rembg's folder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("U2NET_HOME", str(u2net_home))
        return open_sam(device="cpu")


def _image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """(height, width, 3) uint8 RGB noise."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _bounds(region: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) pixel corners around ``region`` ((H, W) bool)."""
    ys, xs = np.nonzero(region)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


# ------------------------------------------------------------------ finding the files


def test_installed_sam_lists_the_pairs_in_u2net_home(tmp_path, monkeypatch):
    build_sam_standin(tmp_path, "sam_vit_b_01ec64")
    build_sam_standin(tmp_path, "sam_vit_l_0b3195", quant=True)
    build_sam_standin(tmp_path, "sam_vit_h_4b8939")
    (tmp_path / "sam_vit_h_4b8939.decoder.onnx").unlink()  # an encoder alone is no model
    (tmp_path / "u2net.onnx").write_bytes(b"not SAM")
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    assert installed_sam() == ["sam_vit_b_01ec64", "sam_vit_l_0b3195.quant"]
    files = sam_files("sam_vit_l_0b3195.quant")
    assert (files.encoder.name, files.decoder.name) == ("sam_vit_l_0b3195.encoder.quant.onnx",
                                                        "sam_vit_l_0b3195.decoder.quant.onnx")
    assert files.encoder.parent == tmp_path
    monkeypatch.delenv("U2NET_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # rembg's fallback: $XDG_DATA_HOME/.u2net
    assert installed_sam() == []
    build_sam_standin(tmp_path / "data" / ".u2net")
    assert installed_sam() == ["sam_vit_b_01ec64"]


def test_missing_sam_files_are_refused_naming_where_they_were_looked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    image = _image(40, 60)
    with pytest.raises(ParameterError) as caught:
        ObjectSelector(image, ObjectOptions(backend="sam", device="cpu"))
    message = str(caught.value)
    assert str(tmp_path) in message and "sam_vit_b_01ec64.encoder.onnx" in message
    assert "sam_vit_b_01ec64.decoder.onnx" in message and "SAM models there: none" in message
    build_sam_standin(tmp_path, quant=True)
    with pytest.raises(ParameterError, match=re.escape("SAM models there: sam_vit_b_01ec64.quant")):
        ObjectSelector(image, ObjectOptions(backend="sam", device="cpu"))
    selector = ObjectSelector(image, ObjectOptions(backend="sam", sam="sam_vit_b_01ec64.quant", device="cpu"))
    assert selector.predict(box=(10, 10, 30, 30)).shape == (40, 60)


@pytest.mark.parametrize(("options", "message"), [
    ({"backend": "segment"}, "backend: expected one of model, sam"),
    ({"sam": "../elsewhere/sam"}, "sam: expected a SAM model name"),
    ({"sam": ""}, "sam: expected a SAM model name"),
])
def test_bad_backend_options_are_refused(options, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        ObjectOptions(**options)


def _reddish(image: np.ndarray) -> np.ndarray:
    """A mask model: (h, w, 3) float32 in [0, 1] RGB → (h, w) float32, 1 where red beats blue by 0.3."""
    return (image[..., 0] - image[..., 2] > 0.3).astype(np.float32)


def test_the_default_backend_needs_no_sam_file(tmp_path, monkeypatch):
    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "empty"))
    image = np.zeros((60, 80, 3), np.uint8)
    image[20:40, 30:50] = (230, 30, 20)
    selector = ObjectSelector(image, ObjectOptions(refine="none"), predict=_reddish)
    alpha = selector.predict(box=(25, 15, 55, 45))
    assert alpha[30, 40] == 1.0 and alpha[5, 5] == 0.0 and not (tmp_path / "empty").exists()


# ------------------------------------------------------------------ the encoder's input


@pytest.mark.parametrize("shape", [(200, 512), (600, 150), (684, 1024), (50, 1500)])
def test_the_encoder_sees_the_image_letterboxed_into_the_frame_as_rgb_pixels(sam, shape):
    height, width = shape
    colour = np.array([200, 100, 30], np.uint8)
    prepared = sam.prepare(np.broadcast_to(colour, (height, width, 3)).copy())
    scale = min(1024 / width, 684 / height)
    assert prepared.scale == pytest.approx(scale) and prepared.embedding.shape == (1, 256, 64, 64)
    # Each cell of the stand-in's embedding is the mean of a 16×16 block of the normalised frame,
    # itself padded with zeros to 1024²; channel c holds colour channel c % 3.
    cells = prepared.embedding[0, :3]
    top = np.arange(64)[:, None] * 16
    left = np.arange(64)[None, :] * 16
    image_cells = (top + 16 <= scale * height - 1) & (left + 16 <= scale * width - 1)
    black_cells = ((top >= scale * height + 1) | (left >= scale * width + 1)) & (top + 16 <= FRAME[0])
    pad_cells = np.broadcast_to(top >= FRAME[0] + 4, (64, 64))  # rows the encoder graph pads, not the frame
    for c in range(3):
        assert np.allclose(cells[c][image_cells], (colour[c] - PIXEL_MEAN[c]) / PIXEL_STD[c], atol=1e-4)
        assert np.allclose(cells[c][black_cells], (0 - PIXEL_MEAN[c]) / PIXEL_STD[c], atol=1e-4)
        assert np.allclose(cells[c][pad_cells], 0.0, atol=1e-6)
    assert image_cells.sum() > 0 and (black_cells.sum() > 0 or scale * height > 683 and scale * width > 1023)
    assert np.array_equal(prepared.embedding[0, 3:6], cells)  # channel c + 3 repeats channel c


# ------------------------------------------------------------------ the decoder's prompts


def test_prompts_are_encoded_as_rembg_encodes_them(sam):
    prepared = sam.prepare(_image(300, 500))  # scale 1024 / 500
    s = 1024 / 500
    inputs = prepared.decoder_inputs(np.array([[10.0, 20.0], [30.5, 40.25]]), np.array([1, 0]),
                                     box=(50.0, 60.0, 250.0, 200.0))
    assert np.allclose(inputs["point_coords"], np.array([[[10, 20], [30.5, 40.25], [50, 60], [250, 200], [0, 0]]]) * s)
    assert inputs["point_coords"].dtype == np.float32 and inputs["point_coords"].shape == (1, 5, 2)
    assert inputs["point_labels"].tolist() == [[1, 0, 2, 3, -1]] and inputs["point_labels"].dtype == np.float32
    assert inputs["mask_input"].shape == (1, 1, 256, 256) and not inputs["mask_input"].any()
    assert inputs["has_mask_input"].shape == (1,) and inputs["has_mask_input"][0] == 0
    assert inputs["orig_im_size"].tolist() == [684, 1024] and inputs["orig_im_size"].dtype == np.float32
    assert inputs["image_embeddings"] is prepared.embedding


def test_the_standin_decoder_answers_nothing_without_rembgs_padding_point(sam, u2net_home):
    prepared = sam.prepare(_image(300, 500))
    inputs = prepared.decoder_inputs(np.array([[100.0, 100.0]]), np.array([1]))
    decoder = onnxruntime.InferenceSession(str(u2net_home / "sam_vit_b_01ec64.decoder.onnx"),
                                           providers=["CPUExecutionProvider"])
    masks = decoder.run(["masks"], inputs)[0]
    assert masks.shape == (1, 2, 684, 1024) and (masks > 0).sum() > 1000
    unpadded = dict(inputs, point_coords=inputs["point_coords"][:, :-1], point_labels=inputs["point_labels"][:, :-1])
    assert (decoder.run(["masks"], unpadded)[0] == NOTHING).all()
    flagged = dict(inputs, has_mask_input=np.ones(1, np.float32))
    assert (decoder.run(["masks"], flagged)[0] == NOTHING).all()


@pytest.mark.parametrize("shape", [(300, 500), (700, 260), (120, 1500), (684, 1024)])
def test_a_box_comes_back_at_the_boxs_place_on_wide_and_tall_images(sam, shape):
    height, width = shape
    prepared = sam.prepare(_image(height, width))
    box = (0.23 * width, 0.31 * height, 0.81 * width, 0.77 * height)
    logits = prepared.decode(np.zeros((0, 2)), np.zeros(0), box)
    assert logits.shape == shape and logits.dtype == np.float32
    inside = logits > 0
    for got, want in zip(_bounds(inside), box):
        assert abs(got - want) <= 1.0
    x0, y0, x1, y1 = (int(np.ceil(box[0])) + 1, int(np.ceil(box[1])) + 1, int(box[2]) - 1, int(box[3]) - 1)
    assert inside[y0:y1, x0:x1].all() and inside.sum() <= (x1 - x0 + 3) * (y1 - y0 + 3)
    click = (0.1 * width, 0.15 * height)  # outside the box: SAM's masks (here one each) are joined
    both = prepared.decode(np.array([click]), np.array([1]), box) > 0
    assert both[int(click[1]), int(click[0])] and np.array_equal(both[y0:y1, x0:x1], inside[y0:y1, x0:x1])


@pytest.mark.parametrize("shape", [(300, 500), (700, 260)])
def test_clicks_come_back_as_discs_around_them(sam, shape):
    height, width = shape
    prepared = sam.prepare(_image(height, width))
    radius = RADIUS / prepared.scale  # the stand-in's disc, in image pixels
    click = (0.4 * width, 0.6 * height)
    inside = prepared.decode(np.array([click]), np.array([1])) > 0
    ys, xs = np.nonzero(inside)
    assert abs(xs.mean() - click[0]) <= 0.5 and abs(ys.mean() - click[1]) <= 0.5
    assert inside.sum() == pytest.approx(np.pi * radius**2, rel=0.08)
    box = (0.1 * width, 0.1 * height, 0.9 * width, 0.9 * height)
    holed = prepared.decode(np.array([click]), np.array([0]), box) > 0
    yy, xx = np.mgrid[0:height, 0:width]
    distance = np.hypot(xx - click[0], yy - click[1])
    in_box = (xx > box[0] + 1) & (xx < box[2] - 1) & (yy > box[1] + 1) & (yy < box[3] - 1)
    assert not holed[distance < radius - 1.5].any() and holed[(distance > radius + 1.5) & in_box].all()


# ------------------------------------------------------------------ ObjectSelector with SAM


H, W = 240, 360  # scale min(1024 / 360, 684 / 240) = 2.844: the stand-in's disc is 14 px here
OBJECT = (110, 70, 250, 170)  # a red rectangle, x0, y0, x1, y1


@pytest.fixture(scope="module")
def scene():
    """(H, W, 3) uint8 RGB: a red rectangle on blue, a little noise."""
    image = np.broadcast_to(np.array([40, 70, 200], np.float32), (H, W, 3)).copy()
    x0, y0, x1, y1 = OBJECT
    image[y0:y1, x0:x1] = (220, 40, 30)
    image += np.random.default_rng(1).normal(0, 3, image.shape)
    return np.clip(image + 0.5, 0, 255).astype(np.uint8)


def _rect(box) -> np.ndarray:
    """(H, W) float32: 1 inside the box's pixels."""
    out = np.zeros((H, W), np.float32)
    x0, y0, x1, y1 = box
    out[y0:y1, x0:x1] = 1.0
    return out


def _selector(scene, sam, **options) -> ObjectSelector:
    return ObjectSelector(scene, ObjectOptions(backend="sam", **{"refine": "none", **options}), sam=sam)


def test_the_encoder_runs_once_per_image_and_predictions_only_decode(scene, sam):
    before = sam.encoder_runs
    selector = _selector(scene, sam)
    assert sam.encoder_runs == before + 1 and selector.model_runs == 1
    selector.predict(box=OBJECT)
    selector.predict(points=[(180, 120, True)])
    selector.predict(points=[(180, 120, False)], previous=_rect(OBJECT))
    assert sam.encoder_runs == before + 1 and selector.model_runs == 1
    _selector(scene, sam)
    assert sam.encoder_runs == before + 2


def test_nbytes_counts_the_embedding(scene, sam):
    selector = _selector(scene, sam)
    assert selector.nbytes == scene.nbytes + selector.image_float.nbytes + 256 * 64 * 64 * 4


def test_a_box_selects_what_sam_returns_within_a_pixel(scene, sam):
    alpha = _selector(scene, sam).predict(box=OBJECT)
    assert alpha.dtype == np.float32 and alpha.shape == (H, W) and set(np.unique(alpha)) == {0.0, 1.0}
    for got, want in zip(_bounds(alpha > 0.5), OBJECT):
        assert abs(got - want) <= 1


def test_the_result_is_refined_into_a_soft_matte(sam):
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    truth = np.clip(14.0 - np.hypot(xx - 150, yy - 100) + 0.5, 0, 1)  # a soft-rimmed disc as large as SAM's
    image = truth[..., None] * np.array([220, 40, 30], np.float32) + (1 - truth[..., None]) * np.array([40, 70, 200])
    image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    alpha = _selector(image, sam, refine="fast").predict(points=[(150, 100, True)])
    assert ((alpha >= 0.5) == (truth >= 0.5)).mean() > 0.995
    rim = (truth > 0.05) & (truth < 0.95)
    assert ((alpha[rim] > 0.05) & (alpha[rim] < 0.95)).any()


def test_modes_take_the_prediction_into_the_previous_matte(scene, sam):
    selector = _selector(scene, sam)
    previous = _rect((20, 20, 80, 80))
    box = (60, 60, 140, 120)
    found = selector.predict(box=box)
    assert np.array_equal(selector.predict(box=box, mode="add", previous=previous), np.maximum(previous, found))
    assert np.array_equal(selector.predict(box=box, mode="subtract", previous=previous),
                          np.clip(previous - found, 0, 1))
    assert np.array_equal(selector.predict(box=box, mode="intersect", previous=previous), np.minimum(previous, found))
    assert np.array_equal(selector.predict(box=box, mode="new", previous=previous), found)  # a box is a new pick


def test_a_lasso_goes_to_sam_as_its_bounding_box_and_cuts_the_answer_to_itself(scene, sam):
    yy, xx = np.mgrid[0:H, 0:W]
    lasso = np.hypot(xx - 180, yy - 120) < 50
    alpha = _selector(scene, sam).predict(mask=lasso, mode="add", previous=np.zeros((H, W), np.float32))
    assert alpha[~lasso].max() == 0.0 and (alpha[lasso] == 1.0).mean() > 0.98  # the stand-in fills the whole box


def test_clicks_correct_a_matte_only_near_the_clicks(scene, sam):
    reach = ObjectOptions().reach * np.sqrt(H * W)  # how far a correction reaches, pixels
    hole = RADIUS / min(1024 / W, 684 / H)  # the stand-in's disc around a click, pixels
    previous = _rect(OBJECT)
    alpha = _selector(scene, sam).predict(points=[(150, 110, False)], previous=previous)
    yy, xx = np.mgrid[0:H, 0:W]
    distance = np.hypot(xx - 150, yy - 110)
    assert alpha[distance < hole - 1.5].max() == 0.0  # SAM's answer near the click: not the object
    edge = (np.abs(xx - 110) <= 1) | (np.abs(xx - 249) <= 1) | (np.abs(yy - 70) <= 1) | (np.abs(yy - 169) <= 1)
    kept = (distance > hole + 1.5) & ~edge  # SAM's answer (the box around the matte less the hole) is the matte
    assert np.array_equal(alpha[kept], previous[kept]) and reach > hole + 10


def test_a_correction_changes_the_matte_only_within_reach_of_the_clicks(scene, sam):
    reach = ObjectOptions().reach * np.sqrt(H * W)
    previous = _rect((20, 20, 80, 80))  # another object; SAM is asked about the box around it and the click
    alpha = _selector(scene, sam).predict(points=[(180, 120, True)], previous=previous)
    yy, xx = np.mgrid[0:H, 0:W]
    far = np.hypot(xx - 180, yy - 120) > reach + 1
    changed = alpha != previous
    assert changed.any() and alpha[120, 180] == 1.0
    assert not (changed & far & ~_rect((20, 20, 181, 121)).astype(bool)).any()


def test_a_positive_click_on_a_missed_part_adds_that_part(scene, sam):
    selector = _selector(scene, sam)
    hole = _rect((160, 100, 190, 130))
    previous = _rect(OBJECT) - hole  # the matte missed a part inside the object
    alpha = selector.predict(points=[(175, 115, True)], previous=previous)
    assert np.array_equal(alpha, _rect(OBJECT))  # SAM (the box around the matte) fills it; nothing else changes


def test_backend_arguments_that_do_not_fit_are_refused(scene, sam):
    with pytest.raises(ParameterError, match=re.escape("predict: a mask model is used only with backend")):
        ObjectSelector(scene, ObjectOptions(backend="sam"), predict=lambda image: image[..., 0])
    with pytest.raises(ParameterError, match=re.escape('sam: a SAM model is used only with backend "sam"')):
        ObjectSelector(scene, ObjectOptions(model="any.onnx"), sam=sam)


def test_a_correction_leaves_the_matte_as_it_was_around_the_clicks_it_already_agrees_with(scene, sam):
    """The clicks come with their history: only those the matte does not yet agree with are re-decided, and
    the same clicks again on their own result change nothing (before, SAM's answer was taken again around
    every click: 1,894 pixels changed here)."""
    selector = _selector(scene, sam)
    previous = _rect(OBJECT) - _rect((160, 100, 190, 130))
    points = [(120, 80, True), (175, 115, True)]  # the first already in the matte, the second in its hole
    alpha = selector.predict(points=points, previous=previous)
    yy, xx = np.mgrid[0:H, 0:W]
    around_first = np.hypot(xx - 120, yy - 80) < 20
    assert np.array_equal(alpha[around_first], previous[around_first]) and alpha[115, 175] == 1.0
    assert np.array_equal(selector.predict(points=points, previous=alpha), alpha)
