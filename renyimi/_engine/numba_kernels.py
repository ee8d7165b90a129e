r"""Numba kernels for the Gaussian Gram matrix of eq. 17 (``backend="numba"``).

The normalised Gaussian Gram matrix of the rows :math:`z_i` of ``Z`` (N, d) is

.. math:: A_{ij} = \frac1N \exp\!\left(-\frac{\lVert z_i - z_j\rVert^2}{2\sigma^2}\right),
          \qquad A_{ii} = \frac1N ,

(eqs. 17 and 21: the Gaussian kernel has :math:`K_{ii} = 1`, so eq. 17 divides by :math:`N`).
The NumPy path makes about ten passes over N x N temporaries (distances, clamp, diagonal mask,
exponential, diagonal, outer product, division); these kernels make one, over one triangle, and
mirror it:

* ``_gram_direct`` sums :math:`(z_{ik} - z_{jk})^2` directly (no cancellation, no BLAS) over square
  tiles of the upper triangle, in parallel over tiles (``prange``); it wins for few features.
* ``_gram_epilogue`` finishes :math:`Z Z^\top` computed by BLAS ``syrk`` (one triangle, half the
  flops of a GEMM): :math:`\lVert z_i\rVert^2 + \lVert z_j\rVert^2 - 2 z_i^\top z_j`, clamped at 0,
  then the exponential and the :math:`1/N`, in place, mirrored; it wins for many features.

Measured on the 2-core development machine, one thread per library so that other processes on
the shared machine do not distort it (``python benchmarks/measure_policy.py gram --threads 1``;
milliseconds, best of interleaved repeats; ``docs/performance.md`` has the full table)::

    float64       d = 10            d = 100           d = 784
    N             NumPy   numba     NumPy   numba     NumPy   numba
    512             3.4    0.9        4.1    2.1        7.9    7.2
    1024           13.6    4.9       13.5    6.6       27.7   22.0
    2048           63.5   16.5       69.8   22.8      114.4   80.0
    4096          238.7   65.0      275.9   93.5      463.8  297.3

The direct kernel beats ``syrk`` + epilogue up to about 32 features at N = 512..2048
(:data:`DIRECT_MAX_FEATURES`). ``backend="auto"`` nevertheless keeps NumPy for NumPy input
(:data:`AUTO_USES_NUMBA`): the eigensolves dominate (one float64 eigensolve at N = 512 takes 9 ms
on one core), so for ``mutual_information(X (N, 784), T (N, 10))`` numba saves 8 % at N = 512 and 6 %
at N = 2048, while the first call in a process costs 0.5 s (importing numba, loading the cached
kernels), 1.4 s before the kernels are cached; and numba's OpenMP threads, still spinning after a
kernel, slowed the next multithreaded BLAS call 3-5x on the busy 2-core machine. Ask for
``backend="numba"`` for many low-dimensional variables, or N in the thousands.

Numba is imported here only, and this module is imported only when ``backend="numba"`` is asked for.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._optional import require

numba = require("numba", needed_by="backend='numba'", extra="numba")

__all__ = ["AUTO_USES_NUMBA", "DIRECT_MAX_FEATURES", "gaussian_gram"]

#: Whether ``backend="auto"`` picks numba for NumPy input (decided by measurement, see module docstring).
AUTO_USES_NUMBA = False

#: Up to this many features the direct (tiled difference) kernel beats BLAS ``syrk`` + epilogue.
DIRECT_MAX_FEATURES = 32

# Square tiles keep both the tile and its mirror image in cache while they are written.
_TILE = 64


@numba.njit(cache=True)
def _tile(p, n_tiles):  # pragma: no cover - compiled
    # Tile pair p -> (bi, bj), bi <= bj, in row-major order of the upper triangle of tiles.
    bi = 0
    while p >= n_tiles - bi:
        p -= n_tiles - bi
        bi += 1
    return bi, bi + p


@numba.njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def _gram_direct(Z, scale, inv_n, out):  # pragma: no cover - compiled
    # fastmath only lets LLVM vectorise the sum over features (reassociation), nothing else.
    n, d = Z.shape
    n_tiles = (n + _TILE - 1) // _TILE
    n_pairs = n_tiles * (n_tiles + 1) // 2
    for p in numba.prange(n_pairs):
        bi, bj = _tile(p, n_tiles)
        i0, i1 = bi * _TILE, min((bi + 1) * _TILE, n)
        j0, j1 = bj * _TILE, min((bj + 1) * _TILE, n)
        for i in range(i0, i1):
            start = i + 1 if bi == bj else j0
            if bi == bj:
                out[i, i] = inv_n
            for j in range(start, j1):
                s = Z[i, 0] - Z[i, 0]  # zero of Z's dtype
                for k in range(d):
                    t = Z[i, k] - Z[j, k]
                    s += t * t
                v = math.exp(-s * scale) * inv_n
                out[i, j] = v
                out[j, i] = v


@numba.njit(cache=True, parallel=True)
def _gram_epilogue(G, sq, scale, inv_n, tol):  # pragma: no cover - compiled
    # G holds Z Z^T in its upper triangle (syrk); the lower one is overwritten, never read.
    n = G.shape[0]
    n_tiles = (n + _TILE - 1) // _TILE
    n_pairs = n_tiles * (n_tiles + 1) // 2
    zero = sq[0] - sq[0]
    for p in numba.prange(n_pairs):
        bi, bj = _tile(p, n_tiles)
        i0, i1 = bi * _TILE, min((bi + 1) * _TILE, n)
        j0, j1 = bj * _TILE, min((bj + 1) * _TILE, n)
        for i in range(i0, i1):
            start = i + 1 if bi == bj else j0
            if bi == bj:
                G[i, i] = inv_n
            for j in range(start, j1):
                d2 = sq[i] + sq[j] - 2 * G[i, j]
                if d2 <= tol * (sq[i] + sq[j]):  # round-off level: the samples coincide
                    d2 = zero
                v = math.exp(-d2 * scale) * inv_n
                G[i, j] = v
                G[j, i] = v


def roundoff_tolerance(d: int, dtype: Any) -> float:
    r"""Relative round-off of :math:`\lVert x\rVert^2 + \lVert y\rVert^2 - 2x^\top y` over ``d`` features.

    A squared distance below ``tol * (|x|^2 + |y|^2)`` cannot be told from 0 by this formula, so it is
    set to exactly 0: identical samples get the kernel value 1, as with a direct sum of differences.
    """
    return 8.0 * float(np.finfo(dtype).eps) * math.sqrt(d)


def gaussian_gram(Z: Any, sigma: float) -> np.ndarray:
    r"""Normalised Gaussian Gram matrix :math:`A = K/N` of the rows of ``Z`` (eqs. 17, 21).

    Parameters
    ----------
    Z : ndarray (N, d), float64 or float32
        Samples in rows (already standardised by the width rule, if it does so).
    sigma : float
        Kernel width :math:`\sigma > 0` of :math:`\exp(-\lVert x-y\rVert^2/(2\sigma^2))`.

    Returns
    -------
    A : ndarray (N, N), dtype of ``Z``
        Symmetric, trace one, :math:`A_{ii} = 1/N` exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from renyimi._engine.numba_kernels import gaussian_gram
    >>> A = gaussian_gram(np.array([[0.0], [1.0]]), 1.0)
    >>> bool(np.isclose(A[0, 1], np.exp(-0.5) / 2))
    True
    """
    Z = np.ascontiguousarray(Z)
    if Z.dtype not in (np.float32, np.float64):
        Z = Z.astype(np.float64)
    n, d = Z.shape
    dtype = Z.dtype.type
    inv_sigma = 1.0 / float(sigma)
    # 1 / (2 sigma^2), capped at the dtype's largest float: sigma -> 0 gives the identity, not 0 * inf.
    scale = dtype(min(0.5 * inv_sigma * inv_sigma, float(np.finfo(dtype).max)))
    inv_n = dtype(1.0 / n)
    if d <= DIRECT_MAX_FEATURES:
        out = np.empty((n, n), dtype=Z.dtype)
        _gram_direct(Z, scale, inv_n, out)
        return out
    from scipy.linalg import blas

    # Centering leaves distances unchanged and shrinks the norms that cancel in |x|^2+|y|^2-2x.y.
    Z = Z - Z.mean(axis=0)
    sq = np.einsum("ij,ij->i", Z, Z)
    syrk = blas.dsyrk if Z.dtype == np.float64 else blas.ssyrk
    # Z.T is Fortran-ordered (d, N): trans=1 gives Z Z^T without copying Z.
    G = syrk(1.0, Z.T, trans=1, lower=0)
    _gram_epilogue(G, sq, scale, inv_n, dtype(roundoff_tolerance(d, Z.dtype)))
    return G.T  # symmetric: the C-ordered view of the same memory
