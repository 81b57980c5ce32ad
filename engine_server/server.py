"""The asyncio WebSocket server: a thin layer over the protocol codec, the job queue
and the operations.

Per connection: frames → :class:`~wire.protocol.codec.Decoder` →
messages; the handshake first (``hello`` → ``challenge`` → ``auth`` → ``welcome``: a
challenge–response over the master token or a scoped token, :mod:`wire.protocol.auth`;
before it, ``pair`` may trade a pairing code or a phone link's one-time token for a scoped
token, :mod:`engine_server.tokens`), then requests the token's scope allows
(:mod:`engine_server.scopes`) become jobs on the shared queue. Job runners take the most urgent job, run its operation on
the engine's workers and send ``progress``, then ``result`` / ``error`` /
``cancelled``. A video stream's job (``video_start``) runs on a task of its own rather
than on a runner, fed by ``video_frame`` / ``video_end`` (:mod:`engine_server.operations.video`).
A client that disconnects has its jobs cancelled. Editor connections
(hello accepts ``place_layer``) also answer the engine's own requests
(:mod:`engine_server.connections`) and get the outbox's pending deliveries when they
say hello (:mod:`engine_server.phone.deliveries`). Plain HTTP GETs on the same port serve
the phone's page (:mod:`engine_server.phone.http`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.exceptions import ConnectionClosed

import core
from core.errors import SoftcutError
from core.models import registry, store
from engine_server import lan, scopes
from engine_server.phone import http as phone_http
from wire import config
from engine_server.connections import WRITE_TIMEOUT_S, Client
from engine_server.gate import PRE_HELLO_FRAME_BYTES, ConnectionGate, ConnectionLimits, Stage, ThrottledLog
from engine_server.phone.deliveries import Deliveries
from engine_server.engine import Engine
from engine_server.jobs import PRIORITIES, Job, JobCancelled, JobQueue, JobState, QueueFull
from engine_server.operations import (adjust_edges, phone_cut, phone_paste, plate_matte, refine, select_subject, soft_segments,
                                      trimap, video)
from engine_server.operations.common import NotFound, error_code
from engine_server.phone.outbox import Outbox
from wire.protocol import auth, codec, messages
from wire.protocol.errors import ProtocolError
from wire.protocol.schemas import EDITOR_REPLY_TYPES, PAIRING_CODE_DIGITS, STREAM_TYPES
from engine_server.security import (PairingCodes, PairingLimiter, PhoneLinks, origin_allowed, peer_key,
                                    same_origin_ip_page)
from engine_server.tokens import TokenFileError, TokenStore

log = logging.getLogger(__name__)

OPERATIONS = {
    "select_subject": select_subject.run,
    "plate_matte": plate_matte.run,
    "trimap": trimap.run,
    "refine": refine.run,
    "adjust_edges": adjust_edges.run,
    "soft_segments": soft_segments.run,
}
PHONE_OPERATIONS = {"phone_cut": phone_cut.run, "phone_paste": phone_paste.run}
"""Jobs that also need the deliveries (outbox, editors)."""
INSTANT = ("models.list", "status", "cancel", "phone_link")
DETACHED = ("video_start",)
"""Jobs that run on a task of their own once the queue hands them out, not on a runner: a stream
lasts as long as its video, and does its work one frame at a time on the engine's workers."""
CAPABILITIES = ("video",)
"""Capabilities beyond request types."""
PROGRESS_INTERVAL_S = 0.1
RUNNING_PER_CLIENT = 2
"""Jobs of one client that run at once; more wait their turn while other clients' jobs start."""
TOKEN_CHECK_S = 1.0
"""How often the engine looks for revoked tokens (tokens.json changed on disk)."""


@dataclass(frozen=True)
class _Challenge:
    """A handshake between ``challenge`` and ``auth``: the challenge's id, the hello it answered, the key
    id hello named and both nonces."""

    id: str
    hello: messages.Message
    key: str
    client_nonce: str
    engine_nonce: str


