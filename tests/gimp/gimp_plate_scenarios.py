"""Runs inside a real GIMP 3 (called by scenarios.py): Select Subject with Clean Plate, the plate a
layer of the image or of another one, or a file; a plate of another scene; the refusals; the dialog's
guess of the plate layer."""

import os

from gi.repository import Gio
from gimp_scenario_kit import (
    COLOUR,
    OUT,
    SPEC,
    add_layer,
    dump,
    new_image,
    read,
    scenario,
)


def run_plate_scenarios():
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

