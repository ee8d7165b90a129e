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

Standardising divides every feature by its standard deviation :math:`\hat\sigma_j` (eq. 29; the
paper's floor :math:`\varepsilon` is 0 by default, ``width_params={"epsilon": 1e-8}`` restores it), which
makes the estimate invariant to rescaling each feature by any non-zero factor; constant features (dead
units) become 0 and are not counted in :math:`d`; ``standardize`` chooses whose statistics are
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


def standardize_features(X: Any, xp: Any, standardize: Any = "feature", *, epsilon: float = 0.0,
                         sample_shape: tuple[int, ...] | None = None) -> Any:
    r"""Standardise the features of ``X`` (eq. 29 of Tapia & Estévez 2020): centre, divide by the std.

    .. math:: x_j \leftarrow \frac{x_j - \bar x_j}{\sqrt{\hat\sigma_j^2 + \varepsilon}}

    Means and variances (population, ``ddof=0``) are over the samples and, when ``standardize`` pools
    them, over every feature of a group (as batch normalisation does). Centering changes no distance
    but keeps large offsets from costing precision; the standard deviation is computed scaled by the
    largest deviation, so features of size 1e-300 or 1e300 standardise exactly like features of size 1.

    Parameters
    ----------
    X : array (N, d)
        Samples in rows (NumPy, CuPy or torch; differentiable with torch).
    xp : module
        Array namespace of ``X``.
    standardize : {"feature", "pooled", "channel"}, sequence of int, or None, default "feature"
        Whose statistics are pooled: each feature alone (the paper's eq. 29), all features together
        (``"pooled"``: all pixels of a grey image), the first per-sample axis (``"channel"``: C of
        (N, C, H, W) feature maps; needs ``sample_shape``), or one integer group label per feature.
        None returns ``X`` unchanged.
    epsilon : float, default 0
        Variance floor :math:`\varepsilon`. The default 0 standardises exactly, so the result is the
        same for any rescaling of a feature (or group) by a non-zero factor, however small. The paper's
        :math:`\varepsilon = 10^{-8}` breaks that invariance once standard deviations fall below about
        :math:`10^{-3}`; pass it to reproduce the literal eq. 29.
    sample_shape : tuple of int, optional
        Per-sample shape before flattening, for ``standardize="channel"``.

    Returns
    -------
    Z : array (N, d)
        Standardised samples. A *constant* feature or group (all its values equal: a dead unit, an
        image border that is always black) carries no information about which sample is which, so it
        becomes exactly 0 (never NaN), and the width rules do not count it in :math:`d`.

    Examples
    --------
    >>> import numpy as np
    >>> from renyimi.width import standardize_features
    >>> X = np.array([[1.0, 5.0, 0.0], [3.0, 5.0, 1e-9], [5.0, 5.0, 2e-9]])
    >>> standardize_features(X, np).round(6)  # the constant middle column becomes 0
    array([[-1.224745,  0.      , -1.224745],
           [ 0.      ,  0.      ,  0.      ],
           [ 1.224745,  0.      ,  1.224745]])
    """
    return _standardize(X, xp, standardize, epsilon, sample_shape)[0]


def _standardize(X: Any, xp: Any, standardize: Any, epsilon: float,
                 sample_shape: tuple[int, ...] | None) -> tuple[Any, int]:
    """Standardised ``X`` and the number of features that are not constant (``d`` of the width rules)."""
    n, d = X.shape
    if standardize is None:
        return X, d
    if isinstance(standardize, str) and standardize == "feature":
        centred = X - xp.mean(X, axis=0)
        live = xp.max(X, axis=0) > xp.min(X, axis=0)
        n_live = int(xp.sum(xp.astype(live, xp.int64)))
        peak = xp.where(live, xp.max(xp.abs(centred), axis=0), 1.0)
        mean_square = xp.where(live, xp.mean((centred / peak) ** 2, axis=0), 1.0)
        return xp.where(live, _divide_by_std(centred, peak, mean_square, epsilon, xp), 0.0), n_live
    groups = _feature_groups(standardize, d, sample_shape)
    index = [0] * d
    means, peaks, mean_squares, live, n_live = [], [], [], [], 0
    one = xp.asarray(1.0, dtype=X.dtype, device=_device(X))
    for g, cols in enumerate(groups):
        block = X if len(cols) == d else xp.take(X, xp.asarray(cols, device=_device(X)), axis=1)
        alive = bool(xp.max(block) > xp.min(block))
        means.append(xp.mean(block))
        block = block - means[-1]
        peak = xp.max(xp.abs(block)) if alive else one
        peaks.append(peak)
        mean_squares.append(xp.mean((block / peak) ** 2) if alive else one)
        live.append(alive)
        n_live += len(cols) if alive else 0
        for c in cols:
            index[c] = g
    where = xp.asarray(index, device=_device(X))
    peak, mean_square = xp.take(xp.stack(peaks), where), xp.take(xp.stack(mean_squares), where)
    alive_feature = xp.asarray([live[g] for g in index], device=_device(X))
    centred = X - xp.take(xp.stack(means), where)
    return xp.where(alive_feature, _divide_by_std(centred, peak, mean_square, epsilon, xp), 0.0), n_live


def _divide_by_std(centred: Any, peak: Any, mean_square: Any, epsilon: float, xp: Any) -> Any:
    r"""``centred`` divided by :math:`\sqrt{\hat\sigma^2 + \varepsilon}`, computed without under- or overflow.

    :math:`\hat\sigma = p\sqrt{\overline{(c/p)^2}}` with :math:`p = \max|c|`, so features of size 1e-300 or
    1e300 standardise as well as features of size 1.
    """
    if epsilon == 0:
        return (centred / peak) / xp.sqrt(mean_square)
    return centred / xp.hypot(peak * xp.sqrt(mean_square), xp.asarray(math.sqrt(epsilon), dtype=centred.dtype))


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
               epsilon: float = 0.0, sample_shape: tuple[int, ...] | None = None, **_: Any) -> tuple[Any, float]:
    r"""Tapia & Estévez (2020): standardise (eq. 29), then :math:`\sigma = \sqrt d\,N^{-1/(4+d)}` (eq. 30).

    The width that is used is ``sigma_scale`` (the paper's :math:`\gamma`) times this value.

    Parameters
    ----------
    X : array (N, d)
        Samples in rows.
    xp : module
        Array namespace of ``X``.
    standardize : str, sequence of int or None, default "feature"
        Statistics pooled by the standardisation, see :func:`standardize_features`.
    epsilon : float, default 0
        Variance floor of eq. 29 (see :func:`standardize_features`).
    sample_shape : tuple of int, optional
        Per-sample shape before flattening (for ``standardize="channel"``).

    Returns
    -------
    Z : array (N, d)
        The standardised samples.
    sigma : float
        :math:`\sqrt{d}\,N^{-1/(4+d)}`, where :math:`d` counts the features that are not constant:
        a constant feature (a dead unit) adds nothing to any distance, so it must not widen the
        kernel either. The rule of eq. 30 comes from :math:`\mathbb E\lVert x - y\rVert^2 = 2d` for
        :math:`d` standardised features; constant ones contribute 0 to it. With pooled statistics
        (``"pooled"``, ``"channel"``) a constant feature inside a varying group still counts, because
        the pooled variance averages over it. If every feature is constant all samples coincide, every
        width gives the same Gram matrix, and 1 is returned.

    Examples
    --------
    >>> import numpy as np
    >>> from renyimi.width import tapia_rule
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> _, s3 = tapia_rule(X, xp=np)
    >>> _, s4 = tapia_rule(np.c_[X, np.zeros(100)], xp=np)  # a dead unit changes nothing
    >>> bool(s3 == s4), bool(np.isclose(s3, np.sqrt(3) * 100 ** (-1 / 7)))
    (True, True)
    """
    n = X.shape[0]
    Z, d = _standardize(X, xp, standardize, epsilon, sample_shape)
    return Z, (math.sqrt(d) * _bandwidth_power(n, d) if d else 1.0)


