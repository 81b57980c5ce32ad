"""The protocol-2 handshake spoken by hand over a raw connection, for tests that mis-speak the rest.

:func:`handshake` does hello → challenge (the engine's proof checked) → auth → welcome;
:func:`send` and :func:`until` are the two halves of speaking the protocol by hand.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from testing.raw_websocket import RawWebSocket
from wire.protocol import auth, codec, messages


def send(ws: RawWebSocket, message: messages.Message) -> None:
    """Send ``message``'s frames (its JSON, then its buffers)."""
    for frame in codec.encode(message):
        (ws.send_text if isinstance(frame, str) else ws.send_binary)(frame)


def until(ws: RawWebSocket, ref: str, types: tuple[str, ...], decoder: codec.Decoder | None = None,
          timeout: float = 30.0) -> messages.Message:
    """The first message with ``ref`` and one of ``types`` (others are skipped)."""
    decoder = decoder or codec.Decoder(role="client")
    deadline = time.monotonic() + timeout
    while True:
        msg = decoder.feed(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if msg is not None and msg.ref == ref and msg.type in types:
            return msg


def handshake(ws: RawWebSocket, credential: str, *, name: str = "test", accepts: Sequence[str] = (),
              cutout_format: str | None = None, decoder: codec.Decoder | None = None,
              proof: str | None = None) -> messages.Message:
    """Authenticate ``ws`` with ``credential`` (a master token or ``"<id>.<secret>"``).

    Returns ``welcome``, or the ``error`` that refused hello or auth. ``proof``: sent in auth
    instead of the right one (to test refusals). Raises AssertionError when the engine's
    challenge proof is wrong.
    """
    decoder = decoder or codec.Decoder(role="client")
    key, secret = auth.parse_credential(credential)
    nonce = auth.new_nonce()
    hello = messages.hello(key=key, nonce=nonce, client_name=name, client_version="0", accepts=accepts,
                           cutout_format=cutout_format)
    send(ws, hello)
    challenge = until(ws, hello.id, ("challenge", "error"), decoder)
    if challenge.type == "error":
        return challenge
    engine_nonce = challenge.fields["nonce"]
    assert auth.proof_matches(challenge.fields["proof"], auth.engine_proof(secret, nonce, engine_nonce))
    answer = messages.auth(challenge.id, proof=proof or auth.client_proof(secret, nonce, engine_nonce))
    send(ws, answer)
    return until(ws, answer.id, ("welcome", "error"), decoder)
