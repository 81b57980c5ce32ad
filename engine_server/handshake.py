"""The handshake of a connection, before it may send requests: ``hello`` → ``challenge`` → ``auth`` →
``welcome``, a challenge–response over the master token or a scoped token (:mod:`wire.protocol.auth`);
before it, ``pair`` may trade a pairing code or a phone link's one-time token for a scoped token
(:mod:`engine_server.tokens`), at a pace :class:`~engine_server.security.PairingLimiter` bounds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import core
from engine_server import operations, scopes
from engine_server.connections import Client
from engine_server.engine import Engine
from engine_server.gate import ThrottledLog
from engine_server.security import PairingCodes, PairingLimiter, PhoneLinks, peer_key
from engine_server.tokens import TokenFileError, TokenStore
from wire.protocol import auth, messages
from wire.protocol.schemas import PAIRING_CODE_DIGITS, with_defaults

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Challenge:
    """A handshake between ``challenge`` and ``auth``: the challenge's id, the hello it answered, the key
    id hello named and both nonces."""

    id: str
    hello: messages.Message
    key: str
    client_nonce: str
    engine_nonce: str


class Handshake:
    """The handshake of :class:`~engine_server.server.EngineServer`'s connections: ``token`` (the
    master token), ``tokens``, ``pairing`` and ``phone_links`` as the server's; ``welcome`` describes
    ``engine``; ``on_editor(client)`` runs once an editor connection is welcome."""

    def __init__(self, engine: Engine, token: str, tokens: TokenStore, pairing: PairingCodes | None,
                 phone_links: PhoneLinks | None, on_editor: Callable[[Client], Awaitable[None]]) -> None:
        self.engine, self.token, self.tokens = engine, token, tokens
        self.pairing, self.phone_links, self.on_editor = pairing, phone_links, on_editor
        self.limiter = PairingLimiter()
        self.log_throttled = ThrottledLog(log)

    async def _refuse(self, client: Client, message: messages.Message, reason: str) -> None:
        """``unauthorized``, then close the connection (4001)."""
        await client.send(messages.error("unauthorized", reason, ref=message.id))
        await client.close(4001, "unauthorized")

    async def step(self, client: Client, message: messages.Message) -> None:
        """Before the connection is authenticated: ``pair``, ``hello``, then ``auth`` (protocol 2)."""
        if client.challenge is not None:
            if message.type == "auth":
                await self._auth(client, message)
            else:
                await client.send(messages.error(
                    "not_ready", f"answer the challenge {client.challenge.id} with auth first", ref=message.id))
        elif message.type == "pair":
            await self._pair(client, message)
        elif message.type == "hello":
            await self._hello(client, message)
        else:
            await client.send(messages.error("not_ready", "send hello (or pair) first", ref=message.id))

    async def _pair(self, client: Client, message: messages.Message) -> None:
        """A right code gets a scoped token of its own (never the master token): a pairing code's is
        ``editor``, a phone link's ``phone``."""
        name = str(message.fields["client"]["name"])
        code = message.fields["code"]
        is_code = len(code) == PAIRING_CODE_DIGITS
        codes = self.pairing if is_code else self.phone_links
        if codes is None:
            off = "pairing is off" if is_code else "LAN mode is off (no phone links)"
            await self._refuse(client, message, f"{off} on this engine: use the token file")
            return
        peer = peer_key(client.connection.remote_address[0] if client.connection.remote_address else None)
        wait = self.limiter.wait_s(peer) if is_code else 0.0
        if wait > 0:  # not even checked: a burst of guesses costs the guesser, and the code stays
            self.log_throttled(f"pair:{peer}", f"pairing codes from {peer} held back after wrong tries")
            await client.send(messages.error(
                "busy", f"too many wrong pairing codes from this address: try again in {max(1, round(wait))} s",
                ref=message.id))
            await client.close(4029, "too many pairing tries")
            return
        redeemed = codes.redeem(code)
        if is_code:
            (self.limiter.succeeded if redeemed else self.limiter.failed)(peer)
        if not redeemed:
            self.log_throttled(f"wrong:{peer}", f"client {client.id} ({name}, {peer}) offered a wrong or expired "
                                             f"pairing code")
            await self._refuse(
                client, message,
                "wrong or expired pairing code: `softcut serve` prints the current one on its console",
            )
            return
        scope = scopes.EDITOR if is_code else scopes.PHONE
        try:
            token = self.tokens.issue(scope, name)
        except (OSError, TokenFileError) as exc:
            log.error("cannot store a new token in %s: %s", self.tokens.path, exc)
            await client.send(messages.error("storage_failed", f"the engine could not store the paired token in "
                                                               f"{self.tokens.path}: {exc}", ref=message.id))
            return
        log.info("client %s (%s) paired: token %s, scope %s", client.id, name, token.id, scope)
        await client.send(messages.paired(auth.credential(token.id, token.secret), scope=scope, ref=message.id))

    def _secret(self, key: str) -> tuple[str, str] | None:
        """(secret, scope) of key id ``key`` ("master" or a scoped token's id, re-read from its file), or None."""
        if key == auth.MASTER_KEY:
            return self.token, scopes.MASTER
        try:
            token = self.tokens.get(key)
        except TokenFileError as exc:
            log.error("%s", exc)
            return None
        return (token.secret, token.scope) if token is not None else None

    async def _hello(self, client: Client, message: messages.Message) -> None:
        """Answer ``challenge``: the engine's nonce and its proof that it holds the key hello names."""
        # The decoder has already refused any other protocol version (unsupported_version).
        key = str(message.fields["key"])
        known = self._secret(key)
        if known is None:
            await self._refuse(client, message, f"unknown or revoked key {key!r}: pair again (the pairing code "
                                                f"`softcut serve` prints), or use the token file")
            return
        secret, _ = known
        engine_nonce = auth.new_nonce()
        client_nonce = str(message.fields["nonce"])
        challenge = messages.challenge(message.id, nonce=engine_nonce,
                                       proof=auth.engine_proof(secret, client_nonce, engine_nonce))
        client.challenge = _Challenge(challenge.id, message, key, client_nonce, engine_nonce)
        await client.send(challenge)

    async def _auth(self, client: Client, message: messages.Message) -> None:
        """Check the client's proof; the handshake then ends with ``welcome`` (ref = the auth's id)."""
        pending, client.challenge = client.challenge, None
        known = self._secret(pending.key)  # again: it may have been revoked since hello
        if message.ref != pending.id:
            await self._refuse(client, message, f"auth: expected ref {pending.id!r} (the challenge's id)")
            return
        expected = None if known is None else auth.client_proof(known[0], pending.client_nonce, pending.engine_nonce)
        if expected is None or not auth.proof_matches(message.fields["proof"], expected):
            log.info("client %s offered a wrong proof for key %s", client.id, pending.key)
            await self._refuse(client, message, "wrong proof: the client does not hold the key its hello named "
                                                "(a wrong token, or one that was revoked)")
            return
        hello = with_defaults(pending.hello)
        client.scope, client.key = known[1], pending.key
        if pending.key != auth.MASTER_KEY:
            try:
                self.tokens.touch(pending.key)
            except (OSError, TokenFileError) as exc:
                log.warning("could not record the use of token %s: %s", pending.key, exc)
        client.ready = True
        client.name = str((hello.get("client") or {}).get("name", ""))
        client.accepts = frozenset(hello["accepts"])
        client.cutout_format = str(hello["cutout_format"])
        log.info("client %s is %s (scope %s)%s", client.id, client.name or "unnamed", client.scope,
                 " (an editor)" if client.is_editor else "")
        await client.send(
            messages.welcome(
                message.id,
                engine={"name": "softcut", "version": core.__version__},
                device=self.engine.session.device,
                models=self.engine.model_list(),
                capabilities=sorted([*operations.capabilities(), *(["pair"] if self.pairing else [])]),
                limits=self.engine.limits,
            )
        )
        if client.is_editor:
            asyncio.ensure_future(self.on_editor(client))
