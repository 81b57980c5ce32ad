"""Scenarios run inside a real GIMP 3 (GUI, under Xvfb), started by ``gimp_scenario_run.py``.

Executed by GIMP's ``python-fu-eval`` batch interpreter. Each scenario builds an
image with a display, calls a Softcut procedure through the PDB exactly as a
script would, and writes what GIMP then holds to ``$SOFTCUT_GIMP_OUT``:
``NAME.json`` (facts) and ``NAME.WHAT.bin`` (raw pixels). Undo and redo are
GIMP's own, pressed as Ctrl+Z / Ctrl+Y on the image's window with xdotool. The
pytest side compares the pixels with the engine's direct answers.

The scenarios are in the modules beside this file (``$SOFTCUT_GIMP_SCENARIOS``, put on
the path here), run in this order. A failure goes to ``driver_error.txt``; ``done`` is
written and GIMP quits whatever happens.
"""

import os
import sys
import traceback

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

OUT = os.environ["SOFTCUT_GIMP_OUT"]
sys.path.insert(0, os.environ["SOFTCUT_GIMP_SCENARIOS"])

try:
    from gimp_object_refusals import run_object_refusals
    from gimp_object_scenarios import run_object_scenarios
    from gimp_phone_scenarios import run_phone_scenario
    from gimp_plate_scenarios import run_plate_scenarios
    from gimp_segments_scenarios import run_segments_scenarios
    from gimp_select_scenarios import run_big_job_scenarios, run_select_scenarios

    run_select_scenarios()
    run_segments_scenarios()
    run_plate_scenarios()
    run_phone_scenario()
    run_object_scenarios()
    run_object_refusals()
    run_big_job_scenarios()
except Exception:
    with open(os.path.join(OUT, "driver_error.txt"), "w") as f:
        f.write(traceback.format_exc())
finally:
    open(os.path.join(OUT, "done"), "w").close()
    quit_proc = Gimp.get_pdb().lookup_procedure("gimp-quit")
    quit_config = quit_proc.create_config()
    quit_config.set_property("force", True)
    quit_proc.run(quit_config)
