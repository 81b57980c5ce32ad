"""phone_cut on a real engine (in this process, loopback, the tiny model) with real sockets: a jpeg
photo decoded with its EXIF rotation, the preview, the staged full-resolution cut-out; a jpeg whose
spec disagrees with its frame header refused on arrival."""

from __future__ import annotations

import numpy as np
import pytest
from phone_support import disc_photo, eventually, jpeg_bytes, phone_engine, png_rgba

from wire.client import EngineError, jpeg_image
from wire.protocol import messages


@pytest.fixture
def engine(tiny_model, tmp_path):
    yield from phone_engine(tiny_model, tmp_path)


def test_phone_cut_decodes_a_jpeg_with_its_exif_rotation_and_stages_the_full_cut(engine):
    stored = disc_photo(240, 320, centre=(80, 120))  # disc in the left half as stored
    data = jpeg_bytes(stored, orientation=6)  # "rotate 90° clockwise to display": the disc goes to the top
    with engine.phone() as phone:
        result = phone.phone_cut(jpeg_image(data), preview_max=100)
    assert result.specs["preview"].format == "png"
    assert (result.fields["width"], result.fields["height"]) == (240, 320)
    preview = png_rgba(result.buffers["preview"])
    assert preview.shape == (100, 75, 4)
    alpha = preview[..., 3] / 255.0
    assert alpha[:50].mean() > 0.3 > 0.02 > alpha[50:].mean()
    assert alpha[:, :37].mean() == pytest.approx(alpha[:, 38:].mean(), abs=0.05)  # centred across
    disc = alpha > 0.9
    assert preview[..., 0][disc].mean() > 200 > 60 > preview[..., 2][disc].mean()  # red, blue removed
    cut = result.fields["cut"]
    eventually(lambda: engine.records().get(cut, {}).get("state") == "staged", "the full-resolution cut-out")
    record = engine.records()[cut]
    full = png_rgba((engine.outbox / f"{cut}.png").read_bytes())
    assert (record["state"], record["width"], record["height"]) == ("staged", full.shape[1], full.shape[0])
    # cropped to the subject (in the upper half once rotated): smaller than the photo, opaque in
    # the middle, nearly transparent along its edges
    assert full.shape[0] < 200 and full.shape[1] <= 240
    alpha = full[..., 3].astype(float)
    assert alpha[full.shape[0] // 2, full.shape[1] // 2] > 240
    edges = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    assert edges.mean() < 40


def test_a_jpeg_whose_spec_disagrees_with_its_sof_is_refused_on_arrival(engine):
    data = jpeg_bytes(disc_photo())
    wrong = messages.buffer("image", data, format="jpeg", width=240, height=320)  # the file says 320x240
    with engine.phone() as phone, pytest.raises(EngineError, match="bad_image: .*the JPEG is 320x240"):
        phone.request(messages.phone_cut(wrong))

