"""Select Subject with Clean Plate…: a small dialog asks for the plate and the output, then the run.

Asking (:func:`ask_plate`, the dialog) and running (:meth:`.Controller.select_subject_with_plate`)
are apart, so that the run can be driven without clicking. The dialog offers the document's
other paint layers (first: one whose name holds "plate", else the one just below the active
layer) or an image file, and the outputs of Select Subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from krita import Krita
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout,
                             QLabel, QLineEdit, QPushButton, QRadioButton, QVBoxLayout)

from . import plate
from .controller import OUTPUT_LABELS, SETTINGS, Controller
from .dialogs import choice_box, main_window, ok_cancel

TITLE = "Select Subject with Clean Plate"
EXPLANATION = ("The clean plate is a photo of the same scene without the subject, taken from about the same "
               "spot (any size). Softcut aligns it to the image and keeps what differs.")
NO_LAYER = "This document has no other paint layer to use as the plate: choose an image file."


@dataclass(frozen=True)
class PlateChoice:
    """What the dialog was answered with: the output and either a layer (its uniqueId) or a file."""

    output: str
    layer_id: Any = None
    file: str | None = None


class PlateDialog(QDialog):
    """Which clean plate (a layer of ``layers``, top first, ``default`` chosen; or a file) and which output."""

    def __init__(self, layers: list, default, output: str, last_file: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self._layer_ids = [node.uniqueId() for node in layers]
        layout = QVBoxLayout(self)
        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        layout.addWidget(explanation)

        grid = QGridLayout()
        self.layer_button = QRadioButton("Layer:")
        self.layers = QComboBox()
        for node in layers:
            bounds = node.bounds()
            self.layers.addItem(node.name() + ("" if node.visible() else " (hidden)"))
            self.layers.setItemData(self.layers.count() - 1, f"{bounds.width()} x {bounds.height()} px",
                                    Qt.ToolTipRole)
        if default is not None:
            self.layers.setCurrentIndex(self._layer_ids.index(default.uniqueId()))
        self.file_button = QRadioButton("Image file:")
        self.path = QLineEdit(last_file)
        self.path.setPlaceholderText("a PNG or JPEG photo of the scene without the subject")
        self.browse = QPushButton("Browse…")
        files = QHBoxLayout()
        files.addWidget(self.path)
        files.addWidget(self.browse)
        grid.addWidget(self.layer_button, 0, 0)
        grid.addWidget(self.layers, 0, 1)
        grid.addWidget(self.file_button, 1, 0)
        grid.addLayout(files, 1, 1)
        layout.addLayout(grid)
        self.note = QLabel("" if layers else NO_LAYER)
        self.note.setWordWrap(True)
        self.note.setVisible(not layers)
        layout.addWidget(self.note)

        form = QFormLayout()
        self.output = choice_box(OUTPUT_LABELS, output)
        form.addRow("Output", self.output)
        layout.addLayout(form)

        self.buttons = ok_cancel(self)
        layout.addWidget(self.buttons)

        self.layer_button.setEnabled(bool(layers))
        self.layers.setEnabled(bool(layers))
        (self.layer_button if layers else self.file_button).setChecked(True)
        self.layer_button.toggled.connect(self._update)
        self.file_button.toggled.connect(self._update)
        self.layers.activated.connect(lambda _: self.layer_button.setChecked(True))
        self.path.textEdited.connect(lambda _: self.file_button.setChecked(True))
        self.path.textChanged.connect(self._update)
        self.browse.clicked.connect(self._browse)
        self._update()

    def choice(self) -> PlateChoice:
        """The plate and output as they stand."""
        output = self.output.currentData()
        if self.file_button.isChecked():
            return PlateChoice(output, file=self.path.text().strip())
        return PlateChoice(output, layer_id=self._layer_ids[self.layers.currentIndex()])

    def _browse(self) -> None:
        start = self.path.text().strip()
        start = str(Path(start).parent) if start else ""
        path, _ = QFileDialog.getOpenFileName(self, "Clean plate", start, plate.FILE_FILTER)
        if path:
            self.path.setText(path)
            self.file_button.setChecked(True)

    def _update(self) -> None:
        ready = bool(self.path.text().strip()) if self.file_button.isChecked() else self.layers.count() > 0
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(ready)


def ask_plate(ctl: Controller, doc, output: str | None = None) -> PlateChoice | None:
    """The clean plate and output from :class:`PlateDialog` (``output`` first, else the last one used),
    or None when cancelled. The output and file are remembered in Krita's settings."""
    app = Krita.instance()
    layers, default = ctl.plate_layers(doc)
    output = output or app.readSetting(SETTINGS, "plate_output", "selection")
    dialog = PlateDialog(layers, default, output, app.readSetting(SETTINGS, "plate_file", ""), main_window())
    if dialog.exec_() != QDialog.Accepted:
        return None
    choice = dialog.choice()
    app.writeSetting(SETTINGS, "plate_output", choice.output)
    if choice.file:
        app.writeSetting(SETTINGS, "plate_file", choice.file)
    return choice


def select_subject_with_clean_plate(ctl: Controller, output: str | None = None,
                                    edges: dict[str, float] | None = None) -> bool:
    """The menu's (and the docker's) Select Subject with Clean Plate…: ask for the plate, then run."""
    doc = Krita.instance().activeDocument()
    if doc is None or ctl.worker.busy:
        return ctl.select_subject_with_plate(output or "selection")  # says why nothing can run
    choice = ask_plate(ctl, doc, output)
    if choice is None:
        return False
    return ctl.select_subject_with_plate(choice.output, plate_layer=choice.layer_id, plate_file=choice.file,
                                         edges=edges)
