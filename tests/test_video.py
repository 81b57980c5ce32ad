"""Temporal consistency of video mattes (core.video): the one-frame delay, motion-compensated
smoothing without ghosts, the stream filter's order and latency, synthetic videos."""

from __future__ import annotations

import numpy as np
import pytest

from sample_images import textured
from core.errors import ParameterError
from core.eval.metrics import flicker
from testing.video_synthetic import moving_subject
from core.video.temporal import TemporalFilter, one_frame_delay, smooth_sequence


def disc_video(frames: int, *, step: float, noise: float, seed: int = 0, h: int = 96, w: int = 128):
    """A red disc with a soft rim crossing a textured ground by ``step`` px a frame; each
    frame's own matte is the truth plus noise (what a per-frame matte's flicker looks like)."""
    rng = np.random.default_rng(seed)
    ground = textured(h, w, seed=3).astype(np.float32) / 255.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for k in range(frames):
        alpha = np.clip(18.0 - np.hypot(yy - h / 2, xx - 30 - step * k), 0.0, 1.0).astype(np.float32)
        image = alpha[..., None] * np.float32([0.9, 0.15, 0.1]) + (1 - alpha[..., None]) * ground
        noisy = np.clip(alpha + rng.normal(0, noise, alpha.shape).astype(np.float32) * (alpha > 0.02), 0, 1)
        yield image.astype(np.float32), alpha, noisy.astype(np.float32)


def test_one_frame_delay_mends_a_lone_flicker_only():
    prev = np.array([[0.0, 1.0, 0.0, 0.5]], np.float32)
    cur = np.array([[1.0, 0.0, 0.05, 0.9]], np.float32)
    nxt = np.array([[0.0, 1.0, 0.0, 1.0]], np.float32)
    out = one_frame_delay(prev, cur, nxt)
    assert np.allclose(out, [[0.0, 1.0, 0.05, 0.9]]), "flickers mended; a small change and a real change kept"


def test_the_filter_cuts_flicker_and_keeps_the_error_down():
    frames = list(disc_video(12, step=2.0, noise=0.15))
    truth = [t for _, t, _ in frames]
    raw = [n for _, _, n in frames]
    out = list(smooth_sequence((image, noisy) for image, _, noisy in frames))
    assert len(out) == len(frames)
    assert flicker(out, truth) < 0.5 * flicker(raw, truth)
    error = lambda mattes: np.mean([np.abs(a - g).mean() for a, g in zip(mattes, truth)])  # noqa: E731
    assert error(out) < error(raw)


def test_a_fast_moving_edge_leaves_no_ghost():
    frames = list(disc_video(6, step=9.0, noise=0.0))
    out = list(smooth_sequence((image, alpha) for image, alpha, _ in frames))
    for k in range(1, len(frames)):
        left_behind = (frames[k - 1][1] > 0.9) & (frames[k][1] == 0)  # the disc was here a frame ago
        assert out[k][left_behind].max() < 0.1, f"frame {k}: a ghost of the last frame's disc"
    without_check = list(smooth_sequence(((image, alpha) for image, alpha, _ in frames), colour_sigma=10.0))
    trail = max(float(without_check[k][(frames[k - 1][1] > 0.9) & (frames[k][1] == 0)].max()) for k in range(1, 6))
    assert trail > 0.2, "without the colour check the flow's errors would leave trails (the check matters)"


def test_the_stream_answers_one_frame_late_in_order():
    temporal = TemporalFilter()
    frames = list(disc_video(4, step=6.0, noise=0.0))
    answers = [temporal.push(image, alpha) for image, alpha, _ in frames]
    assert answers[0] is None and all(a is not None for a in answers[1:])
    last = temporal.finish()
    assert last is not None and temporal.finish() is None
    for k, done in enumerate([*answers[1:], last]):
        errors = [np.abs(done - truth).mean() for _, truth, _ in frames]
        assert int(np.argmin(errors)) == k and errors[k] < 0.01, f"frame {k}'s matte comes back {k}-th: {errors}"
    with pytest.raises(ParameterError):
        temporal.push(frames[0][0], frames[0][1][:10])
    with pytest.raises(ParameterError):
        TemporalFilter(strength=1.0)


