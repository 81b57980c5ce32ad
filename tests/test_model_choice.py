"""A request names its model (issue 20): the engine runs any registered model present on its
machine, loaded on first use, at most ``--max-models`` of them kept (least recently used
unloaded first, each counted in the memory budget), and never mixes models in its caches.

The engine runs in a child process (``softcut serve``) over real sockets. Its default is the
tiny "red" model (reddish pixels are the subject); the others are rembg stand-ins in a temporary
``U2NET_HOME`` (:func:`test_model_zoo.build_standin`): ``u2netp`` sees the red disc as the
subject, ``silueta`` the blue ground (its weights negated), so their mattes are each other's
inverse, and ``u2net_human_seg`` is a third one for the LRU bound.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sample_images import red_disc_image
from core.imageio import float_to_uint8
from core.models import registry
from wire.client import EngineError, raw_image
from engine_server.memory import MemoryBudget
from engine_server.sessions import Models, session_estimate
from test_model_zoo import build_standin

RED = (1.0, 0.0, -1.0)
"""Stand-in weights: red minus blue, the disc is the subject."""
BLUE = (-1.0, 0.0, 1.0)
"""Blue minus red: the ground is the subject."""


@pytest.fixture(scope="module")
def zoo(tmp_path_factory) -> Path:
    """rembg's folder with three 320² stand-ins: u2netp (red), silueta (blue), u2net_human_seg (red)."""
    folder = tmp_path_factory.mktemp("u2net")
    build_standin(folder / "u2netp.onnx", 320, weights=RED)
    build_standin(folder / "silueta.onnx", 320, weights=BLUE)
    build_standin(folder / "u2net_human_seg.onnx", 320, weights=RED)
    return folder


@pytest.fixture
def engine(tmp_path, tiny_model, zoo, monkeypatch):
    from test_server import Engine

    monkeypatch.setenv("U2NET_HOME", str(zoo))  # the child inherits it
    server = Engine(tmp_path, tiny_model)
    yield server
    server.stop()


def disc():
    image, alpha = red_disc_image(96, 128)
    return raw_image(128, 96, "rgb8", float_to_uint8(image).tobytes()), alpha


def alpha_of(result) -> np.ndarray:
    return np.frombuffer(result.buffers["alpha"], np.uint8).reshape(96, 128) / 255.0


def loaded(client) -> list[str]:
    return [m["name"] for m in client.models() if m["loaded"]]


def test_two_present_models_serve_one_session_and_the_stand_ins_decide_the_matte(engine, zoo):
    image, truth = disc()
    inside, outside = truth > 0.99, truth < 0.01
    with engine.client() as client:
        listed = {m["name"]: m for m in client.welcome["models"]}
        assert {n for n, m in listed.items() if m["present"]} == {"u2netp", "silueta", "u2net_human_seg", "tiny"}
        assert [n for n, m in listed.items() if m["default"]] == ["tiny"]
        assert [n for n, m in listed.items() if m["loaded"]] == ["tiny"]  # the others load on first use

        default = client.select_subject(image, refine="none")
        red = client.select_subject(image, refine="none", model="u2netp")
        blue = client.select_subject(image, refine="none", model="silueta")
        assert (default.fields["model"], red.fields["model"], blue.fields["model"]) == ("tiny", "u2netp", "silueta")
        for result in (default, red):  # the disc is the subject
            alpha = alpha_of(result)
            assert alpha[inside].mean() > 0.9 and alpha[outside].mean() < 0.1, result.fields["model"]
        alpha = alpha_of(blue)  # the ground is
        assert alpha[inside].mean() < 0.1 and alpha[outside].mean() > 0.9
        assert set(loaded(client)) == {"tiny", "u2netp", "silueta"}
        trimap = client.trimap(image, model="silueta")
        assert trimap.fields["model"] == "silueta"
        regions = np.frombuffer(trimap.buffers["trimap"], np.uint8).reshape(96, 128)
        assert not (regions[inside] == 255).any() and (regions[outside] == 255).mean() > 0.5  # the ground is sure


def test_the_model_stage_cache_never_answers_for_another_model(engine):
    """Same image, same settings: the cached stage of one model must not answer another's request."""
    image, truth = disc()
    inside = truth > 0.99
    with engine.client() as client:
        first = alpha_of(client.select_subject(image, refine="none", model="u2netp"))
        other = alpha_of(client.select_subject(image, refine="none", model="silueta"))
        default = alpha_of(client.select_subject(image, refine="none"))
        again = alpha_of(client.select_subject(image, refine="none", model="u2netp"))
    assert first[inside].mean() > 0.9 and other[inside].mean() < 0.1 and default[inside].mean() > 0.9
    np.testing.assert_array_equal(again, first)


def test_absent_unknown_and_path_models_are_refused_by_name(engine, zoo):
    image, _ = disc()
    with engine.client() as client:
        with pytest.raises(EngineError) as absent:
            client.select_subject(image, model="birefnet-general")
        assert absent.value.code == "not_found"
        assert "'birefnet-general' is not on the engine's machine" in absent.value.message
        assert str(zoo / "birefnet-general.onnx") in absent.value.message  # where to put the file
        for name in ("no-such-model", str(zoo / "u2netp.onnx")):  # never a path: only registered names
            with pytest.raises(EngineError) as unknown:
                client.select_subject(image, model=name)
            assert unknown.value.code == "not_found" and "is unknown" in unknown.value.message
        assert client.select_subject(image, refine="none").fields["model"] == "tiny"  # the connection still serves
        assert loaded(client) == ["tiny"]


