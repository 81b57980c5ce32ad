"""What the GIMP tests share to check a scenario's facts: the canvas sizes, the Soft Segment Layers
counts the scenarios use, the engine's direct answers for the same pixels, and the check of a run that
changed the image (one undo step, one redo step)."""

from __future__ import annotations

import numpy as np
from editor_files import PLATE_SIZE, REFINE, SIZE

from wire.client import raw_image

W, H = SIZE
PW, PH = PLATE_SIZE
SEGMENTS, DIALOG_SEGMENTS = 4, 3  # Soft Segment Layers' count, called by script and from the dialog


def direct_select(client, source: bytes, w: int, h: int, outputs=("alpha",), edges=None) -> dict:
    with client() as engine:
        result = engine.select_subject(raw_image(w, h, "rgba8", source), outputs=list(outputs), refine=REFINE,
                                       edges=edges)
    return {k: np.frombuffer(v, np.uint8) for k, v in result.buffers.items()}


def direct_refine(client, source: bytes, guide: bytes, w: int, h: int, edges=None) -> np.ndarray:
    with client() as engine:
        result = engine.refine(raw_image(w, h, "rgba8", source), raw_image(w, h, "grey8", guide, name="guide"),
                               guide_kind="mask", mode=REFINE)
        if edges:
            result = engine.adjust_edges(result.result_id, edges=edges)
    return np.frombuffer(result.buffers["alpha"], np.uint8).reshape(h, w).astype(int)


def check_undo(f: dict) -> None:
    assert f["run"]["ok"] is True, f["run"]["message"]
    assert f["changed"]
    assert f["undo_restores"], "one Ctrl+Z must give back the image as it was before the procedure"
    assert f["redo_restores"], "one Ctrl+Y must bring the whole result back"


def canvas_alpha(f: dict, alpha: np.ndarray) -> np.ndarray:
    """The engine's alpha over the source rectangle, placed on an empty canvas."""
    x, y, w, h = f["rect"]
    canvas = np.zeros((H, W), int)
    canvas[y:y + h, x:x + w] = alpha.reshape(h, w)
    return canvas

