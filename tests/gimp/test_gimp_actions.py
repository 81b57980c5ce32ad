"""The GIMP 3 plug-in's procedures in real GIMP (tests/gimp/gimp_scenario_run.py): what they ask the
engine (the requests every editor sends), their dialog (OK runs, Cancel changes nothing), and a refused
or failed call (no engine, the engine or the plug-in killed mid-job) leaving the image alone."""

from __future__ import annotations

import editor_requests
import pytest
from editor_files import facts
from editor_requests import GIMP_SCENARIOS, LOG, action_requests, read_log
from gimp_checks import check_undo
from gimp_scenario_run import skip_without_gimp

skip_without_gimp()


@pytest.mark.parametrize("name, says", [
    ("refine_nothing_selected", "draw a rough selection"),
    ("group_refused", "is a layer group"),
    ("mask_exists", "already has a layer mask"),
    ("two_layers_refused", "2 layers are selected: select one layer, or use Sample merged"),
    ("no_engine", "Start it with `softcut serve`"),
    ("segments_no_engine", "Start it with `softcut serve`"),
    ("engine_dies", "not reachable"),
    ("plate_no_engine", "Start it with `softcut serve`"),
    ("plate_missing", "no clean plate was given: pick the layer (Plate layer) or the file (Or plate file)"),
    ("plate_is_source", "the plate layer “photo” is the layer being cut out"),
    ("plate_file_not_image", "GIMP cannot open the plate file “/tmp/"),
    ("plate_merged_visible", "the plate layer “Clean plate” is visible, so Sample merged would send it"),
])
def test_a_refused_or_failed_call_leaves_the_image_alone(gimp_run, name, says):
    out, _, seen = gimp_run
    f = facts(out, name)
    assert f["run"]["ok"] is False and f["run"]["status"] == "execution-error"
    assert says in f["run"]["message"] and "the image was not changed" in f["run"]["message"]
    assert not f["changed"] and not f["new_layers"]
    if name == "engine_dies":
        assert seen["engine_dies"].get("running"), "the engine was killed while it ran the plug-in's job"


def test_a_plugin_killed_mid_job_leaves_the_image_alone_and_the_engine_drops_the_job(gimp_run):
    out, _, seen = gimp_run
    f = facts(out, "plugin_killed")
    assert f["run"]["ok"] is False and not f["changed"] and not f["new_layers"]
    watched = seen["plugin_killed"]
    assert watched.get("running") and watched.get("idle"), "the job ran, then stopped"
    assert watched["jobs_done"] == 0, "the engine cancelled the job of the client that left"


def test_the_dialog_runs_the_procedure_and_cancel_changes_nothing(gimp_run):
    """Interactive mode: GimpUi's dialog opens, OK (Return) cuts out, Cancel (Escape) leaves the image alone."""
    out, client, _ = gimp_run
    ok = facts(out, "dialog_ok")
    check_undo(ok)
    assert "Geometry:" in (out / "dialog-dialog_ok.txt").read_text(), "the dialog window was shown"
    assert [layer["name"] for layer in ok["new_layers"]] == ["Softcut cut-out"]
    cancelled = facts(out, "dialog_cancel")
    assert "Geometry:" in (out / "dialog-dialog_cancel.txt").read_text()
    assert cancelled["run"]["status"] == "cancel" and not cancelled["changed"]

@pytest.mark.parametrize("name, action", GIMP_SCENARIOS.items(), ids=list(GIMP_SCENARIOS))
def test_each_action_asks_the_engine_what_every_editor_asks(gimp_run, name, action):
    """The requests GIMP sent for the action (recorded on their way to the engine) are the ones
    tests/editor_requests.py gives for it, which the Krita suite checks too."""
    out, _, _ = gimp_run
    f = facts(out, name)
    assert f["run"]["ok"] is True, f["run"]
    assert action_requests(read_log(out / LOG), f["requests"], "softcut-gimp") == editor_requests.expected(action)
