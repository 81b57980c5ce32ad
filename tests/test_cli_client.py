"""``softcut client select-subject`` takes the flags of ``softcut cut`` and writes what it writes (issue
23): the alpha, the trimap, the edge controls, folders, formats, the mask alone, bad files said by
name with exit 1 while the others are written; ``softcut client video`` takes ``-o`` like ``video``
(the old second argument still works, with a deprecation notice). Against a real engine child."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cli_support import ok, run, true_alpha, write_corrupt, write_disc
from test_server import module_engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    yield from module_engine(tmp_path_factory, "client-cli")


def _client(engine, *args, **kw):
    return run("client", "select-subject", *args, "--port", engine.port, env={"SOFTCUT_CONFIG": engine.config}, **kw)


def _pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path)).astype(int)


def test_the_flags_of_cut_give_the_files_of_cut(tmp_path, engine):
    disc = write_disc(tmp_path / "disc.png")
    flags = ("--refine", "fast", "--feather", "2", "--contrast", "20", "--shift-edge", "10", "--decontaminate", "0.5")
    local, remote = tmp_path / "local", tmp_path / "remote"
    for folder in (local, remote):
        folder.mkdir()
    ok("cut", disc, "-o", local / "cut.png", "--alpha-out", local / "a.png", "--trimap-out", local / "t.png",
       *flags, "--model", engine.model, "--device", "cpu")
    done = _client(engine, disc, "-o", remote / "cut.png", "--alpha-out", remote / "a.png", "--trimap-out",
                   remote / "t.png", *flags)
    assert done.returncode == 0, done.err
    for name in ("cut.png", "a.png", "t.png"):
        a, b = _pixels(local / name), _pixels(remote / name)
        assert a.shape == b.shape and np.abs(a - b).max() <= 1, name
    plain = tmp_path / "plain.png"
    assert _client(engine, disc, "-o", plain, "--refine", "fast").returncode == 0
    assert np.abs(_pixels(plain)[..., 3] - _pixels(remote / "cut.png")[..., 3]).max() > 8  # the edge flags did act


def test_folders_formats_and_the_mask_alone(tmp_path, engine):
    disc = write_disc(tmp_path / "disc.png")
    existing = tmp_path / "existing"
    existing.mkdir()
    assert _client(engine, disc, "-o", existing, "--refine", "fast").returncode == 0
    assert (existing / "disc.png").is_file()
    assert _client(engine, disc, "-o", f"{existing}/", "-om", "--refine", "fast").returncode == 0  # replaced
    mask = np.asarray(Image.open(existing / "disc.png"), np.float32) / 255.0
    assert mask.ndim == 2 and np.abs(mask - true_alpha()).mean() < 0.03
    done = _client(engine, disc, "-o", tmp_path / "cut.jpg", "--refine", "fast")
    assert done.returncode == 0 and done.err.count("flattened on white") == 1
    assert Image.open(tmp_path / "cut.jpg").format == "JPEG"
    piped = _client(engine, "-", "-o", "-", "--refine", "fast", stdin=disc.read_bytes())
    assert piped.returncode == 0 and piped.stdout.startswith(b"\x89PNG")


def test_a_bad_file_is_said_and_the_others_written(tmp_path, engine):
    photos = tmp_path / "photos"
    write_disc(photos / "good.png")
    write_corrupt(photos / "broken.jpg")
    done = _client(engine, photos, "-o", tmp_path / "out", "--refine", "fast")
    assert done.returncode == 1 and "broken.jpg" in done.err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png"]
    too_big = _client(engine, photos / "good.png", "-o", tmp_path / "big.png", "--max-pixels", "1000")
    local = run("cut", photos / "good.png", "-o", tmp_path / "big.png", "--max-pixels", "1000",
                "--model", engine.model, "--device", "cpu")
    assert too_big.returncode == local.returncode == 1 and "over the limit" in too_big.err


def test_client_video_takes_o_and_still_the_old_second_argument(tmp_path, engine):
    frames = tmp_path / "frames"
    for k in range(3):
        write_disc(frames / f"frame{k + 1}.png")
    env = {"SOFTCUT_CONFIG": engine.config}
    common = ("--port", engine.port, "--refine", "fast")
    ok("client", "video", frames, "-o", tmp_path / "new", *common, env=env)
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["frame1.png", "frame2.png", "frame3.png"]
    old = ok("client", "video", frames, tmp_path / "old", *common, env=env)
    assert "deprecated" in old.err and len(list((tmp_path / "old").iterdir())) == 3
    both = run("client", "video", frames, tmp_path / "old", "-o", tmp_path / "new", *common, env=env)
    neither = run("client", "video", frames, *common, env=env)
    assert both.returncode == neither.returncode == 2 and "-o" in neither.err
