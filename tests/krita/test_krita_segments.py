"""Soft Segment Layers in real Krita (tests/krita/krita_scenario_run.py): one group of layers that
stacks back into the image, each layer what the engine returns for the same pixels."""

from __future__ import annotations

import numpy as np
from editor_files import SEGMENTS_SIZE, TOLERANCE, direct_segments, facts, grey
from krita_checks import check_common
from krita_scenario_run import skip_without_krita

from wire.protocol.schemas import DEFAULT_SEGMENTS

skip_without_krita()

SEGMENTS = 3  # the count krita_select_scenarios.py answers the menu's dialog with
SEGMENT_TOLERANCE = 6  # /255: the group's composite (8-bit colours under 8-bit masks, blended) against the image


def test_soft_segment_layers_make_one_group_that_looks_like_the_image(krita_run):
    out, client = krita_run
    f = facts(out, "segments")
    check_common(f)
    assert f["dialog_offered"] == [DEFAULT_SEGMENTS], "the menu's dialog offers the docker's count (the default)"
    assert f["docker_count"] == SEGMENTS, "the dialog's answer becomes the docker's count"
    assert f["top"] == ["Soft segments", "grouplayer"]
    assert f["layers"] == [[f"Segment {k + 1}", "paintlayer", [[f"Segment {k + 1} mask", "transparencymask"]]]
                           for k in range(SEGMENTS)]
    assert len(f["added"]) == 1 + 2 * SEGMENTS, "nothing else is added"
    x, y, w, h = f["rect"]
    assert [x, y, w, h] == [0, 0, *SEGMENTS_SIZE], "the merged image is sent"
    source = grey(out, "segments", "source", (h, w, 4))
    for what in ("group", "merged"):
        bgra = grey(out, "segments", what, (h, w, 4))
        assert np.abs(bgra[..., [2, 1, 0]] - source[..., :3]).max() <= SEGMENT_TOLERANCE, what
        assert bgra[..., 3].min() == 255, what
    assert f["redo_merged_same"], "redo brings the group back, rendered"


def test_soft_segment_layers_without_a_layer_to_lend_a_mask_carry_it_as_their_alpha(krita_run):
    """From the docker, count 2, on a document whose layers are all at opacity 250 (none can lend a mask)."""
    out, client = krita_run
    f = facts(out, "segments_unmasked")
    check_common(f)
    assert f["docker_count_before"] == SEGMENTS and f["dialog_offered"] == []
    assert f["top"] == ["Soft segments", "grouplayer"]
    assert f["layers"] == [["Segment 1", "paintlayer", []], ["Segment 2", "paintlayer", []]]
    x, y, w, h = f["rect"]
    source = (out / "segments_unmasked.source.bin").read_bytes()
    for k, expected in enumerate(direct_segments(client, source, w, h, 2)):
        layer = grey(out, "segments_unmasked", f"layer{k}", (h, w, 4))
        assert np.abs(layer[..., [2, 1, 0, 3]] - expected).max() <= TOLERANCE
    rgb = grey(out, "segments_unmasked", "source", (h, w, 4))[..., :3]
    merged = grey(out, "segments_unmasked", "merged", (h, w, 4))
    assert np.abs(merged[..., [2, 1, 0]] - rgb).max() <= SEGMENT_TOLERANCE
    assert f["redo_merged_same"]


def test_soft_segment_layers_hold_what_the_engine_returns(krita_run):
    out, client = krita_run
    f = facts(out, "segments")
    x, y, w, h = f["rect"]
    source = (out / "segments.source.bin").read_bytes()
    masks = []
    for k, expected in enumerate(direct_segments(client, source, w, h, SEGMENTS)):
        layer = grey(out, "segments", f"layer{k}", (h, w, 4))
        assert layer[..., 3].min() == 255, "the layer is opaque: its mask holds the alpha"
        assert np.abs(layer[..., [2, 1, 0]] - expected[..., :3]).max() <= TOLERANCE
        mask = grey(out, "segments", f"mask{k}", (h, w))
        assert np.abs(mask - expected[..., 3]).max() <= TOLERANCE
        masks.append(mask)
    assert all(m.max() > 200 for m in masks[1:]), "each layer holds a real part of the image"


