"""`softcut eval`: salient-object metrics against PySODMetrics, the folder evaluator, the
model cache, the video evaluator and the command line on small generated folders."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from eval_cases import edge_cases, random_cases
from PIL import Image
from test_cli import softcut

from core.errors import ParameterError
from core.eval import folder, salient, video
from core.eval.cache import CachedPredict
from core.eval.metrics import flicker, sad, truth_flicker
from core.imageio import float_to_uint8, load_image, save_png
from core.video.temporal import smooth_sequence

# PySODMetrics 1.6.2 (Fmeasure, MAE, Smeasure with normalize=False) on eval_cases'
# inputs: (MAE, S-measure, the image's max F) per case, and the data set's max F.
REFERENCE_RANDOM = [
    (0.07864882264115677, 0.7037975429314455, 0.6026490066225165),
    (0.06375274632084242, 0.6447893329816172, 0.5208333333333334),
    (0.09208023973205272, 0.759259413165692, 0.7291976225854383),
    (0.10819721596669746, 0.8767625453170256, 0.9321266968325793),
    (0.07231389584910361, 0.7097839256193509, 0.6676737160120846),
    (0.0953340599970595, 0.688966016819542, 0.8203524729960205),
    (0.10423551658019373, 0.9111160411709618, 0.9587248721303675),
    (0.11294023457841885, 0.8527514048153312, 0.939360929557008),
    (0.10175900693951151, 0.8533717094414918, 0.8650131170999286),
    (0.15725263600127815, 0.7969323012678134, 0.9020692115590438),
    (0.0921087324045147, 0.8850254985334475, 0.9074),
    (0.10067847003201746, 0.8833337153922545, 0.9232180293501048),
    (0.11159783663763033, 0.890300690896506, 0.9296969696969699),
    (0.09403891785640262, 0.7509003699197356, 0.6570762052877138),
    (0.10694506807718787, 0.9065411997864185, 0.9595866396014026),
    (0.10413161586022411, 0.773574237535801, 0.7482014388489209),
    (0.1297275837974473, 0.8160191555912186, 0.8428635749662314),
    (0.06758075850958929, 0.9124116319262378, 0.9401214926236622),
    (0.16929582201797672, 0.7926706700925478, 0.8518902891030393),
    (0.1048738217563154, 0.8412230190955983, 0.8687943262411348),
]
REFERENCE_DATASET_MAX_F = 0.8059148978074226
REFERENCE_EDGE = {
    "all_zero_gt": (0.5071470277449175, 0.4928529722550825, 0.0),
    "all_one_gt": (0.4928529722550825, 0.5071470277449175, 1.0),
    "all_zero_gt_zero_pred": (0.0, 1.0, 0.0),
    "one_pixel_gt": (0.5074861092126529, 0.3226654808552504, 0.003491807681976901),
    "constant_pred": (0.5, 0.4074999999999999, 0.05138339920948617),
    "exact_pred": (0.0, 0.9999999999235426, 1.0),
    "inverted_pred": (1.0, 0.0, 0.05138339920948617),
}


def _ours(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float, float]:
    return salient.mae(pred, gt), salient.s_measure(pred, gt), float(salient.f_curve(pred, gt).max())


# ── salient-object metrics ─────────────────────────────────────────────────────


def test_salient_metrics_match_pysodmetrics_on_random_blobs():
    cases = random_cases()
    assert len(cases) == len(REFERENCE_RANDOM) == 20
    for (pred, gt), expected in zip(cases, REFERENCE_RANDOM):
        np.testing.assert_allclose(_ours(pred, gt), expected, rtol=0, atol=1e-6)
    curves = [salient.f_curve(pred, gt) for pred, gt in cases]
    assert salient.max_f(curves) == pytest.approx(REFERENCE_DATASET_MAX_F, abs=1e-6)
    assert salient.max_f(curves) < np.mean([c.max() for c in curves])  # the max of the mean, not the mean of maxima


@pytest.mark.parametrize("name", sorted(REFERENCE_EDGE))
def test_salient_metrics_match_pysodmetrics_at_edge_cases(name):
    pred, gt = edge_cases()[name]
    np.testing.assert_allclose(_ours(pred, gt), REFERENCE_EDGE[name], rtol=0, atol=1e-6)


def test_salient_metrics_match_an_installed_pysodmetrics():
    """The whole curves, where PySODMetrics is installed (its pins conflict with this
    project's numpy and OpenCV, so it is not a test dependency)."""
    sod = pytest.importorskip("py_sod_metrics")
    for pred, gt in random_cases() + list(edge_cases().values()):
        f, m, s = sod.Fmeasure(), sod.MAE(), sod.Smeasure()
        for metric in (f, m, s):
            metric.step(pred, gt, normalize=False)
        np.testing.assert_allclose(salient.f_curve(pred, gt), f.get_results()["fm"]["curve"][::-1], atol=1e-6)
        assert salient.mae(pred, gt) == pytest.approx(m.get_results()["mae"], abs=1e-6)
        assert salient.s_measure(pred, gt) == pytest.approx(s.get_results()["sm"], abs=1e-6)


def test_f_curve_by_hand():
    gt = np.array([[True, True, False, False]])
    pred = np.array([[1.0, 0.5, 0.5, 0.0]])
    curve = salient.f_curve(pred, gt)
    assert curve.shape == (256,)
    # t = 0: everything chosen, P = 1/2, R = 1; t ≤ 127 (0.5 → 127): P = 2/3, R = 1; t ≥ 128: P = 1, R = 1/2.
    def f(p, r):
        return 1.3 * p * r / (0.3 * p + r)

    assert curve[0] == pytest.approx(f(0.5, 1.0))
    assert curve[1] == curve[127] == pytest.approx(f(2 / 3, 1.0))
    assert curve[128] == curve[255] == pytest.approx(f(1.0, 0.5))


def test_iou_by_hand_and_its_empty_case():
    gt = np.array([[True, True, False, False]])
    assert salient.iou(np.array([[1.0, 0.5, 0.49, 0.0]]), gt) == 1.0  # 0.5 counts as chosen
    assert salient.iou(np.array([[1.0, 0.2, 0.9, 0.0]]), gt) == pytest.approx(1 / 3)
    assert salient.iou(np.zeros((1, 4)), np.zeros((1, 4), bool)) == 1.0


def test_s_measure_with_the_centroid_on_the_last_column_is_finite():
    gt = np.zeros((10, 12), bool)
    gt[3:6, 11] = True  # centroid column 11: the right quadrants are empty
    pred = gt * 0.8 + 0.1
    value = salient.s_measure(pred, gt)
    assert math.isfinite(value) and 0.0 < value <= 1.0


def test_salient_metrics_check_their_inputs():
    with pytest.raises(ParameterError, match="gt"):
        salient.mae(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ParameterError, match="pred"):
        salient.iou(np.full((2, 2), 1.5), np.zeros((2, 2), bool))
    with pytest.raises(ParameterError, match="shape"):
        salient.s_measure(np.zeros((2, 3)), np.zeros((2, 2), bool))


def test_truth_flicker_by_hand_and_unlike_the_old_flicker():
    a = [np.zeros((2, 2)), np.full((2, 2), 0.5), np.full((2, 2), 0.5)]
    g = [np.zeros((2, 2)), np.ones((2, 2)), np.ones((2, 2))]
    # steps: |0.5 − 1| = 0.5 and |0 − 0| = 0 → mean 0.25. The old flicker counts only
    # change beyond the truth's: max(0, 0.5 − 1) = 0.
    assert truth_flicker(a, g) == pytest.approx(0.25)
    assert flicker(a, g) == 0.0
    with pytest.raises(ParameterError):
        truth_flicker(a[:1], g[:1])


# ── model cache ───────────────────────────────────────────────────────────────


def test_cached_predict_runs_the_model_once_per_input_and_model(tmp_path):
    calls = []

    def model(image):
        calls.append(image.shape)
        return image[..., 0] * 0.5 + 0.25

    rng = np.random.default_rng(1)
    a, b = rng.random((8, 9, 3), dtype=np.float32), rng.random((8, 9, 3), dtype=np.float32)
    first = CachedPredict(model, tmp_path / "c", "m1")
    out_a = first(a)
    np.testing.assert_array_equal(first(a.copy()), out_a)
    first(b)
    assert (first.runs, first.computed, len(calls)) == (3, 2, 2)
    again = CachedPredict(model, tmp_path / "c", "m1")  # a rerun: everything from disk
    np.testing.assert_array_equal(again(a), out_a)
    assert again(a).dtype == np.float32 and again.computed == 0 and len(calls) == 2
    other = CachedPredict(model, tmp_path / "c", "m2")  # another model: its own entries
    other(a)
    assert other.computed == 1 and len(calls) == 3
    assert not list((tmp_path / "c").glob("*.part"))


# ── the folder evaluator ──────────────────────────────────────────────────────


def red_predict(image: np.ndarray) -> np.ndarray:
    """A cheap deterministic 'model': reddish pixels are the subject (as the tiny ONNX model)."""
    return (1.0 / (1.0 + np.exp(-8.0 * (image[..., 0] - image[..., 2])))).astype(np.float32)


def disc_scene(h: int, w: int, cy: float, cx: float, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """A red disc with a soft rim on a blue ground: (image (h, w, 3) float32, alpha (h, w) float32)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    alpha = np.clip((radius - np.hypot(yy - cy, xx - cx)) / 3.0 + 0.5, 0.0, 1.0).astype(np.float32)
    image = alpha[..., None] * np.float32([0.9, 0.2, 0.1]) + (1 - alpha[..., None]) * np.float32([0.1, 0.3, 0.8])
    return image.astype(np.float32), alpha


def make_folder(root: Path, *, soft: bool, trimap: str | None = None, count: int = 3) -> Path:
    """input/ (PNG and one JPEG) + gt/ (binary 0/255 or soft; one stored as RGB) [+ trimap/]."""
    (root / "input").mkdir(parents=True)
    (root / "gt").mkdir()
    if trimap:
        (root / trimap).mkdir()
    for i in range(count):
        h, w = 60 + 8 * i, 80 + 4 * i
        image, alpha = disc_scene(h, w, h / 2 + i, w / 2 - 2 * i, 14 + 3 * i)
        suffix = ".jpg" if i == 1 else ".png"
        Image.fromarray(float_to_uint8(image)).save(root / "input" / f"im{i}{suffix}", quality=95)
        gt = float_to_uint8(alpha) if soft else np.where(alpha >= 0.5, 255, 0).astype(np.uint8)
        save_png(root / "gt" / f"im{i}.png", np.dstack([gt] * 3) if i == 2 else gt)
        if trimap:
            tri = np.where(alpha > 0.99, 255, np.where(alpha < 0.01, 0, 128)).astype(np.uint8)
            import cv2

            tri = np.where(cv2.dilate((tri == 128).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0, 128, tri)
            save_png(root / trimap / f"im{i}.png", tri.astype(np.uint8))
    save_png(root / "input" / "no_gt.png", np.zeros((10, 10, 3), np.uint8))  # no ground truth: skipped
    return root


def test_plan_finds_pairs_and_decides_the_ground_truth_kind(tmp_path):
    binary = folder.plan(make_folder(tmp_path / "b", soft=False), methods=["raw", "best"])
    assert [p.name for p in binary.pairs] == ["im0", "im1", "im2"]
    assert binary.pairs[1].image.suffix == ".jpg"
    assert binary.kind == "binary" and binary.metrics == folder.BINARY_METRICS and binary.needs_model
    soft = folder.plan(make_folder(tmp_path / "s", soft=True, trimap="trimap1"), trimap="auto")
    assert soft.kind == "soft" and soft.metrics == folder.SOFT_METRICS
    assert soft.trimap == "trimap1" and not soft.needs_model
    forced = folder.plan(tmp_path / "b", gt="soft")
    assert forced.kind == "soft" and forced.metrics == folder.SOFT_METRICS
    assert [p.name for p in folder.plan(tmp_path / "b", every=2).pairs] == ["im0", "im2"]
    assert [p.name for p in folder.plan(tmp_path / "b", every=2, offset=1).pairs] == ["im1"]
    with pytest.raises(ParameterError, match="offset"):
        folder.plan(tmp_path / "b", every=2, offset=2)
    assert [p.name for p in folder.plan(tmp_path / "b", limit=1).pairs] == ["im0"]
    assert [p.name for p in folder.plan(tmp_path / "b", names=["im2"]).pairs] == ["im2"]
    with pytest.raises(ParameterError, match="methods"):
        folder.plan(tmp_path / "s", methods=["raw"], trimap="auto")
    with pytest.raises(ParameterError, match="methods"):
        folder.plan(tmp_path / "b", methods=["bogus"])
    with pytest.raises(ParameterError, match="trimap"):
        folder.plan(tmp_path / "b", trimap="auto")
    with pytest.raises(ParameterError, match="images"):
        folder.plan(tmp_path / "b", names=["nope"])


def test_evaluate_binary_folder_scores_raw_and_select_subject(tmp_path):
    plan = folder.plan(make_folder(tmp_path, soft=False), methods=["raw", "none"])
    rows = list(folder.evaluate(plan, red_predict))
    assert [(r.image, r.method) for r in rows] == [(n, m) for n in ("im0", "im1", "im2") for m in ("raw", "none")]
    for row in rows:
        assert set(row.scores) == set(folder.BINARY_METRICS) and row.curve.shape == (256,)
        assert row.scores["iou"] > 0.9 and row.scores["mae"] < 0.05 and row.scores["s_measure"] > 0.9
    raw = rows[0]
    assert raw.runs == 1 and math.isnan(raw.confidence)
    assert rows[1].runs >= 1 and 0.0 <= rows[1].confidence <= 1.0
    # raw is the plain model output at the image's size: its scores are the metrics of red_predict
    image = load_image(tmp_path / "input" / "im0.png")
    mask = np.asarray(Image.open(tmp_path / "gt" / "im0.png")) > 128
    assert raw.scores["iou"] == pytest.approx(salient.iou(red_predict(image), mask))
    stats = folder.summarise(rows, plan)
    assert stats["raw"]["mean"]["max_f"] == pytest.approx(salient.max_f([r.curve for r in rows if r.method == "raw"]))
    assert stats["none"]["median"]["iou"] == pytest.approx(np.median([r.scores["iou"] for r in rows if r.method == "none"]))


def test_evaluate_soft_folder_with_a_trimap_scores_its_unknown_band(tmp_path):
    plan = folder.plan(make_folder(tmp_path, soft=True, trimap="trimap"), methods=["fast"], trimap="auto")
    rows = list(folder.evaluate(plan, None))
    assert [r.image for r in rows] == ["im0", "im1", "im2"]
    for row in rows:
        assert set(row.scores) == set(folder.SOFT_METRICS) and row.runs == 0 and row.curve is None
        assert row.scores["sad"] < 0.2  # the disc's rim, refined from a close trimap


def test_evaluate_soft_folder_without_trimap_scores_the_whole_image(tmp_path):
    plan = folder.plan(make_folder(tmp_path, soft=True, count=1), methods=["raw"])
    (row,) = folder.evaluate(plan, red_predict)
    image = load_image(tmp_path / "input" / "im0.png")
    gt = np.asarray(Image.open(tmp_path / "gt" / "im0.png")).astype(np.float32) / 255.0
    assert row.scores["sad"] == pytest.approx(sad(red_predict(image), gt, np.ones(gt.shape, bool)), rel=1e-6)


def _row(image, method, **scores):
    return folder.Row(image, method, scores, 0.0)


def test_compare_with_raw_counts_images_beyond_the_threshold():
    plan = folder.Plan(Path("."), (), "binary", ("raw", "best", "fast"), folder.BINARY_METRICS)
    rows = [_row("a", "raw", iou=0.9), _row("a", "best", iou=0.80), _row("a", "fast", iou=0.95),
            _row("b", "raw", iou=0.9), _row("b", "best", iou=0.86), _row("b", "fast", iou=0.91),
            _row("c", "raw", iou=0.5), _row("c", "best", iou=0.3), _row("c", "fast", iou=0.6)]
    best, fast = folder.compare_with_raw(rows, plan)
    assert (best.method, best.worse, best.images, best.worst_image) == ("best", 2, 3, "c")
    assert best.worst == pytest.approx(0.2)
    assert (fast.worse, fast.worst, fast.worst_image) == (0, pytest.approx(-0.01), "b")
    assert folder.compare_with_raw(rows, plan, iou_drop=0.15)[0].worse == 1
    soft = folder.Plan(Path("."), (), "soft", ("raw", "best"), folder.SOFT_METRICS)
    (sad_cmp,) = folder.compare_with_raw([_row("a", "raw", sad=5.0), _row("a", "best", sad=6.5),
                                          _row("b", "raw", sad=5.0), _row("b", "best", sad=5.5)], soft)
    assert (sad_cmp.metric, sad_cmp.worse, sad_cmp.worst) == ("sad", 1, pytest.approx(1.5))
    assert folder.compare_with_raw([_row("a", "best", iou=1.0)], plan) == []


# ── the command line ──────────────────────────────────────────────────────────


def _csv(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_cli_eval_binary_folder_writes_rows_and_compares_with_raw(tmp_path, tiny_model):
    data = make_folder(tmp_path / "set", soft=False)
    out, cache = tmp_path / "eval.csv", tmp_path / "cache"
    done = softcut("eval", data, "--methods", "raw,best", "--csv", out, "--model", tiny_model, "--device", "cpu",
                   "--model-cache", cache, "--json", check=True)
    result = json.loads(done.stdout)
    assert result["kind"] == "binary" and result["metrics"] == list(folder.BINARY_METRICS)
    rows = _csv(out)
    assert rows[0] == ["image", "method", "mae", "max_f", "s_measure", "iou", "seconds", "runs", "confidence"]
    assert [r[:2] for r in rows[1:]] == [[n, m] for n in ("im0", "im1", "im2") for m in ("raw", "best")] + [
        ["mean", "raw"], ["median", "raw"], ["mean", "best"], ["median", "best"]]
    iou = {(r[0], r[1]): float(r[5]) for r in rows[1:7]}
    assert all(0.0 <= v <= 1.0 for v in iou.values())
    assert float(rows[7][5]) == pytest.approx(np.mean([iou[n, "raw"] for n in ("im0", "im1", "im2")]), abs=1e-5)
    (compare,) = result["compare"]
    drops = [iou[n, "raw"] - iou[n, "best"] for n in ("im0", "im1", "im2")]
    assert compare["method"] == "best" and compare["images"] == 3
    assert compare["worse"] == sum(d > 0.05 for d in drops)
    assert compare["worst"] == pytest.approx(max(drops), abs=1e-5)
    entries = sorted(cache.glob("*.npy"))
    assert entries

    again = softcut("eval", data, "--methods", "raw,best", "--model", tiny_model, "--device", "cpu",
                    "--model-cache", cache, "--iou-drop", "-1", check=True)
    assert "computed 0" in again.stderr and sorted(cache.glob("*.npy")) == entries
    assert "best vs raw: worse on 3 of 3 images" in again.stdout  # every drop is above −1
    assert f"mean    mae {float(rows[7][2]):.4f}" in again.stdout  # the same scores from the cache


def test_cli_eval_soft_folder_with_trimap_and_subsets(tmp_path):
    data = make_folder(tmp_path / "set", soft=True, trimap="trimap1")
    out = tmp_path / "eval.csv"
    softcut("eval", data, "--trimap", "--methods", "fast", "--every", "2", "--csv", out, "--quiet", check=True)
    rows = _csv(out)
    assert rows[0][:6] == ["image", "method", "sad", "mse", "grad", "conn"]
    assert [r[:2] for r in rows[1:]] == [["im0", "fast"], ["im2", "fast"], ["mean", "fast"], ["median", "fast"]]
    done = softcut("eval", data, "--trimap", "--methods", "raw")
    assert done.returncode == 2 and "methods" in done.stderr


# ── video ─────────────────────────────────────────────────────────────────────


def make_sequences(root: Path, frames: int = 4) -> Path:
    """Two sequences of a red disc moving on blue, with binary masks."""
    for s, name in enumerate(("alpha", "beta")):
        (root / name / "input").mkdir(parents=True)
        (root / name / "gt").mkdir()
        for t in range(frames):
            image, alpha = disc_scene(48, 64, 24, 20 + 4 * t + s, 10)
            save_png(root / name / "input" / f"{t:05d}.png", float_to_uint8(image))
            save_png(root / name / "gt" / f"{t:05d}.png", np.where(alpha >= 0.5, 255, 0).astype(np.uint8))
    (root / "README.md").write_text("not a sequence")
    return root


def test_video_raw_scores_equal_the_metrics_of_the_model_and_the_filter(tmp_path):
    root = make_sequences(tmp_path)
    rows = list(video.evaluate_video(root, red_predict, methods=["raw"], frames=3))
    assert [(r.sequence, r.method, r.frames) for r in rows] == [("alpha", "raw", 3), ("beta", "raw", 3)]
    images = [load_image(root / "alpha" / "input" / f"{t:05d}.png") for t in range(3)]
    masks = [np.asarray(Image.open(root / "alpha" / "gt" / f"{t:05d}.png")) > 128 for t in range(3)]
    own = [red_predict(i) for i in images]
    filtered = list(smooth_sequence(iter(zip(images, own))))
    truth = [m.astype(np.float32) for m in masks]
    row = rows[0]
    assert row.iou == pytest.approx(np.mean([salient.iou(a, m) for a, m in zip(own, masks)]))
    assert row.flicker == pytest.approx(truth_flicker(own, truth))
    assert row.filtered_iou == pytest.approx(np.mean([salient.iou(a, m) for a, m in zip(filtered, masks)]))
    assert row.filtered_flicker == pytest.approx(truth_flicker(filtered, truth))
    stats = video.overall(rows)
    assert stats["raw"]["frames"] == 6 and stats["raw"]["iou"] == pytest.approx((rows[0].iou + rows[1].iou) / 2)


def test_video_select_subject_per_frame(tmp_path):
    root = make_sequences(tmp_path)
    (row,) = video.evaluate_video(root, red_predict, methods=["fast"], sequences=["beta"])
    assert (row.sequence, row.frames) == ("beta", 4)
    assert row.iou > 0.9 and row.filtered_iou > 0.9 and 0.0 <= row.flicker < 0.05
    with pytest.raises(ParameterError, match="sequences"):
        list(video.evaluate_video(root, red_predict, sequences=["gamma"]))


def test_cli_eval_video(tmp_path, tiny_model):
    root = make_sequences(tmp_path / "seqs")
    out = tmp_path / "video.csv"
    done = softcut("eval", root, "--video", "--frames", "3", "--sequences", "alpha", "--methods", "raw,fast",
                   "--csv", out, "--model", tiny_model, "--device", "cpu", "--json", check=True)
    result = json.loads(done.stdout)
    assert [(r["sequence"], r["method"], r["frames"]) for r in result["rows"]] == [("alpha", "raw", 3), ("alpha", "fast", 3)]
    assert set(result["overall"]) == {"raw", "fast"}
    rows = _csv(out)
    assert rows[0] == ["sequence", "method", "frames", "iou", "flicker", "filtered_iou", "filtered_flicker", "seconds"]
    assert [r[:3] for r in rows[1:]] == [["alpha", "raw", "3"], ["alpha", "fast", "3"], ["mean", "raw", "3"], ["mean", "fast", "3"]]
    assert float(rows[1][3]) == pytest.approx(result["rows"][0]["iou"], abs=1e-6)
