"""``softcut serve``: run the engine for editor plug-ins (and, with ``--lan``, the phone)."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys

from core.errors import ParameterError
from softcut_app.commands.common import add_common, open_session
from softcut_app.console import Console
from wire import config
from wire.protocol.constants import DEFAULT_MAX_QUEUED_PER_CLIENT


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve_token(args: argparse.Namespace, console: Console) -> str:
    """The engine's pairing token: a new one with ``--new-token``, else the token file's (created on
    first start). The config folder and everything in it are made private first (0700/0600).
    Raises config.ConfigError (a bad token file, a full disk) with a message that says what to do."""
    for change in config.secure_config_dir():
        console.warn(f"tightened {change}")
    if not args.new_token:
        return config.load_or_create_token()
    token = config.new_token()
    console.info(f"wrote a new pairing token to {config.token_path()}: clients on this machine read it when they "
                 f"next connect; clients that paired (the Photoshop panel, phones) must pair again")
    return token


def _allowed_origins(origins: list[str], console: Console) -> frozenset[str]:
    """The ``--allow-origin`` values; ``null`` is warned about (sandboxed frames and file:// pages
    of any site send it)."""
    for origin in origins:
        if origin.strip().lower() == "null":
            console.warn("--allow-origin null accepts any sandboxed iframe, data: or file:// page, of any site: "
                         "every such page can then reach the engine (it still needs the token)")
    return frozenset(origins)


def cmd_serve(args: argparse.Namespace, console: Console) -> int:
    from functools import partial

    from core.models.session import open_session as open_model_session
    from engine_server import memory
    from engine_server.engine import Engine
    from wire.protocol.messages import Limits
    from engine_server import lan
    from engine_server.security import PairingCodes, PhoneLinks
    from engine_server.phone.screen import grab_screen
    from engine_server.gate import ConnectionLimits
    from engine_server.server import EngineServer

    host = "0.0.0.0" if args.lan and args.host == config.DEFAULT_HOST else args.host
    if not _is_loopback(host) and not args.lan:
        raise ParameterError(f"host: {host} is not a loopback address; add --lan to listen beyond this machine")
    if not getattr(args, "verbose", False):  # refused attacks, dropped clients: said once, even when quiet
        logging.getLogger("engine_server").setLevel(logging.WARNING)
    token = _serve_token(args, console)  # before the model: a bad token file fails fast
    memory_bytes = None if args.memory is None else memory.parse_size(args.memory)  # fails before the model loads
    if args.max_models < 0:
        raise ParameterError(f"--max-models: expected 0 or more; got {args.max_models}")
    console.info(f"loading model {args.model}…")
    session = open_session(args, console, rehash=True)  # ~0.1 s for the 88 MB default model
    limits = Limits(max_pixels=args.max_pixels, max_queued_per_client=args.max_queued)
    # Replaced after each use and on expiry (wrong guesses never replace it): each new one is printed.
    pairing = PairingCodes(on_new=lambda code: console.info(f"new pairing code: {code}"))
    # LAN mode: the phone's URL carries a one-time token, replaced (and printed again) after use or expiry.
    links = PhoneLinks(on_new=lambda token: show_phone_url()) if args.lan else None
    lan_host = (lan.lan_address() if host == "0.0.0.0" else host) if args.lan else None

    def show_phone_url() -> None:
        url = server.phone_url()
        if url is not None:
            console.info(f"phone: {url}")
            sys.stderr.write(lan.qr_text(url) + "\n")
            sys.stderr.flush()

    server = EngineServer(
        Engine(session, limits=limits, cache_bytes=args.cache_mb * 1024 * 1024,
               memory_bytes=memory_bytes, max_models=args.max_models,
               open_model=partial(open_model_session, device=args.device, fetch=False)),  # never downloads while serving
        token,
        host=host,
        port=args.port,
        allowed_origins=_allowed_origins(args.allow_origin or (), console),
        runners=args.jobs,
        connection_limits=ConnectionLimits(max_clients=args.max_connections, hello_timeout_s=args.hello_timeout),
        write_timeout_s=args.write_timeout,
        pairing=pairing,
        phone_links=links,
        lan_host=lan_host,
        screenshot=None if args.no_screenshots else grab_screen,
    )

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        ready = loop.create_future()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
            except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C arrives as KeyboardInterrupt
                pass
        task = asyncio.create_task(server.run(stop, ready=ready))
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():  # the server failed before listening (port taken, bad host)
            await task
        port = ready.result()
        console.info(f"Softcut engine ready on ws://{host}:{port} — model {session.name} on {session.device}")
        console.info(f"pairing: clients on this machine read the token from {config.token_path()}")
        minutes = round(pairing.lifetime_s / 60)
        console.info(f"pairing code: {pairing.current} (for the Photoshop panel; valid {minutes} minutes, once)")
        if not _is_loopback(host):
            console.warn(f"listening beyond this machine ({host}): every client still needs the token")
        if links is not None:
            minutes = round(links.lifetime_s / 60)
            console.info(f"phone: open this link on the phone, or scan the QR code (valid {minutes} minutes, once):")
            show_phone_url()
        sys.stderr.flush()
        await task

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise ParameterError(f"cannot listen on {host}:{args.port}: {exc.strerror or exc}") from exc
    console.info("engine stopped")
    return 0


def add_serve(sub: argparse._SubParsersAction) -> None:
    """``softcut serve``."""
    serve = sub.add_parser("serve", help="run the engine for editor plug-ins (WebSocket, loopback only)")
    serve.add_argument("--host", default=config.DEFAULT_HOST, help="the address to listen on (loopback unless --lan)")
    serve.add_argument("--port", type=int, default=config.DEFAULT_PORT, help=f"default {config.DEFAULT_PORT}")
    serve.add_argument("--lan", action="store_true", help="also listen on the local network (for the phone)")
    serve.add_argument("--allow-origin", action="append", help="accept this web Origin (repeatable)")
    serve.add_argument("--no-screenshots", action="store_true",
                       help="never take a desktop screenshot to locate a phone photo (by default one is taken, "
                            "kept in memory only, when the editor's snapshot is not enough)")
    serve.add_argument("--cache-mb", type=int, default=1024, help="memory for cached results (MB)")
    serve.add_argument("--memory", metavar="SIZE", default=None,
                       help="memory for jobs and cached results, e.g. 6G or 800M (default: half the machine's RAM); "
                            "--model's own memory is on top (other models a request names are counted in it). Jobs wait until "
                            "they fit; one that never can is refused")
    serve.add_argument("--max-queued", type=int, default=DEFAULT_MAX_QUEUED_PER_CLIENT, help="jobs each client may queue")
    serve.add_argument("--max-models", type=int, default=2, metavar="N",
                       help="other models (those present that requests name) kept loaded besides --model, least "
                            "recently used unloaded first (default 2; 0: only --model), each counted in --memory")
    serve.add_argument("--jobs", type=int, default=8, metavar="N",
                       help="jobs that may run at once (default 8; at most 2 of one client's)")
    serve.add_argument("--max-connections", type=int, default=128, metavar="N",
                       help="authenticated connections at once (default 128); at most 64 more may be saying hello")
    serve.add_argument("--hello-timeout", type=float, default=10.0, metavar="S",
                       help="drop a connection that has not completed its hello within S seconds (default 10)")
    serve.add_argument("--write-timeout", type=float, default=30.0, metavar="S",
                       help="disconnect a client that reads none of its answers for S seconds (default 30)")
    serve.add_argument("--new-token", action="store_true",
                       help="replace the pairing token file with a new token (a bad or leaked one); clients that "
                            "paired must pair again")
    add_common(serve)
    serve.set_defaults(func=cmd_serve)
