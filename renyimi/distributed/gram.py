r"""Gaussian Gram matrices as Dask arrays: built block by block on the workers, kept in the cluster's memory.

A normalised Gaussian Gram matrix of N samples takes :math:`8N^2` bytes in float64 (80 GB at
N = 100 000): more than one machine holds, but not more than a cluster does. :class:`DaskGramOperator`
builds its blocks where they are stored (each worker computes its tiles from the width-scaled
samples, which are small), keeps them there with ``persist``, and runs every product
:math:`AV` on the cluster. It has the interface of renyimi's large-N operators
(``n``, ``dtype``, ``xp``, ``matmat``), so the stochastic Lanczos quadrature entropy, which touches
the matrix only through ``matmat``, runs unchanged on it (:func:`matrix_entropy`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._optional import require

__all__ = ["DaskGramOperator", "matrix_entropy", "scaled_samples"]

#: Rows (and columns) per block of the Gram matrix: 4096^2 float64 = 128 MiB per block.
DEFAULT_CHUNK = 4096


def _dask_array() -> Any:
    return require("dask.array", needed_by="renyimi.distributed.DaskGramOperator", extra="dask")


def _gaussian_tile(zi: np.ndarray, sqi: np.ndarray, zj: np.ndarray, sqj: np.ndarray, n: int) -> np.ndarray:
    """One block :math:`\\exp(-\\lVert z_i - z_j\\rVert^2/2)/N` of the normalised Gram matrix (runs on a worker)."""
    d2 = sqi[:, None] + sqj[None, :] - 2.0 * (zi @ zj.T)
    np.maximum(d2, 0.0, out=d2)  # round-off below zero
    d2 *= -0.5
    np.exp(d2, out=d2)
    d2 /= n
    return d2


class DaskGramOperator:
    r"""Normalised Gaussian Gram :math:`A_{ij} = \exp(-\lVert z_i - z_j\rVert^2/2)/N` as a Dask array on a cluster.

    Parameters
    ----------
    Z : numpy.ndarray or dask.array.Array, shape (N, d)
        Samples divided by their kernel width :math:`\sigma` (standardised first if the width rule
        does so; :func:`scaled_samples` does both), as for renyimi's matrix-free Gaussian operator
        (``method="slq"``). For a joint entropy (eq. 19) pass the
        scaled variables side by side, ``np.hstack([Zx, Zy])``: the Gaussian Gram of concatenated
        features is the Hadamard product of the Grams, and its normalised form is again :math:`K/N`.
    client : distributed.Client, optional
        Cluster that builds, stores and multiplies the blocks; default: the active client, or Dask's
        local threaded scheduler when there is none.
    chunk : int, default 4096
        Rows and columns per block (``chunk**2`` entries per task; 128 MiB in float64).
    dtype : {numpy.float64, numpy.float32}, optional
        Precision of the stored blocks (float32 halves the cluster memory); products are returned in
        the dtype of the input block. Default float64.
    persist : bool, default True
        Compute the blocks once and keep them in the workers' memory (:math:`N^2` entries across the
        cluster). False recomputes them at every product (memory :math:`O(Nd)`; each product then costs
        a kernel evaluation per entry).

    Attributes
    ----------
    n : int
        N.
    dtype : numpy.dtype
        Storage precision.
    xp : module
        NumPy: ``matmat`` takes and returns NumPy arrays on the client.
    array : dask.array.Array
        The (N, N) normalised Gram matrix.
    Z : numpy.ndarray or dask.array.Array
        The scaled samples as given (NumPy on the client; their device tells SLQ where probes live).

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> from renyimi.distributed import DaskGramOperator
    >>> x = np.random.default_rng(0).normal(size=(300, 3))
    >>> op = DaskGramOperator(x / 1.5, chunk=128)  # 3 x 3 blocks (Dask's threads: no client running)
    >>> V = np.eye(300)[:, :4]
    >>> A = renyimi.gram_matrix(x, sigma=1.5, standardize=None)
    >>> bool(np.allclose(op.matmat(V), A @ V, rtol=1e-12, atol=1e-15))
    True
    """

    def __init__(self, Z: Any, *, client: Any = None, chunk: int = DEFAULT_CHUNK, dtype: Any = None,
                 persist: bool = True) -> None:
        da = _dask_array()
        if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
            raise ValueError(f"chunk must be a positive number of rows per block; got chunk={chunk!r}.")
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        if dtype not in (np.float64, np.float32):
            raise ValueError(f"dtype must be float64 or float32; got dtype={dtype}.")
        if getattr(Z, "ndim", None) != 2:
            raise ValueError(f"Z must be a 2-D array (n_samples, n_features) of width-scaled samples; got "
                             f"shape {getattr(Z, 'shape', None)}.")
        n = int(Z.shape[0])
        if n < 1:
            raise ValueError("Z has no samples.")
        chunk = int(min(chunk, n))
        if isinstance(Z, da.Array):
            Zd = Z.astype(dtype).rechunk({0: chunk, 1: -1})
        else:
            Z = np.asarray(Z, dtype=dtype)
            if not np.all(np.isfinite(Z)):
                raise ValueError("Z contains NaN or infinite values; the Gram matrix needs finite samples.")
            Zd = da.from_array(Z, chunks=(chunk, Z.shape[1]))
        # Centering leaves distances unchanged and shrinks the norms that cancel in |z|^2 + |z'|^2 - 2 z.z'.
        Zd = Zd - Zd.mean(axis=0)
        sq = (Zd * Zd).sum(axis=1)
        K = da.blockwise(_gaussian_tile, "ij", Zd, "ik", sq, "i", Zd, "jk", sq, "j", dtype=dtype,
                         concatenate=True, n=n)
        self.client = client if client is not None else _active_client()
        if persist:
            K = self.client.persist(K) if self.client is not None else K.persist()
        self.array = K
        self.Z = Zd if isinstance(Z, da.Array) else Z  # the scaled samples, as GaussianOperator.Z
        self.n = n
        self.dtype = dtype
        self.xp = np
        self.chunk = chunk
        self.persisted = bool(persist)

    @property
    def nbytes(self) -> int:
        """Bytes of the (N, N) matrix across the cluster."""
        return self.n * self.n * self.dtype.itemsize

    def matmat(self, V: Any) -> np.ndarray:
        """:math:`AV` for ``V`` (N, k) (or (N,)), computed on the cluster; a NumPy array of ``V``'s dtype."""
        da = _dask_array()
        V = np.asarray(V)
        vector = V.ndim == 1
        W = V.reshape(self.n, -1)
        if W.shape[0] != self.n:
            raise ValueError(f"V must have {self.n} rows (N); got shape {V.shape}.")
        Wd = da.from_array(W.astype(self.dtype, copy=False), chunks=(self.chunk, W.shape[1]))
        product = self.array @ Wd
        out = self.client.compute(product).result() if self.client is not None else product.compute()
        out = np.asarray(out, dtype=V.dtype if V.dtype.kind == "f" else np.float64)
        return out[:, 0] if vector else out

    def frobenius2(self) -> float:
        r""":math:`\operatorname{tr}A^2 = \sum_{ij}A_{ij}^2` (float64 sums on the cluster): makes :math:`B^2` the
        second control variate of the stochastic estimate (docs page "Large samples")."""
        total = (self.array.astype(np.float64) ** 2).sum()
        return float(self.client.compute(total).result() if self.client is not None else total.compute())

    def to_numpy(self) -> np.ndarray:
        """The whole matrix on the client (only for small N: tests and checks)."""
        return np.asarray(self.client.compute(self.array).result() if self.client is not None
                          else self.array.compute())

    def __repr__(self) -> str:
        blocks = math.ceil(self.n / self.chunk) ** 2
        return (f"DaskGramOperator(n={self.n}, dtype={self.dtype}, chunk={self.chunk}, blocks={blocks}, "
                f"persisted={self.persisted}, {self.nbytes / 2**30:.2f} GiB)")


