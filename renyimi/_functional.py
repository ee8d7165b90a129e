r"""Matrix-based Rényi entropies and mutual information: the functional API.

Every function resolves the array namespace once, builds one normalised Gram matrix per variable
(eq. 17), and evaluates eq. 18 on it or on the normalised Hadamard product of several (eq. 19).
Results are 0-d arrays of the inputs' library, on their device; with torch they are differentiable.

Shared keyword arguments
------------------------
alpha : float, default 1.01
    Rényi order :math:`\alpha > 0`; 1 is the von Neumann (Shannon-like) limit, computed exactly.
kernel : str or callable, default "gaussian"
    :math:`\exp(-\lVert x-y\rVert^2/(2\sigma^2))` (eq. 21), ``"laplacian"``, a registered name, a
    callable ``(sqdist, sigma, xp) -> K``, or ``"precomputed"`` to pass an (N, N) Gram matrix.
sigma : float, str or callable, default "tapia"
    Kernel width: a positive number, a width-rule name (:mod:`renyimi.width`) or a callable
    ``f(X) -> width`` (or ``(X_transformed, width)``) on the flattened (N, d) samples.
sigma_scale : float, default 1.0
    Multiplies the width (the paper's :math:`\gamma`).
standardize : {"feature", "pooled", "channel"}, int labels or None, default "feature"
    Statistics used by the standardising rules (see :func:`renyimi.width.standardize_features`).
width_params : dict, optional
    Extra parameters of the width rule (e.g. ``{"k": 10}`` for ``"knn"``, ``{"epsilon": 1e-8}``).
base : float, default 2
    Logarithm base: 2 gives bits, ``math.e`` nats.
dtype : {None, "float64", "float32"}
    Working precision; None means float64. float32 is solved in single precision (about 2x faster
    at N >= 2048, within 1e-4 bits; see the performance page).
backend : {"auto", "numpy", "numba"}, default "auto"
    Gram-matrix engine for NumPy input ("auto" is NumPy, chosen by measurement); torch and CuPy
    arrays always use their own library, on their device.
eigensolver : str, default "auto"
    See :data:`renyimi._eigen.SOLVERS`; "auto" picks the fastest measured route per size and dtype.

Any of ``kernel``, ``sigma``, ``sigma_scale``, ``standardize`` and ``width_params`` may also be a
tuple or list with one entry per variable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._engine import eigen as _eigen, gram as _gram
from ._engine.arrays import get_namespace, library_name, resolve_dtype, to_python_float
from ._engine.spectral import entropy_from_eigenvalues, renyi_entropy, uses_eigenvalues
from ._validation import (
    check_alpha,
    check_base,
    check_gram,
    check_memory,
    check_positive,
    check_same_n_samples,
    check_samples,
)
from .kernels import get_kernel
from .width import get_width_rule

__all__ = [
    "conditional_entropy",
    "gram_matrix",
    "joint_entropy",
    "matrix_entropy",
    "mutual_information",
    "total_correlation",
]

BACKENDS = ("auto", "numpy", "numba")


@dataclass(frozen=True)
class VariableSpec:
    """How one variable becomes a Gram matrix."""

    kernel: Any = "gaussian"
    sigma: Any = "tapia"
    sigma_scale: float = 1.0
    standardize: Any = "feature"
    width_params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Estimate:
    """Normalised Gram matrices of several variables and their resolved widths."""

    xp: Any
    grams: list
    sigmas: list  # Python floats (None for precomputed Gram matrices)


def _is_per_variable(value: Any, name: str) -> bool:
    if name == "standardize" and isinstance(value, (list, tuple)):
        # A list of ints is one group label per feature, not one setting per variable.
        return not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    return isinstance(value, (list, tuple))


def variable_specs(n: int, **settings: Any) -> list[VariableSpec]:
    """Expand settings that may be given once or per variable into ``n`` :class:`VariableSpec`."""
    expanded = {}
    for name, value in settings.items():
        if _is_per_variable(value, name):
            if len(value) != n:
                raise ValueError(
                    f"{name} given per variable must have one entry per variable ({n}); got {len(value)}: {value!r}."
                )
            expanded[name] = list(value)
        else:
            expanded[name] = [value] * n
    specs = []
    for i in range(n):
        kw = {name: values[i] for name, values in expanded.items()}
        kw["width_params"] = dict(kw.get("width_params") or {})
        kw["sigma_scale"] = check_positive(kw.get("sigma_scale", 1.0), "sigma_scale")
        specs.append(VariableSpec(**kw))
    return specs


def check_backend(backend: str, xp: Any) -> str:
    """Validate ``backend`` for inputs of namespace ``xp``; returns the concrete backend."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}; got backend={backend!r}.")
    is_numpy = xp.__name__.endswith("numpy")
    if backend in ("numpy", "numba") and not is_numpy:
        raise ValueError(
            f"backend={backend!r} needs NumPy arrays; got arrays of {xp.__name__}. Use backend='auto'."
        )
    return "numpy" if backend == "auto" and is_numpy else backend


