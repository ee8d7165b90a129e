r"""Rényi α-entropy of a trace-one positive semi-definite matrix (eq. 18).

.. math:: S_\alpha(A) = \frac{1}{1-\alpha}\log_b \sum_i \lambda_i(A)^\alpha,
          \qquad S_1(A) = -\sum_i \lambda_i \log_b \lambda_i .

Fast exact paths avoid the eigendecomposition: :math:`\alpha = 2` uses
:math:`\sum_i\lambda_i^2 = \lVert A\rVert_F^2`, and small integer orders use
:math:`\operatorname{tr}(A^{2k}) = \lVert A^k\rVert_F^2` and
:math:`\operatorname{tr}(A^{2k+1}) = \langle A^k, A^{k+1}\rangle` (matrix products only).
"""

from __future__ import annotations

import math
from typing import Any

from .eigen import eigvalsh

__all__ = ["entropy_from_eigenvalues", "renyi_entropy", "uses_eigenvalues"]

# tr(A^alpha) by matrix products costs floor(alpha/2) GEMMs (~2 N^3 flops each); one symmetric
# eigenvalue solve costs ~(4/3) N^3 flops but runs far below GEMM speed, so products win up to here.
_MAX_PRODUCT_ORDER = 4


def uses_eigenvalues(alpha: float) -> bool:
    """Whether the entropy of order ``alpha`` needs an eigendecomposition."""
    return not (float(alpha).is_integer() and 2 <= alpha <= _MAX_PRODUCT_ORDER)


def renyi_entropy(A: Any, alpha: float, xp: Any, base: float = 2.0, *, solver: str = "auto") -> Any:
    """Rényi α-entropy (eq. 18) of a trace-one PSD matrix ``A`` (N, N), as a 0-d array of ``xp``.

    Parameters
    ----------
    A : array (N, N)
        Normalised Gram matrix (symmetric, PSD, trace 1).
    alpha : float
        Order, > 0; 1 gives the von Neumann entropy.
    xp : module
        Array namespace of ``A``.
    base : float
        Logarithm base (2: bits).
    solver : str
        Eigensolver, see :func:`renyimi._engine.eigen.eigvalsh`.
    """
    if uses_eigenvalues(alpha):
        return entropy_from_eigenvalues(eigvalsh(A, xp, solver=solver), alpha, xp, base)
    power_sum = _trace_power(A, int(alpha), xp)
    return xp.log(power_sum) / ((1.0 - alpha) * math.log(base))


def entropy_from_eigenvalues(lam: Any, alpha: float, xp: Any, base: float = 2.0) -> Any:
    """Entropy from eigenvalues: clipped at 0 and renormalised to sum 1 (round-off makes some < 0)."""
    lam = xp.where(lam > 0, lam, 0.0)
    lam = lam / xp.sum(lam, axis=-1, keepdims=True)
    positive = lam > 0
    safe = xp.where(positive, lam, 1.0)  # keeps log and pow (and their gradients) finite at 0
    if alpha == 1.0:
        return -xp.sum(xp.where(positive, lam * xp.log(safe), 0.0), axis=-1) / math.log(base)
    power_sum = xp.sum(xp.where(positive, safe**alpha, 0.0), axis=-1)
    return xp.log(power_sum) / ((1.0 - alpha) * math.log(base))


def _trace_power(A: Any, order: int, xp: Any) -> Any:
    half = A
    for _ in range(order // 2 - 1):
        half = half @ A
    if order % 2 == 0:
        return xp.sum(half * half)
    return xp.sum(half * (half @ A))
