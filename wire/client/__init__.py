"""Blocking client for the Softcut engine server, standard library only.

Editor plug-ins run inside GIMP's and Krita's bundled Pythons, which carry no
third-party packages, so everything here uses the standard library alone, and the
WebSocket client is python-websockets' synchronous one, vendored in ``wire/_vendor``.
``connection`` opens it with the protocol's settings; ``api`` is the client:
:class:`SoftcutClient`.
"""

from .api import SoftcutClient
from .errors import (
    ClientError,
    EngineError,
    EngineImpostor,
    EngineUnavailable,
    FrameError,
    JobCancelledError,
)
from .results import Result, jpeg_image, png_image, raw_image

__all__ = [
    "ClientError",
    "EngineError",
    "EngineImpostor",
    "EngineUnavailable",
    "FrameError",
    "JobCancelledError",
    "Result",
    "SoftcutClient",
    "jpeg_image",
    "png_image",
    "raw_image",
]
