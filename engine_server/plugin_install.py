"""``softcut install-plugin EDITOR``: copy an editor plug-in, with the engine's client, where the editor loads it.

The plug-in's files come from the source checkout (``plugins/``) or, in an
installed package, from ``<prefix>/share/softcut/plugins``. The standard-library
client (``config``, ``protocol``, ``client``) is copied inside the plug-in's
package, so the editor's own Python needs nothing else.
"""

from __future__ import annotations

import configparser
import os
import shutil
import sys
from pathlib import Path

import engine_server

ENGINE_DIR = Path(engine_server.__file__).resolve().parent
VENDORED = ("config.py", "protocol", "client")


def plugin_source(editor: str) -> Path:
    """The folder holding ``editor``'s plug-in files."""
    for root in (ENGINE_DIR.parent / "plugins", Path(sys.prefix) / "share" / "softcut" / "plugins"):
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
    """Copy the engine's standard-library client into ``package_dir`` (replacing an older copy)."""
    for name in VENDORED:
        source, target = ENGINE_DIR / name, package_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target)


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


INSTALLERS = {"krita": install_krita, "gimp": install_gimp}
