"""``softcut serve`` and ``softcut client …``: the engine's commands on top of core's CLI."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys
from pathlib import Path

from softcut_app import commands as core_cli
from core.errors import ParameterError
from wire import config
from wire.protocol import schemas
from softcut_app.tokens_cli import add_tokens_command


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve_token(args: argparse.Namespace, console: core_cli.Console) -> str:
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


def _allowed_origins(origins: list[str], console: core_cli.Console) -> frozenset[str]:
    """The ``--allow-origin`` values; ``null`` is warned about (sandboxed frames and file:// pages
    of any site send it)."""
    for origin in origins:
        if origin.strip().lower() == "null":
            console.warn("--allow-origin null accepts any sandboxed iframe, data: or file:// page, of any site: "
                         "every such page can then reach the engine (it still needs the token)")
    return frozenset(origins)


def cmd_serve(args: argparse.Namespace, console: core_cli.Console) -> int:
    from functools import partial

    from core.models.session import open_session
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
    session = core_cli._open_session(args, console, rehash=True)  # ~0.1 s for the 88 MB default model
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
               open_model=partial(open_session, device=args.device, fetch=False)),  # never downloads while serving
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


def _raw_rgb(pixels, name: str = "image"):
    """A (H, W, 3) float32 RGB image in [0, 1] as a raw rgb8 buffer called ``name``."""
    from core.imageio import float_to_uint8
    from wire.client import raw_image

    data = float_to_uint8(pixels)
    return raw_image(data.shape[1], data.shape[0], "rgb8", data.tobytes(), name=name)


def _raw_file(path, max_pixels: int, name: str = "image"):
    """The image file ``path``, decoded exactly as `softcut cut` decodes it (EXIF, CMYK, 16-bit), as a raw
    rgb8 buffer called ``name``."""
    from core.imageio import load_image

    return _raw_rgb(load_image(path, max_pixels=max_pixels), name)


def cmd_client_select_subject(args: argparse.Namespace, console: core_cli.Console) -> int:
    from wire.client import SoftcutClient

    buffer = _raw_file(args.image, args.max_pixels)
    options = {"outputs": ["cutout"], "format": "png", "refine": args.refine}
    bar = console.progress(Path(args.image).name)
    try:
        with SoftcutClient(host=args.host, port=args.port, timeout=args.timeout) as client:
            if args.plate:
                result = client.plate_matte(buffer, _raw_file(args.plate, args.max_pixels, "plate"),
                                            progress=bar, **options)
            else:
                result = client.select_subject(buffer, progress=bar, **options)
    finally:
        bar.close()
    Path(args.output).write_bytes(result.buffers["cutout"])
    fields = {k: v for k, v in result.fields.items() if k != "timings"}
    console.result({"input": args.image, "output": args.output, **fields}, f"{args.image} -> {args.output}")
    return 0


def cmd_client_video(args: argparse.Namespace, console: core_cli.Console) -> int:
    """Matte a folder of frames through the engine's video stream: one RGBA cut-out PNG per frame."""
    from core.errors import ParameterError
    from core.video.io import FolderSource
    from wire.client import SoftcutClient

    source, target = Path(args.input), Path(args.output)
    if not source.is_dir():
        raise ParameterError(f"FOLDER_IN: expected a folder of frames; got {source}")
    folder = FolderSource(source, max_pixels=args.max_pixels)  # natural order; names, sizes checked
    target.mkdir(parents=True, exist_ok=True)
    frames = (_raw_rgb(frame) for frame in folder.frames())  # decoded as `softcut cut` decodes them, sent raw
    plate = _raw_file(args.plate, args.max_pixels, "plate") if args.plate else None
    bar = console.frame_progress(source.name)
    try:
        with SoftcutClient(host=args.host, port=args.port, timeout=args.timeout) as client:
            for result in client.video_matte(frames, outputs=["cutout"], format="png", refine=args.refine,
                                             smoothing=args.smoothing, delay=not args.no_delay, plate=plate):
                index = result.fields["index"]
                (target / folder.info.name(index)).write_bytes(result.buffers["cutout"])
                bar.frames(index + 1, folder.info.frames)
            summary = client.last_video or {}
    finally:
        bar.close()
    console.result({"input": str(source), "output": str(target), "frames": summary.get("frames"),
                    "timings": summary.get("timings")}, f"{source} -> {target}: {summary.get('frames')} frames")
    return 0


