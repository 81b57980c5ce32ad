"""Softcut's menu actions (Select menu) and the one controller they share."""

from __future__ import annotations

from krita import Extension

from .controller import Controller

# (action id, menu text, what it runs)
ACTIONS = (
    ("softcut_select_subject", "Select Subject (Softcut)", lambda ctl: ctl.select_subject("selection")),
    ("softcut_remove_background", "Remove Background (Softcut)", lambda ctl: ctl.select_subject("mask")),
    ("softcut_cut_out", "Cut Out to New Layer (Softcut)", lambda ctl: ctl.select_subject("layer")),
    ("softcut_refine_selection", "Refine Selection (Softcut)", lambda ctl: ctl.refine_selection()),
)
MENU = "select"


class SoftcutExtension(Extension):
    def __init__(self, parent, controller_factory=Controller) -> None:
        super().__init__(parent)
        self._factory = controller_factory
        self.controller: Controller | None = None

    def setup(self) -> None:
        if self.controller is None:
            self.controller = self._factory(self)

    def createActions(self, window) -> None:
        for action_id, text, run in ACTIONS:
            action = window.createAction(action_id, text, MENU)
            action.triggered.connect(lambda checked=False, run=run: run(self.controller))
