"""``softcut install-plugin EDITOR``: copy an editor plug-in, with the engine's client, where the editor loads it.

The plug-in's files come from the source checkout (``plugins/``) or, in an
installed package, from ``<prefix>/share/softcut/plugins``. The standard-library
:mod:`wire` package (protocol, client, config) is copied inside the plug-in's
package as ``wire/`` (in the checkout that folder is a link to the real one), so the
editor's own Python needs nothing else. Photoshop installs
UXP plug-ins itself: for it the installer writes the ``.ccx`` package that
Creative Cloud installs (see :func:`install_photoshop`).
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import wire
from core.errors import SoftcutError

WIRE_DIR = Path(wire.__file__).resolve().parent
"""The :mod:`wire` package that plug-ins vendor."""
SOURCE_ROOT = WIRE_DIR.parent
"""The checkout (or site-packages) the engine runs from: ``plugins/`` is looked for here first."""


def plugin_source(editor: str) -> Path:
    """The folder holding ``editor``'s plug-in files."""
    for root in (SOURCE_ROOT / "plugins", Path(sys.prefix) / "share" / "softcut" / "plugins"):
        if (root / editor).is_dir():
            return root / editor
    raise FileNotFoundError(f"no {editor} plug-in found next to the engine or under {sys.prefix}/share/softcut")


def krita_resource_dir() -> Path:
    """Krita's per-user resource folder (where ``pykrita/`` lives) on this platform."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "krita"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "krita"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "krita"


def krita_config_file() -> Path:
    """``kritarc``, where Krita records which Python plug-ins are enabled."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "kritarc"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Preferences" / "kritarc"
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "kritarc"


def vendor_client(package_dir: Path) -> None:
    """Copy the standard-library :mod:`wire` package into ``package_dir`` as ``wire/`` (replacing an
    older copy, or the checkout's link to the real one)."""
    target = package_dir / "wire"
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    shutil.copytree(WIRE_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "js"))


def enable_krita_plugin(config_file: Path, name: str) -> None:
    """Set ``enable_NAME=true`` in kritarc's ``[python]`` group, keeping everything else."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # kritarc keys are case-sensitive
    if config_file.exists():
        parser.read(config_file, encoding="utf-8")
    if not parser.has_section("python"):
        parser.add_section("python")
    parser.set("python", f"enable_{name}", "true")
    config_file.parent.mkdir(parents=True, exist_ok=True)
    with open(config_file, "w", encoding="utf-8") as out:
        parser.write(out, space_around_delimiters=False)


def install_krita(resource_dir: Path | None = None, config_file: Path | None = None) -> Path:
    """Install the Krita plug-in; returns the plug-in's package folder."""
    source = plugin_source("krita")
    pykrita = (resource_dir or krita_resource_dir()) / "pykrita"
    package = pykrita / "softcut_krita"
    if package.exists():
        shutil.rmtree(package)
    pykrita.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "softcut_krita", package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(source / "softcut_krita.desktop", pykrita / "softcut_krita.desktop")
    if (source / "README.md").exists():
        shutil.copy2(source / "README.md", package / "README.md")
    vendor_client(package)
    enable_krita_plugin(config_file or krita_config_file(), "softcut_krita")
    return package


def gimp_resource_dir() -> Path:
    """GIMP 3's per-user folder (where ``plug-ins/`` lives) on this platform."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "GIMP" / "3.0"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "GIMP" / "3.0"
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "GIMP" / "3.0"


def install_gimp(resource_dir: Path | None = None, config_file: Path | None = None) -> Path:
    """Install the GIMP 3 plug-in (GIMP loads every folder in ``plug-ins``); returns its folder.

    ``config_file`` is unused: GIMP needs no setting to load a plug-in.
    """
    source = plugin_source("gimp") / "softcut_gimp"
    target = (resource_dir or gimp_resource_dir()) / "plug-ins" / "softcut_gimp"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if (source.parent / "README.md").exists():
        shutil.copy2(source.parent / "README.md", target / "README.md")
    vendor_client(target / "softcut_plugin")
    entry = target / "softcut_gimp.py"
    entry.chmod(entry.stat().st_mode | 0o755)  # GIMP runs only executable plug-ins on Linux and macOS
    entry.touch()  # GIMP re-reads a plug-in's procedures only when its file is newer than its cache (pluginrc)
    return target


PHOTOSHOP_PLUGIN = "photoshop_uxp"
PHOTOSHOP_PACKAGE = "softcut-photoshop.ccx"
"""The UXP package's file name, in the plug-in's ``dist/`` (``npm run package``) and where we write it."""


class PluginPackageError(SoftcutError):
    """The Photoshop plug-in's folder cannot be packaged (a listed file is missing, no manifest.json)."""

    code = "plugin_package_failed"


