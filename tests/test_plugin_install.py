"""`softcut install-plugin krita|gimp|photoshop` and the plug-ins' pure byte conversions."""

from __future__ import annotations

import ast
import json
import os
import sys
import zipfile
from pathlib import Path

import pytest

from softcut_app import plugin_install
from softcut_app.cli import main
from softcut_app.plugin_install import (
    WIRE_DIR,
    PluginPackageError,
    enable_krita_plugin,
    install_photoshop,
    uxp_files,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "krita"))
from softcut_krita import pixels  # noqa: E402  (outside Krita the package registers nothing)

GIMP_PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "gimp" / "softcut_gimp"
sys.path.insert(0, str(GIMP_PLUGIN))
from softcut_plugin import pixels as gimp_pixels  # noqa: E402  (pure: no GIMP needed)


def test_install_copies_plugin_and_client_and_keeps_kritarc(tmp_path):
    rc = tmp_path / "kritarc"
    rc.write_text("[General]\nLanguage=de\n\n[python]\nenable_other=true\n")
    assert main(["install-plugin", "krita", "--resource-dir", str(tmp_path / "krita"), "--config-file", str(rc)]) == 0
    package = tmp_path / "krita" / "pykrita" / "softcut_krita"
    for name in ("__init__.py", "document.py", "wire/config.py", "wire/client/api.py", "wire/protocol/messages.py",
                 "wire/_vendor/websockets/sync/client.py", "wire/_vendor/websockets/LICENSE"):
        assert (package / name).is_file(), name
    # the checkout's link to wire/ becomes a real copy, without the JavaScript the panel carries
    assert not (package / "wire").is_symlink() and not (package / "wire" / "js").exists()
    assert (tmp_path / "krita" / "pykrita" / "softcut_krita.desktop").is_file()
    text = rc.read_text()
    assert "Language=de" in text and "enable_other=true" in text and "enable_softcut_krita=true" in text
    # a second install replaces the first
    assert main(["install-plugin", "krita", "--resource-dir", str(tmp_path / "krita"), "--config-file", str(rc)]) == 0
    enable_krita_plugin(rc, "softcut_krita")
    assert rc.read_text().count("enable_softcut_krita") == 1


def test_pixel_layouts():
    assert pixels.swap_red_blue(bytes([1, 2, 3, 4, 5, 6, 7, 8])) == bytes([3, 2, 1, 4, 7, 6, 5, 8])
    assert pixels.bgra_with_alpha(bytes([1, 2, 3]), bytes([9])) == bytes([3, 2, 1, 9])
    assert pixels.bgra_with_alpha(bytes([1, 2, 3])) == bytes([3, 2, 1, 255])
    assert pixels.clip_rect(-5, 3, 20, 20, 10, 10) == (0, 3, 10, 7)
    assert pixels.clip_rect(20, 20, 5, 5, 10, 10)[2:] == (0, 0)


def test_install_gimp_copies_plugin_and_client_and_marks_it_new(tmp_path):
    gimp_dir = tmp_path / "GIMP" / "3.0"
    assert main(["install-plugin", "gimp", "--resource-dir", str(gimp_dir)]) == 0
    folder = gimp_dir / "plug-ins" / "softcut_gimp"
    entry = folder / "softcut_gimp.py"
    assert os.access(entry, os.X_OK), "GIMP runs only executable plug-ins"
    for name in ("procedures.py", "actions.py", "document.py", "wire/config.py", "wire/client/api.py", "wire/protocol/messages.py",
                 "wire/_vendor/websockets/sync/client.py", "wire/_vendor/websockets/LICENSE"):
        assert (folder / "softcut_plugin" / name).is_file(), name
    # a reinstall replaces the copy and makes the entry newer than GIMP's cache of its procedures
    os.utime(entry, (1_000_000_000, 1_000_000_000))
    (folder / "softcut_plugin" / "stale.py").write_text("")
    assert main(["install-plugin", "gimp", "--resource-dir", str(gimp_dir)]) == 0
    assert entry.stat().st_mtime > 1_000_000_000 + 10
    assert not (folder / "softcut_plugin" / "stale.py").exists()


