"""Mattes for frame sequences: temporal consistency, sources and encoding.

- :mod:`core.video.temporal`: the one-frame-delay correction (after MODNet) and
  motion-compensated smoothing of a sequence of mattes;

(Synthetic test videos live in :mod:`testing.video_synthetic`.)
"""
