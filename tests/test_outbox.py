"""The outbox on disk: staging, addressing, order, removal, restarts and stale files."""

from __future__ import annotations

import json
import time

from engine_server.outbox import PENDING, STAGED, Outbox, new_id


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
