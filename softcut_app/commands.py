"""The ``softcut`` command line. The only module in core that prints."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

import core
from core import composite
from core.edges import EdgeControls
from core.errors import ParameterError, SoftcutError
from core.imageio import DEFAULT_MAX_PIXELS, float_to_uint8, load_grey, load_image, save_png
from core.models import registry, store

log = logging.getLogger("softcut")

# Kept here, not imported from core.pipeline, so `softcut models` starts fast.
REFINE_MODES = ("none", "fast", "best")
DEFAULT_REFINE = "best"


class ProgressBar:
    """Progress on stderr for work over a second: a bar on a terminal, a line per
    stage otherwise (logs, pipes)."""

    def __init__(self, label: str, *, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.shown = False
        self.stage = ""

    def __call__(self, fraction: float, stage: str) -> None:
        if not self.enabled or time.monotonic() - self.start < 1.0:
            return
        if not self.tty:
            if stage != self.stage:
                self.stage = stage
                sys.stderr.write(f"{self.label}: {stage}\n")
            return
        self.shown = True
        filled = int(round(max(0.0, min(1.0, fraction)) * 24))
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (24 - filled)}] {fraction * 100:3.0f}% {stage:<24}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


class FrameProgress(ProgressBar):
    """Progress over the frames of a video: count, frames per second and time left (a bar
    on a terminal; elsewhere a line every 10 s)."""

    def __init__(self, label: str, *, enabled: bool) -> None:
        super().__init__(label, enabled=enabled)
        self.first: int | None = None
        self.logged = self.start

    def frames(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if self.first is None:
            self.first, self.start = done, now
            return
        rate = (done - self.first) / max(now - self.start, 1e-6)
        left = f" ETA {_clock((total - done) / rate)}" if total and rate > 0 and total > done else ""
        stage = f"{done}/{total or '?'} {rate:.1f} frames/s{left}"
        if self.tty:
            self(done / total if total else 0.0, stage)
        elif self.enabled and now - self.logged >= 10.0:
            self.logged = now
            sys.stderr.write(f"{self.label}: {stage}\n")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


class Console:
    """What the CLI tells the user: messages to stderr, results to stdout (text or JSON)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.quiet = getattr(args, "quiet", False)
        self.json = getattr(args, "json", False)

    def info(self, text: str) -> None:
        if not self.quiet and not self.json:
            print(text, file=sys.stderr)

    def warn(self, text: str) -> None:
        print(f"warning: {text}", file=sys.stderr)

    def error(self, text: str) -> None:
        print(f"error: {text}", file=sys.stderr)

    def progress(self, label: str) -> ProgressBar:
        return ProgressBar(label, enabled=not self.quiet and not self.json)

    def frame_progress(self, label: str) -> FrameProgress:
        return FrameProgress(label, enabled=not self.quiet and not self.json)

    def result(self, payload: dict, text: str) -> None:
        if self.json:
            print(json.dumps(payload))
        elif not self.quiet:
            print(text)


# ── models ────────────────────────────────────────────────────────────────────


def _open_session(args: argparse.Namespace, console: Console, *, warn: bool = True, rehash: bool = False):
    """The session for ``--model``/``--device``, fetching the model first if needed; a corrupt cached model is
    reported and fetched again. ``rehash``: hash the model file even when its stamp vouches for it."""
    from core.models.session import open_session

    spec = registry.MODELS.get(args.model)
    if spec is not None and spec.npm is not None and store.locate(spec) is None:
        console.info(f"model {spec.name} is not cached yet: fetching it with npm into {store.cached_path(spec)} (first run only)")
    bar = console.progress("model")
    try:
        session = open_session(args.model, device=args.device, progress=bar, rehash=rehash, notice=console.warn)
    finally:
        bar.close()
    if session.warning and warn:
        console.warn(session.warning)
    return session