def _active_client() -> Any:
    try:
        distributed = require("distributed", needed_by="DaskGramOperator", extra="dask")
        return distributed.default_client()
    except (ImportError, ValueError):
        return None


def scaled_samples(X: Any, *, sigma: Any = "tapia", sigma_scale: float = 1.0, standardize: Any = "feature",
                   width_params: dict | None = None) -> tuple[np.ndarray, float]:
    r"""Samples standardised and divided by their kernel width, as the exact estimator would use them.

    ``(Z, sigma)`` with :math:`z_i = x_i/\sigma` (after the standardisation of eq. 29 for the
    standardising rules), so that :math:`\exp(-\lVert z_i - z_j\rVert^2/2)` is the kernel of
    :func:`renyimi.gram_matrix` with the same settings. Runs on the client in :math:`O(Nd)` memory for
    a fixed width and the ``"tapia"``, ``"yu"``, ``"silverman"`` and ``"scott"`` rules (``"median"``
    and ``"knn"`` need all N x N distances).

    Parameters
    ----------
    X : array_like (N, ...)
        Samples (flattened per sample).
    sigma, sigma_scale, standardize, width_params
        As in :func:`renyimi.matrix_entropy`.

    Returns
    -------
    Z : numpy.ndarray (N, d), float64
    sigma : float
        The resolved width (``sigma_scale`` included).
    """
    # The estimator's own plan resolves (and validates) the width exactly as method="slq" does.
    from .._compute import build_grams
    from .._plan import make_plan

    settings = {"sigma": sigma, "sigma_scale": sigma_scale, "standardize": standardize,
                "width_params": width_params, "method": "slq"}
    grams = build_grams(make_plan({"X": np.asarray(X, dtype=np.float64)}, settings))
    return np.asarray(grams.grams[0].Z, dtype=np.float64), float(grams.sigmas[0])


