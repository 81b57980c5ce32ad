"""The resumable store of a ``softcut video`` run.

Frames are written as RGBA PNGs (temporary name, then renamed) into a store folder (the first
folder output, else ``<first video output>.partial/``) with a state file (:data:`STATE_NAME`: the
input's identity, the options that change the result, the frames done) and the last finished
frame's filtered matte (float32 ``.npy``). A run with the same input and options carries on after
the last finished frame. A store holding another input's or other options' unfinished run is
refused (:class:`ResumeConflictError`) unless ``restart`` is given.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from core.errors import ParameterError, SoftcutError
from core.imageio import save_png
from core.video.encode import Output

log = logging.getLogger(__name__)

STATE_NAME = ".softcut-video.json"
"""The state file of a run, in its store folder."""

STATE_VERSION = 1


class ResumeConflictError(SoftcutError):
    """An output's store holds an unfinished run of another input or other options."""

    code = "resume_conflict"


def store_folder(outputs: list[Output]) -> tuple[Path, bool]:
    """Where a run writes its frames: the first folder output, else a work folder beside the
    first video output (``cut.mov.partial``). Returns (folder, whether it is a work folder)."""
    for out in outputs:
        if out.kind == "folder":
            return out.path, False
    first = outputs[0].path
    return first.with_name(first.name + ".partial"), True


class FrameStore:
    """The folder holding a run's finished frames (RGBA PNGs), its state file and the last
    finished frame's filtered matte (float32 ``.npy``), each written under a temporary
    name and renamed, so an interrupted run leaves whole files only."""

    def __init__(self, folder: Path, *, work: bool) -> None:
        self.folder = folder
        self.work = work
        self.state: dict = {}

    @property
    def state_path(self) -> Path:
        return self.folder / STATE_NAME

    @property
    def done(self) -> int:
        """Frames finished so far."""
        return int(self.state.get("frames_done", 0))

    @property
    def finished(self) -> bool:
        """Whether every frame is done (only the video encoding may be left)."""
        return bool(self.state.get("finished", False))

    def begin(self, identity: dict, options: dict, *, restart: bool) -> int:
        """Open the store for a run of input ``identity`` with result-changing ``options``.

        Returns the frames already done by an earlier run of the same input and options (0
        for a new run). Raises ResumeConflictError when the store holds another input's or
        other options' run and ``restart`` is False."""
        if self.folder.is_dir():
            for stale in self.folder.glob(".*.tmp"):  # a frame, matte or state being written when stopped
                if stale.name.startswith(".softcut-") or ".png." in stale.name:
                    stale.unlink(missing_ok=True)
        old = None if restart else _read_state(self.state_path)
        if old is not None:
            if old.get("version") == STATE_VERSION and old.get("input") == identity and old.get("options") == options:
                self.state = old
                if self.done and not self._matte_path(self.done - 1).is_file():
                    self.state["frames_done"], self.state["finished"] = 0, False  # no matte to seed from
                return self.done
            what = "another input" if old.get("input") != identity else "other options"
            raise ResumeConflictError(
                f"{self.folder} holds an unfinished run of {old.get('input', {}).get('path', 'another input')} "
                f"({old.get('frames_done', 0)} frames done) with {what}; run the same command as then to "
                "resume it, add --restart to start over, or choose another output"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".softcut-matte-*.npy"):
            stale.unlink()
        self.state = {"version": STATE_VERSION, "input": identity, "options": options, "frames_done": 0,
                      "finished": False}
        self._save_state()
        return 0

    def write(self, index: int, name: str, rgba: np.ndarray, filtered: np.ndarray) -> None:
        """Record frame ``index`` as done: ``rgba`` (H, W, 4) uint8 straight RGBA, written as
        ``name``; ``filtered`` (H, W) float32 in [0, 1], its matte after the temporal filter
        (what a resumed run seeds from)."""
        if index != self.done:
            raise ParameterError(f"index: expected frame {self.done} next; got {index}")
        save_png(self.folder / name, rgba)
        matte = self._matte_path(index)
        tmp = matte.with_name(matte.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(filtered, np.float32))
        os.replace(tmp, matte)
        self.state["frames_done"] = index + 1
        self._save_state()
        if index:
            self._matte_path(index - 1).unlink(missing_ok=True)

    def last_filtered(self) -> np.ndarray:
        """(H, W) float32 in [0, 1]: the filtered matte of the last frame done."""
        return np.load(self._matte_path(self.done - 1))

    def mark_finished(self) -> None:
        """Every frame is done; only outputs are left to write."""
        self.state["finished"] = True
        self._save_state()

    def close(self) -> None:
        """The run is complete: remove its state (and the folder, for a work folder)."""
        if self.work:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        self.state_path.unlink(missing_ok=True)
        for matte in self.folder.glob(".softcut-matte-*.npy"):
            matte.unlink()

    def _matte_path(self, index: int) -> Path:
        return self.folder / f".softcut-matte-{index:06d}.npy"

    def _save_state(self) -> None:
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(self.state, indent=1))
        os.replace(tmp, self.state_path)


def _read_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        log.warning("%s: unreadable state file, starting over", path)
        return None
