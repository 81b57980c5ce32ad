"""Golden and synthetic checks for the trimap-based alpha solvers and the guided filter."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sample_images import SHARED_DATA, needs_shared_data
from core.alpha.closed_form import estimate_alpha_cf
from core.alpha.edge_trimming import edge_trim_labels
from core.alpha.guided_filter import guided_filter, guided_upsample
from core.alpha.info_flow import estimate_alpha_info_flow
from core.errors import ParameterError
from core.eval.metrics import sad

DATA = SHARED_DATA
SOLVERS = {"cf": estimate_alpha_cf, "info_flow": estimate_alpha_info_flow}

# Per-method SAD bounds on trimap1 (measured: cf 1.26 / 1.13, info_flow 0.85 / 0.78).
GOLDEN = {
    "GT05": {"cf": 1.35, "info_flow": 0.95},
    "GT01": {"cf": 1.20, "info_flow": 0.90},
}


def _load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    image = np.asarray(Image.open(DATA / "input" / f"{name}.png").convert("RGB"), dtype=np.float32) / 255.0
    trimap = np.asarray(Image.open(DATA / "trimap1" / f"{name}.png").convert("L"), dtype=np.uint8)
    gt = np.asarray(Image.open(DATA / "gt" / f"{name}.png"))
    gt = (gt[..., 0] if gt.ndim == 3 else gt).astype(np.float64) / 255.0
    return image, trimap, gt


@needs_shared_data
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_sad(name: str) -> None:
    image, trimap, gt = _load(name)
    region = trimap == 128
    scores = {}
    for method, solve in SOLVERS.items():
        alpha = solve(image, trimap)
        assert alpha.shape == trimap.shape and alpha.dtype == np.float32
        assert np.all(alpha[trimap == 255] == 1.0) and np.all(alpha[trimap == 0] == 0.0)
        scores[method] = sad(alpha, gt, region)
        assert scores[method] < GOLDEN[name][method], (method, scores[method])
    assert scores["info_flow"] < scores["cf"]


def _two_colour_scene(h: int = 24, w: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Red left half (foreground) and blue right half; the trimap's middle band is unknown."""
    image = np.zeros((h, w, 3), dtype=np.float32)
    image[:, : w // 2] = (0.9, 0.1, 0.1)
    image[:, w // 2 :] = (0.1, 0.2, 0.8)
    truth = np.zeros((h, w), dtype=np.float32)
    truth[:, : w // 2] = 1.0
    trimap = np.full((h, w), 128, dtype=np.uint8)
    trimap[:, :6] = 255
    trimap[:, -6:] = 0
    return image, trimap, truth


@pytest.mark.parametrize("method", sorted(SOLVERS))
def test_two_colour_scene_is_recovered(method: str) -> None:
    image, trimap, truth = _two_colour_scene()
    alpha = SOLVERS[method](image, trimap)
    assert alpha.dtype == np.float32 and alpha.shape == truth.shape
    assert np.abs(alpha - truth).max() < 0.05


@pytest.mark.parametrize("method", sorted(SOLVERS))
def test_single_known_label_fills_unknown(method: str) -> None:
    image, trimap, _ = _two_colour_scene()
    only_fg = np.where(trimap == 0, 128, trimap).astype(np.uint8)
    assert np.all(SOLVERS[method](image, only_fg) == 1.0)
    only_bg = np.where(trimap == 255, 128, trimap).astype(np.uint8)
    assert np.all(SOLVERS[method](image, only_bg) == 0.0)
    with pytest.raises(ParameterError, match="no known pixels"):
        SOLVERS[method](image, np.full_like(trimap, 128))


@pytest.mark.parametrize("method", sorted(SOLVERS))
def test_input_validation(method: str) -> None:
    image, trimap, _ = _two_colour_scene()
    solve = SOLVERS[method]
    with pytest.raises(ParameterError, match="trimap"):
        solve(image, trimap.astype(np.float32))
    with pytest.raises(ParameterError, match="trimap"):
        solve(image, trimap[:-1])
    with pytest.raises(ParameterError, match="image"):
        solve(image * 255.0, trimap)
    with pytest.raises(ParameterError, match="image"):
        solve(image[:, :, :2], trimap)
    with pytest.raises(ParameterError, match="image"):
        solve((image * 255).astype(np.uint8), trimap)


def test_info_flow_parameter_validation() -> None:
    image, trimap, _ = _two_colour_scene()
    for kwargs, name in [
        ({"cm_neighbors": 0}, "cm_neighbors"),
        ({"cm_neighbors": 2.5}, "cm_neighbors"),
        ({"ku_weight": -1.0}, "ku_weight"),
        ({"stretch": 0.5}, "stretch"),
        ({"edge_trim": "yes"}, "edge_trim"),
        ({"rtol": 0.0}, "rtol"),
    ]:
        with pytest.raises(ParameterError, match=name):
            estimate_alpha_info_flow(image, trimap, **kwargs)


def test_edge_trimming_labels_matching_neighbours() -> None:
    image, trimap, truth = _two_colour_scene()
    labels = edge_trim_labels(image, trimap)
    assert labels.dtype == np.int8
    decided = labels >= 0
    assert decided[trimap == 128].any()
    assert np.array_equal(labels[decided], truth[decided].astype(np.int8))


def test_guided_filter_preserves_step_edge() -> None:
    guide = np.zeros((48, 64, 3), dtype=np.float32)
    guide[:, 32:] = (0.8, 0.7, 0.6)
    src = np.zeros((48, 64), dtype=np.float32)
    src[:, 32:] = 1.0
    noisy = src + np.random.default_rng(0).normal(0.0, 0.1, src.shape).astype(np.float32)
    out = guided_filter(guide, noisy, radius=4, eps=1e-4)
    assert out.shape == src.shape and out.dtype == np.float32
    assert np.abs(out - src).mean() < 0.5 * np.abs(noisy - src).mean()
    assert out[:, 31].mean() < 0.2 and out[:, 32].mean() > 0.8


def test_guided_filter_strips_match_whole_image(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    guide = rng.random((70, 50, 3), dtype=np.float32)
    src = rng.random((70, 50), dtype=np.float32)
    whole = guided_filter(guide, src, radius=3, eps=1e-3)
    monkeypatch.setattr("core.alpha.guided_filter._STRIP_PIXELS", 50 * 9)
    stripped = guided_filter(guide, src, radius=3, eps=1e-3)
    np.testing.assert_allclose(stripped, whole, atol=1e-5)


def test_guided_upsample_shape_and_edge() -> None:
    full = np.zeros((96, 128, 3), dtype=np.float32)
    full[:, 64:] = (0.2, 0.5, 0.9)
    low = np.ascontiguousarray(full[::4, ::4])
    alpha_low = (low[:, :, 2] > 0.5).astype(np.float32)
    out = guided_upsample(alpha_low, low, full, radius=2, eps=1e-4)
    assert out.shape == (96, 128) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out[:, :63].max() < 0.1 and out[:, 65:].min() > 0.9


def test_guided_filter_validation() -> None:
    guide = np.zeros((8, 8, 3), dtype=np.float32)
    with pytest.raises(ParameterError, match="src"):
        guided_filter(guide, np.zeros((8, 9), dtype=np.float32))
    with pytest.raises(ParameterError, match="radius"):
        guided_filter(guide, np.zeros((8, 8), dtype=np.float32), radius=0)
    with pytest.raises(ParameterError, match="eps"):
        guided_filter(guide, np.zeros((8, 8), dtype=np.float32), eps=0.0)
    with pytest.raises(ParameterError, match="guide_full"):
        guided_upsample(np.zeros((4, 4), dtype=np.float32), guide[:4, :4], guide[:, :, 0])
