r"""Permutation nulls of the matrix-based mutual information, on normalised Gram matrices.

Permuting the samples of Y by :math:`\pi` permutes the rows and columns of its normalised Gram
matrix, :math:`B_\pi = P_\pi B P_\pi^\top`, and leaves both marginal entropies unchanged. Only the
joint entropy

.. math:: S_\alpha\!\left(\frac{A\circ B_\pi}{\operatorname{tr}(A\circ B_\pi)}\right)  \qquad (\text{eq. 19})

is recomputed per permutation. At :math:`\alpha = 2` it needs no eigenvalues:

.. math:: S_2 = -\log_b \frac{\sum_{ij} A_{ij}^2\, B_{\pi_i\pi_j}^2}{\big(\sum_i A_{ii} B_{\pi_i\pi_i}\big)^2},

an :math:`O(N^2)` gather and sum per permutation. Other orders take one eigenvalue problem per
permutation: concurrent single-threaded LAPACK solves for NumPy, batched solves on a GPU.

Every permutation's value is computed the same way whatever the grouping (one BLAS thread per
solve, the same solver, sums that do not depend on the batch), so chunks sent to an executor give
results bit-identical to the local computation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import eigen as _eigen
from .arrays import device as _device
from .arrays import is_numpy_namespace, to_numpy
from .spectral import entropy_from_eigenvalues, renyi_entropy, uses_eigenvalues

__all__ = [
    "draw_permutations",
    "permutation_pvalue",
    "permuted_joint_entropies",
    "split_chunks",
]

# Batched gathers on a GPU: at most this many bytes of (b, N, N) matrices at once.
_GPU_BATCH_BYTES = 1 << 28


def draw_permutations(n: int, count: int, random_state: Any = None) -> np.ndarray:
    """``count`` independent uniform permutations of ``range(n)``, as a (count, n) int64 NumPy array.

    Drawn up front from ``numpy.random.default_rng(random_state)`` so that how the permutations are
    later split into chunks (local threads, an executor) cannot change them.
    """
    rng = np.random.default_rng(random_state)
    return rng.permuted(np.broadcast_to(np.arange(n, dtype=np.int64), (count, n)), axis=1)


def split_chunks(count: int, chunks: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]``: ``range(count)`` in at most ``chunks`` contiguous, near-equal pieces."""
    chunks = max(1, min(int(chunks), count))
    edges = [round(i * count / chunks) for i in range(chunks + 1)]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def permutation_pvalue(observed: float, null: np.ndarray, alternative: str = "greater") -> float:
    r"""Permutation p-value :math:`(1 + \#\{T_b \ge T\}) / (1 + B)` of ``observed`` against ``null`` (B,).

    Counting the observed statistic as one of the permutations makes the test exact (valid at
    every level, never p = 0) for any number B of random permutations [1]_. Ties within 100 machine
    epsilons of ``observed`` count as ties, as in :func:`scipy.stats.permutation_test` (round-off
    must not turn an equal value into a smaller one). ``alternative="less"`` counts
    :math:`T_b \le T`; ``"two-sided"`` doubles the smaller one-sided p-value (at most 1).

    References
    ----------
    .. [1] B. Phipson and G. K. Smyth, "Permutation p-values should never be zero", Stat. Appl.
       Genet. Mol. Biol. 9(1), 2010.
    """
    null = np.asarray(null, dtype=np.float64)
    gamma = abs(observed) * 100 * np.finfo(np.float64).eps
    count = null.size

    def greater() -> float:
        return (1.0 + np.count_nonzero(null >= observed - gamma)) / (1.0 + count)

    def less() -> float:
        return (1.0 + np.count_nonzero(null <= observed + gamma)) / (1.0 + count)

    if alternative == "greater":
        return float(greater())
    if alternative == "less":
        return float(less())
    return float(min(1.0, 2.0 * min(greater(), less())))


def permuted_joint_entropies(A: Any, B: Any, perms: Any, alpha: float, xp: Any, base: float = 2.0, *,
                             solver: str = "auto", workers: int = 1) -> np.ndarray:
    r"""Joint entropies :math:`S_\alpha(A\circ B_\pi/\operatorname{tr})` for every row ``\pi`` of ``perms``.

    Parameters
    ----------
    A, B : array (N, N)
        Normalised Gram matrices (eq. 17) of X and Y, same library and device.
    perms : int array (P, N)
        Permutations of Y's samples (NumPy, or ``xp`` on ``A``'s device).
    alpha : float
        Rényi order; 2 (and 3, 4) need no eigenvalues.
    xp : module
        Array namespace of ``A`` and ``B``.
    base : float
        Logarithm base (2: bits).
    solver : str
        Eigensolver for NumPy input (see :func:`renyimi._engine.eigen.eigvalsh`); ``"auto"`` is the
        fastest single-threaded route.
    workers : int
        Threads for NumPy input (1: in this thread). Each permutation is computed identically
        whatever ``workers`` is.

    Returns
    -------
    numpy.ndarray (P,)
        Joint entropies in units of ``base``, float64, on the host.
    """
    if is_numpy_namespace(xp):
        return _numpy_joint_entropies(np.asarray(A), np.asarray(B), np.asarray(perms), alpha, base, solver, workers)
    return _device_joint_entropies(A, B, perms, alpha, xp, base)


