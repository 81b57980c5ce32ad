"""What several commands share: the common flags, the matting flags with the protocol's defaults
(:func:`wire.protocol.request_schemas.defaults`, the one place they are written), and opening the model."""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

from core.edges import EdgeControls
from core.imageio import DEFAULT_MAX_PIXELS
from core.models import registry, store
from softcut_app.console import Console
from wire.protocol.request_schemas import defaults


def open_session(args: argparse.Namespace, console: Console, *, warn: bool = True, rehash: bool = False):
    """The session for ``--model``/``--device``, fetching the model first if needed; a corrupt cached model is
    reported and fetched again. ``rehash``: hash the model file even when its stamp vouches for it."""
    from core.models.session import open_session as open_model_session

    spec = registry.MODELS.get(args.model)
    if spec is not None and spec.npm is not None and store.locate(spec) is None:
        console.info(f"model {spec.name} is not cached yet: fetching it with npm into {store.cached_path(spec)} (first run only)")
    bar = console.progress("model")
    try:
        session = open_model_session(args.model, device=args.device, progress=bar, rehash=rehash, notice=console.warn)
    finally:
        bar.close()
    if session.warning and warn:
        console.warn(session.warning)
    if getattr(args, "refine", None) == "best" and not kernels_cached(pymatting_folder()):
        console.info("pymatting compiles its numba kernels on its first use in this environment (about a minute "
                     "on 2 cores, once; they are cached after)")
    return session


def pymatting_folder() -> Path | None:
    """The installed pymatting package's folder (found without importing it), or None when it cannot be told:
    pymatting missing, or numba told to cache elsewhere (NUMBA_CACHE_DIR)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    try:
        spec = importlib.util.find_spec("pymatting")
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]) if locations else None


def kernels_cached(folder: Path | None) -> bool:
    """Whether numba's cache of a package's compiled kernels (``*.nbi`` index files below ``folder``, written on
    first use) exists; True when ``folder`` is None (nothing to tell)."""
    return folder is None or next(folder.rglob("*.nbi"), None) is not None


def add_common(p: argparse.ArgumentParser, *, model: bool = True) -> None:
    """--quiet, --json and --max-pixels; with ``model``, --model and --device too."""
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors and warnings")
    p.add_argument("--json", action="store_true", help="machine-readable results on stdout")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, metavar="N",
                   help="refuse images of more pixels, checked from the header before decoding (default 100 MP)")
    if model:
        p.add_argument("--model", default=registry.DEFAULT_MODEL, help="model name or path to .onnx (default isnet)")
        p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "directml", "coreml"),
                       help="where the model runs: auto takes a GPU when onnxruntime offers one, else the CPU; "
                            "a GPU named here must be available")


def add_edge_flags(p: argparse.ArgumentParser, request: str) -> None:
    """--band, the four edge controls and --decontaminate, defaulting to what the protocol documents for
    ``request`` (the engine request the command matches: select_subject, video_start)."""
    fields = defaults(request)
    edges = fields["edges"]
    p.add_argument("--band", type=float, default=float(fields["band"]),
                   help="automatic trimap band, fraction of the image scale (widen for hair)")
    p.add_argument("--smooth", type=float, default=float(edges["smooth"]), help="0-100, smooth the contour")
    p.add_argument("--feather", type=float, default=float(edges["feather"]), help="pixels, soften the edge")
    p.add_argument("--contrast", type=float, default=float(edges["contrast"]), help="0-100 %%, harden the edge")
    p.add_argument("--shift-edge", type=float, default=float(edges["shift_edge"]),
                   help="-100..100 %%, move the edge out (+) or in (-)")
    p.add_argument("--decontaminate", type=float, default=float(fields["decontaminate"]),
                   help="0-1, clean background colour from edges")


def _edge_controls(args: argparse.Namespace) -> EdgeControls:
    return EdgeControls(smooth=args.smooth, feather=args.feather, contrast=args.contrast, shift_edge=args.shift_edge)


def matte_options(args: argparse.Namespace):
    """The MatteOptions of ``cut`` and ``video`` (--refine and the edge flags)."""
    from core.subject.options import MatteOptions

    return MatteOptions(refine=args.refine, edges=_edge_controls(args), decontaminate=args.decontaminate, band=args.band)
