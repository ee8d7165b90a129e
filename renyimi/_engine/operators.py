r"""Linear operators for trace-one normalised Gram matrices, dense or matrix-free.

Every operator represents a symmetric PSD matrix :math:`A` (N, N) with :math:`\operatorname{tr}A = 1`
(eqs. 17 and 19) through ``matmat(V) -> A @ V`` for blocks ``V`` (N, k) in the operator's array namespace
and device. Attributes: ``n`` (N), ``dtype`` (the precision the products are computed in), ``xp``.
``matmat`` returns the dtype of ``V`` whatever the storage precision, so stochastic estimators can keep
their Krylov vectors in float64 over float32 storage.

* :class:`DenseOperator` wraps an explicit normalised Gram matrix (float32 storage halves its memory).
* :class:`GaussianOperator` never allocates N x N: the kernel
  :math:`A_{ij} = \exp(-\lVert z_i - z_j\rVert^2/2)/N` of width-scaled samples :math:`z_i = x_i/\sigma`
  is recomputed tile by tile at every product (numba on CPU NumPy arrays when installed, float32 tiles and
  float64 BLAS products by default, blocked
  array-API code otherwise: NumPy without numba, torch and CuPy on any device).
* :func:`joint_gaussian_operator`: the Hadamard product of Gaussian Grams is the Gaussian Gram of the
  concatenated scaled features, :math:`K_x\circ K_y = K([z_x, z_y])`, with :math:`K_{ii} = 1`, so its
  normalised form (eq. 19) is again :math:`K/N`; the joint N x N matrix is never formed.
* :class:`HadamardOperator` forms :math:`A_1\circ\cdots\circ A_m/\operatorname{tr}(\cdot)` from dense
  factors (other kernels at moderate N).

:func:`dense_fits` tells a planner whether explicit Grams fit in memory.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from .arrays import device as _device
from .arrays import library_name

__all__ = [
    "DenseOperator",
    "GaussianOperator",
    "HadamardOperator",
    "available_bytes",
    "dense_fits",
    "dense_gaussian_operator",
    "joint_gaussian_operator",
]

#: Rows per block of the array-API (non-numba) Gaussian product: the temporaries are ``block x N``.
DEFAULT_BLOCK = 1024


class DenseOperator:
    r"""An explicit normalised Gram matrix :math:`A` (N, N) as an operator.

    Parameters
    ----------
    A : array (N, N)
        Symmetric PSD, trace one (e.g. from :func:`renyimi.gram_matrix`).
    xp : module
        Array namespace of ``A``.
    dtype : dtype, optional
        Storage precision (e.g. ``xp.float32`` to halve the memory); default: that of ``A``.
    """

    def __init__(self, A: Any, xp: Any, *, dtype: Any = None) -> None:
        if dtype is not None and A.dtype != dtype:
            A = xp.astype(A, dtype)
        self.A = A
        self.xp = xp
        self.n = int(A.shape[0])
        self.dtype = A.dtype

    def matmat(self, V: Any) -> Any:
        """:math:`AV` for ``V`` (N, k), in the dtype of ``V``."""
        out = self.A @ (V if V.dtype == self.dtype else self.xp.astype(V, self.dtype))
        return out if out.dtype == V.dtype else self.xp.astype(out, V.dtype)


class HadamardOperator(DenseOperator):
    r"""Joint Gram :math:`A_1\circ\cdots\circ A_m/\operatorname{tr}(A_1\circ\cdots\circ A_m)` (eq. 19) of dense factors.

    Parameters
    ----------
    *grams : arrays (N, N)
        Normalised Gram matrices of the variables (same library, device and shape).
    xp : module, optional
        Their namespace (detected from the first factor if omitted).
    dtype : dtype, optional
        Storage precision of the product.
    """

    def __init__(self, *grams: Any, xp: Any = None, dtype: Any = None) -> None:
        if not grams:
            raise ValueError("HadamardOperator needs at least one Gram matrix; got none.")
        if xp is None:
            import array_api_compat

            xp = array_api_compat.array_namespace(grams[0])
        joint = grams[0]
        for G in grams[1:]:
            joint = joint * G
        joint = joint / xp.sum(xp.linalg.diagonal(joint))
        super().__init__(joint, xp, dtype=dtype)


class GaussianOperator:
    r"""Matrix-free normalised Gaussian Gram :math:`A_{ij} = \exp(-\lVert z_i - z_j\rVert^2/2)/N`.

    Parameters
    ----------
    Z : array (N, d)
        Samples divided by their kernel width :math:`\sigma` (and standardised first if the width
        rule does so), so that :math:`\kappa(z, z') = \exp(-\lVert z - z'\rVert^2/2)` (eq. 21).
    xp : module
        Array namespace of ``Z``.
    block : int
        Rows per block on the array-API path (temporaries of ``block x N`` entries).
    dtype : dtype, optional
        Precision of the kernel tiles and products (default: that of ``Z``; ``xp.float32`` is
        about twice as fast). Products are returned in the dtype of the input block.
    use_numba : bool or None
        Use the numba tile kernel (NumPy input only); ``None``: when numba is installed.
    tiles : {"float32", "float64"}
        Precision of the numba kernel tiles. ``"float32"`` (default): distances and ``exp`` in float32,
        products accumulated in float64 by BLAS; entries within ~1e-7 relative of the float64 kernel, about
        4x faster (:func:`~renyimi._engine.numba_matvec.gaussian_matmat32`). ``"float64"``: the kernel to
        1e-14 in ``dtype``. Ignored off the numba path.

    Notes
    -----
    One product with a block of k vectors costs :math:`N^2` kernel evaluations (:math:`d` flops and
    one ``exp`` each) plus :math:`2N^2k` flops, and :math:`O(Nk)` memory plus the tiles.
    """

    def __init__(self, Z: Any, xp: Any, *, block: int = DEFAULT_BLOCK, dtype: Any = None,
                 use_numba: bool | None = None, tiles: str = "float32") -> None:
        if tiles not in ("float32", "float64"):
            raise ValueError(f"tiles must be 'float32' or 'float64'; got tiles={tiles!r}.")
        self.tiles = tiles
        if getattr(Z, "ndim", 0) != 2:
            raise ValueError(f"Z must be a 2-D array (n_samples, n_features); got shape {getattr(Z, 'shape', None)}.")
        if int(block) < 1:
            raise ValueError(f"block must be a positive number of rows; got block={block}.")
        if dtype is not None and Z.dtype != dtype:
            Z = xp.astype(Z, dtype)
        # Centering leaves distances unchanged and shrinks the norms that cancel in |z|^2+|z'|^2-2z.z'.
        self.Z = Z - xp.mean(Z, axis=0)
        self.xp = xp
        self.n = int(Z.shape[0])
        self.dtype = Z.dtype
        self.block = int(block)
        numpy_input = library_name(Z) == "numpy"
        if use_numba is None:
            use_numba = numpy_input and importlib.util.find_spec("numba") is not None
        if use_numba and not numpy_input:
            raise ValueError(f"use_numba=True needs NumPy samples; got {library_name(Z)} arrays. Use use_numba=None.")
        self.use_numba = bool(use_numba)
        self._sq = xp.sum(self.Z * self.Z, axis=1)

    def matmat(self, V: Any) -> Any:
        """:math:`AV` for ``V`` (N, k), in the dtype of ``V``; the kernel is computed in ``self.dtype``."""
        xp = self.xp
        W = V if V.dtype == self.dtype else xp.astype(V, self.dtype)
        if self.use_numba and self.tiles == "float32":
            from .numba_matvec import gaussian_matmat32

            out = gaussian_matmat32(self.Z, V)
        elif self.use_numba:
            from .numba_matvec import gaussian_matmat

            out = gaussian_matmat(self.Z, W)
        else:
            out = self._blocked(W)
        out = out / self.n
        return out if out.dtype == V.dtype else xp.astype(out, V.dtype)

    def _blocked(self, W: Any) -> Any:
        xp, Z, sq = self.xp, self.Z, self._sq
        parts = []
        for start in range(0, self.n, self.block):
            stop = min(start + self.block, self.n)
            D = sq[start:stop, None] + sq[None, :] - 2.0 * (Z[start:stop, :] @ Z.T)
            K = xp.exp(-0.5 * xp.where(D > 0, D, 0.0))
            parts.append(K @ W)
        return xp.concat(parts, axis=0)


def joint_gaussian_operator(*Zs: Any, xp: Any = None, **kwargs: Any) -> GaussianOperator:
    r"""Joint Gram (eq. 19) of Gaussian-kernel variables: the Gaussian operator of :math:`[z_1,\dots,z_m]`.

    :math:`\prod_v \exp(-\lVert z^v_i - z^v_j\rVert^2/2) = \exp(-\lVert[z^1_i,\dots]-[z^1_j,\dots]\rVert^2/2)`,
    and its diagonal is 1, so the trace normaliser is again :math:`1/N`. ``kwargs`` go to
    :class:`GaussianOperator`.
    """
    if not Zs:
        raise ValueError("joint_gaussian_operator needs at least one sample matrix; got none.")
    if xp is None:
        import array_api_compat

        xp = array_api_compat.array_namespace(*Zs)
    n = {int(Z.shape[0]) for Z in Zs}
    if len(n) != 1:
        raise ValueError(f"All variables must have the same number of samples; got {sorted(n)}.")
    return GaussianOperator(xp.concat(list(Zs), axis=1), xp, **kwargs)


def dense_gaussian_operator(Z: Any, xp: Any, *, dtype: Any = None, block: int = DEFAULT_BLOCK) -> DenseOperator:
    r"""Explicit normalised Gaussian Gram :math:`\exp(-\lVert z_i - z_j\rVert^2/2)/N` built block by block.

    Built directly in ``dtype`` (default float32: half the memory, twice the product speed), with
    temporaries of ``block x N`` only, so the peak is one N x N matrix of ``dtype`` plus a block.
    ``Z`` (N, d) holds width-scaled samples as for :class:`GaussianOperator`.
    """
    dtype = xp.float32 if dtype is None else dtype
    gen = GaussianOperator(Z, xp, dtype=dtype, use_numba=False, block=block)
    n = gen.n
    if library_name(Z) == "numpy":
        import numpy as np

        A = np.empty((n, n), dtype=dtype)
    else:
        A = xp.empty((n, n), dtype=dtype, device=_device(Z))
    Zc, sq = gen.Z, gen._sq
    cols = xp.arange(n, device=_device(Z))
    for start in range(0, n, gen.block):
        stop = min(start + gen.block, n)
        D = sq[start:stop, None] + sq[None, :] - 2.0 * (Zc[start:stop, :] @ Zc.T)
        # The diagonal is exactly 1/N (trace one), set with a mask: the array API has no fancy assignment.
        on_diagonal = xp.arange(start, stop, device=_device(Z))[:, None] == cols[None, :]
        A[start:stop, :] = xp.where(on_diagonal, 1.0 / n, xp.exp(-0.5 * xp.where(D > 0, D, 0.0)) / n)
    return DenseOperator(A, xp)


def available_bytes(x: Any) -> int | None:
    """Free memory on the device of ``x`` (host RAM for CPU arrays); None when it cannot be known cheaply."""
    dev = str(_device(x)) if hasattr(x, "shape") else "cpu"
    lib = library_name(x)
    try:
        if lib == "cupy":
            import cupy

            return int(cupy.cuda.Device(x.device.id).mem_info[0])
        if lib == "torch" and "cuda" in dev:
            import torch

            return int(torch.cuda.mem_get_info(x.device)[0])
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except Exception:  # pragma: no cover - depends on the platform and driver
        return None


def dense_fits(n: int, itemsize: int, x: Any, *, copies: int = 3, available: int | None = None) -> bool:
    """Whether ``copies`` explicit N x N matrices of ``itemsize``-byte floats fit in the memory of ``x``'s device.

    Three copies are the two marginal Grams and the joint one of a mutual information (the joint is
    formed while both factors are alive). ``available`` overrides the measured free memory (bytes).
    When the free memory cannot be known, explicit matrices are assumed to fit.
    """
    available = available_bytes(x) if available is None else available
    if available is None:
        return True
    return copies * n * n * itemsize <= available

