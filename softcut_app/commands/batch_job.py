"""``softcut batch SRC DST``: every image of a folder, list file or URL cut out into DST as ``cut`` writes it
(``DST/<its path below SRC>.png`` by default), by a pool of worker processes on this machine or, with
``--ray``, by Ray Data on a cluster; resumable through the manifest ``DST/.softcut-batch.jsonl``.

Exit status: 0 all done; 1 some inputs failed (each recorded with its error in the manifest and said on
stderr; the others written); 2 a usage or setup error (nothing processed)."""

from __future__ import annotations

import argparse
import time
from itertools import islice

from core.errors import ImageInputError, ParameterError
from softcut_app.batchjob.job import FORMATS, Job, file_sha256
from softcut_app.batchjob.sources import check_outputs_apart, iter_sources
from softcut_app.batchjob.storage import check_folder, is_url, sweep
from softcut_app.commands.common import add_common
from softcut_app.commands.images import add_cut_flags
from softcut_app.console import Console

FAILURES_SHOWN = 20
"""The summary names at most this many failed inputs (the manifest has them all)."""
SAMPLED_HEADERS = 8
"""Image sizes read from the first inputs' headers to size the workers' memory."""
DEFAULT_PIXELS = 12_000_000
"""The image size assumed for the workers' memory when no header can be read (a URL source)."""


def cmd_batch(args: argparse.Namespace, console: Console) -> int:
    from core.models.session import resolve
    from softcut_app.batchjob.manifest import open_manifest

    dst = args.dst = check_folder(args.dst, "DST")
    for flag in ("alpha_out", "trimap_out"):
        if getattr(args, flag):
            setattr(args, flag, check_folder(getattr(args, flag), "--" + flag.replace("_", "-")))
    if args.ray is not None:
        from softcut_app.batchjob.on_ray import need_ray

        need_ray()  # before any work: without the extra, say how to install it
    if args.workers < 0:
        raise ParameterError(f"--workers: expected 0 (automatic) or more; got {args.workers}")
    outputs = [p for p in (args.dst, args.alpha_out, args.trimap_out) if p]
    skip = outputs
    total = sum(1 for _ in check_outputs_apart(iter_sources(args.src, args.glob, skip=skip)))
    if not total:
        raise ParameterError(f"SRC: no images matching --glob {args.glob!r} in {args.src}")
    bar = console.progress("model")
    try:
        spec, model_path = resolve(args.model, progress=bar, notice=console.warn)
    finally:
        bar.close()
    plate_id = ""
    if args.plate:
        from core.imageio import read_header

        try:
            read_header(args.plate, max_pixels=args.max_pixels)
        except ImageInputError as exc:
            raise ParameterError(f"--plate: {exc}") from None
        plate_id = file_sha256(args.plate)
    job = Job.from_args(args, model_id=spec.sha256 or file_sha256(model_path), plate_id=plate_id)
    key = job.key()
    with open_manifest(dst) as manifest:
        counts = {"done": 0, "skipped": 0, "failed": 0}
        failed: list[str] = []
        progress = console.frame_progress("batch", unit="images")
        progress.frames(0, total)

        def on_record(record: dict) -> None:
            if record.get("skipped"):
                counts["skipped"] += 1
            else:
                manifest.append(record)
                counts[record["status"]] += 1
                if record["status"] == "failed":
                    failed.append(record["error"])
                    console.error(record["error"])
                elif args.json:
                    console.result(record, "")
            progress.frames(sum(counts.values()), total)

        def work():
            for source, relative in iter_sources(args.src, args.glob, skip=skip):
                yield source, relative, manifest.done(relative, key)

        manifest.start(key, job.options())
        start = time.monotonic()
        if args.ray is not None:
            from softcut_app.batchjob.on_ray import run_ray

            run_ray(job, work(), args.ray, on_record, console=console, workers=args.workers)
        else:
            from softcut_app.batchjob.local import plan, run_local

            plan_ = plan(model_path, _largest(args.src, args.glob, skip), args.refine, workers=args.workers)
            console.info(f"batch: {total} images from {args.src} into {dst}, {plan_.workers} worker process"
                         f"{'es' if plan_.workers > 1 else ''} × {plan_.threads} thread{'s' if plan_.threads > 1 else ''} "
                         f"(~{plan_.worker_bytes / 1024**3:.1f} GB each"
                         + (f" of {plan_.available / 1024**3:.1f} GB available)" if plan_.available else ")"))
            run_local(job, work(), plan_, on_record)
        progress.close()
        manifest.compact()
        if manifest.unfinished:  # a run before this one was killed: its temporary files (the lock keeps others out)
            for folder in outputs:
                sweep(folder)
    seconds = time.monotonic() - start
    rate = counts["done"] / seconds if seconds > 0 else 0.0
    summary = {"total": total, **counts, "seconds": round(seconds, 2), "images_per_s": round(rate, 3),
               "manifest": manifest.location, "failures": failed[:FAILURES_SHOWN]}
    text = (f"batch: {counts['done']} cut out, {counts['skipped']} already done, {counts['failed']} failed, "
            f"of {total}, in {seconds:.1f} s ({rate:.2f} images/s); manifest {manifest.location}")
    if failed:
        text += "\nfailed:\n  " + "\n  ".join(failed[:FAILURES_SHOWN])
        if len(failed) > FAILURES_SHOWN:
            text += f"\n  … and {len(failed) - FAILURES_SHOWN} more (see the manifest)"
    if args.json:
        console.result({"summary": summary}, text)
    else:
        console.info(text)
    return 1 if counts["failed"] else 0


def _largest(src: str, glob: str, skip: list[str]) -> int:
    """The most pixels among the first inputs' headers (:data:`DEFAULT_PIXELS` where none can be read)."""
    from core.imageio import read_header

    sizes = []
    for source, _ in islice(iter_sources(src, glob, skip=skip), SAMPLED_HEADERS):
        if is_url(source):
            continue
        try:
            width, height = read_header(source)
        except ImageInputError:
            continue
        sizes.append(width * height)
    return max(sizes, default=DEFAULT_PIXELS)


def add_batch(sub: argparse._SubParsersAction) -> None:
    """``softcut batch``: a whole folder, resumably, on this machine's cores or on a Ray cluster."""
    p = sub.add_parser("batch", help="cut out a whole folder (or list file, or URL) into a folder, resumably; "
                                     "a pool of processes here, or a Ray cluster with --ray")
    p.add_argument("src", metavar="SRC",
                   help="a folder (searched recursively, see --glob), a list file (.txt/.lst/.list: one path or URL "
                        "a line) or an fsspec URL such as s3://bucket/photos (needs fsspec)")
    p.add_argument("dst", metavar="DST",
                   help="the output folder or fsspec URL (file:///…, s3://bucket/out; needs fsspec): "
                        "DST/<path below SRC>.png (see --format), and the manifest DST/.softcut-batch.jsonl")
    add_cut_flags(p, batch=True)
    p.add_argument("--format", default="png", choices=tuple(FORMATS),
                   help="the cut-out's file type: png, webp, tif keep transparency; jpg is flattened on --bg-color "
                        "(white by default)")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="worker processes (with --ray: actors); 0 sizes them to the cores and memory "
                        "(default 0)")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run on Ray (pip install 'softcut[ray]'): alone, a Ray started here for this job; "
                        "'auto' or an address (ray://host:10001, host:6379) joins a running cluster")
    add_common(p)
    p.set_defaults(func=cmd_batch)
