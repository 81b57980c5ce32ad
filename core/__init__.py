"""Softcut core: the matting library (models, trimaps, refinement, compositing).

Importing this package has no side effects; it never imports the server or an
editor API.
"""

__version__ = "0.1.0"
