r"""Mutual information between many pairs of variables, with every shared quantity computed once.

An information-plane point needs :math:`I(X;T)` and :math:`I(T;Y)` for every layer :math:`T`.
Computed pair by pair, each call rebuilds both Gram matrices and solves three eigenproblems;
here every variable's Gram matrix (eq. 17) and entropy (eq. 18) is computed once, and only the
joint entropy (eq. 19) is per pair:

.. math:: I_\alpha(A_a; A_b) = S_\alpha(A_a) + S_\alpha(A_b)
          - S_\alpha\!\left(\frac{A_a \circ A_b}{\operatorname{tr}(A_a \circ A_b)}\right)

so :math:`m` variables and :math:`p` pairs cost :math:`m + p` eigensolves instead of :math:`3p`.
Independent NumPy eigensolves run concurrently where that was measured to beat LAPACK's own
threading (:func:`renyimi._eigen.concurrent_workers`); on a GPU they are stacked into batched
calls. The exact :math:`\alpha = 2` and integer-order shortcuts apply as everywhere else.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping
from typing import Any

from ._engine import eigen as _eigen
from ._functional import _is_per_variable, _wrap, entropies, estimate_grams
from ._validation import check_alpha, check_base

__all__ = ["VARIABLE_SETTINGS", "pairwise_mutual_information"]

#: Settings that may differ between variables (keys of ``overrides``); the others are shared.
VARIABLE_SETTINGS = ("kernel", "sigma", "sigma_scale", "standardize", "width_params")


def pairwise_mutual_information(variables: Mapping[Hashable, Any], pairs: Any = None, *,
                                overrides: Mapping[Hashable, Mapping[str, Any]] | None = None,
                                return_entropies: bool = False, alpha: float = 1.01,
                                kernel: Any = "gaussian", sigma: Any = "tapia", sigma_scale: Any = 1.0,
                                base: float = 2, standardize: Any = "feature", width_params: Any = None,
                                dtype: Any = None, backend: str = "auto", eigensolver: str = "auto") -> Any:
    r"""Matrix-based Rényi mutual information (eq. 20) of many pairs, sharing each variable's work.

    Parameters
    ----------
    variables : mapping of name to array (N, ...)
        The variables, all with the same N samples in rows and from the same array library
        (NumPy, CuPy or PyTorch); names are any hashable labels (layer names, say).
    pairs : sequence of (name, name), optional
        Pairs to estimate; by default every unordered pair of distinct variables, in the order of
        ``variables``. A pair may repeat a name: :math:`I(X;X)`, as :func:`renyimi.mutual_information`
        computes it.
    overrides : mapping of name to dict, optional
        Per-variable settings that replace the shared ones for that variable, among
        ``"kernel"``, ``"sigma"``, ``"sigma_scale"``, ``"standardize"`` and ``"width_params"``;
        e.g. ``{"bottleneck": {"sigma_scale": 25}}``.
    return_entropies : bool, default False
        Also return every variable's entropy :math:`S_\alpha(A)`.
    alpha, kernel, sigma, sigma_scale, base, standardize, width_params, dtype, backend, eigensolver
        Shared keyword arguments of :func:`renyimi.mutual_information`; the width settings may
        also be a tuple with one entry per variable, in the order of ``variables``.

    Returns
    -------
    mi : dict of (name, name) to 0-d array
        :math:`I_\alpha` of each pair, in units of ``base`` (bits by default), keyed by the pairs as
        given (tuples); 0-d arrays of the inputs' library and device (differentiable with torch).
    entropies : dict of name to 0-d array
        Only with ``return_entropies=True``: :math:`S_\alpha` of every variable in ``variables``.

    Raises
    ------
    ValueError, TypeError
        For unknown names in ``pairs`` or ``overrides``, unknown settings, or invalid data or
        parameters (the same checks as :func:`renyimi.mutual_information`).

    Notes
    -----
    Each value equals ``renyimi.mutual_information(variables[a], variables[b], ...)`` with the same
    settings (per-variable overrides included) up to floating-point round-off: each variable's
    kernel width depends on that variable alone. :math:`m` variables in :math:`p` pairs cost
    :math:`m` Gram matrices and :math:`m + p` entropies instead of :math:`2p` and :math:`3p`.

    References
    ----------
    .. [1] L. G. Sánchez Giraldo, M. Rao, J. C. Príncipe, IEEE Trans. Inf. Theory 61(1), 2015.
    .. [2] A. Tapia, P. A. Estévez, "On the information plane of autoencoders", IJCNN 2020.

    Examples
    --------
    >>> import numpy as np, renyimi
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(128, 5))
    >>> layers = {"X": X, "T1": np.tanh(X @ rng.normal(size=(5, 8))), "T2": rng.normal(size=(128, 2))}
    >>> mi = renyimi.pairwise_mutual_information(layers, [("X", "T1"), ("X", "T2")],
    ...                                          overrides={"T2": {"sigma_scale": 2.0}})
    >>> single = renyimi.mutual_information(X, layers["T2"], sigma_scale=(1.0, 2.0))
    >>> bool(abs(mi["X", "T2"] - single) < 1e-9)
    True
    """
    alpha, base = check_alpha(alpha), check_base(base)
    if eigensolver not in _eigen.SOLVERS:
        raise ValueError(f"eigensolver must be one of {', '.join(map(repr, _eigen.SOLVERS))}; "
                         f"got eigensolver={eigensolver!r}.")
    names = _check_variables(variables)
    pairs = _check_pairs(pairs, names)
    overrides = _check_overrides(overrides, names)
    used = names if return_entropies else [n for n in names if any(n in p for p in pairs)]
    if not used:
        return ({}, {}) if return_entropies else {}

    shared = {"kernel": kernel, "sigma": sigma, "sigma_scale": sigma_scale, "standardize": standardize,
              "width_params": width_params}
    settings = {key: _per_variable(key, value, names, used, overrides) for key, value in shared.items()}
    arrays = {n: variables[n] for n in used}
    est = estimate_grams(arrays, dtype=dtype, backend=backend, **settings)
    index = {n: i for i, n in enumerate(used)}

    # One task per entropy: a variable (i,) or an unordered pair (i, j); pairs given twice share one.
    joints = list(dict.fromkeys(tuple(sorted((index[a], index[b]))) for a, b in pairs))
    tasks = [(i,) for i in range(len(used))] + joints
    values = dict(zip(tasks, entropies(est, tasks, alpha, base, eigensolver)))

    mi = {}
    for a, b in pairs:
        i, j = index[a], index[b]
        mi[(a, b)] = _wrap(values[(i,)] + values[(j,)] - values[tuple(sorted((i, j)))], est.xp)
    if return_entropies:
        return mi, {n: _wrap(values[(index[n],)], est.xp) for n in used}
    return mi


def _check_variables(variables: Any) -> list:
    if not isinstance(variables, Mapping):
        raise TypeError(
            "variables must be a mapping of names to arrays, e.g. {'X': X, 'T1': T1}; "
            f"got {type(variables).__name__}."
        )
    return list(variables)


def _unknown(kind: str, name: Any, names: list) -> str:
    return f"{kind} names unknown variable {name!r}; the variables are {', '.join(map(repr, names))}."


def _check_pairs(pairs: Any, names: list) -> list[tuple]:
    if pairs is None:
        return list(itertools.combinations(names, 2))
    if isinstance(pairs, (str, bytes)) or not hasattr(pairs, "__iter__"):
        raise TypeError(f"pairs must be a sequence of (name, name) pairs; got {pairs!r}.")
    known = set(names)
    out = []
    for pair in pairs:
        if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise ValueError(f"Each entry of pairs must be a (name, name) pair; got {pair!r}.")
        for name in pair:
            if name not in known:
                raise ValueError(_unknown(f"pairs entry {tuple(pair)!r}", name, names))
        out.append(tuple(pair))
    return out


def _check_overrides(overrides: Any, names: list) -> dict:
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise TypeError(
            f"overrides must be a mapping of variable names to settings, e.g. {{'Z': {{'sigma_scale': 25}}}}; "
            f"got {type(overrides).__name__}."
        )
    known = set(names)
    for name, settings in overrides.items():
        if name not in known:
            raise ValueError(_unknown("overrides", name, names))
        if not isinstance(settings, Mapping):
            raise TypeError(f"overrides[{name!r}] must be a dict of settings; got {type(settings).__name__}.")
        bad = [k for k in settings if k not in VARIABLE_SETTINGS]
        if bad:
            raise ValueError(
                f"overrides[{name!r}] has unknown setting(s) {bad}; per-variable settings are "
                f"{', '.join(VARIABLE_SETTINGS)} (alpha, base, dtype, backend and eigensolver are shared)."
            )
    return dict(overrides)


def _per_variable(key: str, value: Any, names: list, used: list, overrides: dict) -> Any:
    """The setting ``key`` for the variables in ``used``: shared, per-variable tuple, then overrides."""
    if _is_per_variable(value, key):
        if len(value) != len(names):
            raise ValueError(
                f"{key} given per variable must have one entry per variable ({len(names)}: "
                f"{', '.join(map(repr, names))}); got {len(value)}: {value!r}. Or use overrides."
            )
        full = dict(zip(names, value))
    elif not any(key in o for o in overrides.values()):
        return value
    else:
        full = dict.fromkeys(names, value)
    for name, settings in overrides.items():
        if key in settings:
            full[name] = settings[key]
    return [full[n] for n in used]
