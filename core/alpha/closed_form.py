"""Closed-form matting (Levin, Lischinski, Weiss, PAMI 2008) via pymatting: the baseline solver."""

from __future__ import annotations

import numpy as np

from core.alpha._solve import solve_spd
from core.alpha._inputs import check_image, check_positive, check_trimap, degenerate_alpha, split_trimap


def estimate_alpha_cf(
    image: np.ndarray,
    trimap: np.ndarray,
    *,
    epsilon: float = 1e-7,
    radius: int = 1,
    rtol: float = 1e-7,
    maxiter: int = 10000,
) -> np.ndarray:
    """Estimate alpha with closed-form matting (pymatting's ``estimate_alpha_cf``).

    Parameters
    ----------
    image : (H, W, 3) float32 in [0, 1], RGB
    trimap : (H, W) uint8; 0 = background, 255 = foreground, any other value = unknown.
    epsilon : float
        Regularisation of the local colour covariances (matting Laplacian).
    radius : int
        Local window radius of the matting Laplacian.
    rtol : float
        Relative residual at which conjugate gradients stops.
    maxiter : int
        Iteration cap for conjugate gradients.

    Returns
    -------
    alpha : (H, W) float32 in [0, 1]; known pixels are exactly 0 or 1.
        A trimap with only one known label yields that label everywhere; one
        with no known pixels raises ``ParameterError``. Unknown pixels that no
        (2r + 1)^2 window reaches (images thinner than 2r + 1) come out 0.
    """
    check_image(image)
    check_trimap(trimap, image.shape[:2])
    check_positive(epsilon, "epsilon")
    check_positive(radius, "radius", integer=True)
    check_positive(rtol, "rtol")
    check_positive(maxiter, "maxiter", integer=True)
    regions = split_trimap(trimap)
    trivial = degenerate_alpha(regions)
    if trivial is not None:
        return trivial

    known = ~regions.unknown.ravel()
    unknown = regions.unknown.ravel()
    from pymatting.laplacian.cf_laplacian import cf_laplacian  # here: pymatting's import costs 0.7 s (numba)

    laplacian = cf_laplacian(image.astype(np.float64), epsilon=epsilon, radius=radius, is_known=~regions.unknown)
    rows = laplacian[unknown]
    l_uu = rows[:, unknown]
    rhs = -(rows[:, known] @ regions.fg.ravel()[known].astype(np.float64))
    # atol: a zero right-hand side (every known neighbour background) is solved by
    # x = 0 at once instead of dividing 0 by 0 in the first CG step.
    x = solve_spd(l_uu, rhs, preconditioner_of=l_uu, rtol=rtol, maxiter=maxiter)

    alpha = regions.fg.astype(np.float32).ravel()
    alpha[unknown] = np.clip(x, 0.0, 1.0)
    return alpha.reshape(trimap.shape)
