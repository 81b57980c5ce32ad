"""Mattes for frame sequences: temporal consistency, sources, the resumable run and encoding.

- :mod:`core.video.temporal`: the one-frame-delay correction (after MODNet) and
  motion-compensated smoothing of a sequence of mattes;
- :mod:`core.video.pipeline`: one frame's matte and :class:`~core.video.pipeline.VideoMatter`,
  which runs a sequence through the temporal filter;
- :mod:`core.video.sources`: frames from a folder of images or a video file;
- :mod:`core.video.encode`: the outputs (PNG folders, ProRes/VP9/H.264 videos) and ffmpeg;
- :mod:`core.video.resume`: the store of finished frames and the state a stopped run resumes from;
- :mod:`core.video.lock`: one run at a time per output;
- :mod:`core.video.finished`: the record of a finished run, so the same run asked again is not redone;
- :mod:`core.video.run`: one ``softcut video`` run, joining the above.

(Synthetic test videos live in :mod:`testing.video_synthetic`.)
"""
