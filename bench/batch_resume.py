"""The resume target of issue 24: "a 10,000-image job killed three times and resumed gives exactly 10,000 outputs
and a manifest that says so", measured with the real ``softcut batch`` command.

    PYTHONPATH=. python bench/batch_resume.py [--images 10000] [--kills 3] [--sample 40] [--seed 24] [--keep]

It generates ``--images`` small photos (48x48 PNG: a reddish disc of its own size, place and colours on a
background of its own, with noise; 100 a folder), builds the tests' tiny ONNX model (tests/tiny_models.py:
"reddish pixels are the subject") and runs ``softcut batch SRC DST --model tiny.onnx --device cpu --refine fast``
in a process group of its own. Each of the first ``--kills`` runs is killed with SIGKILL, the whole process
tree at once (the batch and its workers), once its manifest has gained a spread-out share of the inputs (about
1/4, 1/2 and 3/4 of the job for three kills, each within 10 % of a step, and at least a quarter step more than
the run started with); the next run resumes, and the last one runs to its end. Then it
checks:

- exactly one output per input (``DST/<path>.png``) and nothing else in DST but the manifest and its lock;
- every output decodes, as a 48x48 RGBA image;
- ``--sample`` outputs equal ``softcut cut``'s for the same inputs and flags (alpha within 1/255, colours
  within 1/255 where the alpha is not 0);
- the manifest (rewritten with one line per input when a run ends, softcut_app/batchjob/manifest.py) has
  exactly one line per input, each ``done`` with the job's options, the input's sha256 and its output;
- no temporary file (``.NAME.PID[.HEX].tmp``) is left anywhere below DST;

and reports each run's time and images, and how many images were cut twice (those in flight at a kill:
written, or being written, when their record was not yet). Exit status 0 when every check holds, 1 otherwise.
Figures: docs/benchmarks.md ("softcut batch")."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from tiny_models import build_tiny_model, write_sidecar  # noqa: E402 - tests/ holds the tests' model builder

MANIFEST = ".softcut-batch.jsonl"
LOCK = ".softcut-batch.lock"
TEMPORARY = re.compile(r"^\..+\.tmp$")
SIDE = 48
PER_FOLDER = 100
FLAGS = ("--device", "cpu", "--refine", "fast")


def photo(rng: np.random.Generator) -> np.ndarray:
    """One (SIDE, SIDE, 3) uint8 photo: a reddish disc (its own radius, centre, colour) with a soft rim on a
    bluish or greenish ground, plus noise."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    cy, cx = rng.uniform(14, SIDE - 14, 2)
    radius = rng.uniform(7, 16)
    alpha = np.clip((radius - np.hypot(yy - cy, xx - cx)) / rng.uniform(1, 3) + 0.5, 0, 1)[..., None]
    fg = np.array([rng.uniform(0.7, 1.0), rng.uniform(0.0, 0.3), rng.uniform(0.0, 0.2)], np.float32)
    bg = np.array([rng.uniform(0.0, 0.2), rng.uniform(0.1, 0.6), rng.uniform(0.5, 1.0)], np.float32)
    image = alpha * fg + (1 - alpha) * bg + rng.normal(0, 0.02, (SIDE, SIDE, 3))
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


