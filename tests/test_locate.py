"""Locating a phone photo of the screen on the document (core.phone.locate), its synthetic
photos (testing.locate_synthetic), the geometry helpers and `softcut locate`."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from sample_images import SHARED_DATA
from softcut_app.cli import main
from core.errors import ParameterError
from core.phone.homography import local_scale, map_point, map_points, quad_is_convex_unflipped, scale_matrix, translation_matrix
from core.imageio import decode_image_rgb8
from core.phone.locate import Location, locate
from testing.locate_synthetic import (
    Viewport,
    camera_homography,
    phone_photo_jpeg,
    rotation_matrix,
    synthetic_case,
)

SIZE = (1600, 1200)


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    files = sorted((SHARED_DATA / "input").glob("*.png"))
    if not files:
        pytest.skip(f"no alphamatting images in {SHARED_DATA}")
    return [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files]


@pytest.fixture(scope="module")
def cases(photos):
    """16 synthetic phone photos (1600 × 1200) of documents made from the alphamatting photos."""
    out = []
    for i in range(16):
        document, jpeg, truth = synthetic_case(photos, i, seed=11, size=SIZE)
        out.append((document, decode_image_rgb8(jpeg), truth))
    return out


def _error_pct(found: Location, document: np.ndarray, truth) -> float:
    if found.x is None:
        return float("inf")
    return float(np.hypot(found.x - truth[0], found.y - truth[1]) / np.hypot(*document.shape[:2]) * 100)


# ── locating ──────────────────────────────────────────────────────────────────


def test_locates_synthetic_phone_photos_within_one_percent_of_the_diagonal(cases):
    errors = [_error_pct(locate(doc, photo), doc, truth) for doc, photo, truth in cases]
    hits = sum(e <= 1.0 for e in errors)
    assert hits >= 0.9 * len(cases), f"errors (% of diagonal): {np.round(errors, 3).tolist()}"
    assert np.median(errors) < 0.3


def test_rgba_document_is_read_without_its_alpha(cases):
    doc, photo, truth = cases[1]
    rgba = np.dstack([doc, np.zeros(doc.shape[:2], np.uint8)])
    found = locate(rgba, photo)
    assert _error_pct(found, doc, truth) <= 1.0
    assert 0.4 <= found.confidence <= 1.0
    assert found.homography.shape == (3, 3)


def test_photo_of_another_image_is_not_located(cases, photos):
    doc, photo, _ = cases[0]
    other_doc = cases[5][0]
    assert other_doc.shape != doc.shape or not np.array_equal(other_doc, doc)
    found = locate(other_doc, photo)
    assert found.x is None and found.y is None
    assert found.confidence < 0.4


def test_photo_of_random_texture_is_not_located(cases):
    rng = np.random.default_rng(5)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8), (0, 0), 2.0)
    texture = cv2.normalize(texture, None, 0, 255, cv2.NORM_MINMAX)
    found = locate(cases[2][0], texture)
    assert found.x is None
    assert found.confidence < 0.4


def test_flat_grey_document_or_photo_is_not_located_and_does_not_crash(cases):
    grey = np.full((200, 300, 3), 128, np.uint8)
    found = locate(grey, cases[0][1])
    assert found.x is None and found.confidence == 0.0 and found.inliers == 0
    found = locate(cases[0][0], np.full((1200, 1600, 3), 90, np.uint8))
    assert found.x is None and found.confidence == 0.0


def test_bad_inputs_raise_parameter_errors():
    with pytest.raises(ParameterError, match="document"):
        locate(np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ParameterError, match="photo"):
        locate(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10, 2), np.uint8))


# ── synthetic photos and geometry ─────────────────────────────────────────────


def test_camera_homography_matches_a_hand_computed_tilted_view():
    # Tilt 30° about y; the target (400, 300) lies on the optical axis, so it lands on the
    # photo centre. A screen point 100 px to its right is at camera (100 cos θ, 0, d − 100 sin θ):
    # x = cx + f · 100 cos θ / (d − 100 sin θ) = 100 + 1000 · 86.6025 / 950 = 191.1605.
    h = camera_homography((400.0, 300.0), rotation_matrix(0.0, 30.0, 0.0), 1000.0, 1000.0, (201, 101))
    assert map_point(h, 400.0, 300.0) == pytest.approx((100.0, 50.0), abs=1e-9)
    assert map_point(h, 500.0, 300.0) == pytest.approx((100.0 + 1000.0 * 100 * np.cos(np.pi / 6) / 950.0, 50.0), abs=1e-9)
    assert map_point(h, 500.0, 300.0)[0] == pytest.approx(191.1605, abs=1e-4)
    # Facing the screen squarely, the photo is the screen scaled by f / d.
    flat = camera_homography((400.0, 300.0), np.eye(3), 2000.0, 1000.0, (201, 101))
    assert map_point(flat, 600.0, 250.0) == pytest.approx((200.0, 25.0), abs=1e-9)
    assert local_scale(flat, 10.0, 10.0) == pytest.approx(0.5)


def test_viewport_maps_document_pixels_to_screen_pixels():
    view = Viewport(50, 70, 1600, 1050, zoom=0.5, ox=300.0, oy=120.0)
    assert map_point(view.doc_to_screen(), 100.0, 40.0) == (350.0, 140.0)
    assert map_point(np.linalg.inv(view.doc_to_screen()), 350.0, 140.0) == pytest.approx((100.0, 40.0))
    # an 800 × 600 document at 50 %: 400 × 300 screen pixels from (300, 120), minus half a pixel each side
    assert view.visible_document(800, 600) == pytest.approx((299.75, 119.75, 699.75, 419.75))


def test_homography_helpers():
    assert map_points(scale_matrix(0.5), np.array([[-0.5, -0.5], [1.5, 3.5]])).tolist() == [[-0.5, -0.5], [0.5, 1.5]]
    assert map_points(translation_matrix(3, -2), np.array([[1.0, 1.0], [0.0, 5.0]])).tolist() == [[4.0, -1.0], [3.0, 3.0]]
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    assert quad_is_convex_unflipped(square)
    assert not quad_is_convex_unflipped(square[:, ::-1])  # mirrored
    assert not quad_is_convex_unflipped(square[[0, 2, 1, 3]])  # bow-tie
    assert not quad_is_convex_unflipped(np.array([[0, 0], [10, 0], [2, 2], [0, 10]], float))  # dented


def test_synthetic_photo_is_deterministic_and_its_truth_is_on_the_document(photos):
    doc = photos[3]
    first = phone_photo_jpeg(doc, np.random.default_rng(4), size=(640, 480))
    again = phone_photo_jpeg(doc, np.random.default_rng(4), size=(640, 480))
    assert first == again
    photo = decode_image_rgb8(first[0])
    assert photo.shape in ((480, 640, 3), (640, 480, 3))
    x, y = first[1]
    assert -0.5 <= x <= doc.shape[1] - 0.5 and -0.5 <= y <= doc.shape[0] - 0.5


# ── the command line ──────────────────────────────────────────────────────────


def _save(path, rgb: np.ndarray, *, exif_orientation: int | None = None) -> None:
    pil = Image.fromarray(rgb)
    if exif_orientation is None:
        pil.save(path)
        return
    exif = Image.Exif()
    exif[0x0112] = exif_orientation
    pil.save(path, exif=exif.tobytes(), quality=92)


def _cli_json(capsys, *argv) -> tuple[int, dict]:
    code = main(["locate", *map(str, argv), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_cli_locate_json_found_and_not_found(tmp_path, capsys, cases):
    doc, photo, truth = cases[0]
    _save(tmp_path / "doc.png", doc)
    _save(tmp_path / "photo.jpg", photo)
    code, out = _cli_json(capsys, tmp_path / "doc.png", tmp_path / "photo.jpg")
    assert code == 0 and set(out) == {"x", "y", "confidence"}
    assert np.hypot(out["x"] - truth[0], out["y"] - truth[1]) <= 0.01 * np.hypot(*doc.shape[:2])
    _save(tmp_path / "grey.png", np.full((100, 150, 3), 128, np.uint8))
    code, out = _cli_json(capsys, tmp_path / "grey.png", tmp_path / "photo.jpg")
    assert code == 0 and out == {"x": None, "y": None, "confidence": 0.0}
    code = main(["locate", str(tmp_path / "grey.png"), str(tmp_path / "photo.jpg")])
    assert code == 0 and "could not find" in capsys.readouterr().out


@pytest.mark.parametrize(
    "orientation, stored",
    [
        (6, lambda rgb: np.rot90(rgb, k=1)),  # what phones write: the viewer turns it 90° clockwise
        (5, lambda rgb: np.transpose(rgb, (1, 0, 2))),  # mirrored: unreadable unless the tag is applied
    ],
)
def test_cli_locate_applies_the_photos_exif_orientation(tmp_path, capsys, cases, orientation, stored):
    doc, photo, truth = cases[4]
    _save(tmp_path / "photo.jpg", np.ascontiguousarray(stored(photo)), exif_orientation=orientation)
    _save(tmp_path / "doc.png", doc)
    code, out = _cli_json(capsys, tmp_path / "doc.png", tmp_path / "photo.jpg")
    assert code == 0
    assert out["x"] is not None, out
    assert np.hypot(out["x"] - truth[0], out["y"] - truth[1]) <= 0.01 * np.hypot(*doc.shape[:2])


def test_falls_back_to_orb_when_opencv_has_no_sift(cases, monkeypatch):
    monkeypatch.delattr(cv2, "SIFT_create")
    doc, photo, truth = cases[2]
    found = locate(doc, photo)
    assert _error_pct(found, doc, truth) <= 1.0