def _resolve_width(X: Any, spec: VariableSpec, xp: Any, sample_shape: tuple, name: str) -> tuple[Any, Any]:
    sigma = spec.sigma
    if isinstance(sigma, str):
        rule = get_width_rule(sigma)
        out = rule(X, xp=xp, standardize=spec.standardize, sample_shape=sample_shape, **spec.width_params)
    elif callable(sigma):
        out = sigma(X)
    else:
        out = check_positive(sigma, f"sigma for {name}")
    Z, width = out if isinstance(out, tuple) else (X, out)
    width = width * spec.sigma_scale
    value = to_python_float(width)
    if not (value > 0) or math.isinf(value):
        raise ValueError(f"The kernel width for {name} must be positive and finite; the rule {sigma!r} gave {value!r}.")
    return Z, width


def variable_gram(X: Any, spec: VariableSpec, xp: Any, dtype: Any, name: str,
                  backend: str = "numpy") -> tuple[Any, float | None]:
    """Normalised Gram matrix (eq. 17) of one variable and its resolved width."""
    if spec.kernel == "precomputed":
        K = xp.astype(check_gram(X, name, xp), dtype)
        return _gram.normalize_gram(K, xp), None
    kernel = get_kernel(spec.kernel)
    sample_shape = tuple(X.shape[1:])
    X = xp.astype(check_samples(X, name, xp), dtype)
    check_memory(X.shape[0], 8 if dtype == xp.float64 else 4, X)
    Z, sigma = _resolve_width(X, spec, xp, sample_shape, name)
    if backend == "numba" and kernel is get_kernel("gaussian"):
        from ._engine.numba_kernels import gaussian_gram

        return gaussian_gram(Z, to_python_float(sigma)), to_python_float(sigma)
    K = kernel(_gram.squared_distances(Z, xp), sigma, xp)
    return _gram.normalize_gram(K, xp), to_python_float(sigma)


def estimate_grams(arrays: dict[str, Any], *, kernel: Any = "gaussian", sigma: Any = "tapia",
                   sigma_scale: Any = 1.0, standardize: Any = "feature", width_params: Any = None,
                   dtype: Any = None, backend: str = "auto") -> Estimate:
    """Validate inputs once and build every variable's normalised Gram matrix (concurrently where that pays)."""
    if not arrays:
        raise ValueError("At least one variable is needed; got none.")
    xp, arrays = get_namespace(arrays)
    backend = check_backend(backend, xp)
    dtype = resolve_dtype(xp, dtype)
    specs = variable_specs(len(arrays), kernel=kernel, sigma=sigma, sigma_scale=sigma_scale,
                           standardize=standardize, width_params=width_params)
    for (name, X), spec in zip(arrays.items(), specs):
        if spec.kernel != "precomputed" and getattr(X, "ndim", 1) == 0:
            check_samples(X, name, xp)  # raises the 0-d message before the sample-count check
    check_same_n_samples(arrays)
    items = list(zip(arrays.items(), specs))

    def build(item):
        (name, X), spec = item
        return variable_gram(X, spec, xp, dtype, name, backend)

    mapper = _gram_mapper(arrays, backend)
    built = mapper(build, items) if mapper is not None else [build(item) for item in items]
    return Estimate(xp, [A for A, _ in built], [s for _, s in built])