def test_the_delay_keeps_an_edge_that_moves_back_and_forth():
    h, w = 72, 128
    ground = textured(h, w, seed=5).astype(np.float32) / 255.0
    skin = textured(h, w, seed=9).astype(np.float32) / 255.0 * np.float32([1.0, 0.4, 0.4])
    frames = []
    for x in (20, 26, 20, 26, 20):  # a textured block swaying 6 px right and back
        alpha = np.zeros((h, w), np.float32)
        alpha[8:64, x:x + 40] = 1.0
        image = alpha[..., None] * np.roll(skin, x, axis=1) + (1 - alpha[..., None]) * ground
        frames.append((image.astype(np.float32), alpha))
    lead = (frames[1][1] > 0.5) & (frames[0][1] < 0.5)  # where the block reaches only at the turn
    in_place = one_frame_delay(frames[0][1], frames[1][1], frames[2][1])
    assert in_place[lead].max() < 0.5, "MODNet's in-place comparison erases the edge at the turning point"
    out = list(smooth_sequence(iter(frames), strength=0.0))
    for k in (1, 3):
        assert out[k][lead].mean() > 0.9, f"frame {k}: the moving edge was mended away"


def test_flicker_counts_only_change_beyond_the_truths_own():
    truth = [np.zeros((4, 4)), np.ones((4, 4)), np.ones((4, 4))]
    assert flicker(truth, truth) == 0.0, "the truth's own change is not flicker"
    shaky = [truth[0], truth[1], np.full((4, 4), 0.5)]
    assert flicker(shaky, truth) == pytest.approx(250.0)  # frame 2 moved by 0.5 where the truth stayed
    with pytest.raises(ParameterError):
        flicker(truth[:1], truth[:1])


def test_synthetic_video_frames_are_composites_of_the_truth():
    h, w = 60, 80
    alpha = np.zeros((h, w), np.float32)
    alpha[20:40, 30:50] = 1.0
    fg = np.broadcast_to(np.float32([1.0, 0.0, 0.0]), (h, w, 3)).copy()
    photo = textured(h, w, seed=1).astype(np.float32) / 255.0
    frames = list(moving_subject(fg, alpha, photo, 5, np.random.default_rng(0), noise=0.0))
    assert len(frames) == 5 and frames[0].image.shape == (h, w, 3)
    centres = [np.argwhere(f.alpha > 0.5).mean(axis=0) for f in frames]
    assert np.linalg.norm(centres[1] - centres[0]) > 1.0, "the subject moves"
    solid = frames[2].alpha > 0.99
    assert np.abs(frames[2].image[solid] - [1.0, 0.0, 0.0]).max() < 0.002  # alpha > 0.99: at most 1 % of the ground


def test_a_frame_the_plate_cannot_be_aligned_to_is_matted_without_it():
    from sample_images import plate_scene
    from core.subject.coarse import model_stage
    from core.subject.options import MatteOptions
    from core.subject.refine import refine_stage
    from core.video.pipeline import VideoOptions, frame_matte, frame_options, used_plate

    def predict(image):  # "reddish is the subject", as the tiny test model
        return np.clip(4.0 * (image[..., 0] - image[..., 2]) + 0.5, 0.0, 1.0).astype(np.float32)

    image, plate = (x.astype(np.float32) / 255.0 for x in plate_scene()[:2])
    options = VideoOptions(matte=MatteOptions(refine="fast"))
    with_plate = frame_matte(image, predict, options, plate=plate)
    assert used_plate(with_plate) and with_plate.background.shape == image.shape
    elsewhere = (textured(300, 400, seed=11).astype(np.float32) / 255.0)  # another scene
    without = frame_matte(image, predict, options, plate=elsewhere)
    assert not used_plate(without)
    plain = refine_stage(image, model_stage(image, predict, frame_options(options.matte)), frame_options(options.matte))
    assert np.array_equal(without.unedited, plain.unedited), "matted as without a plate"


def lamp_video(frames: int, *, taken: range, blink: bool = True, h: int = 96, w: int = 160):
    """The disc of :func:`disc_video` crossing the left of a textured ground while a lamp on
    the right blinks (``blink``: its colour changes every frame, so the colour check never
    trusts it; else it stays yellow);
    in the frames ``taken`` the per-frame matte also takes the lamp for the subject (a jump to
    a salient thing of the background). Yields (image, truth, matte, lamp)."""
    ground = textured(h, w, seed=3).astype(np.float32) / 255.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lamp = (np.abs(yy - h / 2) < 14) & (np.abs(xx - (w - 30)) < 14)
    for k in range(frames):
        alpha = np.clip(16.0 - np.hypot(yy - h / 2, xx - 24 - 2.0 * k), 0.0, 1.0).astype(np.float32)
        image = alpha[..., None] * np.float32([0.9, 0.15, 0.1]) + (1 - alpha[..., None]) * ground
        image[lamp] = (0.95, 0.95, 0.3) if k % 2 or not blink else (0.2, 0.3, 0.95)
        matte = alpha.copy()
        if k in taken:
            matte[lamp] = 1.0
        yield image.astype(np.float32), alpha, matte, lamp


