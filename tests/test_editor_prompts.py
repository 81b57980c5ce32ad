"""wire.editor.prompts: Object Selection's prompts from what an editor holds (the rules the GIMP and
Krita plug-ins share with the Photoshop panel's object_prompts.js): the box around the selection, a
path's anchors as clicks, a selection's worth as a rough mask."""

from __future__ import annotations

import numpy as np
import pytest

from wire.editor import (
    FAINT_ROUGH,
    NOTHING_ROUGH,
    POINTS_PATH,
    ObjectPrompts,
    Refused,
    clicks,
    is_points_path,
    no_previous,
    object_prompts,
    rough_prompts,
    selection_box,
)
from wire.protocol.constants import OBJECT_POINTS_MAX


def test_the_box_is_the_bounds_of_every_pixel_selected_at_all():
    coverage = np.zeros((6, 8), np.uint8)
    coverage[2, 3] = 1  # faint still counts, as the selection's bounds in the editors
    coverage[4, 6] = 255
    assert selection_box(coverage.tobytes(), 8, 6) == (3, 2, 7, 5)
    assert selection_box(bytes(48), 8, 6) is None
    with pytest.raises(ValueError, match="coverage: expected 48 bytes"):
        selection_box(bytes(47), 8, 6)


def test_the_first_strokes_anchors_are_positive_and_later_strokes_negative_inside_the_source():
    strokes = [[(12.0, 15.0), (30.0, 20.0)], [(14.0, 11.0)], [(50.0, 11.0), (9.0, 40.0)]]
    points, outside = clicks(strokes, (10, 10, 30, 20))  # the source: x 10–39, y 10–29
    assert points == ((2.0, 5.0, True), (20.0, 10.0, True), (4.0, 1.0, False))
    assert outside == 2


def test_the_points_path_is_named_softcut_points_in_any_case():
    assert is_points_path(POINTS_PATH) and is_points_path(" softcut POINTS ")
    assert not is_points_path("Softcut point") and not is_points_path(None)


def test_objects_prompts_are_the_box_and_the_clicks_or_none():
    coverage = np.zeros((10, 10), np.uint8)
    coverage[2:6, 3:8] = 255
    assert object_prompts(coverage.tobytes(), 10, 10, ()) == ObjectPrompts(box=(3.0, 2.0, 8.0, 6.0))
    assert object_prompts(bytes(100), 10, 10, ((1.0, 2.0, True),)) == ObjectPrompts(points=((1.0, 2.0, True),))
    assert object_prompts(bytes(100), 10, 10, ()) is None


def test_a_box_too_small_or_too_many_clicks_are_refused_before_anything_is_sent():
    thin = np.zeros((10, 10), np.uint8)
    thin[4, 2:9] = 255  # one row: the engine takes boxes of 2 × 2 pixels and more
    with pytest.raises(Refused, match="smaller than 2 × 2 pixels"):
        object_prompts(thin.tobytes(), 10, 10, ())
    many = tuple((1.0, 1.0, True) for _ in range(OBJECT_POINTS_MAX + 1))
    with pytest.raises(Refused, match=f"make {OBJECT_POINTS_MAX + 1} clicks on the layer; at most {OBJECT_POINTS_MAX}"):
        object_prompts(bytes(100), 10, 10, many)


def test_a_rough_mask_needs_a_pixel_selected_half_or_more():
    assert rough_prompts(bytes([0, 128, 3])) == ObjectPrompts(rough=bytes([0, 128, 3]))
    with pytest.raises(Refused) as nothing:
        rough_prompts(bytes(3))
    assert str(nothing.value) == NOTHING_ROUGH
    with pytest.raises(Refused) as faint:
        rough_prompts(bytes([0, 127, 90]))
    assert str(faint.value) == FAINT_ROUGH


def test_no_previous_names_where_there_is_none():
    assert no_previous("“photo”") == ("there is no earlier Softcut result on “photo” to correct: run Select "
                                      "Subject or Object on it first")
