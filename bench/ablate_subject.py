"""Ablation of Select Subject's ``best`` stages on the dev sets: which stage earns its place.

Each configuration switches one stage of Select Subject (:mod:`core.subject`) on or off (the model's guide
in the solver, the strand region of the trimap, the view policy) and scores ``best`` with
:mod:`core.eval.folder` against the raw model on the same images, with the counts of
images made worse. Model outputs come from ``--model-cache`` (the key is the one
``softcut eval --model-cache`` uses), so only the first run pays for inferences.

    python bench/ablate_subject.py ../shared/data/ecssd --every 4 [--offset 2] --model-cache ~/.cache/softcut/eval-cache
    python bench/ablate_subject.py ../shared/data/alphamatting ../shared/data/composition --model-cache ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import core.subject.refine as refine  # noqa: E402
import core.subject.trimap as trimap  # noqa: E402
import core.trimap.strands as strands  # noqa: E402
import core.views as views  # noqa: E402
from core.eval import folder  # noqa: E402
from core.eval.cache import CachedPredict  # noqa: E402
from core.models.session import open_session  # noqa: E402

_FIT_UNKNOWN_BUDGET = refine.fit_unknown_budget
OLD_VIEWS = (views.PLAIN, views.View("grey-pad-15", pad=0.15, pad_mode="grey"), views.MIRROR)

CONFIGS = {
    "shipped": {},
    "no guide": {"guide": 0.0, "guide_overlap": 0.0},
    "unknown budget 200k": {"max_unknown": 200_000},
    "unknown budget 300k": {"max_unknown": 300_000},
    "unknown budget 400k": {"max_unknown": 400_000},
    "no reproject": {"reproject": False},
    "reproject 0.03": {"contrast": 0.03},
    "reproject soft 0.05": {"soft": 0.05},
    # one weight for every photo, whatever its colours
    **{f"guide {weight}": {"guide": weight, "guide_overlap": weight} for weight in (0.05, 0.2, 0.3, 0.35, 0.5, 1.0)},
    # the model's values known foreground in the trimap from this one: in every photo, or where the colours overlap
    **{f"sure {sure}": {"sure": sure, "sure_overlap": sure} for sure in (0.95, 0.9, 0.85, 0.8, 0.7)},
    # (0.7 where the colours overlap is what ships)
    **{f"sure {sure} where the colours overlap": {"sure_overlap": sure} for sure in (0.9, 0.8)},
    "no strands": {"reach": 0.0},
    "strands on any background": {"quiet": 1.0, "growth": 1e9},
    "views of issue 18 (plain, grey, mirror)": {"views": OLD_VIEWS},
    "as landed in issue 18 (old views, no guide, no strands)": {"views": OLD_VIEWS, "guide": 0.0, "guide_overlap": 0.0, "reach": 0.0},
}


def configure(guide: float = refine.GUIDE_WEIGHT, guide_overlap: float = refine.GUIDE_WEIGHT_OVERLAP, reach: float = strands.STRAND_REACH,
              quiet: float = strands.QUIET_BACKGROUND, growth: float = strands.MAX_GROWTH,
              views_: tuple = views.DEFAULT_VIEWS, reproject: bool = refine.REPROJECT,
              contrast: float = refine.reproject_alpha.__kwdefaults__["contrast"], soft: float = refine.SOFT,
              max_unknown: int | None = None, sure: float = trimap.SURE_FOREGROUND,
              sure_overlap: float = trimap.SURE_OVERLAP, **_) -> None:
    """Set the stages' module settings; every one not given is put back to what ships.
    ``max_unknown`` overrides every MatteOptions' budget of unknown pixels (None: the options' own)."""
    def fit_within(small, coarse, trimap, budget, **kwargs):
        return _FIT_UNKNOWN_BUDGET(small, coarse, trimap, max_unknown, **kwargs)

    refine.fit_unknown_budget = _FIT_UNKNOWN_BUDGET if max_unknown is None else fit_within
    refine.REPROJECT, refine.SOFT = reproject, soft
    refine.reproject_alpha.__kwdefaults__["contrast"] = contrast
    refine.GUIDE_WEIGHT, refine.GUIDE_WEIGHT_OVERLAP = guide, guide_overlap
    trimap.SURE_FOREGROUND, trimap.SURE_OVERLAP = sure, sure_overlap
    strands.QUIET_BACKGROUND = quiet
    strands.MAX_GROWTH = growth
    strands.strand_region.__kwdefaults__["reach"] = reach
    views.predict_coarse.__kwdefaults__["views"] = views_


def tail(raw: list, rows: list, metric: str) -> tuple[int, int, float]:
    """(images worse than raw beyond the threshold, images better beyond it, the largest loss):
    IoU lost beyond folder.IOU_DROP, or SAD gained beyond folder.SAD_RISE."""
    base = {r.image: r.scores[metric] for r in raw}
    sign, threshold = (-1.0, folder.IOU_DROP) if metric == "iou" else (1.0, folder.SAD_RISE)
    losses = [sign * (r.scores[metric] - base[r.image]) for r in rows]
    return sum(x > threshold for x in losses), sum(x < -threshold for x in losses), max(losses)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", type=Path)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--offset", type=int, default=0, help="with --every N: every N-th image from this one")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated names from CONFIGS")
    parser.add_argument("--model-cache", type=Path, required=True)
    parser.add_argument("--csv-dir", type=Path, help="write each configuration's per-image rows to DIR/SET_CONFIG.csv")
    args = parser.parse_args()
    session = open_session("isnet", device="cpu")
    predict = CachedPredict(session.predict, args.model_cache, f"{session.name}|{session.spec.sha256}")
    for data in args.data:
        chosen = {"every": args.every, "offset": args.offset}
        plan = folder.plan(data, methods=("raw",), **chosen)
        raw = list(folder.evaluate(plan, predict))
        print(f"## {data.name} ({len(plan.pairs)} images, {plan.kind} ground truth)")
        print("| configuration | " + " | ".join(plan.metrics) + " | worse than raw | better | worst drop |")
        print("|---|" + "---:|" * (len(plan.metrics) + 3))
        stats = folder.summarise(raw, plan)["raw"]["mean"]
        print("| raw model | " + " | ".join(f"{stats[m]:.4f}" for m in plan.metrics) + " | | | |")
        for name in args.configs.split(","):
            configure(**{("views_" if k == "views" else k): v for k, v in CONFIGS[name].items()})
            best_plan = folder.plan(data, methods=("best",), **chosen)
            rows = list(folder.evaluate(best_plan, predict))
            if args.csv_dir:
                args.csv_dir.mkdir(parents=True, exist_ok=True)
                folder.write_csv(rows, best_plan, args.csv_dir / f"{data.name}_{name.replace(' ', '_')}.csv")
            stats = folder.summarise(rows, best_plan)["best"]["mean"]
            worse, better, worst = tail(raw, rows, "iou" if "iou" in plan.metrics else "sad")
            print(f"| {name} | " + " | ".join(f"{stats[m]:.4f}" for m in plan.metrics)
                  + f" | {worse} | {better} | {worst:.3f} |", flush=True)
        configure()  # what ships
    return 0


if __name__ == "__main__":
    sys.exit(main())
