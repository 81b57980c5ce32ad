"""Start a ``softcut serve`` child process and wait until it listens.

For tests, benchmarks and editor integrations that need a real engine: the
child runs on an OS-assigned loopback port (``--port 0``) and prints where it
listens; :class:`EngineProcess` reads that line, the pairing token and the
pairing codes it prints.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

_READY = re.compile(r"ready on ws://[^:]+:(\d+)")
PAIRING_CODE = re.compile(r"pairing code: (\d{6})")
"""How ``softcut serve`` prints each pairing code on stderr (the first, and every replacement)."""


class EngineProcess:
    """A running engine.

    Parameters
    ----------
    config: the engine's config folder (``SOFTCUT_CONFIG``: its token lives there).
    model: model name or .onnx path.
    extra: further ``softcut serve`` arguments.
    home: ``SOFTCUT_HOME`` (the model cache); None keeps the caller's environment.
    timeout: seconds to wait for the engine to listen and print its first pairing code.
    env: further environment variables, set last; a value of None removes the variable (e.g.
        ``{"SOFTCUT_CONFIG": None, "HOME": ...}``: an engine that finds its config folder itself,
        ``config`` then naming the folder it will find, where the token is read from).
    """

    def __init__(
        self,
        config: Path,
        model: str | Path = "isnet",
        *extra: str,
        home: Path | None = None,
        timeout: float = 120.0,
        env: Mapping[str, str | None] | None = None,
    ) -> None:
        self.config = Path(config)
        environment = {**os.environ, "SOFTCUT_CONFIG": str(self.config)}
        if home is not None:
            environment["SOFTCUT_HOME"] = str(home)
        for name, value in (env or {}).items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        command = [sys.executable, "-m", "softcut_app.cli", "serve", "--port", "0", "--model", str(model), *extra]
        self.proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=environment)
        self.log: list[str] = []
        self.port: int | None = None
        self._drainer: threading.Thread | None = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            found = _READY.search(line)
            if found:
                self.port = int(found.group(1))
                self.token = (self.config / "token").read_text().strip()
            if self.port is not None and PAIRING_CODE.search(line):  # printed just after the ready line
                self._drainer = threading.Thread(target=self._drain, daemon=True)
                self._drainer.start()
                return
        self.stop()
        raise RuntimeError("the engine did not start:\n" + "".join(self.log))

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)

    def pairing_codes(self) -> list[str]:
        """Every pairing code the engine has printed so far, oldest first (the last is current)."""
        return PAIRING_CODE.findall("".join(self.log))

    def peak_rss_kb(self) -> int:
        """The engine's peak resident memory so far (Linux: VmHWM), in KiB; 0 if unknown."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def stop(self) -> None:
        """SIGTERM (a clean stop), then kill after 10 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._drainer is not None:
            self._drainer.join(5)  # the child's last lines are in self.log

    def __enter__(self) -> EngineProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
