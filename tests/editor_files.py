"""What the editor tests (tests/krita, tests/gimp) share: one geometry, the input files, the driver's output files.

Each editor session runs a driver inside the editor that writes ``NAME.json`` (facts)
and ``NAME.WHAT.bin`` (raw pixels) to an output folder; the tests read them here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sample_images import plate_scene, red_disc_image, textured
from core.imageio import float_to_uint8, save_png

REFINE = "fast"  # the quality the editors are asked for, and the direct requests compared with
SIZE = (160, 120)  # (width, height) of the test canvas
SMALL = (100, 80)  # the offset layer
BIG = (1600, 1200)  # a 2 MP layer, for jobs long enough to act on mid-way
# Soft Segment Layers' canvas, and the layer smaller than it (a transparent border): the engine's
# eigensolver costs grow steeply with the pixels (80 x 60: about a fifth of SIZE's seconds), while the
# disc under the veil splits into the same layers
SEGMENTS_SIZE = (80, 60)
SEGMENTS_SMALL = (50, 40)
TOLERANCE = 1  # 1/255
# The editor sessions' engines run one OpenBLAS thread each: on a busy machine (the editor, the other engines and
# the rest of the suite on two cores) OpenBLAS's threads spin-wait for each other, and Soft Segment Layers'
# sparsification (small matrix products) took 5-9 times the CPU seconds it takes on one thread
ENGINE_ENV = {"OPENBLAS_NUM_THREADS": "1"}


def opaque(rgb: np.ndarray) -> bytes:
    """(h, w, 3) uint8 RGB → rgba8 bytes, alpha 255 (what editor tests put in a layer)."""
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]).tobytes()


def opaque_rgba8(image: np.ndarray) -> bytes:
    """(h, w, 3) float [0, 1] RGB → rgba8 bytes, alpha 255."""
    return opaque(float_to_uint8(image))


def write_inputs(out: Path, veil_alpha: int) -> None:
    """The rgba8 files the drivers load into layers.

    disc.rgba / small.rgba / big.rgba: :func:`red_disc_image` at SIZE, SMALL, BIG;
    veil.rgba: a green veil of ``veil_alpha`` over the left half of SIZE;
    seg_disc.rgba / seg_small.rgba / seg_veil.rgba: the same at SEGMENTS_SIZE and SEGMENTS_SMALL (Soft Segment Layers).
    """
    for name, (w, h) in (("disc", SIZE), ("small", SMALL), ("big", BIG), ("seg_disc", SEGMENTS_SIZE),
                         ("seg_small", SEGMENTS_SMALL)):
        (out / f"{name}.rgba").write_bytes(opaque_rgba8(red_disc_image(h, w)[0]))
    for name, (w, h) in (("veil", SIZE), ("seg_veil", SEGMENTS_SIZE)):
        veil = np.zeros((h, w // 2, 4), np.uint8)
        veil[..., 1] = 200
        veil[..., 3] = veil_alpha
        (out / f"{name}.rgba").write_bytes(veil.tobytes())


# Object Selection's scene (objects.rgba, at SIZE): two red discs on a blue ground, both the default
# model's subject; the prompts below pick one of them, add the other or take one away.
OBJECT_DISCS = ((42, 62), (118, 58))  # the left and the right disc's centres (x, y)
OBJECT_RADIUS = 20
OBJECT_BOX = (90, 30, 148, 88)  # Object's box (x0, y0, x1, y1): around the right disc
OBJECT_CLICKS = ((118.0, 58.0, True), (42.0, 62.0, False))  # on the right disc; on the left one (not the object)
ADD_ROUGH = (14, 32, 58, 60)  # (x, y, w, h): Add to Subject's rough selection, around the left disc
SUBTRACT_ROUGH = (88, 28, 62, 62)  # Subtract from Subject's, around the right disc


def object_discs(h: int, w: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Object Selection's scene: (image (h, w, 3) uint8 RGB, [left disc's, right disc's true alpha (h, w) float32])."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    discs = [np.clip(OBJECT_RADIUS - np.hypot(xx - cx, yy - cy) + 0.5, 0, 1) for cx, cy in OBJECT_DISCS]
    alpha = np.maximum(*discs)[..., None]
    image = alpha * np.array([0.9, 0.2, 0.1]) + (1 - alpha) * np.array([0.1, 0.3, 0.8])
    image += np.random.default_rng(1).normal(0, 0.02, image.shape)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8), discs


def write_object_inputs(out: Path) -> None:
    """objects.rgba: :func:`object_discs` at SIZE, opaque."""
    (out / "objects.rgba").write_bytes(opaque(object_discs(SIZE[1], SIZE[0])[0]))


POSTER = (480, 360)  # (width, height) of the document a phone photo is located on
PHONE_CENTRE = (300, 140)  # the poster pixel the phone photo's centre shows
PHONE_PHOTO = 400  # the photo's side: the poster around PHONE_CENTRE, enlarged 1.5 times
PHONE_OBJECT = (64, 48)  # the object photographed for the cut: a red disc on blue


def write_phone_inputs(out: Path) -> None:
    """The phone scenario's files: poster.rgba (shapes of many colours, something to locate),
    photo.rgb (the screen as the phone saw it) and object.rgba (what the phone cut out)."""
    w, h = POSTER
    poster = textured(h, w, seed=5)
    (out / "poster.rgba").write_bytes(opaque(poster))
    side = PHONE_PHOTO
    ys = np.clip(np.round(PHONE_CENTRE[1] + (np.arange(side) - side / 2) / 1.5).astype(int), 0, h - 1)
    xs = np.clip(np.round(PHONE_CENTRE[0] + (np.arange(side) - side / 2) / 1.5).astype(int), 0, w - 1)
    (out / "photo.rgb").write_bytes(np.ascontiguousarray(poster[ys][:, xs]).tobytes())
    ow, oh = PHONE_OBJECT
    disc = np.hypot(*np.mgrid[:oh, :ow][::-1] - np.array([ow / 2, oh / 2])[:, None, None]) < 16
    thing = np.zeros((oh, ow, 4), np.uint8)
    thing[...] = (30, 30, 220, 255)
    thing[disc] = (230, 30, 30, 255)
    (out / "object.rgba").write_bytes(thing.tobytes())


PLATE_SIZE = (320, 240)  # (width, height) of the clean-plate scene


def write_plate_inputs(out: Path) -> None:
    """The clean-plate scenario's files at PLATE_SIZE: scene.rgba (a red disc over a textured
    ground with red shapes) and plate.rgba (that ground, retaken by hand: moved, re-exposed,
    noisy; :func:`sample_images.plate_scene`); for the refusals a plate of another place
    (other.rgba and other.png) and a file that is no image (notes.txt)."""
    w, h = PLATE_SIZE
    image, plate, _ = plate_scene(h, w)
    other = textured(h, w, seed=5)
    for name, pixels in (("scene", image), ("plate", plate), ("other", other)):
        (out / f"{name}.rgba").write_bytes(opaque(pixels))
    save_png(out / "other.png", other)
    (out / "notes.txt").write_text("not a picture of anything\n")


def direct_plate(client, source: bytes, plate: bytes, w: int, h: int, outputs=("alpha",), edges=None, refine=REFINE):
    """The engine's plate_matte answer for rgba8 ``source`` and ``plate`` (both w x h), asked
    directly with the client factory ``client`` (the editors' request, for comparison)."""
    from wire.client import raw_image

    with client() as engine:
        return engine.plate_matte(raw_image(w, h, "rgba8", source), raw_image(w, h, "rgba8", plate, name="plate"),
                                  outputs=outputs, refine=refine, edges=edges, timeout=600)


def facts(out: Path, name: str) -> dict:
    """A scenario's facts (``NAME.json``)."""
    return json.loads((out / f"{name}.json").read_text())


def grey(out: Path, name: str, what: str, shape) -> np.ndarray:
    """``NAME.WHAT.bin`` as a uint8 array of ``shape``, widened to int for differences."""
    return np.frombuffer((out / f"{name}.{what}.bin").read_bytes(), np.uint8).reshape(shape).astype(int)


def direct_segments(client, source: bytes, w: int, h: int, count: int) -> list:
    """The engine's soft_segments answer for rgba8 ``source`` (w x h), asked directly with the
    client factory ``client``: segment0… as (h, w, 4) int arrays, bottom layer first."""
    from wire.client import raw_image

    with client() as engine:
        result = engine.soft_segments(raw_image(w, h, "rgba8", source), count=count, masks="stacked", timeout=600)
    return [np.frombuffer(result.buffers[f"segment{k}"], np.uint8).reshape(h, w, 4).astype(int) for k in range(count)]


# the animated layer's keyframes inside the playback range (0 ... ANIMATION_RANGE_END): more temporary
# undo steps (a time switch and a keyframe each) than the writers' few spare ones
ANIMATION_TIMES = (0, 1, 2, 4, 5, 7, 9)
ANIMATION_OUTSIDE = 12  # one more keyframe, outside the playback range
ANIMATION_RANGE_END = 10


def write_animation_inputs(out: Path) -> None:
    """anim0.rgba ... animN.rgba at SIZE: a red disc moving right over a textured blue ground, one
    file per keyframe (ANIMATION_TIMES, then ANIMATION_OUTSIDE)."""
    w, h = SIZE
    ground = textured(h, w, seed=3)
    ground = (0.35 * ground + 0.65 * np.array([30, 60, 200])).astype(np.uint8)
    ys, xs = np.mgrid[:h, :w]
    count = len(ANIMATION_TIMES) + 1
    for k in range(count):
        frame = ground.copy()
        frame[np.hypot(xs - (40 + (w - 80) * k / (count - 1)), ys - h / 2) < 22] = (220, 30, 30)
        (out / f"anim{k}.rgba").write_bytes(opaque(frame))


def direct_video(client, frames: list, w: int, h: int, output: str = "alpha", refine=REFINE) -> list:
    """The engine's video_matte answer for rgba8 ``frames`` (each w x h, in order), asked directly
    with the client factory ``client``: one (h, w) or (h, w, 4) int array per frame."""
    from wire.client import raw_image

    shape = (h, w) if output == "alpha" else (h, w, 4)
    with client() as engine:
        results = list(engine.video_matte([raw_image(w, h, "rgba8", f) for f in frames], outputs=(output,),
                                          refine=refine, timeout=600))
    return [np.frombuffer(r.buffers[output], np.uint8).reshape(shape).astype(int) for r in results]


CHOSEN_MODEL = "silueta"
"""The non-default model the editor tests pick: a stand-in that sees the blue ground as the subject,
where the engines' default (the tiny "red" model) sees the red disc."""


def write_model_zoo(folder: Path) -> Path:
    """rembg's folder (the engines' ``U2NET_HOME``) holding the :data:`CHOSEN_MODEL` stand-in
    (:func:`test_model_zoo.build_standin`, weights blue minus red)."""
    from test_model_zoo import build_standin

    folder.mkdir(parents=True, exist_ok=True)
    build_standin(folder / f"{CHOSEN_MODEL}.onnx", 320, weights=(-1.0, 0.0, 1.0))
    return folder


def direct_model_select(client, source: bytes, w: int, h: int, model: str | None) -> np.ndarray:
    """The engine's alpha for ``source`` (rgba8) by ``model`` (None: its default), as the editors ask."""
    from wire.client import raw_image

    with client() as engine:
        result = engine.select_subject(raw_image(w, h, "rgba8", source), refine=REFINE, model=model)
    assert result.fields["model"] == (model or result.fields["model"])
    return np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)


def note_timings(out: Path, **host: float) -> dict:
    """Add the host's timings (seconds: engines' start-up, the editor's start-up until the first scenario,
    the whole session...) to ``OUT/timings.json`` (which the driver fills with each scenario's seconds) and
    print them, the slowest scenarios first (shown with ``pytest -s``)."""
    path = out / "timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {"scenarios": {}}
    timings.update({k: round(v, 2) for k, v in host.items()})
    path.write_text(json.dumps(timings, indent=1))
    slowest = sorted(timings["scenarios"].items(), key=lambda item: -item[1])
    print(f"\n{out}: " + ", ".join(f"{k} {v}s" for k, v in timings.items() if k.endswith("_s"))
          + f"; scenarios {sum(timings['scenarios'].values()):.1f}s: "
          + ", ".join(f"{name} {s}s" for name, s in slowest[:15]))
    return timings
