"""Phone cut & paste: Krita's side of it (the answers themselves: :class:`.wire.editor.PhoneAnswers`).

A :class:`PhoneLink` keeps one editor connection to the engine and polls it from a QTimer on
Krita's GUI thread, where Krita's API may be used: the snapshot is the active document's
projection; a cut-out becomes a paint layer on top of it (one undo step, "Add Layer"), its
delivery id kept in Krita's settings. While no engine runs, the link tries again every few seconds.
"""

from __future__ import annotations

import logging

from krita import Krita
from PyQt5.QtCore import QObject, QTimer, pyqtSignal
from PyQt5.QtGui import QColor, QImage, QPainter

from . import document, pixels
from .wire.client import EngineUnavailable, SoftcutClient
from .wire.editor import Deliveries, PhoneAnswers

log = logging.getLogger(__name__)

POLL_MS = 200
RETRY_MS = 5000
LINK_TIMEOUT_S = 3.0
SETTINGS = "softcut"
DELIVERED_KEY = "phone_delivered"


def render(doc, width: int, height: int) -> tuple[int, int, bytes]:
    """``doc``'s composite on white, about ``width`` × ``height``: (width, height, rgb8) as made."""
    thumb = doc.thumbnail(width, height)
    canvas = QImage(thumb.width(), thumb.height(), QImage.Format_RGB888)
    canvas.fill(QColor(255, 255, 255))
    painter = QPainter(canvas)
    painter.drawImage(0, 0, thumb)
    painter.end()
    return canvas.width(), canvas.height(), pixels.qimage_bytes(canvas)


class PhoneLink(QObject):
    """The editor connection that receives phone cut-outs. Signal ``placed(str)``: news for the user."""

    placed = pyqtSignal(str)

    def __init__(self, host: str, port: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        app = Krita.instance()
        deliveries = Deliveries(lambda: app.readSetting(SETTINGS, DELIVERED_KEY, "[]"),
                                lambda text: app.writeSetting(SETTINGS, DELIVERED_KEY, text))
        self.answers = PhoneAnswers(deliveries, self._size, lambda w, h: render(self._document(), w, h), self._insert)
        self.client = self._client(host, port)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._poll)

    def start(self) -> None:
        """Connect now (or keep trying) and poll for the engine's requests."""
        self._timer.start(POLL_MS)
        self._poll()

    def configure(self, host: str, port: int) -> None:
        """Follow the controller to another engine."""
        if (host, port) != (self.client.host, self.client.port):
            self.client.close()
            self.client = self._client(host, port)

    def _client(self, host: str, port: int) -> SoftcutClient:
        # short: connecting happens on Krita's GUI thread, every few seconds while no engine answers
        return self.answers.client(host, port, name="softcut-krita", timeout=LINK_TIMEOUT_S)

    def _poll(self) -> None:
        try:
            self.client.poll(0.0)  # (re)connects first when the connection is not up
        except (EngineUnavailable, OSError) as exc:
            log.debug("phone link: %s", exc)
            self.client.close()
            self._timer.setInterval(RETRY_MS)
            return
        self._timer.setInterval(POLL_MS)

    # ── answers (on the GUI thread) ───────────────────────────────────────────

    @staticmethod
    def _document():
        doc = Krita.instance().activeDocument()
        if doc is None:
            raise LookupError("no document is open in Krita")
        return doc

    def _size(self) -> tuple[int, int]:
        doc = self._document()
        return doc.width(), doc.height()

    def _insert(self, name: str, x: int, y: int, width: int, height: int, rgba: bytes) -> None:
        document.add_top_layer(self._document(), name, (x, y, width, height), rgba)
        self.placed.emit(f'phone cut-out "{name}" pasted at ({x}, {y})')
