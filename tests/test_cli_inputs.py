"""What the batch commands read (issue 23): folders searched recursively with --glob (outputs keep
the folder's layout, an output folder inside the input is left out), and every input checked from its
header before the model is opened, so a bad file is refused without waiting for the model."""

from __future__ import annotations

import numpy as np
from PIL import Image

from cli_support import TINY, ok, run, true_alpha, write_corrupt, write_disc


def test_a_folder_input_is_searched_recursively(tmp_path, tiny_model):
    photos = tmp_path / "photos"
    write_disc(photos / "a.png")
    write_disc(photos / "trip" / "b.JPG")
    write_disc(photos / "trip" / "deeper" / "c.webp")
    (photos / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    ok("cut", photos, "-o", out, "--model", tiny_model, *TINY)
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["a.png", "trip/b.png", "trip/deeper/c.png"]
    alpha = np.asarray(Image.open(out / "trip" / "deeper" / "c.png").getchannel("A"), np.float32) / 255.0
    assert np.abs(alpha - true_alpha()).mean() < 0.05


def test_glob_chooses_the_files(tmp_path, tiny_model):
    photos = tmp_path / "photos"
    write_disc(photos / "a.png")
    write_disc(photos / "sub" / "b.jpg")
    out = tmp_path / "out"
    ok("cut", photos, "-o", out, "--glob", "*.JPG", "--model", tiny_model, *TINY)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.png")) == ["sub/b.png"]


def test_a_folder_with_one_image_still_writes_into_the_output_folder(tmp_path, tiny_model):
    write_disc(tmp_path / "photos" / "only.png")
    ok("cut", tmp_path / "photos", "-o", tmp_path / "out", "--model", tiny_model, *TINY)
    assert (tmp_path / "out" / "only.png").is_file()


def test_an_output_folder_inside_the_input_is_not_read_again(tmp_path, tiny_model):
    photos = tmp_path / "photos"
    write_disc(photos / "a.png")
    ok("cut", photos, "-o", photos / "cut", "--model", tiny_model, *TINY)
    ok("cut", photos, "-o", photos / "cut", "--model", tiny_model, *TINY)  # a second run: cut/a.png is no input
    assert sorted(str(p.relative_to(photos)) for p in photos.rglob("*.png")) == ["a.png", "cut/a.png"]


def test_a_folder_without_images_is_a_usage_error(tmp_path, tiny_model):
    (tmp_path / "empty").mkdir()
    done = run("cut", tmp_path / "empty", "-o", tmp_path / "out", "--model", tiny_model, *TINY)
    assert done.returncode == 2 and "no images" in done.err


def test_bad_inputs_are_refused_before_the_model_is_opened(tmp_path):
    """No model can be had here (an empty cache, no npm): a bad file is refused by name, exit 1, and
    the model is never reached, which is what makes the refusal take milliseconds."""
    env = {"SOFTCUT_HOME": tmp_path / "home", "SOFTCUT_NPM": "no-such-npm-client", "U2NET_HOME": tmp_path / "u2"}
    bad = write_corrupt(tmp_path / "broken.jpg")
    missing = tmp_path / "missing.png"
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    write_disc(tmp_path / "big.png")
    for args, says in (((bad,), "broken.jpg: corrupt or truncated"), ((missing,), "missing.png: cannot read"),
                       ((text,), "notes.png: not a recognised image format"),
                       ((tmp_path / "big.png", "--max-pixels", "1000"), "over the limit")):
        done = run("cut", *args, "-o", tmp_path / "out.png", env=env)
        assert done.returncode == 1, done.err
        assert says in done.err and "npm" not in done.err and "model" not in done.err
    assert not (tmp_path / "out.png").exists()


def test_bad_inputs_among_good_ones_are_said_and_the_rest_written(tmp_path, tiny_model):
    bad = write_corrupt(tmp_path / "broken.jpg")
    good = write_disc(tmp_path / "good.png")
    done = run("cut", bad, good, tmp_path / "missing.png", "-o", tmp_path / "out", "--model", tiny_model, *TINY)
    assert done.returncode == 1
    assert "broken.jpg" in done.err and "missing.png" in done.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png"]


def test_stdin_that_is_no_image_is_refused(tmp_path):
    env = {"SOFTCUT_HOME": tmp_path / "home", "SOFTCUT_NPM": "no-such-npm-client", "U2NET_HOME": tmp_path / "u2"}
    done = run("cut", "-", "-o", tmp_path / "o.png", stdin=b"hello", env=env)
    assert done.returncode == 1 and "<stdin>: not a recognised image format" in done.err


def test_two_inputs_that_would_write_the_same_outputs_are_refused_before_any_work(tmp_path, tiny_model):
    photos = tmp_path / "photos"
    write_disc(photos / "a.jpg")
    write_disc(photos / "a.png")
    out = tmp_path / "out"
    done = run("cut", photos, "-o", out, "--model", tiny_model, *TINY)
    assert done.returncode == 2 and "a.jpg" in done.err and "a.png" in done.err and "same outputs" in done.err
    assert not out.exists() or not any(out.rglob("*.png"))
