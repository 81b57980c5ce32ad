"""Runs inside a real GIMP 3 (called by scenarios.py): Object Selection's refusals, each leaving the
image as it was: nothing marks an object, too many clicks, no earlier result to correct (none at all,
or on another layer), nothing or too faint a selection for a correction, a previous result the engine
lost whose matte channel is gone too, and no engine."""

from gi.repository import Gimp
from gimp_object_scenarios import (
    BOX,
    MATTE_CHANNEL,
    add_path,
    corrected,
    marked,
    objects_image,
    select_box,
    select_rough,
)
from gimp_scenario_kit import COVERAGE, SPEC, H, W, add_layer, scenario, write

TOO_MANY = 65  # one more click than a request may carry (wire.protocol.constants.OBJECT_POINTS_MAX)


def nothing_marked():
    image, layer = objects_image()
    Gimp.Selection.none(image)
    return image, [layer], layer


def too_many_clicks():
    image, layer = objects_image()
    select_box(image, BOX)
    add_path(image, "Softcut points", [[(10.0 + k, 10.0 + k % 7) for k in range(TOO_MANY)]])
    return image, [layer], layer


def no_previous():
    image, layer = objects_image()
    select_rough(image, SPEC["add_rough"])
    return image, [layer], layer


def then(make, change):
    """``make``, then ``change(image, layer)`` (the user's last step before the call)."""
    def made():
        image, drawables, layer = make()
        change(image, layer)
        return image, drawables, layer
    return made


def picked_other(make):
    """``make``, then another layer on top, picked: the last result was made from “photo”."""
    def made():
        image, _drawables, layer = make()
        other = add_layer(image, "objects.rgba", (W, layer.get_height()), name="other")
        image.set_selected_layers([other])
        return image, [other], layer
    return made


def run_object_refusals():
    """The refusals, in order; every one of them on a new image."""
    add = SPEC["add_rough"]
    first = "softcut-select-object"
    scenario("object_nothing_marked", "softcut-select-object", nothing_marked, user_edit=False)
    scenario("object_too_many_clicks", "softcut-select-object", too_many_clicks, user_edit=False)
    scenario("object_no_engine", "softcut-select-object", marked, user_edit=False, engine_port=SPEC["dead_port"])
    scenario("add_no_previous", "softcut-add-to-subject", no_previous, user_edit=False)
    scenario("add_nothing_selected", "softcut-add-to-subject",
             then(corrected("add_nothing_selected", first, add), lambda image, _: Gimp.Selection.none(image)),
             user_edit=False)
    scenario("add_faint_selection", "softcut-subtract-from-subject",
             then(corrected("add_faint_selection", first, add),
                  lambda image, _: write(image.get_selection(), COVERAGE, bytes([100]) * (W * H))),
             user_edit=False)
    scenario("add_other_layer", "softcut-add-to-subject", picked_other(corrected("add_other_layer", first, add)),
             user_edit=False)
    scenario("add_previous_gone", "softcut-add-to-subject",
             then(corrected("add_previous_gone", first, add, engine_port=SPEC["other_port"]),
                  lambda image, _: image.remove_channel(image.get_channel_by_name(MATTE_CHANNEL))),
             user_edit=False)