def matrix_entropy(X: Any, client: Any = None, *, alpha: float = 1.01, sigma: Any = "tapia",
                   sigma_scale: float = 1.0, standardize: Any = "feature", width_params: dict | None = None,
                   base: float = 2, dtype: Any = None, chunk: int = DEFAULT_CHUNK, persist: bool = True,
                   random_state: Any = None, **slq_options: Any) -> tuple[float, float]:
    r"""Matrix-based Rényi entropy :math:`S_\alpha(A)` of a large sample, its Gram matrix on a Dask cluster.

    The Gaussian Gram matrix is built block by block on the workers (:class:`DaskGramOperator`) and
    the entropy is estimated by stochastic Lanczos quadrature (as with ``method="slq"``),
    whose matrix products run on the cluster; N is limited by the cluster's memory, not the client's.

    Parameters
    ----------
    X : array_like (N, ...)
        Samples (on the client; :math:`O(Nd)` memory).
    client : distributed.Client, optional
        Default: the active client (or Dask's threads without one).
    alpha, sigma, sigma_scale, standardize, width_params, base
        As in :func:`renyimi.matrix_entropy` (Gaussian kernel only).
    dtype, chunk, persist
        As in :class:`DaskGramOperator`.
    random_state : int or numpy.random.Generator, optional
        Seed of the probe vectors.
    **slq_options
        Accuracy controls of ``method="slq"`` (``rank``, ``n_probes``, ``n_lanczos``, ...).

    Returns
    -------
    (float, float)
        The estimate in units of ``base`` and its standard error over the probes.
    """
    try:
        from .._engine.slq import slq_entropy
    except ImportError as exc:  # the large-N engine is not in this installation
        raise ImportError("renyimi.distributed.matrix_entropy needs renyimi's large-N engine (method='slq'); "
                          "use DaskGramOperator(...).matmat with your own estimator.") from exc
    Z, _ = scaled_samples(X, sigma=sigma, sigma_scale=sigma_scale, standardize=standardize,
                          width_params=width_params)
    op = DaskGramOperator(Z, client=client, chunk=chunk, dtype=dtype, persist=persist)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    value, stderr = slq_entropy(op, alpha, base=base, rng=rng, **slq_options)
    return float(value), float(stderr)
