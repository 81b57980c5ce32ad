"""`softcut batch SRC DST` on this machine (issue 24), as real child processes with the tiny model and
generated photos: the same files as `softcut cut` (alpha within 1/255), bad files recorded and the job going
on, a rerun that skips what is done and redoes what changed or was made with other options, list files, and
the usage errors (exit 2)."""

from __future__ import annotations

import os
import stat

from batch_support import (assert_same_outputs, done_inputs, files_below, records, rgba, softcut, summary,
                           write_folder, write_photo)
from cli_support import TINY, write_corrupt

NAMES = ["a.png", "trip/b.jpg", "trip/deeper/c.webp", "trip/d.png"]


def test_batch_writes_what_cut_writes(tmp_path, tiny_model):
    src = write_folder(tmp_path / "photos", NAMES)
    (src / "notes.txt").write_text("not an image")
    cut = softcut("cut", src, "-o", tmp_path / "cut", "--alpha-out", tmp_path / "cut_alpha", "--model", tiny_model, *TINY)
    assert cut.returncode == 0, cut.stderr
    done = softcut("batch", src, tmp_path / "dst", "--alpha-out", tmp_path / "alpha", "--model", tiny_model, *TINY, "--json")
    assert done.returncode == 0, done.stderr
    assert files_below(tmp_path / "dst") == ["a.png", "trip/b.png", "trip/d.png", "trip/deeper/c.png"]
    assert_same_outputs(tmp_path / "cut", tmp_path / "dst")
    assert_same_outputs(tmp_path / "cut_alpha", tmp_path / "alpha")
    assert rgba(tmp_path / "dst" / "a.png").shape[2] == 4
    manifest = tmp_path / "dst" / ".softcut-batch.jsonl"
    assert stat.S_IMODE(os.stat(manifest).st_mode) == 0o600
    assert done_inputs(tmp_path / "dst") == sorted(n for n in NAMES)
    assert len(records(tmp_path / "dst")) == len(NAMES)  # one line per input
    assert summary(done)["done"] == len(NAMES)


def test_batch_with_cuts_other_outputs_and_options(tmp_path, tiny_model):
    src = write_folder(tmp_path / "photos", ["a.png", "b.png"])
    flags = ("--only-mask", "--feather", "2", "--refine", "best", "--trimap-out")
    cut = softcut("cut", src, "-o", tmp_path / "cut", *flags, tmp_path / "cut_t", "--model", tiny_model, "--device", "cpu")
    assert cut.returncode == 0, cut.stderr
    done = softcut("batch", src, tmp_path / "dst", *flags, tmp_path / "t", "--model", tiny_model, "--device", "cpu")
    assert done.returncode == 0, done.stderr
    assert_same_outputs(tmp_path / "cut", tmp_path / "dst")
    assert_same_outputs(tmp_path / "cut_t", tmp_path / "t")
    webp = softcut("batch", src, tmp_path / "webp", "--format", "webp", "--bg-color", "#00ff00", "--model", tiny_model, *TINY)
    assert webp.returncode == 0, webp.stderr
    assert files_below(tmp_path / "webp") == ["a.webp", "b.webp"]
    assert (rgba(tmp_path / "webp" / "a.webp")[0, 0] == (0, 255, 0, 255)).all()  # flattened on the colour


def test_bad_files_are_recorded_and_the_job_goes_on(tmp_path, tiny_model):
    src = write_folder(tmp_path / "photos", ["a.png", "z.png"])
    write_corrupt(src / "broken.jpg")
    (src / "notes.png").write_text("not an image")
    done = softcut("batch", src, tmp_path / "dst", "--model", tiny_model, *TINY, "--json")
    assert done.returncode == 1, done.stderr
    assert "broken.jpg" in done.stderr and "notes.png" in done.stderr
    assert files_below(tmp_path / "dst") == ["a.png", "z.png"]
    failed = {r["input"]: r["error"] for r in records(tmp_path / "dst") if r["status"] == "failed"}
    assert sorted(failed) == ["broken.jpg", "notes.png"]
    assert "corrupt or truncated" in failed["broken.jpg"] and "not a recognised image" in failed["notes.png"]
    result = summary(done)
    assert (result["done"], result["failed"]) == (2, 2) and len(result["failures"]) == 2


def test_a_rerun_skips_what_is_done_and_redoes_what_changed(tmp_path, tiny_model):
    src = write_folder(tmp_path / "photos", ["a.png", "b.png", "c.png"])
    dst = tmp_path / "dst"

    def batch(*flags):
        done = softcut("batch", src, dst, "--model", tiny_model, *TINY, "--json", *flags)
        assert done.returncode == 0, done.stderr
        return summary(done)

    assert batch()["done"] == 3
    first = {r["input"]: r for r in records(dst)}
    again = batch()
    assert (again["done"], again["skipped"]) == (0, 3)
    assert {r["input"]: r for r in records(dst)} == first
    write_photo(src / "b.png", 5)  # new bytes
    (dst / "c.png").unlink()  # an output gone
    again = batch()
    assert (again["done"], again["skipped"]) == (2, 1)
    now = {r["input"]: r for r in records(dst)}
    assert now["a.png"] == first["a.png"] and now["b.png"]["sha256"] != first["b.png"]["sha256"]
    assert rgba(dst / "b.png").shape[:2] == (150, 160) and (dst / "c.png").is_file()
    before = rgba(dst / "a.png")
    other = batch("--shift-edge", "-60")  # other options: every input again
    assert (other["done"], other["skipped"]) == (3, 0)
    assert {r["options"] for r in records(dst)} != {first["a.png"]["options"]}
    assert len(records(dst)) == 3 and (rgba(dst / "a.png")[..., 3] != before[..., 3]).any()


def test_a_list_file_names_the_inputs(tmp_path, tiny_model):
    src = write_folder(tmp_path / "photos", ["a.png", "sub/b.png"])
    outside = write_photo(tmp_path / "elsewhere" / "c.png", 2)
    listing = src / "todo.txt"
    listing.write_text(f"# the shoot\na.png\n\nsub/b.png\n{outside}\n")
    done = softcut("batch", listing, tmp_path / "dst", "--model", tiny_model, *TINY)
    assert done.returncode == 0, done.stderr
    assert files_below(tmp_path / "dst") == ["a.png", "c.png", "sub/b.png"]


def test_usage_errors_exit_2_before_any_work(tmp_path, tiny_model):
    src = write_folder(tmp_path / "photos", ["a.png", "a.jpg"])
    (tmp_path / "file").write_text("x")
    for args, says in (((src, tmp_path / "file"), "a file of that name exists"),
                       ((tmp_path / "nowhere", tmp_path / "dst"), "no such folder"),
                       ((src, tmp_path / "dst"), "would write the same outputs"),
                       ((src, tmp_path / "dst", "--glob", "*.gif"), "no images"),
                       ((src / "a.png", tmp_path / "dst"), "for one image, use softcut cut"),
                       ((src, "nosuchprotocol://bucket/out"), "nosuchprotocol")):
        done = softcut("batch", *args, "--model", tiny_model, *TINY)
        assert done.returncode == 2 and says in done.stderr, done.stderr
    assert not (tmp_path / "dst").exists()

