"""What the Krita tests share to check a scenario's facts: the canvas sizes, the engine's direct
Select Subject answer for the same pixels, and the checks of a run that changed the document
(one undo step, undone exactly) or left it alone."""

from __future__ import annotations

from editor_files import PLATE_SIZE, REFINE, SIZE

from wire.client import raw_image

W, H = SIZE
PW, PH = PLATE_SIZE


def direct_select(client, source: bytes, w: int, h: int, outputs=("alpha",), edges=None):
    with client() as engine:
        result = engine.select_subject(raw_image(w, h, "rgba8", source), outputs=list(outputs), refine=REFINE)
        if edges:
            result = engine.adjust_edges(result.result_id, edges=edges, outputs=list(outputs))
    return result


def check_untouched(f: dict, says: str) -> None:
    """A run that changed nothing: its message holds ``says`` and ends saying so; no undo step."""
    message = f["run"]["message"]
    assert says in message and message.endswith("the document was not changed"), message
    assert f["unchanged"] and f["undo_steps_added"] == 0


def check_common(f: dict) -> None:
    assert f["run"]["ok"] is True, f["run"]["message"]
    assert f["undo_steps_added"] == 1, "one action must be one undo step"
    assert f["undo_restores"], "undo must give back the document as it was"
    assert f["run"]["busy_after_trigger"], "the action returns to Krita while the engine works"