def photoshop_data_dir() -> Path:
    """Where ``softcut install-plugin photoshop`` writes the package: ``<user data dir>/softcut/photoshop``."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "softcut" / "photoshop"


def uxp_files(source: Path) -> list[str]:
    """The files package.json's ``files`` ships, relative to ``source``, with forward slashes.

    A listed folder stands for every file under it except hidden ones (``.DS_Store``,
    editor swap files), as npm packs it; manifest.json comes first.

    Raises
    ------
    PluginPackageError
        If package.json cannot be read or lists no manifest.json, or a listed file or folder is missing.
    """
    try:
        listed = json.loads((source / "package.json").read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PluginPackageError(f"{source / 'package.json'}: cannot read its \"files\" list ({exc})") from exc
    if not isinstance(listed, list) or not all(isinstance(entry, str) for entry in listed):
        raise PluginPackageError(f"{source / 'package.json'}: \"files\" must be a list of paths")
    root = source.resolve()
    out: list[str] = []
    for entry in listed:
        path = (root / entry).resolve()
        if not path.is_relative_to(root):
            raise PluginPackageError(f"{source / 'package.json'} lists {entry!r}, which is outside {source}")
        if path.is_dir():
            found = (f.relative_to(root) for f in path.rglob("*") if f.is_file())
            out += sorted(f.as_posix() for f in found if not any(part.startswith(".") for part in f.parts))
        elif path.is_file():
            out.append(path.relative_to(root).as_posix())
        else:
            raise PluginPackageError(f"{source / 'package.json'} lists {entry!r}, which is missing from {source}")
    if "manifest.json" not in out:
        raise PluginPackageError(f"{source / 'package.json'}: \"files\" must list manifest.json (the plug-in's root)")
    return ["manifest.json", *(name for name in dict.fromkeys(out) if name != "manifest.json")]


def _newer_than_sources(package: Path, source: Path) -> bool:
    newest = max((source / name).stat().st_mtime for name in [*uxp_files(source), "package.json"])
    return package.stat().st_mtime >= newest


def build_ccx(source: Path, target: Path) -> Path:
    """Zip the shipped files of the UXP plug-in in ``source`` into the package ``target`` (deflated).

    manifest.json sits at the archive's root; the archive is written next to
    ``target`` and moved into place, so a failed build leaves no partial file.
    """
    files = uxp_files(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=".softcut-", suffix=".ccx", dir=target.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in files:
                archive.write(source / name, name)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return target


def install_photoshop(resource_dir: Path | None = None, config_file: Path | None = None,
                      source: Path | None = None) -> Path:
    """Write the Photoshop plug-in's package, ``softcut-photoshop.ccx``; returns its path.

    A package built with ``npm run package`` (``dist/softcut-photoshop.ccx`` in the
    plug-in's folder) is copied as is when it is newer than every file it holds;
    otherwise (none, or a stale one) a package is zipped from the files package.json lists. It goes to ``resource_dir`` (default
    :func:`photoshop_data_dir`); Creative Cloud installs it when the user opens it.
    ``config_file`` is unused: Photoshop keeps its own list of plug-ins.
    ``source``: the plug-in's folder (default: the one shipped with Softcut).
    """
    source = source or plugin_source(PHOTOSHOP_PLUGIN)
    target = (resource_dir or photoshop_data_dir()) / PHOTOSHOP_PACKAGE
    built = source / "dist" / PHOTOSHOP_PACKAGE
    if built.is_file() and _newer_than_sources(built, source):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)
        return target
    return build_ccx(source, target)


INSTALLERS = {"krita": install_krita, "gimp": install_gimp, "photoshop": install_photoshop}