def cmd_install_plugin(args: argparse.Namespace, console: core_cli.Console) -> int:
    from softcut_app.plugin_install import INSTALLERS, PHOTOSHOP_PLUGIN, plugin_source

    resource_dir = Path(args.resource_dir) if args.resource_dir else None
    config_file = Path(args.config_file) if args.config_file else None
    package = INSTALLERS[args.editor](resource_dir, config_file)
    if args.editor == "photoshop":
        folder = plugin_source(PHOTOSHOP_PLUGIN)
        console.result({"editor": args.editor, "installed": str(package), "plugin_folder": str(folder)},
                       f"wrote {package}: double-click {package.name} (Creative Cloud installs it), or in the "
                       f"UXP Developer Tool choose Add Plugin and pick manifest.json in {folder}; then open "
                       f"Plugins › Softcut in Photoshop, start `softcut serve`, and enter the pairing code it prints")
        return 0
    console.result({"editor": args.editor, "installed": str(package)},
                    f"installed the {args.editor} plug-in in {package} and enabled it; restart {args.editor}, "
                    f"then start the engine with `softcut serve`")
    return 0


def cmd_photoshop_place(args: argparse.Namespace, console: core_cli.Console) -> int:
    from softcut_app.photoshop_com import place_png

    answer = place_png(args.cutout, args.x, args.y, args.name)
    console.result({"cutout": args.cutout, "x": args.x, "y": args.y, "name": args.name, "photoshop": answer},
                   f"placed {args.cutout} in Photoshop as layer {args.name!r} at ({args.x}, {args.y})")
    return 0


def add_commands(sub: argparse._SubParsersAction, add_common) -> None:
    serve = sub.add_parser("serve", help="run the engine for editor plug-ins (WebSocket, loopback only)")
    serve.add_argument("--host", default=config.DEFAULT_HOST)
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
    serve.add_argument("--max-queued", type=int, default=16, help="jobs each client may queue")
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

    client = sub.add_parser("client", help="talk to a running engine")
    client_sub = client.add_subparsers(dest="client_command", required=True)
    sel = client_sub.add_parser("select-subject", help="cut out the subject through the engine")
    sel.add_argument("image")
    sel.add_argument("-o", "--output", required=True, help="RGBA PNG")
    sel.add_argument("--host", default=config.DEFAULT_HOST)
    sel.add_argument("--port", type=int, default=config.DEFAULT_PORT)
    sel.add_argument("--refine", default="best", choices=("none", "fast", "best"))
    sel.add_argument("--plate", help="a clean plate of the same scene without the subject (plate_matte)")
    sel.add_argument("--timeout", type=float, default=300.0)
    add_common(sel, model=False)
    sel.set_defaults(func=cmd_client_select_subject)
    vid = client_sub.add_parser("video", help="matte a folder of frames through the engine (one cut-out PNG per frame)")
    vid.add_argument("input", metavar="FOLDER_IN", help="the frames, in natural name order (frame2 before frame10)")
    vid.add_argument("output", metavar="FOLDER_OUT", help="one RGBA PNG per frame, named after it")
    vid.add_argument("--host", default=config.DEFAULT_HOST)
    vid.add_argument("--port", type=int, default=config.DEFAULT_PORT)
    vid.add_argument("--refine", default=schemas.DEFAULT_VIDEO_REFINE, choices=("none", "fast", "best"))
    vid.add_argument("--smoothing", type=float, default=schemas.DEFAULT_SMOOTHING, help="motion-compensated smoothing in [0, 1); 0: off")
    vid.add_argument("--no-delay", action="store_true", help="no one-frame-delay correction of lone flickers")
    vid.add_argument("--plate", help="a clean plate of the static background without the subject")
    vid.add_argument("--timeout", type=float, default=300.0)
    add_common(vid, model=False)
    vid.set_defaults(func=cmd_client_video)

    add_tokens_command(sub, add_common)

    install = sub.add_parser("install-plugin", help="install an editor plug-in for this user and enable it")
    install.add_argument("editor", choices=("krita", "gimp", "photoshop"))
    install.add_argument("--resource-dir", help="the editor's per-user folder (Krita: where pykrita/ goes; GIMP: where "
                         "plug-ins/ goes; Photoshop: where softcut-photoshop.ccx is written)")
    install.add_argument("--config-file", help="the editor's settings file to enable the plug-in in (kritarc)")
    add_common(install, model=False)
    install.set_defaults(func=cmd_install_plugin)

    place = sub.add_parser("photoshop-place", help="place a cut-out PNG as a new layer in Photoshop (Windows only, COM)")
    place.add_argument("cutout", help="the cut-out PNG (softcut cut … -o cut.png)")
    place.add_argument("--x", type=int, required=True, help="document pixels from the left for the PNG's left edge")
    place.add_argument("--y", type=int, required=True, help="document pixels from the top for the PNG's top edge")
    place.add_argument("--name", default="Softcut cut-out", help="the new layer's name")
    add_common(place, model=False)
    place.set_defaults(func=cmd_photoshop_place)


def main(argv: list[str] | None = None) -> int:
    from wire.client import ClientError

    try:
        return core_cli.main(argv, extend=add_commands)
    except (ClientError, config.ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
