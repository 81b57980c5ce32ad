"""Soft Segment Layers in real GIMP (tests/gimp/gimp_scenario_run.py): one group of layers, each the
engine's segment for the visible image, that stacks back into it (in perceptual space, whatever the
image's precision; through the group's mask where the image is transparent)."""

from __future__ import annotations

import numpy as np
from editor_files import SEGMENTS_SIZE, TOLERANCE, direct_segments, facts, grey
from gimp_checks import DIALOG_SEGMENTS, SEGMENTS, check_undo
from gimp_scenario_run import skip_without_gimp

skip_without_gimp()

W, H = SEGMENTS_SIZE  # the segments scenarios' canvas

COMPOSITE_TOLERANCE = 6  # /255: the segment layers stacked give back the image within this


def check_segment_group(out, client, name: str, count: int, colour_tolerance: int = TOLERANCE,
                        transparent: bool = False) -> None:
    """One new group "Soft segments" on top: ``count`` layers "Segment 1" (bottom) … with masks, each
    the engine's segment (colours, mask) for the visible image; the group alone shows that image
    (with ``transparent``, through the group's mask holding the image's alpha)."""
    f = facts(out, name)
    check_undo(f)
    (group,) = f["new_layers"]
    assert group["name"] == "Soft segments" and f["top_layer"] == "Soft segments"
    children = group["children"]  # top first
    assert [child["name"] for child in children] == [f"Segment {k}" for k in range(count, 0, -1)]
    for child in children:
        assert child["has_mask"] and child["offsets"] == [0, 0] and child["size"] == [W, H], child
        assert child["mode"] == "normal" and child["composite_space"] == "rgb-perceptual", child
    composite = (out / f"{name}.composite.bin").read_bytes()
    image = np.frombuffer(composite, np.uint8).reshape(H, W, 4).astype(int)
    alone = grey(out, name, "group_alone", (H, W, 4))
    if transparent:
        assert group["has_mask"], "the group's mask holds the image's alpha"
        assert np.array_equal(grey(out, name, "layer_mask", (H, W)), image[..., 3])
        assert np.abs(alone[..., 3] - image[..., 3]).max() <= TOLERANCE
        assert image[..., 3].min() == 0 and (image[..., 3] == 255).mean() > 0.3
    else:
        assert not group["has_mask"], "the visible image is opaque: the group needs no mask"
        assert alone[..., 3].min() == 255, "the group is opaque"
    opaque = image[..., 3] == 255
    assert np.abs(alone[..., :3] - image[..., :3])[opaque].max() <= COMPOSITE_TOLERANCE, \
        "the layers stack back into the image"

    expected = direct_segments(client, composite, W, H, count)
    shown = 0
    for k in range(count):  # segment k is "Segment k+1", child count-1-k
        child = count - 1 - k
        mask = grey(out, name, f"child{child}_mask", (H, W))
        assert np.abs(mask - expected[k][..., 3]).max() <= TOLERANCE, f"segment {k}'s mask"
        colours = grey(out, name, f"child{child}", (H, W, 4))
        assert colours[..., 3].min() == 255, "the layer is opaque: its mask holds the alpha"
        assert np.abs(colours[..., :3] - expected[k][..., :3]).max() <= colour_tolerance, f"segment {k}'s colours"
        shown += bool((mask > 128).any())
    assert shown >= 2, "a real decomposition: more than one layer shows"


def test_soft_segment_layers_stack_back_into_the_visible_image(gimp_run):
    out, client, _ = gimp_run
    check_segment_group(out, client, "segments", SEGMENTS)
    image = grey(out, "segments", "composite", (H, W, 4))
    linear = grey(out, "segments", "group_alone_linear", (H, W, 4))
    assert np.abs(linear[..., :3] - image[..., :3]).max() > COMPOSITE_TOLERANCE, \
        "GIMP's default (linear light) would not give the image back: the perceptual composite space matters"


def test_soft_segment_layers_in_a_linear_float_image(gimp_run):
    """The layers composite in perceptual space whatever the image's precision."""
    out, client, _ = gimp_run
    check_segment_group(out, client, "segments_linear", SEGMENTS, colour_tolerance=1)


def test_soft_segment_layers_of_a_transparent_image_keep_its_alpha_on_the_group(gimp_run):
    out, client, _ = gimp_run
    check_segment_group(out, client, "segments_transparent", SEGMENTS, transparent=True)


def test_soft_segment_layers_from_the_dialog(gimp_run):
    out, client, _ = gimp_run
    assert "Geometry:" in (out / "dialog-segments_dialog.txt").read_text()
    check_segment_group(out, client, "segments_dialog", DIALOG_SEGMENTS)