def test_a_jump_to_a_salient_background_thing_is_held_off():
    frames = list(lamp_video(10, taken=range(4, 7)))  # three frames: more than the delay can mend
    out = list(smooth_sequence((image, matte) for image, _, matte, _ in frames))
    for k, (_, truth, _, lamp) in enumerate(frames):
        assert out[k][lamp].max() < 0.5, f"frame {k}: the lamp far from the subject became subject"
        kept = (out[k] >= 0.5) == (truth >= 0.5)
        assert kept[~lamp].mean() > 0.995, f"frame {k}: the subject itself was changed"
    untracked = list(smooth_sequence(((image, matte) for image, _, matte, _ in frames), track=0.0))
    assert max(float(o[frames[0][3]].max()) for o in untracked) > 0.5, "without tracking the lamp gets in (the test can fail)"


def test_a_lasting_new_region_is_taken_and_a_first_subject_at_once():
    frames = list(lamp_video(16, taken=range(2, 16), blink=False))  # the lamp stays in the matte: subject after all
    out = list(smooth_sequence((image, matte) for image, _, matte, _ in frames))
    lamp = frames[0][3]
    assert out[-1][lamp].mean() > 0.5, "a region that lasts is taken in the end (hysteresis, not a wall)"
    assert out[2][lamp].mean() < 0.5, "but not on its first frame"
    blank = [(image, np.zeros_like(matte) if k < 3 else matte) for k, (image, _, matte, _) in enumerate(lamp_video(6, taken=range(0)))]
    late = list(smooth_sequence(iter(blank), delay=False))
    assert late[3].max() > 0.9, "a subject appearing after empty frames is taken at once (nothing to track yet)"


def test_a_frame_whose_matte_jumps_to_the_whole_picture_keeps_the_subject():
    frames = list(disc_video(12, step=2.0, noise=0.0))
    mattes = [np.ones_like(alpha) if 4 <= k < 8 else alpha for k, (_, alpha, _) in enumerate(frames)]
    out = list(smooth_sequence(zip((image for image, _, _ in frames), mattes)))

    def iou(a, truth):
        return np.count_nonzero((a >= 0.5) & (truth >= 0.5)) / np.count_nonzero((a >= 0.5) | (truth >= 0.5))

    for k, (_, truth, _) in enumerate(frames):
        assert iou(out[k], truth) > 0.75, f"frame {k}: the subject was lost to the jump (it lags a little)"
    plain = list(smooth_sequence(zip((image for image, _, _ in frames), mattes), track=0.0))
    assert min(iou(o, t) for o, (_, t, _) in zip(plain, frames)) < 0.5, "without tracking the jump gets through"


def test_neighbours_that_jumped_do_not_mend_a_right_frame():
    frames = list(disc_video(8, step=2.0, noise=0.0))
    mattes = [np.ones_like(alpha) if k in (3, 5) else alpha for k, (_, alpha, _) in enumerate(frames)]
    out = list(smooth_sequence(zip((image for image, _, _ in frames), mattes)))
    errors = [float(np.abs(o - truth).mean()) for o, (_, truth, _) in zip(out, frames)]
    # The one-frame delay would take frame 4 (right) for the flicker between 3 and 5 (both the
    # whole picture, agreeing): 0.1 of error everywhere; without them as witnesses it stays right.
    assert errors[4] < 0.02, errors
    assert max(errors) < 0.05, errors


@pytest.mark.parametrize("bad", [{"track": 1.0}, {"track": -0.1}, {"reach": (0.1, 0.05)}, {"agree": (0.7, 0.3)},
                                 {"agree": (0.3, 1.5)}])
def test_tracking_tunables_are_checked(bad):
    with pytest.raises(ParameterError):
        TemporalFilter(**bad)


def test_a_matte_that_drops_a_wrong_part_is_no_jump():
    # The first frames' mattes also hold the right half of the picture (a wrong reading, much
    # larger than the subject); from frame 4 on they are right. Losing a part is not reaching
    # out of the subject: the filter lets go of it at the smoothing's pace (those pixels are
    # trusted), not at the tracking's slower one (as it would if any disagreement were a jump).
    frames = list(disc_video(10, step=2.0, noise=0.0, w=160))
    half = np.zeros_like(frames[0][1], bool)
    half[:, 80:] = True
    mattes = [np.where(half, 1.0, alpha).astype(np.float32) if k < 4 else alpha for k, (_, alpha, _) in enumerate(frames)]
    out = list(smooth_sequence(zip((image for image, _, _ in frames), mattes)))
    assert out[0][half].min() > 0.9
    assert out[9][half].max() < 0.5, [round(float(o[half].max()), 2) for o in out]