def make_photos(src: Path, count: int, seed: int) -> list[str]:
    """``count`` photos below ``src`` (``dNNN/pNNNNN.png``); returns their relative paths, sorted."""
    rng = np.random.default_rng(seed)
    names = []
    for k in range(count):
        relative = f"d{k // PER_FOLDER:03d}/p{k:05d}.png"
        (src / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(photo(rng)).save(src / relative, compress_level=1)
        names.append(relative)
    return sorted(names)


def softcut_cmd() -> list[str]:
    """The installed ``softcut`` script beside this Python, else ``python -m softcut_app.commands``."""
    script = Path(sys.executable).parent / "softcut"
    return [str(script)] if script.exists() else [sys.executable, "-m", "softcut_app.commands"]


def done_lines(dst: Path) -> int:
    """Whole ``done`` lines in DST's manifest so far."""
    try:
        data = (dst / MANIFEST).read_bytes()
    except FileNotFoundError:
        return 0
    return data[:data.rfind(b"\n") + 1].count(b'"status": "done"')


def group_alive(pgid: int) -> bool:
    """Whether any process of process group ``pgid`` is left (from /proc; zombies count as gone)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def run(cmd: list[str], *, kill_at: int | None, dst: Path, log: Path) -> dict:
    """Run ``cmd`` in a new session; with ``kill_at``, SIGKILL its whole process group once DST's manifest
    holds that many done lines. Returns {"seconds", "killed", "lines_at_kill", "code", "summary"}."""
    start = time.monotonic()
    out_path = log.with_suffix(".json")
    with open(log, "w") as err, open(out_path, "w") as out:  # files, not pipes: a full pipe would stall it
        child = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=REPO, start_new_session=True)
        result = {"killed": False}
        if kill_at is not None:
            while child.poll() is None and done_lines(dst) < kill_at:
                time.sleep(0.05)
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                result.update(killed=True, lines_at_kill=done_lines(dst))
        child.wait()
        while group_alive(child.pid):  # every worker gone before the next run starts
            time.sleep(0.1)
    if result["killed"]:
        result.update(after_kill(dst))
    result.update(seconds=round(time.monotonic() - start, 1), code=child.returncode)
    lines = out_path.read_text().splitlines()
    summaries = [json.loads(line)["summary"] for line in lines if line.startswith('{"summary"')]
    result["summary"] = summaries[-1] if summaries else None
    return result


def after_kill(dst: Path) -> dict:
    """What a kill left in DST: outputs on disk, inputs with a done record, temporary files."""
    outputs = temporaries = 0
    for path in dst.rglob("*"):
        if path.is_file():
            outputs += not path.name.startswith(".")
            temporaries += bool(TEMPORARY.match(path.name))
    recorded = {line["input"] for line in manifest_lines(dst) if line.get("status") == "done"}
    return {"outputs": outputs, "recorded": len(recorded), "temporaries": temporaries}


def manifest_lines(dst: Path) -> list[dict]:
    """DST's manifest's whole lines (a partial last one, cut by a kill, left out)."""
    data = (dst / MANIFEST).read_bytes()
    return [json.loads(line) for line in data[:data.rfind(b"\n") + 1].decode().splitlines() if line.strip()]



def rgba(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"), np.int16)


def compare_with_cut(src: Path, dst: Path, names: list[str], model: Path, work: Path) -> list[str]:
    """``softcut cut`` on ``names`` (copied with their folders): the names whose batch output differs."""
    sample_src, cut_out = work / "sample", work / "cut"
    for name in names:
        (sample_src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / name, sample_src / name)
    done = subprocess.run([*softcut_cmd(), "cut", str(sample_src), "-o", str(cut_out), "--model", str(model), *FLAGS,
                           "--quiet"], capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        return [f"softcut cut failed ({done.returncode}): {done.stderr[-500:]}"]
    differ = []
    for name in names:
        a, b = rgba(cut_out / Path(name).with_suffix(".png")), rgba(dst / Path(name).with_suffix(".png"))
        seen = (a[..., 3] > 0) & (b[..., 3] > 0)
        if a.shape != b.shape or np.abs(a[..., 3] - b[..., 3]).max() > 1 or \
                np.abs(a[..., :3] - b[..., :3])[seen].max(initial=0) > 1:
            differ.append(name)
    return differ


def check(src: Path, dst: Path, names: list[str], model: Path, work: Path, sample: int, seed: int) -> dict[str, object]:
    """Each check's name → True, or what is wrong."""
    expected = sorted(str(Path(n).with_suffix(".png")) for n in names)
    files = sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file())
    outputs = [f for f in files if not Path(f).name.startswith(".")]
    hidden = sorted(f for f in files if Path(f).name.startswith("."))
    results: dict[str, object] = {}
    missing, extra = sorted(set(expected) - set(outputs))[:5], sorted(set(outputs) - set(expected))[:5]
    results["exactly one output per input"] = outputs == expected or \
        f"{len(outputs)} outputs; missing {missing}, extra {extra}"
    results["nothing else in DST but the manifest and its lock"] = hidden == sorted([MANIFEST, LOCK]) or hidden[:10]
    bad = []
    for name in outputs:
        try:
            with Image.open(dst / name) as im:
                im.load()
                if im.mode != "RGBA" or im.size != (SIDE, SIDE):
                    bad.append(f"{name}: {im.mode} {im.size}")
        except Exception as exc:  # noqa: BLE001 - any failure to decode is what this check reports
            bad.append(f"{name}: {exc}")
    results["every output decodes (48x48 RGBA)"] = not bad or bad[:5]
    picked = sorted(random.Random(seed).sample(names, min(sample, len(names))))
    differ = compare_with_cut(src, dst, picked, model, work)
    results[f"{len(picked)} sampled outputs equal softcut cut's (within 1/255)"] = not differ or differ[:5]
    lines = manifest_lines(dst)
    by_input: dict[str, list[dict]] = {}
    for line in lines:
        by_input.setdefault(line.get("input", "<no input>"), []).append(line)
    problems = []
    if len(lines) != len(names) or sorted(by_input) != names:
        problems.append(f"{len(lines)} lines for {len(by_input)} inputs")
    keys = {line.get("options") for line in lines}
    if len(keys) != 1:
        problems.append(f"options keys {sorted(map(str, keys))[:3]}")
    for name, found in by_input.items():
        line = found[-1]
        if len(found) != 1 or line.get("status") != "done":
            problems.append(f"{name}: {len(found)} lines, status {line.get('status')}")
        elif line.get("outputs") != [str(dst.resolve() / Path(name).with_suffix('.png'))]:
            problems.append(f"{name}: outputs {line.get('outputs')}")
        elif line.get("sha256") != hashlib.sha256((src / name).read_bytes()).hexdigest():
            problems.append(f"{name}: sha256 differs")
    results["the manifest: one done line per input, its sha256 and output"] = not problems or problems[:5]
    stale = [str(p.relative_to(dst)) for p in dst.rglob("*") if TEMPORARY.match(p.name)]
    results["no temporary files left"] = not stale or stale[:5]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--sample", type=int, default=40, help="outputs compared with softcut cut's")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="batch_resume_"))
    try:
        return _bench(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, work: Path) -> int:
    src, dst = work / "photos", work / "out"
    model = build_tiny_model(work / "tiny.onnx")
    write_sidecar(model)
    t = time.monotonic()
    names = make_photos(src, args.images, args.seed)
    print(f"{len(names)} photos of {SIDE}x{SIDE} written in {time.monotonic() - t:.1f} s; {os.cpu_count()} cores")
    cmd = [*softcut_cmd(), "batch", str(src), str(dst), "--model", str(model), *FLAGS, "--json"]
    rng = random.Random(args.seed)
    step = args.images / (args.kills + 1)
    kill_points = [int(step * (k + 1) + rng.uniform(-0.1, 0.1) * step) for k in range(args.kills)]
    runs = []
    for k, kill_at in enumerate([*kill_points, None]):
        if kill_at is not None:  # this run must land some outputs of its own before it is killed
            kill_at = max(kill_at, done_lines(dst) + max(1, int(step / 4)))
        result = run(cmd, kill_at=kill_at, dst=dst, log=work / f"run{k + 1}.log")
        runs.append(result)
        what = (f"killed (SIGKILL, process group) at {result['lines_at_kill']} done lines; left {result['outputs']} "
                f"outputs, {result['recorded']} recorded, {result['temporaries']} temporary files" if result["killed"]
                else f"exit {result['code']}")
        summary = result["summary"]
        counts = f"; cut {summary['done']}, skipped {summary['skipped']}, failed {summary['failed']}" if summary else ""
        print(f"run {k + 1}: {result['seconds']:.1f} s, {what}{counts}")
    final = runs[-1]
    if final["code"] != 0 or final["summary"] is None or final["summary"]["failed"]:
        print(f"the last run failed ({final['code']}): {(work / f'run{len(runs)}.log').read_text()[-1500:]}")
        return 1
    twice = sum(r["outputs"] - r["recorded"] for r in runs if r["killed"])
    print(f"images written but not yet recorded at a kill, so cut again: {twice}; "
          f"all runs {sum(r['seconds'] for r in runs):.1f} s")
    results = check(src, dst, names, model, work, args.sample, args.seed)
    for name, outcome in results.items():
        print(f"  {'ok  ' if outcome is True else 'FAIL'} {name}" + ("" if outcome is True else f": {outcome}"))
    return 0 if all(v is True for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