class EngineServer:
    """Serve ``engine`` on ``host:port`` to clients holding ``token``.

    ``pairing``: the pairing codes clients may trade for the token with ``pair``;
    None turns pairing off (``pair`` is refused as ``unauthorized``).
    ``phone_links``: the one-time tokens of the phone's URL (LAN mode), also accepted by
    ``pair``; None: LAN mode is off (``phone_link`` is ``not_found``).
    ``lan_host``: the address the phone's URL names (LAN mode).
    ``outbox_dir``: where phone cut-outs wait for an editor (default ``<config dir>/outbox``).
    ``screenshot``: takes a desktop screenshot for locating phone photos where an editor's
    snapshot is not enough (:func:`engine_server.phone.screen.grab_screen`; None: never).
    ``tokens``: the scoped tokens ``pair`` hands out (default ``<config dir>/tokens.json``).
    ``runners``: jobs that may run at once (their work shares the engine's model and CPU workers;
    a job waiting for memory holds one), at most :data:`RUNNING_PER_CLIENT` of one client's.
    ``connection_limits``: the caps on connections and the hello deadline (:mod:`engine_server.gate`).
    ``write_timeout_s``: a client that reads none of its answers for this long is disconnected
    and its jobs cancelled (:class:`~engine_server.connections.Client`).
    """

    def __init__(
        self,
        engine: Engine,
        token: str,
        *,
        host: str,
        port: int,
        allowed_origins: frozenset[str] = frozenset(),
        runners: int = 8,
        pairing: PairingCodes | None = None,
        phone_links: PhoneLinks | None = None,
        lan_host: str | None = None,
        outbox_dir: Path | None = None,
        screenshot: Callable[[], np.ndarray | None] | None = None,
        tokens: TokenStore | None = None,
        connection_limits: ConnectionLimits = ConnectionLimits(),
        write_timeout_s: float = WRITE_TIMEOUT_S,
    ) -> None:
        self.engine = engine
        self.token = token
        self.tokens = tokens if tokens is not None else TokenStore()
        self.host = host
        self.port = port
        self.allowed_origins = allowed_origins
        self.runners = runners
        self.gate = ConnectionGate(connection_limits)
        self.write_timeout_s = write_timeout_s
        self.pair_limiter = PairingLimiter()
        self._pair_log = ThrottledLog(log)
        self.pairing = pairing
        self.phone_links = phone_links
        self.lan_host = lan_host
        self.outbox = Outbox(outbox_dir if outbox_dir is not None else config.config_dir() / "outbox")
        self.deliveries = Deliveries(self.outbox, lambda: list(self.clients.values()), engine.on_cpu,
                                     screenshot=screenshot)
        self.queue = JobQueue(max_per_client=engine.limits.max_queued_per_client)
        self.clients: dict[str, Client] = {}
        self.streams: dict[tuple[str, str], video.VideoStream] = {}
        """Open video streams by (client id, video_start id)."""
        self._tasks: set[asyncio.Task] = set()
        """Running jobs (video streams included)."""
        self._ids = itertools.count(1)
        self.started = time.time()
        self.jobs_done = 0

    async def run(self, stop: asyncio.Future, *, ready: asyncio.Future | None = None) -> None:
        """Serve until ``stop`` resolves; ``ready`` gets the bound port."""
        runners = [asyncio.create_task(self._start_jobs()), asyncio.create_task(self._watch_tokens()),
                   asyncio.create_task(self._announce_expiry())]
        dropped = self.outbox.drop_stale()
        if dropped:
            log.info("dropped %d staged phone cut(s) older than a day", len(dropped))
        async with serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            max_size=PRE_HELLO_FRAME_BYTES,  # raised to limits.max_frame_bytes once hello is accepted
            create_connection=self._gated_connection(),
            compression=None,
            ping_interval=20,
            ping_timeout=60,
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            if ready is not None and not ready.done():
                ready.set_result(self.port)
            await stop
        for task in runners:
            task.cancel()
        for client in list(self.clients.values()):
            self.queue.cancel_client(client.id)
        for task in list(self._tasks):  # the running jobs and video streams
            task.cancel()
        self.engine.close()

    def phone_url(self) -> str | None:
        """The phone's pairing URL with the current one-time token; None when LAN mode is off."""
        if self.phone_links is None or self.lan_host is None:
            return None
        return lan.phone_url(self.lan_host, self.port, self.phone_links.current)

    def _gated_connection(self) -> type[ServerConnection]:
        """The connection class :func:`serve` makes per TCP connection: counted by :attr:`gate` from accept."""
        gate = self.gate

        class GatedConnection(ServerConnection):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                super().connection_made(transport)
                gate.opened(self)

            def connection_lost(self, exc: Exception | None) -> None:
                gate.closed(self)
                super().connection_lost(exc)

        return GatedConnection

    async def _announce_expiry(self) -> None:
        """Read the pairing code and phone link every second, so that an expired one is replaced and
        the new one announced (printed) on time, not when somebody next offers one."""
        while True:
            await asyncio.sleep(1.0)
            for secret in (self.pairing, self.phone_links):
                if secret is not None:
                    secret.current  # noqa: B018 - reading it replaces an expired one

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Plain HTTP GETs: the phone's page; WebSocket upgrades: the client cap, then the Origin check."""
        if not phone_http.is_upgrade(request):
            return phone_http.respond(request)
        if self.gate.full:
            self.gate.refused("clients", f"refused a connection: {self.gate.clients} clients are connected, "
                                         f"the most this engine takes")
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "Too many connections\n")
        return self._check_origin(connection, request)

    def _check_origin(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse the upgrade (403) for an Origin :func:`~engine_server.security.origin_allowed` refuses,
        unless it is the engine's own phone page (:func:`~engine_server.security.same_origin_ip_page`)."""
        origins = request.headers.get_all("Origin")
        hosts = request.headers.get_all("Host")
        origin = origins[0] if origins else None
        if len(origins) <= 1 and origin_allowed(origin, self.allowed_origins):
            return None
        if len(origins) == 1 and len(hosts) == 1 and same_origin_ip_page(origin, hosts[0]):
            return None
        log.info("refused a connection from Origin %s", ", ".join(origins))
        return connection.respond(HTTPStatus.FORBIDDEN, "Origin not allowed\n")

    async def _handle(self, connection: ServerConnection) -> None:
        limits = self.engine.limits
        client = Client(
            id=f"c{next(self._ids)}",
            connection=connection,
            decoder=codec.Decoder(
                role="engine",
                max_frame_bytes=limits.max_frame_bytes,
                max_text_bytes=limits.max_text_bytes,
                max_pixels=limits.max_pixels,
            ),
            write_timeout_s=self.write_timeout_s,
            on_drained=self.queue.wake,
        )
        self.gate.advanced(connection, Stage.OPEN)
        client.start_writer()
        self.clients[client.id] = client
        log.info("client %s connected from %s", client.id, connection.remote_address)
        try:
            async for frame in connection:
                await client.room()  # a client whose answers pile up is not read from until they go out
                try:
                    message = client.decoder.feed(frame)
                except ProtocolError as exc:
                    await client.send(messages.error_from(exc))
                    continue
                if message is not None:
                    await self._dispatch(client, message)
        except ConnectionClosed:
            pass
        finally:
            client.gone()
            cancelled = self.queue.cancel_client(client.id)
            for key in [key for key in self.streams if key[0] == client.id]:
                self.streams.pop(key).wake()  # its job ends as cancelled
            self.clients.pop(client.id, None)
            log.info("client %s left; %d job(s) cancelled", client.id, len(cancelled))

    async def _dispatch(self, client: Client, message: messages.Message) -> None:
        client.touch()
        if not client.ready:
            if message.type in ("hello", "pair", "auth"):  # any other frame gets no further in the gate
                self.gate.advanced(client.connection, Stage.HANDSHAKE)
            if message.type == "auth" and self.gate.full:  # others got in since its upgrade
                await client.send(messages.error("busy", f"{self.gate.clients} clients are connected, the most this "
                                                         f"engine takes (softcut serve --max-connections)", ref=message.id))
                await client.close(1013, "too many connections")
                return
            await self._handshake(client, message)
            if client.ready:  # hello accepted: full-size frames from now on
                client.connection.protocol.max_message_size = self.engine.limits.max_frame_bytes
                self.gate.admitted(client.connection)
            return
        if not scopes.allows(client.scope, message.type):
            if message.ref is None or message.type not in EDITOR_REPLY_TYPES:  # a stray answer gets no answer
                await client.send(messages.error("unauthorized", scopes.refusal(client.scope, message.type), ref=message.id))
            return
        if message.type in EDITOR_REPLY_TYPES and message.ref is not None:
            self._answer(client, message)
            return
        if message.type in ("hello", "pair", "auth"):
            await client.send(messages.error("bad_message", f"{message.type} after hello: the handshake is done", ref=message.id))
            return
        if message.type in INSTANT:
            await self._instant(client, message)
            return
        if message.type in STREAM_TYPES:  # feed a video stream (its job is the video_start's): answered at once only when refused
            await self._feed(client, message)
            return
        if message.type not in OPERATIONS and message.type not in PHONE_OPERATIONS and message.type not in DETACHED:
            await client.send(messages.error("unknown_type", f"unknown request type {message.type!r}", ref=message.id))
            return
        loop = asyncio.get_running_loop()
        if message.type in DETACHED:
            stream = video.VideoStream(self.engine, message, client.send)
            work = partial(self._stream, stream)
        else:
            stream, work = None, partial(self._operate, message=message)
        job = Job(
            id=message.id,
            client=client.id,
            kind=message.type,
            priority=PRIORITIES.get(message.fields.get("priority", "interactive"), 0),
            work=work,
        )
        job.on_progress = self._progress_sender(client, job, loop)
        try:
            position = self.queue.submit(job)
        except QueueFull as exc:
            await client.send(messages.error("busy", str(exc), ref=message.id))
            return
        if stream is not None:
            self.streams[(client.id, message.id)] = stream
        await client.send(messages.accepted(message.id, position=position))

    async def _feed(self, client: Client, message: messages.Message) -> None:
        """A ``video_frame`` or ``video_end``: to its stream, or refused (``not_found``, ``busy``)."""
        name = str(message.fields["stream"])
        stream = self.streams.get((client.id, name))
        if stream is None or stream.ended:
            await client.send(messages.error(
                "not_found", f"stream: no open video stream {name!r} on this connection (never started, ended, "
                             f"failed or cancelled)", ref=message.id))
            return
        if message.type == "video_end":
            stream.end()
            return
        try:
            stream.receive(message)
        except video.StreamBusy as exc:
            await client.send(messages.error("busy", str(exc), ref=message.id))

    async def _stream(self, stream: video.VideoStream, job: Job):
        """A video stream's job: its frames until video_end, then it leaves :attr:`streams`."""
        try:
            return await stream.run(job)
        finally:
            self.streams.pop((job.client, job.id), None)

    async def _operate(self, job: Job, *, message: messages.Message):
        if message.type in PHONE_OPERATIONS:
            return await PHONE_OPERATIONS[message.type](self.engine, self.deliveries, job, message)
        return await OPERATIONS[message.type](self.engine, job, message)

    def _answer(self, client: Client, message: messages.Message) -> None:
        """An editor's answer to an engine request: to the request waiting for it (a late one is dropped,
        but a late ``placed`` ok still empties its delivery from the outbox)."""
        if message.type == "placed":
            self.deliveries.acknowledge(message)
        if not client.answered(message):
            log.info("client %s answered %s %s, which nobody awaits (late?)", client.id, message.type, message.ref)

    def _progress_sender(self, client: Client, job: Job, loop: asyncio.AbstractEventLoop):
        last = [0.0]

        def send(fraction: float, stage: str) -> None:  # called from worker threads
            now = time.monotonic()
            if now - last[0] < PROGRESS_INTERVAL_S and fraction < 1.0:
                return
            last[0] = now
            msg = messages.progress(job.id, fraction=float(fraction), stage=stage)
            running = lambda: job.state is JobState.RUNNING  # noqa: E731 - nothing follows a job's end
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(client.send(msg, still=running)))

        return send

    async def _refuse(self, client: Client, message: messages.Message, reason: str) -> None:
        """``unauthorized``, then close the connection (4001)."""
        await client.send(messages.error("unauthorized", reason, ref=message.id))
        await client.close(4001, "unauthorized")

    async def _handshake(self, client: Client, message: messages.Message) -> None:
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
        wait = self.pair_limiter.wait_s(peer) if is_code else 0.0
        if wait > 0:  # not even checked: a burst of guesses costs the guesser, and the code stays
            self._pair_log(f"pair:{peer}", f"pairing codes from {peer} held back after wrong tries")
            await client.send(messages.error(
                "busy", f"too many wrong pairing codes from this address: try again in {max(1, round(wait))} s",
                ref=message.id))
            await client.close(4029, "too many pairing tries")
            return
        redeemed = codes.redeem(code)
        if is_code:
            (self.pair_limiter.succeeded if redeemed else self.pair_limiter.failed)(peer)
        if not redeemed:
            self._pair_log(f"wrong:{peer}", f"client {client.id} ({name}, {peer}) offered a wrong or expired "
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
        hello = pending.hello.fields
        client.scope, client.key = known[1], pending.key
        if pending.key != auth.MASTER_KEY:
            try:
                self.tokens.touch(pending.key)
            except (OSError, TokenFileError) as exc:
                log.warning("could not record the use of token %s: %s", pending.key, exc)
        client.ready = True
        client.name = str((hello.get("client") or {}).get("name", ""))
        client.accepts = frozenset(hello.get("accepts", ()))
        client.cutout_format = str(hello.get("cutout_format", "png"))
        log.info("client %s is %s (scope %s)%s", client.id, client.name or "unnamed", client.scope,
                 " (an editor)" if client.is_editor else "")
        await client.send(
            messages.welcome(
                message.id,
                engine={"name": "softcut", "version": core.__version__},
                device=self.engine.session.device,
                models=self._models(),
                capabilities=sorted([*OPERATIONS, *PHONE_OPERATIONS, *INSTANT, *DETACHED, *STREAM_TYPES,
                                     *CAPABILITIES, *(["pair"] if self.pairing else [])]),
                limits=self.engine.limits,
            )
        )
        if client.is_editor:
            asyncio.ensure_future(self.deliveries.send_pending(client))

    async def _watch_tokens(self) -> None:
        """Every :data:`TOKEN_CHECK_S`: re-read tokens.json when it changed, and close the connections of
        tokens that were revoked (``error`` ``unauthorized``, close code 4001)."""
        reported: str | None = None
        while True:
            await asyncio.sleep(TOKEN_CHECK_S)
            try:
                if not self.tokens.refresh():
                    continue
            except TokenFileError as exc:
                if str(exc) != reported:  # once per new problem, not every second
                    log.error("%s", exc)
                    reported = str(exc)
                continue
            reported = None
            live = self.tokens.ids()
            for client in list(self.clients.values()):
                if client.ready and client.key not in (None, auth.MASTER_KEY) and client.key not in live:
                    log.info("client %s: its token %s was revoked; closing", client.id, client.key)
                    await client.send(messages.error("unauthorized", f"this connection's token {client.key} was "
                                                                     f"revoked (softcut tokens revoke)"))
                    asyncio.ensure_future(client.close(4001, "token revoked"))  # each on its own: none waits for another

    def _models(self) -> list[dict[str, Any]]:
        """Every registered model, with whether it is the default, whether it is in memory now and
        whether its file is on this machine (our cache or rembg's folder: a request may name it),
        then the default when it is a user's file rather than a registered model."""
        default = self.engine.session.name
        loaded = set(self.engine.models.loaded())
        return [
            {"name": name, "default": name == default, "loaded": name in loaded,
             "present": name == default or store.locate(spec) is not None,
             "licence": spec.licence, "description": spec.description}
            for name, spec in registry.MODELS.items()
        ] + ([] if default in registry.MODELS
             else [{"name": default, "default": True, "loaded": True, "present": True, "licence": "user-provided"}])

    async def _instant(self, client: Client, message: messages.Message) -> None:
        if message.type == "models.list":
            await client.send(messages.reply("models", message.id, models=self._models()))
        elif message.type == "status":
            await client.send(
                messages.reply(
                    "status",
                    message.id,
                    device=self.engine.session.device,
                    model=self.engine.session.name,
                    jobs=self.queue.counts(),
                    jobs_done=self.jobs_done,
                    clients=len(self.clients),
                    uptime_s=round(time.time() - self.started, 1),
                    cache_bytes=self.engine.results.bytes + self.engine.coarse_cache.bytes,
                    memory=self.engine.memory.state(),
                )
            )
        elif message.type == "phone_link":
            url = self.phone_url()
            if url is None:
                await client.send(messages.error(
                    "not_found", "LAN mode is off: start the engine with softcut serve --lan", ref=message.id))
                return
            png, side = await self.engine.on_cpu(lan.qr_png, url)
            qr = messages.buffer("qr", png, format="png", width=side, height=side)
            await client.send(messages.phone_link_reply(message.id, url=url, qr=qr))
        else:  # cancel
            target = str(message.fields.get("job", ""))
            job = self.queue.cancel(client.id, target)
            if job is not None:
                job.cancelled_by = message.id  # a running job's `cancelled` carries `by` too
                stream = self.streams.pop((client.id, target), None)
                if stream is not None:  # no more frames for it; a running stream stops now
                    stream.wake()
            if job is None:
                await client.send(messages.error("not_found", f"no queued or running job {target!r}", ref=message.id))
            elif job.state is JobState.CANCELLED:  # was still queued: done now
                await client.send(messages.cancelled(job.id, by=message.id))

    async def _start_jobs(self) -> None:
        """Start queued jobs, each on a task of its own, while fewer than :attr:`runners` run (video streams
        do not count: they last as long as their video). Answers are written by each connection's
        writer, so no client's job waits for another client to read."""
        slots = asyncio.Semaphore(self.runners)
        while True:
            await slots.acquire()
            job = await self.queue.next(self._may_start)
            task = asyncio.ensure_future(self._run_safely(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            if job.kind in DETACHED:
                slots.release()
            else:
                task.add_done_callback(lambda _: slots.release())

    def _may_start(self, job: Job) -> bool:
        """Whether ``job`` may start now: its client is reading its answers (not :attr:`~Client.congested`)
        and has fewer than :data:`RUNNING_PER_CLIENT` jobs running."""
        client = self.clients.get(job.client)
        if client is not None and client.congested:
            return False
        return job.kind in DETACHED or self.queue.running(job.client) < RUNNING_PER_CLIENT

    async def _run_safely(self, job: Job) -> None:
        try:
            await self._run(job)
        except Exception:  # a runner must outlive any one job
            log.exception("job %s (%s): the engine could not answer", job.id, job.kind)
            self.queue.finish(job, JobState.FAILED)

    async def _run(self, job: Job) -> None:
        client = self.clients.get(job.client)
        started = time.perf_counter()
        try:
            job.check()
            reply = await job.work(job)
        except JobCancelled:
            self.queue.finish(job, JobState.CANCELLED)
            if client:
                await client.send(messages.cancelled(job.id, by=job.cancelled_by))
        except (SoftcutError, NotFound) as exc:
            self.queue.finish(job, JobState.FAILED)
            if client:
                await client.send(messages.error(error_code(exc), str(exc), ref=job.id))
        except Exception as exc:  # an operation's bug must not take the engine down
            log.exception("job %s (%s) failed", job.id, job.kind)
            self.queue.finish(job, JobState.FAILED)
            if client:
                await client.send(messages.error("internal", f"internal error: {exc}", ref=job.id))
        else:
            self.queue.finish(job, JobState.DONE)
            self.jobs_done += 1
            if client:
                fields = {"result": uuid.uuid4().hex, **reply.fields, "job_seconds": round(time.perf_counter() - started, 4)}
                await client.send(messages.result(job.id, fields, reply.buffers))
