"""The asyncio WebSocket server: a thin layer over the protocol codec, the job queue
and the operations.

Per connection: frames → :class:`~engine_server.protocol.codec.Decoder` →
messages; ``hello`` first (token checked; before it, ``pair`` may trade a
pairing code or a phone link's one-time token for the token), then requests become
jobs on the shared queue. Job runners take the most urgent job, run its operation on
the engine's workers and send ``progress``, then ``result`` / ``error`` /
``cancelled``. A video stream's job (``video_start``) runs on a task of its own rather
than on a runner, fed by ``video_frame`` / ``video_end`` (:mod:`engine_server.operations.video`).
A client that disconnects has its jobs cancelled. Editor connections
(hello accepts ``place_layer``) also answer the engine's own requests
(:mod:`engine_server.connections`) and get the outbox's pending deliveries when they
say hello (:mod:`engine_server.deliveries`). Plain HTTP GETs on the same port serve
the phone's page (:mod:`engine_server.phone_http`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
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
from core.models import registry
from engine_server import config, lan, phone_http
from engine_server.connections import Client
from engine_server.deliveries import Deliveries
from engine_server.engine import Engine
from engine_server.jobs import PRIORITIES, Job, JobCancelled, JobQueue, JobState, QueueFull
from engine_server.operations import (adjust_edges, phone_cut, phone_paste, plate_matte, refine, select_subject, soft_segments,
                                      trimap, video)
from engine_server.operations.common import NotFound, error_code
from engine_server.outbox import Outbox
from engine_server.protocol import codec, messages
from engine_server.protocol.errors import ProtocolError
from engine_server.protocol.schemas import EDITOR_REPLY_TYPES, PAIRING_CODE_DIGITS, STREAM_TYPES
from engine_server.security import PairingCodes, PhoneLinks, origin_allowed, same_origin_ip_page, token_matches

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


class EngineServer:
    """Serve ``engine`` on ``host:port`` to clients holding ``token``.

    ``pairing``: the pairing codes clients may trade for the token with ``pair``;
    None turns pairing off (``pair`` is refused as ``unauthorized``).
    ``phone_links``: the one-time tokens of the phone's URL (LAN mode), also accepted by
    ``pair``; None: LAN mode is off (``phone_link`` is ``not_found``).
    ``lan_host``: the address the phone's URL names (LAN mode).
    ``outbox_dir``: where phone cut-outs wait for an editor (default ``<config dir>/outbox``).
    ``screenshot``: takes a desktop screenshot for locating phone photos where an editor's
    snapshot is not enough (:func:`engine_server.screen.grab_screen`; None: never).
    """

    def __init__(
        self,
        engine: Engine,
        token: str,
        *,
        host: str,
        port: int,
        allowed_origins: frozenset[str] = frozenset(),
        runners: int = 2,
        pairing: PairingCodes | None = None,
        phone_links: PhoneLinks | None = None,
        lan_host: str | None = None,
        outbox_dir: Path | None = None,
        screenshot: Callable[[], np.ndarray | None] | None = None,
    ) -> None:
        self.engine = engine
        self.token = token
        self.host = host
        self.port = port
        self.allowed_origins = allowed_origins
        self.runners = runners
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
        self._detached: set[asyncio.Task] = set()
        self._ids = itertools.count(1)
        self.started = time.time()
        self.jobs_done = 0

    async def run(self, stop: asyncio.Future, *, ready: asyncio.Future | None = None) -> None:
        """Serve until ``stop`` resolves; ``ready`` gets the bound port."""
        runners = [asyncio.create_task(self._runner()) for _ in range(self.runners)]
        dropped = self.outbox.drop_stale()
        if dropped:
            log.info("dropped %d staged phone cut(s) older than a day", len(dropped))
        limits = self.engine.limits
        async with serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            max_size=limits.max_frame_bytes,
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
        for task in list(self._detached):  # the video streams
            task.cancel()
        self.engine.close()

    def phone_url(self) -> str | None:
        """The phone's pairing URL with the current one-time token; None when LAN mode is off."""
        if self.phone_links is None or self.lan_host is None:
            return None
        return lan.phone_url(self.lan_host, self.port, self.phone_links.current)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Plain HTTP GETs: the phone's page; WebSocket upgrades: the Origin check."""
        if not phone_http.is_upgrade(request):
            return phone_http.respond(request)
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
        )
        self.clients[client.id] = client
        log.info("client %s connected from %s", client.id, connection.remote_address)
        try:
            async for frame in connection:
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
            await self._handshake(client, message)
            return
        if message.type in EDITOR_REPLY_TYPES and message.ref is not None:
            self._answer(client, message)
            return
        if message.type in ("hello", "pair"):
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
        await client.connection.close(4001, "unauthorized")

    async def _handshake(self, client: Client, message: messages.Message) -> None:
        if message.type == "pair":
            await self._pair(client, message)
        elif message.type == "hello":
            await self._hello(client, message)
        else:
            await client.send(messages.error("not_ready", "send hello (or pair) first", ref=message.id))

    async def _pair(self, client: Client, message: messages.Message) -> None:
        name = str(message.fields["client"]["name"])
        code = message.fields["code"]
        codes = self.pairing if len(code) == PAIRING_CODE_DIGITS else self.phone_links
        if codes is None:
            off = "pairing is off" if len(code) == PAIRING_CODE_DIGITS else "LAN mode is off (no phone links)"
            await self._refuse(client, message, f"{off} on this engine: use the token file")
            return
        if not codes.redeem(code):
            log.info("client %s (%s) offered a wrong or expired pairing code", client.id, name)
            await self._refuse(
                client, message,
                "wrong or expired pairing code: `softcut serve` prints the current one on its console",
            )
            return
        log.info("client %s (%s) paired", client.id, name)
        await client.send(messages.paired(self.token, ref=message.id))

    async def _hello(self, client: Client, message: messages.Message) -> None:
        # The decoder has already refused any other protocol version (unsupported_version).
        if not token_matches(message.fields.get("token"), self.token):
            await self._refuse(client, message, "wrong or missing token")
            return
        client.ready = True
        client.name = str((message.fields.get("client") or {}).get("name", ""))
        client.accepts = frozenset(message.fields.get("accepts", ()))
        client.cutout_format = str(message.fields.get("cutout_format", "png"))
        log.info("client %s is %s%s", client.id, client.name or "unnamed", " (an editor)" if client.is_editor else "")
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

    def _models(self) -> list[dict[str, Any]]:
        loaded = self.engine.session.name
        return [
            {"name": name, "loaded": name == loaded, "licence": spec.licence, "description": spec.description}
            for name, spec in registry.MODELS.items()
        ] + ([] if loaded in registry.MODELS else [{"name": loaded, "loaded": True, "licence": "user-provided"}])

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

    async def _runner(self) -> None:
        while True:
            job = await self.queue.next()
            if job.kind in DETACHED:
                task = asyncio.ensure_future(self._run_safely(job))
                self._detached.add(task)
                task.add_done_callback(self._detached.discard)
                continue
            await self._run_safely(job)

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
