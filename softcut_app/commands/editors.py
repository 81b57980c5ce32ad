"""``softcut install-plugin`` and ``softcut photoshop-place``: the editors' side of Softcut."""

from __future__ import annotations

import argparse
from pathlib import Path

from softcut_app.commands.common import add_common
from softcut_app.console import Console


def cmd_install_plugin(args: argparse.Namespace, console: Console) -> int:
    from softcut_app.plugin_install import INSTALLERS, PHOTOSHOP_PLUGIN, plugin_source

    resource_dir = Path(args.resource_dir) if args.resource_dir else None
    config_file = Path(args.config_file) if args.config_file else None
    package = INSTALLERS[args.editor](resource_dir, config_file)
    if args.editor == "photoshop":
        folder = plugin_source(PHOTOSHOP_PLUGIN)
        console.result({"editor": args.editor, "installed": str(package), "plugin_folder": str(folder)},
                       f"wrote {package}: double-click {package.name} (Creative Cloud installs it), or in the "
                       f"UXP Developer Tool choose Add Plugin and pick manifest.json in {folder}; then open "
                       f"Plugins › Softcut in Photoshop, start `softcut serve`, and enter the pairing code it prints")
        return 0
    console.result({"editor": args.editor, "installed": str(package)},
                    f"installed the {args.editor} plug-in in {package} and enabled it; restart {args.editor}, "
                    f"then start the engine with `softcut serve`")
    return 0


def cmd_photoshop_place(args: argparse.Namespace, console: Console) -> int:
    from softcut_app.photoshop_com import place_png

    answer = place_png(args.cutout, args.x, args.y, args.name)
    console.result({"cutout": args.cutout, "x": args.x, "y": args.y, "name": args.name, "photoshop": answer},
                   f"placed {args.cutout} in Photoshop as layer {args.name!r} at ({args.x}, {args.y})")
    return 0


def add_install_plugin(sub: argparse._SubParsersAction) -> None:
    """``softcut install-plugin EDITOR``."""
    install = sub.add_parser("install-plugin", help="install an editor plug-in for this user and enable it")
    install.add_argument("editor", choices=("krita", "gimp", "photoshop"), help="which editor")
    install.add_argument("--resource-dir", help="the editor's per-user folder (Krita: where pykrita/ goes; GIMP: where "
                         "plug-ins/ goes; Photoshop: where softcut-photoshop.ccx is written)")
    install.add_argument("--config-file", help="the editor's settings file to enable the plug-in in (kritarc)")
    add_common(install, model=False)
    install.set_defaults(func=cmd_install_plugin)


def add_photoshop_place(sub: argparse._SubParsersAction) -> None:
    """``softcut photoshop-place CUTOUT``."""
    place = sub.add_parser("photoshop-place", help="place a cut-out PNG as a new layer in Photoshop (Windows only, COM)")
    place.add_argument("cutout", help="the cut-out PNG (softcut cut … -o cut.png)")
    place.add_argument("--x", type=int, required=True, help="document pixels from the left for the PNG's left edge")
    place.add_argument("--y", type=int, required=True, help="document pixels from the top for the PNG's top edge")
    place.add_argument("--name", default="Softcut cut-out", help="the new layer's name")
    add_common(place, model=False)
    place.set_defaults(func=cmd_photoshop_place)
