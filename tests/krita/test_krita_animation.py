"""Select Subject in Animation in real Krita (tests/krita/krita_scenario_run.py): every keyframe in
the playback range matted as the engine's video stream mattes it, one undo step; the refusals and
cancel leave the document alone; every run's frame feed is let go."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from editor_files import (
    ANIMATION_OUTSIDE,
    ANIMATION_RANGE_END,
    ANIMATION_TIMES,
    TOLERANCE,
    direct_video,
    facts,
    grey,
)
from krita_checks import H, W, check_common, check_untouched
from krita_scenario_run import skip_without_krita

skip_without_krita()


def animation_frames(out: Path, name: str) -> list:
    """The source layer's keyframes in the playback range (rgba8 bytes, in time order): the input files
    anim0.rgba ..., checked to be what Krita held at those times."""
    frames = [(out / f"anim{k}.rgba").read_bytes() for k in range(len(ANIMATION_TIMES))]
    for t, frame in zip(ANIMATION_TIMES, frames):
        bgra = np.frombuffer((out / f"{name}.source{t}.bin").read_bytes(), np.uint8).reshape(H, W, 4)
        assert np.ascontiguousarray(bgra[..., [2, 1, 0, 3]]).tobytes() == frame, f"Krita's keyframe {t}"
    return frames


@pytest.mark.parametrize("name", ["animation_mask", "animation_layer"])
def test_select_subject_in_animation_matches_the_engine_at_every_keyframe(krita_run, name):
    """Keyframes at ANIMATION_TIMES (in the range 0 to ANIMATION_RANGE_END) and at ANIMATION_OUTSIDE (past
    it): the mask holds each keyframe's matte of the engine's video stream in the range, 255 outside it; the
    new layer each keyframe's cut-out in the range, nothing outside it. One undo step."""
    out, client = krita_run
    f = facts(out, name)
    check_common(f)
    every = [*ANIMATION_TIMES, ANIMATION_OUTSIDE]
    assert f["source_keys"] == every
    assert f["ranges_before"] == [0, ANIMATION_RANGE_END] * 2, "Start, End and the playback range"
    assert f["ranges_after"] == f["ranges_after_undo"] == f["ranges_before"], "Start and End are kept"
    assert f"cut out of {len(ANIMATION_TIMES)} keyframes of" in f["run"]["message"], "the keyframes in the range only"
    assert f["keys"] == every, "the result's keyframes are the layer's"
    assert f["animated"] is True
    assert f["source_untouched"] and f["source_untouched_after_undo"], "the layer's pixels are not changed"
    assert f["time_after"] == f["time_before"], "the current frame is given back"
    frames = animation_frames(out, name)
    assert len({hash(frame) for frame in frames}) == len(frames), "the keyframes differ"
    if name == "animation_mask":
        assert f["added"] == [["Softcut subject (animated)", "transparencymask", f["layer"]]]
        expected = direct_video(client, frames, W, H, "alpha")
        for t, matte in zip(ANIMATION_TIMES, expected):
            assert np.abs(grey(out, name, f"result{t}", (H, W)) - matte).max() <= TOLERANCE, t
            assert matte.min() < 30 and matte.max() > 225
        assert grey(out, name, f"result{ANIMATION_OUTSIDE}", (H, W)).min() == 255, "outside the range: nothing masked"
    else:
        assert f["offered"] == {"output": "mask", "quality": "fast"}, "the dialog offers the mask first"
        assert [a[:2] for a in f["added"]] == [["Softcut cut-out (animated)", "paintlayer"]]
        expected = direct_video(client, frames, W, H, "cutout")
        for t, cutout in zip(ANIMATION_TIMES, expected):
            got = grey(out, name, f"result{t}", (H, W, 4))[..., [2, 1, 0, 3]]
            assert np.abs(got - cutout).max() <= TOLERANCE, t
            assert cutout[..., 3].min() < 30 and cutout[..., 3].max() > 225
        assert grey(out, name, f"result{ANIMATION_OUTSIDE}", (H, W, 4))[..., 3].max() == 0, "outside the range: empty"


@pytest.mark.parametrize("name, says", [
    ("animation_no_engine", "Start it with `softcut serve`"),
    ("animation_cancel", "cancelled"),
    ("animation_still", "is not animated (it holds one still image): use Select Subject (Softcut)"),
    ("animation_out_of_range", "has no keyframe in the playback range (frames 20 to 30)"),
])
def test_select_subject_in_animation_that_fails_leaves_the_document_alone(krita_run, name, says):
    out, _ = krita_run
    f = facts(out, name)
    assert f["run"]["ok"] is not True
    check_untouched(f, says)
    if name == "animation_cancel":
        assert f["stages"][0] == "frame 1 of 8" and len(f["stages"]) < 8, "cancelled mid-way"
    elif name != "animation_no_engine":
        assert not f["run"]["busy_after_trigger"] and not f["stages"], "said before any request"


def test_select_subject_in_animation_lets_its_frame_feeds_go(krita_run):
    """Each run's frame feed (and the frames it still held) is released when the run ends, done or not."""
    out, _ = krita_run
    assert facts(out, "animation_feeds")["left"] == 0
