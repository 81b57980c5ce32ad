"""Images/s of `softcut cut` (one image after another, one process), `softcut batch` (the local pool) and
`softcut batch --ray` on a two-node Ray cluster on this machine (`ray start --head` + `ray start --address`,
one CPU each), over the same generated folder; with each run's peak memory (the resident memory of its whole
process tree, sampled every 0.1 s; for Ray: the cluster's processes too) and Ray's start-up.

    python bench/bench_batch.py [--images 12] [--model isnet] [--refine best] [--skip-ray] [--repeat 3]

The photos are core.sample's furry subject at 1.0-1.9 MP, each with its own seed. Figures: docs/benchmarks.md
("softcut batch")."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from testing.ports import free_port
from testing.ray_nodes import ray_node, stop_node

REPO = Path(__file__).resolve().parent.parent
SIZES = [(1280, 960), (1600, 1200), (1440, 1080), (1200, 900), (1536, 1024), (1280, 1024)]


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and its descendants (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    keep, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in keep:
                keep.add(child)
                frontier.append(child)
    return sum(rss.get(p, 0) for p in keep)


def measured(cmd: list[str], *, roots: list[int] = (), env: dict | None = None) -> tuple[float, int, str]:
    """Run ``cmd``: (wall seconds, peak resident bytes of it and of ``roots``' trees, stderr)."""
    start = time.monotonic()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                             env={**os.environ, **(env or {})})
    peak = [0]

    def sample() -> None:
        while child.poll() is None:
            peak[0] = max(peak[0], tree_rss(child.pid) + sum(tree_rss(r) for r in roots))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate()
    sampler.join()
    if child.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {child.returncode}:\n{err[-2000:]}")
    return time.monotonic() - start, peak[0], err + out


def make_folder(folder: Path, count: int) -> int:
    from core.imageio import float_to_uint8, save_png
    from core.sample import furry_subject

    pixels = 0
    for k in range(count):
        w, h = SIZES[k % len(SIZES)]
        image, _ = furry_subject(width=w, height=h, seed=100 + k)
        save_png(folder / f"photo{k:03d}.png", float_to_uint8(image))
        pixels += w * h
    return pixels


def alive(address: str) -> int:
    probe = subprocess.run([sys.executable, "-c", "import ray; ray.init(address=%r, logging_level='ERROR'); "
                            "print(sum(n['Alive'] for n in ray.nodes()))" % address], capture_output=True, text=True)
    return int(probe.stdout.split()[-1]) if probe.returncode == 0 and probe.stdout.split() else 0


def start_cluster(temp: Path) -> tuple[str, list, float]:
    """A two-node Ray cluster on this machine: (its address, its nodes, seconds until both were up)."""
    import ray

    port = free_port()
    address = f"{ray.util.get_node_ip_address()}:{port}"
    start = time.monotonic()
    nodes = [ray_node(temp / "head.log", "--head", "--port", port, "--temp-dir", temp, "--include-dashboard", "false")]
    try:
        while alive(address) < 1:
            time.sleep(0.2)
        nodes.append(ray_node(temp / "worker.log", "--address", address))
        while alive(address) < 2:
            time.sleep(0.2)
    except BaseException:
        for node in reversed(nodes):
            stop_node(node)
        raise
    return address, nodes, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--model", default="isnet")
    parser.add_argument("--refine", default="best")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of cut, batch and batch --ray in turn (the load changes alike for each); medians")
    args = parser.parse_args()
    os.environ["RAY_AUTH_MODE"] = "disabled"  # the bench's own cluster, on this machine only
    softcut = [sys.executable, "-m", "softcut_app.commands"]
    flags = ["--model", args.model, "--refine", args.refine, "--device", "cpu", "-q"]
    runs: dict[str, list[tuple[float, int, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="bb", dir="/tmp") as tmp:
        root = Path(tmp)
        src = root / "photos"
        src.mkdir()
        pixels = make_folder(src, args.images)
        print(f"{args.images} photos, {pixels / args.images / 1e6:.2f} MP on average; load {os.getloadavg()}", flush=True)
        temp = Path(tempfile.mkdtemp(prefix="rb", dir="/tmp"))
        address, nodes, startup = (None, [], 0.0) if args.skip_ray else start_cluster(temp)
        try:
            if nodes:
                print(f"two-node cluster up in {startup:.1f} s", flush=True)
            for k in range(args.repeat):
                commands = {"cut (one after another)": ([*softcut, "cut", str(src), "-o", str(root / f"cut{k}"), *flags], []),
                            "batch (local pool)": ([*softcut, "batch", str(src), str(root / f"batch{k}"), *flags, "--json"], [])}
                if nodes:
                    commands[f"batch --ray (2 nodes; cluster start {startup:.1f} s, not counted)"] = (
                        [*softcut, "batch", str(src), str(root / f"ray{k}"), "--ray", address, *flags, "--json"],
                        [n.pid for n in nodes])
                for name, (cmd, roots) in commands.items():
                    wall, peak, err = measured(cmd, roots=roots)
                    runs.setdefault(name, []).append((wall, peak, _summary(err)))
                    print(name, f"round {k + 1}: {wall:.1f} s, {_summary(err)}", flush=True)
        finally:
            for node in reversed(nodes):
                stop_node(node)
            shutil.rmtree(temp, ignore_errors=True)
    print(f"\nload after: {os.getloadavg()}")
    print("| run | wall s (median; each round) | images/s (wall) | peak memory | the batch's own summary (median round) |"
          "\n|---|---|---|---|---|")
    for name, rounds in runs.items():
        median = statistics.median(r[0] for r in rounds)
        middle = min(rounds, key=lambda r: abs(r[0] - median))
        print(f"| {name} | {median:.1f} ({', '.join(f'{r[0]:.1f}' for r in rounds)}) | {args.images / median:.3f} | "
              f"{max(r[1] for r in rounds) / 1024**3:.2f} GB | {middle[2]} |")


def _summary(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.startswith('{"summary"'):
            s = json.loads(line)["summary"]
            return f"{s['done']} done in {s['seconds']} s, {s['images_per_s']} images/s"
    return ""


if __name__ == "__main__":
    main()
