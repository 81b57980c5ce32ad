"""Phone cut & paste in real Krita (tests/krita/krita_scenario_run.py): a phone's paste lands as one
new layer where the photo points; the docker shows the phone link (or how to get one)."""

from __future__ import annotations

import re

import numpy as np
from editor_files import PHONE_CENTRE, PHONE_OBJECT, facts
from krita_scenario_run import skip_without_krita

skip_without_krita()


def test_a_phone_paste_lands_as_one_new_layer_where_the_photo_points(krita_run):
    out, _ = krita_run
    f = facts(out, "phone")
    assert "error" not in f["phone"], f["phone"]
    assert f["phone"]["status"] == "placed", f["phone"]
    assert f["phone"]["editor"] == "softcut-krita"
    (added,) = f["added"]  # one new node, at the top of the stack
    name, kind, x, y, w, h = added
    assert (name, kind) == ("Phone mug", "paintlayer") and f["top"] == "Phone mug"
    # Krita's bounds leave out the cut-out's fully transparent margin (2 px)
    assert 0 <= x - f["phone"]["x"] <= 3 and 0 <= y - f["phone"]["y"] <= 3
    # the disc (32 px across), cropped out of the 64 x 48 photo, centred where the photo points
    assert 28 <= w < PHONE_OBJECT[0] and 28 <= h < PHONE_OBJECT[1]
    assert abs(x + w / 2 - PHONE_CENTRE[0]) <= 6 and abs(y + h / 2 - PHONE_CENTRE[1]) <= 6
    layer = np.frombuffer((out / "phone.layer.bin").read_bytes(), np.uint8).reshape(h, w, 4)  # B, G, R, A
    middle = layer[h // 2, w // 2]
    assert middle[2] > 150 and middle[0] < 100 and middle[3] > 200  # red, opaque
    assert layer[0, 0, 3] < 80  # the blue corner was cut away
    assert f["undo_steps"] == 1 and f["undo_restores"] is True


def test_the_docker_shows_the_phone_link_or_says_to_start_the_engine_on_the_lan(krita_run):
    out, _ = krita_run
    f = facts(out, "phone_link")
    assert f["no_lan"]["ok"] is False and "softcut serve --lan" in f["no_lan"]["message"]
    assert f["lan"]["ok"] is True and f["lan"]["message"].startswith("scan the code")
    assert f["qr_visible"] and f["qr_size"] == [180, 180]
    assert re.fullmatch(r"http://[\d.]+:\d+/phone#t=[\w-]{20,}", f["url"]), f["url"]