def entropies(est: Any, tasks: list[tuple[int, ...]], alpha: float, base: float, eigensolver: str) -> list:
    """Entropy of each task's Gram matrix: ``(i,)`` is variable i, ``(i, j, ...)`` their joint (eq. 19).

    Independent NumPy eigensolves run concurrently where measurement showed a win
    (:func:`renyimi._eigen.concurrent_workers`); on a GPU they are stacked into batched calls.
    """
    xp, grams = est.xp, est.grams

    def matrix(task):
        return grams[task[0]] if len(task) == 1 else _gram.hadamard_normalized([grams[k] for k in task], xp)

    if not uses_eigenvalues(alpha):  # exact matrix-product shortcuts: BLAS-3, already multithreaded
        return [renyi_entropy(matrix(t), alpha, xp, base) for t in tasks]
    if _on_gpu(grams[0]):
        lams = _eigen.eigvalsh_batched((matrix(t) for t in tasks), xp)
        return [entropy_from_eigenvalues(lam, alpha, xp, base) for lam in lams]
    if _eigen._is_numpy(xp):
        n = grams[0].shape[0]
        workers = _eigen.concurrent_workers(n, len(tasks))
        if eigensolver == "auto":
            eigensolver = _eigen.auto_solver(n, grams[0].dtype, single_threaded=workers > 1)
        return _eigen.map_concurrent(lambda t: renyi_entropy(matrix(t), alpha, xp, base, solver=eigensolver),
                                     tasks, workers=workers)
    return [renyi_entropy(matrix(t), alpha, xp, base, solver=eigensolver) for t in tasks]


def _gram_mapper(arrays: dict, backend: str) -> Any:
    """Build NumPy Gram matrices concurrently, one BLAS thread each, where eigensolves would be too.

    The NumPy path is single-threaded outside its one GEMM, so one variable per core wins; numba
    kernels are parallel already (and numba's workqueue layer must not be entered concurrently).
    """
    if backend == "numba" or not all(library_name(a) == "numpy" for a in arrays.values()):
        return None
    first = next(iter(arrays.values()))
    workers = _eigen.concurrent_workers(first.shape[0] if first.ndim else 0, len(arrays))
    if workers <= 1:
        return None
    return lambda fn, items: _eigen.map_concurrent(fn, items, workers=workers)


def _on_gpu(A: Any) -> bool:
    library = library_name(A)
    return library == "cupy" or (library == "torch" and A.device.type != "cpu")


def _named(arrays: Sequence[Any], prefix: str = "X") -> dict[str, Any]:
    return {f"{prefix}{i + 1}" if len(arrays) > 1 else prefix: a for i, a in enumerate(arrays)}


def _wrap(value: Any, xp: Any) -> Any:
    return value if getattr(value, "ndim", None) == 0 and not xp.__name__.endswith("numpy") else xp.asarray(value)


def gram_matrix(X: Any, *, kernel: Any = "gaussian", sigma: Any = "tapia", sigma_scale: float = 1.0,
                standardize: Any = "feature", width_params: dict | None = None, dtype: Any = None,
                backend: str = "auto") -> Any:
    r"""Normalised Gram matrix :math:`A_{ij} = K_{ij} / (N\sqrt{K_{ii}K_{jj}})` of eq. 17 (trace 1).

    Parameters
    ----------
    X : array (N, ...) or (N, N) when ``kernel="precomputed"``
        Samples in rows (NumPy, CuPy or PyTorch); extra dimensions are flattened per sample.
    kernel, sigma, sigma_scale, standardize, width_params, dtype, backend
        See :mod:`renyimi` (shared keyword arguments).

    Returns
    -------
    A : array (N, N)
        Symmetric PSD matrix with trace 1, in the library and on the device of ``X``.

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> A = renyimi.gram_matrix(X, sigma=1.0)
    >>> A.shape, round(float(np.trace(A)), 12)
    ((50, 50), 1.0)
    """
    est = estimate_grams({"X": X}, kernel=kernel, sigma=sigma, sigma_scale=sigma_scale,
                         standardize=standardize, width_params=width_params, dtype=dtype, backend=backend)
    return est.grams[0]


