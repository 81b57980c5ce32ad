"""Place a cut-out PNG in Photoshop through its COM interface (Windows only), without the panel.

:func:`placement_script` builds the ExtendScript Photoshop runs: it opens the
PNG, duplicates its layer to the top of the active document, names it, moves it
so the PNG's top-left corner lands at (x, y) in document pixels, and closes the
PNG, as one history step ("Softcut: place cut-out"). :func:`place_png` hands that
script to Photoshop through photoshop-python-api (``pip install
"softcut[photoshop-com]"``), which only exists on Windows; everywhere else it
raises :class:`PhotoshopComUnavailable` (use the Softcut panel in Photoshop).
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

from core.errors import ParameterError, SoftcutError
from wire.protocol.codec import PNG_SIGNATURE

HISTORY_STEP = "Softcut: place cut-out"


class PhotoshopComUnavailable(SoftcutError):
    """Photoshop cannot be driven through COM here: not Windows, the extra is missing, or no Photoshop answers."""

    code = "photoshop_com_unavailable"


class PhotoshopComError(SoftcutError):
    """Photoshop answered but could not place the cut-out (no document open, the PNG would not open…)."""

    code = "photoshop_com_failed"


def on_windows() -> bool:
    """Whether Photoshop's COM interface can exist here."""
    return sys.platform == "win32"


def _integer(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{name}: expected an integer number of pixels; got {value!r}")
    return value


def placement_script(png_path: str, x: int, y: int, name: str) -> str:
    """The ExtendScript (ES3) that places ``png_path`` as a new top layer called ``name``, its top-left at (x, y).

    The layer's content keeps its place within the PNG: a cut-out whose PNG has
    transparent borders lands with the PNG's canvas origin, not its visible
    pixels, at (x, y). Ruler units are pixels while it runs and restored after.
    With no document open the script throws an Error saying so (no dialog).
    ``png_path`` and ``name`` are embedded as JSON string literals, which ES3 reads
    as the same strings whatever quotes, backslashes or characters they hold.
    """
    x, y = _integer("x", x), _integer("y", y)
    path_literal = json.dumps(str(png_path))
    name_literal = json.dumps(str(name))
    step_literal = json.dumps(HISTORY_STEP)
    return f"""\
var softcutPlacement = {{path: {path_literal}, x: {x}, y: {y}, name: {name_literal}}};

function softcutPlaceCutout() {{
    var target = app.activeDocument;
    var units = app.preferences.rulerUnits;
    app.preferences.rulerUnits = Units.PIXELS;
    try {{
        var png = app.open(new File(softcutPlacement.path));
        try {{
            var source = png.activeLayer;
            var inPng = source.bounds;
            var layer = source.duplicate(target, ElementPlacement.PLACEATBEGINNING);
            app.activeDocument = target;
            layer.name = softcutPlacement.name;
            var placed = layer.bounds;
            var dx = softcutPlacement.x + inPng[0].as("px") - placed[0].as("px");
            var dy = softcutPlacement.y + inPng[1].as("px") - placed[1].as("px");
            if (dx !== 0 || dy !== 0) {{
                layer.translate(dx, dy);
            }}
            target.activeLayer = layer;
        }} finally {{
            png.close(SaveOptions.DONOTSAVECHANGES);
            app.activeDocument = target;
        }}
    }} finally {{
        app.preferences.rulerUnits = units;
    }}
}}

if (app.documents.length === 0) {{
    throw new Error("Softcut: no document is open in Photoshop; open the image to place the cut-out in first");
}}
app.activeDocument.suspendHistory({step_literal}, "softcutPlaceCutout()");
"placed " + softcutPlacement.name;
"""


def check_png(png_path: str | Path) -> Path:
    """``png_path`` as an absolute path, after checking it is a PNG file.

    Raises
    ------
    ParameterError
        If the file does not exist or does not start with the PNG signature.
    """
    path = Path(png_path).expanduser()
    if not path.is_file():
        raise ParameterError(f"{png_path}: no such file")
    with open(path, "rb") as f:
        if f.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            raise ParameterError(f"{png_path}: not a PNG file (Softcut writes cut-outs as PNG: softcut cut … -o cut.png)")
    return path.resolve()


def place_png(png_path: str | Path, x: int, y: int, name: str = "Softcut cut-out") -> str:
    """Place the PNG ``png_path`` as a new layer ``name`` in Photoshop's active document, top-left at (x, y).

    Returns what Photoshop's script answered ("placed NAME").

    Raises
    ------
    PhotoshopComUnavailable
        Not on Windows; photoshop-python-api is not installed; Photoshop cannot be reached.
    PhotoshopComError
        Photoshop ran the script and it failed (e.g. no document is open).
    ParameterError
        The file is missing or not a PNG, or x/y are not integers.
    """
    if not on_windows():
        raise PhotoshopComUnavailable(
            f"placing through Photoshop's COM interface is Windows-only (this is {platform.system() or sys.platform}); "
            "use the Softcut panel in Photoshop instead"
        )
    script = placement_script(str(check_png(png_path)), x, y, name)
    try:
        from photoshop import api
    except ImportError as exc:
        raise PhotoshopComUnavailable(
            f"photoshop-python-api is not installed ({exc}): pip install \"softcut[photoshop-com]\""
        ) from exc
    try:
        app = api.Application()
    except Exception as exc:  # comtypes' COMError, OSError, the library's own errors: all mean no Photoshop
        raise PhotoshopComUnavailable(
            f"cannot reach Photoshop through COM ({exc}): is Photoshop installed and running?"
        ) from exc
    try:
        return str(app.doJavaScript(script))
    except Exception as exc:  # the script's Error arrives as a COM error carrying its message
        raise PhotoshopComError(f"Photoshop could not place {png_path}: {exc}") from exc
