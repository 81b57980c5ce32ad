"""The handshake's challenge–response (protocol 2): HMAC-SHA256 proofs over two fresh nonces.

Neither side ever sends the secret. The client says ``hello`` with the id of its key and a
nonce; the engine answers ``challenge`` with a nonce of its own and :func:`engine_proof` (so the
client knows it talks to an engine that holds the key before it sends anything else); the
client answers ``auth`` with :func:`client_proof`. Each proof is bound to both nonces and to
its direction (a label), so neither can be replayed, reflected or used as the other.

A *credential* is what a client keeps: the master token (the engine's ``token`` file; key id
``master``) or a scoped token handed out by ``pair``, ``"<id>.<secret>"``.

Standard library only (editor plug-ins vendor this package); the JavaScript twin is the
``wire/js/hmac.js`` (the Photoshop panel's and the phone page's).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

MASTER_KEY = "master"
"""The key id of the master token (the ``token`` file in the engine's config folder)."""
NONCE_BYTES = 32
NONCE_HEX = 2 * NONCE_BYTES
"""A nonce on the wire: 32 random bytes as 64 lowercase hex digits (a proof has the same form)."""
ENGINE_LABEL = "softcut-engine-proof\n"
CLIENT_LABEL = "softcut-client-proof\n"
KEY_ID_CHARACTERS = "A-Za-z0-9_-"
KEY_ID_MAX_LENGTH = 64
_HEX = re.compile(f"[0-9a-f]{{{NONCE_HEX}}}")
_KEY_ID = re.compile(f"[{KEY_ID_CHARACTERS}]{{1,{KEY_ID_MAX_LENGTH}}}")


def new_nonce() -> str:
    """32 bytes from the OS's CSPRNG, as 64 lowercase hex digits."""
    return secrets.token_hex(NONCE_BYTES)


def is_hex256(value: object) -> bool:
    """Whether ``value`` has the wire form of a nonce or a proof (64 lowercase hex digits)."""
    return isinstance(value, str) and _HEX.fullmatch(value) is not None


def _proof(label: str, secret: str, client_nonce: str, engine_nonce: str) -> str:
    message = f"{label}{client_nonce}\n{engine_nonce}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def engine_proof(secret: str, client_nonce: str, engine_nonce: str) -> str:
    """HMAC-SHA256(secret, "softcut-engine-proof\\n" + client_nonce + "\\n" + engine_nonce), hex.

    ``secret``: the key's secret (the master token, or a scoped token's secret); the nonces as
    sent (64 hex digits each). The engine sends it in ``challenge``."""
    return _proof(ENGINE_LABEL, secret, client_nonce, engine_nonce)


def client_proof(secret: str, client_nonce: str, engine_nonce: str) -> str:
    """HMAC-SHA256(secret, "softcut-client-proof\\n" + client_nonce + "\\n" + engine_nonce), hex: ``auth.proof``."""
    return _proof(CLIENT_LABEL, secret, client_nonce, engine_nonce)


def proof_matches(offered: object, expected: str) -> bool:
    """Constant-time comparison of a proof received with the one computed (False for a non-string)."""
    return isinstance(offered, str) and hmac.compare_digest(offered.encode("utf-8", "surrogatepass"), expected.encode())


def parse_credential(credential: str) -> tuple[str, str]:
    """(key id, secret) of a credential: ``"<id>.<secret>"`` for a scoped token, else the master token.

    Raises
    ------
    ValueError
        If ``credential`` is empty, or names a key id that is not 1–64 of A–Z a–z 0–9 _ -.
    """
    credential = credential.strip() if isinstance(credential, str) else ""
    if not credential:
        raise ValueError("credential: expected the engine's token or a paired '<id>.<secret>'; got nothing")
    key, dot, secret = credential.partition(".")
    if not dot:
        return MASTER_KEY, credential
    if not _KEY_ID.fullmatch(key) or key == MASTER_KEY or not secret:
        raise ValueError(f"credential: expected '<id>.<secret>' with an id of 1 to {KEY_ID_MAX_LENGTH} characters "
                         f"from {KEY_ID_CHARACTERS}; got an id of {len(key)} characters")
    return key, secret


def credential(key: str, secret: str) -> str:
    """The one string a client keeps for a scoped token: ``"<id>.<secret>"``."""
    return f"{key}.{secret}"