def matrix_entropy(X: Any, *, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                   sigma_scale: float = 1.0, base: float = 2, standardize: Any = "feature",
                   width_params: dict | None = None, dtype: Any = None, backend: str = "auto",
                   eigensolver: str = "auto") -> Any:
    r"""Matrix-based Rényi α-entropy of one variable (eq. 18).

    .. math:: S_\alpha(A) = \frac{1}{1-\alpha}\log_b\Big(\sum_{i=1}^N \lambda_i(A)^\alpha\Big)

    with :math:`A` the normalised Gram matrix of ``X`` (eq. 17). Bounded by
    :math:`0 \le S_\alpha \le \log_b N`.

    Parameters
    ----------
    X : array (N, ...)
        Samples in rows; or an (N, N) Gram matrix with ``kernel="precomputed"``.
    alpha, kernel, sigma, sigma_scale, base, standardize, width_params, dtype, backend, eigensolver
        Shared keyword arguments, see :mod:`renyimi`.

    Returns
    -------
    S : 0-d array
        Entropy in units of ``base`` (bits by default), in the library/device of ``X``.

    Raises
    ------
    ValueError, TypeError, MemoryError
        For invalid data or parameters (messages name the parameter and the fix).

    References
    ----------
    .. [1] L. G. Sánchez Giraldo, M. Rao, J. C. Príncipe, IEEE Trans. Inf. Theory 61(1), 2015.

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> X = np.random.default_rng(0).normal(size=(128, 2))
    >>> round(float(renyimi.matrix_entropy(X, sigma=1e-3)), 6)  # sigma -> 0: log2(128)
    7.0
    """
    return joint_entropy(X, alpha=alpha, kernel=kernel, sigma=sigma, sigma_scale=sigma_scale, base=base,
                         standardize=standardize, width_params=width_params, dtype=dtype, backend=backend,
                         eigensolver=eigensolver)


def joint_entropy(*Xs: Any, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                  sigma_scale: Any = 1.0, base: float = 2, standardize: Any = "feature",
                  width_params: Any = None, dtype: Any = None, backend: str = "auto",
                  eigensolver: str = "auto") -> Any:
    r"""Joint matrix-based Rényi entropy of any number of variables (eq. 19).

    .. math:: S_\alpha(A_1,\dots,A_m) =
              S_\alpha\!\left(\frac{A_1\circ\cdots\circ A_m}{\operatorname{tr}(A_1\circ\cdots\circ A_m)}\right)

    Parameters
    ----------
    *Xs : arrays (N, ...)
        One array per variable, same number of samples.
    alpha, kernel, sigma, sigma_scale, base, standardize, width_params, dtype, backend, eigensolver
        Shared keyword arguments; any of the width/kernel settings may be one per variable.

    Returns
    -------
    S : 0-d array
        Joint entropy in units of ``base``.

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> X = np.random.default_rng(0).normal(size=(64, 3))
    >>> bool(abs(renyimi.joint_entropy(X, X, sigma=1.0) - renyimi.matrix_entropy(X, sigma=2**-0.5)) < 1e-9)
    True
    """
    alpha, base = check_alpha(alpha), check_base(base)
    est = estimate_grams(_named(Xs), kernel=kernel, sigma=sigma, sigma_scale=sigma_scale,
                         standardize=standardize, width_params=width_params, dtype=dtype, backend=backend)
    (joint,) = entropies(est, [tuple(range(len(est.grams)))], alpha, base, eigensolver)
    return _wrap(joint, est.xp)


