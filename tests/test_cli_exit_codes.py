"""One exit-code rule for every command (issue 23, the README's "Exit codes"): 0 all done; 1 some
inputs failed, the others written; 2 a usage or setup error (bad flags, a missing model or npm, an
unreadable config, no engine). And the "no GPU execution provider" warning: only where a GPU sits
unused; otherwise `softcut doctor` says it, once."""

from __future__ import annotations

import pytest

from cli_support import TINY, ok, run, write_corrupt, write_disc
from core.models import registry
from core.providers import gpu_present

NO_MODEL = {"SOFTCUT_NPM": "no-such-npm-client"}
"""With an empty SOFTCUT_HOME: no model can be had."""


def _no_model(tmp_path) -> dict:
    return {**NO_MODEL, "SOFTCUT_HOME": tmp_path / "home", "U2NET_HOME": tmp_path / "u2net"}


def test_a_bad_file_is_exit_1_from_every_command_that_reads_it(tmp_path, tiny_model):
    bad = write_corrupt(tmp_path / "broken.jpg")
    good = write_disc(tmp_path / "good.png")
    out = tmp_path / "out.png"
    model = ("--model", tiny_model, "--device", "cpu")
    commands = [
        ("cut", bad, "-o", out, *model),
        ("refine", bad, "--mask", good, "-o", out),
        ("refine", good, "--mask", bad, "-o", out),
        ("trimap", bad, "-o", out, *model),
        ("object", bad, "-o", out, "--box", "1,1,50,50", *model),
        ("layers", bad, "-o", tmp_path / "layers", *model),
        ("locate", good, bad),
        ("video", tmp_path / "missing.mp4", "-o", tmp_path / "frames", *model),
        ("client", "select-subject", bad, "-o", out, "--port", "1"),  # refused before the engine is looked for
    ]
    for args in commands:
        done = run(*args)
        assert done.returncode == 1, f"softcut {' '.join(map(str, args))}: exit {done.returncode}\n{done.err}"
        assert "broken.jpg" in done.err or "missing.mp4" in done.err
    assert not out.exists()


def test_cut_and_client_give_the_same_code_for_a_bad_plate(tmp_path, tiny_model):
    good = write_disc(tmp_path / "good.png")
    bad = write_corrupt(tmp_path / "plate.jpg")
    local = run("cut", good, "--plate", bad, "-o", tmp_path / "a.png", "--model", tiny_model, "--device", "cpu")
    engine = run("client", "select-subject", good, "--plate", bad, "-o", tmp_path / "b.png", "--port", "1")
    assert local.returncode == engine.returncode == 1
    assert "--plate" in local.err and "--plate" in engine.err


def test_usage_errors_are_exit_2_everywhere(tmp_path):
    good = write_disc(tmp_path / "good.png")
    for args in (("cut", good, "-o", tmp_path / "o.png", "--no-such-flag"), ("cut", good),
                 ("refine", good, "-o", tmp_path / "o.png"), ("trimap", good, "-o", tmp_path / "o.png", "--band", "x"),
                 ("object", good, "-o", tmp_path / "o.png", "--point", "1,2"), ("models", "list", "no-such-model"),
                 ("models", "import"), ("eval", tmp_path / "no-such-data"), ("client", "video", tmp_path),
                 ("client", "select-subject", good, "-o", tmp_path / "o.gif", "--port", "1"),
                 ("cut", good, "-o", tmp_path / "o.png", "--watch"), ("tokens", "revoke")):
        done = run(*args, env={"SOFTCUT_CONFIG": tmp_path / "config"})
        assert done.returncode == 2, f"softcut {' '.join(map(str, args))}: exit {done.returncode}\n{done.err}"


def test_setup_errors_are_exit_2(tmp_path):
    good = write_disc(tmp_path / "good.png")
    no_engine = run("client", "select-subject", good, "-o", tmp_path / "o.png", "--port", "1")
    assert no_engine.returncode == 2 and "softcut serve" in no_engine.err
    config = tmp_path / "config"
    config.mkdir(mode=0o700)
    (config / "token").write_text("")  # a damaged token file
    (config / "token").chmod(0o600)
    bad_config = run("client", "select-subject", good, "-o", tmp_path / "o.png", "--port", "1",
                     env={"SOFTCUT_CONFIG": config})
    assert bad_config.returncode == 2 and "token" in bad_config.err
    no_model = run("cut", good, "-o", tmp_path / "o.png", "--device", "cpu", env=_no_model(tmp_path))
    assert no_model.returncode == 2 and not (tmp_path / "o.png").exists()


def test_the_missing_npm_message_says_where_the_model_is_for_offline_machines(tmp_path):
    good = write_disc(tmp_path / "good.png")
    spec = registry.MODELS[registry.DEFAULT_MODEL]
    for args in (("cut", good, "-o", tmp_path / "o.png", "--device", "cpu"), ("models", "fetch", spec.name)):
        done = run(*args, env=_no_model(tmp_path))
        assert done.returncode == 2
        assert f"{spec.npm.package}@{spec.npm.version}" in done.err and spec.npm.resource in done.err
        assert "dist/resources.json" in done.err and spec.sha256 in done.err
        assert "softcut models import" in done.err


@pytest.mark.skipif(gpu_present(), reason="this machine has a GPU: the warning is due where onnxruntime cannot use it")
def test_no_gpu_warning_on_a_machine_without_a_gpu(tmp_path, tiny_model):
    good = write_disc(tmp_path / "good.png")
    for quiet in ((), ("-q",)):
        done = ok("cut", good, "-o", tmp_path / "o.png", "--model", tiny_model, "--device", "auto", "--refine", "fast",
                  *quiet)
        assert "GPU" not in done.err
    doctor = ok("doctor", "--model", tiny_model)
    assert (doctor.stdout + doctor.stderr).decode().count("no GPU execution provider") == 1


@pytest.mark.skipif(not gpu_present(), reason="no GPU on this machine")
def test_an_unused_gpu_is_warned_about(tmp_path, tiny_model):
    from core.providers import available_providers

    if any(p != "CPUExecutionProvider" for p in available_providers()):
        pytest.skip("this onnxruntime uses the GPU")
    good = write_disc(tmp_path / "good.png")
    done = ok("cut", good, "-o", tmp_path / "o.png", "--model", tiny_model, "--device", "auto", *TINY[2:])
    assert done.err.count("has an NVIDIA GPU") == 1
