"""Scenarios run inside a real GIMP 3 (GUI, under Xvfb) by ``test_gimp_plugin.py``.

Executed by GIMP's ``python-fu-eval`` batch interpreter. Each scenario builds an
image with a display, calls a Softcut procedure through the PDB exactly as a
script would, and writes what GIMP then holds to ``$SOFTCUT_GIMP_OUT``:
``NAME.json`` (facts) and ``NAME.WHAT.bin`` (raw pixels). Undo and redo are
GIMP's own, pressed as Ctrl+Z / Ctrl+Y on the image's window with xdotool. The
pytest side compares the pixels with the engine's direct answers.
"""

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio  # noqa: E402

OUT = os.environ["SOFTCUT_GIMP_OUT"]
SPEC = json.load(open(os.path.join(OUT, "spec.json")))
W, H = SPEC["width"], SPEC["height"]
PDB = Gimp.get_pdb()
COLOUR, COVERAGE = "R'G'B'A u8", "Y u8"


def rect(x, y, w, h):
    return Gegl.Rectangle.new(x, y, w, h)


def read(drawable, fmt, area=None, abyss=Gegl.AbyssPolicy.CLAMP):
    area = area or (0, 0, drawable.get_width(), drawable.get_height())
    return bytes(drawable.get_buffer().get(rect(*area), 1.0, fmt, abyss))


def read_canvas(flat):
    """A merged layer's pixels over the canvas (rgba8), transparent where it does not reach."""
    x, y = offsets(flat)
    return read(flat, COLOUR, (-x, -y, W, H), Gegl.AbyssPolicy.NONE)


def write(drawable, fmt, data):
    buffer = drawable.get_buffer()
    buffer.set(rect(0, 0, drawable.get_width(), drawable.get_height()), fmt, data)
    buffer.flush()
    drawable.update(0, 0, drawable.get_width(), drawable.get_height())


def dump(name, what, data):
    with open(os.path.join(OUT, f"{name}.{what}.bin"), "wb") as f:
        f.write(data)


def offsets(item):
    got = item.get_offsets()
    return [got[-2], got[-1]]


def new_image(base=Gimp.ImageBaseType.RGB, precision=Gimp.Precision.U8_NON_LINEAR, size=(W, H)):
    return Gimp.Image.new_with_precision(size[0], size[1], base, precision)


def add_layer(image, pixels_file, size, name="photo", offset=(0, 0), parent=None, kind=None):
    if kind is None:
        kind = {Gimp.ImageBaseType.RGB: Gimp.ImageType.RGBA_IMAGE,
                Gimp.ImageBaseType.GRAY: Gimp.ImageType.GRAYA_IMAGE}[image.get_base_type()]
    layer = Gimp.Layer.new(image, name, size[0], size[1], kind, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(layer, parent, 0)
    layer.set_offsets(*offset)
    with open(os.path.join(OUT, pixels_file), "rb") as f:
        write(layer, COLOUR, f.read())
    return layer


def state(image):
    """A digest of everything a procedure could change: layers (tree, pixels, masks), selection, mode."""
    def item(layer):
        mask = layer.get_mask()
        entry = {"name": layer.get_name(), "offsets": offsets(layer), "size": [layer.get_width(), layer.get_height()],
                 "pixels": hashlib.sha1(read(layer, COLOUR)).hexdigest(),
                 "mask": hashlib.sha1(read(mask, COVERAGE)).hexdigest() if mask else None}
        if layer.is_group_layer():
            entry["children"] = [item(child) for child in layer.get_children()]
        return entry

    return {"layers": [item(layer) for layer in image.get_layers()],
            "selection": hashlib.sha1(read(image.get_selection(), COVERAGE)).hexdigest(),
            "base": int(image.get_base_type()), "precision": int(image.get_precision())}


def describe(layer):
    """A new layer's facts (a group's with its children's, top first)."""
    entry = {"name": layer.get_name(), "offsets": offsets(layer), "size": [layer.get_width(), layer.get_height()],
             "has_mask": layer.get_mask() is not None, "mode": layer.get_mode().value_nick,
             "composite_space": layer.get_composite_space().value_nick}
    if layer.is_group_layer():
        entry["children"] = [describe(child) for child in layer.get_children()]
    return entry


def shown_alone(image, layer):
    """The canvas as GIMP composites it with only ``layer`` (a top-level layer) visible (rgba8)."""
    copy = image.duplicate()
    try:
        position = image.get_item_position(layer)
        for number, other in enumerate(copy.get_layers()):
            other.set_visible(number == position)
        return read_canvas(copy.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE))
    finally:
        copy.delete()


