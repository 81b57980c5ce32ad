"""Select Subject in Animation…: a small dialog asks for the output and the quality, then the run.

Asking (:class:`AnimationDialog`) and running (:meth:`.Controller.select_subject_in_animation`) are
apart, so that the run can be driven without clicking.
"""

from __future__ import annotations

from krita import Krita
from PyQt5.QtWidgets import QDialog, QFormLayout, QLabel, QVBoxLayout

from .controller import ANIMATION_OUTPUTS, SETTINGS, Controller
from .dialogs import choice_box, main_window, ok_cancel

TITLE = "Select Subject in Animation"
EXPLANATION = ("Softcut reads every keyframe of the active layer inside the playback range, cuts out the "
               "subject of each (steadily from frame to frame) and puts the results at the same times. "
               "One undo step.")
QUALITIES = (("fast", "Fast"), ("best", "Best edges"))


class AnimationDialog(QDialog):
    """Which output (``output`` first: the animated mask by default) and which quality."""

    def __init__(self, output: str = "mask", refine: str = "fast", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        layout = QVBoxLayout(self)
        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        layout.addWidget(explanation)
        form = QFormLayout()
        self.output = choice_box(ANIMATION_OUTPUTS, output)
        self.quality = choice_box(QUALITIES, refine)
        form.addRow("Output", self.output)
        form.addRow("Quality", self.quality)
        layout.addLayout(form)
        self.buttons = ok_cancel(self)
        layout.addWidget(self.buttons)


def select_subject_in_animation(ctl: Controller) -> bool:
    """The menu's (and the docker's) Select Subject in Animation…: ask, then run. The output is
    remembered; the quality offered first is the docker's."""
    app = Krita.instance()
    if app.activeDocument() is None or ctl.worker.busy:
        return ctl.select_subject_in_animation()  # says why nothing can run
    dialog = AnimationDialog(app.readSetting(SETTINGS, "animation_output", "mask"), ctl.refine_mode, main_window())
    if dialog.exec_() != QDialog.Accepted:
        return False
    output, refine = dialog.output.currentData(), dialog.quality.currentData()
    app.writeSetting(SETTINGS, "animation_output", output)
    return ctl.select_subject_in_animation(output, refine)
