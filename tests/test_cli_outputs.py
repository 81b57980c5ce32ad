"""Where and how the commands write (issue 23): ``-o`` an existing folder (with or without a trailing
slash) writes into it, for every command that takes ``-o``; the format comes from the suffix (PNG,
WebP, TIFF with alpha; JPEG flattened on --bg-color, white by default, said once); ``-o -`` writes
to standard output; ``--only-mask`` writes the alpha instead of the cut-out."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cli_support import SIZE, TINY, ok, run, true_alpha, write_disc
from core.imageio import save_png


@pytest.fixture
def disc(tmp_path):
    return write_disc(tmp_path / "disc.png")


def _alpha(path) -> np.ndarray:
    return np.asarray(Image.open(path).getchannel("A"), np.float32) / 255.0


@pytest.mark.parametrize("slash", ["", "/"])
def test_cut_into_an_existing_folder(tmp_path, tiny_model, disc, slash):
    folder = tmp_path / "adir"
    folder.mkdir()
    ok("cut", disc, "-o", f"{folder}{slash}", "--model", tiny_model, *TINY)
    assert sorted(p.name for p in folder.iterdir()) == ["disc.png"]
    assert np.abs(_alpha(folder / "disc.png") - true_alpha()).mean() < 0.03


def test_cut_into_a_new_folder_named_with_a_slash(tmp_path, tiny_model, disc):
    ok("cut", disc, "-o", f"{tmp_path / 'new'}/", "--alpha-out", f"{tmp_path / 'alphas'}/", "--model", tiny_model, *TINY)
    assert (tmp_path / "new" / "disc.png").is_file() and (tmp_path / "alphas" / "disc.alpha.png").is_file()


@pytest.mark.parametrize("slash", ["", "/"])
def test_one_input_commands_write_into_an_existing_folder(tmp_path, tiny_model, disc, slash):
    folder = tmp_path / "adir"
    folder.mkdir()
    rough = tmp_path / "rough.png"
    save_png(rough, ((true_alpha() > 0.5) * 255).astype(np.uint8))
    out = f"{folder}{slash}"
    ok("refine", disc, "--mask", rough, "-o", out)
    ok("trimap", disc, "--mask", rough, "-o", out)
    ok("object", disc, "-o", out, "--box", "40,15,160,135", "--model", tiny_model, *TINY)
    assert sorted(p.name for p in folder.iterdir()) == ["disc.alpha.png", "disc.png", "disc.trimap.png"]
    assert np.asarray(Image.open(folder / "disc.png")).shape == SIZE + (4,)


def test_layers_refuses_a_file_as_its_folder(tmp_path, tiny_model, disc):
    taken = tmp_path / "taken"
    taken.write_text("a file")
    done = run("layers", disc, "-o", taken, "--model", tiny_model, "--device", "cpu")
    assert done.returncode == 2 and "a file of that name exists" in done.err


@pytest.mark.parametrize("suffix", [".webp", ".tif", ".tiff", ".PNG"])
def test_formats_with_alpha_keep_it(tmp_path, tiny_model, disc, suffix):
    out = tmp_path / f"cut{suffix}"
    ok("cut", disc, "-o", out, "--model", tiny_model, *TINY)
    with Image.open(out) as image:
        assert image.format == {".webp": "WEBP", ".png": "PNG"}.get(suffix.lower(), "TIFF")
        assert image.mode == "RGBA"
    assert np.abs(_alpha(out) - true_alpha()).mean() < 0.03


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg"])
def test_jpeg_is_flattened_on_white_and_said_once(tmp_path, tiny_model, disc, suffix):
    done = ok("cut", disc, "-o", tmp_path / f"one{suffix}", "--model", tiny_model, *TINY)
    with Image.open(tmp_path / f"one{suffix}") as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        rgb = np.asarray(image).astype(int)
    assert (rgb[0, 0] >= 250).all()  # the background is white
    assert rgb[SIZE[0] // 2, SIZE[1] // 2, 0] > 200 and rgb[SIZE[0] // 2, SIZE[1] // 2, 2] < 60  # the disc stays red
    assert done.err.count("flattened on white") == 1
    ok("cut", disc, "-o", tmp_path / f"green{suffix}", "--bg-color", "#00ff00", "--model", tiny_model, *TINY)
    green = np.asarray(Image.open(tmp_path / f"green{suffix}")).astype(int)
    assert abs(green[0, 0] - (0, 255, 0)).max() < 8


def test_an_unknown_suffix_is_refused_before_any_work(tmp_path, tiny_model, disc):
    done = run("cut", disc, "-o", tmp_path / "cut.bmp", "--model", tmp_path / "no-such-model.onnx")
    assert done.returncode == 2 and ".bmp" in done.err and "no-such-model" not in done.err
    assert not (tmp_path / "cut.bmp").exists()


def test_stdin_to_stdout(tmp_path, tiny_model, disc):
    done = ok("cut", "-", "-o", "-", "--model", tiny_model, *TINY, stdin=disc.read_bytes())
    image = Image.open(io.BytesIO(done.stdout))
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == SIZE[::-1]
    alpha = np.asarray(image.getchannel("A"), np.float32) / 255.0
    assert np.abs(alpha - true_alpha()).mean() < 0.03
    assert b"->" not in done.stdout  # the result line went to stderr, not into the image


def test_several_outputs_need_a_folder_not_a_file(tmp_path, tiny_model, disc):
    taken = tmp_path / "taken.png"
    taken.write_text("a file")
    done = run("cut", disc, disc, "-o", taken, "--model", tiny_model, *TINY)
    assert done.returncode == 2 and "a file of that name exists" in done.err and taken.read_text() == "a file"


def test_stdout_takes_one_image(tmp_path, tiny_model, disc):
    done = run("cut", disc, disc, "-o", "-", "--model", tiny_model, *TINY)
    assert done.returncode == 2 and "standard output" in done.err
    done = run("cut", disc, "-o", "-", "--alpha-out", "-", "--model", tiny_model, *TINY)
    assert done.returncode == 2 and "only one output" in done.err


def test_only_mask_writes_the_alpha(tmp_path, tiny_model, disc):
    for flag in ("--only-mask", "-om"):
        out = tmp_path / f"mask{flag}.png"
        ok("cut", disc, "-o", out, flag, "--model", tiny_model, *TINY)
        with Image.open(out) as image:
            assert image.mode == "L"
            alpha = np.asarray(image, np.float32) / 255.0
        assert np.abs(alpha - true_alpha()).mean() < 0.03
    ok("cut", disc, "-o", tmp_path / "mask.jpg", "-om", "--model", tiny_model, *TINY)
    assert Image.open(tmp_path / "mask.jpg").mode == "L"  # a mask is grey, nothing to flatten