def cmd_models(args: argparse.Namespace, console: Console) -> int:
    names = [args.name] if getattr(args, "name", None) else list(registry.MODELS)
    failures = 0
    for name in names:
        spec = registry.get_spec(name)
        path = store.locate(spec)
        if args.action == "list":
            state = (f"present: {path}" if path else "not fetched" if spec.npm
                     else f"not present (looked for {store.rembg_dir() / (spec.rembg_filename or spec.filename)})")
            console.result(
                {"name": name, "present": path is not None, "path": str(path) if path else None,
                 "licence": spec.licence, "origin": spec.origin},
                f"{name:<22} {spec.description}\n{'':<22} from {spec.origin}; licence {spec.licence}\n{'':<22} {state}",
            )
        elif args.action == "path":
            console.result({"name": name, "path": str(path or store.cached_path(spec))}, str(path or store.cached_path(spec)))
        elif args.action == "fetch":
            if spec.npm is None and not args.name:
                continue
            bar = console.progress(f"fetch {name}")
            try:
                fetched = store.ensure(spec, progress=bar, notice=console.warn)
            finally:
                bar.close()
            console.result({"name": name, "path": str(fetched)}, f"{name}: {fetched}")
        elif args.action == "verify":
            if path is None:
                console.result({"name": name, "ok": None}, f"{name}: not present")
                continue
            try:
                store.verify(spec, path, force=True)
                console.result({"name": name, "ok": True, "path": str(path)}, f"{name}: ok ({path})")
            except SoftcutError as exc:
                failures += 1
                console.result({"name": name, "ok": False, "error": str(exc)}, f"{name}: FAILED — {exc}")
    return 1 if failures else 0


def cmd_doctor(args: argparse.Namespace, console: Console) -> int:
    import onnxruntime

    from core.providers import available_providers, choose_providers

    choice = choose_providers(args.device)
    report = {
        "softcut": core.__version__,
        "python": sys.version.split()[0],
        "onnxruntime": onnxruntime.__version__,
        "opencv": cv2.__version__,
        "providers_available": available_providers(),
        "device": choice.device,
        "warning": choice.warning,
        "home": str(store.softcut_home()),
        "models": {n: str(store.locate(s) or "") for n, s in registry.MODELS.items()},
    }
    try:
        session = _open_session(args, console, warn=False)
        report["device"] = session.device
        report["warning"] = session.warning
        report["model"] = f"{session.name} ({session.path})"
    except SoftcutError as exc:
        report["model"] = f"unavailable: {exc}"
    text = "\n".join(f"{k:<20} {v}" for k, v in report.items())
    console.result(report, text)
    return 0


# ── matting ───────────────────────────────────────────────────────────────────


def _edge_controls(args: argparse.Namespace) -> EdgeControls:
    return EdgeControls(smooth=args.smooth, feather=args.feather, contrast=args.contrast, shift_edge=args.shift_edge)


def _matte_options(args: argparse.Namespace):
    """The MatteOptions of ``cut`` and ``video`` (--refine and the edge flags)."""
    from core.pipeline import MatteOptions

    return MatteOptions(refine=args.refine, edges=_edge_controls(args), decontaminate=args.decontaminate, band=args.band)


def _output_for(out: Path, source: Path, many: bool, suffix: str = ".png") -> Path:
    if many:
        out.mkdir(parents=True, exist_ok=True)
        return out / (source.stem + suffix)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    return out


