"""What the plug-ins tell the user: how to start the engine, and why an action did nothing.

Every failure text ends with the editor's own "nothing changed" clause (``unchanged``:
GIMP says "the image was not changed", Krita "the document was not changed"), so the
user knows the action left their work as it was.
"""

from __future__ import annotations

from ..client import EngineError, EngineUnavailable, JobCancelledError
from ..protocol.errors import ErrorCode

START_COMMAND = "softcut serve"
LAN_COMMAND = f"{START_COMMAND} --lan"
"""The engine on the local network, which phone cut & paste needs."""
NOTHING_SELECTED = "nothing is selected over the layer: draw a rough selection around the subject first"
NOT_ON_LAN = f"the engine is not on the local network: restart it with `{LAN_COMMAND}` to paste from a phone"


class Refused(Exception):
    """The action did nothing (before any request, or after a failed one); the message is for the user."""


def not_reachable(exc: Exception) -> str:
    """No engine answers: ``exc`` (the client's error) says where it looked."""
    return f"the Softcut engine is not reachable ({exc})"


def failure(exc: Exception, unchanged: str) -> str:
    """What a failed request tells the user, ending with ``unchanged``.

    A missing engine says how to start it; a plate the engine cannot align gives the
    engine's own reason (it says what is wrong with the plate); any other refusal gives
    the engine's message and code.
    """
    if isinstance(exc, EngineUnavailable):
        return f"{not_reachable(exc)}. Start it with `{START_COMMAND}`; {unchanged}"
    if isinstance(exc, JobCancelledError):
        return f"cancelled; {unchanged}"
    if isinstance(exc, EngineError) and exc.code == ErrorCode.ALIGNMENT_FAILED:
        return f"{exc.message.rstrip('. ')}; {unchanged}"
    if isinstance(exc, EngineError):
        return f"the engine could not do it: {exc.message} ({exc.code}); {unchanged}"
    return f"Softcut failed: {exc}; {unchanged}"


def not_inserted(exc: Exception) -> str:
    """The engine answered but the editor could not put the result in (``exc`` says why)."""
    return f"the result could not be inserted: {exc}"