def mutual_information(X: Any, Y: Any, *, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                       sigma_scale: Any = 1.0, base: float = 2, standardize: Any = "feature",
                       width_params: Any = None, dtype: Any = None, backend: str = "auto",
                       eigensolver: str = "auto") -> Any:
    r"""Matrix-based Rényi mutual information (eq. 20).

    .. math:: I_\alpha(A; B) = S_\alpha(A) + S_\alpha(B) - S_\alpha(A, B)

    Not Shannon's MI: its value depends on the kernel width, and the paper's rule
    (``sigma="tapia"``) makes it comparable across scales and dimensions. Symmetric in X and Y.

    Parameters
    ----------
    X, Y : arrays (N, ...)
        Paired samples in rows (same N, same array library).
    alpha, kernel, sigma, sigma_scale, base, standardize, width_params, dtype, backend, eigensolver
        Shared keyword arguments; settings may be a pair ``(for_X, for_Y)``.

    Returns
    -------
    I : 0-d array
        Mutual information in units of ``base``, in ``[0, log_b N]`` up to round-off.

    References
    ----------
    .. [1] N. I. Tapia and P. A. Estévez, "On the information plane of autoencoders", IJCNN 2020.

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(128, 10))
    >>> Y = 0.9 * X + np.sqrt(1 - 0.9**2) * rng.normal(size=X.shape)
    >>> I = renyimi.mutual_information(X, Y, sigma_scale=2.0)
    >>> bool(0.9 < float(I) < 1.3)
    True
    """
    alpha, base = check_alpha(alpha), check_base(base)
    est = estimate_grams({"X": X, "Y": Y}, kernel=kernel, sigma=sigma, sigma_scale=sigma_scale,
                         standardize=standardize, width_params=width_params, dtype=dtype, backend=backend)
    s_x, s_y, s_xy = entropies(est, [(0,), (1,), (0, 1)], alpha, base, eigensolver)
    return _wrap(s_x + s_y - s_xy, est.xp)


def conditional_entropy(X: Any, Y: Any, *, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                        sigma_scale: Any = 1.0, base: float = 2, standardize: Any = "feature",
                        width_params: Any = None, dtype: Any = None, backend: str = "auto",
                        eigensolver: str = "auto") -> Any:
    r"""Conditional entropy :math:`S_\alpha(X \mid Y) = S_\alpha(A, B) - S_\alpha(B)`.

    Parameters
    ----------
    X, Y : arrays (N, ...)
        Paired samples; the entropy of ``X`` left once ``Y`` is known.
    alpha, kernel, sigma, sigma_scale, base, standardize, width_params, dtype, backend, eigensolver
        Shared keyword arguments.

    Returns
    -------
    S : 0-d array
        In units of ``base``.

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> X = np.random.default_rng(0).normal(size=(64, 2))
    >>> bool(abs(float(renyimi.conditional_entropy(X, X, sigma=1.0))) < 1.0)
    True
    """
    alpha, base = check_alpha(alpha), check_base(base)
    est = estimate_grams({"X": X, "Y": Y}, kernel=kernel, sigma=sigma, sigma_scale=sigma_scale,
                         standardize=standardize, width_params=width_params, dtype=dtype, backend=backend)
    s_xy, s_y = entropies(est, [(0, 1), (1,)], alpha, base, eigensolver)
    return _wrap(s_xy - s_y, est.xp)


def total_correlation(*Xs: Any, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                      sigma_scale: Any = 1.0, base: float = 2, standardize: Any = "feature",
                      width_params: Any = None, dtype: Any = None, backend: str = "auto",
                      eigensolver: str = "auto") -> Any:
    r"""Total correlation :math:`\sum_k S_\alpha(A_k) - S_\alpha(A_1, \dots, A_m)`.

    With two variables it equals :func:`mutual_information`.

    Parameters
    ----------
    *Xs : arrays (N, ...)
        Two or more variables with the same number of samples.
    alpha, kernel, sigma, sigma_scale, base, standardize, width_params, dtype, backend, eigensolver
        Shared keyword arguments.

    Returns
    -------
    C : 0-d array
        In units of ``base``.

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(2, 64, 3))
    >>> tc = renyimi.total_correlation(X, Y, sigma=1.0)
    >>> bool(abs(tc - renyimi.mutual_information(X, Y, sigma=1.0)) < 1e-9)
    True
    """
    if len(Xs) < 2:
        raise ValueError(f"total_correlation needs at least 2 variables; got {len(Xs)}.")
    alpha, base = check_alpha(alpha), check_base(base)
    est = estimate_grams(_named(Xs), kernel=kernel, sigma=sigma, sigma_scale=sigma_scale,
                         standardize=standardize, width_params=width_params, dtype=dtype, backend=backend)
    m = len(est.grams)
    *marginals, joint = entropies(est, [(i,) for i in range(m)] + [tuple(range(m))], alpha, base, eigensolver)
    return _wrap(sum(marginals) - joint, est.xp)