def test_at_most_max_models_others_stay_loaded_least_recently_used_first_each_counted_in_memory(engine, zoo):
    image, _ = disc()
    estimate = {name: session_estimate(zoo / f"{name}.onnx") for name in ("u2netp", "silueta", "u2net_human_seg")}
    with engine.client() as client:
        assert client.status()["memory"]["in_use"] == 0
        for name in ("u2netp", "silueta"):
            client.select_subject(image, refine="none", model=name)
        assert set(loaded(client)) == {"tiny", "u2netp", "silueta"}
        assert client.status()["memory"]["in_use"] == estimate["u2netp"] + estimate["silueta"]
        client.select_subject(image, refine="none", model="u2netp")  # now silueta is the least recently used
        client.select_subject(image, refine="none", model="u2net_human_seg")
        assert set(loaded(client)) == {"tiny", "u2netp", "u2net_human_seg"}
        assert client.status()["memory"]["in_use"] == estimate["u2netp"] + estimate["u2net_human_seg"]
        blue = alpha_of(client.select_subject(image, refine="none", model="silueta"))  # loaded again
        assert set(loaded(client)) == {"tiny", "u2net_human_seg", "silueta"}
    assert blue[48, 64] < 0.1


def test_max_models_zero_runs_only_the_default(tmp_path, tiny_model, zoo, monkeypatch):
    from test_server import Engine

    monkeypatch.setenv("U2NET_HOME", str(zoo))
    engine = Engine(tmp_path, tiny_model, "--max-models", "0")
    try:
        with engine.client() as client:
            with pytest.raises(EngineError, match="runs only 'tiny'"):
                client.select_subject(disc()[0], model="u2netp")
    finally:
        engine.stop()


# ── the bookkeeping without an engine process: memory given back on eviction and when idle ──────


class _Session:
    def __init__(self, name: str) -> None:
        self.name = name


def _models(tmp_path, monkeypatch, total: int, max_loaded: int) -> tuple[Models, MemoryBudget]:
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    monkeypatch.setenv("SOFTCUT_HOME", str(tmp_path / "home"))
    for name in ("u2netp", "silueta", "u2net_human_seg"):
        (tmp_path / f"{name}.onnx").write_bytes(b"x" * 1000)

    async def on_model(fn, *args):
        return fn(*args)

    budget = MemoryBudget(total)
    return Models(_Session("tiny"), budget, open_model=_Session, run_on_model=on_model, max_loaded=max_loaded), budget


def test_a_model_evicted_while_in_use_gives_its_memory_back_when_its_last_job_ends(tmp_path, monkeypatch):
    models, budget = _models(tmp_path, monkeypatch, total=10**9, max_loaded=1)
    one = session_estimate(tmp_path / "u2netp.onnx")

    async def scenario():
        async with models.use("u2netp") as first:
            assert first.name == "u2netp" and budget.used == one
            async with models.use("silueta"):  # evicts u2netp, still in use
                assert models.loaded() == ["tiny", "silueta"] and budget.used == 2 * one
            assert budget.used == 2 * one  # silueta stays loaded (idle), u2netp still used
        assert budget.used == one  # u2netp's job ended: its memory is back
        async with models.use(None) as default:
            assert default.name == "tiny" and budget.used == one  # the default is on top

    asyncio.run(scenario())


def test_a_job_waiting_for_memory_unloads_idle_models_first(tmp_path, monkeypatch):
    one = 16 * 1024**2 + 4000
    models, budget = _models(tmp_path, monkeypatch, total=3 * one, max_loaded=2)

    async def scenario():
        for name in ("u2netp", "silueta"):
            async with models.use(name):
                pass
        assert budget.used == 2 * one and models.loaded() == ["tiny", "silueta", "u2netp"]
        job = SimpleNamespace(check=lambda: None)
        async with budget.reserve(2 * one, job):  # does not fit beside both: u2netp (least recent) goes
            assert models.loaded() == ["tiny", "silueta"] and budget.used == 3 * one

    asyncio.run(scenario())


def test_every_name_the_tests_use_is_registered():
    assert {"u2netp", "silueta", "u2net_human_seg", "birefnet-general"} <= set(registry.MODELS)


def test_the_editors_choice_lists_the_default_first_then_the_present_then_the_absent_disabled():
    from wire.client.models import model_choices, pick

    listed = [{"name": "isnet", "default": False, "loaded": False, "present": False},
              {"name": "silueta", "default": False, "loaded": False, "present": True, "licence": "Apache-2.0"},
              {"name": "tiny", "default": True, "loaded": True, "present": True}]
    choices = model_choices(listed)
    assert [(c.name, c.enabled, c.default) for c in choices] == [("tiny", True, True), ("silueta", True, False),
                                                               ("isnet", False, False)]
    assert "rembg's model folder" in choices[2].hint and choices[1].hint == "Apache-2.0"
    assert [pick(choices, w) for w in (None, "silueta", "isnet", "gone")] == ["tiny", "silueta", "tiny", "tiny"]
    old = model_choices([{"name": "isnet", "loaded": True}])  # an engine before model choice: its loaded model
    assert [(c.name, c.enabled, c.default) for c in old] == [("isnet", True, True)] and pick([], "x") is None
