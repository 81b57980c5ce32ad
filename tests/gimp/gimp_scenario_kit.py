"""Runs inside a real GIMP 3 (imported by scenarios.py): what every GIMP scenario is built from.

Importing it reads ``$SOFTCUT_GIMP_OUT/spec.json`` (where the engines are, which images to use).
Then: images and layers made from the input files, GIMP's pixels read back through GEGL, a digest
of everything a procedure could change, Ctrl+Z / Ctrl+Y pressed on the image's window with xdotool,
a procedure's dialog answered, and :func:`scenario`: build, call a Softcut procedure through the PDB
exactly as a script would, write what GIMP then holds to ``$SOFTCUT_GIMP_OUT`` (``NAME.json``:
facts, ``NAME.WHAT.bin``: raw pixels), undo, redo.
"""

import hashlib
import json
import os
import subprocess
import time

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

OUT = os.environ["SOFTCUT_GIMP_OUT"]
SPEC = json.load(open(os.path.join(OUT, "spec.json")))
W, H = SPEC["width"], SPEC["height"]
PDB = Gimp.get_pdb()
COLOUR, COVERAGE = "R'G'B'A u8", "Y u8"
RECORD = "softcut-last-result"  # the parasite holding an image's last Softcut result (Add and Subtract correct it)
# OUT/timings.json: when the scenarios began (epoch seconds: the host has GIMP's launch) and the seconds of
# each scenario (set-up included: the time since the one before)
TIMINGS = {"first_scenario_at": time.time(), "scenarios": {}, "calls": {}}  # calls: the procedure's own seconds
_last_scenario = [time.monotonic()]


def note_time(name, call_seconds):
    now = time.monotonic()
    TIMINGS["scenarios"][name] = round(now - _last_scenario[0], 2)
    TIMINGS["calls"][name] = call_seconds
    _last_scenario[0] = now
    with open(os.path.join(OUT, "timings.json"), "w") as f:
        json.dump(TIMINGS, f, indent=1)


def rect(x, y, w, h):
    return Gegl.Rectangle.new(x, y, w, h)


def read(drawable, fmt, area=None, abyss=Gegl.AbyssPolicy.CLAMP):
    area = area or (0, 0, drawable.get_width(), drawable.get_height())
    return bytes(drawable.get_buffer().get(rect(*area), 1.0, fmt, abyss))


def read_canvas(flat, size=(W, H)):
    """A merged layer's pixels over the canvas (rgba8, of ``size``), transparent where it does not reach."""
    x, y = offsets(flat)
    return read(flat, COLOUR, (-x, -y, *size), Gegl.AbyssPolicy.NONE)


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
    """A digest of everything a procedure could change: layers (tree, pixels, masks), channels, the record
    of the last Softcut result, selection, mode."""
    def item(layer):
        mask = layer.get_mask()
        entry = {"name": layer.get_name(), "offsets": offsets(layer), "size": [layer.get_width(), layer.get_height()],
                 "pixels": hashlib.sha1(read(layer, COLOUR)).hexdigest(),
                 "mask": hashlib.sha1(read(mask, COVERAGE)).hexdigest() if mask else None}
        if layer.is_group_layer():
            entry["children"] = [item(child) for child in layer.get_children()]
        return entry

    def channel(item):
        return {"name": item.get_name(), "visible": item.get_visible(),
                "pixels": hashlib.sha1(read(item, COVERAGE)).hexdigest()}

    record = image.get_parasite(RECORD)
    return {"layers": [item(layer) for layer in image.get_layers()],
            "channels": [channel(c) for c in image.get_channels()],
            "record": None if record is None else bytes(record.get_data()).decode("utf-8"),
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
        flat = copy.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
        return read_canvas(flat, (copy.get_width(), copy.get_height()))
    finally:
        copy.delete()


def xdotool(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=20).stdout


def press(image, keys, before):
    """Press ``keys`` on the image's window; wait until its state leaves ``before`` (≤ 10 s), then until it
    stays put."""
    deadline = time.time() + 15  # a new image's window may not be mapped yet
    windows = []
    while not windows and time.time() < deadline:
        windows = xdotool("search", "--name", r"\]-%d\.0 " % image.get_id()).split()
        if not windows:
            time.sleep(0.2)
    if not windows:
        raise RuntimeError(f"no window for image {image.get_id()}")
    xdotool("windowfocus", "--sync", windows[0])  # returns once the window has the focus
    time.sleep(0.05)
    xdotool("key", keys)
    deadline = time.time() + 10
    while time.time() < deadline:
        now = state(image)
        if now != before:  # let a partial undo finish, if it were partial: the same state 0.15 s later
            settled = time.time() + 5
            while time.time() < settled:
                time.sleep(0.15)
                now, then = state(image), now
                if now == then:
                    break
            return now
        time.sleep(0.05)
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
    """How many messages the request log (gimp_scenario_run's relay to the engine) holds so far."""
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
    note_time(name, facts["run"]["seconds"])
