"""``softcut eval``: score Select Subject, trimap refinement or video mattes against ground truth."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from core.errors import ParameterError
from softcut_app.commands.common import add_common, open_session
from softcut_app.console import Console
from wire.protocol.constants import REFINE_MODES
from wire.protocol.request_schemas import defaults

DEFAULT_METHOD, DEFAULT_VIDEO_METHOD = defaults("select_subject")["refine"], defaults("video_start")["refine"]
"""What is scored when no method is named: the refinement Select Subject (a video stream) runs by default."""


def _eval_predict(args: argparse.Namespace, console: Console):
    """The model's predict for ``eval``, behind the on-disk cache with ``--model-cache``."""
    session = open_session(args, console)
    if not args.model_cache:
        return session.predict
    from core.eval.cache import CachedPredict
    from core.models.store import sha256_file

    identity = f"{session.name}|{session.spec.sha256 or sha256_file(session.path)}"
    return CachedPredict(session.predict, Path(args.model_cache), identity)


def _names(value: str | None) -> list[str] | None:
    return [n for n in value.split(",") if n] if value else None


def cmd_eval(args: argparse.Namespace, console: Console) -> int:
    if args.video:
        return _eval_video(args, console)
    from core.eval import folder

    data, trimap, methods = Path(args.data_dir or args.dataset), args.trimap, _names(args.methods)
    if args.mode is not None:  # the old form: softcut eval alphamatting --data D --mode trimap|subject
        methods = [args.refine or DEFAULT_METHOD]
        trimap = (trimap or "trimap1") if args.mode == "trimap" else None
    elif args.refine:
        raise ParameterError("--refine: only with the old form (--mode); use --methods")
    plan = folder.plan(data, methods=methods or [DEFAULT_METHOD], gt=args.gt, trimap=trimap, names=_names(args.images),
                       every=args.every, offset=args.offset, limit=args.limit)
    scored = f"the unknown pixels of {plan.trimap}/" if plan.trimap else "whole images"
    console.info(f"{data}: {len(plan.pairs)} images, {plan.kind} ground truth, {', '.join(plan.metrics)} on {scored}")
    predict = _eval_predict(args, console) if plan.needs_model else None
    rows = []
    for row in folder.evaluate(plan, predict):
        rows.append(row)
        console.info(f"{row.image} {row.method}: " + "  ".join(f"{k} {v:.4f}" for k, v in row.scores.items())
                     + f"  {row.seconds:.1f}s")
    stats = folder.summarise(rows, plan)
    compared = folder.compare_with_raw(rows, plan, iou_drop=args.iou_drop, sad_rise=args.sad_rise)
    if args.csv:
        folder.write_csv(rows, plan, Path(args.csv))
    lines = [f"{method:<5} {label:<7} " + "  ".join(f"{k} {s[label][k]:.4f}" for k in plan.metrics)
             + f"  {s[label]['seconds']:.2f}s" for method, s in stats.items() for label in ("mean", "median")]
    lines += [f"{c.method} vs raw: worse on {c.worse} of {c.images} images ({c.metric} "
              f"{'drop' if c.metric == 'iou' else 'rise'} > {c.threshold:g}); worst {c.worst:+.4f} on {c.worst_image}"
              for c in compared]
    if getattr(predict, "computed", None) is not None:
        console.info(f"model runs: {predict.runs}, of which computed {predict.computed} (the rest from {args.model_cache})")
    console.result(
        {"data": str(data), "kind": plan.kind, "metrics": list(plan.metrics), "trimap": plan.trimap,
         "rows": [r.as_dict() for r in rows], "summary": stats, "compare": [c.__dict__ for c in compared]},
        "\n".join(lines),
    )
    return 0


