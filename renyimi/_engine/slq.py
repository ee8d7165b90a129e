r"""Rényi α-entropy of a large normalised Gram matrix by deflated stochastic Lanczos quadrature.

For a trace-one PSD operator :math:`A` (N, N) (:mod:`renyimi._engine.operators`) and
:math:`f(\lambda) = \lambda^\alpha` (or :math:`-\lambda\ln\lambda` at :math:`\alpha = 1`),

.. math:: S_\alpha(A) = \frac{1}{1-\alpha}\log_b \operatorname{tr} f(A), \qquad
          S_1(A) = \operatorname{tr} f(A) / \ln b  \qquad\text{(eq. 18)}.

The trace is split in three parts, each estimated where it is cheapest and most exact:

1. **Deflation** (exact part). With ``block=0`` (the default) the Krylov space is the probes' own:
   ``n_lanczos + 1`` block products of the Rademacher probes :math:`G` give an orthonormal basis
   :math:`V` of :math:`[G, AG, \dots, A^sG]` and :math:`H = V^\top AV`; the top ``rank`` Ritz pairs
   :math:`(\theta_i, u_i)` of :math:`H` whose couplings to the rest are negligible are deflated, and the
   probes' Lanczos runs on the remainder happen on the compressed :math:`H` with no further product
   (:func:`_probe_space_program`; the "Krylov-aware" estimator of [4]). With ``block > 0`` a separate block
   Krylov space :math:`[\Omega, A\Omega, \dots, A^q\Omega]` of ``block`` Gaussian start vectors is built
   first (:math:`q + 1` = ``krylov_steps + 1`` block products) and the Lanczos runs follow it. Either way
   :math:`\sum_i f(\theta_i)` is the deflated pairs' exact contribution (exact up to the squared Ritz
   residuals reported in ``ritz_residual``).
2. **Control variates.** On the remainder :math:`B = PAP`, :math:`P = I - UU^\top`, the traces
   :math:`\operatorname{tr}B = 1 - \sum_i\theta_i` and (when the operator gives :math:`\operatorname{tr}A^2`)
   :math:`\operatorname{tr}B^2 = \operatorname{tr}A^2 - 2\sum_i\lVert Au_i\rVert^2 + \sum_i\theta_i^2` are known
   exactly. With probes :math:`g_j` we estimate :math:`\operatorname{tr}(f(B) - c_1B - c_2B^2)` and add back
   :math:`c_1\operatorname{tr}B + c_2\operatorname{tr}B^2`; :math:`(c_1, c_2)` are the least-squares
   coefficients of :math:`g^\top f(B) g` on :math:`g^\top B g` and :math:`\lVert Bg\rVert^2` over the probes,
   both exact from the first Lanczos step. For :math:`\alpha` near 1, :math:`f` is nearly linear on the
   small eigenvalues of :math:`B`; the quadratic term fits its curvature over the top of the spectrum.
   Together they remove most of the probe variance, for no product.
3. **Stochastic Lanczos quadrature** (SLQ). For each Rademacher probe :math:`g`, ``n_lanczos`` Lanczos
   steps on :math:`B` from :math:`Pg` (full reorthogonalisation; with ``block > 0`` all probes advance
   together as one block product, with ``block=0`` on the compressed remainder) give the Gauss quadrature
   :math:`g^\top f(B) g \approx \lVert Pg\rVert^2 \sum_k \tau_k^2 f(\vartheta_k)` [3]; :math:`g^\top B g` is exact
   from the same run.

Two one-sided biases are removed. (i) *Quadrature*: Gauss quadrature errs on one side for these
:math:`f` (low for :math:`\lambda^{1.01}`, high for :math:`-\lambda\ln\lambda`); the Gauss–Radau rule with a
node fixed at 0 (the bottom of the spectrum) errs on the other, from the same Lanczos coefficients. Their
mean is the estimate. (ii) *Pinching*: deflating inexact Ritz
vectors drops the coupling :math:`R = PAU` between the deflated space and :math:`B`, which biases
:math:`\operatorname{tr}f` low for convex :math:`f` (high for concave), i.e. entropies high; a second-order
correction (:meth:`SLQState.pinching`; with ``block > 0`` one extra block product, with ``block=0``
negligible by the deflation criterion :data:`_DEFLATE_TOL`) is added and half of it counted as error.

Error model: ``stderr`` is the standard error of the control-variate mean over the probes
(:math:`s/\sqrt m` with the residual standard deviation :math:`s`, :math:`m - 1 - p` degrees of freedom for
:math:`p` control variates), combined in quadrature with a quadrature term (:meth:`SLQState.trace_f`: the
smaller of the Gauss/Gauss–Radau half-width and the change over the last quarter of the steps) and half
the pinching correction, and propagated through the logarithm for
:math:`\alpha \ne 1`: :math:`\delta S = \delta T / (|1-\alpha|\, T\ln b)`.

Sharing: :func:`prepare` does every product and returns an :class:`SLQState`; ``state.entropy(alpha)``
is then free for any order, so α = 1.01 and α = 1 (or a sweep over α) cost one run. The estimator is a
generator program that yields blocks and receives their products, so :func:`prepare_family` runs several
terms of one operator family in lockstep: each round's blocks go to one ``matmat_many`` pass, in which a
:class:`~renyimi._engine.operators.GaussianFamily` computes every variable's kernel tile once for its
marginal and all its joints. Probes can be shared across operators (``probes=``, common random numbers).

References
----------
.. [1] T. Gong, Y. Dong, S. Yu, B. Dong, "Computationally efficient approximations for matrix-based
       Rényi's entropy", IEEE Trans. Signal Process. 70, 2022 (arXiv:2112.13720).
.. [2] R. A. Meyer, C. Musco, C. Musco, D. P. Woodruff, "Hutch++: optimal stochastic trace
       estimation", SOSA 2021.
.. [3] S. Ubaru, J. Chen, Y. Saad, "Fast estimation of tr(f(A)) via stochastic Lanczos quadrature",
       SIAM J. Matrix Anal. Appl. 38(4), 2017.
.. [4] T. Chen, E. Hallman, "Krylov-aware stochastic trace estimation", SIAM J. Matrix Anal. Appl. 44(3),
       2023 (arXiv:2205.01736).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .arrays import device as _device
from .arrays import is_numpy_namespace, to_numpy

__all__ = ["SLQState", "auto_threshold", "default_controls", "make_probes", "prepare", "prepare_family",
           "products_width", "slq_entropy", "work_vectors"]

#: Above this many samples ``method="auto"`` uses SLQ instead of an exact eigendecomposition. Measured on
#: the 2-core machine (docs/large_samples.md): SLQ with the defaults is 7x faster than exact at N = 5 000
#: (MNIST, up to 3 millibits of error) and 19x at 16 384, but below 8 192 an exact MI takes under a
#: minute and has no stochastic error at all, so exact is kept there.
auto_threshold = 8192

#: The Ritz residuals R are multiplied through the last Krylov block's remainder F (R = F C) when
#: |R - F C|^2 <= _SPAN_RTOL |R|^2 (+ 1e-14); otherwise R itself is multiplied in one more pass.
_SPAN_RTOL = 1e-6

#: tr B = 1 - sum(theta) at or below this is round-off (tr A = 1; float64 sums of up to ~1e3 Ritz values):
#: the remainder is zero. What it could hide is below 1e-10 bits for alpha >= 1.
_ROUNDOFF_TRACE = 1e-12

#: ``block=0`` deflates a Ritz pair of the probes' Krylov space only while its coupling |r_i|^2 is at most this
#: times theta_i: the pinching term it leaves, about |r_i|^2 |f''(theta_i)| ~ |r_i|^2 / theta_i, stays below
#: 1e-10 of tr f per pair (1e-8 bits at alpha = 1.01).
_DEFLATE_TOL = 1e-10

#: :func:`_next_block` projects an orthonormalised block off the basis once more when the round-off left by the
#: projection can grow by more than this factor in it (to above ~1e-13 of orthogonality).
_REORTH_GROWTH = 1e3


def default_controls(n: int, alpha: float = 1.01) -> dict[str, int]:
    """Accuracy controls chosen from measurement (docs/large_samples.md) for N = ``n`` samples.

    Returns a dict with ``rank`` (deflated eigenpairs), ``n_probes``, ``n_lanczos``, and ``block`` and
    ``krylov_steps``: ``block=0`` deflates in the probes' own block Krylov space (``n_lanczos + 1`` product
    passes in all), ``block > 0`` in a separate space of ``block * (krylov_steps + 1)`` Gaussian vectors built
    first. ``alpha`` is accepted so that the defaults may depend on the order; the measured ones do not
    (α = 1 and α = 1.01 share one run). Measured: three Krylov vectors per deflated pair keep the pinching
    bias small (the probes' space of 16 x 21 = 336 vectors converges the top 64 pairs to couplings of 1e-20);
    16 probes suffice with the B² control variate; 20 Lanczos steps keep the quadrature's drift at about half
    the MI's standard error at N = 16 384 (16 steps double it). Deflating in the probes' space takes 21 passes
    of 16 columns where the separate space took 26 (6 of 32 columns): 20-25% less CPU time for the same
    errors at N = 16 384 and 32 768. The quadrature's drift grows with N (more of the spectrum near 0): at
    N = 100 000 (16 + 16 features) the MI still moved by 0.0075 bits between 20 and 40 steps, one standard
    error, against 0.0017 after 30, so above 40 000 samples the defaults take 30 steps (31 passes, each
    recomputing the N²/2 kernel entries: about 10 minutes for an MI at N = 100 000 on 2 cores).
    """
    del alpha
    return {"rank": 64, "block": 0, "krylov_steps": 0, "n_probes": 16, "n_lanczos": 20 if n <= 40000 else 30}


def work_vectors(controls: dict) -> int:
    """N-long work vectors (of the Krylov dtype) one term holds at its peak, for memory checks: with
    ``block=0`` the probes' block Krylov basis (``n_probes * (n_lanczos + 1)`` vectors) plus the probes, a
    product and the last remainder; otherwise the deflation's Krylov basis and its products plus the Ritz
    vectors, or the Lanczos vectors of all probes."""
    if controls["block"] == 0:
        return controls["n_probes"] * (controls["n_lanczos"] + 4)
    deflation = 2 * controls["block"] * (controls["krylov_steps"] + 1)
    return max(deflation, controls["n_probes"] * (controls["n_lanczos"] + 4)) + controls["rank"]


def products_width(controls: dict) -> int:
    """The widest block of vectors one term asks to multiply at once (an operator's output buffers)."""
    if controls["block"] == 0:
        return controls["n_probes"]
    return max(controls["block"], controls["rank"], controls["n_probes"])


def make_probes(n: int, n_probes: int, rng: np.random.Generator, xp: Any = np, *, device: Any = None,
                dtype: Any = None) -> Any:
    """Rademacher probes (N, m) of ±1 drawn from ``rng`` on the host, moved to ``xp``/``device``."""
    G = rng.integers(0, 2, size=(n, n_probes)).astype(np.float64) * 2.0 - 1.0
    return _to_xp(G, xp, device, dtype)


def _to_xp(a: np.ndarray, xp: Any, device: Any, dtype: Any) -> Any:
    dtype = xp.float64 if dtype is None else dtype
    if is_numpy_namespace(xp):
        return np.asarray(a, dtype=np.float64).astype(dtype, copy=False)
    return xp.asarray(a, dtype=dtype, device=device)


def _host(a: Any) -> np.ndarray:
    return np.asarray(to_numpy(a), dtype=np.float64)


def _fprime(t: np.ndarray, alpha: float) -> np.ndarray:
    """Derivative of ``_f`` at t > 0."""
    if alpha == 1.0:
        return -np.log(t) - 1.0
    return alpha * t ** (alpha - 1.0)


def _f(theta: np.ndarray, alpha: float) -> np.ndarray:
    t = np.clip(theta, 0.0, None)
    if alpha == 1.0:
        safe = np.where(t > 0, t, 1.0)
        return -t * np.log(safe)
    return t**alpha


@dataclass
class SLQState:
    r"""Everything :func:`prepare` computed for one operator; ``entropy(alpha)`` is free afterwards.

    Attributes
    ----------
    n : int
        Size of the operator.
    ritz_values : ndarray (rank,)
        Deflated top Ritz values :math:`\theta_i` (host, float64).
    ritz_residual : ndarray (rank,)
        Residual norms :math:`\lVert Au_i - \theta_i u_i\rVert` (accuracy of the deflation).
    deflated_trace : float
        :math:`\operatorname{tr}B = 1 - \sum_i\theta_i`, exact.
    nodes, weights : ndarray (m, s)
        Gauss quadrature per probe: :math:`g_j^\top f(B) g_j \approx \sum_k w_{jk} f(\vartheta_{jk})`.
    nodes_short, weights_short : ndarray (m, s')
        The same after :math:`s' = \lceil 3s/4\rceil` steps (truncation indicator).
    linear : ndarray (m,)
        :math:`g_j^\top B g_j` (exact).
    n_products : int
        Operator-times-vector products spent (columns of all ``matmat`` calls).
    controls : dict
        The accuracy controls used.
    nodes_radau, weights_radau : ndarray (m, s + 1)
        Gauss–Radau rule with a node fixed at 0, from the same Lanczos run (brackets the Gauss rule).
    coupling, coupling_rq : ndarray (rank,)
        :math:`\lVert r_i\rVert^2` and :math:`r_i^\top B r_i/\lVert r_i\rVert^2` of the Ritz residuals
        :math:`r_i = PAu_i` (pinching correction, :meth:`pinching`).
    quadratic : ndarray (m,), optional
        :math:`g_j^\top B^2 g_j = \lVert Bg_j\rVert^2` (exact, from the first Lanczos step).
    au_norms2 : ndarray (rank,), optional
        :math:`\lVert Au_i\rVert^2`, for :math:`\operatorname{tr}B^2`.
    trace_a2 : float, optional
        :math:`\operatorname{tr}A^2 = \sum_{ij}A_{ij}^2` when the operator provides it (``frobenius2``);
        it makes :math:`B^2` a second control variate (:attr:`deflated_trace2`).
    nodes_radau_short, weights_radau_short : ndarray (m, s' + 1), optional
        The Gauss–Radau rule after :math:`s'` steps (with ``nodes_short``: the estimate :math:`s - s'`
        steps earlier, a convergence indicator of the quadrature).
    lanczos_alphas, lanczos_betas : ndarray (s, m), optional
        The probes' Lanczos coefficients (diagonal and off-diagonal of each tridiagonal :math:`T_s`), and
        ``probe_norms2`` (m,) the squared norms :math:`\lVert Pg_j\rVert^2`: every rule above comes from them,
        and :meth:`with_steps` re-evaluates the estimate after fewer steps.
    """

    n: int
    ritz_values: np.ndarray
    ritz_residual: np.ndarray
    deflated_trace: float
    nodes: np.ndarray
    weights: np.ndarray
    nodes_short: np.ndarray
    weights_short: np.ndarray
    linear: np.ndarray
    n_products: int
    controls: dict = field(default_factory=dict)
    nodes_radau: np.ndarray | None = None
    weights_radau: np.ndarray | None = None
    coupling: np.ndarray | None = None
    coupling_rq: np.ndarray | None = None
    quadratic: np.ndarray | None = None
    au_norms2: np.ndarray | None = None
    trace_a2: float | None = None
    nodes_radau_short: np.ndarray | None = None
    weights_radau_short: np.ndarray | None = None
    lanczos_alphas: np.ndarray | None = None
    lanczos_betas: np.ndarray | None = None
    probe_norms2: np.ndarray | None = None

    def with_steps(self, steps: int) -> SLQState:
        """The same state with the quadrature of the first ``steps`` Lanczos steps only (free: no products).

        With a separate deflation space (``block > 0``) the estimate is then exactly what a run with
        ``n_lanczos=steps`` and the same random state would give; with ``block=0`` it keeps this run's
        (better converged) deflation. Comparing ``with_steps(s).entropy(alpha)`` over ``s`` shows how the
        quadrature converged: the truncation error of fewer steps, paired on the same probes.
        """
        if self.lanczos_alphas is None:
            raise ValueError("This state keeps no Lanczos coefficients (a run without probes or steps); "
                             "with_steps needs a state from prepare() with n_probes > 0 and n_lanczos > 0.")
        total = int(self.lanczos_alphas.shape[0])
        if not 1 <= int(steps) <= total:
            raise ValueError(f"steps must be between 1 and the {total} Lanczos steps of this state; got steps={steps}.")
        rules = _quadrature_rules(self.lanczos_alphas, self.lanczos_betas, int(steps), self.probe_norms2)
        return dataclasses.replace(self, **rules)

    @property
    def deflated_trace2(self) -> float | None:
        r""":math:`\operatorname{tr}B^2 = \operatorname{tr}A^2 - 2\sum_i\lVert Au_i\rVert^2 + \sum_i\theta_i^2`
        (:math:`B = PAP`, :math:`U^\top AU = \Theta`), or None without :attr:`trace_a2`."""
        if self.trace_a2 is None or self.quadratic is None or self.au_norms2 is None:
            return None
        return self.trace_a2 - 2.0 * float(np.sum(self.au_norms2)) + float(np.sum(self.ritz_values**2))

    def pinching(self, alpha: float) -> float:
        r"""Second-order correction for deflating inexact Ritz vectors: :math:`\operatorname{tr}f(A) -
        [\sum_i f(\theta_i) + \operatorname{tr}f(B)]`.

        With :math:`U` the deflated Ritz vectors and :math:`R = PAU` their residuals, :math:`A` is
        :math:`\operatorname{diag}(\Theta, B)` plus the off-diagonal coupling :math:`R`; to second order
        :math:`\delta = \sum_{i,j} (r_i^\top v_j)^2 \frac{f'(\theta_i) - f'(\mu_j)}{\theta_i - \mu_j}` over the
        eigenpairs :math:`(\mu_j, v_j)` of :math:`B`, evaluated here at one node per residual, its Rayleigh
        quotient :math:`\rho_i = r_i^\top B r_i/\lVert r_i\rVert^2`. Without it, the pinching inequality makes
        the deflated estimate of a convex :math:`f` low (concave: high), i.e. entropies come out high.
        """
        if self.coupling is None or self.coupling.shape[0] == 0:
            return 0.0
        # Ritz values at round-off (numerically zero eigenvalues) carry neither f(theta) nor a coupling
        # worth correcting; nodes below the round-off level are taken at it (f' is singular at 0 for alpha < 1).
        live = self.ritz_values > _ROUNDOFF_TRACE
        if not np.any(live):
            return 0.0
        th = self.ritz_values[live]
        rho = np.clip(self.coupling_rq[live], _ROUNDOFF_TRACE, None)
        rho = np.minimum(rho, th * (1 - 1e-12))
        return float(np.sum(self.coupling[live] * (_fprime(th, alpha) - _fprime(rho, alpha)) / (th - rho)))

    def trace_f(self, alpha: float) -> tuple[float, float, float]:
        r"""(tr f(A), statistical standard error, quadrature error term) for order ``alpha``.

        The estimate of the deflated remainder is the mean of the Gauss and Gauss–Radau (node 0)
        control-variate estimates, which bracket it. The quadrature error term is the smaller of half
        their difference (a bound when the bracket holds) and the change of that mean between
        :math:`\lceil 3s/4\rceil` and :math:`s` Lanczos steps (the mean converges much faster than the bracket
        closes: measured 5-20x smaller errors than the half-width), combined in quadrature with half the
        pinching correction :meth:`pinching`, which is added. Without a Radau rule: the change of the Gauss
        rule between the two step counts. The control variates are :math:`B` and, when
        :attr:`deflated_trace2` is known, :math:`B^2`.
        """
        pinch = self.pinching(alpha)
        top = float(np.sum(_f(self.ritz_values, alpha))) + pinch
        m = self.linear.shape[0]
        if m == 0 or self.deflated_trace <= _ROUNDOFF_TRACE:
            # Nothing left outside the deflated space but round-off (the Krylov space holds the numerical
            # range of A): B is zero, and regressing on covariates of size 1e-16 would amplify noise.
            return top, 0.0, abs(pinch) / 2
        covariates, traces = [self.linear], [self.deflated_trace]
        trace2 = self.deflated_trace2
        if trace2 is not None and trace2 > 0 and m >= 6:
            covariates.append(self.quadratic)
            traces.append(trace2)
        X, t = np.column_stack(covariates), np.asarray(traces)
        gauss = np.sum(self.weights * _f(self.nodes, alpha), axis=1)
        gauss_short = np.sum(self.weights_short * _f(self.nodes_short, alpha), axis=1)
        if self.nodes_radau is not None:
            radau = np.sum(self.weights_radau * _f(self.nodes_radau, alpha), axis=1)
            rest, se = _control_variate((gauss + radau) / 2, X, t)
            rest_g, _ = _control_variate(gauss, X, t)
            rest_r, _ = _control_variate(radau, X, t)
            quadrature = abs(rest_r - rest_g) / 2
            if self.nodes_radau_short is not None:
                radau_short = np.sum(self.weights_radau_short * _f(self.nodes_radau_short, alpha), axis=1)
                earlier = (gauss_short + radau_short) / 2
                quadrature = min(quadrature, abs(rest - _control_variate(earlier, X, t)[0]))
            return top + rest, se, math.hypot(quadrature, pinch / 2)
        rest, se = _control_variate(gauss, X, t)
        rest_short, _ = _control_variate(gauss_short, X, t)
        return top + rest, se, abs(rest - rest_short)

    def entropy(self, alpha: float, base: float = 2.0) -> tuple[float, float]:
        r"""Rényi α-entropy (eq. 18) in units of ``base`` and its standard error, as Python floats."""
        t, se, trunc = self.trace_f(alpha)
        err = math.hypot(se, trunc)
        lb = math.log(base)
        if alpha == 1.0:
            return t / lb, err / lb
        t = max(t, np.finfo(np.float64).tiny)
        return math.log(t) / ((1.0 - alpha) * lb), err / (abs(1.0 - alpha) * t * lb)


def _control_variate(y: np.ndarray, X: np.ndarray, traces: np.ndarray) -> tuple[float, float]:
    """Estimate E[y] (= tr f(B)) as mean(y - X c) + c . traces, c the least-squares coefficients of y on the
    covariates X (m, p) whose exact means are ``traces`` (p,); its standard error (m - p - 1 dof)."""
    m, p = X.shape
    if m < p + 2:
        return float(np.mean(y)), float(np.std(y, ddof=1) / math.sqrt(m)) if m > 1 else 0.0
    Xc = X - X.mean(axis=0)
    scale = np.sqrt(np.sum(Xc * Xc, axis=0))
    live = scale > 0
    c = np.zeros(p)
    if np.any(live):
        c[live] = np.linalg.lstsq(Xc[:, live] / scale[live], y - y.mean(), rcond=None)[0] / scale[live]
    r = y - X @ c
    est = float(r.mean() + c @ traces)
    resid = r - r.mean()
    dof = m - 1 - int(np.count_nonzero(live))
    se = math.sqrt(float(resid @ resid) / dof / m)
    return est, se


def prepare(op: Any, *, rng: np.random.Generator, rank: int | None = None, n_probes: int | None = None,
            n_lanczos: int | None = None, block: int | None = None, krylov_steps: int | None = None,
            probes: Any = None, dtype: Any = None) -> SLQState:
    r"""Deflate, then run block stochastic Lanczos on the remainder of ``op``; see the module docstring.

    Parameters
    ----------
    op : operator
        Trace-one PSD operator with ``n``, ``xp`` and ``matmat`` (:mod:`renyimi._engine.operators`).
    rng : numpy.random.Generator
        Source of the start block and probes (same seed, same result).
    rank : int
        Number of top Ritz pairs deflated (0: plain SLQ with the control variate).
    n_probes, n_lanczos : int
        Number of Rademacher probes :math:`m` and Lanczos steps :math:`s` per probe.
    block, krylov_steps : int
        ``block=0`` (default): deflate in the probes' own block Krylov space (``n_lanczos + 1`` passes in
        all). ``block > 0``: a separate deflation space of ``block * (krylov_steps + 1)`` >= ``rank``
        Gaussian vectors, built first.
    probes : array (N, m), optional
        Probes to use instead of drawing them (e.g. shared across operators).
    dtype : dtype, optional
        Precision of the Krylov vectors (default float64 of ``op.xp``); products run in ``op.dtype``.

    Returns
    -------
    SLQState
        ``state.entropy(alpha, base)`` gives ``(value, stderr)``.
    """
    program = _program(int(op.n), op.xp, _operator_device(op), rng=rng, rank=rank, n_probes=n_probes,
                       n_lanczos=n_lanczos, block=block, krylov_steps=krylov_steps, probes=probes, dtype=dtype)
    state = _drive({0: program}, lambda blocks: {k: op.matmat(V) for k, V in blocks.items()})[0]
    if hasattr(op, "frobenius2"):
        state.trace_a2 = float(op.frobenius2())
    return state


def prepare_family(family: Any, terms: list, *, rngs: list, **controls: Any) -> dict:
    r""":func:`prepare` for several terms of one operator family, all products of a round in one pass.

    Every term runs the same program as :func:`prepare` (same controls, its own ``rng``: the same seed
    gives the same estimate as a separate run, up to the rounding of the tiles), and the programs advance
    in lockstep: at each round the blocks of all terms go to ``family.matmat_many`` together, so a
    :class:`~renyimi._engine.operators.GaussianFamily` computes each variable's kernel tile once for its
    marginal and every joint it is in.

    Parameters
    ----------
    family : operator family
        With ``n``, ``xp``, ``device`` and ``matmat_many({term: V}) -> {term: A_term V}``.
    terms : list of tuples
        The terms (operators) of the family to estimate.
    rngs : list of numpy.random.Generator
        One per term.
    **controls
        As for :func:`prepare`.

    Returns
    -------
    dict
        ``{term: SLQState}``.
    """
    if len(rngs) != len(terms):
        raise ValueError(f"rngs must give one generator per term; got {len(rngs)} for {len(terms)} terms.")
    programs = {tuple(t): _program(int(family.n), family.xp, family.device, rng=r, **controls)
                for t, r in zip(terms, rngs)}
    states = _drive(programs, family.matmat_many, workers=getattr(family, "workers", 1))
    if hasattr(family, "frobenius2"):
        for term, state in states.items():
            state.trace_a2 = float(family.frobenius2(term))
    return states


def _operator_device(op: Any) -> Any:
    if hasattr(op, "device"):
        return op.device
    return _device(op.Z if hasattr(op, "Z") else op.A)


def _drive(programs: dict, matmat_many: Any, *, workers: int = 1) -> dict:
    """Run generator programs in lockstep: each yields a block V and is sent back A V; returns their results.

    With ``workers`` > 1 the programs' own steps (orthogonalisation, Lanczos recurrences) run in that many
    threads, each with single-threaded BLAS: three terms of an MI share two cores better that way than by
    splitting each small GEMM over both (measured: the same wall time, less CPU time).
    """
    results, pending = {}, {}

    def step(key, W):
        try:
            return key, (programs[key].send(W) if W is not None else next(programs[key])), None
        except StopIteration as stop:
            return key, None, stop

    def advance(items):
        if workers > 1 and len(items) > 1:
            from concurrent.futures import ThreadPoolExecutor

            from .eigen import blas_threads

            with blas_threads(1), ThreadPoolExecutor(min(workers, len(items))) as pool:
                return list(pool.map(lambda item: step(*item), items))
        return [step(*item) for item in items]

    items = [(key, None) for key in programs]
    while items:
        pending = {}
        for key, block, stop in advance(items):
            if stop is None:
                pending[key] = block
            else:
                results[key] = stop.value
        items = list(matmat_many(pending).items()) if pending else []
    return {key: results[key] for key in programs}


def _program(n: int, xp: Any, dev: Any, *, rng: np.random.Generator, rank: int | None = None,
             n_probes: int | None = None, n_lanczos: int | None = None, block: int | None = None,
             krylov_steps: int | None = None, probes: Any = None, dtype: Any = None):
    """The estimator as a generator: ``W = yield V`` asks for the product ``A V``; returns the SLQState."""
    defaults = default_controls(n)
    rank = defaults["rank"] if rank is None else int(rank)
    n_probes = defaults["n_probes"] if n_probes is None else int(n_probes)
    n_lanczos = defaults["n_lanczos"] if n_lanczos is None else int(n_lanczos)
    block = defaults["block"] if block is None else int(block)
    krylov_steps = defaults["krylov_steps"] if krylov_steps is None else int(krylov_steps)
    for name, value in (("rank", rank), ("n_probes", n_probes), ("n_lanczos", n_lanczos), ("block", block),
                        ("krylov_steps", krylov_steps)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0; got {name}={value}.")
    dtype = xp.float64 if dtype is None else dtype
    controls = {"rank": rank, "n_probes": n_probes, "n_lanczos": n_lanczos, "block": block,
                "krylov_steps": krylov_steps}
    if block == 0:
        return (yield from _probe_space_program(n, xp, dev, rng=rng, controls=controls, probes=probes, dtype=dtype))
    products = 0

    # 1. Deflation: block Krylov + Rayleigh-Ritz.
    rank = min(rank, n)
    if rank > 0:
        block = max(1, min(block, n))
        steps = max(krylov_steps, math.ceil(rank / block) - 1)
        steps = min(steps, max(0, n // block - 1))
        width = block * (steps + 1)
        Q = xp.zeros((n, width), dtype=dtype, device=dev) if xp is not np else np.zeros((n, width), dtype=dtype)
        AQ = xp.zeros((n, width), dtype=dtype, device=dev) if xp is not np else np.zeros((n, width), dtype=dtype)
        Q[:, :block] = _orthonormal(_to_xp(rng.standard_normal((n, block)), xp, dev, dtype), xp)
        for j in range(steps + 1):
            lo, hi = j * block, (j + 1) * block
            W = yield Q[:, lo:hi]
            products += block
            AQ[:, lo:hi] = W
            if j == steps:
                break
            basis = Q[:, :hi]
            Q[:, hi:hi + block] = _next_block(basis, W, xp)[2]
        T = _host(Q.T @ AQ)
        T = (T + T.T) / 2
        theta, S = np.linalg.eigh(T)
        order = np.argsort(theta)[::-1][: min(rank, theta.shape[0])]
        theta = theta[order]
        S_top = _to_xp(S[:, order], xp, dev, dtype)
        U = Q @ S_top
        AU = AQ @ S_top
        R = AU - U * _to_xp(theta, xp, dev, dtype)[None, :]
        resid = _host(xp.sqrt(xp.sum(R**2, axis=0)))
        au_norms2 = _host(xp.sum(AU * AU, axis=0))
        # Coupling of the deflated space to the remainder (pinching correction, see SLQState.trace_f):
        # R = P A U, and each residual's Rayleigh quotient on B needs B R. In a block Krylov space
        # A Q = Q (Q^T A Q) + [0, ..., 0, F] with F = (I - QQ^T) A Q_last, so R = F C: B R = P (A F) C costs
        # `block` products instead of `rank`, and they ride along with the first Lanczos step.
        F = AQ[:, width - block:]
        for _ in range(2):
            F = F - Q @ (Q.T @ F)
        F = _orthonormal(F, xp)
        del Q, AQ, AU
        R = R - U @ (U.T @ R)
        coupling = _host(xp.sum(R * R, axis=0))
        C = F.T @ R
        # |R - F C|^2 = |R|^2 - |C|^2 (F has orthonormal columns): checked on the small side, no N x rank temporary.
        outside = float(np.sum(coupling)) - float(_host(xp.sum(C * C)))
        if not outside <= _SPAN_RTOL * float(np.sum(coupling)) + 1e-14:  # (tr A = 1 sets the absolute scale)
            # R is not in span(F) to round-off (a Krylov space that lost directions): multiply R itself.
            F, C = R, None
    else:
        theta = np.zeros(0)
        resid = np.zeros(0)
        coupling = coupling_rq = au_norms2 = np.zeros(0)
        U = F = None

    def coupling_quotients(AF):
        BR = AF if C is None else AF @ C
        BR = BR - U @ (U.T @ BR)
        return _host(xp.sum(R * BR, axis=0)) / np.where(coupling > 0, coupling, 1.0)

    deflated_trace = 1.0 - float(np.sum(theta))

    def project(W):
        return W if U is None else W - U @ (U.T @ W)

    def project_rows(w):  # the same for vectors stored as rows (m, N)
        return w if U is None else w - (w @ U) @ U.T

    # 2-3. Block stochastic Lanczos on B = P A P from the projected probes.
    if probes is None:
        probes = make_probes(n, n_probes, rng, xp, device=dev, dtype=dtype)
    elif probes.shape[0] != n:
        raise ValueError(f"probes must have shape (n, n_probes) = ({n}, m); got {tuple(probes.shape)}.")
    m = int(probes.shape[1])
    s = min(n_lanczos, n)
    if m == 0 or s == 0:
        if F is not None:
            coupling_rq = coupling_quotients((yield F))
            products += int(F.shape[1])
        empty = np.zeros((m, 0))
        return SLQState(n, theta, resid, deflated_trace, empty, empty, empty, empty, np.zeros(m), products, controls,
                        None, None, coupling, coupling_rq)
    G = project(probes)
    norms2 = _host(xp.sum(G * G, axis=0))
    # Lanczos vectors are stored as rows, probe-major (m, s, N): reorthogonalisation is a batched GEMV.
    v = (G / xp.sqrt(_to_xp(np.where(norms2 > 0, norms2, 1.0), xp, dev, dtype))[None, :]).T
    del G
    basis = xp.zeros((m, s, n), dtype=dtype, device=dev) if xp is not np else np.zeros((m, s, n), dtype=dtype)
    basis[:, 0, :] = v
    alphas = np.zeros((s, m))
    betas = np.zeros((s, m))
    v_prev = None
    for j in range(s):
        if j == 0 and F is not None:  # the coupling's products share the first Lanczos pass
            k = int(F.shape[1])
            W = yield xp.concat([F, v.T], axis=1)
            coupling_rq, w = coupling_quotients(W[:, :k]), W[:, k:].T
            products += k
            del F, R
        else:
            w = (yield v.T).T
        products += m
        # Reorthogonalised once, then projected by P (the Lanczos vectors are orthogonal to U, so neither the
        # coefficients nor alpha see U's components).
        v_next = _lanczos_step(w, v, v_prev, j, basis, alphas, betas, xp, dev, dtype, project_rows=project_rows)
        if j + 1 == s:
            break
        v_prev, v = v, v_next
        basis[:, j + 1, :] = v
    del basis
    linear = norms2 * alphas[0]
    quadratic = norms2 * (alphas[0] ** 2 + betas[0] ** 2)  # |B g|^2: B v_0 = alpha_0 v_0 + beta_0 v_1
    return SLQState(n=n, ritz_values=theta, ritz_residual=resid, deflated_trace=deflated_trace, linear=linear,
                    n_products=products, controls=controls, coupling=coupling, coupling_rq=coupling_rq,
                    quadratic=quadratic, au_norms2=au_norms2, lanczos_alphas=alphas, lanczos_betas=betas,
                    probe_norms2=norms2, **_quadrature_rules(alphas, betas, s, norms2))


def _quadrature_rules(alphas: np.ndarray, betas: np.ndarray, s: int, norms2: np.ndarray) -> dict:
    r"""The Gauss and Gauss–Radau rules after ``s`` and :math:`\lceil 3s/4\rceil` steps, as SLQState fields."""
    s_short = max(1, math.ceil(3 * s / 4))
    nodes, weights = _gauss_quadrature(alphas, betas, s, norms2)
    nodes_s, weights_s = _gauss_quadrature(alphas, betas, s_short, norms2)
    nodes_r, weights_r = _radau_quadrature(alphas, betas, s, norms2)
    nodes_rs, weights_rs = _radau_quadrature(alphas, betas, s_short, norms2)
    return {"nodes": nodes, "weights": weights, "nodes_short": nodes_s, "weights_short": weights_s,
            "nodes_radau": nodes_r, "weights_radau": weights_r, "nodes_radau_short": nodes_rs,
            "weights_radau_short": weights_rs}


def _probe_space_program(n: int, xp: Any, dev: Any, *, rng: np.random.Generator, controls: dict, probes: Any,
                         dtype: Any):
    r"""``block=0``: deflation and quadrature from one block Krylov space of the probes themselves.

    The probes :math:`G` (N, m) span the first block; ``n_lanczos + 1`` block products build an orthonormal
    basis :math:`V` (N, D), :math:`D = m(s + 1)`, with :math:`AV = VH + FE^\top` (:math:`H = V^\top AV`,
    :math:`F` the remainder of the last block). The top Ritz pairs :math:`(\theta_i, Vs_i)` of :math:`H` are
    deflated (at most ``rank``; only pairs whose coupling :math:`\lVert r_i\rVert^2 = \lVert Fs_i^{last}\rVert^2`
    is below :data:`_DEFLATE_TOL` :math:`\theta_i`, so that the pinching term is negligible), and each probe's
    Lanczos run on :math:`B = PAP` is the Lanczos run on the compressed remainder
    :math:`H_B = H - S\Theta S^\top` from :math:`V^\top Pg_j` (exact up to the couplings: a vector of the
    Krylov space orthogonal to the deflated Ritz vectors is mapped by :math:`A` into the space, or into
    :math:`F` from the last block). :math:`g^\top Bg`, :math:`\lVert Bg\rVert^2`, :math:`\operatorname{tr}B` and
    :math:`\lVert Au_i\rVert^2 = \theta_i^2 + \lVert r_i\rVert^2` are exact. Compared with a separate
    deflation space (``block > 0``) this saves its ``krylov_steps + 1`` product passes, and every pass is
    ``m`` columns wide; the deflated subspace depends on the probes, at second order in the couplings (the
    Ritz pairs it deflates are converged: couplings of 1e-20 at the defaults, measured).
    """
    rank, n_lanczos = controls["rank"], controls["n_lanczos"]
    if probes is None:
        probes = make_probes(n, controls["n_probes"], rng, xp, device=dev, dtype=dtype)
    elif probes.shape[0] != n:
        raise ValueError(f"probes must have shape (n, n_probes) = ({n}, m); got {tuple(probes.shape)}.")
    m = int(probes.shape[1])
    if m == 0:
        raise ValueError("block=0 builds the deflation from the probes' Krylov space and needs n_probes >= 1; "
                         "got n_probes=0. Give n_probes >= 1, or block > 0 for a separate deflation space.")
    passes = max(1, min(n_lanczos + 1, n // m))  # the basis never exceeds N vectors
    width = m * passes
    V = xp.zeros((n, width), dtype=dtype, device=dev) if xp is not np else np.zeros((n, width), dtype=dtype)
    V[:, :m] = _orthonormal(probes, xp)
    coords = _host(V[:, :m].T @ probes)  # the probes in the basis (first block only)
    H = np.zeros((width, width))
    known = np.zeros((passes, passes), dtype=bool)  # block (i, j) of H computed from the product of block j
    F = None
    for t in range(passes):
        lo, hi = t * m, (t + 1) * m
        W = yield V[:, lo:hi]
        basis = V[:, :hi]
        # In exact arithmetic A V_t lies in the span of V_{t-1}, V_t and the next block: projecting those two
        # blocks off first removes almost all of it, so that one sweep over the whole basis is then enough
        # (instead of two; _project_off repeats it when the test says so).
        near = V[:, max(0, lo - m):hi]
        c_near = near.T @ W
        W = W - near @ c_near
        if t + 1 == passes:
            F, c, _ = _project_off(basis, W, xp)
        else:
            W, c, Qn = _next_block(basis, W, xp)
        H[:hi, lo:hi] = _host(c)
        H[max(0, lo - m):hi, lo:hi] += _host(c_near)
        known[: t + 1, t] = True
        if F is not None:
            break
        V[:, hi:hi + m] = Qn
        H[hi:hi + m, lo:hi] = _host(Qn.T @ W)
        known[t + 1, t] = True
    del V
    mask = np.kron(known, np.ones((m, m), dtype=bool))
    H = np.where(mask & mask.T, (H + H.T) / 2, np.where(mask, H, H.T))
    FtF = _host(F.T @ F)
    del F
    theta, S = np.linalg.eigh(H)
    order = np.argsort(theta)[::-1]
    theta, S = theta[order], S[:, order]
    last = S[width - m:, :]
    coupling_all = np.einsum("ir,ij,jr->r", last, FtF, last)
    r = 0
    while (r < min(rank, width - 1) and theta[r] > _ROUNDOFF_TRACE
           and coupling_all[r] <= _DEFLATE_TOL * theta[r]):
        r += 1
    Sr, theta_r, coupling = S[:, :r], theta[:r], coupling_all[:r]
    G = np.zeros((width, m))
    G[:m] = coords
    PG = G - Sr @ (Sr.T @ G)
    HB = H - (Sr * theta_r) @ Sr.T
    s = max(1, min(passes - 1, width - r))
    alphas, betas, norms2 = _lanczos_small(HB, PG, s)
    BG = HB @ PG  # (I - S S^T) H PG: the part of B Pg in the basis; F PG_last leaves it
    quadratic = np.sum(BG * BG, axis=0) + np.einsum("im,ij,jm->m", PG[width - m:], FtF, PG[width - m:])
    # The couplings' Rayleigh quotients on B are unknown without another pass; the next Ritz value stands in
    # (the pinching term is below _DEFLATE_TOL * theta_i per pair anyway; half of it is counted as error).
    rho = np.full(r, theta[r] if r < width else 0.0)
    return SLQState(n=n, ritz_values=theta_r, ritz_residual=np.sqrt(coupling),
                    deflated_trace=1.0 - float(np.sum(theta_r)), linear=norms2 * alphas[0], n_products=m * passes,
                    controls=controls, coupling=coupling, coupling_rq=rho, quadratic=quadratic,
                    au_norms2=theta_r**2 + coupling, lanczos_alphas=alphas, lanczos_betas=betas, probe_norms2=norms2,
                    **_quadrature_rules(alphas, betas, s, norms2))


def _lanczos_step(w: Any, v: Any, v_prev: Any, j: int, basis: Any, alphas: np.ndarray, betas: np.ndarray, xp: Any,
                  dev: Any, dtype: Any, *, sweeps: int = 1, project_rows: Any = None) -> Any:
    r"""Step ``j`` of m Lanczos runs at once, their vectors stored as rows: from ``w`` = :math:`Av` (m, D),
    sets ``alphas[j]`` and ``betas[j]`` (host arrays (s, m)) and returns the next vectors (zero for a run that
    broke down, :math:`\beta_j \le 10^{-10}\max_{i\le j}|\alpha_i|`). ``w`` is reorthogonalised
    ``sweeps`` times against the run's own vectors ``basis[:, :j + 1]`` (m, s, D), then ``project_rows``."""
    a = xp.sum(w * v, axis=1)
    alphas[j] = _host(a)
    w = w - a[:, None] * v
    if v_prev is not None:
        w = w - _to_xp(betas[j - 1], xp, dev, dtype)[:, None] * v_prev
    Vj = basis[:, : j + 1, :]
    for _ in range(sweeps):
        w = w - (xp.matrix_transpose(Vj @ w[:, :, None]) @ Vj)[:, 0, :]
    if project_rows is not None:
        w = project_rows(w)
    b = _host(xp.sqrt(xp.sum(w * w, axis=1)))
    alive = b > 1e-10 * np.maximum(np.abs(alphas[: j + 1]).max(axis=0), 1e-300)
    betas[j] = np.where(alive, b, 0.0)
    return w * _to_xp(np.where(alive, 1.0 / np.where(alive, b, 1.0), 0.0), xp, dev, dtype)[:, None]


def _lanczos_small(H: np.ndarray, C: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``s`` Lanczos steps on the small symmetric ``H`` (D, D) from each column of ``C`` (D, m), all columns
    together, with full reorthogonalisation (twice): (alphas (s, m), betas (s, m), squared start norms (m,))."""
    m = C.shape[1]
    norms2 = np.sum(C * C, axis=0)
    v = (C / np.sqrt(np.where(norms2 > 0, norms2, 1.0))).T  # (m, D): vectors as rows
    basis = np.zeros((m, s, C.shape[0]))
    alphas, betas = np.zeros((s, m)), np.zeros((s, m))
    v_prev = None
    for j in range(s):
        basis[:, j] = v
        v_prev, v = v, _lanczos_step(v @ H, v, v_prev, j, basis, alphas, betas, np, None, np.float64, sweeps=2)
    return alphas, betas, norms2


def _gauss_quadrature(alphas: np.ndarray, betas: np.ndarray, s: int, norms2: np.ndarray):
    """Nodes and weights (m, s) of each probe's s-step Lanczos tridiagonal; weights sum to |Pg|^2."""
    m = alphas.shape[1]
    T = np.zeros((m, s, s))
    idx = np.arange(s)
    T[:, idx, idx] = alphas[:s].T
    # A breakdown (beta = 0) decouples the rest of T: those nodes get zero weight automatically.
    off = betas[: s - 1].T
    T[:, idx[:-1], idx[1:]] = off
    T[:, idx[1:], idx[:-1]] = off
    # Steps after a breakdown carry alpha = 0 from a zero vector; they are decoupled (beta = 0).
    theta, S = np.linalg.eigh(T)
    return theta, (S[:, 0, :] ** 2) * norms2[:, None]


def _radau_quadrature(alphas: np.ndarray, betas: np.ndarray, s: int, norms2: np.ndarray):
    r"""Gauss–Radau rule (m, s + 1) with one node fixed at 0, the lower end of the spectrum of :math:`B`.

    The Lanczos tridiagonal :math:`T_s` is bordered by :math:`\beta_s` and the last diagonal entry
    :math:`\phi = \delta_s` with :math:`T_s\delta = \beta_s^2 e_s` (Golub & Meurant, "Matrices, Moments
    and Quadrature", 2010, §6.2), so that 0 is an eigenvalue of the extended matrix. For
    :math:`f(\lambda) = \lambda^\alpha` (:math:`1 < \alpha < 2`) and :math:`-\lambda\ln\lambda`, whose
    even derivatives keep one sign and odd ones the other on :math:`(0, \infty)`, the Gauss and this
    Radau rule err in opposite directions, so they bracket :math:`g^\top f(B) g`. No extra products:
    :math:`\beta_s` comes from the last Lanczos step. A probe whose Lanczos run broke down
    (:math:`\beta_s = 0`) gets the Gauss rule plus a zero-weight node.
    """
    m = alphas.shape[1]
    T = np.zeros((m, s + 1, s + 1))
    idx = np.arange(s)
    T[:, idx, idx] = alphas[:s].T
    off = betas[:s].T  # (m, s); off[:, s-1] = beta_s borders T_s
    T[:, idx, idx + 1] = off
    T[:, idx + 1, idx] = off
    Ts = T[:, :s, :s]
    rhs = np.zeros((m, s))
    rhs[:, -1] = off[:, -1] ** 2
    ok = off[:, -1] > 0
    phi = np.zeros(m)
    if np.any(ok):
        try:
            delta = np.linalg.solve(Ts[ok], rhs[ok][:, :, None])[:, :, 0]
            phi[ok] = delta[:, -1]
        except np.linalg.LinAlgError:  # pragma: no cover - singular T_s: B has a Ritz value at 0
            phi[ok] = 0.0
    T[:, s, s] = phi
    theta, S = np.linalg.eigh(T)
    return theta, (S[:, 0, :] ** 2) * norms2[:, None]


def _project_off(basis: Any, W: Any, xp: Any) -> tuple[Any, Any, np.ndarray]:
    r"""``W`` (N, k) less its components in the span of the orthonormal ``basis`` (N, D), by block classical
    Gram–Schmidt, repeated while a sweep removes more than half of some column's squared norm (the
    Kahan–Parlett test: then the round-off of that sweep, about :math:`\epsilon` times the norm before it,
    may not be small against what is left; at most three sweeps).

    Returns the projected ``W``, the summed coefficients :math:`c` (D, k) (so that the input is
    :math:`Bc + W`) and, per column, the squared norm before the last sweep over the squared norm after it.
    """
    c_sum = None
    before = _host(xp.sum(W * W, axis=0))
    for _ in range(3):
        c = basis.T @ W
        W = W - basis @ c
        c_sum = c if c_sum is None else c_sum + c
        after = _host(xp.sum(W * W, axis=0))
        ratio = before / np.where(after > 0, after, np.finfo(float).tiny)
        if np.all(ratio <= 2.0):
            break
        before = after
    return W, c_sum, ratio


def _next_block(basis: Any, W: Any, xp: Any) -> tuple[Any, Any, Any]:
    r"""The next block of an orthonormal Krylov basis: ``W`` (N, k) projected off ``basis``
    (:func:`_project_off`), then orthonormalised.

    The basis components that the last projection leaves, about :math:`\epsilon` times the norm before it,
    are amplified by :math:`\kappa(W)` times (per column) the norm before over the norm after in the
    orthonormal block, so that block is projected off the basis once more only when this factor exceeds
    :data:`_REORTH_GROWTH` (the loss of orthogonality could exceed about 1e-13). Measured at the defaults:
    no block of the grid cases needs it (one N x D projection saved per product pass); a near-identity
    (flat) and a sharply decaying spectrum exceed it in 3 of 60 blocks each, and a direction that vanishes
    in the projection (an exhausted Krylov space, completed by QR with an arbitrary vector) always does.

    Returns the projected ``W``, the projection coefficients and the orthonormal block.
    """
    W, c, ratio = _project_off(basis, W, xp)
    Qn = _orthonormal(W, xp)
    ev = np.linalg.eigvalsh(_host(W.T @ W))
    if ev.size:
        growth = (math.sqrt(ev[-1] / ev[0]) if ev[0] > 0 else math.inf) * math.sqrt(float(np.max(ratio)))
        if growth > _REORTH_GROWTH:
            Qn = _orthonormal(Qn - basis @ (basis.T @ Qn), xp)
    return W, c, Qn


def _orthonormal(W: Any, xp: Any) -> Any:
    """Orthonormal basis of the columns of ``W`` (N, k): CholeskyQR2 (two GEMM-based passes), or Householder
    QR when ``W`` is too ill-conditioned for it (e.g. a Krylov space that has run out of directions)."""
    Q = W
    for _ in range(2):
        try:
            L = xp.linalg.cholesky(Q.T @ Q)
            diag = _host(xp.linalg.diagonal(L))
        except Exception:  # not positive definite: numerically rank deficient
            break
        if not (np.all(np.isfinite(diag)) and diag.min() > 1e-5 * diag.max()):
            break
        Q = Q @ xp.linalg.inv(L).T
    else:
        return Q
    Q, _ = xp.linalg.qr(W)
    return Q


def slq_entropy(op: Any, alpha: float, *, base: float = 2.0, rng: np.random.Generator, n_probes: int | None = None,
                n_lanczos: int | None = None, rank: int | None = None, block: int | None = None,
                krylov_steps: int | None = None, probes: Any = None, dtype: Any = None) -> tuple[float, float]:
    r"""Rényi α-entropy (eq. 18) of a trace-one operator by deflated SLQ with a control variate.

    Parameters
    ----------
    op : operator
        :class:`~renyimi._engine.operators.DenseOperator`, :class:`~renyimi._engine.operators.GaussianOperator`
        (or any object with ``n``, ``xp``, ``matmat``) representing a trace-one PSD matrix.
    alpha : float
        Order > 0; 1 gives the von Neumann entropy :math:`-\sum\lambda\log\lambda`.
    base : float
        Logarithm base (2: bits).
    rng : numpy.random.Generator
        Randomness (start block and probes); the same seed gives the identical result.
    n_probes, n_lanczos, rank, block, krylov_steps, probes, dtype
        Controls, see :func:`prepare`; defaults from :func:`default_controls`.

    Returns
    -------
    value, stderr : float
        The entropy in units of ``base`` and its estimated standard error (module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from renyimi._engine.operators import DenseOperator
    >>> A = np.diag(np.full(400, 1 / 400))
    >>> value, err = slq_entropy(DenseOperator(A, np), 1.01, rng=np.random.default_rng(0), rank=8)
    >>> round(value, 6), err < 1e-6   # log2(400) = 8.643856
    (8.643856, True)
    """
    state = prepare(op, rng=rng, rank=rank, n_probes=n_probes, n_lanczos=n_lanczos, block=block,
                    krylov_steps=krylov_steps, probes=probes, dtype=dtype)
    return state.entropy(alpha, base)
