"""Softcut core: the matting library (models, trimaps, refinement, compositing, video,
the phone's geometry in :mod:`core.phone`).

Layer rule (import-linter, ``pyproject.toml``): core imports no other Softcut layer:
not :mod:`wire`, :mod:`engine_server`, :mod:`softcut_app` nor :mod:`testing`. No networking, no
command line; importing it has no side effects.
"""

__version__ = "0.1.0"
