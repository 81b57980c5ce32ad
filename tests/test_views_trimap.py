"""Fast tests of the coarse-view stage and the automatic trimaps, with fake models."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ParameterError
from core.trimap import auto_trimap, band_radius, trimap_from_mask
from core.views import (
    DEFAULT_VIEWS,
    GREY_PAD,
    MIRROR,
    PLAIN,
    View,
    agreement,
    matte_certainty,
    predict_coarse,
    render_view,
    unrender_alpha,
)


def _image(h: int = 60, w: int = 80) -> np.ndarray:
    """A dark background with a bright square subject touching nothing."""
    image = np.full((h, w, 3), 0.2, np.float32)
    image[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 0.9
    return image


class FakeModel:
    """A predict callable: crisp subject where the image is bright, unless told otherwise.

    ``empty_unless_padded``: returns all zeros when the input has the image's own
    size (the unpadded views), like IS-Net on a subject it fails to see.
    """

    def __init__(self, shape: tuple[int, int], *, empty_unless_padded: bool = False, blank: bool = False):
        self.shape = shape
        self.empty_unless_padded = empty_unless_padded
        self.blank = blank
        self.inputs: list[tuple[int, int]] = []

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        self.inputs.append(rgb.shape[:2])
        if self.blank or (self.empty_unless_padded and rgb.shape[:2] == self.shape):
            return np.zeros(rgb.shape[:2], np.float32)
        return (rgb.mean(axis=2) > 0.7).astype(np.float32)


# --- views ---------------------------------------------------------------------------


def test_confident_first_view_uses_one_run():
    image = _image()
    model = FakeModel(image.shape[:2])
    coarse = predict_coarse(image, model)
    assert coarse.runs == 1 and len(model.inputs) == 1
    assert coarse.views == ("plain",) and coarse.source == "plain"
    assert coarse.confidence == pytest.approx(1.0)
    assert coarse.alpha.shape == image.shape[:2] and coarse.alpha.dtype == np.float32
    assert coarse.alpha[30, 40] == 1.0 and coarse.alpha[0, 0] == 0.0


def test_empty_plain_view_is_recovered_by_padding():
    image = _image()
    model = FakeModel(image.shape[:2], empty_unless_padded=True)
    coarse = predict_coarse(image, model)
    assert coarse.views == ("plain", "mirror", "grey-pad-15")  # nothing found: the frame is tried
    assert coarse.source == "grey-pad-15"
    assert coarse.found_subject
    assert coarse.certainties[:2] == (0.0, 0.0) and coarse.certainties[2] == pytest.approx(1.0)
    # An empty view is no evidence against the recovered one.
    assert coarse.confidence == pytest.approx(1.0)
    # The subject comes back in image coordinates.
    expected = (image.mean(axis=2) > 0.7).astype(np.float32)
    np.testing.assert_array_equal(coarse.alpha, expected)


def test_disagreeing_views_lower_confidence():
    image = _image()

    def model(rgb: np.ndarray) -> np.ndarray:
        # Unsure on the plain view (a grey half), crisp but different when padded.
        if rgb.shape[:2] == image.shape[:2]:
            out = np.zeros(rgb.shape[:2], np.float32)
            out[:, : rgb.shape[1] // 2] = 0.6
            return out
        return (rgb.mean(axis=2) > 0.7).astype(np.float32)

    coarse = predict_coarse(image, model)
    assert coarse.source == "grey-pad-15" and coarse.runs == 3  # the grey half touches the frame
    assert coarse.certainties[2] == pytest.approx(1.0)
    assert coarse.confidence < 0.6


def test_framed_view_runs_only_for_a_subject_the_frame_cuts():
    image = _image()
    calls = []

    def unsure(rgb: np.ndarray) -> np.ndarray:
        # A subject well inside the frame, drawn half-heartedly by every view.
        calls.append(rgb.shape[:2])
        return np.where(rgb.mean(axis=2) > 0.7, 0.6, 0.0).astype(np.float32)

    coarse = predict_coarse(image, unsure)
    assert coarse.views == ("plain", "mirror") and len(calls) == 2
    cut = image.copy()
    cut[:, :10] = 0.9  # now the bright subject reaches the left edge
    calls.clear()
    assert predict_coarse(cut, unsure).views == ("plain", "mirror", "grey-pad-15")


def test_nothing_found_anywhere_reports_zero_confidence():
    image = _image()
    model = FakeModel(image.shape[:2], blank=True)
    coarse = predict_coarse(image, model)
    assert coarse.runs == 3
    assert coarse.confidence == 0.0 and not coarse.found_subject
    assert not coarse.alpha.any()


def test_max_runs_caps_model_calls():
    image = _image()
    model = FakeModel(image.shape[:2], blank=True)
    coarse = predict_coarse(image, model, max_runs=2)
    assert coarse.runs == 2 and len(model.inputs) == 2


def test_render_and_unrender_round_trip():
    image = np.random.default_rng(0).random((30, 50, 3), dtype=np.float32)
    alpha = image[..., 0]
    for view in DEFAULT_VIEWS + (View("rep", pad=0.2, pad_mode="replicate", flip=True),):
        shown = render_view(image, view)
        p = int(round(view.pad * 50))
        assert shown.shape == (30 + 2 * p, 50 + 2 * p, 3) and shown.dtype == np.float32
        back = unrender_alpha(shown[..., 0], (30, 50), view)
        np.testing.assert_array_equal(back, alpha)
    assert render_view(image, GREY_PAD)[0, 0, 0] == pytest.approx(0.5)
    np.testing.assert_array_equal(render_view(image, MIRROR), image[:, ::-1])
    np.testing.assert_array_equal(render_view(image, PLAIN), image)


def test_certainty_definition():
    crisp = np.zeros((40, 40), np.float32)
    crisp[10:30, 10:30] = 1.0
    assert matte_certainty(crisp) == pytest.approx(1.0)
    assert matte_certainty(np.zeros((40, 40), np.float32)) == 0.0
    assert matte_certainty(np.ones((40, 40), np.float32)) == 0.0  # the whole frame: not a subject
    hesitant = crisp.copy()
    hesitant[:, :10] = 0.5  # a wide grey region beside the subject
    assert matte_certainty(hesitant) < 0.8
    assert agreement(crisp, crisp) == pytest.approx(1.0)
    assert agreement(crisp, np.zeros_like(crisp)) == 0.0


def test_predict_coarse_validates_arguments():
    image = _image()
    model = FakeModel(image.shape[:2])
    with pytest.raises(ParameterError, match="image"):
        predict_coarse(image.astype(np.float64), model)
    with pytest.raises(ParameterError, match="image"):
        predict_coarse(image[..., 0], model)
    with pytest.raises(ParameterError, match="max_runs"):
        predict_coarse(image, model, max_runs=0)
    with pytest.raises(ParameterError, match="confident"):
        predict_coarse(image, model, confident=0.0)
    with pytest.raises(ParameterError, match="views"):
        predict_coarse(image, model, views=())
    with pytest.raises(ParameterError, match="predict"):
        predict_coarse(image, lambda rgb: np.zeros((3, 3), np.float32))
    with pytest.raises(ParameterError, match="pad_mode"):
        View("bad", pad=0.1, pad_mode="zeros")
    with pytest.raises(ParameterError, match="pad"):
        View("bad", pad=0.1)


# --- trimaps -------------------------------------------------------------------------


def _disk_alpha(h: int, w: int, radius: float) -> np.ndarray:
    y, x = np.mgrid[:h, :w]
    return ((y - h / 2) ** 2 + (x - w / 2) ** 2 <= radius**2).astype(np.float32)


def _unknown_ring_width(trimap: np.ndarray) -> int:
    """Width of the unknown run along the middle row on the left edge of the disk."""
    row = trimap[trimap.shape[0] // 2]
    return int(np.count_nonzero(row[: trimap.shape[1] // 2] == 128))


def test_auto_trimap_shape_dtype_values():
    alpha = _disk_alpha(100, 120, 30)
    trimap = auto_trimap(alpha)
    assert trimap.shape == alpha.shape and trimap.dtype == np.uint8
    assert set(np.unique(trimap)) == {0, 128, 255}
    assert trimap[50, 60] == 255 and trimap[0, 0] == 0


def test_auto_trimap_band_scales_with_resolution():
    small = auto_trimap(_disk_alpha(200, 200, 60), band=0.02)
    large = auto_trimap(_disk_alpha(400, 400, 120), band=0.02)
    assert band_radius((200, 200), 0.02) == pytest.approx(4.0)
    assert band_radius((400, 400), 0.02) == pytest.approx(8.0)
    w_small, w_large = _unknown_ring_width(small), _unknown_ring_width(large)
    assert 6 <= w_small <= 10
    assert abs(w_large - 2 * w_small) <= 2


def test_auto_trimap_wider_band_more_unknown():
    alpha = _disk_alpha(200, 200, 60)
    narrow = np.count_nonzero(auto_trimap(alpha, band=0.01) == 128)
    wide = np.count_nonzero(auto_trimap(alpha, band=0.04) == 128)
    assert wide > 2 * narrow


def test_auto_trimap_soft_pixels_are_unknown():
    alpha = _disk_alpha(200, 200, 60)
    alpha[:, :20] = 0.5  # the model hesitates on a strip far from the subject
    trimap = auto_trimap(alpha, band=0.0)
    assert np.all(trimap[:, :20] == 128)


def test_auto_trimap_safe_on_empty_full_soft_and_tiny():
    empty = auto_trimap(np.zeros((50, 60), np.float32))
    assert np.all(empty == 0)
    full = auto_trimap(np.ones((50, 60), np.float32))
    assert np.all(full == 255)
    soft = auto_trimap(np.full((50, 60), 0.4, np.float32))
    assert np.any(soft != 128)  # never all-unknown
    ramp = auto_trimap(np.tile(np.linspace(0.3, 0.7, 60, dtype=np.float32), (50, 1)))
    assert np.any(ramp == 0) and np.any(ramp == 255)
    tiny = np.zeros((200, 200), np.float32)
    tiny[100:103, 100:103] = 1.0  # thinner than the band: keeps a known core
    assert np.any(auto_trimap(tiny, band=0.05) == 255)


def test_auto_trimap_validation():
    with pytest.raises(ParameterError, match="coarse_alpha"):
        auto_trimap(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ParameterError, match="coarse_alpha"):
        auto_trimap(np.full((4, 4), 2.0, np.float32))
    with pytest.raises(ParameterError, match="coarse_alpha"):
        auto_trimap(np.zeros((4, 4), np.uint8))
    with pytest.raises(ParameterError, match="coarse_alpha"):
        auto_trimap(np.full((4, 4), np.nan, np.float32))
    with pytest.raises(ParameterError, match="band"):
        auto_trimap(np.zeros((4, 4), np.float32), band=-0.1)
    with pytest.raises(ParameterError, match="threshold"):
        auto_trimap(np.zeros((4, 4), np.float32), fg_threshold=0.2, bg_threshold=0.5)


def test_trimap_from_mask():
    mask = _disk_alpha(100, 100, 30) > 0.5
    trimap = trimap_from_mask(mask, band_px=5)
    assert trimap.dtype == np.uint8 and trimap.shape == mask.shape
    assert 9 <= _unknown_ring_width(trimap) <= 11
    assert trimap[50, 50] == 255 and trimap[0, 0] == 0
    np.testing.assert_array_equal(trimap_from_mask(mask, band_px=0), np.where(mask, 255, 0).astype(np.uint8))
    assert np.all(trimap_from_mask(np.zeros((10, 10), bool)) == 0)
    with pytest.raises(ParameterError, match="band_px"):
        trimap_from_mask(mask, band_px=-1)
    with pytest.raises(ParameterError, match="mask"):
        trimap_from_mask(np.zeros((3, 3, 3), bool))


def test_nearly_whole_image_mattes_lose_certainty():
    crisp = np.zeros((100, 100), np.float32)
    crisp[2:98, 2:98] = 1.0  # 92 % of the image, crisp, not touching the frame
    assert matte_certainty(crisp) == pytest.approx((1 - 0.9216) / 0.1, abs=1e-3)
    smaller = np.zeros((100, 100), np.float32)
    smaller[10:90, 10:90] = 1.0  # 64 %: no penalty
    assert matte_certainty(smaller) == pytest.approx(1.0)
