"""Phone cut & paste: GIMP's side of it, one PDB procedure that receives phone cut-outs.

``softcut-phone-link`` (Layer › Receive Phone Cut-outs) keeps an editor connection to the engine
for the image it runs on (the answers: :class:`.wire.editor.PhoneAnswers`), until it is cancelled,
the image is closed, or the given number of cut-outs or seconds is reached. A cut-out becomes a new
top layer, one undo group; the delivery ids are kept in GIMP's folder.
"""

from __future__ import annotations

import os
import time

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import GLib, GObject, Gimp  # noqa: E402

from . import actions, document, procedures  # noqa: E402
from .wire.client import ClientError, EngineUnavailable  # noqa: E402
from .wire.editor import LAN_COMMAND, Deliveries, PhoneAnswers, not_reachable  # noqa: E402

NAME = "softcut-phone-link"
POLL_S = 0.25
DELIVERED_FILE = "softcut-phone-delivered.json"
READWRITE = GObject.ParamFlags.READWRITE


def create(plugin: Gimp.PlugIn) -> Gimp.Procedure:
    procedure = Gimp.ImageProcedure.new(plugin, NAME, Gimp.PDBProcType.PLUGIN, _run, None)
    procedure.set_image_types("*")
    procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE | Gimp.ProcedureSensitivityMask.DRAWABLES
                                   | Gimp.ProcedureSensitivityMask.NO_DRAWABLES)
    procedure.set_menu_label("Receive Phone Cut-outs (Softcut)")
    procedure.add_menu_path("<Image>/Layer/")
    blurb = "Put cut-outs photographed with a phone into this image, where the phone points"
    procedure.set_documentation(blurb, blurb + f". Needs `{LAN_COMMAND}`; cancel the progress to stop.", NAME)
    procedure.set_attribution("Softcut", "Softcut", "2026")
    procedures.add_engine_arguments(procedure)
    procedure.add_int_argument("max-deliveries", "Cut-outs", "Stop after this many cut-outs (0: keep going)",
                               0, 100000, 0, READWRITE)
    procedure.add_double_argument("timeout", "Seconds", "Stop after this many seconds (0: keep going)",
                                  0.0, 1e7, 0.0, READWRITE)
    return procedure


class Link:
    """The answers for one image (:attr:`answers`); ``placed`` counts the cut-outs put in."""

    def __init__(self, image) -> None:
        self.image = image
        self.placed = 0
        deliveries = Deliveries.in_file(os.path.join(Gimp.directory(), DELIVERED_FILE))  # kept in GIMP's folder
        self.answers = PhoneAnswers(deliveries, self._size, self._render, self._insert)

    def _size(self) -> tuple[int, int]:
        if not self.image.is_valid():
            raise LookupError("the image was closed in GIMP")
        return self.image.get_width(), self.image.get_height()

    def _render(self, width: int, height: int) -> tuple[int, int, bytes]:
        return width, height, document.composite_rgb(self.image, width, height)

    def _insert(self, name: str, x: int, y: int, width: int, height: int, rgba: bytes) -> None:
        self.image.undo_group_start()
        try:
            document.add_pixel_layer(self.image, name, (x, y, width, height), rgba)
        finally:
            self.image.undo_group_end()
            Gimp.displays_flush()
        self.placed += 1


def _run(procedure, run_mode, image, drawables, settings, data):
    get = settings.get_property
    engine = procedures.engine_address(settings)
    limit, timeout = int(get("max-deliveries")), float(get("timeout"))
    link = Link(image)
    client = link.answers.client(engine.host, engine.port, name=actions.CLIENT_NAME, timeout=60.0)
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
            f"Softcut: {not_reachable(exc)}; start it with `{LAN_COMMAND}`"))
    except ClientError as exc:
        return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(f"Softcut: {exc}"))
    finally:
        client.close()
        Gimp.progress_end()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)
