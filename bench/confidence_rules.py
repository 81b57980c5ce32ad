"""Score candidate ``low_confidence`` rules on the rows of ``bench/confidence_features.py``: for each,
the share of bad results (IoU < 0.8) flagged and of good ones (IoU >= 0.9) flagged, and which.

    python bench/confidence_rules.py docs/eval/confidence_ecssd_every4.csv docs/eval/confidence_ecssd_every4_offset2.csv

Choose a rule on the first file, check it on the second.
"""
from __future__ import annotations

import csv
import itertools
import sys

import numpy as np


def load(path: str) -> dict[str, np.ndarray]:
    rows = list(csv.DictReader(open(path)))
    table = {k: np.array([float(r[k]) for r in rows]) for k in rows[0] if k != "image"}
    table["name"] = np.array([r["image"] for r in rows])
    return table


def report(t: dict[str, np.ndarray], flagged: np.ndarray, label: str) -> None:
    bad, good = t["iou"] < 0.8, t["iou"] >= 0.9
    print(f"{label}: bad {flagged[bad].sum()}/{bad.sum()} ({flagged[bad].mean():.0%}), "
          f"good {flagged[good].sum()}/{good.sum()} ({flagged[good].mean():.1%}); "
          f"missed {' '.join(t['name'][bad & ~flagged])}; good flagged {' '.join(t['name'][good & flagged])}")


def main(paths: list[str]) -> None:
    for path in paths:
        t = load(path)
        shipped = t["flagged"] > 0
        print(f"# {path}")
        report(t, shipped, "shipped")
        for limit in (0.005, 0.01, 0.02):
            report(t, shipped | (t["rival"] > limit), f"+ rival > {limit}")
        for conf, soft in itertools.product((0.65, 0.7, 0.75), (0.15, 0.2, 0.25)):
            report(t, shipped | ((t["confidence"] < conf) & (t["soft"] > soft)), f"+ confidence < {conf} & soft > {soft}")
        for conf, overlap in itertools.product((0.65, 0.7, 0.75), (0.35, 0.4, 0.45)):
            report(t, shipped | ((t["confidence"] < conf) & (t["colours"] > overlap)),
                   f"+ confidence < {conf} & colours > {overlap}")


if __name__ == "__main__":
    main(sys.argv[1:])
