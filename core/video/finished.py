"""The record of a finished ``softcut video`` run, so that the same command run again is not redone.

When a run has written every output, :func:`write_record` leaves ``.NAME.softcut-video.json`` beside
its first output: the input's identity, the options that change the result, the outputs and a stamp
of each (size and modification time of a video file; of every frame of a folder). :func:`finished_frames`
finds a run of the same input, options and outputs done when every output still carries its stamp; a
run that starts removes the record first (:func:`remove_record`), so outputs a later run has begun to
rewrite never pass for finished.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from core.video.encode import Output

RECORD_SUFFIX = ".softcut-video.json"
RECORD_VERSION = 1


def record_path(outputs: list[Output]) -> Path:
    """Where a run of ``outputs`` records that it finished: beside the first output."""
    first = outputs[0].path
    return first.with_name(f".{first.name}{RECORD_SUFFIX}")


def write_record(outputs: list[Output], identity: dict, options: dict, frames: int,
                 name: Callable[[int], str]) -> None:
    """Record a finished run of input ``identity`` with ``options`` that wrote ``frames`` frames
    (frame ``k`` named ``name(k)`` in folder outputs) to every output."""
    record = {"version": RECORD_VERSION, "input": identity, "options": options, "frames": frames,
              "outputs": [_describe(out, frames, name) for out in outputs]}
    path = record_path(outputs)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)


def finished_frames(outputs: list[Output], identity: dict, options: dict, name: Callable[[int], str]) -> int | None:
    """The frames of a finished earlier run of the same input, options and outputs whose outputs are
    all still as it left them; None when there is no such run."""
    try:
        record = json.loads(record_path(outputs).read_text())
        frames = int(record["frames"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if (record.get("version") != RECORD_VERSION or record.get("input") != identity
            or record.get("options") != options):
        return None
    try:
        now = [_describe(out, frames, name) for out in outputs]
    except OSError:  # an output is gone
        return None
    return frames if record.get("outputs") == now else None


def remove_record(outputs: list[Output]) -> None:
    """Forget a finished run of ``outputs`` (a new run is rewriting them)."""
    record_path(outputs).unlink(missing_ok=True)


def _describe(out: Output, frames: int, name: Callable[[int], str]) -> dict:
    """An output's path, kind and stamp. Raises OSError when it or one of its frames is missing."""
    if out.kind == "folder":
        stamp = hashlib.sha1()
        for k in range(frames):
            stat = (out.path / name(k)).stat()
            stamp.update(f"{name(k)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        return {"path": str(out.path.resolve()), "kind": out.kind, "frames": stamp.hexdigest()}
    stat = out.path.stat()
    return {"path": str(out.path.resolve()), "kind": out.kind, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
