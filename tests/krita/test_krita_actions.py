"""The Krita plug-in's actions in real Krita (tests/krita/krita_scenario_run.py): where they sit (menus,
docker), what they ask the engine (the requests every editor sends), Krita kept responsive during a
job, and a failed or cancelled request leaving the document alone."""

from __future__ import annotations

import editor_requests
import pytest
from editor_files import facts
from editor_requests import KRITA_SCENARIOS, LOG, action_requests, read_log
from krita_checks import check_untouched
from krita_scenario_run import skip_without_krita

skip_without_krita()


@pytest.mark.parametrize("name, action", KRITA_SCENARIOS.items(), ids=list(KRITA_SCENARIOS))
def test_each_action_asks_the_engine_what_every_editor_asks(krita_run, name, action):
    """The requests Krita sent for the action (recorded on their way to the engine) are the ones
    tests/editor_requests.py gives for it, which the GIMP suite checks too."""
    out, _ = krita_run
    f = facts(out, name)
    assert action_requests(read_log(out / LOG), f["requests"], "softcut-krita") == editor_requests.expected(action)


def test_actions_sit_in_their_menus_and_the_docker_exists(krita_run):
    out, _ = krita_run
    ui = facts(out, "ui")
    selecting = {"softcut_select_subject", "softcut_remove_background", "softcut_cut_out", "softcut_refine_selection",
                 "softcut_select_subject_plate", "softcut_select_subject_animation", "softcut_select_object",
                 "softcut_add_to_subject", "softcut_subtract_from_subject"}
    assert set(ui["menus"]) == selecting | {"softcut_soft_segments"}
    for action_id, titles in ui["menus"].items():
        assert ("Select" if action_id in selecting else "Scripts") in titles, (action_id, titles)
    assert ui["dockers"] == ["Softcut"]


def test_krita_keeps_running_during_a_job(krita_run):
    """A 2 MP Select Subject: the action returns at once and a 10 ms timer keeps firing until the result."""
    out, _ = krita_run
    run = facts(out, "responsive")["run"]
    assert run["ok"] is True, run["message"]
    assert run["busy_after_trigger"]
    assert run["ticks_while_waiting"] >= 10


@pytest.mark.parametrize("name, says", [
    ("cancel", "cancelled"),
    ("no_engine", "Start it with `softcut serve`"),
    ("segments_no_engine", "Start it with `softcut serve`"),
    ("engine_dies", "not reachable"),
])
def test_a_failed_request_leaves_the_document_alone(krita_run, name, says):
    out, _ = krita_run
    f = facts(out, name)
    assert f["run"]["ok"] is False
    check_untouched(f, says)
    if not name.endswith("no_engine"):
        assert f["stages"], "the job had started before it was stopped"

