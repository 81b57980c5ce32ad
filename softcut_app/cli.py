"""The ``softcut`` entry point: one parser built from the command modules (:mod:`softcut_app.commands`),
and :func:`main`, which runs the chosen command and turns its failures into a message and an exit code.

Exit codes, the same for every command: 0 all done; 1 some inputs failed (each said by name; the others
were written); 2 a usage or setup error (bad flags, a missing model or npm, an unreadable config, no
engine); 130 interrupted (Ctrl-C)."""

from __future__ import annotations

import argparse
import logging
import sys

import core
from core.errors import ImageInputError, SoftcutError
from softcut_app.commands import (
    batch_job, client, editors, evaluate, images, locate, models, objects, sample, serve, tokens, video,
)
from softcut_app.console import Console
from wire import config

COMMANDS = (images.add_cut, batch_job.add_batch, objects.add_object, video.add_video, images.add_refine, images.add_trimap, evaluate.add_eval, models.add_models,
            sample.add_sample, locate.add_locate, images.add_layers, models.add_doctor, serve.add_serve,
            client.add_client, tokens.add_tokens, editors.add_install_plugin, editors.add_photoshop_place)
"""Each adds one top-level command, in the order ``softcut --help`` lists them."""


EXIT_OK, EXIT_INPUTS_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
"""The exit codes (see the module's docstring); argparse's own usage errors exit 2 too."""


class HelpFormatter(argparse.HelpFormatter):
    """``--help`` shows each option's default after its description: "(default: …)" unless the text
    already says it; "off" for a switch, "none" for an option that is unset by default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" in text or action.required or not action.option_strings
                or action.default is argparse.SUPPRESS):
            return text
        if isinstance(action, argparse._StoreTrueAction):
            return f"{text} (default: off)"
        return f"{text} (default: {'none' if action.default is None else '%(default)s'})"


def subparsers(parser: argparse.ArgumentParser):
    """``parser`` and every parser below it (commands, their subcommands), depth first."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from subparsers(child)


def build_parser() -> argparse.ArgumentParser:
    """The ``softcut`` parser; each command sets ``func``, its ``cmd_*(args, console)``."""
    parser = argparse.ArgumentParser(prog="softcut", description="Local Select Subject: soft alpha mattes.",
                                     epilog="Exit status: 0 all done; 1 some inputs failed (the others written); "
                                            "2 usage or setup error; 130 interrupted.")
    parser.add_argument("--version", action="version", version=f"softcut {core.__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in COMMANDS:
        add(sub)
    for each in subparsers(parser):
        each.formatter_class = HelpFormatter
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``softcut`` with ``argv`` (default: the process's arguments); returns the exit code: 0 done,
    1 some inputs failed (a file that cannot be read, decoded or matted), 2 a usage or setup error
    (said on stderr), 130 interrupted."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    console = Console(args)
    try:
        return args.func(args, console)
    except ImageInputError as exc:  # the one input of a command that takes one
        console.error(str(exc))
        return EXIT_INPUTS_FAILED
    except (SoftcutError, config.ConfigError) as exc:
        console.error(str(exc))
        return EXIT_USAGE
    except OSError as exc:  # a file or folder named on the command line that cannot be used
        console.error(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # the engine's client's errors (no engine, a refusal): imported only by those who use it
        if not isinstance(exc, _client_errors()):
            raise
        console.error(str(exc))
        return EXIT_USAGE


def _client_errors() -> tuple[type, ...]:
    """wire.client's ClientError where a command imported the client (none can have been raised otherwise);
    importing it up front would cost every command ~0.2 s before it could refuse a bad input."""
    errors = sys.modules.get("wire.client.errors")
    return (errors.ClientError,) if errors is not None else ()


if __name__ == "__main__":
    sys.exit(main())
