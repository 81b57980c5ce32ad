"""The Softcut docker: engine state, source and output, Select Subject (also with a clean plate), Object Selection
(Object, Add, Subtract), edge sliders,
soft segment layers, progress and cancel, the phone link."""

from __future__ import annotations

from krita import DockWidget, Krita
from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QPixmap
from PyQt5.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSlider,
                             QSpinBox, QVBoxLayout, QWidget)

from .animation_dialog import select_subject_in_animation
from .controller import OUTPUT_LABELS, SETTINGS, Controller
from .dialogs import choice_box
from .plate_dialog import select_subject_with_clean_plate
from .wire.protocol.schemas import SEGMENTS_MAX, SEGMENTS_MIN

# (engine name, label, slider range, slider step → value)
EDGE_SLIDERS = (
    ("smooth", "Smooth", (0, 100), 1.0),
    ("feather", "Feather (px)", (0, 500), 0.1),
    ("contrast", "Contrast (%)", (0, 100), 1.0),
    ("shift_edge", "Shift edge (%)", (-100, 100), 1.0),
)
# (kind, label, tool tip): the Object Selection buttons
OBJECT_BUTTONS = (
    ("object", "Object", ("The object inside the selection's bounds, picked by the shapes of the vector layers "
                          "'Softcut points' (on it) and 'Softcut negative points' (not on it)")),
    ("add", "Add", "Add to Subject: the selection, drawn roughly around a missed part, added to the last result"),
    ("subtract", "Subtract", ("Subtract from Subject: the selection, drawn roughly around a wrong part, taken "
                              "from the last result")),
)
LIVE_DELAY_MS = 150
QR_SIDE = 180  # pixels: the phone link's QR code in the docker


