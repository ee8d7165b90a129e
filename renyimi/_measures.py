r"""Matrix-based Rényi entropies and mutual information: the functional API.

Every function resolves its settings and inputs once into a plan (:func:`renyimi._plan.make_plan`),
builds one normalised Gram matrix per variable (eq. 17), and evaluates eq. 18 on it or on the
normalised Hadamard product of several (eq. 19) (:mod:`renyimi._compute`).
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
    at N >= 2048). Measured error against float64: at most 4e-5 bits for alpha >= 1 (N <= 512,
    d = 1 to 784); for alpha < 1 the noise of small eigenvalues is amplified by
    :math:`\lambda^\alpha`: 4e-5 to 2e-4 bits at alpha = 0.8 and up to 1e-2 bits at alpha = 0.5 on
    fast-decaying spectra (d = 1, N = 512). Use float64 for alpha < 1.
backend : {"auto", "numpy", "numba"}, default "auto"
    Gram-matrix engine for NumPy input ("auto" is NumPy, chosen by measurement); torch and CuPy
    arrays always use their own library, on their device.
eigensolver : {"auto", "numpy", "lapack-evd", "scipy-evd", "scipy-evr", "torch"}, default "auto"
    LAPACK route for NumPy input; "auto" picks the fastest measured route per size and dtype
    (see the performance page). torch and CuPy arrays use their library's own ``eigvalsh``.
method : {"auto", "exact", "slq"}, default "auto"
    ``"exact"``: eigenvalues (or the exact matrix-product shortcuts for alpha = 2, 3, 4);
    ``"slq"``: deflated stochastic Lanczos quadrature with a control variate, matrix-free for
    Gaussian kernels (no N x N matrix is stored: N = 100 000 fits in a few GB); ``"auto"``: exact up
    to N = 8192, SLQ above (measured crossover; see the "Large samples" page). SLQ results are not
    differentiable.
random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
    Randomness of ``method="slq"`` (the same seed gives the same result); ignored by exact solves.
method_params : dict, optional
    Accuracy controls of ``method="slq"``: ``rank`` (deflated eigenpairs), ``n_probes`` and
    ``n_lanczos`` (probes and Lanczos steps; the deflation uses the probes' own block Krylov space),
    ``block`` and ``krylov_steps`` (``block > 0``: a separate deflation space of ``block`` x
    (``krylov_steps`` + 1) vectors instead). See the "Large samples" page.
return_stderr : bool, default False
    Also return the estimate's standard error as a Python float (0.0 for exact estimates): the
    result becomes ``(value, stderr)``.

Any of ``kernel``, ``sigma``, ``sigma_scale``, ``standardize`` and ``width_params`` may also be a
tuple or list with one entry per variable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ._compute import as_result, build_grams, entropies
from ._plan import DEFAULTS, make_plan

__all__ = [
    "conditional_entropy",
    "gram_matrix",
    "joint_entropy",
    "matrix_entropy",
    "mutual_information",
    "total_correlation",
]


def _settings(arguments: dict[str, Any]) -> dict[str, Any]:
    """The estimator settings among a public function's arguments (its ``locals()``)."""
    return {k: v for k, v in arguments.items() if k in DEFAULTS or k == "return_stderr"}


def _named(arrays: Sequence[Any]) -> dict[str, Any]:
    return {f"X{i + 1}" if len(arrays) > 1 else "X": a for i, a in enumerate(arrays)}


def _measure(variables: dict[str, Any], settings: dict[str, Any], terms: list[tuple[int, ...]],
             combine: Callable[..., Any]) -> Any:
    """Plan, estimate the entropy terms, and combine them into one 0-d array of the inputs' library.

    ``combine`` is linear in the terms (a sum of entropies with signs +-1), so the standard error of the
    result is the root sum of squares of the terms' errors (independent seeds per term).
    """
    return_stderr = settings.pop("return_stderr", False)
    plan = make_plan(variables, settings)
    values, errors = entropies(plan, build_grams(plan), terms, with_errors=True)
    value = as_result(combine(*values), plan)
    return (value, math.sqrt(sum(e * e for e in errors))) if return_stderr else value


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
    plan = make_plan({"X": X}, {**_settings(locals()), "method": "exact"})  # an explicit matrix, whatever N
    return build_grams(plan).grams[0]


def matrix_entropy(X: Any, *, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                   sigma_scale: float = 1.0, base: float = 2, standardize: Any = "feature",
                   width_params: dict | None = None, dtype: Any = None, backend: str = "auto",
                   eigensolver: str = "auto", method: str = "auto", random_state: Any = None,
                   method_params: dict | None = None, return_stderr: bool = False) -> Any:
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
    method, random_state, method_params, return_stderr
        Estimation method for large N and its error bar (shared keyword arguments); with
        ``return_stderr=True`` the result is ``(value, stderr)``.

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
    return _measure({"X": X}, _settings(locals()), [(0,)], lambda s: s)


