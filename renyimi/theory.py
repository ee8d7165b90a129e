"""Theoretical information plane of autoencoders, and checks of measured planes against it.

An autoencoder :math:`X \\to T^E_1 \\to \\dots \\to Z \\to T^D_1 \\to \\dots \\to X'` places every
hidden layer :math:`T` at the point (input MI, output MI) :math:`= (\\hat I(X;T), \\hat I(T;X'))`
(Definition 2 of [1]_). For an ideal autoencoder with bottleneck capacity :math:`\\lambda` and
input information :math:`M = \\hat I(X;X)` the paper proves:

* Lemma 1: every layer has the same output MI, :math:`\\hat I(T;X') = \\hat I(X;X')`.
* Forward DPI (eq. 13): :math:`M \\ge \\hat I(X;T^E_1) \\ge \\dots \\ge \\hat I(X;Z) \\ge \\dots
  \\ge \\hat I(X;X')`, so every point lies in the triangle (0, 0), (M, 0), (M, M) (Sec. II-B).
* Theorem 1: if :math:`\\lambda \\ge M` every layer converges to (M, M); if :math:`\\lambda < M`
  every output MI converges to :math:`\\lambda`, the encoder input MIs decrease from M to
  :math:`\\hat I(X;Z) = \\lambda` (eq. 14) and the decoder input MIs equal :math:`\\lambda` (eq. 15).

The diagnostics below take a recorded plane as plain arrays, so the output of any MI estimator can be
scored, and :func:`benchmark_estimator` turns the theory into the benchmark the paper proposes.
Layer names follow the paper's figures: ``T1E, ..., Z, T1D, ...``; ``n_encoder`` counts the encoder
layers *including* the bottleneck Z, ``n_decoder`` the hidden decoder layers (X' excluded).
All checks are necessary conditions: an estimator can pass them and still be wrong.

References
----------
.. [1] N. I. Tapia and P. A. Estévez, "On the information plane of autoencoders," in Proc. IJCNN, 2020.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

__all__ = [
    "BenchmarkResult", "Convergence", "DPIViolations", "FeasibilityViolations", "OutputSpread",
    "TheoryReport", "Trajectories", "benchmark_estimator", "bisector_distance", "dpi_violations",
    "feasibility_violations", "feasible_region", "in_feasible_region", "layer_names",
    "output_mi_spread", "theoretical_convergence", "theoretical_trajectories", "theory_report",
]


def _is_real(v, low, strict):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        return False
    return v > low if strict else v >= low


def _check_M(M, name="M"):
    if not _is_real(M, 0.0, strict=True):
        raise ValueError(f"{name} must be a positive finite number (the input information I(X;X)); got {name}={M!r}.")
    return float(M)


def _check_tol(tol, name="tol"):
    if not _is_real(tol, 0.0, strict=False):
        raise ValueError(f"{name} must be a finite number >= 0; got {name}={tol!r}.")
    return float(tol)


def _plane(input_mi, output_mi=None):
    """(n_steps, n_layers) float arrays; a 1-d input is one step."""
    arrays = []
    for name, a in (("input_mi", input_mi), ("output_mi", output_mi)):
        if a is None:
            continue
        a = np.asarray(a, dtype=float)
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] == 0:
            raise ValueError(f"{name} must have shape (n_steps, n_layers) or (n_layers,); got {name}.shape={a.shape}.")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinite values; remove or interpolate those steps first.")
        arrays.append(a)
    if len(arrays) == 2 and arrays[0].shape != arrays[1].shape:
        raise ValueError(f"input_mi and output_mi must have the same shape; got input_mi.shape={arrays[0].shape}, "
                         f"output_mi.shape={arrays[1].shape}.")
    return arrays if len(arrays) == 2 else arrays[0]


def layer_names(n_encoder: int, n_decoder: int) -> tuple[str, ...]:
    """Names of the hidden layers of an autoencoder, in network order, as in the figures of [1]_.

    ``("T1E", ..., "T{n_encoder-1}E", "Z", "T1D", ..., "T{n_decoder}D")``: the encoder layers, the
    bottleneck Z (the last encoder layer) and the hidden decoder layers (eq. 6 of [1]_).

    Parameters
    ----------
    n_encoder : int
        Encoder layers including the bottleneck Z, ``>= 1``.
    n_decoder : int
        Hidden decoder layers (the reconstruction X' excluded), ``>= 0``.

    Returns
    -------
    tuple of str
        ``n_encoder + n_decoder`` names.

    Raises
    ------
    ValueError
        If a count is not an integer or is below its minimum.

    Examples
    --------
    >>> from renyimi.theory import layer_names
    >>> layer_names(3, 2)
    ('T1E', 'T2E', 'Z', 'T1D', 'T2D')
    """
    for name, n, low in (("n_encoder", n_encoder, 1), ("n_decoder", n_decoder, 0)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {name}={n!r}.")
    return (*(f"T{i}E" for i in range(1, n_encoder)), "Z", *(f"T{i}D" for i in range(1, n_decoder + 1)))


# --------------------------------------------------------------------------------------- theory
def feasible_region(M: float) -> np.ndarray:
    """Vertices of the triangle in which every point of an autoencoder's plane lies (Sec. II-B of [1]_).

    Lemma 1 and eq. (13) give :math:`\\hat I(T;X') = \\hat I(X;X') \\le \\hat I(X;T) \\le M`: below the
    bisector and left of the vertical line at :math:`M = \\hat I(X;X)`.

    Parameters
    ----------
    M : float
        Input information :math:`\\hat I(X;X) > 0`, in the units of the estimates (bits by default).

    Returns
    -------
    numpy.ndarray, shape (3, 2)
        ``[(0, 0), (M, 0), (M, M)]`` as (input MI, output MI) rows.

    See Also
    --------
    in_feasible_region, feasibility_violations

    Examples
    --------
    >>> from renyimi.theory import feasible_region
    >>> feasible_region(9.0)
    array([[0., 0.],
           [9., 0.],
           [9., 9.]])
    """
    M = _check_M(M)
    return np.array([[0.0, 0.0], [M, 0.0], [M, M]])


def in_feasible_region(input_mi, output_mi, M: float, *, atol: float = 0.0) -> np.ndarray:
    """Whether points lie in the feasible triangle, :math:`0 \\le \\hat I(T;X') \\le \\hat I(X;T) \\le M`.

    Parameters
    ----------
    input_mi, output_mi : array_like
        :math:`\\hat I(X;T)` and :math:`\\hat I(T;X')` of the points; any shapes that broadcast
        together.
    M : float
        Input information :math:`\\hat I(X;X) > 0`, in the same units.
    atol : float, default 0.0
        Slack allowed on each of the three inequalities, in the same units.

    Returns
    -------
    numpy.ndarray of bool
        The broadcast shape of ``input_mi`` and ``output_mi``.

    See Also
    --------
    feasible_region, feasibility_violations : the triangle, and the distance of the points outside it.

    Examples
    --------
    >>> from renyimi.theory import in_feasible_region
    >>> in_feasible_region([4.0, 4.0, 10.0], [2.0, 5.0, 2.0], M=9.0)
    array([ True, False, False])
    """
    M, atol = _check_M(M), _check_tol(atol, "atol")
    x, y = np.asarray(input_mi, dtype=float), np.asarray(output_mi, dtype=float)
    return (y >= -atol) & (y <= x + atol) & (x <= M + atol)


@dataclass(frozen=True)
class Convergence:
    """Theorem 1's end point of every layer, as returned by :func:`theoretical_convergence`.

    Layer ``layers[i]`` converges to ``(input_mi[i], output_mi[i])``.
    """

    #: Layer names in network order (:func:`layer_names`).
    layers: tuple[str, ...]
    #: Input MI :math:`\\hat I(X;T)` at convergence, shape (n_layers,).
    input_mi: np.ndarray
    #: Output MI :math:`\\hat I(T;X')` at convergence, shape (n_layers,).
    output_mi: np.ndarray
    #: ``"large"`` (:math:`\\lambda \\ge M`, case a) or ``"small"`` (:math:`\\lambda < M`, case b).
    regime: str
    #: Input information :math:`\\hat I(X;X)`.
    M: float
    #: Bottleneck capacity :math:`\\lambda`.
    lam: float

    @property
    def points(self) -> np.ndarray:
        """(n_layers, 2) array of (input MI, output MI), one row per layer."""
        return np.column_stack([self.input_mi, self.output_mi])


def theoretical_convergence(M: float, lam: float, n_encoder: int, n_decoder: int, *,
                            encoder_profile: Sequence[float] | None = None) -> Convergence:
    """Convergence point of every hidden layer of an ideal autoencoder (Theorem 1 of [1]_).

    a. :math:`\\lambda \\ge M` ("large" bottleneck): every layer converges to :math:`(M, M)`.
    b. :math:`\\lambda < M` ("small"): every output MI is :math:`\\lambda`; decoder input MIs are
       :math:`\\lambda` (eq. 15); encoder input MIs satisfy :math:`M \\ge \\hat I(X;T^E_1) \\ge \\dots
       \\ge \\hat I(X;Z) = \\lambda` (eq. 14). The theorem fixes only this ordering, so for a sketch the
       encoder layer ``i = 1..n_encoder`` is placed at :math:`M - (M - \\lambda)\\, t_i`, with
       ``encoder_profile`` :math:`t` defaulting to the linear ``t_i = i / n_encoder``.

    The paper states case a. for :math:`\\lambda > M`; at :math:`\\lambda = M` both cases agree, and
    it is reported as "large".

    Parameters
    ----------
    M : float
        Input information :math:`\\hat I(X;X) > 0`.
    lam : float
        Bottleneck capacity :math:`\\lambda(K) \\ge 0`, same units as ``M``.
    n_encoder, n_decoder : int
        Encoder layers including Z (``>= 1``), hidden decoder layers (``>= 0``).
    encoder_profile : sequence of float, optional
        ``n_encoder`` non-decreasing fractions in [0, 1] ending with 1 (Z sits at :math:`\\lambda`).

    Returns
    -------
    Convergence
        ``layers`` (from :func:`layer_names`), ``input_mi`` and ``output_mi`` of shape (n_layers,),
        ``regime`` ("large" or "small"), ``M``, ``lam``.

    Raises
    ------
    ValueError
        If ``M`` is not positive, ``lam`` is negative, a layer count is invalid or ``encoder_profile``
        does not hold ``n_encoder`` non-decreasing fractions ending with 1.

    See Also
    --------
    theoretical_trajectories : straight lines from a start to these points (Fig. 1 of [1]_).
    renyimi.plotting.plot_theoretical_plane : the figure.

    Examples
    --------
    A small bottleneck (:math:`\\lambda = 3 < M = 9`): the encoder's input MI falls from M to
    :math:`\\lambda`, Z and the decoder sit at :math:`(\\lambda, \\lambda)`.

    >>> from renyimi.theory import theoretical_convergence
    >>> c = theoretical_convergence(M=9.0, lam=3.0, n_encoder=3, n_decoder=2)
    >>> c.regime, c.layers
    ('small', ('T1E', 'T2E', 'Z', 'T1D', 'T2D'))
    >>> c.input_mi
    array([7., 5., 3., 3., 3.])
    >>> c.output_mi
    array([3., 3., 3., 3., 3.])
    """
    M = _check_M(M)
    if not _is_real(lam, 0.0, strict=False):
        raise ValueError(f"lam must be a finite number >= 0 (the bottleneck capacity); got lam={lam!r}.")
    lam = float(lam)
    layers = layer_names(n_encoder, n_decoder)
    if encoder_profile is None:
        t = np.arange(1, n_encoder + 1) / n_encoder
    else:
        t = np.asarray(encoder_profile, dtype=float)
        if (t.shape != (n_encoder,) or np.any(np.diff(t) < 0) or np.any(t < 0) or t[-1] != 1.0):
            raise ValueError(f"encoder_profile must hold n_encoder={n_encoder} non-decreasing fractions in [0, 1] "
                             f"ending with 1; got {encoder_profile!r}.")
    if lam >= M:
        regime, x, level = "large", np.full(len(layers), M), M
    else:
        regime, level = "small", lam
        x = np.concatenate([M - (M - lam) * t, np.full(n_decoder, lam)])
    return Convergence(layers, x, np.full(len(layers), level), regime, M, lam)


@dataclass(frozen=True)
class Trajectories:
    """Straight-line sketch of Fig. 1 of [1]_, as returned by :func:`theoretical_trajectories`."""

    #: Layer names in network order (:func:`layer_names`).
    layers: tuple[str, ...]
    #: Input MI along the lines, shape (n_points, n_layers); row 0 is the start.
    input_mi: np.ndarray
    #: Output MI along the lines, shape (n_points, n_layers).
    output_mi: np.ndarray
    #: The end points (the last rows), from :func:`theoretical_convergence`.
    convergence: Convergence


def theoretical_trajectories(M: float, lam: float, n_encoder: int, n_decoder: int, *, n_points: int = 50,
                             start_input=None, start_output: float | None = None,
                             encoder_profile: Sequence[float] | None = None) -> Trajectories:
    """Straight lines from an initial point to Theorem 1's convergence point, as drawn in Fig. 1 of [1]_.

    The start respects eq. (13) strictly, with a low common output MI (Sec. II-B): by default the input
    MIs decrease linearly from :math:`0.9M` to :math:`0.3M` along the layers and the output MI is
    :math:`0.1M`. The paper stresses that real trajectories depend on the optimiser; only the end
    points are predicted. Both ends lie in the (convex) feasible triangle with ordered input MIs and
    equal output MIs, so every point of the lines does too.

    Parameters
    ----------
    M, lam, n_encoder, n_decoder, encoder_profile
        As in :func:`theoretical_convergence`.
    n_points : int, default 50
        Points per line, ``>= 2``, both ends included.
    start_input : array_like, shape (n_layers,), optional
        Input MI of each layer at the start.
    start_output : float, optional
        Common output MI at the start.

    Returns
    -------
    Trajectories
        ``layers``, ``input_mi`` and ``output_mi`` of shape (n_points, n_layers), and the
        ``convergence`` points.

    Raises
    ------
    ValueError
        If ``n_points < 2``, ``start_input`` has the wrong shape, or the start lies outside the feasible
        triangle (plus the errors of :func:`theoretical_convergence`).

    Examples
    --------
    >>> from renyimi.theory import theoretical_trajectories
    >>> tr = theoretical_trajectories(M=9.0, lam=3.0, n_encoder=2, n_decoder=1, n_points=5)
    >>> tr.input_mi.shape
    (5, 3)
    >>> tr.input_mi[-1], tr.output_mi[-1]
    (array([6., 3., 3.]), array([3., 3., 3.]))
    """
    conv = theoretical_convergence(M, lam, n_encoder, n_decoder, encoder_profile=encoder_profile)
    n = len(conv.layers)
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2; got n_points={n_points!r}.")
    x0 = np.linspace(0.9 * conv.M, 0.3 * conv.M, n) if start_input is None else np.asarray(start_input, float)
    y0 = 0.1 * conv.M if start_output is None else float(start_output)
    if x0.shape != (n,):
        raise ValueError(f"start_input must have shape ({n},), one value per layer; got shape {x0.shape}.")
    if not np.all(in_feasible_region(x0, y0, conv.M)):
        raise ValueError(f"the start must lie in the feasible triangle of M={conv.M}; got start_input={x0}, "
                         f"start_output={y0}.")
    s = np.linspace(0.0, 1.0, n_points)[:, None]
    return Trajectories(conv.layers, x0 + s * (conv.input_mi - x0), y0 + s * (conv.output_mi - y0), conv)


# ---------------------------------------------------------------------------------- diagnostics
@dataclass(frozen=True)
class DPIViolations:
    """Forward-DPI violations, :math:`\\hat I(X;T_{i+1}) > \\hat I(X;T_i) + \\mathrm{tol}` (eq. 13 of [1]_).

    Returned by :func:`dpi_violations`.
    """

    #: Consecutive layer pairs, ``("T1E->T2E", ...)``: n_layers - 1 of them.
    pairs: tuple[str, ...]
    #: Increase :math:`\\hat I(X;T_{i+1}) - \\hat I(X;T_i)` where violated, else 0; shape (n_steps, n_pairs).
    excess: np.ndarray
    #: Violated pairs at each step, shape (n_steps,).
    counts: np.ndarray
    #: Steps at which each pair is violated, shape (n_pairs,).
    pair_counts: np.ndarray
    #: Fraction of the steps with at least one violation.
    fraction_of_steps: float
    #: Largest increase among the violations (0 if none), in the MI's units.
    max_violation: float


def dpi_violations(input_mi, *, layers: Sequence[str] | None = None, tol: float = 0.0) -> DPIViolations:
    """Count increases of the input MI between consecutive layers, in network order (eq. 13 of [1]_).

    The forward data-processing inequality says that the input MI cannot increase along the network:
    :math:`\\hat I(X;T_1) \\ge \\hat I(X;T_2) \\ge \\dots`. Every step at which a layer's input MI exceeds
    its predecessor's by more than ``tol`` is a violation.

    Parameters
    ----------
    input_mi : array_like, shape (n_steps, n_layers) or (n_layers,)
        :math:`\\hat I(X;T)` of each layer (columns, in network order) at each recorded step (rows).
    layers : sequence of str, optional
        Column names; default ``"L1", "L2", ...``.
    tol : float, default 0.0
        Increase tolerated before it counts, in the MI's units.

    Returns
    -------
    DPIViolations
        Per-pair and per-step counts, the excesses and summary numbers.

    Raises
    ------
    ValueError
        If ``input_mi`` is not 1-d or 2-d, holds NaN, or ``layers`` has the wrong length.

    Examples
    --------
    >>> from renyimi.theory import dpi_violations
    >>> v = dpi_violations([[5.0, 4.0, 4.5], [5.0, 4.0, 3.0]], layers=["T1E", "Z", "T1D"])
    >>> v.pairs, v.counts, v.max_violation
    (('T1E->Z', 'Z->T1D'), array([1, 0]), 0.5)
    """
    x, tol = _plane(input_mi), _check_tol(tol)
    layers = _layers(layers, x.shape[1])
    diff = x[:, 1:] - x[:, :-1]
    bad = diff > tol
    excess = np.where(bad, diff, 0.0)
    return DPIViolations(tuple(f"{a}->{b}" for a, b in itertools.pairwise(layers)), excess,
                         bad.sum(axis=1), bad.sum(axis=0), float(bad.any(axis=1).mean()),
                         float(excess.max(initial=0.0)))


class OutputSpread(NamedTuple):
    """Per-step spread of the output MI across layers; Lemma 1 of [1]_ says both are zero.

    Returned by :func:`output_mi_spread`.
    """

    #: :math:`\\max_T \\hat I(T;X') - \\min_T \\hat I(T;X')` at each step, shape (n_steps,).
    range: np.ndarray
    #: Population standard deviation across the layers at each step, shape (n_steps,).
    std: np.ndarray


def output_mi_spread(output_mi) -> OutputSpread:
    """Spread of the output MI across layers at each step: zero for an ideal autoencoder (Lemma 1 of [1]_).

    Parameters
    ----------
    output_mi : array_like, shape (n_steps, n_layers) or (n_layers,)
        :math:`\\hat I(T;X')` of each layer (columns) at each recorded step (rows).

    Returns
    -------
    OutputSpread
        ``range`` (:math:`\\max_T - \\min_T`) and ``std`` across layers, each of shape (n_steps,).

    Examples
    --------
    >>> from renyimi.theory import output_mi_spread
    >>> output_mi_spread([[3.0, 3.5, 4.0], [3.0, 3.0, 3.0]]).range
    array([1., 0.])
    """
    y = _plane(output_mi)
    return OutputSpread(np.ptp(y, axis=1), np.std(y, axis=1))


class FeasibilityViolations(NamedTuple):
    """Points outside the triangle (0, 0), (M, 0), (M, M) and their Euclidean distance to it.

    Returned by :func:`feasibility_violations`.
    """

    #: Whether each point is farther than ``atol`` outside the triangle, shape (n_steps, n_layers).
    outside: np.ndarray
    #: Euclidean distance of each point to the triangle (0 inside), shape (n_steps, n_layers).
    distance: np.ndarray
    #: Number of points outside.
    count: int
    #: Largest distance (0 if every point is inside).
    max_distance: float


def _segment_distance(p, a, b):
    ab = b - a
    t = np.clip(((p - a) @ ab) / (ab @ ab), 0.0, 1.0)
    return np.linalg.norm(p - (a + t[..., None] * ab), axis=-1)


def feasibility_violations(input_mi, output_mi, M: float, *, atol: float = 0.0) -> FeasibilityViolations:
    """Points outside the feasible triangle of Sec. II-B of [1]_ (beyond ``atol``), with their distance.

    Parameters
    ----------
    input_mi, output_mi : array_like, shape (n_steps, n_layers) or (n_layers,)
        :math:`\\hat I(X;T)` and :math:`\\hat I(T;X')` of each layer at each recorded step.
    M : float
        Input information :math:`\\hat I(X;X) > 0`.
    atol : float, default 0.0
        Distance from the triangle tolerated before a point counts as outside.

    Returns
    -------
    FeasibilityViolations
        ``outside`` and ``distance`` of shape (n_steps, n_layers), ``count``, ``max_distance``.

    See Also
    --------
    feasible_region, in_feasible_region

    Examples
    --------
    The second point is 1 bit to the right of the vertical side at :math:`M = 9`:

    >>> from renyimi.theory import feasibility_violations
    >>> v = feasibility_violations([4.0, 10.0], [2.0, 2.0], M=9.0)
    >>> v.outside, v.distance
    (array([[False,  True]]), array([[0., 1.]]))
    """
    x, y = _plane(input_mi, output_mi)
    M, atol = _check_M(M), _check_tol(atol, "atol")
    p, v = np.stack([x, y], axis=-1), feasible_region(M)
    inside = in_feasible_region(x, y, M)
    dist = np.where(inside, 0.0, np.min([_segment_distance(p, v[i], v[(i + 1) % 3]) for i in range(3)], axis=0))
    outside = dist > atol
    return FeasibilityViolations(outside, dist, int(outside.sum()), float(dist.max(initial=0.0)))


def bisector_distance(input_mi, output_mi, *, step: int | None = -1) -> np.ndarray:
    """Signed distance :math:`(\\hat I(X;T) - \\hat I(T;X'))/\\sqrt2` to the bisector (Sec. II-B of [1]_).

    Positive below the bisector (the feasible side). Theorem 1 puts Z and the decoder layers on it at
    convergence (distance 0), and all layers when the bottleneck is large. ``step=-1`` returns the final
    step, shape (n_layers,); ``step=None`` returns all steps, shape (n_steps, n_layers).

    Parameters
    ----------
    input_mi, output_mi : array_like, shape (n_steps, n_layers) or (n_layers,)
        :math:`\\hat I(X;T)` and :math:`\\hat I(T;X')` of each layer at each recorded step.
    step : int or None, default -1
        The step (row) to return; ``None`` for all of them.

    Returns
    -------
    numpy.ndarray
        Shape (n_layers,) for one step, (n_steps, n_layers) for ``step=None``; in the MI's units.

    Examples
    --------
    >>> from renyimi.theory import bisector_distance
    >>> bisector_distance([5.0, 3.0], [3.0, 3.0]).round(4)
    array([1.4142, 0.    ])
    """
    x, y = _plane(input_mi, output_mi)
    d = (x - y) / math.sqrt(2.0)
    return d if step is None else d[step]


def _layers(layers, n):
    layers = tuple(f"L{i + 1}" for i in range(n)) if layers is None else tuple(str(s) for s in layers)
    if len(layers) != n:
        raise ValueError(f"layers must name every one of the {n} layers (columns); got {len(layers)} names.")
    return layers


@dataclass(frozen=True)
class TheoryReport:
    """How far a recorded information plane is from the theory of [1]_; see :func:`theory_report`.

    ``str(report)`` is a per-layer table of the final step followed by :meth:`summary`.
    """

    #: Layer names, in network order.
    layers: tuple[str, ...]
    #: Encoder layers including the bottleneck Z.
    n_encoder: int
    #: The recorded input MI, shape (n_steps, n_layers).
    input_mi: np.ndarray
    #: The recorded output MI, shape (n_steps, n_layers).
    output_mi: np.ndarray
    #: Input information :math:`\\hat I(X;X)`, or ``None`` if not given.
    M: float | None
    #: Forward-DPI check (eq. 13), from :func:`dpi_violations`.
    dpi: DPIViolations
    #: Lemma 1 check, from :func:`output_mi_spread`.
    output_spread: OutputSpread
    #: Feasible-triangle check, from :func:`feasibility_violations`; ``None`` without ``M``.
    feasibility: FeasibilityViolations | None
    #: Signed distance of each layer to the bisector at the final step, shape (n_layers,).
    bisector: np.ndarray

    def summary(self) -> dict[str, float]:
        """Scalar scores of every check, by name; ``nan`` where ``M`` is needed but was not given.

        Returns
        -------
        dict of str to float
            ``dpi_violation_fraction``, ``dpi_violations_total``, ``dpi_max_violation``,
            ``output_spread_max``, ``output_spread_final``, ``output_std_mean``,
            ``feasibility_violation_fraction``, ``feasibility_max_distance``,
            ``bisector_max_abs_bottleneck_decoder`` and ``bisector_mean_encoder``.
        """
        f, nan = self.feasibility, float("nan")
        return {
            "dpi_violation_fraction": self.dpi.fraction_of_steps,
            "dpi_violations_total": float(self.dpi.counts.sum()),
            "dpi_max_violation": self.dpi.max_violation,
            "output_spread_max": float(self.output_spread.range.max()),
            "output_spread_final": float(self.output_spread.range[-1]),
            "output_std_mean": float(self.output_spread.std.mean()),
            "feasibility_violation_fraction": nan if f is None else f.count / f.outside.size,
            "feasibility_max_distance": nan if f is None else f.max_distance,
            "bisector_max_abs_bottleneck_decoder": float(np.abs(self.bisector[self.n_encoder - 1:]).max()),
            "bisector_mean_encoder": float(self.bisector[:self.n_encoder].mean()),
        }

    def __str__(self) -> str:
        viol = np.concatenate([[0], self.dpi.pair_counts])  # violations of the pair ending at each layer
        rows = [f"{'layer':>8} {'input MI':>10} {'output MI':>10} {'bisector':>9} {'DPI viol.':>9}"]
        rows += [f"{n:>8} {x:10.4f} {y:10.4f} {b:9.4f} {int(v):9d}" for n, x, y, b, v in
                 zip(self.layers, self.input_mi[-1], self.output_mi[-1], self.bisector, viol)]
        rows += [f"{k}: {v:.4g}" for k, v in self.summary().items()]
        return "\n".join(rows)


def theory_report(input_mi, output_mi, *, layers: Sequence[str] | None = None, n_encoder: int,
                  M: float | None = None, tol: float = 0.0) -> TheoryReport:
    """Score a recorded information plane against Lemma 1, eq. (13), Sec. II-B and Theorem 1 of [1]_.

    Parameters
    ----------
    input_mi, output_mi : array_like, shape (n_steps, n_layers) or (n_layers,)
        :math:`\\hat I(X;T)` and :math:`\\hat I(T;X')` of each layer (columns in network order) at each
        recorded step (rows; the last row is read as "converged").
    layers : sequence of str, optional
        Column names; default ``layer_names(n_encoder, n_layers - n_encoder)``.
    n_encoder : int
        Encoder layers including the bottleneck Z (``1 <= n_encoder <= n_layers``); the rest are decoder.
    M : float, optional
        :math:`\\hat I(X;X)`; enables the feasibility check.
    tol : float
        Slack for DPI increases and for leaving the feasible triangle, in the MI's units.

    Returns
    -------
    TheoryReport
        ``dpi`` (:func:`dpi_violations`), ``output_spread`` (:func:`output_mi_spread`), ``feasibility``
        (:func:`feasibility_violations`, ``None`` without ``M``), ``bisector`` (final step,
        :func:`bisector_distance`); ``summary()`` gives floats, ``str()`` a per-layer table.

    Raises
    ------
    ValueError
        If the arrays differ in shape or hold NaN, ``n_encoder`` is out of range, or ``M`` is not positive.

    Examples
    --------
    Two recorded steps of a plane with one encoder layer, Z and one decoder layer:

    >>> from renyimi.theory import theory_report
    >>> input_mi = [[6.0, 5.0, 5.5], [6.0, 4.0, 4.0]]
    >>> output_mi = [[2.0, 2.0, 2.0], [4.0, 4.0, 4.0]]
    >>> report = theory_report(input_mi, output_mi, n_encoder=2, M=9.0)
    >>> report.layers
    ('T1E', 'Z', 'T1D')
    >>> report.dpi.counts                     # Z -> T1D increases at the first step
    array([1, 0])
    >>> report.summary()["feasibility_violation_fraction"]
    0.0
    """
    x, y = _plane(input_mi, output_mi)
    n = x.shape[1]
    if isinstance(n_encoder, bool) or not isinstance(n_encoder, (int, np.integer)) or not 1 <= n_encoder <= n:
        raise ValueError(f"n_encoder must be an integer in [1, n_layers={n}] (encoder layers including Z); "
                         f"got n_encoder={n_encoder!r}.")
    layers = layer_names(n_encoder, n - n_encoder) if layers is None else _layers(layers, n)
    M = None if M is None else _check_M(M)
    return TheoryReport(layers, int(n_encoder), x, y, M, dpi_violations(x, layers=layers, tol=tol),
                        output_mi_spread(y), None if M is None else feasibility_violations(x, y, M, atol=tol),
                        bisector_distance(x, y))


# ------------------------------------------------------------------------------------ benchmark
def _injective_layer(y, out_dim, rng, nonlinear, scale_range):
    """``c * tanh(standardise(y @ W))``: injective in ``y`` since W (d, out_dim >= d) has full row rank."""
    w = rng.standard_normal((y.shape[1], out_dim))
    t = y @ w
    t = (t - t.mean(axis=0)) / (t.std(axis=0) + 1e-12)
    return (np.tanh(t) if nonlinear else t) * rng.uniform(*scale_range)


@dataclass(frozen=True)
class BenchmarkResult:
    """Outcome of :func:`benchmark_estimator`; ``passed`` means *no necessary condition failed*.

    ``str(result)`` lists every check with ``ok`` or ``FAIL`` and both reports.
    """

    #: :math:`M` = ``estimator(X, X)``.
    M: float
    #: :math:`\\lambda` = ``estimator(X, Z)`` in the small-bottleneck chain.
    lam: float
    #: Bottleneck width of the small-bottleneck chain.
    K: int
    #: Large bottleneck: every layer an injective map of X, X' = X; every point should be at (M, M).
    large: TheoryReport
    #: Small bottleneck: projections down to K principal directions, then an injective decoder.
    small: TheoryReport
    #: Large chain: Euclidean distance of each layer's point from (M, M), shape (n_layers,).
    distance_to_MM: np.ndarray
    #: Absolute slack of every check.
    tol: float
    #: Each necessary condition by name, and whether it holds.
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when every entry of :attr:`checks` holds."""
        return all(self.checks.values())

    def summary(self) -> dict[str, float]:
        """``M``, ``lam``, the largest distance to (M, M) and both reports' summaries (prefixed
        ``large.`` and ``small.``), as floats by name."""
        out = {"M": self.M, "lam": self.lam, "large_max_distance_to_MM": float(self.distance_to_MM.max())}
        out.update({f"large.{k}": v for k, v in self.large.summary().items()})
        out.update({f"small.{k}": v for k, v in self.small.summary().items()})
        return out

    def __str__(self) -> str:
        checks = "\n".join(f"  [{'ok' if v else 'FAIL'}] {k}" for k, v in self.checks.items())
        return (f"M = I(X;X) = {self.M:.4g}, lambda = I(X;Z) = {self.lam:.4g} (K={self.K}), tol={self.tol:g}\n"
                f"checks (necessary, not sufficient):\n{checks}\n"
                f"-- large bottleneck (expect every point at (M, M)) --\n{self.large}\n"
                f"-- small bottleneck (Theorem 1b) --\n{self.small}")


def benchmark_estimator(estimator: Callable[[np.ndarray, np.ndarray], float], X, *, n_encoder: int = 4,
                        n_decoder: int | None = None, K: int | None = None, rng=None, tol: float = 1e-6,
                        nonlinear: bool = True, scale_range: tuple[float, float] = (0.5, 2.0)) -> BenchmarkResult:
    """Score an MI estimator on synthetic layer chains whose information plane Theorem 1 of [1]_ predicts.

    Two ideal autoencoders are built from the data ``X`` (no training):

    * large bottleneck: each of the ``n_encoder + n_decoder`` layers is an injective map of ``X``
      (random full-rank linear map, standardisation, ``tanh`` if ``nonlinear``, random scale in
      ``scale_range``) and :math:`X' = X`. Every point must sit at :math:`(M, M)`, :math:`M =`
      ``estimator(X, X)``.
    * small bottleneck: encoder layer ``i`` is an injective map of the projection of centred ``X`` on its
      top :math:`k_i` principal directions, :math:`k_i` non-increasing from ``d`` to ``K`` (nested, so a
      Markov chain); decoder layers are injective maps of Z widening back to ``d``, and
      :math:`X' = Z V_K^\\top + \\bar x` is the PCA reconstruction. Expected: no DPI violation, equal
      output MIs (Lemma 1), points in the triangle, Z and decoder on the bisector at
      :math:`\\lambda = \\hat I(X;Z)`.

    Input MI is ``estimator(X, T)``, output MI ``estimator(T, X')``. ``checks`` records each condition
    with absolute slack ``tol``. These are necessary conditions only: passing them does not prove an
    estimator correct (a constant estimator passes), failing them proves it inconsistent with the theory.

    Parameters
    ----------
    estimator : callable ``(A, B) -> float``
        A and B are (N, d_A), (N, d_B) sample arrays.
    X : array_like, shape (N, d), N > d >= 2
    n_encoder : int
        Encoder layers including Z. ``n_decoder`` defaults to ``n_encoder - 1`` (the paper's shape).
    K : int, optional
        Bottleneck width, ``1 <= K < d``; default ``d // 2``.
    rng : None, int or numpy.random.Generator
        Seed of the random layer maps.
    tol : float
        Absolute slack of every check, in the estimator's units.
    nonlinear : bool
        Apply ``tanh`` in the injective layers (a strictly monotone, information-preserving map).
    scale_range : (float, float)
        Range of the random positive scale of each layer; a scale-sensitive estimator fails here.

    Returns
    -------
    BenchmarkResult
        ``M``, ``lam``, ``K``, the two :class:`TheoryReport` (``large``, ``small``), ``distance_to_MM``,
        ``checks`` (name -> bool) and ``passed`` (all checks hold).

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-d array with more samples than features, or ``K`` is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> import renyimi
    >>> from renyimi.theory import benchmark_estimator
    >>> X = np.random.default_rng(0).normal(size=(100, 4))
    >>> def estimator(a, b):
    ...     return float(renyimi.mutual_information(a, b, sigma_scale=2.0))
    >>> result = benchmark_estimator(estimator, X, n_encoder=2, K=2, rng=0, tol=0.05)
    >>> list(result.checks)[:2]
    ['large: no forward-DPI violation', 'large: equal output MI (Lemma 1)']
    >>> result.passed           # print(result) shows which checks fail, and by how much
    False
    >>> benchmark_estimator(lambda a, b: 1.0, X, n_encoder=2, K=2, rng=0).passed   # necessary only
    True
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] < 2 or X.shape[0] <= X.shape[1] or not np.all(np.isfinite(X)):
        raise ValueError(f"X must be a finite (n_samples, n_features) array with n_samples > n_features >= 2; "
                         f"got X.shape={X.shape}.")
    d = X.shape[1]
    n_decoder = n_encoder - 1 if n_decoder is None else n_decoder
    layers = layer_names(n_encoder, n_decoder)
    K = d // 2 if K is None else K
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not 1 <= K < d:
        raise ValueError(f"K (bottleneck width) must be an integer in [1, d-1] with d={d}; got K={K!r}.")
    tol, rng = _check_tol(tol), np.random.default_rng(rng)
    if not 0 < scale_range[0] <= scale_range[1]:
        raise ValueError(f"scale_range must be (low, high) with 0 < low <= high; got {scale_range!r}.")

    def mi(a, b):
        return float(estimator(a, b))

    def plane(ts, x_rec):
        return (np.array([mi(X, t) for t in ts]), np.array([mi(t, x_rec) for t in ts]))

    M = _check_M(mi(X, X), "estimator(X, X)")
    large_ts, y = [], X
    for _ in layers:  # chained, so T_{i+1} is a function of T_i
        y = _injective_layer(y, d, rng, nonlinear, scale_range)
        large_ts.append(y)
    large = theory_report(*plane(large_ts, X), layers=layers, n_encoder=n_encoder, M=M, tol=tol)
    dist_mm = np.hypot(large.input_mi[-1] - M, large.output_mi[-1] - M)

    xc = X - X.mean(axis=0)
    v = np.linalg.svd(xc, full_matrices=False)[2].T  # principal directions, columns
    k_enc = np.rint(np.linspace(d, K, n_encoder + 1)[1:]).astype(int)
    k_dec = np.rint(np.linspace(K, d, n_decoder + 1)[1:]).astype(int)
    small_ts = [_injective_layer(xc @ v[:, :k], k, rng, nonlinear, scale_range) for k in k_enc[:-1]]
    scale = rng.uniform(*scale_range)
    z = scale * (xc @ v[:, :K])  # linear bottleneck, as in the paper's network
    small_ts += [z] + [_injective_layer(z, k, rng, nonlinear, scale_range) for k in k_dec]
    x_rec = (z / scale) @ v[:, :K].T + X.mean(axis=0)  # injective in z: v has orthonormal columns
    small = theory_report(*plane(small_ts, x_rec), layers=layers, n_encoder=n_encoder, M=M, tol=tol)
    lam = float(small.input_mi[-1, n_encoder - 1])

    checks = {
        "large: no forward-DPI violation": large.dpi.counts.sum() == 0,
        "large: equal output MI (Lemma 1)": large.output_spread.range[-1] <= tol,
        "large: every point at (M, M) (Theorem 1a)": dist_mm.max() <= tol,
        "small: no forward-DPI violation (eq. 13)": small.dpi.counts.sum() == 0,
        "small: equal output MI (Lemma 1)": small.output_spread.range[-1] <= tol,
        "small: inside the feasible triangle": small.feasibility.count == 0,
        "small: Z and decoder on the bisector (Theorem 1b)":
            np.abs(small.bisector[n_encoder - 1:]).max() <= tol,
    }
    return BenchmarkResult(M, lam, int(K), large, small, dist_mm, tol, {k: bool(c) for k, c in checks.items()})
