"""`softcut batch` with fsspec URLs for SRC and DST (issue 24), as real child processes with the tiny model:
``file://`` (fsspec's local filesystem: the outputs moved into place, the manifest appended in DST itself) and
``simplecache::file://`` (fsspec's whole-file cache chained in front of it: each write goes to a local
temporary file that is uploaded when it closes, and the manifest, which such a store cannot append to, is
worked on locally and published to DST, the path an s3:// or gs:// DST takes). Both are read and written by
the batch's worker processes. s3:// and gs:// themselves cannot be reached from here and are not tested.
fsspec is in the test extra (and comes with ray[data]); where it is missing these tests are skipped."""

from __future__ import annotations

import pytest

from batch_support import (MANIFEST, assert_same_outputs, done_inputs, files_below, records, softcut, summary,
                           write_folder)
from cli_support import TINY

pytest.importorskip("fsspec", reason="fsspec is not installed: pip install -e '.[test]' (or '.[urls]')")

NAMES = ["a.png", "sub/b.jpg", "sub/deeper/c.webp"]
OUTPUTS = ["a.png", "sub/b.png", "sub/deeper/c.png"]


def leftovers(folder) -> list[str]:
    """Temporary files (``.NAME….tmp``) anywhere below ``folder``."""
    return sorted(p.name for p in folder.rglob(".*.tmp"))


@pytest.fixture
def env(tmp_path):
    """The children's SOFTCUT_HOME (where a published manifest's local copy is kept) in the test's folder."""
    return {"SOFTCUT_HOME": str(tmp_path / "home")}


def test_file_urls_as_src_and_dst_give_cuts_files_and_the_manifest_beside_them(tmp_path, tiny_model, env):
    src = write_folder(tmp_path / "photos", NAMES)
    cut = softcut("cut", src, "-o", tmp_path / "cut", "--alpha-out", tmp_path / "cut_alpha", "--model", tiny_model,
                  *TINY)
    assert cut.returncode == 0, cut.stderr
    dst, alpha = tmp_path / "out", tmp_path / "alpha"
    done = softcut("batch", f"file://{src}", f"file://{dst}", "--alpha-out", f"file://{alpha}", "--model", tiny_model,
                   *TINY, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert files_below(dst) == OUTPUTS and leftovers(dst) == []
    assert_same_outputs(tmp_path / "cut", dst)
    assert_same_outputs(tmp_path / "cut_alpha", alpha)
    assert done_inputs(dst) == sorted(NAMES) and len(records(dst)) == len(NAMES)
    assert {r["source"] for r in records(dst)} == {f"file://{src}/{name}" for name in NAMES}
    outputs = {r["input"]: r["outputs"] for r in records(dst)}
    assert outputs["sub/b.jpg"] == [f"file://{dst}/sub/b.png", f"file://{alpha}/sub/b.alpha.png"]
    assert summary(done)["manifest"] == str(dst / MANIFEST)
    again = softcut("batch", f"file://{src}", f"file://{dst}", "--alpha-out", f"file://{alpha}", "--model",
                    tiny_model, *TINY, "--json", env=env)
    assert (summary(again)["done"], summary(again)["skipped"]) == (0, len(NAMES))  # the URL outputs are found


def test_a_store_without_appends_gets_its_manifest_published(tmp_path, tiny_model, env):
    """simplecache::file://: the manifest is published to DST when the run ends (its local copy then removed).
    The rerun finds what a run killed before publishing would leave: its local copy holding lines the store's
    copy lacks (its run's header, a.png's record and a partial line), and a temporary file beside an output; it
    counts that record as done, redoes an output that was deleted, and sweeps the temporary file."""
    import hashlib
    import json

    src = write_folder(tmp_path / "photos", NAMES)
    dst = tmp_path / "out"
    url = f"simplecache::file://{dst}"
    done = softcut("batch", f"simplecache::file://{src}", url, "--model", tiny_model, *TINY, "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert files_below(dst) == OUTPUTS and leftovers(dst) == []
    cut = softcut("cut", src, "-o", tmp_path / "cut", "--model", tiny_model, *TINY)
    assert cut.returncode == 0, cut.stderr
    assert_same_outputs(tmp_path / "cut", dst)
    assert done_inputs(dst) == sorted(NAMES) and len(records(dst)) == len(NAMES)
    assert summary(done)["manifest"] == f"{url}/{MANIFEST}"
    state = tmp_path / "home" / "batch" / hashlib.sha256(url.encode()).hexdigest()[:16]
    assert state.is_dir() and not (state / MANIFEST).exists()  # the run ended: no local copy left
    lines = (dst / MANIFEST).read_bytes().splitlines(keepends=True)
    (dst / MANIFEST).write_bytes(b"".join(line for line in lines if json.loads(line)["input"] != "a.png"))
    header = json.dumps({"job": "k", "options": {}, "started": "2026-12-07T00:00:00Z"}).encode() + b"\n"
    (state / MANIFEST).write_bytes(header + next(line for line in lines if b'"a.png"' in line) + b'{"input": "sub/b')
    (dst / "sub" / ".b.png.4242.0123abcd.tmp").write_bytes(b"half")
    (dst / "sub" / "b.png").unlink()
    again = softcut("batch", f"simplecache::file://{src}", url, "--model", tiny_model, *TINY, "--json", env=env)
    assert again.returncode == 0, again.stderr
    assert (summary(again)["done"], summary(again)["skipped"]) == (1, len(NAMES) - 1)
    assert files_below(dst) == OUTPUTS and leftovers(dst) == []
    assert done_inputs(dst) == sorted(NAMES) and len(records(dst)) == len(NAMES)


def test_url_usage_errors_exit_2_before_any_work(tmp_path, tiny_model, env):
    src = write_folder(tmp_path / "photos", ["a.png"])
    (tmp_path / "file").write_text("x")
    for dst, says in ((f"file://{tmp_path / 'file'}", "a file of that name exists"),
                      ("memory://out", "lives in one process"),
                      ("nosuchprotocol://bucket/out", "nosuchprotocol")):
        done = softcut("batch", src, dst, "--model", tiny_model, *TINY, env=env)
        assert done.returncode == 2 and says in done.stderr, done.stderr
    assert not (tmp_path / "home").exists() and not (tmp_path / "out").exists()