def xdotool(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=20).stdout


def press(image, keys, before):
    """Press ``keys`` on the image's window; wait until its state leaves ``before`` (≤ 10 s)."""
    deadline = time.time() + 15  # a new image's window may not be mapped yet
    windows = []
    while not windows and time.time() < deadline:
        windows = xdotool("search", "--name", r"\]-%d\.0 " % image.get_id()).split()
        if not windows:
            time.sleep(0.2)
    if not windows:
        raise RuntimeError(f"no window for image {image.get_id()}")
    xdotool("windowfocus", "--sync", windows[0])
    time.sleep(0.2)
    xdotool("key", keys)
    deadline = time.time() + 10
    while time.time() < deadline:
        now = state(image)
        if now != before:
            time.sleep(0.3)  # let a partial undo finish, if it were partial
            return state(image)
        time.sleep(0.1)
    return state(image)


def answer_dialog(name, title, keys):
    """In the background: wait for the window called ``title``, record its size in ``dialog-NAME.txt``
    (``name``: the scenario's), press ``keys`` in it."""
    pattern = "^" + "".join("\\" + c if c in "()[].*+?" else c for c in title) + "$"
    script = ('for i in $(seq 300); do w=$(xdotool search --name "%s" | head -1); [ -n "$w" ] && break; sleep 0.1; '
              'done; xdotool getwindowgeometry "$w" > "%s"; sleep 0.5; xdotool windowfocus --sync "$w"; '
              'xdotool key %s' % (pattern, os.path.join(OUT, "dialog-%s.txt" % name), keys))
    return subprocess.Popen(["sh", "-c", script])


def call(name, procedure, image, drawables, **args):
    proc = PDB.lookup_procedure(procedure)
    if proc is None:
        raise RuntimeError(f"procedure {procedure} is not registered")
    config = proc.create_config()
    config.set_property("image", image)
    config.set_core_object_array("drawables", drawables)
    config.set_property("engine-port", SPEC["port"])
    if hasattr(config.props, "quality"):
        config.set_property("quality", SPEC["refine"])
    for key, value in args.items():
        if key == "dialog":  # (title, keys): run interactively and answer the dialog
            config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
            helper = answer_dialog(name, *value)
            continue
        config.set_property(key.replace("_", "-"), value)
    started = time.time()
    values = proc.run(config)
    status = values.index(0)
    if "dialog" in args:
        helper.wait(timeout=30)
    return {"ok": status == Gimp.PDBStatusType.SUCCESS, "status": status.value_nick,
            "message": "" if status == Gimp.PDBStatusType.SUCCESS else (PDB.get_last_error() or ""),
            "seconds": round(time.time() - started, 2)}


def requests_seen():
    """How many messages the request log (test_gimp_plugin's relay to the engine) holds so far."""
    try:
        with open(os.path.join(OUT, "requests.jsonl"), "rb") as log:
            return log.read().count(b"\n")
    except FileNotFoundError:
        return 0


