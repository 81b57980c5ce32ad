"""The GIMP plug-in's cost: each procedure through real GIMP 3 against the engine called directly.

    sh tests/gimp/make_chroot.sh            # once, as root
    python bench/bench_gimp.py [--megapixels 12] [--runs 3] [--quality best]

For each procedure, GIMP (in the test chroot, under Xvfb) runs it through the PDB
on fresh images (a different pixel each run, so the engine's cache never answers)
and the time of the whole call is taken: reading the layer through GEGL, the
request, the engine's job, writing the selection, mask or layer. The same-sized
images go to the same engine straight from a client here, for the engine's own
round trip. The plug-in's cost is the difference of the medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

from bench_server import photo_rgba  # the same photo, one pixel changed per seed
from wire.client import SoftcutClient, raw_image
from testing.launcher import EngineProcess

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "gimp"))
import gimp_session  # noqa: E402

PROCEDURES = {"softcut-select-subject": ["alpha"], "softcut-remove-background": ["alpha"],
              "softcut-cut-out": ["alpha", "foreground"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quality", default="best", choices=("fast", "best"))
    parser.add_argument("--model", default="isnet")
    args = parser.parse_args()
    if not gimp_session.READY.exists():
        sys.exit("no GIMP chroot: run `sh tests/gimp/make_chroot.sh` as root first")
    _, w, h = photo_rgba(args.megapixels, 0)
    here, inside = gimp_session.shared_folder("softcut-bench-")
    engine = None
    try:
        engine = EngineProcess(here / "config", args.model, "--device", "cpu", timeout=600)
        out = here / "out"
        out.mkdir()
        runs, seed = {}, 1
        for procedure in PROCEDURES:
            runs[procedure] = []
            for _ in range(args.runs):
                (out / f"{seed}.rgba").write_bytes(photo_rgba(args.megapixels, seed)[0])
                runs[procedure].append(str(inside / "out" / f"{seed}.rgba"))
                seed += 1
        spec = {"port": engine.port, "quality": args.quality, "width": w, "height": h, "runs": runs}
        (out / "spec.json").write_text(json.dumps(spec))
        shutil.copy(HERE / "gimp_bench_driver.py", here / "driver.py")
        gimp_session.install_plugin(here)
        log = gimp_session.run_script(inside, inside / "driver.py", {
            "SOFTCUT_CONFIG": str(inside / "config"), "SOFTCUT_GIMP_OUT": str(inside / "out")}, timeout=3600)
        if (out / "driver_error.txt").exists() or not (out / "timings.json").exists():
            sys.exit(f"GIMP run failed:\n{(out / 'driver_error.txt').read_text() if (out / 'driver_error.txt').exists() else log[-3000:]}")
        in_gimp = json.loads((out / "timings.json").read_text())
        with SoftcutClient(port=engine.port, token=engine.token, timeout=600) as client:
            print(f"{w}×{h} ({w * h / 1e6:.1f} MP), quality {args.quality}, model {args.model}, "
                  f"median of {args.runs}")
            print("| procedure | in GIMP | engine called directly | plug-in's share |")
            print("|---|---:|---:|---:|")
            for procedure, outputs in PROCEDURES.items():
                direct = []
                for _ in range(args.runs):
                    data = photo_rgba(args.megapixels, seed)[0]
                    seed += 1
                    start = time.perf_counter()
                    client.select_subject(raw_image(w, h, "rgba8", data), outputs=outputs, refine=args.quality)
                    direct.append(time.perf_counter() - start)
                g, d = statistics.median(in_gimp[procedure]), statistics.median(direct)
                print(f"| {procedure} | {g:.2f} s | {d:.2f} s | {g - d:+.2f} s ({(g - d) / g:.0%}) |")
    finally:
        if engine is not None:
            engine.stop()
        shutil.rmtree(here, ignore_errors=True)


if __name__ == "__main__":
    main()
