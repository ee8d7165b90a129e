"""The recorded history of an information plane: per-step running statistics, smoothing, subsampling.

Pure NumPy on Python floats; nothing here knows about estimators or array libraries.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["RunningStats", "hann_smooth", "log_spaced_indices"]


class RunningStats:
    """Running mean and sum of squared deviations (Welford) of one step's measurement vector."""

    __slots__ = ("n", "mean", "m2")

    def __init__(self, n: int, mean: np.ndarray, m2: np.ndarray) -> None:
        self.n, self.mean, self.m2 = n, mean, m2

    def add(self, v: np.ndarray) -> None:
        self.n += 1
        delta = v - self.mean
        self.mean = self.mean + delta / self.n
        self.m2 = self.m2 + delta * (v - self.mean)


def _check_steps(steps: Any) -> np.ndarray:
    s = np.asarray(steps, dtype=float)
    if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)):
        raise ValueError(f"steps must be a non-empty 1-d array of finite numbers; got shape {s.shape}.")
    if np.any(np.diff(s) <= 0):
        raise ValueError("steps must be strictly increasing; sort them (and merge duplicates) first.")
    return s


def hann_smooth(steps: Any, values: Any, window: float) -> np.ndarray:
    r"""Smooth values recorded at (possibly uneven) steps with a Hann window spanning ``window`` steps.

    .. math:: \tilde v_i = \frac{\sum_j w_{ij} v_j}{\sum_j w_{ij}}, \qquad
              w_{ij} = \cos^2\!\Big(\pi\,\frac{s_j - s_i}{W}\Big)\ \text{for}\ |s_j - s_i| < W/2,
              \ 0\ \text{otherwise},

    so the window is defined in units of the steps (iterations), not of recorded points: a point
    recorded every 10 iterations with :math:`W = 500` averages about 50 neighbours, and sparsely
    recorded stretches are smoothed over the same span of iterations. For unit-spaced steps and
    an even ``W`` this is ``numpy.convolve`` with ``numpy.hanning(W + 1)``, normalised; near the ends
    the truncated window is renormalised (no zero padding, no reflection). Every point keeps weight 1
    on itself, so a gap wider than ``W/2`` leaves a point unchanged. Cost :math:`O(n)` through prefix
    sums (:math:`\cos(a-b) = \cos a\cos b + \sin a\sin b`).

    Parameters
    ----------
    steps : array_like, shape (n,)
        Strictly increasing step numbers.
    values : array_like, shape (n,) or (n, k)
        Values at those steps (each column smoothed independently).
    window : float
        Total span :math:`W > 0` of the window, in steps (Tapia & Estévez, 2020, use 500 iterations).

    Returns
    -------
    numpy.ndarray
        Same shape as ``values``.

    Examples
    --------
    >>> import numpy as np
    >>> from renyimi.plane import hann_smooth
    >>> v = np.zeros(21)
    >>> v[10] = 1.0  # an impulse: the smoothed values are the normalised window
    >>> h = np.hanning(5)
    >>> bool(np.allclose(hann_smooth(np.arange(21), v, 4)[8:13], h / h.sum()))
    True
    """
    s = _check_steps(steps)
    v = np.asarray(values, dtype=float)
    if v.shape[:1] != s.shape or v.ndim > 2:
        raise ValueError(f"values must have shape (n,) or (n, k) with n = len(steps) = {s.size}; "
                         f"got {v.shape}.")
    if isinstance(window, bool) or not isinstance(window, numbers.Real) or not (0 < window < math.inf):
        raise ValueError(f"window must be a positive finite number of steps (the paper: 500); "
                         f"got window={window!r}.")
    column = v.ndim == 1
    v = v.reshape(s.size, -1)
    lo = np.searchsorted(s, s - window / 2, side="right")
    hi = np.searchsorted(s, s + window / 2, side="left")
    theta = 2 * math.pi * (s - s[0]) / window  # shifted by s[0]: smaller angles, same differences
    c, sn = np.cos(theta)[:, None], np.sin(theta)[:, None]

    def window_sum(a):
        prefix = np.concatenate([np.zeros((1, a.shape[1])), np.cumsum(a, axis=0)])
        return prefix[hi] - prefix[lo]

    weight = 0.5 * (window_sum(np.ones_like(c)) + c * window_sum(c) + sn * window_sum(sn))
    out = 0.5 * (window_sum(v) + c * window_sum(c * v) + sn * window_sum(sn * v)) / weight
    return out[:, 0] if column else out


def _check_n_points(n_points: Any) -> None:
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2; got n_points={n_points!r}.")


def log_spaced_indices(steps: Any, n_points: int) -> np.ndarray:
    """Indices of about ``n_points`` recorded steps spaced evenly on a log scale of the iteration.

    The first and last steps are always included and the indices are strictly increasing. Targets
    are ``geomspace`` between the first and the last offset from the first step, and each picks the
    first recorded step at or after it; targets that fall on the same recorded step (dense early
    targets on coarsely recorded steps) are merged, and more targets are added until ``n_points``
    distinct steps are found, so the result can hold slightly more than ``n_points``. With at most
    ``n_points`` steps, all indices are returned.

    Parameters
    ----------
    steps : array_like, shape (n,)
        Strictly increasing step numbers (any start, any spacing).
    n_points : int
        Number of points wanted, ``>= 2``.

    Returns
    -------
    numpy.ndarray of int

    Examples
    --------
    >>> import numpy as np
    >>> from renyimi.plane import log_spaced_indices
    >>> log_spaced_indices(np.arange(0, 10001, 10), 6)
    array([   0,    1,    6,   32,  178, 1000])
    """
    s = _check_steps(steps)
    _check_n_points(n_points)
    n = s.size
    if n <= n_points:
        return np.arange(n)
    offset = s - s[0]

    def pick(m):
        targets = np.geomspace(offset[1], offset[-1], m - 1)
        idx = np.searchsorted(offset, targets * (1 - 1e-12), side="left")
        return np.unique(np.concatenate([[0], np.minimum(idx, n - 1), [n - 1]]))

    m = n_points
    idx = pick(m)
    while idx.size < n_points:
        m += n_points - idx.size
        idx = pick(m)
    return idx


