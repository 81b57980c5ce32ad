"""Images/s of `softcut cut` (one image after another, one process), `softcut batch` (the local pool) and
`softcut batch --ray` on a two-node Ray cluster on this machine (`ray start --head` + `ray start --address`,
one CPU each), over the same generated folder; with each run's peak memory (the resident memory of its whole
process tree, sampled every 0.1 s; for Ray: the cluster's processes too) and Ray's start-up.

    python bench/bench_batch.py [--images 12] [--model isnet] [--refine best] [--skip-ray]

The photos are core.sample's furry subject at 1.0-1.9 MP, each with its own seed. Figures: docs/benchmarks.md
("softcut batch")."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from testing.ray_nodes import free_port, ray_node, stop_node

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--model", default="isnet")
    parser.add_argument("--refine", default="best")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    os.environ["RAY_AUTH_MODE"] = "disabled"  # the bench's own cluster, on this machine only
    softcut = [sys.executable, "-m", "softcut_app.commands"]
    flags = ["--model", args.model, "--refine", args.refine, "--device", "cpu", "-q"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bb", dir="/tmp") as tmp:
        root = Path(tmp)
        src = root / "photos"
        src.mkdir()
        pixels = make_folder(src, args.images)
        print(f"{args.images} photos, {pixels / args.images / 1e6:.2f} MP on average; load {os.getloadavg()}", flush=True)
        wall, peak, _ = measured([*softcut, "cut", str(src), "-o", str(root / "cut"), *flags])
        rows.append(("cut (one after another)", wall, peak, ""))
        print(rows[-1], flush=True)
        wall, peak, err = measured([*softcut, "batch", str(src), str(root / "batch"), *flags, "--json"])
        rows.append(("batch (local pool)", wall, peak, _summary(err)))
        print(rows[-1], flush=True)
        if not args.skip_ray:
            temp = Path(tempfile.mkdtemp(prefix="rb", dir="/tmp"))
            port = free_port()
            import ray

            address = f"{ray.util.get_node_ip_address()}:{port}"
            start = time.monotonic()
            nodes = [ray_node(temp / "head.log", "--head", "--port", port, "--temp-dir", temp, "--include-dashboard", "false")]
            try:
                while alive(address) < 1:
                    time.sleep(0.2)
                nodes.append(ray_node(temp / "worker.log", "--address", address))
                while alive(address) < 2:
                    time.sleep(0.2)
                startup = time.monotonic() - start
                print(f"two-node cluster up in {startup:.1f} s", flush=True)
                wall, peak, err = measured([*softcut, "batch", str(src), str(root / "ray"), "--ray", address, *flags,
                                            "--json"], roots=[n.pid for n in nodes])
                rows.append((f"batch --ray (2 nodes; cluster start {startup:.1f} s, not counted)", wall, peak, _summary(err)))
                print(rows[-1], flush=True)
            finally:
                for node in reversed(nodes):
                    stop_node(node)
                shutil.rmtree(temp, ignore_errors=True)
    print(f"\nload after: {os.getloadavg()}")
    print("| run | wall s | images/s (wall) | peak memory | the batch's own summary |\n|---|---|---|---|---|")
    for name, wall, peak, note in rows:
        print(f"| {name} | {wall:.1f} | {args.images / wall:.3f} | {peak / 1024**3:.2f} GB | {note} |")


def _summary(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.startswith('{"summary"'):
            s = json.loads(line)["summary"]
            return f"{s['done']} done in {s['seconds']} s, {s['images_per_s']} images/s"
    return ""


if __name__ == "__main__":
    main()