def _imports(path: Path) -> set[str]:
    """Top-level packages ``path`` imports, leaving out optional ones (``try: … except ImportError``)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                for h in node.handlers):
            return
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return names


@pytest.mark.parametrize("source", [GIMP_PLUGIN, WIRE_DIR], ids=lambda p: p.name)
def test_gimp_plugin_and_its_client_need_only_gimps_own_python(source):
    """GIMP's bundled Python (Windows, macOS) has the standard library and PyGObject, nothing else."""
    allowed = set(sys.stdlib_module_names) | {"gi", "softcut_plugin"}
    for path in source.rglob("*.py") if source.is_dir() else [source]:
        assert _imports(path) <= allowed, (path, _imports(path) - allowed)


def test_gimp_pixel_rectangles():
    assert gimp_pixels.intersect((-5, 3, 20, 20), (0, 0, 10, 10)) == (0, 3, 10, 7)
    assert gimp_pixels.intersect((20, 20, 5, 5), (0, 0, 10, 10))[2:] == (0, 0)
    image = bytes(range(12))  # 4 × 3 grey, covering (10, 20, 4, 3)
    assert gimp_pixels.crop(image, (10, 20, 4, 3), (11, 21, 2, 2)) == bytes([5, 6, 9, 10])
    assert gimp_pixels.crop(image, (10, 20, 4, 3), (10, 21, 4, 2)) == bytes(range(4, 12))
    with pytest.raises(ValueError):
        gimp_pixels.crop(image, (10, 20, 4, 3), (9, 20, 2, 2))
    placed = gimp_pixels.place(bytes([1, 2, 3, 4]), (-1, 1, 2, 2), (0, 0, 3, 3))
    assert placed == bytes([0, 0, 0, 2, 0, 0, 4, 0, 0])
    rgba = bytes(range(1, 9))  # 2 × 1 rgba8 at (1, 0), on a 3 × 2 canvas: transparent where it does not reach
    assert gimp_pixels.place(rgba, (1, 0, 2, 1), (0, 0, 3, 2), bpp=4) == bytes(4) + rgba + bytes(12)
    assert gimp_pixels.place(rgba, (0, 0, 2, 1), (0, 0, 2, 1), bpp=4) == rgba
    assert gimp_pixels.rgba_opaque(bytes([1, 2, 3, 4, 5, 6])) == bytes([1, 2, 3, 255, 4, 5, 6, 255])
    # a blank selection (Refine Selection's guide) is told by wire.editor.check_guide: tests/test_editor.py


# ---------------------------------------------------------------- Photoshop: the .ccx package


def _uxp_plugin(root: Path, files: list[str]) -> Path:
    """A stand-in UXP plug-in folder: manifest.json, package.json listing ``files``, a few sources, test files."""
    root.mkdir(parents=True)
    (root / "manifest.json").write_text(json.dumps({"manifestVersion": 5, "id": "com.softcut.test", "main": "index.html"}))
    (root / "index.html").write_text("<script src='src/main.js'></script>")
    (root / "src" / "lib").mkdir(parents=True)
    (root / "src" / "main.js").write_text("require('./lib/ws.js');")
    (root / "src" / "lib" / "ws.js").write_text("module.exports = 1;")
    (root / "src" / ".DS_Store").write_bytes(b"\0")
    (root / "test").mkdir()
    (root / "test" / "main.test.js").write_text("// not shipped")
    (root / "package.json").write_text(json.dumps({"name": "softcut-photoshop", "files": files}))
    return root


