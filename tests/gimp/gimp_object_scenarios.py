"""Runs inside a real GIMP 3 (called by scenarios.py): Object Selection's procedures on two red discs
(objects.rgba; editor_files.OBJECT_*). Object with the box a rectangular selection gives and the
clicks of the path “Softcut points” (while another path is the selected one), Object with the selected
path alone, and through its dialog; Add to Subject and Subtract from Subject correcting the image's
last result, made by Object or Select Subject just before, into the selection, a mask rewritten in
place and a cut-out layer rewritten in place; and Add to Subject when the engine no longer holds the
last result (it was made by another engine). Refusals: gimp_object_refusals.py."""

import json

from gi.repository import Gimp
from gimp_scenario_kit import (
    COLOUR,
    COVERAGE,
    RECORD,
    SPEC,
    H,
    W,
    add_layer,
    call,
    dump,
    new_image,
    read,
    scenario,
)

BOX = SPEC["object_box"]
CLICKS = SPEC["object_clicks"]
MATTE_CHANNEL = "Softcut matte"  # the hidden channel holding a selection's matte (the plug-in's last_result)
CUT_OUT = "Softcut cut-out"


def objects_image(name="photo"):
    """A new image holding the objects scene in one layer (``name``); (image, layer)."""
    image = new_image()
    return image, add_layer(image, "objects.rgba", (W, H), name=name)


def add_path(image, name, strokes):
    """A new path ``name`` (selected: the last one inserted) with one stroke per list of (x, y) anchors."""
    path = Gimp.Path.new(image, name)
    image.insert_path(path, None, 0)
    for anchors in strokes:
        stroke = path.bezier_stroke_new_moveto(*anchors[0])
        for x, y in anchors[1:]:
            path.bezier_stroke_lineto(stroke, x, y)
    return path


def select_box(image, box):
    """A rectangular selection whose bounds are ``box`` (x0, y0, x1, y1)."""
    image.select_rectangle(Gimp.ChannelOps.REPLACE, box[0], box[1], box[2] - box[0], box[3] - box[1])


def select_rough(image, rect):
    image.select_rectangle(Gimp.ChannelOps.REPLACE, *rect)


def click_strokes():
    """The clicks as strokes: the first (positive) on its own, the second (negative) on its own."""
    return [[tuple(point[:2])] for point in CLICKS]


def marked():
    """Object's prompts: the box's rectangle, the path “Softcut points”, and another path (“Outline”,
    anchors on the left disc) that is the selected one: the named path wins."""
    image, layer = objects_image()
    select_box(image, BOX)
    add_path(image, "Softcut points", click_strokes())
    add_path(image, "Outline", [[tuple(SPEC["object_discs"][0])]])
    return image, [layer], layer


def selected_path_only():
    """No selection; the clicks on the selected path, which has another name."""
    image, layer = objects_image()
    Gimp.Selection.none(image)
    add_path(image, "Clicks", click_strokes())
    return image, [layer], layer


def kept(name):
    """A ``keep`` hook: the record of the last result, the matte channel and a cut-out layer as GIMP holds them."""
    def keep(image, facts):
        record = image.get_parasite(RECORD)
        facts["record"] = None if record is None else json.loads(bytes(record.get_data()).decode("utf-8"))
        channel = image.get_channel_by_name(MATTE_CHANNEL)
        facts["channel_visible"] = None if channel is None else channel.get_visible()
        if channel is not None:
            dump(name, "channel", read(channel, COVERAGE))
        cutouts = [layer for layer in image.get_layers() if layer.get_name() == CUT_OUT]
        facts["cutouts"] = len(cutouts)
        if cutouts:
            dump(name, "cutout", read(cutouts[0], COLOUR))
            dump(name, "cutout_mask", read(cutouts[0].get_mask(), COVERAGE))
    return keep


def corrected(name, first, rough, *, dump_previous=False, **first_args):
    """make(): the objects image, an earlier action (``first``, with ``first_args``) that leaves the
    last result, then the rough selection ``rough`` (x, y, w, h); the layers picked as GIMP leaves them."""
    def make():
        image, layer = objects_image()
        select_box(image, BOX)
        made = call(f"{name}-first", first, image, [layer], **first_args)
        if not made["ok"]:
            raise RuntimeError(f"{name}: the earlier {first} failed: {made['message']}")
        if dump_previous:  # the matte the plug-in kept, which goes as pixels when the engine lost the result
            dump(name, "previous", read(image.get_channel_by_name(MATTE_CHANNEL), COVERAGE))
        select_rough(image, rough)
        picked = image.get_selected_drawables()  # as GIMP leaves them after the earlier action
        dump(name, "picked", json.dumps([d.get_name() for d in picked]).encode("utf-8"))
        return image, picked, layer
    return make


def run_object_scenarios():
    """Object, Add to Subject and Subtract from Subject, in order (the first is the first select_object
    on the objects image the engine sees: its key, then its pixels)."""
    add, subtract = SPEC["add_rough"], SPEC["subtract_rough"]
    scenario("object_box_points", "softcut-select-object", marked, user_edit=False, keep=kept("object_box_points"))
    scenario("object_selected_path", "softcut-select-object", selected_path_only, user_edit=False, output="mask",
             keep=kept("object_selected_path"))
    scenario("object_dialog", "softcut-select-object", marked, user_edit=False,
             dialog=("Object (Softcut)", "Return"))
    scenario("add_to_subject", "softcut-add-to-subject",
             corrected("add_to_subject", "softcut-select-object", add), user_edit=False, keep=kept("add_to_subject"))
    scenario("subtract_from_subject", "softcut-subtract-from-subject",
             corrected("subtract_from_subject", "softcut-select-subject", subtract), user_edit=False,
             keep=kept("subtract_from_subject"))
    scenario("add_into_mask", "softcut-add-to-subject",
             corrected("add_into_mask", "softcut-select-object", add, output="mask"), user_edit=False, output="mask",
             keep=kept("add_into_mask"))
    scenario("add_into_layer", "softcut-add-to-subject",
             corrected("add_into_layer", "softcut-select-object", add, output="layer"), user_edit=False,
             output="layer", keep=kept("add_into_layer"))
    scenario("add_previous_lost", "softcut-add-to-subject",
             corrected("add_previous_lost", "softcut-select-object", add, dump_previous=True,
                       engine_port=SPEC["other_port"]),
             user_edit=False, keep=kept("add_previous_lost"))
