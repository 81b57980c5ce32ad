"""Mattes for frame sequences: temporal consistency and synthetic test videos.

- :mod:`core.video.temporal`: the one-frame-delay correction (after MODNet) and
  motion-compensated smoothing of a sequence of mattes;
- :mod:`core.video.synthetic`: videos built from a matted photo moving over a background,
  with the true alpha of every frame.
"""
