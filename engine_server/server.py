"""The asyncio WebSocket server: a thin layer over the protocol codec, the job queue
and the operations.

Per connection: frames → :class:`~wire.protocol.codec.Decoder` →
messages; the handshake first (:mod:`engine_server.handshake`), then requests the token's scope allows
(:mod:`engine_server.scopes`) become jobs of the operation the registry names
(:mod:`engine_server.operations`), each run as its kind says (:class:`engine_server.jobs.Kind`): an
instant one at once; a queued one when a job runner takes it as the most urgent, its work on the
engine's workers, with ``progress``, then ``result`` / ``error`` / ``cancelled``; a stream on a task
of its own rather than a runner. A client that disconnects has its jobs cancelled. Editor connections
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
from dataclasses import replace
from functools import partial
from http import HTTPStatus
from pathlib import Path
from collections.abc import Callable

import numpy as np

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.exceptions import ConnectionClosed

from engine_server import lan, operations, scopes
from engine_server.phone import http as phone_http
from wire import config
from engine_server.connections import WRITE_TIMEOUT_S, Client
from engine_server.gate import PRE_HELLO_FRAME_BYTES, ConnectionGate, ConnectionLimits, Stage
from engine_server.handshake import Handshake
from engine_server.phone.deliveries import Deliveries
from engine_server.engine import Engine
from engine_server.errors import ANSWERED, error_code
from engine_server.jobs import PRIORITIES, Job, JobCancelled, JobQueue, JobState, QueueFull
from engine_server.operations.common import Reply
from engine_server.phone.outbox import Outbox
from wire.protocol import auth, codec, messages
from wire.protocol.errors import ProtocolError
from wire.protocol.schemas import EDITOR_REPLY_TYPES, with_defaults
from engine_server.security import PairingCodes, PhoneLinks, origin_allowed, same_origin_ip_page
from engine_server.tokens import TokenFileError, TokenStore

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1
RUNNING_PER_CLIENT = 2
"""Jobs of one client that run at once; more wait their turn while other clients' jobs start."""
TOKEN_CHECK_S = 1.0
"""How often the engine looks for revoked tokens (tokens.json changed on disk)."""


class EngineServer:
    """Serve ``engine`` on ``host:port`` to clients holding ``token``; the ``ctx`` of every operation
    (which reads its :attr:`engine`, :attr:`deliveries`, :attr:`queue`, :attr:`clients`).

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
        self.pairing = pairing
        self.phone_links = phone_links
        self.lan_host = lan_host
        self.outbox = Outbox(outbox_dir if outbox_dir is not None else config.config_dir() / "outbox")
        self.deliveries = Deliveries(self.outbox, lambda: list(self.clients.values()), engine.on_cpu,
                                     screenshot=screenshot)
        self.handshake = Handshake(engine, token, self.tokens, pairing, phone_links, self.deliveries.send_pending)
        self.queue = JobQueue(max_per_client=engine.limits.max_queued_per_client)
        self.clients: dict[str, Client] = {}
        self.operations = operations.registry()
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
            self.clients.pop(client.id, None)
            log.info("client %s left; %d job(s) cancelled", client.id, len(cancelled))

    async def _dispatch(self, client: Client, message: messages.Message) -> None:
        client.touch()
        if not client.ready:
            if message.type in scopes.HANDSHAKE_TYPES:  # any other frame gets no further in the gate
                self.gate.advanced(client.connection, Stage.HANDSHAKE)
            if message.type == "auth" and self.gate.full:  # others got in since its upgrade
                await client.send(messages.error("busy", f"{self.gate.clients} clients are connected, the most this "
                                                         f"engine takes (softcut serve --max-connections)", ref=message.id))
                await client.close(1013, "too many connections")
                return
            await self.handshake.step(client, message)
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
        if message.type in scopes.HANDSHAKE_TYPES:
            await client.send(messages.error("bad_message", f"{message.type} after hello: the handshake is done", ref=message.id))
            return
        operation = self.operations.get(message.type)
        if operation is None:
            await client.send(messages.error("unknown_type", f"unknown request type {message.type!r}", ref=message.id))
            return
        request = replace(message, fields=with_defaults(message))
        job = Job(id=message.id, client=client.id, kind=message.type, work=partial(operation.run, self, request=request),
                  priority=PRIORITIES.get(request.fields.get("priority"), 0), holds_runner=operation.KIND.holds_runner)
        job.on_progress = self._progress_sender(client, job, asyncio.get_running_loop())
        if hasattr(operation, "prepare"):
            operation.prepare(self, job, request)
        if not operation.KIND.queued:  # answered now, before the connection's next message is read
            await self._run(job)
            return
        try:
            position = self.queue.submit(job)
        except QueueFull as exc:
            await client.send(messages.error("busy", str(exc), ref=message.id))
            return
        await client.send(messages.accepted(message.id, position=position))

    def _answer(self, client: Client, message: messages.Message) -> None:
        """An editor's answer to an engine request: to the request waiting for it (a late one is dropped,
        but a late ``placed`` ok still empties its delivery from the outbox)."""
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

    async def _start_jobs(self) -> None:
        """Start queued jobs, each on a task of its own, while fewer than :attr:`runners` run (streams hold
        no runner: they last as long as their video). Answers are written by each connection's
        writer, so no client's job waits for another client to read."""
        slots = asyncio.Semaphore(self.runners)
        while True:
            await slots.acquire()
            job = await self.queue.next(self._may_start)
            task = asyncio.ensure_future(self._run_safely(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            if job.holds_runner:
                task.add_done_callback(lambda _: slots.release())
            else:
                slots.release()

    def _may_start(self, job: Job) -> bool:
        """Whether ``job`` may start now: its client is reading its answers (not :attr:`~Client.congested`)
        and, for a job that holds a runner, has fewer than :data:`RUNNING_PER_CLIENT` jobs running."""
        client = self.clients.get(job.client)
        if client is not None and client.congested:
            return False
        return not job.holds_runner or self.queue.running(job.client) < RUNNING_PER_CLIENT

    async def _run_safely(self, job: Job) -> None:
        try:
            await self._run(job)
        except Exception:  # a runner must outlive any one job
            log.exception("job %s (%s): the engine could not answer", job.id, job.kind)
            self.queue.finish(job, JobState.FAILED)

    async def _run(self, job: Job) -> None:
        """The one lifecycle of every job: its work, then its answer: ``cancelled``, ``error``, the
        ``result`` of its :class:`~engine_server.operations.common.Reply` or the message it returned."""
        client = self.clients.get(job.client)
        started = time.perf_counter()
        try:
            job.check()
            reply = await job.work(job)
        except JobCancelled:
            self.queue.finish(job, JobState.CANCELLED)
            if client:
                await client.send(messages.cancelled(job.id, by=job.cancelled_by))
        except ANSWERED as exc:
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
            if not isinstance(reply, Reply):
                if client and reply is not None:
                    await client.send(reply)
                return
            self.jobs_done += 1
            if client:
                fields = {"result": uuid.uuid4().hex, **reply.fields, "job_seconds": round(time.perf_counter() - started, 4)}
                await client.send(messages.result(job.id, fields, reply.buffers))
