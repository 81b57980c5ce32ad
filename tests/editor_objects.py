"""What the GIMP and Krita suites' Object Selection tests share about their scene (tests/editor_files.py's
``objects.rgba``): each disc's inside, the box prompt, and a scenario's source as the plug-in read it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from editor_files import OBJECT_BOX, OBJECT_DISCS, OBJECT_RADIUS, SIZE

from wire.editor import ObjectPrompts

W, H = SIZE
LEFT, RIGHT = (np.hypot(*np.mgrid[:H, :W][::-1] - np.array(centre)[:, None, None]) < OBJECT_RADIUS - 4
               for centre in OBJECT_DISCS)  # each disc inside its soft rim: (H, W) bool
BOX = ObjectPrompts(box=tuple(float(v) for v in OBJECT_BOX))


def source_of(out, name: str) -> SimpleNamespace:
    """The scenario ``name``'s source as the plug-in read it (the layer's rgba8 over the canvas, saved in ``out``)."""
    return SimpleNamespace(width=W, height=H, rgba=(out / f"{name}.source.bin").read_bytes())
