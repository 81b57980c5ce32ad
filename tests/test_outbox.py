"""The outbox on disk: staging, addressing, order, removal, restarts and stale files."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from engine_server.phone.outbox import CUTTING, PENDING, STAGED, Outbox, new_id


def test_stage_address_and_remove(tmp_path):
    box = Outbox(tmp_path / "outbox")
    assert box.all() == [] and not (tmp_path / "outbox").exists()  # created at the first stage
    cut = new_id()
    staged = box.stage(cut, b"png bytes", name="Phone cut-out", width=30, height=20)
    assert (staged.state, staged.x, staged.target) == (STAGED, None, None)
    assert box.png(cut) == b"png bytes" and box.get(cut) == staged and box.pending() == []
    pending = box.make_pending(cut, x=-5, y=7, target="softcut-gimp", name="Mug")
    assert (pending.state, pending.x, pending.y, pending.target, pending.name) == (PENDING, -5, 7, "softcut-gimp", "Mug")
    assert Outbox(tmp_path / "outbox").pending() == [pending]  # what a restarted engine reads
    assert json.loads((tmp_path / "outbox" / f"{cut}.json").read_text())["state"] == "pending"
    assert box.remove(cut) and not box.remove(cut)
    assert box.get(cut) is None and list((tmp_path / "outbox").iterdir()) == []


def test_pending_oldest_first_and_incomplete_records_ignored(tmp_path):
    box = Outbox(tmp_path)
    ids = [new_id() for _ in range(3)]
    for cut in ids:
        box.stage(cut, b"x", name="n", width=1, height=1)
    for cut in reversed(ids):
        box.make_pending(cut, x=None, y=None, target=None)
    assert [d.id for d in box.pending()] == ids
    (tmp_path / f"{ids[1]}.png").unlink()  # a record without its cut-out is not a delivery
    assert [d.id for d in box.pending()] == [ids[0], ids[2]]


def test_stale_staged_cuts_and_leftovers_are_dropped(tmp_path):
    box = Outbox(tmp_path)
    old, older, waiting = new_id(), new_id(), new_id()
    for cut in (old, older, waiting):
        box.stage(cut, b"x", name="n", width=1, height=1)
    box.make_pending(waiting, x=1, y=2, target=None)
    (tmp_path / ".d00.png.1.tmp").write_bytes(b"half")
    assert box.drop_stale(now=time.time() + 25 * 3600) == [old, older]
    assert [d.id for d in box.all()] == [waiting]  # pending deliveries are never dropped
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{waiting}.json", f"{waiting}.png"])


def test_a_kept_photo_is_a_cutting_record_until_its_cut_out_replaces_it(tmp_path):
    box = Outbox(tmp_path / "outbox")
    cut = new_id()
    kept = box.keep_photo(cut, b"jpeg bytes", source=("jpeg", 320, 240), name="Phone cut-out")
    assert (kept.state, kept.source, kept.width) == (CUTTING, ("jpeg", 320, 240), 0)
    assert Outbox(tmp_path / "outbox").get(cut) == kept  # what a restarted engine reads
    assert box.photo(cut) == b"jpeg bytes" and box.pending() == []
    with pytest.raises(KeyError):  # nothing to paste yet
        box.make_pending(cut, x=None, y=None, target=None)
    staged = box.stage(cut, b"png", name="Phone cut-out", width=30, height=20, photo_size=(240, 320))
    assert (staged.state, staged.source, staged.created) == (STAGED, None, kept.created)
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [f"{cut}.json", f"{cut}.png"]


def test_outbox_folder_and_files_are_private(tmp_path):
    box = Outbox(tmp_path / "outbox")
    first, second = new_id(), new_id()
    umask = os.umask(0o022)  # the usual one, which would leave 0755 folders and 0644 files
    try:
        box.keep_photo(first, b"jpeg", source=("jpeg", 1, 1), name="n")
        box.stage(second, b"png", name="n", width=1, height=1)
        box.make_pending(second, x=1, y=2, target=None)
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "outbox").iterdir()} == {
        f"{first}.photo": 0o600, f"{first}.json": 0o600, f"{second}.png": 0o600, f"{second}.json": 0o600}


def test_stale_cutting_records_and_leftover_photos_are_dropped(tmp_path):
    box = Outbox(tmp_path)
    old_cut, fresh_cut, finished = new_id(), new_id(), new_id()
    for cut in (old_cut, fresh_cut):
        box.keep_photo(cut, b"jpeg", source=("jpeg", 1, 1), name="n")
    record = json.loads((tmp_path / f"{old_cut}.json").read_text())
    (tmp_path / f"{old_cut}.json").write_text(json.dumps({**record, "created": time.time() - 25 * 3600}))
    box.stage(finished, b"png", name="n", width=1, height=1)
    (tmp_path / f"{finished}.photo").write_bytes(b"lost unlink")  # staged, but its photo's removal was lost
    orphan, young = tmp_path / "d1111111111111111.photo", tmp_path / "d2222222222222222.photo"
    orphan.write_bytes(b"x")
    young.write_bytes(b"x")  # its record may be on its way
    os.utime(orphan, (time.time() - 120, time.time() - 120))  # no record for 2 minutes: a crash's leftover
    assert box.drop_stale() == [old_cut]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{fresh_cut}.json", f"{fresh_cut}.photo", f"{finished}.json", f"{finished}.png", young.name])
