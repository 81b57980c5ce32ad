"""Desktop screenshots for locating a phone photo where an editor's snapshot is not enough.

The screenshot is taken on the engine's machine (the machine whose screen the phone is
aimed at), kept in memory for one locate and never stored or sent anywhere.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def grab_screen() -> np.ndarray | None:
    """The whole desktop now, or None where this machine gives no screenshot.

    Returns (H, W, 3) uint8 RGB in screen pixels (every monitor on Windows; the X display
    named by ``DISPLAY`` on Linux; the main display on macOS). None without a display
    (a headless server, a Wayland session without a screenshot tool), logged once per call.
    """
    try:
        from PIL import ImageGrab

        shot = ImageGrab.grab(all_screens=True)
    except Exception as exc:  # Pillow raises OSError, ImportError or its own errors per platform
        log.info("no desktop screenshot: %s", exc)
        return None
    return np.asarray(shot.convert("RGB"))