def yu_rule(X: Any, *, xp: Any, **_: Any) -> float:
    r"""Yu & Príncipe (2019): :math:`\sigma = s\,N^{-1/(4+d)}` on the raw data (eq. 27)."""
    n, d = X.shape
    return _bandwidth_power(n, d)


def silverman_rule(X: Any, *, xp: Any, standardize: Any = "feature",
                   epsilon: float = 0.0, sample_shape: tuple[int, ...] | None = None, **_: Any) -> tuple[Any, float]:
    r"""Silverman (eq. 26): per-feature :math:`\sigma_j = (4/(2+d))^{1/(4+d)}\hat\sigma_j N^{-1/(4+d)}`."""
    n = X.shape[0]
    Z, d = _standardize(X, xp, standardize, epsilon, sample_shape)  # d: non-constant features, as in tapia_rule
    return Z, (4.0 / (2 + d)) ** (1.0 / (4 + d)) * _bandwidth_power(n, d)


def scott_rule(X: Any, *, xp: Any, standardize: Any = "feature",
               epsilon: float = 0.0, sample_shape: tuple[int, ...] | None = None, **_: Any) -> tuple[Any, float]:
    r"""Scott: per-feature :math:`\sigma_j = \hat\sigma_j N^{-1/(4+d)}`."""
    n = X.shape[0]
    Z, d = _standardize(X, xp, standardize, epsilon, sample_shape)  # d: non-constant features, as in tapia_rule
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
