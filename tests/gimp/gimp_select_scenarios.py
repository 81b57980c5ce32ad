"""Runs inside a real GIMP 3 (called by scenarios.py): Select Subject, Remove Background, Cut Out
and Refine Selection on images of each precision and mode, an offset layer, the merged image and
several layers picked; edge and model arguments; the dialog (OK, Cancel); the refusals; and, last,
2 MP jobs whose engine, or whose plug-in process, is killed mid-job."""

from gi.repository import Gimp
from gimp_scenario_kit import (
    COLOUR,
    SPEC,
    H,
    W,
    add_layer,
    dump,
    new_image,
    read,
    scenario,
)


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


def run_select_scenarios():
    """The scenarios on small images, in order."""
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


def run_big_job_scenarios():
    """The 2 MP jobs the tests act on mid-way: the engine killed, the plug-in process killed."""
    big = SPEC["big_size"]

    def big_image():
        image = new_image(size=big)
        layer = add_layer(image, "big.rgba", big)
        return image, [layer], None
    scenario("engine_dies", "softcut-cut-out", big_image, engine_port=SPEC["kill_port"], quality="best")
    scenario("plugin_killed", "softcut-select-subject", big_image, engine_port=SPEC["abandoned_port"],
             quality="best")

