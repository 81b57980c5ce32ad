"""The ``softcut`` entry point: one parser built from the command modules (:mod:`softcut_app.commands`),
and :func:`main`, which runs the chosen command and turns its failures into a message and an exit code."""

from __future__ import annotations

import argparse
import logging
import sys

import core
from core.errors import SoftcutError
from softcut_app.commands import (
    client, editors, evaluate, images, locate, models, objects, sample, serve, tokens, video,
)
from softcut_app.console import Console
from wire import config

COMMANDS = (images.add_cut, objects.add_object, video.add_video, images.add_refine, images.add_trimap, evaluate.add_eval, models.add_models,
            sample.add_sample, locate.add_locate, images.add_layers, models.add_doctor, serve.add_serve,
            client.add_client, tokens.add_tokens, editors.add_install_plugin, editors.add_photoshop_place)
"""Each adds one top-level command, in the order ``softcut --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The ``softcut`` parser; each command sets ``func``, its ``cmd_*(args, console)``."""
    parser = argparse.ArgumentParser(prog="softcut", description="Local Select Subject: soft alpha mattes.")
    parser.add_argument("--version", action="version", version=f"softcut {core.__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``softcut`` with ``argv`` (default: the process's arguments); returns the exit code: 0 done,
    1 some inputs failed, 2 an error (said on stderr), 130 interrupted."""
    from wire.client import ClientError

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    console = Console(args)
    try:
        return args.func(args, console)
    except (SoftcutError, ClientError, config.ConfigError) as exc:
        console.error(str(exc))
        return 2
    except KeyboardInterrupt:
        console.error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
