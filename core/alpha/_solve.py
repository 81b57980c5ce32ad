"""Preconditioned conjugate gradients for the matting solvers, quiet and with typed errors.

pymatting's incomplete Cholesky prints retries to stdout (which would corrupt a
CLI's JSON output) and its CG raises a plain ValueError; this wrapper logs the
first and turns the second into :class:`core.errors.SolverError`.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable

import numpy as np
import scipy.sparse

from core.errors import SolverError

log = logging.getLogger(__name__)


def solve_spd(
    A: scipy.sparse.spmatrix | Callable[[np.ndarray], np.ndarray],
    rhs: np.ndarray,
    *,
    preconditioner_of: scipy.sparse.spmatrix,
    x0: np.ndarray | None = None,
    discard_threshold: float = 1e-4,
    rtol: float = 1e-7,
    maxiter: int = 10000,
) -> np.ndarray:
    """Solve ``A x = rhs`` for a symmetric positive-definite ``A``.

    Parameters
    ----------
    A: sparse (n, n) matrix, or a function computing ``A @ x``.
    rhs: (n,) float64.
    preconditioner_of: sparse (n, n) approximation of A for the incomplete Cholesky
        preconditioner (a Jacobi preconditioner is used when that factorisation fails).
    x0: (n,) starting guess, or None.

    Returns
    -------
    x: (n,) float64.
    """
    from pymatting.preconditioner.ichol import ichol  # here: pymatting's import costs 0.7 s (numba)
    from pymatting.preconditioner.jacobi import jacobi
    from pymatting.solver.cg import cg

    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        try:
            precondition = ichol(preconditioner_of.tocsc(), discard_threshold=discard_threshold)
        except ValueError as exc:
            log.debug("incomplete Cholesky failed (%s); using a Jacobi preconditioner", exc)
            precondition = jacobi(preconditioner_of.tocsr())
    if captured.getvalue():
        log.debug("pymatting: %s", " ".join(captured.getvalue().split()))
    try:
        return cg(A, rhs, x0=x0, M=precondition, atol=1e-12, rtol=rtol, maxiter=maxiter)
    except ValueError as exc:
        raise SolverError(f"the matting solver did not converge ({exc}); try a narrower unknown band") from exc