def test_photoshop_package_holds_exactly_the_listed_files_with_manifest_at_the_root(tmp_path):
    source = _uxp_plugin(tmp_path / "photoshop_uxp", ["index.html", "src/", "manifest.json"])
    package = install_photoshop(tmp_path / "out", source=source)
    assert package == tmp_path / "out" / "softcut-photoshop.ccx"
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        assert names[0] == "manifest.json"
        assert sorted(names) == ["index.html", "manifest.json", "src/lib/ws.js", "src/main.js"]
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
        assert archive.read("src/lib/ws.js") == (source / "src" / "lib" / "ws.js").read_bytes()
        assert json.loads(archive.read("manifest.json"))["id"] == "com.softcut.test"


def test_photoshop_package_refuses_a_missing_listed_file_and_leaves_nothing_behind(tmp_path):
    source = _uxp_plugin(tmp_path / "photoshop_uxp", ["manifest.json", "index.html", "icons/"])
    with pytest.raises(PluginPackageError, match=r"lists 'icons/', which is missing"):
        install_photoshop(tmp_path / "out", source=source)
    assert not (tmp_path / "out" / "softcut-photoshop.ccx").exists()
    (source / "package.json").write_text(json.dumps({"files": ["index.html"]}))
    with pytest.raises(PluginPackageError, match="must list manifest.json"):
        install_photoshop(tmp_path / "out", source=source)
    (source / "package.json").write_text(json.dumps({"files": ["manifest.json", "../outside.txt"]}))
    (tmp_path / "outside.txt").write_text("")
    with pytest.raises(PluginPackageError, match="outside"):
        install_photoshop(tmp_path / "out", source=source)
    assert not (tmp_path / "out").exists()  # checked before anything is written


def test_photoshop_package_built_by_npm_is_used_as_is_unless_a_source_is_newer(tmp_path):
    source = _uxp_plugin(tmp_path / "photoshop_uxp", ["manifest.json", "index.html"])
    (source / "dist").mkdir()
    built = source / "dist" / "softcut-photoshop.ccx"
    built.write_bytes(b"PK built by npm run package")
    old = built.stat().st_mtime - 100
    for name in ("manifest.json", "index.html", "package.json"):
        os.utime(source / name, (old, old))
    package = install_photoshop(tmp_path / "out", source=source)
    assert package.read_bytes() == b"PK built by npm run package"

    os.utime(source / "index.html", (old + 200, old + 200))  # edited after the build: the package is stale
    package = install_photoshop(tmp_path / "out", source=source)
    with zipfile.ZipFile(package) as archive:
        assert archive.namelist() == ["manifest.json", "index.html"]


def test_install_plugin_photoshop_tells_how_to_install_and_pair(tmp_path, capsys, monkeypatch):
    source = _uxp_plugin(tmp_path / "plugins" / "photoshop_uxp", ["manifest.json", "index.html", "src/"])
    monkeypatch.setattr(plugin_install, "SOURCE_ROOT", tmp_path)  # plugin_source looks in its plugins/
    assert main(["install-plugin", "photoshop", "--resource-dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "double-click softcut-photoshop.ccx (Creative Cloud installs it)" in out
    assert f"pick manifest.json in {source}" in out and "enter the pairing code it prints" in out
    assert zipfile.is_zipfile(tmp_path / "out" / "softcut-photoshop.ccx")


def test_the_wheel_ships_what_the_real_photoshop_plugin_lists():
    """pyproject's data-files must carry every file package.json ships (install-plugin zips them)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    canonic_data_files = pytest.importorskip("setuptools.config.expand").canonic_data_files
    root = Path(__file__).resolve().parents[1]
    source = root / "plugins" / "photoshop_uxp"
    if not (source / "package.json").is_file():
        pytest.skip("the Photoshop plug-in is not in this checkout")
    tables = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    shipped = {
        f"{dest}/{Path(name).name}"
        for dest, names in canonic_data_files(tables, root) for name in names
    }
    prefix = "share/softcut/plugins/photoshop_uxp/"
    assert {prefix + name for name in uxp_files(source)} <= shipped
