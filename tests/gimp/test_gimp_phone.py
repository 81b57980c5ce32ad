"""Phone cut & paste in real GIMP (tests/gimp/gimp_scenario_run.py): while Receive Phone Cut-outs runs,
a phone's paste lands as one new layer where the photo points."""

from __future__ import annotations

import numpy as np
from editor_files import PHONE_CENTRE, PHONE_OBJECT, facts
from gimp_scenario_run import skip_without_gimp

skip_without_gimp()


def test_a_phone_paste_lands_as_one_new_layer_where_the_photo_points(gimp_run):
    out, _client, _seen = gimp_run
    f = facts(out, "phone_paste")
    assert f["run"]["ok"], f["run"]
    assert "error" not in f["phone"], f["phone"]
    assert f["phone"]["status"] == "placed" and f["phone"]["editor"] == "softcut-gimp", f["phone"]
    (layer,) = f["new_layers"]
    assert layer["name"] == "Phone mug" and f["top_layer"] == "Phone mug" and not layer["has_mask"]
    x, y = layer["offsets"]
    w, h = layer["size"]
    assert (x, y) == (f["phone"]["x"], f["phone"]["y"])
    # the disc (32 px across), cropped out of the 64 x 48 photo, centred where the photo points
    assert 32 <= w < PHONE_OBJECT[0] and 32 <= h < PHONE_OBJECT[1]
    assert abs(x + w / 2 - PHONE_CENTRE[0]) <= 6 and abs(y + h / 2 - PHONE_CENTRE[1]) <= 6
    pixels = np.frombuffer((out / "phone_paste.layer.bin").read_bytes(), np.uint8).reshape(h, w, 4)
    middle = pixels[h // 2, w // 2]
    assert middle[0] > 150 and middle[2] < 100 and middle[3] > 200  # red, opaque
    assert pixels[0, 0, 3] < 80  # the blue corner was cut away
    assert f["undo_restores"] and f["redo_restores"]  # one Ctrl+Z takes it out, Ctrl+Y brings it back

