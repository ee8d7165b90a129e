"""scikit-learn-style estimator around the functional API."""

from __future__ import annotations

import inspect
import math
import numbers
from typing import Any

from ._compute import build_grams, entropies
from ._engine.arrays import to_python_float
from ._plan import DEFAULTS, make_plan
from ._validation import check_base

__all__ = ["MatrixMI"]


class MatrixMI:
    r"""Matrix-based Rényi mutual information :math:`I_\alpha(X;Y)` as a scikit-learn-style estimator.

    ``__init__`` only stores its parameters; :meth:`fit` validates them, computes the estimate and
    stores Python floats in attributes ending with an underscore.

    Parameters
    ----------
    alpha : float, default 1.01
        Rényi order (> 0); 1 is the von Neumann limit.
    kernel : str, callable or pair, default "gaussian"
        :math:`\exp(-\lVert x-y\rVert^2/(2\sigma^2))`, ``"laplacian"``, a registered kernel or
        ``"precomputed"`` (pass (N, N) Gram matrices to :meth:`fit`).
    sigma : float, str, callable or pair, default "tapia"
        Kernel width or width rule (:mod:`renyimi.width`); a pair gives one per variable.
    sigma_scale : float or pair, default 1.0
        Multiplier of the width (the paper's :math:`\gamma`; 0.8-2 are typical for ``"tapia"``).
    base : float, default 2
        Logarithm base (2: bits, ``math.e``: nats).
    standardize : str, labels, None or pair, default "feature"
        Statistics of the standardising width rules (``"feature"``, ``"pooled"``, ``"channel"``).
    width_params : dict, optional
        Extra width-rule parameters, e.g. ``{"k": 10}`` for ``"knn"``.
    dtype : {None, "float64", "float32"}, default None
        Working precision (None: float64).
    backend : {"auto", "numpy", "numba"}, default "auto"
        Gram-matrix engine for NumPy input; other libraries always use their own.
    eigensolver : {"auto", "numpy", "lapack-evd", "scipy-evd", "scipy-evr", "torch"}, default "auto"
        Eigenvalue routine for NumPy input (see :func:`renyimi.mutual_information`).
    method : {"auto", "exact", "slq"}, default "auto"
        Exact eigenvalues, or deflated stochastic Lanczos quadrature (matrix-free for Gaussian
        kernels); ``"auto"`` is exact up to N = 8192 (see :func:`renyimi.mutual_information`).
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Randomness of ``method="slq"``.
    method_params : dict, optional
        Accuracy controls of ``method="slq"`` (``rank``, ``n_probes``, ``n_lanczos``, and ``block``,
        ``krylov_steps`` for a separate deflation space; see the "Large samples" page).
    n_permutations : int, default 0
        If positive, :meth:`fit` also runs a permutation test of independence with this many
        permutations of Y (drawn from ``random_state``), as :func:`renyimi.independence_test` does:
        only the joint entropy is recomputed per permutation. Needs exact estimates.

    Attributes
    ----------
    mi_ : float
        :math:`I_\alpha(X;Y) = S_\alpha(A) + S_\alpha(B) - S_\alpha(A,B)` (eq. 20), in units of ``base``.
    entropy_x_, entropy_y_ : float
        Marginal entropies :math:`S_\alpha(A)`, :math:`S_\alpha(B)` (eq. 18).
    joint_entropy_ : float
        :math:`S_\alpha(A, B)` (eq. 19).
    sigma_x_, sigma_y_ : float or None
        Resolved kernel widths (in standardised units for standardising rules; None when
        precomputed).
    n_samples_ : int
        Number of samples N; the estimates lie in :math:`[0, \log_b N]`.
    method_ : str
        The method used, ``"exact"`` or ``"slq"`` (``method="auto"`` resolved for this N).
    pvalue_ : float
        With ``n_permutations > 0``: the permutation p-value :math:`(1 + \#\{I_\pi \ge I\})/(1 + B)`.
    null_mean_, null_std_ : float
        With ``n_permutations > 0``: mean and standard deviation of the MI under independence
        (permuted Y), in units of ``base``.
    mi_corrected_ : float
        With ``n_permutations > 0``: ``mi_ - null_mean_``, the MI above what independent variables of
        the same marginals reach at this N and width (bias-corrected MI).
    mi_stderr_, entropy_x_stderr_, entropy_y_stderr_, joint_entropy_stderr_ : float
        Standard errors of the estimates (0.0 when exact; with ``"slq"`` from the spread over probes
        and the Lanczos truncation, see the "Large samples" page). The MI's combines the three
        entropies' independent errors.

    Examples
    --------
    >>> import numpy as np
    >>> from renyimi import MatrixMI
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(128, 10))
    >>> Y = 0.9 * X + np.sqrt(1 - 0.81) * rng.normal(size=X.shape)
    >>> est = MatrixMI(sigma_scale=2.0).fit(X, Y)
    >>> bool(0 <= est.mi_ <= min(est.entropy_x_, est.entropy_y_))
    True
    """

    def __init__(self, *, alpha: float = 1.01, kernel: Any = "gaussian", sigma: Any = "tapia",
                 sigma_scale: Any = 1.0, base: float = 2, standardize: Any = "feature",
                 width_params: dict | None = None, dtype: Any = None, backend: str = "auto",
                 eigensolver: str = "auto", method: str = "auto", random_state: Any = None,
                 method_params: dict | None = None, n_permutations: int = 0) -> None:
        self.alpha = alpha
        self.kernel = kernel
        self.sigma = sigma
        self.sigma_scale = sigma_scale
        self.base = base
        self.standardize = standardize
        self.width_params = width_params
        self.dtype = dtype
        self.backend = backend
        self.eigensolver = eigensolver
        self.method = method
        self.random_state = random_state
        self.method_params = method_params
        self.n_permutations = n_permutations

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of this estimator (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> MatrixMI:
        """Set parameters by name; unknown names raise ValueError listing the valid ones."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for MatrixMI; valid parameters are {valid}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if v is not defaults[k] and v != defaults[k]]
        return f"MatrixMI({', '.join(changed)})"

    def fit(self, X: Any, Y: Any) -> MatrixMI:
        """Estimate :math:`I_\\alpha(X;Y)` and the entropies from paired samples.

        Parameters
        ----------
        X, Y : arrays (N, ...)
            NumPy, CuPy or PyTorch arrays with the same number of samples (or (N, N) Gram
            matrices with ``kernel="precomputed"``).

        Returns
        -------
        self : MatrixMI
        """
        b = self.n_permutations  # checked before any work is done
        if isinstance(b, bool) or not isinstance(b, numbers.Integral) or b < 0:
            raise ValueError(f"n_permutations must be a non-negative integer (0: no test); got n_permutations={b!r}.")
        plan = make_plan({"X": X, "Y": Y}, {k: v for k, v in self.get_params().items() if k in DEFAULTS})
        grams = build_grams(plan)
        values, errors = entropies(plan, grams, [(0,), (1,), (0, 1)], with_errors=True)
        s_x, s_y, s_xy = (to_python_float(v) for v in values)
        self.entropy_x_stderr_, self.entropy_y_stderr_, self.joint_entropy_stderr_ = errors
        self.mi_stderr_ = math.sqrt(sum(e * e for e in errors))
        self.method_ = plan.method
        self.entropy_x_, self.entropy_y_, self.joint_entropy_ = s_x, s_y, s_xy
        self.mi_ = s_x + s_y - s_xy
        self.sigma_x_, self.sigma_y_ = grams.sigmas
        self.n_samples_ = plan.n_samples
        if self.n_permutations:
            self._permutation_test(plan, grams)
        return self

    def _permutation_test(self, plan: Any, grams: Any) -> None:
        from ._engine.permutation import draw_permutations, permutation_pvalue
        from .stats import _null_joint_entropies

        b = self.n_permutations
        if plan.method != "exact":
            raise ValueError("n_permutations needs exact Gram matrices, but method resolved to 'slq' for "
                             f"n_samples={plan.n_samples}; pass method='exact' or use fewer samples.")
        A, B = grams.grams
        perms = draw_permutations(plan.n_samples, int(b), plan.seed.spawn(1)[0])
        joint = _null_joint_entropies(A, B, perms, plan.alpha, plan.context.xp, plan.base, plan.eigensolver, None)
        null = self.entropy_x_ + self.entropy_y_ - joint
        self.pvalue_ = permutation_pvalue(self.mi_, null)
        self.null_mean_, self.null_std_ = float(null.mean()), float(null.std(ddof=1)) if b > 1 else 0.0
        self.mi_corrected_ = self.mi_ - self.null_mean_

    @property
    def max_value_(self) -> float:
        """Upper bound :math:`\\log_b N` of every estimate (saturation level)."""
        return math.log(self.n_samples_) / math.log(check_base(self.base))