class SoftcutDocker(DockWidget):
    """Created by Krita for each window; all of them share the one :class:`Controller`."""

    controller: Controller | None = None  # set by the extension before Krita creates dockers

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Softcut")
        self.ctl = SoftcutDocker.controller
        root = QWidget(self)
        layout = QVBoxLayout(root)

        self.status = QLabel("not connected")
        self.status.setWordWrap(True)
        connect, start = QPushButton("Connect"), QPushButton("Start engine")
        connect.clicked.connect(lambda: self.ctl.connect_engine())
        start.clicked.connect(self.ctl.start_engine)
        row = QHBoxLayout()
        row.addWidget(connect)
        row.addWidget(start)
        layout.addWidget(self.status)
        layout.addLayout(row)

        form = QFormLayout()
        self.source = choice_box((("layer", "Active layer"), ("merged", "Merged image")),
                                 "merged" if self.ctl.merged else "layer")
        self.source.currentIndexChanged.connect(self._source_changed)
        self.output = choice_box(OUTPUT_LABELS, "selection")
        self.quality = choice_box((("best", "Best edges"), ("fast", "Fast")), self.ctl.refine_mode)
        self.quality.currentIndexChanged.connect(self._quality_changed)
        form.addRow("Source", self.source)
        form.addRow("Output", self.output)
        form.addRow("Quality", self.quality)
        self.model = QComboBox()
        self.model.setToolTip("The model that finds the subject (connect to list the engine's models)")
        self.model.currentIndexChanged.connect(self._model_changed)
        self._fill_models(self.ctl.models)
        form.addRow("Model", self.model)
        layout.addLayout(form)

        self.select = QPushButton("Select Subject")
        self.select.clicked.connect(lambda: self.ctl.select_subject(self.output.currentData(), self.edges()))
        self.refine = QPushButton("Refine Selection")
        self.refine.clicked.connect(lambda: self.ctl.refine_selection(self.edges()))
        row = QHBoxLayout()
        row.addWidget(self.select)
        row.addWidget(self.refine)
        layout.addLayout(row)
        self.objects = {}
        row = QHBoxLayout()
        for kind, label, tip in OBJECT_BUTTONS:
            button = QPushButton(label)
            button.setToolTip(tip)
            button.clicked.connect(lambda checked=False, kind=kind: self.ctl.select_object(
                kind, self.output.currentData(), self.edges()))
            self.objects[kind] = button
            row.addWidget(button)
        layout.addLayout(row)
        self.plate = QPushButton("Select Subject with Clean Plate…")
        self.plate.setToolTip("Select Subject helped by a photo of the scene without the subject (a layer or a file)")
        self.plate.clicked.connect(lambda: select_subject_with_clean_plate(self.ctl, self.output.currentData(),
                                                                           self.edges()))
        layout.addWidget(self.plate)
        self.animation = QPushButton("Select Subject in Animation…")
        self.animation.setToolTip("Every keyframe of the active animated layer in the playback range, into an animated "
                                  "mask or a new animated layer (one undo step)")
        self.animation.clicked.connect(lambda: select_subject_in_animation(self.ctl))
        layout.addWidget(self.animation)

        edges = QFormLayout()
        self.sliders: dict[str, tuple[QSlider, float]] = {}
        for name, label, (lo, hi), step in EDGE_SLIDERS:
            slider = QSlider(Qt.Horizontal)
            slider.setRange(lo, hi)
            slider.valueChanged.connect(self._edges_changed)
            self.sliders[name] = (slider, step)
            edges.addRow(label, slider)
        layout.addLayout(edges)
        self.live = QTimer(self)
        self.live.setSingleShot(True)
        self.live.setInterval(LIVE_DELAY_MS)
        self.live.timeout.connect(lambda: self.ctl.adjust_edges(self.edges()))

        self.segments = QPushButton("Soft Segment Layers")
        self.segments.setToolTip("The merged image as soft layers in a new group (each layer's colours under a mask)")
        self.segments.clicked.connect(lambda: self.ctl.soft_segments(self.segment_count.value()))
        self.segment_count = QSpinBox()
        self.segment_count.setRange(SEGMENTS_MIN, SEGMENTS_MAX)
        self.segment_count.setValue(self.ctl.segment_count)
        self.segment_count.setSuffix(" layers")
        self.segment_count.valueChanged.connect(self._segment_count_changed)
        row = QHBoxLayout()
        row.addWidget(self.segments)
        row.addWidget(self.segment_count)
        layout.addLayout(row)

        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self.ctl.cancel)
        row = QHBoxLayout()
        row.addWidget(self.bar)
        row.addWidget(self.cancel)
        layout.addLayout(row)
        self.phone = QPushButton("Paste from phone…")
        self.phone.clicked.connect(self.ctl.phone_link)
        layout.addWidget(self.phone)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignCenter)
        self.qr.hide()
        self.phone_url = QLabel("")
        self.phone_url.setWordWrap(True)
        self.phone_url.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.qr)
        layout.addWidget(self.phone_url)
        self.news = QLabel("")
        self.news.setWordWrap(True)
        layout.addWidget(self.news)
        layout.addStretch(1)
        self.setWidget(root)

        self.ctl.status.connect(self.status.setText)
        self.ctl.message.connect(self.news.setText)
        self.ctl.progress.connect(lambda fraction, stage: (self.bar.setValue(int(100 * fraction)),
                                                          self.bar.setFormat(f"{stage} %p%")))
        self.ctl.busy.connect(self._busy)
        self.ctl.phone_link_ready.connect(self._show_phone_link)
        self.ctl.segment_count_changed.connect(self.segment_count.setValue)
        self.ctl.models_changed.connect(self._fill_models)

    def edges(self) -> dict[str, float]:
        """The sliders' values, in the engine's units."""
        return {name: slider.value() * step for name, (slider, step) in self.sliders.items()}

    def _show_phone_link(self, url: str, png: bytes) -> None:
        pixmap = QPixmap()
        pixmap.loadFromData(png, "PNG")
        self.qr.setPixmap(pixmap.scaled(QR_SIDE, QR_SIDE, Qt.KeepAspectRatio, Qt.FastTransformation))
        self.qr.show()
        self.phone_url.setText(url)

    def canvasChanged(self, canvas) -> None:
        pass

    def _edges_changed(self) -> None:
        self.live.start()

    def _busy(self, busy: bool) -> None:
        self.cancel.setEnabled(busy)
        self.select.setEnabled(not busy)
        self.refine.setEnabled(not busy)
        self.plate.setEnabled(not busy)
        self.animation.setEnabled(not busy)
        self.segments.setEnabled(not busy)
        for button in self.objects.values():
            button.setEnabled(not busy)
        if not busy:
            self.bar.setValue(100)

    def _fill_models(self, choices: list) -> None:
        """The engine's models: present ones selectable, the default first; absent ones greyed, with a hint."""
        self.model.blockSignals(True)
        self.model.clear()
        if not choices:
            self.model.addItem("engine's default", None)
        for index, choice in enumerate(choices):
            self.model.addItem(choice.label, choice.name)
            self.model.setItemData(index, choice.hint, Qt.ToolTipRole)
            if not choice.enabled:
                self.model.model().item(index).setEnabled(False)
        current = self.model.findData(self.ctl.model)
        self.model.setCurrentIndex(max(current, 0))
        self.model.blockSignals(False)

    def _model_changed(self) -> None:
        name = self.model.currentData()
        if name is not None:
            self.ctl.chosen_model = name

    def _segment_count_changed(self, count: int) -> None:
        self.ctl.segment_count = count

    def _source_changed(self) -> None:
        self.ctl.merged = self.source.currentData() == "merged"
        Krita.instance().writeSetting(SETTINGS, "source", self.source.currentData())

    def _quality_changed(self) -> None:
        self.ctl.refine_mode = self.quality.currentData()
        Krita.instance().writeSetting(SETTINGS, "refine", self.ctl.refine_mode)