def cmd_cut(args: argparse.Namespace, console: Console) -> int:
    from core.pipeline import select_subject

    options = _matte_options(args)
    bg = composite.parse_colour(args.bg_color) if args.bg_color else None
    plate = None
    if args.plate:
        from core.plate.align import prepare_plate
        from core.plate.pipeline import plate_matte

        try:
            plate = prepare_plate(load_image(args.plate, max_pixels=args.max_pixels))  # features found once for all inputs
        except SoftcutError as exc:
            console.error(f"--plate: {exc}")
            return 1
    session = _open_session(args, console)
    many = len(args.inputs) > 1
    failures = 0
    for source in map(Path, args.inputs):
        try:
            image = load_image(source, max_pixels=args.max_pixels)
            bar = console.progress(source.name)
            try:
                if plate is None:
                    matte = select_subject(image, session.predict, options, progress=bar)
                else:
                    matte = plate_matte(image, plate, session.predict, options, progress=bar)
            finally:
                bar.close()
            target = _output_for(Path(args.output), source, many)
            if bg is None:
                save_png(target, composite.cutout_rgba(matte.foreground, matte.alpha))
            else:
                save_png(target, composite.over_colour(matte.foreground, matte.alpha, bg))
            extra = {}
            if args.alpha_out:
                extra["alpha"] = _output_for(Path(args.alpha_out), source, many, ".alpha.png")
                save_png(extra["alpha"], float_to_uint8(matte.alpha))
            if args.trimap_out:
                extra["trimap"] = _output_for(Path(args.trimap_out), source, many, ".trimap.png")
                h, w = image.shape[:2]
                save_png(extra["trimap"], cv2.resize(matte.trimap, (w, h), interpolation=cv2.INTER_NEAREST))
            if plate is None:
                _warn_if_unsure(console, source, matte.confidence, matte.low_confidence)
            console.result(
                {
                    "input": str(source),
                    "output": str(target),
                    **{k: str(v) for k, v in extra.items()},
                    "width": image.shape[1],
                    "height": image.shape[0],
                    "confidence": round(matte.confidence, 4),
                    "low_confidence": matte.low_confidence,
                    "device": session.device,
                    "timings": {k: round(v, 4) for k, v in matte.timings.items()},
                    **({} if plate is None else {"plate": args.plate, "alignment": matte.alignment.summary()}),
                },
                f"{source} -> {target}",
            )
        except SoftcutError as exc:
            failures += 1
            console.error(str(exc))
    return 1 if failures else 0


def _file_identity(path: str) -> dict:
    """A file's absolute path and sha256: a resumed run must find the same file, also when it was edited in place."""
    from core.models.store import sha256_file

    resolved = Path(path).resolve()
    return {"path": str(resolved), "sha256": sha256_file(resolved)}


def cmd_video(args: argparse.Namespace, console: Console) -> int:
    from core.video import io as video_io

    outputs = video_io.parse_outputs(args.output)
    source = video_io.open_source(args.input, max_pixels=args.max_pixels)
    video_io.check_outputs(source.info, outputs)
    options = _video_options(args)
    plate = load_image(args.plate, max_pixels=args.max_pixels) if args.plate else None
    fingerprint = {"model": args.model, "plate": _file_identity(args.plate) if args.plate else None}
    session = _open_session(args, console)
    run = video_io.VideoRun(source, outputs, session.predict, options, fingerprint=fingerprint, plate=plate,
                            fps=args.fps or source.info.fps or video_io.DEFAULT_FPS, restart=args.restart)
    if run.begin():
        console.info(f"resuming after frame {run.resumed_from} (the frames done are in {run.store.folder})")
    bar = console.frame_progress(Path(args.input).name)
    start = time.perf_counter()
    try:
        run.matte(progress=bar.frames)
        matting = time.perf_counter() - start
        bar.close()
        written = run.write_outputs(progress=lambda path: console.info(f"writing {path}"))
    except KeyboardInterrupt:
        bar.close()
        console.error(f"interrupted after {run.done} frames; run the same command again to resume "
                      f"(the frames done are in {run.store.folder})")
        return 130
    except video_io.FrameDecodeError as exc:
        bar.close()
        console.error(f"{exc}; the {run.done} frames finished before it are kept in {run.store.folder}: "
                      "replace the frame and run the same command again to resume")
        return 2
    rate = run.matted / matting if run.matted else 0.0
    if run.without_plate:
        console.warn(f"the clean plate could not be aligned to {run.without_plate} of {run.matted} frames "
                     "(the subject hid most of the scene); those were matted without it")
    console.result(
        {"input": str(args.input), "frames": run.done, "matted": run.matted, "resumed_from": run.resumed_from,
         "seconds": round(time.perf_counter() - start, 3), "frames_per_second": round(rate, 3), "fps": run.fps,
         "frames_without_plate": run.without_plate,
         "width": source.info.width, "height": source.info.height, "outputs": written, "device": session.device,
         "timings": {k: round(v, 4) for k, v in run.timings.items()}},
        f"{args.input} -> {', '.join(written)} ({run.done} frames, {rate:.2f} frames/s)",
    )
    return 0


def _video_options(args: argparse.Namespace):
    from core.video.pipeline import VideoOptions

    if args.fps is not None and args.fps <= 0:
        raise ParameterError(f"--fps: expected a positive frame rate; got {args.fps}")
    return VideoOptions(matte=_matte_options(args), delay=not args.no_delay, smoothing=args.smoothing)