def scenario(name, procedure, make, *, user_edit=True, keep=None, **args):
    """Build with ``make()`` → (image, drawables, source drawable[, arguments made with the image]),
    run, record, undo, redo."""
    image, drawables, source, *made = make()
    args = {**args, **(made[0] if made else {})}
    display = Gimp.Display.new(image)
    Gimp.displays_flush()
    if user_edit:  # the user's own last step, which undoing Softcut must leave in place
        image.undo_group_start()
        image.select_rectangle(Gimp.ChannelOps.REPLACE, 3, 4, 20, 10)
        image.undo_group_end()
    facts = {"base": int(image.get_base_type()), "precision": int(image.get_precision())}
    width, height = image.get_width(), image.get_height()
    if source is not None:
        area = [*offsets(source), source.get_width(), source.get_height()]
        x0, y0 = max(area[0], 0), max(area[1], 0)
        x1, y1 = min(area[0] + area[2], width), min(area[1] + area[3], height)
        facts["rect"] = [x0, y0, x1 - x0, y1 - y0]
        dump(name, "source", read(source, COLOUR, (x0 - area[0], y0 - area[1], x1 - x0, y1 - y0)))
    dump(name, "guide", read(image.get_selection(), COVERAGE, (0, 0, width, height)))
    layers_before = [layer.get_id() for layer in image.get_layers()]
    before = state(image)
    seen = requests_seen()
    facts["run"] = call(name, procedure, image, drawables, **args)
    facts["requests"] = [seen, requests_seen()]  # the lines of the request log this run added
    after = state(image)
    facts["changed"] = after != before
    dump(name, "selection", read(image.get_selection(), COVERAGE, (0, 0, width, height)))
    if source is not None and source.get_mask() is not None:
        facts["mask"] = True
        dump(name, "mask", read(source.get_mask(), COVERAGE))
    new = [layer for layer in image.get_layers() if layer.get_id() not in layers_before]
    facts["new_layers"] = [describe(layer) for layer in new]
    if new:
        dump(name, "layer", read(new[0], COLOUR))
        if new[0].get_mask() is not None:
            dump(name, "layer_mask", read(new[0].get_mask(), COVERAGE))
        if new[0].is_group_layer():  # its children (top first) and the group shown alone
            for number, child in enumerate(new[0].get_children()):
                dump(name, f"child{number}", read(child, COLOUR))
                if child.get_mask() is not None:
                    dump(name, f"child{number}_mask", read(child.get_mask(), COVERAGE))
            dump(name, "group_alone", shown_alone(image, new[0]))
    facts["base_after"] = int(image.get_base_type())
    facts["top_layer"] = image.get_layers()[0].get_name()
    if facts["changed"]:
        undone = press(image, "ctrl+z", after)
        facts["undo_restores"] = undone == before
        redone = press(image, "ctrl+y", undone)
        facts["redo_restores"] = redone == after
    if keep:
        keep(image, facts)
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(facts, f)
    display.delete()
    image.delete()


def disc_image(base=Gimp.ImageBaseType.RGB, precision=Gimp.Precision.U8_NON_LINEAR, indexed=False):
    def make():
        image = new_image(base, precision)
        layer = add_layer(image, "disc.rgba", (W, H))
        if indexed:
            image.convert_indexed(Gimp.ConvertDitherType.NONE, Gimp.ConvertPaletteType.GENERATE, 255,
                                  False, False, "")
            layer = image.get_layers()[0]
        return image, [layer], layer
    return make


