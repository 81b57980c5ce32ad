"""Object Selection (core.objects): boxes, clicks and lassos pick one object among several, and
correct a matte only where the user asked; every result is a soft matte.

The scene: two red discs (the tiny model's subject: reddish pixels) and a green square (which
the model does not see) on a blue ground with a little noise, each with a soft rim.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from tiny_models import build_tiny_model, write_sidecar

from core.errors import ParameterError
from core.objects import ObjectOptions, ObjectSelector

H, W = 160, 240
LEFT, RIGHT = (60.0, 80.0), (180.0, 80.0)  # disc centres (x, y)
SQUARE = (100, 125, 140, 155)  # x0, y0, x1, y1


def _disc(centre: tuple[float, float], radius: float = 26.0) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    return np.clip(radius - np.hypot(xx - centre[0], yy - centre[1]) + 0.5, 0, 1).astype(np.float32)


def _square() -> np.ndarray:
    out = np.zeros((H, W), np.float32)
    x0, y0, x1, y1 = SQUARE
    out[y0:y1, x0:x1] = 1.0
    return out


@pytest.fixture(scope="module")
def scene():
    """(image (H, W, 3) uint8 RGB, {name: true alpha (H, W) float32})."""
    parts = {"left": _disc(LEFT), "right": _disc(RIGHT), "square": _square()}
    colours = {"left": (0.9, 0.15, 0.1), "right": (0.85, 0.2, 0.15), "square": (0.2, 0.75, 0.25)}
    image = np.broadcast_to(np.array([0.15, 0.3, 0.8], np.float32), (H, W, 3)).copy()
    for name, alpha in parts.items():
        image = alpha[..., None] * np.array(colours[name], np.float32) + (1 - alpha[..., None]) * image
    image += np.random.default_rng(0).normal(0, 0.02, image.shape).astype(np.float32)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8), parts


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.mktemp("objects") / "tiny.onnx")
    write_sidecar(path)
    return str(path)


@pytest.fixture
def selector(scene, model):
    return ObjectSelector(scene[0], ObjectOptions(model=model, device="cpu"))


def _iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    a, b = alpha >= 0.5, truth >= 0.5
    return float((a & b).sum() / (a | b).sum())


def test_a_box_finds_the_object_inside_it_and_nothing_outside(selector, scene):
    _, parts = scene
    alpha = selector.predict(box=(148, 48, 213, 113))
    assert alpha.dtype == np.float32 and alpha.shape == (H, W) and 0 <= alpha.min() and alpha.max() <= 1
    assert _iou(alpha, parts["right"]) > 0.9
    assert alpha[parts["left"] > 0.5].max() == 0.0  # the other disc, as red, lies outside the box


def test_a_box_takes_all_of_the_object_it_frames_when_the_model_sees_only_a_part(scene, model):
    """A box is drawn around its object, so the object reaches the box's sides: an object whose lower
    third the model is sure is not subject (violet under red) is taken whole, not cut at what the model sees."""
    image = scene[0].copy()
    whole = np.zeros((H, W), np.float32)
    whole[40:130, 60:150] = 1.0
    image[40:100, 60:150] = (230, 40, 30)  # the part the model sees
    image[100:130, 60:150] = (150, 10, 250)  # the part it is sure is not
    selector = ObjectSelector(image, ObjectOptions(model=model, device="cpu"))
    alpha = selector.predict(box=(56, 36, 154, 134))
    assert _iou(alpha, whole) > 0.9


def test_a_box_around_nothing_found_gives_the_box_not_nothing(selector):
    """Plain ground framed: nothing in it fits the box, so the box as drawn is the selection (its edge
    softened as every result's is), and nothing outside it."""
    alpha = selector.predict(box=(100, 10, 140, 40))
    framed = np.zeros((H, W), np.float32)
    framed[10:40, 100:140] = 1.0
    assert alpha[15:35, 105:135].min() > 0.9 and alpha[framed == 0].max() == 0.0


def test_a_click_picks_the_clicked_object_not_everything_of_its_colour(selector, scene):
    _, parts = scene
    alpha = selector.predict(points=[(*LEFT, True)])
    assert _iou(alpha, parts["left"]) > 0.9
    assert alpha[parts["right"] > 0.5].max() < 0.05


def test_a_click_on_what_the_model_does_not_see_still_finds_it(selector, scene):
    _, parts = scene
    alpha = selector.predict(points=[(120, 140, True)])
    assert _iou(alpha, parts["square"]) > 0.8
    assert alpha[(parts["left"] + parts["right"]) > 0.5].max() < 0.05


def test_a_negative_click_removes_a_part_and_leaves_the_rest_of_the_matte_as_it_was(selector, scene):
    _, parts = scene
    previous = np.maximum(parts["left"], parts["right"])
    alpha = selector.predict(points=[(*RIGHT, False)], previous=previous)
    assert alpha[parts["right"] > 0.5].max() < 0.05
    far = _disc(RIGHT, 26 + 0.15 * np.sqrt(H * W) + 2) == 0  # beyond the clicks' reach
    assert np.array_equal(alpha[far], previous[far])


def test_a_lasso_subtracts_the_object_within_it(selector, scene):
    _, parts = scene
    previous = np.maximum(parts["left"], parts["right"])
    lasso = _disc(RIGHT, 40) > 0.5  # a rough loop around the right disc
    alpha = selector.predict(mask=lasso, mode="subtract", previous=previous)
    assert alpha[_disc(RIGHT, 24) > 0.5].max() < 0.05  # all but the disc's soft rim
    assert _iou(alpha, parts["left"]) > 0.95


def test_add_and_intersect_take_a_box_into_the_previous_matte(selector, scene):
    _, parts = scene
    added = selector.predict(box=(95, 120, 145, 158), mode="add", previous=parts["left"])
    assert _iou(added, np.maximum(parts["left"], parts["square"])) > 0.85
    both = np.maximum(parts["left"], parts["right"])
    kept = selector.predict(box=(148, 48, 213, 113), mode="intersect", previous=both)
    assert _iou(kept, parts["right"]) > 0.9 and kept[parts["left"] > 0.5].max() == 0.0


def test_the_result_is_a_soft_matte(selector, scene):
    _, parts = scene
    alpha = selector.predict(box=(148, 48, 213, 113))
    rim = (parts["right"] > 0.05) & (parts["right"] < 0.95)
    assert ((alpha[rim] > 0.05) & (alpha[rim] < 0.95)).any()
    hard = ObjectSelector(scene[0], ObjectOptions(model=selector.options.model, device="cpu", refine="none"))
    assert np.abs(hard.predict(box=(148, 48, 213, 113)) - alpha).max() > 0  # the refinement did something


def test_the_model_runs_once_per_place(selector):
    assert selector.model_runs == 1  # the whole frame, at preparation
    selector.predict(box=(148, 48, 213, 113))
    selector.predict(box=(148, 48, 213, 113), points=[(*RIGHT, True)])
    assert selector.model_runs == 2
    selector.predict(points=[(*LEFT, True)])  # a first click looks up close first: the quarter-frame crop holds it
    assert selector.model_runs == 3
    selector.predict(points=[(*LEFT, True)], previous=np.zeros((H, W), np.float32), mode="add")
    assert selector.model_runs == 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"points": [(W + 5, 10, True)]}, "outside"),
    ({"points": [(5, 10)]}, "expected (x, y, positive)"),
    ({"box": (10, 10, 11, 50)}, "less than 2×2"),
    ({"mask": np.ones((H, W + 1), bool)}, "mask: expected shape"),
    ({"mask": np.zeros((H, W), bool)}, "empty"),
    ({"points": [(5, 10, True)], "previous": np.zeros((H, 2), np.float32)}, "previous: expected shape"),
    ({"points": [(5, 10, True)], "previous": np.full((H, W), 2, np.float32)}, "values in [0, 1]"),
    ({"points": [(5, 10, True)], "mode": "xor"}, "mode"),
    ({}, "no prompt"),
])
def test_bad_prompts_are_refused_by_name(selector, kwargs, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        selector.predict(**kwargs)


def test_bad_images_and_options_are_refused(model):
    with pytest.raises(ParameterError, match="uint8"):
        ObjectSelector(np.zeros((10, 10, 3), np.float32), ObjectOptions(model=model, device="cpu"))
    with pytest.raises(ParameterError, match="refine"):
        ObjectOptions(refine="perfect")


def test_a_click_on_a_missed_object_adds_all_of_it_not_only_what_lies_near_the_click(scene, model):
    _, parts = scene
    selector = ObjectSelector(scene[0], ObjectOptions(model=model, device="cpu", reach=0.04))  # ~8 px of reach
    alpha = selector.predict(points=[(*LEFT, True), (*RIGHT, True)], previous=parts["left"])
    assert _iou(alpha, np.maximum(parts["left"], parts["right"])) > 0.9



def test_a_subtract_lasso_takes_away_stray_background_and_keeps_the_subject_it_crosses(selector, scene):
    """The lasso says the matte is wrong inside it: over-selected ground goes, while the part of the
    disc the loose lasso also covers stays (it looks like the object and joins the matte outside)."""
    _, parts = scene
    stray = np.zeros((H, W), np.float32)
    stray[55:105, 200:235] = 1.0  # blue ground beside the right disc, selected by mistake
    previous = np.maximum(parts["right"], stray)
    lasso = np.zeros((H, W), bool)
    lasso[45:115, 201:240] = True  # around the stray part, loosely over the disc's right edge
    alpha = selector.predict(mask=lasso, mode="subtract", previous=previous)
    assert alpha[60:100, 212:235].max() < 0.1 and alpha[60:100, 212:235].mean() < 0.01  # the stray ground is gone
    assert _iou(alpha, parts["right"]) > 0.9  # the disc, also where the lasso crossed it, stays


def test_an_add_lasso_adds_the_missed_part_of_the_object_and_not_the_ground_inside_it(selector, scene):
    _, parts = scene
    previous = parts["left"].copy()
    previous[:, int(LEFT[0]):] = 0.0  # the right half of the left disc was missed
    lasso = np.zeros((H, W), bool)
    lasso[40:122, 55:100] = True  # a loose box over the missed half and the ground around it
    alpha = selector.predict(mask=lasso, mode="add", previous=previous)
    assert _iou(alpha, parts["left"]) > 0.9
    assert alpha[45:115, 92:100].max() < 0.05  # the ground inside the lasso stays out


def test_a_negative_click_deep_in_a_wrong_object_takes_all_of_it_away(scene, model):
    """A matte that took a large wrong object with the subject (joined to it): one negative click in
    the wrong object's middle takes the whole object away, far beyond the click's reach, and leaves
    the subject whole."""
    image, parts = scene
    image = image.copy()
    wrong = np.zeros((H, W), np.float32)
    wrong[30:130, 86:186] = 1.0  # a large grey panel, touching the left disc's right side
    image[wrong > 0.5] = (128, 128, 120)
    subject = parts["left"]
    previous = np.maximum(subject, wrong)
    selector = ObjectSelector(image, ObjectOptions(model=model, device="cpu"))
    alpha = selector.predict(points=[(136, 80, False)], previous=previous)
    assert alpha[35:125, 92:181].max() < 0.05  # all of the panel goes, its corners 60 px from the click too
    assert _iou(alpha, subject) > 0.9


def test_a_walk_follows_the_regions_edges_and_holds_the_prior_elsewhere():
    from core.objects.walker import random_walk

    image = np.zeros((40, 60, 3), np.float32)
    image[:, 20:40] = 1.0  # three bands: dark, bright, dark
    prior = np.zeros((40, 60), np.float32)
    prior[:, 20:40], prior[:, 40:] = 0.5, 1.0  # the prior: not the left band, the right one, unsure between
    weight = 0.01 * np.abs(2 * prior - 1)
    sure_object = np.zeros((40, 60), bool)
    sure_object[20, 30] = True  # a click in the middle band
    sure_background = np.zeros((40, 60), bool)
    chance = random_walk(image, prior, weight, sure_object, sure_background)
    assert chance.dtype == np.float32 and chance.shape == (40, 60)
    assert chance[:, 21:39].min() > 0.9  # the clicked band, edge to edge
    assert chance[:, :19].max() < 0.1 and chance[:, 41:].min() > 0.9  # beyond its edges the prior holds
    nothing = np.zeros((40, 60), bool)
    assert np.array_equal(random_walk(image, prior, np.zeros_like(weight), nothing, nothing), prior)  # nothing to go by


def test_a_click_correcting_an_empty_matte_picks_the_clicked_object_not_the_whole_image(selector, scene):
    _, parts = scene
    alpha = selector.predict(points=[(120, 140, True)], previous=np.zeros((H, W), np.float32))
    assert _iou(alpha, parts["square"]) > 0.8
    assert alpha[(parts["left"] + parts["right"]) > 0.5].max() < 0.05


def test_a_positive_click_does_not_bring_a_part_far_larger_than_the_object(model):
    """A positive click beside a small object, on a large thing the model also sees (a table under a
    spoon): the large thing's part, more than PART_CAP times the object, is not taken whole."""
    image = np.broadcast_to(np.array([38, 76, 204], np.uint8), (H, W, 3)).copy()
    small = _disc(LEFT, 20.0)
    image[small > 0.5] = (230, 40, 30)
    table = np.zeros((H, W), bool)
    table[10:150, 84:235] = True
    image[table] = (200, 60, 40)
    image = np.clip(image + np.random.default_rng(0).normal(0, 4, image.shape), 0, 255).astype(np.uint8)
    selector = ObjectSelector(image, ObjectOptions(model=model, device="cpu"))
    alpha = selector.predict(points=[(86, 80, True)], previous=small)
    assert (alpha[table] >= 0.5).mean() < 0.2  # without the limit: 0.99 of it
    assert _iou(np.where(table, 0.0, alpha), small) > 0.9


def test_a_positive_click_only_adds_and_a_negative_click_only_takes_away(selector, scene):
    """A correction keeps each click's sign: around a positive click the matte only grows (a shadow the
    user kept, ground-coloured beside the disc, stays when a click adds the disc's missed part), and
    around a negative click it only shrinks; with both, each pixel follows its nearest click."""
    _, parts = scene
    shadow = np.zeros((H, W), np.float32)
    shadow[70:92, 84:100] = 1.0  # ground colour beside the left disc, kept in the matte
    notch = np.zeros((H, W), bool)
    notch[66:94, 40:62] = True  # the disc's missed part
    previous = np.where(notch, 0.0, np.maximum(parts["left"], shadow)).astype(np.float32)
    grown = selector.predict(points=[(50, 80, True)], previous=previous)
    assert (grown >= previous).all() and (grown[notch & (parts["left"] > 0.5)] >= 0.5).mean() > 0.9
    stray = np.maximum(parts["left"], parts["right"])  # the right disc selected by mistake
    shrunk = selector.predict(points=[(*RIGHT, False)], previous=stray)
    assert (shrunk <= stray).all() and shrunk[parts["right"] > 0.5].max() < 0.05
    both = selector.predict(points=[(50, 80, True), (*RIGHT, False)], previous=np.maximum(previous, parts["right"]))
    assert both[shadow > 0.5].min() >= 0.5 and both[parts["right"] > 0.5].max() < 0.05


def test_a_correction_leaves_the_matte_as_it_was_around_the_clicks_it_already_agrees_with(selector, scene):
    """The clicks come with their history: an earlier positive click on the left disc, which the matte
    already holds, and a new negative one on the right disc. Only the new one is re-decided; around the
    earlier one the matte stays as it was (re-deciding there with every later click let the colours
    undo earlier clicks), and the same clicks again on the result change nothing."""
    _, parts = scene
    previous = np.maximum(parts["left"], parts["right"])
    alpha = selector.predict(points=[(*LEFT, True), (*RIGHT, False)], previous=previous)
    assert alpha[parts["right"] > 0.5].max() < 0.05
    left = _disc(LEFT, 26 + 0.15 * np.sqrt(H * W) + 2) > 0
    assert np.array_equal(alpha[left], previous[left])
    again = selector.predict(points=[(*LEFT, True), (*RIGHT, False)], previous=alpha)
    assert np.array_equal(again, alpha)