def _warn_if_unsure(console: Console, source: Path | str, confidence: float, unsure: bool) -> None:
    """Warn when a result is flagged ``unsure`` (its model confidence is quoted)."""
    if unsure:
        console.warn(
            f"{source}: the model is unsure about the subject (confidence {confidence:.2f}); "
            "check the result, or refine a rough selection with `softcut refine --mask`"
        )


def cmd_refine(args: argparse.Namespace, console: Console) -> int:
    from core.pipeline import refine_mask, refine_with_trimap

    image = load_image(args.image, max_pixels=args.max_pixels)
    start = time.perf_counter()
    if args.trimap:
        trimap = load_grey(args.trimap, max_pixels=args.max_pixels)
        _check_same_size(trimap, image, args.trimap)
        alpha = refine_with_trimap(image, trimap, mode=args.refine)
    else:
        mask = load_grey(args.mask, max_pixels=args.max_pixels)
        _check_same_size(mask, image, args.mask)
        alpha, _ = refine_mask(image, mask.astype(np.float32) / 255.0, mode=args.refine)
    save_png(Path(args.output), float_to_uint8(alpha))
    console.result(
        {"input": str(args.image), "output": str(args.output), "seconds": round(time.perf_counter() - start, 3)},
        f"{args.image} -> {args.output}",
    )
    return 0


def cmd_trimap(args: argparse.Namespace, console: Console) -> int:
    from core.pipeline import mask_trimap, subject_trimap

    image = load_image(args.image, max_pixels=args.max_pixels)
    if args.mask:
        mask = load_grey(args.mask, max_pixels=args.max_pixels)
        _check_same_size(mask, image, args.mask)
        trimap = mask_trimap(mask.astype(np.float32) / 255.0)
    else:
        trimap, coarse = subject_trimap(image, _open_session(args, console).predict, band=args.band)
        from core.pipeline import LOW_CONFIDENCE

        _warn_if_unsure(console, args.image, coarse.confidence, coarse.confidence < LOW_CONFIDENCE)
    save_png(Path(args.output), trimap)
    console.result({"input": str(args.image), "output": str(args.output)}, f"{args.image} -> {args.output}")
    return 0


def _check_same_size(grey: np.ndarray, image: np.ndarray, name: str) -> None:
    if grey.shape != image.shape[:2]:
        raise ParameterError(f"{name}: size {grey.shape[1]}×{grey.shape[0]} differs from the image's {image.shape[1]}×{image.shape[0]}")


def _eval_predict(args: argparse.Namespace, console: Console):
    """The model's predict for ``eval``, behind the on-disk cache with ``--model-cache``."""
    session = _open_session(args, console)
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
        methods = [args.refine or DEFAULT_REFINE]
        trimap = (trimap or "trimap1") if args.mode == "trimap" else None
    elif args.refine:
        raise ParameterError("--refine: only with the old form (--mode); use --methods")
    plan = folder.plan(data, methods=methods or ["best"], gt=args.gt, trimap=trimap, names=_names(args.images),
                       every=args.every, limit=args.limit)
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
    methods = _names(args.methods) or ["fast"]
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


def cmd_sample(args: argparse.Namespace, console: Console) -> int:
    from core.sample import furry_subject

    image, alpha = furry_subject()
    save_png(Path(args.output), float_to_uint8(image))
    if args.alpha_out:
        save_png(Path(args.alpha_out), float_to_uint8(alpha))
    console.result({"output": str(args.output)}, f"sample photo written to {args.output}")
    return 0


def cmd_locate(args: argparse.Namespace, console: Console) -> int:
    from core.phone.locate import locate

    document = float_to_uint8(load_image(args.document, max_pixels=args.max_pixels))
    photo = float_to_uint8(load_image(args.photo, max_pixels=args.max_pixels))  # EXIF orientation applied
    found = locate(document, photo)
    payload = {
        "x": None if found.x is None else round(found.x, 2),
        "y": None if found.y is None else round(found.y, 2),
        "confidence": round(found.confidence, 4),
    }
    if found.x is None:
        text = f"{args.photo}: could not find where it points on {args.document} (confidence {found.confidence:.2f})"
    else:
        text = (
            f"{args.photo} points at pixel ({found.x:.1f}, {found.y:.1f}) of {args.document} "
            f"(confidence {found.confidence:.2f})"
        )
    console.result(payload, text)
    return 0


