r"""Numba tile kernel: the normalised Gaussian Gram matrix times a block of vectors, matrix-free.

.. math:: (AV)_{ic} = \frac1N \sum_j \exp\!\left(-\tfrac12\lVert z_i - z_j\rVert^2\right) V_{jc}

for samples ``Z`` (N, d) already divided by their kernel width. Rows are split into tiles processed in
parallel (``prange``); each row tile walks the column tiles, so the column block of ``V`` it reads stays
in cache while every row of the tile uses it. The kernel values of one (row, column) tile are computed
once into a small buffer (one ``exp`` per pair) and then multiplied into all ``k`` columns, so a block
of ``k`` vectors costs :math:`N^2` exponentials plus :math:`N^2 k` multiply-adds, and memory
:math:`O(Nk + \text{tile}^2)` per thread, never :math:`N^2`.

No ``fastmath``: distances are summed in order and ``exp`` is the libm one. Imported only when a
:class:`~renyimi._engine.operators.GaussianOperator` computes on NumPy arrays and numba is installed.
"""

from __future__ import annotations

import math

import numpy as np

from .._optional import require

numba = require("numba", needed_by="GaussianOperator (matrix-free SLQ) with NumPy input", extra="numba")

__all__ = ["gaussian_matmat"]

_ROW_TILE = 64
_COL_TILE = 256


@numba.njit(cache=True, parallel=True)
def _matmat(Z, V, out, row_tile, col_tile):  # pragma: no cover - compiled
    n, d = Z.shape
    k = V.shape[1]
    n_row_tiles = (n + row_tile - 1) // row_tile
    for t in numba.prange(n_row_tiles):
        i0 = t * row_tile
        i1 = min(i0 + row_tile, n)
        buf = np.empty((row_tile, col_tile), dtype=V.dtype)
        acc = np.zeros((row_tile, k), dtype=V.dtype)
        for j0 in range(0, n, col_tile):
            j1 = min(j0 + col_tile, n)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    s = 0.0
                    for q in range(d):
                        diff = Z[i, q] - Z[j, q]
                        s += diff * diff
                    buf[i - i0, j - j0] = math.exp(-0.5 * s)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    kij = buf[i - i0, j - j0]
                    for c in range(k):
                        acc[i - i0, c] += kij * V[j, c]
        for i in range(i0, i1):
            for c in range(k):
                out[i, c] = acc[i - i0, c]


def gaussian_matmat(Z: np.ndarray, V: np.ndarray) -> np.ndarray:
    r"""Unnormalised :math:`K V` with :math:`K_{ij} = \exp(-\lVert z_i - z_j\rVert^2/2)`; ``Z`` (N, d), ``V`` (N, k).

    Computes in the dtype of ``V`` (float32 or float64); returns a new (N, k) array of that dtype.
    """
    V = np.ascontiguousarray(V)
    Z = np.ascontiguousarray(Z, dtype=V.dtype)
    out = np.empty_like(V)
    _matmat(Z, V, out, _ROW_TILE, _COL_TILE)
    return out
