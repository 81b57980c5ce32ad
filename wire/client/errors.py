"""The client's errors: the engine is not there, is not the engine, refused a request or a frame,
or the job was cancelled."""

from __future__ import annotations


class ClientError(Exception):
    """Base of the client's errors."""


class EngineUnavailable(ClientError):
    """No engine answers (not running, wrong port) or the connection dropped."""


class EngineImpostor(EngineUnavailable):
    """What answers on the engine's port could not prove that it holds the key: another program, or an
    engine whose token is not the one this client holds. Nothing was sent to it but the hello."""


class EngineError(ClientError):
    """The engine answered a request with an error; ``code`` is the protocol's stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FrameError(EngineError):
    """The engine refused one frame of a video stream (a frame it cannot decode, of another size…).

    ``position``: the frame's place in the iterable given to :meth:`SoftcutClient.video_matte`
    (from 0; the engine numbers only the frames it answers); ``frame_id``: its video_frame's id.
    """

    def __init__(self, code: str, message: str, *, position: int, frame_id: str) -> None:
        super().__init__(code, message)
        self.position = position
        self.frame_id = frame_id


class JobCancelledError(ClientError):
    """The request's job was cancelled."""
