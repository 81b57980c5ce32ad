"""Object Selection's requests as a client makes them: the image named by its key, its pixels sent only
when the engine does not hold it prepared; a previous result the engine let go of, sent as pixels.

Standard library only (editor plug-ins vendor :mod:`wire`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..protocol import messages
from ..protocol.messages import Buffer, Message
from .errors import EngineError
from .results import Result


def _not_held(error: EngineError, what: str) -> bool:
    """Whether ``error`` says the engine does not hold what the request named (its message starts with
    ``what``: "image " for the image's key, "previous:" for a result id; docs/protocol.md)."""
    return error.code == "not_found" and error.message.startswith(what)


def select_object(ask: Callable[[Message], Result], image: Buffer, *, key: str | None = None,
                  previous: str | Buffer | None = None, previous_pixels: Callable[[], Buffer] | None = None,
                  **options: Any) -> Result:
    """One ``select_object`` through ``ask`` (send a request, wait for its result, raise the client's errors).

    image: the image buffer, named by its key (:func:`~wire.protocol.envelope.buffer_key`) and sent only
    when the engine answers that it does not hold it. key: that key when the caller has it for these very
    pixels (an earlier reply's ``image``), so that they are not hashed again (at 12 MP, 0.03 s a prompt).
    It is not checked against the pixels: a key kept after the pixels changed selects on the image the
    engine holds under it, so a caller that cannot tell whether they changed (an editor's layer) passes
    None. A key the engine does not hold costs one round trip and the pixels are sent. previous: a result id or a grey buffer named
    ``previous``; previous_pixels: when ``previous`` is an id the engine no longer holds (an engine
    restarted, or a full cache), gives that matte as a grey buffer named ``previous`` to send instead
    (None: the engine's ``not_found`` is raised). options: :func:`wire.protocol.messages.select_object`'s.
    """
    source: str | Buffer = key if key is not None else messages.buffer_key(image)
    for _ in range(3):  # at most: the key, then the pixels, then the previous matte's pixels
        try:
            return ask(messages.select_object(source, previous=previous, **options))
        except EngineError as error:
            if _not_held(error, "image ") and isinstance(source, str):
                source = image
            elif _not_held(error, "previous:") and isinstance(previous, str) and previous_pixels is not None:
                previous = previous_pixels()
            else:
                raise
    return ask(messages.select_object(source, previous=previous, **options))
