"""Test driver: once Krita's first window exists, run $SOFTCUT_KRITA_SCENARIOS (its folder, which holds the
modules it imports, on the path), then leave Krita."""

import os
import sys
import traceback
from pathlib import Path

from krita import Extension, Krita
from PyQt5.QtCore import QTimer


class Driver(Extension):
    def setup(self):
        pass

    def createActions(self, window):
        QTimer.singleShot(1000, self.run)

    def run(self):
        out = Path(os.environ["SOFTCUT_KRITA_OUT"])
        (out / "driver_started").write_text("")  # the session got past Krita's start-up
        try:
            scenarios = Path(os.environ["SOFTCUT_KRITA_SCENARIOS"])
            sys.path.insert(0, str(scenarios.parent))
            code = scenarios.read_text()
            exec(compile(code, str(scenarios), "exec"), {"__name__": "scenarios", "__file__": str(scenarios)})
        except BaseException:
            (out / "driver_error.txt").write_text(traceback.format_exc())
        finally:
            os._exit(0)


Krita.instance().addExtension(Driver(Krita.instance()))