def cmd_layers(args: argparse.Namespace, console: Console) -> int:
    from core.segments import model_features, soft_segments
    from core.segments.preview import preview_sheet

    source = Path(args.image)
    image = load_image(source, max_pixels=args.max_pixels)
    session = _open_session(args, console)
    features = model_features(session, image)
    if features is None:
        console.warn(f"model {session.name!r} offers no decoder feature maps; the layers go without the semantic term")
    segments = soft_segments(image, args.count, features=features)
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for k, rgba in enumerate(segments.layers_rgba(args.masks), start=1):
        target = folder / f"{source.stem}.layer{k}.png"
        save_png(target, rgba)
        written.append(str(target))
    sheet = folder / f"{source.stem}.layers.png"
    save_png(sheet, preview_sheet(image, segments))
    console.result(
        {"input": str(source), "layers": written, "preview": str(sheet), "count": len(written),
         "masks": args.masks, "semantic": features is not None, "device": session.device},
        f"{source} -> {len(written)} layers in {folder} (preview {sheet.name})",
    )
    return 0


# ── argument parsing ──────────────────────────────────────────────────────────


def _add_common(p: argparse.ArgumentParser, *, model: bool = True) -> None:
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors and warnings")
    p.add_argument("--json", action="store_true", help="machine-readable results on stdout")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help="refuse larger images (default 100 MP)")
    if model:
        p.add_argument("--model", default=registry.DEFAULT_MODEL, help="model name or path to .onnx (default isnet)")
        p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "directml", "coreml"))


def _add_edge_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--band", type=float, default=0.015, help="automatic trimap band, fraction of the image scale (widen for hair)")
    p.add_argument("--smooth", type=float, default=0.0, help="0-100, smooth the contour")
    p.add_argument("--feather", type=float, default=0.0, help="pixels, soften the edge")
    p.add_argument("--contrast", type=float, default=0.0, help="0-100 %%, harden the edge")
    p.add_argument("--shift-edge", type=float, default=0.0, help="-100..100 %%, move the edge out (+) or in (-)")
    p.add_argument("--decontaminate", type=float, default=1.0, help="0-1, clean background colour from edges")


