"""Runs inside a real GIMP 3 (called by scenarios.py): Soft Segment Layers on the visible image (two
layers, the top one a veil), on a linear float image, on a transparent one, from its dialog, and with
no engine."""

from gi.repository import Gimp
from gimp_scenario_kit import (
    SPEC,
    add_layer,
    dump,
    new_image,
    read_canvas,
    scenario,
    shown_alone,
)


def run_segments_scenarios():
    """Soft Segment Layers on the visible image (two layers, the top one a veil), on a linear float
    image, from its dialog, and with no engine. The images are of the spec's segments_size (smaller than
    the other scenarios': the engine's segmentation costs grow steeply with the pixels)."""
    size = tuple(SPEC["segments_size"])

    def merged(precision=Gimp.Precision.U8_NON_LINEAR, name="segments", transparent=False):
        def make():
            image = new_image(precision=precision, size=size)
            if transparent:  # a layer that leaves a transparent border around it
                small = tuple(SPEC["segments_small"])
                ground = add_layer(image, "seg_small.rgba", small, name="ground",
                                   offset=((size[0] - small[0]) // 2, (size[1] - small[1]) // 2))
            else:
                ground = add_layer(image, "seg_disc.rgba", size, name="ground")
            add_layer(image, "seg_veil.rgba", (size[0] // 2, size[1]), name="veil")
            copy = image.duplicate()  # the visible image, read as the plug-in reads it
            flat = copy.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
            dump(name, "composite", read_canvas(flat, size))
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

