"""Trimap-based alpha solvers and edge-aware refiners, one algorithm per module.

- :mod:`core.alpha.closed_form`: closed-form matting (Levin et al. 2008), the baseline.
- :mod:`core.alpha.info_flow`: information-flow matting (Aksoy et al. 2017), the ``best`` solver.
- :mod:`core.alpha.guided_filter`: colour-guided filter and fast guided upsampling, the ``fast`` refiner.

Every solver takes ``image: (H, W, 3) float32 in [0, 1], RGB`` and
``trimap: (H, W) uint8`` (0 = background, 255 = foreground, anything between =
unknown) and returns ``alpha: (H, W) float32 in [0, 1]`` with known pixels
exactly 0 or 1.
"""
