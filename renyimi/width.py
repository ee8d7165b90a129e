r"""Kernel-width (:math:`\sigma`) rules and their registry.

A width rule maps an (N, d) sample array to the width of the kernel
:math:`\exp(-\lVert x-y\rVert^2/(2\sigma^2))`.  Rules that standardise the data first (``tapia``,
``silverman``, ``scott``) also return the standardised array, so a rule has the signature::

    rule(X, *, xp, **params) -> sigma  or  (X_transformed, sigma)

and the width used is ``sigma_scale`` times the rule's ``sigma`` (so ``sigma_scale`` is the paper's
:math:`\gamma`). ``params`` holds ``standardize``, ``epsilon``, ``sample_shape`` (the per-sample shape before
flattening) and anything the user passes in ``width_params``; rules ignore what they do not use.

=================  =============================================================================  ============
rule               :math:`\sigma` (``s`` = ``sigma_scale``, ``d`` features, ``N`` samples)        standardises
=================  =============================================================================  ============
``"tapia"``        :math:`s\,\sqrt{d}\,N^{-1/(4+d)}`  (eqs. 29-30)                                yes
``"yu"``           :math:`s\,N^{-1/(4+d)}`  (eq. 27)                                              no
``"silverman"``    :math:`s\,(4/(2+d))^{1/(4+d)}\,N^{-1/(4+d)}`  (eq. 26)                         yes
``"scott"``        :math:`s\,N^{-1/(4+d)}`                                                        yes
``"median"``       :math:`s\cdot\operatorname{median}_{i<j}\lVert x_i-x_j\rVert`                  no
``"knn"``          :math:`s\cdot\frac1N\sum_i \lVert x_i - x_{i,(k)}\rVert` (``k``-th neighbour)  no
=================  =============================================================================  ============

Sources: ``"tapia"`` [1]_, ``"yu"`` [2]_, ``"silverman"`` [3]_, ``"knn"`` [4]_.

Standardising divides every feature by :math:`\sqrt{\hat\sigma_j^2+\varepsilon}` (eq. 29), which makes
the estimate invariant to rescaling each feature; ``standardize`` chooses whose statistics are
pooled: ``"feature"`` (each feature alone, the paper's eq. 29), ``"pooled"`` (all features share one
scale: all pixels of a grey image), ``"channel"`` (the first axis of each sample, e.g. C of
(N, C, H, W) conv feature maps), an integer group label per flattened feature, or ``None``.
Pooled statistics follow batch normalisation: mean and variance over the samples and every feature
of the group.

References
----------
.. [1] N. I. Tapia and P. A. Estévez, "On the information plane of autoencoders", IJCNN 2020.
.. [2] S. Yu, J. C. Príncipe, "Understanding autoencoders with information theoretic concepts",
   Neural Networks 117, 2019.
.. [3] B. W. Silverman, "Density estimation for statistics and data analysis", 1986.
.. [4] K. Wickstrøm, S. Løkse, M. Kampffmeyer, S. Yu, J. Príncipe, R. Jenssen, "Information plane
   analysis of deep neural networks via matrix-based Rényi's entropy and tensor kernels", 2019.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._engine.arrays import device as _device
from ._registry import Registry

__all__ = ["available_width_rules", "get_width_rule", "register_width_rule", "standardize_features"]

WidthRule = Callable[..., Any]
_RULES: Registry[WidthRule] = Registry(
    "width rule", "Unknown width rule sigma={name!r}", "or pass a positive number or a callable"
)
#: Values of ``standardize`` other than integer group labels.
STANDARDIZE_OPTIONS = ("feature", "pooled", "channel", None)


def register_width_rule(name: str, rule: WidthRule, *, overwrite: bool = False) -> WidthRule:
    """Add a width rule so that ``sigma=name`` selects it everywhere.

    Parameters
    ----------
    name : str
        Registry key.
    rule : callable
        ``rule(X, *, xp, **params)`` returning a positive width for ``X`` (N, d), or a tuple
        ``(X_transformed, sigma)`` when the rule rescales the data first; ``sigma_scale`` multiplies
        the width afterwards. It must accept (and may ignore) extra keyword arguments.
    overwrite : bool, default False
        Replace an existing rule instead of raising.

    Returns
    -------
    callable
        ``rule``.

    Raises
    ------
    ValueError
        If ``name`` is already registered and ``overwrite`` is False.

    Examples
    --------
    >>> import renyimi
    >>> def unit(X, *, xp, **params):
    ...     return 1.0
    >>> _ = renyimi.register_width_rule("unit", unit)
    >>> "unit" in renyimi.available_width_rules()
    True
    """
    return _RULES.register(name, rule, overwrite=overwrite)


def available_width_rules() -> tuple[str, ...]:
    """Names of the width rules accepted by ``sigma=`` in every estimator.

    Returns
    -------
    tuple of str
        The built-in rules (``"tapia"``, ``"yu"``, ``"silverman"``, ``"scott"``, ``"median"``,
        ``"knn"``; see :doc:`/kernel_width`) and any added with :func:`register_width_rule`.

    Examples
    --------
    >>> from renyimi.width import available_width_rules
    >>> {"tapia", "yu", "median"} <= set(available_width_rules())
    True
    """
    return _RULES.names()


def get_width_rule(name: str) -> WidthRule:
    """The width rule registered under a name.

    Parameters
    ----------
    name : str
        A name from :func:`available_width_rules`.

    Returns
    -------
    callable
        ``rule(X, *, xp, **params)``: the width for samples ``X`` of shape (N, d) (before
        ``sigma_scale``), or ``(X_transformed, width)`` for rules that standardise the data first.

    Raises
    ------
    ValueError
        If the name is not registered; the message lists the registered names.

    Examples
    --------
    Yu & Príncipe's rule :math:`N^{-1/(4+d)}`, for :math:`N = 16` samples of dimension :math:`d = 4`:

    >>> import numpy as np
    >>> from renyimi.width import get_width_rule
    >>> float(get_width_rule("yu")(np.zeros((16, 4)), xp=np))
    0.7071067811865476
    """
    return _RULES.get(name)


def standardize_features(X: Any, xp: Any, standardize: Any = "feature", *, epsilon: float = 1e-8,
                         sample_shape: tuple[int, ...] | None = None) -> Any:
    r"""Divide each feature of ``X`` (N, d) by :math:`\sqrt{\hat\sigma^2 + \varepsilon}` (eq. 29).

    Variances are population variances (``ddof=0``) over the samples (and, when pooled, over the
    features of a group). ``standardize`` is described in the module docstring. Constant features
    map to zero instead of NaN thanks to :math:`\varepsilon`.
    """
    if standardize is None:
        return X
    n, d = X.shape
    if isinstance(standardize, str) and standardize == "feature":
        var = xp.mean((X - xp.mean(X, axis=0)) ** 2, axis=0)
        return X / xp.sqrt(var + epsilon)
    groups = _feature_groups(standardize, d, sample_shape)
    scales = []
    for cols in groups:
        block = X if len(cols) == d else xp.take(X, xp.asarray(cols, device=_device(X)), axis=1)
        var = xp.mean((block - xp.mean(block)) ** 2)
        scales.append((cols, xp.sqrt(var + epsilon)))
    if len(scales) == 1:
        return X / scales[0][1]
    index = [0] * d
    for g, (cols, _) in enumerate(scales):
        for c in cols:
            index[c] = g
    per_group = xp.stack([s for _, s in scales])
    return X / xp.take(per_group, xp.asarray(index, device=_device(X)))


def _feature_groups(standardize: Any, d: int, sample_shape: tuple[int, ...] | None) -> list[list[int]]:
    if isinstance(standardize, str):
        if standardize == "pooled":
            return [list(range(d))]
        if standardize == "channel":
            if sample_shape is None or len(sample_shape) < 2:
                raise ValueError(
                    "standardize='channel' needs samples with a channel axis, e.g. X of shape "
                    f"(N, C, H, W); got per-sample shape {sample_shape}. Use 'feature' or 'pooled'."
                )
            per_channel = d // sample_shape[0]
            return [list(range(c * per_channel, (c + 1) * per_channel)) for c in range(sample_shape[0])]
        raise ValueError(
            f"standardize must be one of {STANDARDIZE_OPTIONS} or one integer group label per feature; "
            f"got standardize={standardize!r}."
        )
    labels = [int(g) for g in standardize]
    if len(labels) != d:
        raise ValueError(
            f"standardize as group labels needs one label per flattened feature ({d}); got {len(labels)}."
        )
    groups: dict[int, list[int]] = {}
    for j, g in enumerate(labels):
        groups.setdefault(g, []).append(j)
    return list(groups.values())


def _bandwidth_power(n: int, d: int) -> float:
    return n ** (-1.0 / (4 + d))


def tapia_rule(X: Any, *, xp: Any, standardize: Any = "feature",
               epsilon: float = 1e-8, sample_shape: tuple[int, ...] | None = None, **_: Any) -> tuple[Any, float]:
    r"""Tapia & Estévez (2020): standardise (eq. 29), then :math:`\sigma = s\sqrt d\,N^{-1/(4+d)}` (eq. 30)."""
    n, d = X.shape
    Z = standardize_features(X, xp, standardize, epsilon=epsilon, sample_shape=sample_shape)
    return Z, math.sqrt(d) * _bandwidth_power(n, d)


def yu_rule(X: Any, *, xp: Any, **_: Any) -> float:
    r"""Yu & Príncipe (2019): :math:`\sigma = s\,N^{-1/(4+d)}` on the raw data (eq. 27)."""
    n, d = X.shape
    return _bandwidth_power(n, d)


def silverman_rule(X: Any, *, xp: Any, standardize: Any = "feature",
                   epsilon: float = 1e-8, sample_shape: tuple[int, ...] | None = None, **_: Any) -> tuple[Any, float]:
    r"""Silverman (eq. 26): per-feature :math:`\sigma_j = (4/(2+d))^{1/(4+d)}\hat\sigma_j N^{-1/(4+d)}`."""
    n, d = X.shape
    Z = standardize_features(X, xp, standardize, epsilon=epsilon, sample_shape=sample_shape)
    return Z, (4.0 / (2 + d)) ** (1.0 / (4 + d)) * _bandwidth_power(n, d)


def scott_rule(X: Any, *, xp: Any, standardize: Any = "feature",
               epsilon: float = 1e-8, sample_shape: tuple[int, ...] | None = None, **_: Any) -> tuple[Any, float]:
    r"""Scott: per-feature :math:`\sigma_j = \hat\sigma_j N^{-1/(4+d)}`."""
    n, d = X.shape
    Z = standardize_features(X, xp, standardize, epsilon=epsilon, sample_shape=sample_shape)
    return Z, _bandwidth_power(n, d)


def _distances(X: Any, xp: Any) -> Any:
    from ._engine.gram import squared_distances

    return xp.sqrt(squared_distances(X, xp))


def median_rule(X: Any, *, xp: Any, **_: Any) -> Any:
    r"""Median heuristic: :math:`\sigma = s\cdot\operatorname{median}_{i<j}\lVert x_i - x_j\rVert`."""
    n = X.shape[0]
    dist = _distances(X, xp)
    i = xp.arange(n, device=_device(X))
    upper = dist[i[:, None] < i[None, :]]
    values = xp.sort(upper)
    m = values.shape[0]
    median = (values[(m - 1) // 2] + values[m // 2]) / 2
    return _positive_width(median, "median", xp)


def knn_rule(X: Any, *, xp: Any, k: int = 10, **_: Any) -> Any:
    r"""Mean distance to the ``k``-th nearest neighbour, self excluded (Wickstrøm et al. 2019)."""
    n = X.shape[0]
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"width_params['k'] must be a positive integer; got k={k!r}.")
    k = min(k, n - 1)
    dist = xp.sort(_distances(X, xp), axis=1)
    return _positive_width(xp.mean(dist[:, k]), "knn", xp)


def _positive_width(sigma: Any, rule: str, xp: Any) -> Any:
    if not bool(sigma > 0):
        raise ValueError(
            f"The {rule!r} width rule gave sigma=0: too many samples coincide. Use sigma='tapia' or a fixed width."
        )
    return sigma


register_width_rule("tapia", tapia_rule)
register_width_rule("yu", yu_rule)
register_width_rule("silverman", silverman_rule)
register_width_rule("scott", scott_rule)
register_width_rule("median", median_rule)
register_width_rule("knn", knn_rule)
