"""`softcut photoshop-place` and softcut_app.photoshop_com, on a machine without Photoshop.

What can run here: the Windows-only guard (function and CLI), the input checks,
and the ExtendScript it would send, parsed by node and run against a tiny fake
of Photoshop's object model written below (it shows the arithmetic, not Photoshop).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import ParameterError
from softcut_app import photoshop_com
from softcut_app.cli import main
from softcut_app.photoshop_com import PhotoshopComUnavailable, place_png, placement_script

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

TRICKY_PATH = 'C:\\Users\\Zoë "Z" O\'Neil\\cut\\\u2028out\\ü.png'
TRICKY_NAME = 'Cut "out" \\ \'n\' — 猫 </script>'


@pytest.fixture
def png_file(tmp_path) -> Path:
    path = tmp_path / "cut.png"
    path.write_bytes(photoshop_com.PNG_SIGNATURE + b"\x00\x00\x00\rIHDR" + bytes(17))
    return path


# ---------------------------------------------------------------- the Windows-only guard


@pytest.mark.skipif(sys.platform == "win32", reason="the guard is for platforms without COM")
def test_place_png_says_it_is_windows_only(png_file):
    with pytest.raises(PhotoshopComUnavailable) as info:
        place_png(png_file, 10, 20, "cut-out")
    message = str(info.value)
    assert "Windows-only" in message and "this is Linux" in message and "Softcut panel" in message


@pytest.mark.skipif(sys.platform == "win32", reason="the guard is for platforms without COM")
def test_cli_exits_non_zero_with_the_windows_only_message(png_file, capsys):
    assert main(["photoshop-place", str(png_file), "--x", "5", "--y", "7"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: placing through Photoshop's COM interface is Windows-only")


@pytest.mark.skipif(sys.platform == "win32", reason="the guard is for platforms without COM")
def test_cli_in_a_child_process(png_file):
    done = subprocess.run([sys.executable, "-m", "softcut_app.cli", "photoshop-place", str(png_file),
                           "--x", "0", "--y", "0", "--name", "x"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Windows-only" in done.stderr and done.stdout == ""


def test_missing_extra_on_windows_names_the_pip_extra(png_file, monkeypatch):
    monkeypatch.setattr(photoshop_com, "on_windows", lambda: True)
    monkeypatch.setitem(sys.modules, "photoshop", None)  # import photoshop → ImportError
    with pytest.raises(PhotoshopComUnavailable, match=r'pip install "softcut\[photoshop-com\]"'):
        place_png(png_file, 1, 2)


def test_on_windows_the_script_goes_to_doJavaScript_and_failures_are_clear(png_file, monkeypatch):
    """A stand-in for photoshop-python-api records what would be sent through COM."""
    import types

    sent = []

    class Application:
        def doJavaScript(self, script):
            sent.append(script)
            return "placed cut-out"

    fake = types.ModuleType("photoshop")
    fake.api = types.SimpleNamespace(Application=Application)
    monkeypatch.setattr(photoshop_com, "on_windows", lambda: True)
    monkeypatch.setitem(sys.modules, "photoshop", fake)
    assert place_png(png_file, 3, 4, "cut-out") == "placed cut-out"
    assert sent == [placement_script(str(png_file.resolve()), 3, 4, "cut-out")]

    def not_running():
        raise OSError("Class not registered")

    fake.api = types.SimpleNamespace(Application=not_running)
    with pytest.raises(PhotoshopComUnavailable, match="is Photoshop installed and running"):
        place_png(png_file, 3, 4)


def test_inputs_are_checked(tmp_path, png_file, monkeypatch):
    monkeypatch.setattr(photoshop_com, "on_windows", lambda: True)
    with pytest.raises(ParameterError, match="no such file"):
        place_png(tmp_path / "missing.png", 0, 0)
    jpeg = tmp_path / "cut.png.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0 not a png")
    with pytest.raises(ParameterError, match="not a PNG"):
        place_png(jpeg, 0, 0)
    for bad in (1.5, "3", True, None):
        with pytest.raises(ParameterError, match="integer"):
            placement_script(str(png_file), bad, 0, "n")
        with pytest.raises(ParameterError, match="integer"):
            placement_script(str(png_file), 0, bad, "n")


# ---------------------------------------------------------------- the script


def test_script_is_one_history_step_with_the_strings_escaped():
    script = placement_script(TRICKY_PATH, -12, 34, TRICKY_NAME)
    assert 'suspendHistory("Softcut: place cut-out", "softcutPlaceCutout()")' in script
    assert json.dumps(TRICKY_PATH) in script and json.dumps(TRICKY_NAME) in script
    assert "x: -12, y: 34" in script
    assert script.isascii()  # non-ASCII and U+2028 travel as \\u escapes
    assert "alert(" not in script
    for modern in ("let ", "const ", "=>", "`"):
        assert modern not in script, modern  # ExtendScript is ES3


def _node(source: str, tmp_path: Path) -> subprocess.CompletedProcess:
    runner = tmp_path / "run.js"
    runner.write_text(source, encoding="utf-8")
    return subprocess.run([NODE, str(runner)], capture_output=True, text=True, timeout=60)


@needs_node
def test_script_parses_as_javascript_and_a_broken_one_does_not(tmp_path):
    script = placement_script(TRICKY_PATH, 0, 0, TRICKY_NAME)
    (tmp_path / "good.jsx").write_text(script, encoding="utf-8")
    (tmp_path / "broken.jsx").write_text(script[: script.index("finally")], encoding="utf-8")
    check = """
        const fs = require("fs");
        for (const name of ["good.jsx", "broken.jsx"]) {
            try { new Function(fs.readFileSync(__dirname + "/" + name, "utf8")); console.log(name + " parses"); }
            catch (e) { console.log(name + " " + e.name); }
        }
    """
    done = _node(check, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["good.jsx parses", "broken.jsx SyntaxError"]


# A fake of the few Photoshop DOM pieces the script touches. Photoshop's own
# duplicate() may put the copy anywhere in the target; this fake centres it, so
# only a script that measures the copy's bounds can land it at (x, y).
FAKE_PHOTOSHOP = r"""
const fs = require("fs");
const log = [];
function px(v) { return { as: function (unit) { if (unit !== "px") throw new Error("unit " + unit); return v; } }; }
function Layer(doc, box, name) { this.doc = doc; this.box = box; this.name = name; }
Object.defineProperty(Layer.prototype, "bounds", { get: function () { return this.box.map(px); } });
Layer.prototype.duplicate = function (target, where) {
    if (app.activeDocument !== this.doc) throw new Error("duplicate: the source document must be active");
    const w = this.box[2] - this.box[0], h = this.box[3] - this.box[1];
    const left = Math.floor((target.width - w) / 2), top = Math.floor((target.height - h) / 2);
    const copy = new Layer(target, [left, top, left + w, top + h], this.name + " copy");
    if (where !== ElementPlacement.PLACEATBEGINNING) throw new Error("placement " + where);
    target.layers.unshift(copy);
    return copy;
};
Layer.prototype.translate = function (dx, dy) {
    if (app.preferences.rulerUnits !== Units.PIXELS) throw new Error("translate: rulers are not in pixels");
    if (app.activeDocument !== this.doc) throw new Error("translate: the layer's document must be active");
    this.box = [this.box[0] + dx, this.box[1] + dy, this.box[2] + dx, this.box[3] + dy];
};
function Doc(name, width, height, layers) {
    this.name = name; this.width = width; this.height = height; this.layers = layers; this.activeLayer = layers[0];
    for (const l of layers) l.doc = this;
}
Doc.prototype.close = function (how) { log.push("close " + this.name + " " + how); app.documents.splice(app.documents.indexOf(this), 1); };
Doc.prototype.suspendHistory = function (title, code) { log.push("history " + title); (0, eval)(code); };
globalThis.Units = { PIXELS: "px", CM: "cm" };
globalThis.ElementPlacement = { PLACEATBEGINNING: "top" };
globalThis.SaveOptions = { DONOTSAVECHANGES: "nosave" };
globalThis.File = function (path) { this.path = path; };
const scenario = JSON.parse(fs.readFileSync(__dirname + "/scenario.json", "utf8"));
globalThis.app = {
    preferences: { rulerUnits: Units.CM },
    documents: [],
    open: function (file) {
        log.push("open " + file.path);
        const [w, h, l, t, r, b] = scenario.png;  // the PNG's canvas and its visible pixels
        const png = new Doc("cut.png", w, h, [new Layer(null, [l, t, r, b], "Layer 0")]);
        this.documents.push(png);
        this.activeDocument = png;
        return png;
    },
};
let target = null;
if (scenario.document) {
    target = new Doc("photo.psd", 400, 300, [new Layer(null, [0, 0, 400, 300], "Background")]);
    app.documents.push(target);
    app.activeDocument = target;
}
let answer, error = null;
try { answer = (0, eval)(fs.readFileSync(__dirname + "/place.jsx", "utf8")); } catch (e) { error = e.message; }
const top = target && target.layers[0];
console.log(JSON.stringify({
    answer: answer, error: error, log: log, units: app.preferences.rulerUnits,
    active: app.activeDocument && app.activeDocument.name, open: app.documents.map(function (d) { return d.name; }),
    layers: target && target.layers.map(function (l) { return l.name; }), top: top && top.box,
    activeLayer: target && target.activeLayer.name,
}));
"""


def _run_in_fake(tmp_path: Path, script: str, *, png=(200, 100, 30, 10, 150, 90), document=True) -> dict:
    (tmp_path / "place.jsx").write_text(script, encoding="utf-8")
    (tmp_path / "scenario.json").write_text(json.dumps({"png": list(png), "document": document}))
    done = _node(FAKE_PHOTOSHOP, tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_node
@pytest.mark.parametrize("x, y", [(50, 60), (0, 0), (-30, 250)])
def test_script_puts_the_pngs_canvas_origin_at_x_y_in_one_history_step(tmp_path, x, y):
    # a 200x100 PNG whose visible pixels span (30, 10)-(150, 90): transparent borders
    out = _run_in_fake(tmp_path, placement_script(TRICKY_PATH, x, y, TRICKY_NAME))
    assert out["error"] is None
    assert out["top"] == [x + 30, y + 10, x + 150, y + 90]  # canvas origin at (x, y), the borders kept
    assert out["layers"] == [TRICKY_NAME, "Background"] and out["activeLayer"] == TRICKY_NAME
    assert out["log"] == ["history Softcut: place cut-out", f"open {TRICKY_PATH}", "close cut.png nosave"]
    assert out["units"] == "cm" and out["active"] == "photo.psd" and out["open"] == ["photo.psd"]
    assert out["answer"] == f"placed {TRICKY_NAME}"


@needs_node
def test_script_without_an_open_document_throws_a_clear_error(tmp_path):
    out = _run_in_fake(tmp_path, placement_script("C:\\cut.png", 0, 0, "n"), document=False)
    assert out["error"] == "Softcut: no document is open in Photoshop; open the image to place the cut-out in first"
    assert out["log"] == [] and out["units"] == "cm"
