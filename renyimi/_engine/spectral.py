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

import numpy as np

from .arrays import device as _device
from .eigen import eigvalsh

__all__ = ["entropy_from_eigenvalues", "extreme_ritz_values", "renyi_entropy", "uses_eigenvalues"]

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
    r"""Entropy from eigenvalues (last axis), clipped at 0 and normalised to sum 1.

    Round-off makes some eigenvalues of a PSD matrix slightly negative: they are clipped. With
    :math:`q_i = \lambda_i / \sum_j \lambda_j`, :math:`\ell_i = \log q_i \le 0` and
    :math:`\delta = lpha - 1`, the power sum is evaluated in one of two stable forms:

    - :math:`|\delta| < 10^{-2}`: :math:`\log\sum_i q_i^lpha = \logig(1 + \sum_i q_i\,
      \mathrm{expm1}(\delta\ell_i) / \sum_i q_iig)` (``log1p``), with no cancellation as
      :math:`lpha 	o 1`, so the entropy is continuous through :math:`lpha = 1` (the von Neumann
      entropy :math:`-\sum_i q_i \ell_i`, used at exactly 1);
    - otherwise :math:`\log\sum_i e^{lpha \ell_i}` with the largest term factored out
      (log-sum-exp), which neither underflows nor overflows for any :math:`lpha`.
    """
    lam = xp.where(lam > 0, lam, 0.0)
    positive = lam > 0
    total = xp.sum(lam, axis=-1, keepdims=True)
    q = lam / total
    safe = xp.where(positive, q, 1.0)  # keeps log (and its gradient) finite at 0
    ell = xp.where(positive, xp.log(safe), 0.0)
    scale = math.log(base)
    if alpha == 1.0:
        return -xp.sum(q * ell, axis=-1) / scale
    delta = alpha - 1.0
    if abs(delta) < 1e-2:
        ratio = xp.sum(q * xp.expm1(delta * ell), axis=-1) / xp.sum(q, axis=-1)
        return -xp.log1p(ratio) / (delta * scale)
    z = xp.where(positive, alpha * ell, -math.inf)
    top = xp.max(z, axis=-1, keepdims=True)
    top = xp.where(xp.isfinite(top), top, 0.0)  # only for an all-zero spectrum; never reached after clipping
    log_power_sum = xp.log(xp.sum(xp.where(positive, xp.exp(z - top), 0.0), axis=-1)) + top[..., 0]
    return -log_power_sum / (delta * scale)


def _trace_power(A: Any, order: int, xp: Any) -> Any:
    half = A
    for _ in range(order // 2 - 1):
        half = half @ A
    if order % 2 == 0:
        return xp.sum(half * half)
    return xp.sum(half * (half @ A))


def extreme_ritz_values(A: Any, xp: Any, *, steps: int = 24, seed: int = 0) -> tuple[float, float]:
    r"""Smallest and largest Ritz values of the symmetric matrix ``A`` after ``steps`` Lanczos steps.

    Ritz values lie inside :math:`[\lambda_{\min}, \lambda_{\max}]` and converge fastest at the ends
    of the spectrum, so a negative smallest Ritz value *proves* a negative eigenvalue (no false
    alarms) at the cost of ``steps`` matrix-vector products, :math:`O(N^2)` each. Full
    re-orthogonalisation keeps the few Lanczos vectors orthogonal.
    """
    n = A.shape[0]
    v = xp.asarray(np.random.default_rng(seed).standard_normal(n), dtype=A.dtype, device=_device(A))
    v = v / xp.sqrt(xp.sum(v * v))
    basis, diagonal, off = [], [], []
    for _ in range(min(steps, n)):
        basis.append(v)
        w = A @ v
        diagonal.append(float(xp.sum(w * v)))
        for q in basis:
            w = w - xp.sum(w * q) * q
        beta = float(xp.sqrt(xp.sum(w * w)))
        if beta <= 1e-12 * max(abs(d) for d in diagonal):
            break
        off.append(beta)
        v = w / beta
    k = len(diagonal)
    T = np.diag(diagonal) + np.diag(off[: k - 1], 1) + np.diag(off[: k - 1], -1)
    theta = np.linalg.eigvalsh(T)
    return float(theta[0]), float(theta[-1])
