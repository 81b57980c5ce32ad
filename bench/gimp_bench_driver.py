"""Runs inside GIMP 3 for ``bench_gimp.py``: times each Softcut procedure on fresh images.

Executed by GIMP's ``python-fu-eval``; reads ``spec.json`` and writes
``timings.json`` in ``$SOFTCUT_GIMP_OUT``.
"""

import json
import os
import time
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

OUT = os.environ["SOFTCUT_GIMP_OUT"]
SPEC = json.load(open(os.path.join(OUT, "spec.json")))
PDB = Gimp.get_pdb()


def image_from(path, width, height):
    image = Gimp.Image.new(width, height, Gimp.ImageBaseType.RGB)
    layer = Gimp.Layer.new(image, "photo", width, height, Gimp.ImageType.RGBA_IMAGE, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(layer, None, 0)
    with open(path, "rb") as f:
        layer.get_buffer().set(Gegl.Rectangle.new(0, 0, width, height), "R'G'B'A u8", f.read())
    return image, layer


def timed(procedure, image, layer):
    proc = PDB.lookup_procedure(procedure)
    config = proc.create_config()
    config.set_property("image", image)
    config.set_core_object_array("drawables", [layer])
    config.set_property("engine-port", SPEC["port"])
    config.set_property("quality", SPEC["quality"])
    start = time.perf_counter()
    values = proc.run(config)
    seconds = time.perf_counter() - start
    if values.index(0) != Gimp.PDBStatusType.SUCCESS:
        raise RuntimeError(f"{procedure}: {PDB.get_last_error()}")
    return seconds


try:
    timings = {}
    for procedure, files in SPEC["runs"].items():
        timings[procedure] = []
        for path in files:
            image, layer = image_from(path, SPEC["width"], SPEC["height"])
            timings[procedure].append(timed(procedure, image, layer))
            image.delete()
    with open(os.path.join(OUT, "timings.json"), "w") as f:
        json.dump(timings, f)
except Exception:
    with open(os.path.join(OUT, "driver_error.txt"), "w") as f:
        f.write(traceback.format_exc())
finally:
    quit_proc = PDB.lookup_procedure("gimp-quit")
    quit_config = quit_proc.create_config()
    quit_config.set_property("force", True)
    quit_proc.run(quit_config)
