"""core.phone.placement: the phone cut-out's position and size in the document."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ParameterError
from core.phone.homography import map_point, scale_matrix
from core.phone.locate import Location
from core.phone.placement import (fit_scale, paste_scale, rect_to_document, resize_rgba, scaled_size, through, top_left,
                            viewfinder_scale)


def test_fit_scale_never_enlarges_and_fits_the_document():
    assert fit_scale((100, 50), (800, 600)) == 1.0
    assert fit_scale((1600, 300), (800, 600)) == 0.5
    assert fit_scale((400, 1200), (800, 600)) == 0.5


def test_the_viewfinder_rule_keeps_the_subjects_share_of_the_view():
    # The paste photo (1200 x 900) sees a 300 x 225 part of the document: 0.25 document px per photo px.
    photo_to_document = np.array([[0.25, 0.0, 40.0], [0.0, 0.25, 70.0], [0.0, 0.0, 1.0]])
    # Cut from a 4000 x 3000 photo: 1200/4000 paste-photo px per cut-photo px, times 0.25.
    assert viewfinder_scale(photo_to_document, (1200, 900), (4000, 3000)) == pytest.approx(0.075)
    # held the other way round for one of the two photos: long sides still match
    assert viewfinder_scale(photo_to_document, (1200, 900), (3000, 4000)) == pytest.approx(0.075)
    # a subject 2000 px wide in its photo covers 2000 x 0.075 = 150 px: half of the 300 px seen
    assert paste_scale((2000, 1000), (800, 600), view_scale=0.075) == pytest.approx(0.075)
    assert paste_scale((2000, 1000), (800, 600), view_scale=3.0) == 0.4  # capped by the document
    assert paste_scale((200, 100), (800, 600), view_scale=3.0) == 1.0  # never enlarged
    assert paste_scale((200, 100), (800, 600), view_scale=float("nan")) == 1.0
    assert scaled_size((2000, 1000), 0.075) == (150, 75) and scaled_size((3, 3), 0.01) == (1, 1)


def test_top_left_centres_the_rectangle_on_the_point():
    assert top_left((99.5, 49.5), (100, 50)) == (50, 25)
    assert top_left((10.2, 9.8), (4, 4)) == (9, 8)  # columns 9..12 around 10.2, rows 8..11 around 9.8


def test_rect_to_document_maps_the_canvas_rectangle_edges_and_centres():
    to_doc = rect_to_document({"x": 100, "y": 50, "width": 400, "height": 300}, (800, 600))
    assert map_point(to_doc, 99.5, 49.5) == pytest.approx((-0.5, -0.5))  # screen edge = document edge
    assert map_point(to_doc, 499.5, 349.5) == pytest.approx((799.5, 599.5))
    assert map_point(to_doc, 300, 200) == pytest.approx((400.5, 300.5))
    with pytest.raises(ParameterError):
        rect_to_document({"x": 0, "y": 0, "width": 0, "height": 3}, (10, 10))


def test_through_carries_a_location_and_its_homography():
    h = np.array([[2.0, 0.0, 5.0], [0.0, 2.0, 7.0], [0.0, 0.0, 1.0]])
    found = Location(10.0, 20.0, 0.9, 50, 40, h)
    moved = through(found, scale_matrix(0.5))
    assert (moved.x, moved.y) == pytest.approx((4.75, 9.75)) and moved.confidence == 0.9
    assert map_point(moved.homography, 0, 0) == pytest.approx(map_point(scale_matrix(0.5), 5.0, 7.0))
    lost = Location(None, None, 0.0, 3, 0)
    assert through(lost, scale_matrix(2.0)) is lost


def test_resize_rgba_keeps_edge_colours_clean():
    rgba = np.zeros((64, 64, 4), np.uint8)  # transparent black around an opaque red square
    rgba[16:48, 16:48] = (255, 0, 0, 255)
    small = resize_rgba(rgba, (21, 21))
    assert small.shape == (21, 21, 4)
    edge = (small[:, :, 3] > 0) & (small[:, :, 3] < 255)
    assert edge.any(), "a third of the size must give partly covered edge pixels"
    assert np.all(small[edge][:, 0] >= 254) and np.all(small[edge][:, 1:3] <= 1), "no dark fringe"
    assert np.all(small[small[:, :, 3] == 0][:, :3] == 0)
    assert resize_rgba(rgba, (64, 64)) is rgba
    big = resize_rgba(rgba, (128, 100))
    assert big.shape == (100, 128, 4) and big[50, 64, 3] == 255
    with pytest.raises(ParameterError):
        resize_rgba(rgba[:, :, :3], (10, 10))
