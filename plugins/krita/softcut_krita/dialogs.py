"""What Softcut's small dialogs share: the window they open over, their OK and Cancel, a choice box."""

from __future__ import annotations

from krita import Krita
from PyQt5.QtWidgets import QComboBox, QDialogButtonBox


def main_window():
    """Krita's active main window (the dialogs' parent), or None."""
    window = Krita.instance().activeWindow()
    return window.qwindow() if window is not None else None


def ok_cancel(dialog) -> QDialogButtonBox:
    """OK and Cancel buttons that accept and reject ``dialog``."""
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def choice_box(choices, current: str) -> QComboBox:
    """A combo box of ``choices`` ((key, label) pairs; the key is the item's data), ``current`` chosen
    (the first when it is not a key)."""
    box = QComboBox()
    for key, label in choices:
        box.addItem(label, key)
    box.setCurrentIndex(max(box.findData(current), 0))
    return box