def _eval_video(args: argparse.Namespace, console: Console) -> int:
    from core.eval import video

    if args.trimap is not None or args.mode is not None:
        raise ParameterError("--video: scores sequences without trimaps (no --trimap or --mode)")
    root = Path(args.data_dir or args.dataset)
    methods = _names(args.methods) or [DEFAULT_VIDEO_METHOD]
    predict = _eval_predict(args, console)
    rows = []
    for row in video.evaluate_video(root, predict, methods=methods, frames=args.frames, sequences=_names(args.sequences)):
        rows.append(row)
        console.info(f"{row.sequence} {row.method}: {row.frames} frames  IoU {row.iou:.4f} -> {row.filtered_iou:.4f} filtered"
                     f"  flicker {row.flicker:.4f} -> {row.filtered_flicker:.4f}  {row.seconds:.1f}s")
    stats = video.overall(rows)
    if args.csv:
        video.write_csv(rows, Path(args.csv))
    text = "\n".join(
        f"{method:<5} {s['sequences']} sequences, {s['frames']} frames: IoU {s['iou']:.4f} (filtered {s['filtered_iou']:.4f})"
        f"  flicker {s['flicker']:.4f} (filtered {s['filtered_flicker']:.4f})"
        for method, s in stats.items()
    )
    console.result({"data": str(root), "rows": [r.as_dict() for r in rows],
                    "overall": {m: {k: (None if math.isnan(v) else v) for k, v in s.items()} for m, s in stats.items()}}, text)
    return 0


def add_eval(sub: argparse._SubParsersAction) -> None:
    """``softcut eval``."""
    ev = sub.add_parser(
        "eval", help="score against ground truth",
        description="Score Select Subject (or trimap refinement) on a folder with input/ and gt/ (+ trimap/ or "
                    "trimap1/), or with --video on sequence folders SEQ/input + SEQ/gt. Binary ground truth "
                    "(only 0 and 255) is scored with MAE, max F, S-measure and IoU; soft ground truth with SAD, "
                    "MSE, gradient and connectivity errors. The old form `eval alphamatting --data D --mode "
                    "trimap|subject [--refine M]` still works.")
    ev.add_argument("dataset", metavar="DATA",
                    help="folder with input/ and gt/ (with --video: a folder of sequences SEQ/input, SEQ/gt)")
    ev.add_argument("--methods",
                    help="comma-separated, from raw (plain model output, resized), none, fast, best (Select Subject "
                         "with that refinement); with --trimap from fast, best (default best; with --video: fast)")
    ev.add_argument("--trimap", nargs="?", const="auto", metavar="SET",
                    help="refine the trimaps of SET/ (default with no SET: trimap/, else trimap1/) and score their "
                         "unknown pixels (default: no trimap, the whole image is scored)")
    ev.add_argument("--gt", default="auto", choices=("auto", "binary", "soft"),
                    help="ground-truth kind (default auto: binary when it holds only 0 and 255)")
    ev.add_argument("--csv", help="write per-image (per-sequence with --video) rows and the mean/median here "
                                  "(default: no file)")
    ev.add_argument("--every", type=int, default=1, help="score every N-th image (default 1: all)")
    ev.add_argument("--offset", type=int, default=0,
                    help="with --every N: every N-th image from this one (0 to N − 1; default 0: the first)")
    ev.add_argument("--limit", type=int, help="score at most N images, after --images and --every (default: all)")
    ev.add_argument("--images", help="comma-separated image names (file stems) to score (default: all)")
    ev.add_argument("--model-cache", metavar="DIR",
                    help="keep model outputs here, keyed by the exact model input, so reruns never repeat an "
                         "inference (default: no cache)")
    ev.add_argument("--iou-drop", type=float, default=0.05,
                    help="compare with raw, binary ground truth: an image is worse when its IoU is lower than raw's "
                         "by more than this (default 0.05)")
    ev.add_argument("--sad-rise", type=float, default=1.0,
                    help="compare with raw, soft ground truth: an image is worse when its SAD is higher than raw's "
                         "by more than this (default 1.0)")
    ev.add_argument("--video", action="store_true",
                    help="DATA holds sequences: score per-frame IoU and flicker of each frame's matte and of the "
                         "temporally filtered sequence (default: off)")
    ev.add_argument("--frames", type=int, help="--video: the first N frames of each sequence (default: all)")
    ev.add_argument("--sequences", help="--video: comma-separated sequence names (default: all)")
    ev.add_argument("--data", dest="data_dir", metavar="D",
                    help="old form: the folder (DATA is then a label, e.g. alphamatting) (default: DATA)")
    ev.add_argument("--mode", choices=("trimap", "subject"),
                    help="old form: trimap = --trimap trimap1, subject = no trimap (default: the new form)")
    ev.add_argument("--refine", choices=REFINE_MODES,
                    help="old form, with --mode: the one method (default best)")
    add_common(ev)
    ev.set_defaults(func=cmd_eval)
