"""The smallest eigenvectors of a sparse Laplacian, by shift-invert Lanczos.

Measured on 2 cores (matting Laplacian, 40 eigenvectors): SuperLU with the
minimum-degree ordering on A + Aᵀ fills about 3× less than scipy's default
COLAMD, which makes shift-invert ``eigsh`` about 4× faster (0.03 MP: 1.0 s
against 3.3 s); LOBPCG with a Jacobi preconditioner had not converged after
300 iterations and 85 s.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as sla

_SHIFT = 1e-5  # below the smallest (zero) eigenvalue, so L + shift I is non-singular


def smallest_eigenvectors(laplacian: sp.spmatrix, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` algebraically smallest eigenpairs of a symmetric matrix.

    Returns
    -------
    values : (m,) float64 ascending, m = min(count, n).
    vectors : (n, m) float64, orthonormal columns.
    """
    n = laplacian.shape[0]
    count = min(count, n)
    if n <= max(2 * count + 1, 400):
        values, vectors = scipy.linalg.eigh(laplacian.toarray())
        return values[:count], vectors[:, :count]
    shifted = sp.csc_matrix(laplacian + _SHIFT * sp.identity(n, format="csc"))
    lu = sla.splu(shifted, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
    op = sla.LinearOperator((n, n), matvec=lu.solve, matmat=lu.solve, dtype=np.float64)
    v0 = np.random.default_rng(0).standard_normal(n)  # a fixed start: the same layers every run
    values, vectors = sla.eigsh(laplacian, k=count, sigma=-_SHIFT, which="LM", OPinv=op, tol=1e-6, v0=v0)
    order = np.argsort(values)
    return values[order], vectors[:, order]