def joint_entropy(*Xs: Any, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                  sigma_scale: Any = 1.0, base: float = 2, standardize: Any = "feature",
                  width_params: Any = None, dtype: Any = None, backend: str = "auto",
                  eigensolver: str = "auto", method: str = "auto", random_state: Any = None,
                   method_params: dict | None = None, return_stderr: bool = False) -> Any:
    r"""Joint matrix-based Rényi entropy of any number of variables (eq. 19).

    .. math:: S_\alpha(A_1,\dots,A_m) =
              S_\alpha\!\left(\frac{A_1\circ\cdots\circ A_m}{\operatorname{tr}(A_1\circ\cdots\circ A_m)}\right)

    Parameters
    ----------
    *Xs : arrays (N, ...)
        One array per variable, same number of samples.
    alpha, kernel, sigma, sigma_scale, base, standardize, width_params, dtype, backend, eigensolver
        Shared keyword arguments; any of the width/kernel settings may be one per variable.
    method, random_state, method_params, return_stderr
        Estimation method for large N and its error bar (shared keyword arguments); with
        ``return_stderr=True`` the result is ``(value, stderr)``.

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
    return _measure(_named(Xs), _settings(locals()), [tuple(range(len(Xs)))], lambda s: s)


def mutual_information(X: Any, Y: Any, *, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                       sigma_scale: Any = 1.0, base: float = 2, standardize: Any = "feature",
                       width_params: Any = None, dtype: Any = None, backend: str = "auto",
                       eigensolver: str = "auto", method: str = "auto", random_state: Any = None,
                   method_params: dict | None = None, return_stderr: bool = False) -> Any:
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
    method, random_state, method_params, return_stderr
        Estimation method for large N and its error bar (shared keyword arguments); with
        ``return_stderr=True`` the result is ``(value, stderr)``.

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
    return _measure({"X": X, "Y": Y}, _settings(locals()), [(0,), (1,), (0, 1)],
                    lambda s_x, s_y, s_xy: s_x + s_y - s_xy)


def conditional_entropy(X: Any, Y: Any, *, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                        sigma_scale: Any = 1.0, base: float = 2, standardize: Any = "feature",
                        width_params: Any = None, dtype: Any = None, backend: str = "auto",
                        eigensolver: str = "auto", method: str = "auto", random_state: Any = None,
                   method_params: dict | None = None, return_stderr: bool = False) -> Any:
    r"""Conditional entropy :math:`S_\alpha(X \mid Y) = S_\alpha(A, B) - S_\alpha(B)`.

    Parameters
    ----------
    X, Y : arrays (N, ...)
        Paired samples; the entropy of ``X`` left once ``Y`` is known.
    alpha, kernel, sigma, sigma_scale, base, standardize, width_params, dtype, backend, eigensolver
        Shared keyword arguments.
    method, random_state, method_params, return_stderr
        Estimation method for large N and its error bar (shared keyword arguments); with
        ``return_stderr=True`` the result is ``(value, stderr)``.

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
    return _measure({"X": X, "Y": Y}, _settings(locals()), [(0, 1), (1,)], lambda s_xy, s_y: s_xy - s_y)


def total_correlation(*Xs: Any, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                      sigma_scale: Any = 1.0, base: float = 2, standardize: Any = "feature",
                      width_params: Any = None, dtype: Any = None, backend: str = "auto",
                      eigensolver: str = "auto", method: str = "auto", random_state: Any = None,
                   method_params: dict | None = None, return_stderr: bool = False) -> Any:
    r"""Total correlation :math:`\sum_k S_\alpha(A_k) - S_\alpha(A_1, \dots, A_m)`.

    With two variables it equals :func:`mutual_information`.

    Parameters
    ----------
    *Xs : arrays (N, ...)
        Two or more variables with the same number of samples.
    alpha, kernel, sigma, sigma_scale, base, standardize, width_params, dtype, backend, eigensolver
        Shared keyword arguments.
    method, random_state, method_params, return_stderr
        Estimation method for large N and its error bar (shared keyword arguments); with
        ``return_stderr=True`` the result is ``(value, stderr)``.

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
    m = len(Xs)
    return _measure(_named(Xs), _settings(locals()), [*((i,) for i in range(m)), tuple(range(m))],
                    lambda *s: sum(s[:-1]) - s[-1])