def build_parser(extend: Callable[[argparse._SubParsersAction, Callable], None] | None = None) -> argparse.ArgumentParser:
    """The ``softcut`` parser; ``extend(subparsers, add_common)`` lets a layer above
    core (the engine server) add its own commands."""
    parser = argparse.ArgumentParser(prog="softcut", description="Local Select Subject: soft alpha mattes.")
    parser.add_argument("--version", action="version", version=f"softcut {core.__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", required=True)

    cut = sub.add_parser("cut", help="cut the main subject out of images")
    cut.add_argument("inputs", nargs="+", metavar="INPUT")
    cut.add_argument("-o", "--output", required=True, help="RGBA PNG (a folder for several inputs)")
    cut.add_argument("--alpha-out", help="also write the alpha as 8-bit grey PNG")
    cut.add_argument("--trimap-out", help="also write the automatic trimap")
    cut.add_argument("--refine", default=DEFAULT_REFINE, choices=REFINE_MODES)
    _add_edge_flags(cut)
    cut.add_argument("--plate", metavar="PLATE",
                     help="a clean plate: the same scene without the subject, taken from about the same spot "
                          "(aligned automatically; gives a better matte)")
    cut.add_argument("--bg-color", help="composite over this colour ('#rrggbb' or 'r,g,b') instead of transparency")
    _add_common(cut)
    cut.set_defaults(func=cmd_cut)

    video = sub.add_parser(
        "video", help="matte every frame of a video or a folder of frames",
        description="Matte a video (any file ffmpeg reads) or a folder of frames (natural order). An interrupted "
                    "run (Ctrl-C, crash) resumes after its last finished frame when run again with the same input "
                    "and options; a different input or options for the same outputs is refused unless --restart.")
    video.add_argument("input", metavar="INPUT", help="a video file or a folder of frames")
    video.add_argument("-o", "--output", required=True, action="append",
                       help="a folder (RGBA PNG per frame), .mov (ProRes 4444 with alpha), .webm (VP9 with alpha) or "
                            ".mp4/.mkv/.avi (the matte as a grey video); may be given several times")
    video.add_argument("--refine", default="fast", choices=REFINE_MODES, help="per-frame refinement (default fast)")
    _add_edge_flags(video)
    video.add_argument("--no-delay", action="store_true", help="turn off the one-frame-delay flicker correction")
    video.add_argument("--smoothing", type=float, default=0.8,
                       help="0-0.99, motion-compensated smoothing with the previous frame (0: off; default 0.8)")
    video.add_argument("--plate", metavar="PLATE", help="a clean plate: a photo of the scene without the subject")
    video.add_argument("--fps", type=float, help="frame rate of video outputs (default: the input video's, else 25)")
    video.add_argument("--restart", action="store_true", help="start over, ignoring an unfinished earlier run")
    _add_common(video)
    video.set_defaults(func=cmd_video)

    refine = sub.add_parser("refine", help="refine a trimap or a rough mask into an alpha matte")
    refine.add_argument("image")
    group = refine.add_mutually_exclusive_group(required=True)
    group.add_argument("--trimap", help="grey PNG: 0 background, 128 unknown, 255 foreground")
    group.add_argument("--mask", help="a rough selection (grey PNG)")
    refine.add_argument("-o", "--output", required=True, help="8-bit grey alpha PNG")
    refine.add_argument("--refine", default=DEFAULT_REFINE, choices=("fast", "best"))
    _add_common(refine, model=False)
    refine.set_defaults(func=cmd_refine)

    trimap = sub.add_parser("trimap", help="make a trimap from the model or from a mask")
    trimap.add_argument("image")
    trimap.add_argument("--mask", help="build it from this rough selection instead of the model")
    trimap.add_argument("--band", type=float, default=0.015, help="automatic trimap band, fraction of the image scale")
    trimap.add_argument("-o", "--output", required=True)
    _add_common(trimap)
    trimap.set_defaults(func=cmd_trimap)

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
    _add_common(ev)
    ev.set_defaults(func=cmd_eval)

    models = sub.add_parser("models", help="list, fetch, verify or locate models")
    models.add_argument("action", choices=("list", "fetch", "verify", "path"))
    models.add_argument("name", nargs="?", choices=list(registry.MODELS))
    _add_common(models, model=False)
    models.set_defaults(func=cmd_models)

    sample = sub.add_parser("sample", help="write a generated sample photo (with its true matte)")
    sample.add_argument("-o", "--output", required=True)
    sample.add_argument("--alpha-out", help="also write its true alpha")
    _add_common(sample, model=False)
    sample.set_defaults(func=cmd_sample)

    loc = sub.add_parser("locate", help="which document pixel a phone photo of the screen points at")
    loc.add_argument("document", metavar="DOCUMENT_IMAGE", help="the document as displayed (or a screenshot)")
    loc.add_argument("photo", metavar="PHONE_PHOTO", help="a photo of the screen; its centre is the point")
    _add_common(loc, model=False)
    loc.set_defaults(func=cmd_locate)

    layers = sub.add_parser("layers", help="decompose an image into soft layers that sum to one")
    layers.add_argument("image")
    layers.add_argument("-o", "--output", required=True, help="folder for one RGBA PNG per layer and a preview sheet")
    layers.add_argument("--count", type=int, default=5, help="how many layers, 2-10 (default 5)")
    layers.add_argument("--masks", default="soft", choices=("soft", "stacked"),
                        help="soft: each layer's own alpha (they sum to one); stacked: alphas that give back the "
                             "image when the layers are stacked in order with normal blending")
    _add_common(layers)
    layers.set_defaults(func=cmd_layers)

    doctor = sub.add_parser("doctor", help="which device and model would run")
    _add_common(doctor)
    doctor.set_defaults(func=cmd_doctor)
    if extend is not None:
        extend(sub, _add_common)
    return parser


def main(argv: list[str] | None = None, *, extend=None) -> int:
    args = build_parser(extend).parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    console = Console(args)
    try:
        return args.func(args, console)
    except SoftcutError as exc:
        console.error(str(exc))
        return 2
    except KeyboardInterrupt:
        console.error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
