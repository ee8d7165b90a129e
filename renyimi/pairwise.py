r"""Mutual information between many pairs of variables, with every shared quantity computed once.

An information-plane point needs :math:`I(X;T)` and :math:`I(T;Y)` for every layer :math:`T`.
Computed pair by pair, each call rebuilds both Gram matrices and solves three eigenproblems;
here every variable's Gram matrix (eq. 17) and entropy (eq. 18) is computed once, and only the
joint entropy (eq. 19) is per pair:

.. math:: I_\alpha(A_a; A_b) = S_\alpha(A_a) + S_\alpha(A_b)
          - S_\alpha\!\left(\frac{A_a \circ A_b}{\operatorname{tr}(A_a \circ A_b)}\right)

so :math:`m` variables and :math:`p` pairs cost :math:`m + p` eigensolves instead of :math:`3p`.
Independent NumPy eigensolves run concurrently where that was measured to beat LAPACK's own
threading, or on any ``executor=``; on a GPU they are stacked into batched calls. The exact
:math:`\alpha = 2` and integer-order shortcuts apply as everywhere else.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from ._compute import GramSet, as_result, build_grams, entropies
from ._plan import DEFAULTS, VARIABLE_SETTINGS, Plan, check_shared_settings, make_plan, variable_specs

# estimate_pairs and PairwiseEstimate are the engine behind InformationPlane.measure, not public API.
__all__ = ["VARIABLE_SETTINGS", "pairwise_mutual_information"]


def pairwise_mutual_information(variables: Mapping[Hashable, Any], pairs: Any = None, *,
                                overrides: Mapping[Hashable, Mapping[str, Any]] | None = None,
                                return_entropies: bool = False, alpha: float = 1.01,
                                kernel: Any = "gaussian", sigma: Any = "tapia", sigma_scale: Any = 1.0,
                                base: float = 2, standardize: Any = "feature", width_params: Any = None,
                                dtype: Any = None, backend: str = "auto", eigensolver: str = "auto",
                                method: str = "auto", random_state: Any = None, method_params: dict | None = None,
                                return_stderr: bool = False, executor: Any = None) -> Any:
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
    method, random_state, method_params
        Estimation method for large N (shared keyword arguments of :func:`renyimi.mutual_information`);
        with ``method="slq"`` each variable's estimate serves every pair it is in.
    return_stderr : bool, default False
        Also return the standard error of every MI (Python floats; 0.0 for exact estimates).
    executor : concurrent.futures.Executor, optional
        Runs the independent entropies (one task per variable and per pair) on this executor: a
        thread or process pool, or a Dask cluster through ``distributed.Client(...).get_executor()``.
        Results are identical to the local computation with the same ``eigensolver``. By default
        they run concurrently on CPU threads where that was measured faster, or batched on a GPU.

    Returns
    -------
    mi : dict of (name, name) to 0-d array
        :math:`I_\alpha` of each pair, in units of ``base`` (bits by default), keyed by the pairs as
        given (tuples); 0-d arrays of the inputs' library and device (differentiable with torch).
    entropies : dict of name to 0-d array
        Only with ``return_entropies=True``: :math:`S_\alpha` of every variable in ``variables``.
    stderr : dict of (name, name) to float
        Only with ``return_stderr=True`` (last): the standard error of each MI.

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
    names = _check_variables(variables)
    pairs = _check_pairs(pairs, names)
    used = names if return_entropies else [n for n in names if any(n in p for p in pairs)]
    settings = {k: v for k, v in locals().items() if k in DEFAULTS}
    if not used:  # nothing to estimate, but the settings are still checked
        check_shared_settings(settings)
        variable_specs(names, settings, overrides)
        empty = ({},) * (1 + bool(return_entropies) + bool(return_stderr))
        return empty if len(empty) > 1 else {}
    plan = make_plan(variables, settings, overrides=overrides, only=used)
    result = estimate_pairs(plan, pairs)
    out: tuple = ({pair: as_result(v, plan) for pair, v in result.mi.items()},)
    if return_entropies:
        out += ({n: as_result(v, plan) for n, v in result.entropies.items()},)
    if return_stderr:
        out += (result.stderr,)
    return out if len(out) > 1 else out[0]


@dataclass(frozen=True)
class PairwiseEstimate:
    """What :func:`estimate_pairs` computed: MI per pair, entropy per variable, the Gram matrices."""

    mi: dict
    entropies: dict
    joint_entropies: dict
    grams: GramSet
    stderr: dict  # MI standard errors (0.0 for exact estimates)


def estimate_pairs(plan: Plan, pairs: list[tuple]) -> PairwiseEstimate:
    """The pairwise engine: every variable of ``plan`` once, then one joint entropy per distinct pair.

    ``pairs`` name variables of the plan; a pair given twice (in either order) is solved once.
    """
    index = {n: i for i, n in enumerate(plan.names)}
    joints = list(dict.fromkeys(tuple(sorted((index[a], index[b]))) for a, b in pairs))
    terms = [(i,) for i in range(len(plan.names))] + joints
    grams = build_grams(plan)
    values, errors = entropies(plan, grams, terms, with_errors=True)
    S, E = dict(zip(terms, values)), dict(zip(terms, errors))

    def pair_terms(a, b):
        return (index[a],), (index[b],), tuple(sorted((index[a], index[b])))

    joint = {(a, b): S[pair_terms(a, b)[2]] for a, b in pairs}
    mi = {(a, b): S[(index[a],)] + S[(index[b],)] - joint[a, b] for a, b in pairs}
    # The terms have independent seeds; I(X;X) counts S(X) twice.
    stderr = {(a, b): math.hypot(E[pair_terms(a, b)[0]] + E[pair_terms(a, b)[1]], E[pair_terms(a, b)[2]])
              if a == b else math.sqrt(sum(E[t] ** 2 for t in pair_terms(a, b))) for a, b in pairs}
    return PairwiseEstimate(mi, {n: S[(index[n],)] for n in plan.names}, joint, grams, stderr)


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
