r"""Linear operators for trace-one normalised Gram matrices, dense or matrix-free.

Every operator represents a symmetric PSD matrix :math:`A` (N, N) with :math:`\operatorname{tr}A = 1`
(eqs. 17 and 19) through ``matmat(V) -> A @ V`` for blocks ``V`` (N, k) in the operator's array namespace
and device. Attributes: ``n`` (N), ``dtype`` (the precision the products are computed in), ``xp``.
``matmat`` returns the dtype of ``V`` whatever the storage precision, so stochastic estimators can keep
their Krylov vectors in float64 over float32 storage.

* :class:`DenseOperator` wraps an explicit normalised Gram matrix (float32 storage halves its memory).
* :class:`GaussianFamily` never allocates N x N: the kernels
  :math:`\exp(-\lVert z_i - z_j\rVert^2/2)` of width-scaled samples :math:`z_i = x_i/\sigma` of several
  variables, and of their joints (products of the variables' kernels, eq. 19), are recomputed tile by tile
  at every product, all terms in one pass (float32 tiles and BLAS GEMMs, threads over tiles on NumPy; the
  array library's own kernels for torch and CuPy on any device).
  :class:`GaussianOperator` is one term of a family; :func:`joint_gaussian_operator` the joint term of its
  variables: :math:`K_x\circ K_y = K([z_x, z_y])` with :math:`K_{ii} = 1`, so its normalised form is
  again :math:`K/N`; the joint N x N matrix is never formed.
* :class:`HadamardOperator` forms :math:`A_1\circ\cdots\circ A_m/\operatorname{tr}(\cdot)` from dense
  factors (other kernels at moderate N).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from .arrays import device as _device
from .arrays import library_name

__all__ = [
    "DenseOperator",
    "GaussianFamily",
    "GaussianOperator",
    "HadamardOperator",
    "available_bytes",
    "dense_gaussian_operator",
    "joint_gaussian_operator",
]

#: Rows per block when an explicit Gram matrix is built: the temporaries are ``block x N``.
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

    def frobenius2(self) -> float:
        r""":math:`\operatorname{tr}A^2 = \sum_{ij}A_{ij}^2`, accumulated in float64 by row blocks."""
        xp, total = self.xp, 0.0
        for start in range(0, self.n, DEFAULT_BLOCK):
            rows = xp.astype(self.A[start:start + DEFAULT_BLOCK, :], xp.float64)
            total += float(xp.sum(rows * rows))
        return total


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


class GaussianFamily:
    r"""Normalised Gaussian Grams of several variables and of their joints, multiplied tile by tile together.

    Each *part* :math:`v` is a matrix of width-scaled samples :math:`Z_v` (N, d_v). A *term* is a tuple of
    part indices; its operator is the normalised Gaussian Gram of the concatenated parts,

    .. math:: A_t = \frac1N \exp\!\Big(-\tfrac12\sum_{v\in t}\lVert z^v_i - z^v_j\rVert^2\Big)
              = \frac1N \prod_{v\in t} K_v, \qquad K_v = \exp(-\tfrac12\lVert z^v_i - z^v_j\rVert^2),

    i.e. :math:`(0,)` is the Gram matrix of variable 0 (eq. 17) and :math:`(0, 1)` the joint matrix of
    variables 0 and 1 (eq. 19: the Hadamard product, whose diagonal is 1, so its trace normaliser is
    :math:`1/N` again). :meth:`matmat_many` multiplies several terms by their own blocks of vectors in
    **one pass** over the N x N index space: each kernel tile :math:`K_v[I, J]` is computed once (one GEMM
    for the exponent, one ``exp``) and serves every term that contains :math:`v`; a joint tile is the
    product of its parts' tiles (no further ``exp``). Only tiles with :math:`J \ge I` are computed and each
    is applied twice, :math:`W_t[I] \mathrel{+}= K V_t[J]` and :math:`W_t[J] \mathrel{+}= K^\top V_t[I]`,
    so every operator is exactly symmetric, its diagonal is exactly 1/N and its trace exactly 1.

    The exponent comes from one GEMM of augmented samples, :math:`[z_i, -\lVert z_i\rVert^2/2, 1]\cdot
    [z_j, 1, -\lVert z_j\rVert^2/2] = -\lVert z_i - z_j\rVert^2/2`, on samples centred first (distances do
    not change, the norms that cancel shrink). In float32 its round-off is about
    :math:`2^{-23}\max_i\lVert z_i\rVert^2`; when that exceeds 1e-5 the tiles are computed in float64.

    Parameters
    ----------
    parts : sequence of arrays (N, d_v)
        Width-scaled samples of each variable (same library, device and N).
    xp : module
        Their array namespace.
    dtype : dtype, optional
        Precision of the kernel tiles and of their products with the vectors (default float32: half the
        memory traffic and twice the GEMM speed of float64; products are accumulated in float64 across
        tiles). Promoted to float64 when float32 cannot resolve the exponent (see above).
    block : int, optional
        Tile size (rows and columns). Default: 512 on NumPy (tiles stay in the L2 cache), 4096 on other
        libraries (GPU kernels want large tiles).
    workers : int, optional
        Threads over tiles on NumPy, each with single-threaded BLAS (default:
        :func:`renyimi.get_num_threads`; 1 without threadpoolctl, when BLAS threads itself).
    cache_bytes : int, optional
        Memory for keeping kernel tiles between passes (NumPy): a term whose tiles (:math:`\approx N^2/2`
        entries) fit is computed in the first pass that asks for it and then only read. The variables of the
        requested terms are kept first (a joint tile is the product of kept tiles), then joints whose
        variables did not fit. Default: a quarter of the free memory (about N = 38 000 for two variables in
        24 GB); 0 recomputes every tile at every pass (memory :math:`O(N)`).

    Notes
    -----
    Cost of one pass: :math:`N^2/2` tile entries, each with :math:`2 + d_v` flops and one ``exp`` per part,
    one multiply per extra part of a joint term and :math:`4k_t` flops per term with :math:`k_t` vectors;
    memory :math:`O(N\sum_t k_t)` per worker plus its tiles, never :math:`N^2`.
    """

    def __init__(self, parts: Any, xp: Any, *, dtype: Any = None, block: int | None = None,
                 workers: int | None = None, cache_bytes: int | None = None) -> None:
        parts = list(parts)
        if not parts:
            raise ValueError("GaussianFamily needs at least one sample matrix; got none.")
        for Z in parts:
            if getattr(Z, "ndim", 0) != 2:
                raise ValueError(f"Each part must be a 2-D array (n_samples, n_features); got shape "
                                 f"{getattr(Z, 'shape', None)}.")
        sizes = {int(Z.shape[0]) for Z in parts}
        if len(sizes) != 1:
            raise ValueError(f"All variables must have the same number of samples; got {sorted(sizes)}.")
        if block is not None and int(block) < 1:
            raise ValueError(f"block must be a positive number of rows; got block={block}.")
        self.xp = xp
        self.n = sizes.pop()
        self.numpy = library_name(parts[0]) == "numpy"
        self.device = _device(parts[0])
        self.block = int(block) if block is not None else (512 if self.numpy else 4096)
        dtype = xp.float32 if dtype is None else dtype
        # Centre in float64 (distances do not change), then decide whether float32 resolves the exponent.
        centred = [xp.astype(Z, xp.float64) - xp.mean(xp.astype(Z, xp.float64), axis=0) for Z in parts]
        sq = [xp.sum(Z * Z, axis=1) for Z in centred]
        largest = max(float(xp.max(s)) if self.n else 0.0 for s in sq)
        if dtype == xp.float32 and largest * 2.0**-23 > 1e-5:
            dtype = xp.float64
        self.dtype = dtype
        self.n_parts = len(centred)
        ones = xp.ones((self.n, 1), dtype=xp.float64, device=self.device)
        # Augmented factors: L[i] . R[j] = z_i . z_j - |z_i|^2/2 - |z_j|^2/2 = -|z_i - z_j|^2/2.
        self._L = [xp.astype(xp.concat([Z, -s[:, None] / 2, ones], axis=1), dtype) for Z, s in zip(centred, sq)]
        self._R = [xp.astype(xp.concat([Z, ones, -s[:, None] / 2], axis=1), dtype) for Z, s in zip(centred, sq)]
        if workers is None:
            workers = _tile_workers() if self.numpy else 1
        self.workers = max(1, int(workers))
        self._frobenius2: dict = {}  # term -> tr(A_t^2), accumulated during the first pass that sees the term
        # Kernel tiles kept between passes (NumPy), per term (a variable or a joint), while they fit the budget.
        self._tiles: dict = {}
        self._slabs: dict = {}  # term -> one pre-faulted buffer holding its kept tiles back to back
        self._cache_left = 0
        if self.numpy:
            if cache_bytes is None:
                free = available_bytes(parts[0])
                cache_bytes = 0 if free is None else free // 4
            self._cache_left = int(cache_bytes)

    def operator(self, term: tuple[int, ...]) -> GaussianOperator:
        """The operator of one term (a tuple of part indices), sharing this family's tiles."""
        term = tuple(int(v) for v in term)
        if not term or any(v < 0 or v >= self.n_parts for v in term):
            raise ValueError(f"term must be a non-empty tuple of part indices below {self.n_parts}; got {term}.")
        return GaussianOperator._member(self, term)

    def matmat_many(self, blocks: dict) -> dict:
        """:math:`A_t V_t` for every ``term: V_t`` in ``blocks`` (V_t (N, k_t)), in one pass; float64 results."""
        blocks = {tuple(t): V for t, V in blocks.items()}
        if not blocks:
            return {}
        for t, V in blocks.items():
            if V.ndim != 2 or int(V.shape[0]) != self.n:
                raise ValueError(f"The block for term {t} must have shape (n, k) = ({self.n}, k); "
                                 f"got {tuple(V.shape)}.")
        if self.numpy:
            return self._numpy_pass(blocks)
        return self._generic_pass(blocks)

    def frobenius2(self, term: tuple[int, ...]) -> float:
        r""":math:`\operatorname{tr}A_t^2 = \sum_{ij}(A_t)_{ij}^2` of one term (float64 sums of the float32 tiles);
        free after the first :meth:`matmat_many` that included the term, else one pass without products."""
        term = tuple(term)
        if term not in self._frobenius2:
            self.matmat_many({term: self.xp.zeros((self.n, 0), dtype=self.dtype, device=self.device)})
        return self._frobenius2[term]

    def _tile_pairs(self) -> list[tuple[int, int]]:
        starts = range(0, self.n, self.block)
        return [(i, j) for i in starts for j in starts if j >= i]

    def _slab_offsets(self) -> dict:
        """Where each tile (I, J) starts in a term's kept-tile buffer (tiles back to back in pass order)."""
        if not hasattr(self, "_offsets"):
            n, b, at = self.n, self.block, 0
            self._offsets = {}
            for i0, j0 in self._tile_pairs():
                self._offsets[i0, j0] = at
                at += (min(i0 + b, n) - i0) * (min(j0 + b, n) - j0)
        return self._offsets

    def _keep(self, terms: list) -> None:
        """Admit tiles to the cache while the budget lasts: the variables of the requested terms, then joint
        terms whose variables did not all fit. (Keeping a joint whose variables are kept saves nothing: its
        product costs less than reading a third tile from memory, measured at N = 16 384.)"""
        per_term = self.n * (self.n + self.block) // 2 * (4 if self.dtype == self.xp.float32 else 8)
        def admit(wanted):
            for t in wanted:
                if t not in self._tiles and per_term <= self._cache_left:
                    self._tiles[t] = {}
                    self._slabs[t] = _prefaulted(self.n * (self.n + self.block) // 2, self.dtype)
                    self._cache_left -= per_term

        admit(sorted({(v,) for t in terms for v in t}))
        admit([t for t in terms if len(t) > 1 and not all((v,) in self._tiles for v in t)])

    def _numpy_pass(self, blocks: dict) -> dict:
        import numpy as np

        from .eigen import blas_threads

        n, b, dtype = self.n, self.block, self.dtype
        Vs = {t: np.ascontiguousarray(V, dtype=dtype) for t, V in blocks.items()}
        self._keep(list(Vs))
        pairs = self._tile_pairs()
        offsets = self._slab_offsets()
        workers = min(self.workers, len(pairs))
        exact = dtype == np.float64
        squares = [t for t in Vs if t not in self._frobenius2]

        def work(chunk):
            out = {t: np.zeros((n, V.shape[1]), dtype=np.float64) for t, V in Vs.items()}
            sums = dict.fromkeys(squares, 0.0)
            scratch: dict = {}  # reused tile buffers of terms that are not kept

            def tile(t, tiles, i0, j0):
                """The tile (I, J) of term t: kept, computed this round (``tiles``), or computed now."""
                if t in tiles:
                    return tiles[t]
                kept = self._tiles.get(t)
                if kept is not None and (i0, j0) in kept:
                    tiles[t] = kept[i0, j0]
                    return tiles[t]
                i1, j1 = min(i0 + b, n), min(j0 + b, n)
                h, w = i1 - i0, j1 - j0
                if kept is not None:
                    T = self._slabs[t][offsets[i0, j0]: offsets[i0, j0] + h * w].reshape(h, w)
                else:
                    if t not in scratch:
                        scratch[t] = np.empty(b * b, dtype=dtype)
                    T = scratch[t][: h * w].reshape(h, w)
                if len(t) > 1:  # a joint tile: the product of its variables' tiles
                    np.multiply(tile(t[:1], tiles, i0, j0), tile(t[1:2], tiles, i0, j0), out=T)
                    for v in t[2:]:
                        T *= tile((v,), tiles, i0, j0)
                else:
                    np.matmul(self._L[t[0]][i0:i1], self._R[t[0]][j0:j1].T, out=T)
                    if i0 == j0:  # symmetric to the last bit, zero distance on the diagonal
                        np.add(T, T.T, out=T)
                        T *= 0.5
                        np.fill_diagonal(T, 0.0)
                    if exact:
                        np.minimum(T, 0.0, out=T)
                    np.exp(T, out=T)
                if kept is not None:
                    kept[i0, j0] = T
                tiles[t] = T
                return T

            for i0, j0 in chunk:
                i1, j1 = min(i0 + b, n), min(j0 + b, n)
                tiles: dict = {}
                for t, V in Vs.items():
                    K = tile(t, tiles, i0, j0)
                    out[t][i0:i1] += K @ V[j0:j1]
                    if i0 != j0:
                        out[t][j0:j1] += K.T @ V[i0:i1]
                    if t in sums:  # row sums in the tile's precision (no temporary), their total in float64
                        rows = np.einsum("ij,ij->i", K, K)
                        sums[t] += (1 if i0 == j0 else 2) * float(rows.sum(dtype=np.float64))
            return out, sums

        if workers == 1:
            results = [work(pairs)]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with blas_threads(1), ThreadPoolExecutor(workers) as pool:
                results = list(pool.map(work, [pairs[w::workers] for w in range(workers)]))
        total = results[0][0]
        for other, _ in results[1:]:
            for t in total:
                total[t] += other[t]
        for t in total:
            total[t] /= n
        for t in squares:
            self._frobenius2[t] = sum(sums[t] for _, sums in results) / n**2
        return total

    def _generic_pass(self, blocks: dict) -> dict:
        xp, n, b, dtype = self.xp, self.n, self.block, self.dtype
        f64 = xp.float64
        Vs = {t: xp.astype(V, dtype) for t, V in blocks.items()}
        out = {t: xp.zeros((n, int(V.shape[1])), dtype=f64, device=self.device) for t, V in Vs.items()}
        parts = sorted({v for t in blocks for v in t})
        sums = {t: 0.0 for t in Vs if t not in self._frobenius2}
        for i0, j0 in self._tile_pairs():
            i1, j1 = min(i0 + b, n), min(j0 + b, n)
            tiles = {}
            for v in parts:
                T = self._L[v][i0:i1, :] @ self._R[v][j0:j1, :].T
                if i0 == j0:
                    T = (T + T.T) / 2
                    idx = xp.arange(i1 - i0, device=self.device)
                    T = xp.where(idx[:, None] == idx[None, :], xp.zeros_like(T), T)
                tiles[v] = xp.exp(xp.minimum(T, xp.zeros_like(T)))
            for t, V in Vs.items():
                K = tiles[t[0]]
                for v in t[1:]:
                    K = K * tiles[v]
                out[t][i0:i1, :] = out[t][i0:i1, :] + xp.astype(K @ V[j0:j1, :], f64)
                if i0 != j0:
                    out[t][j0:j1, :] = out[t][j0:j1, :] + xp.astype(K.T @ V[i0:i1, :], f64)
                if t in sums:
                    sums[t] += (1 if i0 == j0 else 2) * float(xp.sum(xp.astype(K, f64) ** 2))
        for t, total in sums.items():
            self._frobenius2[t] = total / n**2
        return {t: W / n for t, W in out.items()}


def _prefaulted(count: int, dtype: Any) -> Any:
    """An uninitialised NumPy buffer of ``count`` elements whose pages are mapped in one system call
    (``MAP_POPULATE``; Linux) instead of one page fault per 4 KiB page at first touch. Filling 4 GiB of
    kept tiles faulted page by page cost 10-15 CPU-s at N = 32 768 on a 2-core VM; populated, about 2."""
    import mmap

    import numpy as np

    nbytes = int(count) * np.dtype(dtype).itemsize
    try:
        buffer = mmap.mmap(-1, max(nbytes, 1), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
    except (AttributeError, OSError, ValueError):  # not Linux, or no mapping of that size: ordinary pages
        return np.empty(count, dtype=dtype)
    return np.frombuffer(buffer, dtype=dtype, count=count)


def _tile_workers() -> int:
    """Tile threads on NumPy: one per core renyimi may use, when threadpoolctl can pin BLAS to one thread."""
    from .eigen import get_num_threads

    return get_num_threads() if importlib.util.find_spec("threadpoolctl") is not None else 1


class GaussianOperator:
    r"""Matrix-free normalised Gaussian Gram :math:`A_{ij} = \exp(-\lVert z_i - z_j\rVert^2/2)/N`.

    A one-variable :class:`GaussianFamily`; never allocates N x N.

    Parameters
    ----------
    Z : array (N, d)
        Samples divided by their kernel width :math:`\sigma` (and standardised first if the width
        rule does so), so that :math:`\kappa(z, z') = \exp(-\lVert z - z'\rVert^2/2)` (eq. 21).
    xp : module
        Array namespace of ``Z``.
    dtype, block, workers
        Tile precision, tile size and threads; see :class:`GaussianFamily`.

    Notes
    -----
    One product with a block of k vectors costs :math:`N^2/2` kernel evaluations (:math:`d + 2` flops and
    one ``exp`` each) plus :math:`2N^2k` flops, and :math:`O(Nk)` memory plus the tiles.
    """

    def __init__(self, Z: Any, xp: Any, *, dtype: Any = None, block: int | None = None,
                 workers: int | None = None) -> None:
        self._bind(GaussianFamily([Z], xp, dtype=dtype, block=block, workers=workers), (0,))

    @classmethod
    def _member(cls, family: GaussianFamily, term: tuple[int, ...]) -> GaussianOperator:
        op = cls.__new__(cls)
        op._bind(family, term)
        return op

    def _bind(self, family: GaussianFamily, term: tuple[int, ...]) -> None:
        self.family, self.term = family, term
        self.xp, self.n, self.dtype, self.device = family.xp, family.n, family.dtype, family.device

    def matmat(self, V: Any) -> Any:
        """:math:`AV` for ``V`` (N, k), in the dtype of ``V``; the kernel is computed in ``self.dtype``."""
        out = self.family.matmat_many({self.term: V})[self.term]
        return out if out.dtype == V.dtype else self.xp.astype(out, V.dtype)

    def frobenius2(self) -> float:
        r""":math:`\operatorname{tr}A^2` (:meth:`GaussianFamily.frobenius2`)."""
        return self.family.frobenius2(self.term)


def joint_gaussian_operator(*Zs: Any, xp: Any = None, **kwargs: Any) -> GaussianOperator:
    r"""Joint Gram (eq. 19) of Gaussian-kernel variables: the Gaussian operator of :math:`[z_1,\dots,z_m]`.

    :math:`\prod_v \exp(-\lVert z^v_i - z^v_j\rVert^2/2) = \exp(-\lVert[z^1_i,\dots]-[z^1_j,\dots]\rVert^2/2)`,
    and its diagonal is 1, so the trace normaliser is again :math:`1/N`. ``kwargs`` go to
    :class:`GaussianFamily`.
    """
    if not Zs:
        raise ValueError("joint_gaussian_operator needs at least one sample matrix; got none.")
    if xp is None:
        import array_api_compat

        xp = array_api_compat.array_namespace(*Zs)
    return GaussianFamily(Zs, xp, **kwargs).operator(tuple(range(len(Zs))))


def dense_gaussian_operator(Z: Any, xp: Any, *, dtype: Any = None, block: int = DEFAULT_BLOCK) -> DenseOperator:
    r"""Explicit normalised Gaussian Gram :math:`\exp(-\lVert z_i - z_j\rVert^2/2)/N` built block by block.

    Stored in ``dtype`` (default float32: half the memory, twice the product speed), with temporaries of
    ``block x N`` only, so the peak is one N x N matrix of ``dtype`` plus a block. ``Z`` (N, d) holds
    width-scaled samples as for :class:`GaussianOperator`; the exponent is computed as in
    :class:`GaussianFamily` (diagonal exactly 1/N).
    """
    dtype = xp.float32 if dtype is None else dtype
    family = GaussianFamily([Z], xp, dtype=dtype, block=block)
    n, L, R = family.n, family._L[0], family._R[0]
    if family.numpy:
        import numpy as np

        A = np.empty((n, n), dtype=dtype)
    else:
        A = xp.empty((n, n), dtype=dtype, device=family.device)
    cols = xp.arange(n, device=family.device)
    for start in range(0, n, family.block):
        stop = min(start + family.block, n)
        E = L[start:stop, :] @ R.T
        # The diagonal is exactly 1/N (trace one), set with a mask: the array API has no fancy assignment.
        on_diagonal = xp.arange(start, stop, device=family.device)[:, None] == cols[None, :]
        E = xp.where(on_diagonal, xp.zeros_like(E), xp.minimum(E, xp.zeros_like(E)))
        A[start:stop, :] = xp.astype(xp.exp(E) / n, dtype)
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