def _numpy_joint_entropies(A: np.ndarray, B: np.ndarray, perms: np.ndarray, alpha: float, base: float,
                           solver: str, workers: int) -> np.ndarray:
    n = A.shape[0]
    if alpha == 2.0:
        A2, B2 = A * A, B * B
        diag_a, diag_b = np.diagonal(A).copy(), np.diagonal(B).copy()
        log_base = math.log(base)

        def fn(p: np.ndarray) -> float:
            # B2[p][:, p] by two gathers (np.take along one axis is ~3x faster than fancy indexing)
            frob = np.sum(A2 * np.take(np.take(B2, p, axis=1), p, axis=0))
            trace = np.sum(diag_a * diag_b[p])
            return -math.log(frob / (trace * trace)) / log_base
    else:
        if solver == "auto":
            solver = _eigen.auto_solver(n, A.dtype, single_threaded=True)

        if uses_eigenvalues(alpha):
            def fn(p: np.ndarray) -> float:
                # No division by the trace: entropy_from_eigenvalues renormalises the spectrum to sum 1.
                lam = _eigen.eigvalsh(A * np.take(np.take(B, p, axis=1), p, axis=0), np, solver=solver)
                return float(entropy_from_eigenvalues(lam, alpha, np, base))
        else:
            def fn(p: np.ndarray) -> float:
                joint = A * np.take(np.take(B, p, axis=1), p, axis=0)
                joint /= np.trace(joint)
                return float(renyi_entropy(joint, alpha, np, base, solver=solver))

    # One BLAS thread for every solve, local or remote, so that each value is bit-identical.
    with _eigen.blas_threads(1):
        if workers > 1:
            values = _eigen.map_concurrent(fn, perms, workers=workers)
        else:
            values = [fn(p) for p in perms]
    return np.asarray(values, dtype=np.float64)


def _device_joint_entropies(A: Any, B: Any, perms: Any, alpha: float, xp: Any, base: float) -> np.ndarray:
    """Torch/CuPy: gathers batched on the device; eigenvalues through :func:`eigvalsh_batched`."""
    n = A.shape[0]
    dev = _device(A)
    P = xp.asarray(np.asarray(perms) if isinstance(perms, np.ndarray) else perms, device=dev)
    P = xp.astype(P, xp.int64)
    per_batch = max(1, _GPU_BATCH_BYTES // (3 * n * n * 8))
    flat_b = xp.reshape(B, (-1,))
    diag_a, diag_b = xp.linalg.diagonal(A), xp.linalg.diagonal(B)

    def batches():
        for start in range(0, P.shape[0], per_batch):
            Pb = P[start:min(start + per_batch, P.shape[0]), ...]  # the array API allows no stop past the end
            index = Pb[:, :, None] * n + Pb[:, None, :]
            Bp = xp.reshape(xp.take(flat_b, xp.reshape(index, (-1,)), axis=0), (Pb.shape[0], n, n))
            diag_bp = xp.reshape(xp.take(diag_b, xp.reshape(Pb, (-1,)), axis=0), tuple(Pb.shape))
            trace = xp.sum(diag_a[None, :] * diag_bp, axis=1)
            yield A[None, :, :] * Bp / trace[:, None, None]

    out = []
    if not uses_eigenvalues(alpha) or alpha == 2.0:
        for joint in batches():
            if alpha == 2.0:
                value = -xp.log(xp.sum(joint * joint, axis=(1, 2))) / math.log(base)
            else:
                value = xp.stack([renyi_entropy(m, alpha, xp, base) for m in joint])
            out.append(value)
    else:
        for joint in batches():
            lams = _eigen.eigvalsh_batched((joint[i, ...] for i in range(joint.shape[0])), xp)
            out.append(entropy_from_eigenvalues(xp.stack(lams), alpha, xp, base))
    values = xp.concat(out) if out else xp.zeros((0,), device=dev)
    return np.asarray(to_numpy(values), dtype=np.float64)
