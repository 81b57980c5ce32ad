"""Runs inside real Krita (the driver plug-in runs it once Krita's first window exists; the session
is started by krita_scenario_run.py): drives the installed plug-in's own actions on real documents
and writes what it reads back to ``OUT`` for pytest to check.

``OUT/spec.json`` says where the engines are and which images to use; each scenario writes
``OUT/<name>.json`` (facts) and ``OUT/<name>.<what>.bin`` (raw pixels). The scenarios are in the
modules beside this file (on the path: the driver puts this file's folder there), run in this order
(later ones rely on what earlier ones set, such as the engine connection the model choice makes);
``OUT/done`` says they all ran.
"""

from krita_animation_scenarios import run_animation_scenarios
from krita_object_scenarios import run_object_scenarios
from krita_phone_scenarios import run_phone_scenarios
from krita_plate_scenarios import run_plate_scenarios
from krita_scenario_kit import OUT, app, record, window
from krita_select_scenarios import run_select_scenarios
from PyQt5.QtWidgets import QMenu
from softcut_krita.extension import ACTIONS

menus = {action_id: [m.title().replace("&", "") for m in window.qwindow().findChildren(QMenu)
                     if app.action(action_id) in m.actions()]
         for action_id, *_ in ACTIONS}
docker = [d.windowTitle() for d in app.dockers() if d.objectName() == "softcut_docker"]
record("ui", {"menus": menus, "dockers": docker})

run_select_scenarios()
run_phone_scenarios()
run_plate_scenarios()
run_animation_scenarios()
run_object_scenarios()

(OUT / "done").write_text("ok")
