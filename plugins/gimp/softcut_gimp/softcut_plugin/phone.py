"""Phone cut & paste: GIMP's side of it, one PDB procedure that receives phone cut-outs.

``softcut-phone-link`` (Layer › Receive Phone Cut-outs) keeps an editor connection to
the engine for the image it runs on, until it is cancelled, the image is closed, or the
given number of cut-outs or seconds is reached. It answers the engine's
``canvas_snapshot`` with the image as displayed and ``place_layer`` with a new top layer
at the engine's position (centred when it has none), one undo group per cut-out. Each
delivery is placed once: the ids are kept in GIMP's folder.
"""

from __future__ import annotations

import json
import os
import time

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import GLib, GObject, Gimp  # noqa: E402

from . import config, document  # noqa: E402
from .client import ClientError, EngineUnavailable, SoftcutClient  # noqa: E402
from .protocol import messages  # noqa: E402

NAME = "softcut-phone-link"
POLL_S = 0.25
DELIVERED_FILE = "softcut-phone-delivered.json"
DELIVERED_KEPT = 500
READWRITE = GObject.ParamFlags.READWRITE


def create(plugin: Gimp.PlugIn) -> Gimp.Procedure:
    procedure = Gimp.ImageProcedure.new(plugin, NAME, Gimp.PDBProcType.PLUGIN, _run, None)
    procedure.set_image_types("*")
    procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE | Gimp.ProcedureSensitivityMask.DRAWABLES
                                   | Gimp.ProcedureSensitivityMask.NO_DRAWABLES)
    procedure.set_menu_label("Receive Phone Cut-outs (Softcut)")
    procedure.add_menu_path("<Image>/Layer/")
    blurb = "Put cut-outs photographed with a phone into this image, where the phone points"
    procedure.set_documentation(blurb, blurb + ". Needs `softcut serve --lan`; cancel the progress to stop.", NAME)
    procedure.set_attribution("Softcut", "Softcut", "2026")
    procedure.add_string_argument("engine-host", "Engine host", "Where `softcut serve` listens",
                                  config.DEFAULT_HOST, READWRITE)
    procedure.add_int_argument("engine-port", "Engine port", "The engine's port", 1, 65535, config.DEFAULT_PORT,
                               READWRITE)
    procedure.add_int_argument("max-deliveries", "Cut-outs", "Stop after this many cut-outs (0: keep going)",
                               0, 100000, 0, READWRITE)
    procedure.add_double_argument("timeout", "Seconds", "Stop after this many seconds (0: keep going)",
                                  0.0, 1e7, 0.0, READWRITE)
    return procedure


def _delivered_path() -> str:
    return os.path.join(Gimp.directory(), DELIVERED_FILE)


def _delivered() -> list:
    try:
        with open(_delivered_path(), encoding="utf-8") as f:
            ids = json.load(f)
    except (OSError, ValueError):
        return []
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def _remember(delivery: str) -> None:
    ids = [i for i in _delivered() if i != delivery] + [delivery]
    with open(_delivered_path(), "w", encoding="utf-8") as f:
        json.dump(ids[-DELIVERED_KEPT:], f)


class Link:
    """The answers for one image; ``placed`` counts the cut-outs put in."""

    def __init__(self, image) -> None:
        self.image = image
        self.placed = 0

    def snapshot(self, request) -> dict:
        if not self.image.is_valid():
            raise LookupError("the image was closed in GIMP")
        width, height, rgb = document.composite_rgb(self.image, int(request.fields.get("max_side", 1600)))
        return {"document": {"width": self.image.get_width(), "height": self.image.get_height()}, "view": None,
                "buffers": [messages.buffer("image", rgb, format="rgb8", width=width, height=height)]}

    def place(self, request) -> dict:
        fields = request.fields
        delivery = str(fields["delivery"])
        if delivery in _delivered():
            return {"delivery": delivery, "ok": True, "message": "already placed"}
        if not self.image.is_valid():
            return {"delivery": delivery, "ok": False, "message": "the image was closed in GIMP"}
        spec, data = request.buffer("cutout")
        if spec.format != "rgba8":
            return {"delivery": delivery, "ok": False, "message": f"expected an rgba8 cut-out; got {spec.format}"}
        x, y = fields.get("x"), fields.get("y")
        if x is None or y is None:
            x, y = (self.image.get_width() - spec.width) // 2, (self.image.get_height() - spec.height) // 2
        name = str(fields.get("name") or "Phone cut-out")
        self.image.undo_group_start()
        try:
            document.add_pixel_layer(self.image, name, (x, y, spec.width, spec.height), data)
        finally:
            self.image.undo_group_end()
            Gimp.displays_flush()
        _remember(delivery)
        self.placed += 1
        return {"delivery": delivery, "ok": True, "message": f"placed at ({x}, {y})"}


def _run(procedure, run_mode, image, drawables, settings, data):
    get = settings.get_property
    host, port = get("engine-host") or config.DEFAULT_HOST, int(get("engine-port"))
    limit, timeout = int(get("max-deliveries")), float(get("timeout"))
    link = Link(image)
    client = SoftcutClient(host, port, name="softcut-gimp", timeout=60.0, cutout_format="rgba8",
                           accepts={"canvas_snapshot": link.snapshot, "place_layer": link.place})
    Gimp.progress_init("Softcut: receiving phone cut-outs (cancel to stop)")
    started = time.monotonic()
    try:
        client.connect()
        while image.is_valid():
            client.poll(POLL_S)
            Gimp.progress_pulse()
            if (limit and link.placed >= limit) or (timeout and time.monotonic() - started >= timeout):
                break
    except EngineUnavailable as exc:
        return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(
            f"Softcut: the engine is not reachable ({exc}); start it with `softcut serve --lan`"))
    except ClientError as exc:
        return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(f"Softcut: {exc}"))
    finally:
        client.close()
        Gimp.progress_end()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)
