"""``softcut cut FOLDER -o OUT --watch`` (issue 23, as rembg's ``p -w``): the images already in the
folder, then each new one once it is completely written (a file still growing is waited for), each
once; Ctrl-C stops cleanly. Real child processes and real files appearing over time; the waits are
generous and nothing is asserted about speed."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from cli_support import true_alpha, write_corrupt, write_disc

WAIT_S = 180.0
"""The longest wait for something the child should do (a loaded machine is slow, never wrong)."""


class Watcher:
    """A ``softcut cut INBOX -o OUT --watch`` child whose stdout and stderr are collected as they come."""

    def __init__(self, inbox: Path, out: Path, model: Path) -> None:
        command = [sys.executable, "-m", "softcut_app.commands", "cut", str(inbox), "-o", str(out), "--watch",
                   "--watch-interval", "0.5", "--model", str(model), "--device", "cpu", "--refine", "fast"]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self.threads = [threading.Thread(target=self._drain, args=(s, b), daemon=True)
                        for s, b in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _drain(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)

    def wait_for(self, what, description: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not what():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"never saw {description}; stderr:\n{''.join(self.err)}")
            time.sleep(0.05)

    def interrupt(self) -> int:
        """Ctrl-C, then the exit status."""
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # a child that ignored Ctrl-C must not outlive the test
            raise AssertionError(f"still watching {WAIT_S:.0f} s after Ctrl-C; stderr:\n{''.join(self.err)}") from None
        for thread in self.threads:
            thread.join(10)
        return code


def _good_cutout(path: Path) -> bool:
    alpha = np.asarray(Image.open(path).getchannel("A"), np.float32) / 255.0
    return np.abs(alpha - true_alpha()).mean() < 0.03


def test_watch_cuts_out_what_arrives_once_it_is_complete_and_stops_on_ctrl_c(tmp_path, tiny_model):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write_disc(inbox / "already.png")
    watcher = Watcher(inbox, out, tiny_model)
    watcher.wait_for(lambda: (out / "already.png").is_file(), "the image already there cut out")
    watcher.wait_for(lambda: any("watching" in line for line in watcher.err), "the watch begin")

    write_disc(tmp_path / "staging" / "copied.png").rename(inbox / "copied.png")  # appears at once
    slow = write_disc(tmp_path / "staging" / "slow.png").read_bytes()
    (inbox / "later").mkdir()
    with open(inbox / "later" / "slow.png", "wb") as f:  # grows for a while: must not be taken half-written
        for start in range(0, len(slow), 512):
            f.write(slow[start:start + 512])
            f.flush()
            time.sleep(0.01)
    watcher.wait_for(lambda: (out / "copied.png").is_file() and (out / "later" / "slow.png").is_file(),
                     "the new images cut out")
    time.sleep(1.5)  # three more polls: nothing is cut out twice
    code = watcher.interrupt()
    assert code == 0, "".join(watcher.err)
    err = "".join(watcher.err)
    assert "Traceback" not in err and "error" not in err and "stopped watching" in err
    results = [line for line in watcher.out if " -> " in line]
    assert sorted(line.split(" -> ")[0].rsplit("/", 1)[-1] for line in results) == ["already.png", "copied.png",
                                                                                     "slow.png"]
    for name in ("already.png", "copied.png", "later/slow.png"):
        assert _good_cutout(out / name), name


def test_a_bad_file_in_the_watched_folder_is_said_and_the_watch_goes_on(tmp_path, tiny_model):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    watcher = Watcher(inbox, out, tiny_model)
    watcher.wait_for(lambda: any("watching" in line for line in watcher.err), "the watch begin")
    write_corrupt(tmp_path / "broken.jpg").rename(inbox / "broken.jpg")
    watcher.wait_for(lambda: any("broken.jpg" in line for line in watcher.err), "the bad file said")
    write_disc(tmp_path / "good.png").rename(inbox / "good.png")
    watcher.wait_for(lambda: (out / "good.png").is_file(), "the next image cut out")
    assert watcher.interrupt() == 1  # an input failed
    err = "".join(watcher.err)
    assert "Traceback" not in err and "stopped watching" in err
    assert _good_cutout(out / "good.png") and not (out / "broken.png").exists()
