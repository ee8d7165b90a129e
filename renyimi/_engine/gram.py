r"""Gram matrices: squared distances, kernels and the trace normalisation of eq. 17.

Pure array-API functions: they keep the namespace, device, dtype and torch autograd of their input.
"""

from __future__ import annotations

import math
from typing import Any

from .arrays import device as _device

__all__ = ["hadamard_normalized", "normalize_gram", "squared_distances"]


def squared_distances(X: Any, xp: Any) -> Any:
    r"""Pairwise squared Euclidean distances :math:`\lVert x_i - x_j\rVert^2` of the rows of ``X`` (N, d).

    Uses :math:`\lVert x\rVert^2 + \lVert y\rVert^2 - 2x^\top y` (one GEMM) after centering, which
    leaves distances unchanged and limits cancellation. Values at the round-off level of that formula
    (:math:`\le 8\varepsilon\sqrt d\,(\lVert x\rVert^2 + \lVert y\rVert^2)`, negative ones included)
    are exactly zero, like the diagonal: identical samples get identical kernel values on every path.
    """
    X = X - xp.mean(X, axis=0)
    sq = xp.sum(X * X, axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (X @ X.T)
    n, d = X.shape
    tol = 8.0 * float(xp.finfo(X.dtype).eps) * math.sqrt(d)
    i = xp.arange(n, device=_device(X))
    off_diagonal = (i[:, None] != i[None, :]) & (d2 > tol * (sq[:, None] + sq[None, :]))
    return xp.where(off_diagonal, d2, 0.0)


def normalize_gram(K: Any, xp: Any) -> Any:
    r"""Normalised Gram matrix :math:`A_{ij} = K_{ij} / (N\sqrt{K_{ii}K_{jj}})` (eq. 17); trace 1."""
    n = K.shape[0]
    root = xp.sqrt(xp.linalg.diagonal(K))
    return K / (root[:, None] * root[None, :] * n)


def hadamard_normalized(grams: list[Any], xp: Any) -> Any:
    r"""Joint Gram :math:`A_1\circ\cdots\circ A_m / \operatorname{tr}(A_1\circ\cdots\circ A_m)` (eq. 19)."""
    joint = grams[0]
    for A in grams[1:]:
        joint = joint * A
    return joint / xp.sum(xp.linalg.diagonal(joint))
