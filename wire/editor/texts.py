"""What the plug-ins tell the user: how to start the engine, why an action did nothing.

A failure text ends with the editor's "nothing changed" clause (``unchanged``: GIMP's "the
image was not changed", Krita's "the document was not changed").
"""

from __future__ import annotations

from ..client import EngineError, EngineUnavailable, JobCancelledError
from ..protocol.errors import ErrorCode

START_COMMAND = "softcut serve"
LAN_COMMAND = f"{START_COMMAND} --lan"  # phone cut & paste needs the engine on the local network
NOTHING_SELECTED = "nothing is selected over the layer: draw a rough selection around the subject first"
NOT_ON_LAN = f"the engine is not on the local network: restart it with `{LAN_COMMAND}` to paste from a phone"
NOTHING_ROUGH = "nothing is selected over the layer: select roughly the part to add or take away first"
FAINT_ROUGH = ("no pixel is selected 50% or more over the layer: select roughly the part to add or take away "
               "(a selection this faint is empty as a rough mask)")


class Refused(Exception):
    """The action did nothing; the message is for the user."""


def not_reachable(exc: Exception) -> str:
    return f"the Softcut engine is not reachable ({exc})"


def failure(exc: Exception, unchanged: str) -> str:
    """What a failed request says: how to start a missing engine; the engine's own reason for a plate
    it cannot align; its message and code for any other refusal."""
    if isinstance(exc, EngineUnavailable):
        return f"{not_reachable(exc)}. Start it with `{START_COMMAND}`; {unchanged}"
    if isinstance(exc, JobCancelledError):
        return f"cancelled; {unchanged}"
    if isinstance(exc, EngineError) and exc.code == ErrorCode.ALIGNMENT_FAILED:
        return f"{exc.message.rstrip('. ')}; {unchanged}"
    if isinstance(exc, EngineError):
        return f"the engine could not do it: {exc.message} ({exc.code}); {unchanged}"
    return f"Softcut failed: {exc}; {unchanged}"


def no_previous(where: str) -> str:
    """Add to Subject and Subtract from Subject without an earlier result of the same source (``where``:
    the layer's name in quotes, or "the visible image")."""
    return f"there is no earlier Softcut result on {where} to correct: run Select Subject or Object on it first"


def not_inserted(exc: Exception) -> str:
    return f"the result could not be inserted: {exc}"
