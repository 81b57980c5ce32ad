"""Softcut's menu actions and the one controller they share.

The selection actions sit in the Select menu (Object into the selection; Add to Subject and
Subtract from Subject into the kind of output the result they correct went to) (Select Subject with Clean Plate… asks which
plate and which output: :mod:`.plate_dialog`); Soft Segment Layers… (which makes layers, not
a selection) in Tools › Scripts, and asks how many layers.
"""

from __future__ import annotations

from krita import Extension, Krita
from PyQt5.QtWidgets import QInputDialog

from .animation_dialog import select_subject_in_animation
from .controller import Controller
from .dialogs import main_window
from .plate_dialog import select_subject_with_clean_plate
from .wire.protocol.schemas import SEGMENTS_MAX, SEGMENTS_MIN


def ask_segment_count(ctl: Controller) -> int | None:
    """The number of layers from a small dialog (the docker's count first), or None when cancelled."""
    count, ok = QInputDialog.getInt(main_window(), "Soft Segment Layers", "Number of layers:", ctl.segment_count,
                                    SEGMENTS_MIN, SEGMENTS_MAX, 1)
    return count if ok else None


def soft_segment_layers(ctl: Controller) -> bool:
    """The menu's Soft Segment Layers…: ask for the count (remembered for the docker), then run."""
    if Krita.instance().activeDocument() is None:
        return ctl.soft_segments()  # says "open an image first"
    count = ask_segment_count(ctl)
    if count is None:
        return False
    ctl.segment_count = count
    return ctl.soft_segments(count)


# (action id, menu text, menu, what it runs)
ACTIONS = (
    ("softcut_select_subject", "Select Subject (Softcut)", "select", lambda ctl: ctl.select_subject("selection")),
    ("softcut_remove_background", "Remove Background (Softcut)", "select", lambda ctl: ctl.select_subject("mask")),
    ("softcut_cut_out", "Cut Out to New Layer (Softcut)", "select", lambda ctl: ctl.select_subject("layer")),
    ("softcut_select_subject_plate", "Select Subject with Clean Plate (Softcut)…", "select",
     select_subject_with_clean_plate),
    ("softcut_select_subject_animation", "Select Subject in Animation (Softcut)…", "select",
     select_subject_in_animation),
    ("softcut_refine_selection", "Refine Selection (Softcut)", "select", lambda ctl: ctl.refine_selection()),
    ("softcut_select_object", "Object (Softcut)", "select", lambda ctl: ctl.select_object("object")),
    ("softcut_add_to_subject", "Add to Subject (Softcut)", "select", lambda ctl: ctl.select_object("add")),
    ("softcut_subtract_from_subject", "Subtract from Subject (Softcut)", "select",
     lambda ctl: ctl.select_object("subtract")),
    ("softcut_soft_segments", "Soft Segment Layers (Softcut)…", "tools/scripts", soft_segment_layers),
)


class SoftcutExtension(Extension):
    def __init__(self, parent, controller_factory=Controller) -> None:
        super().__init__(parent)
        self._factory = controller_factory
        self.controller: Controller | None = None

    def setup(self) -> None:
        if self.controller is None:
            self.controller = self._factory(self)

    def createActions(self, window) -> None:
        for action_id, text, menu, run in ACTIONS:
            action = window.createAction(action_id, text, menu)
            action.triggered.connect(lambda checked=False, run=run: run(self.controller))
