"""The batch loop ``cut`` and ``client select-subject`` share: expand the inputs, check each from its
header before the model is opened (or the engine reached), matte the good ones, write the results,
and with ``--watch`` keep polling the input folders for new images until Ctrl-C.

Exit status: 0 all done; 1 some inputs failed (each said by name, the others written)."""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import ImageInputError, ParameterError, SoftcutError
from softcut_app.commands.inputs import Input, expand, folder_files, patterns, refuse_same_outputs
from softcut_app.commands.outputs import Writer
from softcut_app.console import Console


@dataclass
class Matte:
    """What a matting back end gives for one image: ``alpha`` (H, W) and ``foreground`` (H, W, 3)
    float32 in [0, 1] (None when not asked for), ``trimap`` (H, W) uint8 or None, and ``fields`` for
    the JSON result (confidence, device, timings…)."""

    alpha: np.ndarray
    foreground: np.ndarray | None
    trimap: np.ndarray | None = None
    fields: dict = field(default_factory=dict)


Process = Callable[[np.ndarray, Input], Matte]
"""``process(image, item)``: one image's matte."""


def output_folders(args: argparse.Namespace) -> list[Path]:
    """The output folders named by ``-o``, ``--alpha-out``, ``--trimap-out`` (left out of folder inputs)."""
    return [Path(p) for p in (args.output, args.alpha_out, args.trimap_out) if p and p != "-"]


def run_batch(args: argparse.Namespace, console: Console,
              backend: Callable[[Writer], contextlib.AbstractContextManager[Process]]) -> int:
    """Run a batch command. ``backend(writer)`` is entered once the inputs have been checked (it opens the
    model or connects to the engine) and gives the function that mattes one image."""
    if args.watch:
        _check_watch(args)
    items, folders = expand(args.inputs, args.glob, skip=output_folders(args))
    if not items and not args.watch:
        raise ParameterError(f"INPUT: no images matching --glob {args.glob!r} in {', '.join(args.inputs)}")
    writer = Writer(args, console, many=len(items) > 1 or folders or args.watch)
    refuse_same_outputs(items)  # after the outputs' own checks, whose messages say more
    failures, good = 0, []
    for item in items:
        try:
            item.check(args.max_pixels)
            good.append(item)
        except ImageInputError as exc:
            failures += 1
            console.error(str(exc))
    if not good and not args.watch:
        return 1
    with backend(writer) as process:
        done = {item.path: _stat(item.path) for item in items if item.path is not None}  # failed ones too
        try:
            for item in good:
                failures += not _one(args, console, writer, process, item)
        except KeyboardInterrupt:
            if not args.watch:
                raise
            console.info("stopped watching")
            return 1 if failures else 0
        if args.watch:
            failures += _watch(args, console, writer, process, done)
    return 1 if failures else 0


def _one(args: argparse.Namespace, console: Console, writer: Writer, process: Process, item: Input) -> bool:
    """Matte and write one input; a failure is said by name and gives False."""
    try:
        image = item.load(args.max_pixels)
        matte = process(image, item)
        written = writer.write(item, matte.alpha, matte.foreground, matte.trimap)
    except SoftcutError as exc:
        console.error(str(exc) if item.name in str(exc) else f"{item.name}: {exc}")
        return False
    console.result({"input": item.name, **written, "width": image.shape[1], "height": image.shape[0], **matte.fields},
                   f"{item.name} -> {written['output']}")
    return True


def _check_watch(args: argparse.Namespace) -> None:
    if args.watch_interval <= 0:
        raise ParameterError(f"--watch-interval: expected seconds > 0; got {args.watch_interval}")
    not_folders = [spec for spec in args.inputs if not Path(spec).is_dir()]
    if not_folders:
        raise ParameterError(f"--watch: INPUT must be folders to watch; not a folder: {', '.join(not_folders)}")
    if args.output == "-":
        raise ParameterError("--watch: -o must be a folder, not standard output")


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _new_files(args: argparse.Namespace) -> Iterator[tuple[Path, Path]]:
    """(file, its input folder) for every matching file in the watched folders."""
    globs, skip = patterns(args.glob), output_folders(args)
    for spec in args.inputs:
        folder = Path(spec)
        for path in folder_files(folder, globs, skip=skip):
            yield path, folder


def _watch(args: argparse.Namespace, console: Console, writer: Writer, process: Process,
           done: dict[Path, tuple[int, int] | None]) -> int:
    """Poll the input folders every ``--watch-interval`` seconds; a file is processed once its size and
    modification time held still over one interval (a copy in progress is waited for), and again when
    it changes. Ctrl-C stops; returns the failures."""
    failures = 0
    seen: dict[Path, tuple[int, int] | None] = {}
    console.info(f"watching {', '.join(args.inputs)} for new images every {args.watch_interval:g} s; Ctrl-C stops")
    try:
        while True:
            time.sleep(args.watch_interval)
            for path, folder in _new_files(args):
                stat = _stat(path)
                if stat is None or done.get(path) == stat:
                    continue
                if seen.get(path) == stat and stat[0] > 0:
                    done[path] = stat
                    item = Input(path, str(path), path.relative_to(folder))
                    try:
                        item.check(args.max_pixels)
                    except ImageInputError as exc:
                        failures += 1
                        console.error(str(exc))
                        continue
                    failures += not _one(args, console, writer, process, item)
                seen[path] = stat
    except KeyboardInterrupt:
        console.info("stopped watching")
    return failures


def add_batch_flags(p: argparse.ArgumentParser) -> None:
    """--glob, --watch and --watch-interval."""
    from softcut_app.commands.inputs import DEFAULT_GLOB

    p.add_argument("--glob", default=DEFAULT_GLOB,
                   help="for folder inputs: the files to take, searched recursively (comma-separated patterns, any case)")
    p.add_argument("--watch", action="store_true",
                   help="after the images already there, keep watching the INPUT folders and cut out each new image "
                        "once it is completely written; Ctrl-C stops")
    p.add_argument("--watch-interval", type=float, default=1.0, metavar="S",
                   help="with --watch: seconds between looks at the folders (a file must hold still this long)")