def offset_image():
    small = SPEC["offset_size"]
    image = new_image()
    add_layer(image, "disc.rgba", (W, H), name="ground")
    layer = add_layer(image, "small.rgba", small, name="offset", offset=(-small[0] // 4, H - small[1] // 2))
    return image, [layer], layer


def merged_image():
    image = new_image()
    ground = add_layer(image, "disc.rgba", (W, H), name="ground")
    add_layer(image, "veil.rgba", (W // 2, H), name="veil")
    copy = image.duplicate()  # GIMP's own composite, by another road than the plug-in's
    dump("merged_selection", "source", read(copy.flatten(), COLOUR))
    copy.delete()
    return image, [ground], None


def group_image():
    image = new_image()
    group = Gimp.GroupLayer.new(image, "People")
    image.insert_layer(group, None, 0)
    add_layer(image, "disc.rgba", (W, H), parent=group)
    return image, [group], None


def run_all():
    make = disc_image()
    scenario("rgb8_selection", "softcut-select-subject", make)
    scenario("rgb16_selection", "softcut-select-subject",
             disc_image(precision=Gimp.Precision.U16_LINEAR))
    scenario("f32_selection", "softcut-select-subject",
             disc_image(precision=Gimp.Precision.FLOAT_LINEAR))
    scenario("grey_selection", "softcut-select-subject", disc_image(base=Gimp.ImageBaseType.GRAY))
    scenario("indexed_selection", "softcut-select-subject", disc_image(indexed=True))
    scenario("offset_selection", "softcut-select-subject", offset_image)
    scenario("merged_selection", "softcut-select-subject", merged_image, sample_merged=True)
    scenario("edges_selection", "softcut-select-subject", make, feather=3.0, contrast=20.0)
    scenario("rgb8_mask", "softcut-remove-background", make)
    scenario("offset_mask", "softcut-remove-background", offset_image)
    scenario("rgb16_mask", "softcut-remove-background", disc_image(precision=Gimp.Precision.U16_LINEAR))
    scenario("rgb8_layer", "softcut-cut-out", make)
    scenario("f32_layer", "softcut-cut-out", disc_image(precision=Gimp.Precision.FLOAT_LINEAR))
    scenario("indexed_layer", "softcut-cut-out", disc_image(indexed=True))
    scenario("selection_as_mask", "softcut-select-subject", make, output="mask")
    scenario("dialog_ok", "softcut-cut-out", make, dialog=("Cut Out to New Layer (Softcut)", "Return"))
    scenario("model_selection", "softcut-select-subject", make, model=SPEC["chosen_model"])
    scenario("dialog_cancel", "softcut-select-subject", make, dialog=("Subject (Softcut)", "Escape"))

    def rough_selection():
        image, drawables, layer = make()
        image.select_ellipse(Gimp.ChannelOps.REPLACE, W // 2 - 45, H // 2 - 45, 90, 90)
        return image, drawables, layer
    scenario("refine", "softcut-refine-selection", rough_selection, user_edit=False)
    scenario("refine_edges", "softcut-refine-selection", rough_selection, user_edit=False, shift_edge=30.0)

    def empty_selection():
        image, drawables, layer = make()
        Gimp.Selection.none(image)
        return image, drawables, layer
    scenario("refine_nothing_selected", "softcut-refine-selection", empty_selection, user_edit=False)
    scenario("group_refused", "softcut-select-subject", group_image)

    def masked_layer():  # the user picked the layer's mask: Softcut works on its layer, which has a mask already
        image, drawables, layer = make()
        mask = layer.create_mask(Gimp.AddMaskType.WHITE)
        layer.add_mask(mask)
        return image, [mask], layer
    scenario("mask_exists", "softcut-remove-background", masked_layer)

    def two_layers():  # two layers picked: Sample merged works on the visible image, a cut-out goes on top
        image, _drawables, _ = merged_image()
        return image, image.get_layers(), None
    scenario("two_layers_refused", "softcut-select-subject", two_layers)
    scenario("two_layers_merged_cutout", "softcut-cut-out", two_layers, sample_merged=True)

    def opaque_layer():  # no alpha channel: Remove Background adds one, in the same undo step
        image = new_image()
        layer = add_layer(image, "disc.rgba", (W, H), kind=Gimp.ImageType.RGB_IMAGE)
        return image, [layer], layer
    scenario("no_alpha_mask", "softcut-remove-background", opaque_layer)
    scenario("no_engine", "softcut-remove-background", make, engine_port=SPEC["dead_port"])
    segments_scenarios()
    plate_scenarios()
    phone_scenario()
    big = SPEC["big_size"]

    def big_image():
        image = new_image(size=big)
        layer = add_layer(image, "big.rgba", big)
        return image, [layer], None
    scenario("engine_dies", "softcut-cut-out", big_image, engine_port=SPEC["kill_port"], quality="best")
    scenario("plugin_killed", "softcut-select-subject", big_image, engine_port=SPEC["abandoned_port"],
             quality="best")


def segments_scenarios():
    """Soft Segment Layers on the visible image (two layers, the top one a veil), on a linear float
    image, from its dialog, and with no engine."""
    def merged(precision=Gimp.Precision.U8_NON_LINEAR, name="segments", transparent=False):
        def make():
            image = new_image(precision=precision)
            if transparent:  # a layer that leaves a transparent border around it
                ground = add_layer(image, "small.rgba", SPEC["offset_size"], name="ground", offset=(30, 20))
            else:
                ground = add_layer(image, "disc.rgba", (W, H), name="ground")
            add_layer(image, "veil.rgba", (W // 2, H), name="veil")
            copy = image.duplicate()  # the visible image, read as the plug-in reads it
            flat = copy.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
            dump(name, "composite", read_canvas(flat))
            copy.delete()
            return image, [ground], None
        return make

    def linear_light(image, facts):  # the same layers in GIMP's default composite space for Normal mode
        copy = image.duplicate()
        for child in copy.get_layers()[0].get_children():
            child.set_composite_space(Gimp.LayerColorSpace.AUTO)
        dump("segments", "group_alone_linear", shown_alone(copy, copy.get_layers()[0]))
        copy.delete()

    count = SPEC["segments"]
    scenario("segments", "softcut-soft-segments", merged(), count=count, keep=linear_light)
    scenario("segments_linear", "softcut-soft-segments",
             merged(Gimp.Precision.FLOAT_LINEAR, "segments_linear"), count=count)
    scenario("segments_dialog", "softcut-soft-segments", merged(name="segments_dialog"),
             count=SPEC["dialog_segments"], dialog=("Soft Segment Layers (Softcut)", "Return"))
    scenario("segments_transparent", "softcut-soft-segments", merged(name="segments_transparent", transparent=True),
             count=count)
    scenario("segments_no_engine", "softcut-soft-segments", merged(name="segments_no_engine"),
             engine_port=SPEC["dead_port"])


def plate_scenarios():
    """Select Subject with Clean Plate: the photo (scene.rgba) on top of the stack, selected; the
    clean plate (plate.rgba, a handheld retake of its ground) as a layer, of this image or of
    another one, or as a file (PNG sent as it is, TIFF opened by GIMP); a plate of another
    scene (other.*); the refusals before any request (on a port where no engine listens)."""
    size = tuple(SPEC["plate_size"])
    procedure = "softcut-select-subject-plate"
    dead = SPEC["dead_port"]
    others = []  # images besides the scenario's own, closed after it

    def plate_file(name):
        return Gio.File.new_for_path(os.path.join(OUT, name))

    def named(image, name):
        return next(layer for layer in image.get_layers() if layer.get_name() == name)

    def stack(*below, plate=None):
        """A maker: the layers ``below`` (name, file), bottom first, then "photo" on top, selected;
        the layer called ``plate`` (or, given a function, what it returns for the image) goes in
        as the plate layer."""
        def make():
            image = new_image(size=size)
            for name, pixels_file in below:
                add_layer(image, pixels_file, size, name=name)
            photo = add_layer(image, "scene.rgba", size, name="photo")
            extra = {}
            if plate is not None:
                extra["plate_layer"] = plate(image) if callable(plate) else named(image, plate)
            return image, [photo], photo, extra
        return make

    def keep_layers(name):
        def keep(image, facts):  # the photo's and the plate's pixels after the run, undo and redo
            dump(name, "photo_after", read(named(image, "photo"), COLOUR))
            dump(name, "plate_after", read(named(image, "Clean plate"), COLOUR))
        return keep

    with_plate = stack(("Clean plate", "plate.rgba"), plate="Clean plate")
    for name, output in (("plate_selection", "selection"), ("plate_mask", "mask"), ("plate_layer", "layer")):
        scenario(name, procedure, with_plate, keep=keep_layers(name), output=output)

    def elsewhere(image):  # the plate: a layer of another open image, partly off that image's canvas
        other = new_image(size=(size[0] + 40, size[1] - 60))
        others.append(other)
        return add_layer(other, "plate.rgba", size, name="retake", offset=(-30, 25))

    def close_others(image, facts):
        while others:
            others.pop().delete()
    scenario("plate_other_image", procedure, stack(plate=elsewhere), keep=close_others)

    other_below = stack(("ground", "other.rgba"), plate="ground")  # the layer below shows another place
    scenario("plate_file_png", procedure, other_below, plate_file=plate_file("plate.png"))  # the file wins
    scenario("plate_file_tiff", procedure, other_below, plate_file=plate_file("plate.tif"))
    scenario("plate_other_scene_layer", procedure, other_below)
    scenario("plate_other_scene_file", procedure, stack(), plate_file=plate_file("other.png"))
    scenario("plate_no_engine", procedure, with_plate, engine_port=dead)

    # refused before any request: no engine listens on the port, so the message shows nothing was asked
    scenario("plate_missing", procedure, stack(("Clean plate", "plate.rgba")), engine_port=dead)
    scenario("plate_is_source", procedure, stack(("Clean plate", "plate.rgba"), plate="photo"), engine_port=dead)
    scenario("plate_file_not_image", procedure, stack(), plate_file=plate_file("notes.txt"), engine_port=dead)
    scenario("plate_merged_visible", procedure, with_plate, sample_merged=True, engine_port=dead)

    # no plate passed: the dialog's guess, a layer named like a plate, else the layer right below the photo
    title = "Subject with Clean Plate (Softcut)"
    scenario("plate_dialog_by_name", procedure, stack(("My Clean PLATE", "plate.rgba"), ("ground", "other.rgba")),
             dialog=(title, "alt+o"))
    scenario("plate_dialog_below", procedure, stack(("ground", "other.rgba"), ("retake", "plate.rgba")),
             dialog=(title, "alt+o"))


def phone_scenario():
    """A phone (a client on a thread here) cuts out an object and pastes it with a photo of the screen
    while Receive Phone Cut-outs runs on the image (it stops after one cut-out)."""
    poster = tuple(SPEC["poster_size"])
    outcome = {}

    def make():
        image = new_image(size=poster)
        layer = add_layer(image, "poster.rgba", poster, name="poster")
        return image, [layer], None

    def phone_side():
        try:
            sys.path.insert(0, os.path.expanduser("~/.config/GIMP/3.0/plug-ins/softcut_gimp"))
            from softcut_plugin.wire.client import SoftcutClient, raw_image

            ow, oh = SPEC["object_size"]
            side = SPEC["photo_side"]
            with open(os.path.join(OUT, "object.rgba"), "rb") as f:
                thing = f.read()
            with open(os.path.join(OUT, "photo.rgb"), "rb") as f:
                photo = f.read()
            with SoftcutClient("127.0.0.1", SPEC["port"], name="softcut-phone", timeout=120) as phone:
                cut = phone.phone_cut(raw_image(ow, oh, "rgba8", thing)).fields["cut"]
                deadline = time.monotonic() + 60
                while phone.status()["clients"] < 2 and time.monotonic() < deadline:  # this phone and GIMP's link
                    time.sleep(0.1)
                pasted = phone.phone_paste(cut, raw_image(side, side, "rgb8", photo, name="photo"), name="Phone mug")
            outcome.update({k: v for k, v in pasted.fields.items() if k != "timings"})
        except Exception as exc:  # reported in the facts
            outcome["error"] = repr(exc)

    thread = threading.Thread(target=phone_side, daemon=True)
    thread.start()

    def keep(image, facts):
        thread.join(60)
        facts["phone"] = outcome

    scenario("phone_paste", "softcut-phone-link", make, keep=keep, max_deliveries=1, timeout=90.0)


try:
    run_all()
except Exception:
    with open(os.path.join(OUT, "driver_error.txt"), "w") as f:
        f.write(traceback.format_exc())
finally:
    open(os.path.join(OUT, "done"), "w").close()
    quit_proc = PDB.lookup_procedure("gimp-quit")
    quit_config = quit_proc.create_config()
    quit_config.set_property("force", True)
    quit_proc.run(quit_config)
