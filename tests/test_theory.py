"""Tests for renyimi.theory: closed forms of Sec. II of Tapia & Estévez (2020) and the estimator benchmark."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renyimi import theory as th

# ----------------------------------------------------------------------------- helpers


def _plugin_entropy(a):
    """Exact plug-in entropy (bits) of the empirical distribution of the rows (discretisation, Def. 4)."""
    _, counts = np.unique(np.round(a, 6), axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def oracle(a, b):
    return _plugin_entropy(a) + _plugin_entropy(b) - _plugin_entropy(np.hstack([a, b]))


@pytest.fixture
def factorial_x():
    """Balanced full factorial design: centred, exactly uncorrelated columns with distinct variances, so
    the principal directions are the axes and projecting onto them merges rows (64 distinct, 6 bits)."""
    lv = np.array([-3.0, -1.0, 1.0, 3.0])
    x = np.array(list(itertools.product(lv * 3, lv * 2, [-1.0, 1.0], [-0.5, 0.5])))
    return np.vstack([x, x])


# ----------------------------------------------------------------------------- theory


def test_feasible_region_vertices():
    np.testing.assert_array_equal(th.feasible_region(2.5), [[0, 0], [2.5, 0], [2.5, 2.5]])


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, True, "1", [1.0]])
def test_feasible_region_rejects_bad_M(bad):
    with pytest.raises(ValueError, match="M must be a positive finite number"):
        th.feasible_region(bad)


def test_in_feasible_region():
    x = np.array([0.0, 1.0, 2.0, 1.0, 2.1, 1.0, 1.0])
    y = np.array([0.0, 1.0, 2.0, 1.1, 1.0, -0.1, 0.5])
    np.testing.assert_array_equal(th.in_feasible_region(x, y, 2.0), [1, 1, 1, 0, 0, 0, 1])
    np.testing.assert_array_equal(th.in_feasible_region(x, y, 2.0, atol=0.15), [1] * 7)


def test_layer_names():
    assert th.layer_names(4, 3) == ("T1E", "T2E", "T3E", "Z", "T1D", "T2D", "T3D")
    assert th.layer_names(1, 0) == ("Z",)
    for args in [(0, 3), (2, -1), (2.0, 1)]:
        with pytest.raises(ValueError, match="n_encoder|n_decoder"):
            th.layer_names(*args)


@pytest.mark.parametrize("lam", [3.0, 7.5])  # lam == M is the edge, reported as "large"
def test_convergence_large_bottleneck(lam):
    c = th.theoretical_convergence(3.0, lam, 4, 3)
    assert c.regime == "large" and c.layers == th.layer_names(4, 3)
    np.testing.assert_array_equal(c.points, np.full((7, 2), 3.0))


def test_convergence_small_bottleneck():
    c = th.theoretical_convergence(4.0, 1.0, 4, 3)
    assert c.regime == "small"
    np.testing.assert_allclose(c.input_mi, [3.25, 2.5, 1.75, 1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(c.output_mi, np.ones(7))
    c = th.theoretical_convergence(4.0, 1.0, 4, 1, encoder_profile=[0, 0, 0.5, 1])
    np.testing.assert_allclose(c.input_mi, [4.0, 4.0, 2.5, 1.0, 1.0])


def test_convergence_limit_lam_to_M_is_continuous():
    small = th.theoretical_convergence(2.0, 2.0 - 1e-12, 3, 2)
    large = th.theoretical_convergence(2.0, 2.0, 3, 2)
    np.testing.assert_allclose(small.points, large.points, atol=1e-11)


@pytest.mark.parametrize("profile", [[0.5, 1.0], [0.6, 0.4, 1.0], [0.2, 0.5, 0.9], [-0.1, 0.5, 1.0]])
def test_convergence_rejects_bad_profile(profile):
    with pytest.raises(ValueError, match="encoder_profile"):
        th.theoretical_convergence(4.0, 1.0, 3, 2, encoder_profile=profile)


def test_convergence_rejects_bad_lam():
    with pytest.raises(ValueError, match="lam must be"):
        th.theoretical_convergence(4.0, -1.0, 3, 2)


def test_trajectories_endpoints():
    tr = th.theoretical_trajectories(4.0, 1.0, 4, 3, n_points=11)
    assert tr.input_mi.shape == tr.output_mi.shape == (11, 7)
    np.testing.assert_allclose(tr.input_mi[0], np.linspace(3.6, 1.2, 7))
    np.testing.assert_allclose(tr.output_mi[0], 0.4)
    np.testing.assert_allclose(tr.input_mi[-1], tr.convergence.input_mi)
    np.testing.assert_allclose(tr.output_mi[-1], tr.convergence.output_mi)


def test_trajectories_reject_infeasible_start():
    with pytest.raises(ValueError, match="feasible triangle"):
        th.theoretical_trajectories(4.0, 1.0, 2, 1, start_input=[3.0, 2.0, 1.0], start_output=1.5)
    with pytest.raises(ValueError, match="start_input must have shape"):
        th.theoretical_trajectories(4.0, 1.0, 2, 1, start_input=[3.0, 2.0])


@settings(max_examples=40, deadline=None)
@given(M=st.floats(0.1, 20), ratio=st.floats(0, 3), n_enc=st.integers(1, 5), n_dec=st.integers(0, 4))
def test_theoretical_trajectories_satisfy_every_diagnostic(M, ratio, n_enc, n_dec):
    tr = th.theoretical_trajectories(M, ratio * M, n_enc, n_dec, n_points=9)
    rep = th.theory_report(tr.input_mi, tr.output_mi, n_encoder=n_enc, M=M, tol=1e-9 * M)
    s = rep.summary()
    assert s["dpi_violations_total"] == 0
    assert s["output_spread_max"] <= 1e-9 * M
    assert s["feasibility_max_distance"] <= 1e-9 * M
    assert s["bisector_max_abs_bottleneck_decoder"] <= 1e-9 * M  # Theorem 1: Z and decoder on the bisector


# ----------------------------------------------------------------------------- diagnostics

DPI_X = np.array([[5.0, 4.0, 4.5, 3.0], [5.0, 5.1, 4.0, 3.0], [3.0, 2.0, 2.0, 0.0]])


def test_dpi_violations_counts():
    v = th.dpi_violations(DPI_X, layers=["a", "b", "c", "d"])
    assert v.pairs == ("a->b", "b->c", "c->d")
    np.testing.assert_array_equal(v.counts, [1, 1, 0])
    np.testing.assert_array_equal(v.pair_counts, [1, 1, 0])
    np.testing.assert_allclose(v.excess, [[0, 0.5, 0], [0.1, 0, 0], [0, 0, 0]])
    assert v.fraction_of_steps == pytest.approx(2 / 3)
    assert v.max_violation == pytest.approx(0.5)


def test_dpi_violations_tolerance():
    v = th.dpi_violations(DPI_X, tol=0.2)
    np.testing.assert_array_equal(v.counts, [1, 0, 0])
    assert v.fraction_of_steps == pytest.approx(1 / 3) and v.max_violation == pytest.approx(0.5)
    assert th.dpi_violations(DPI_X, tol=0.5).max_violation == 0.0  # strict: an increase equal to tol passes
    with pytest.raises(ValueError, match="tol must be"):
        th.dpi_violations(DPI_X, tol=-1)


@given(st.lists(st.floats(-10, 10), min_size=2, max_size=8, unique=True))
def test_dpi_sorted_and_reversed(values):
    down = np.sort(values)[::-1]
    assert th.dpi_violations(down).counts[0] == 0
    assert th.dpi_violations(down[::-1]).counts[0] == len(values) - 1


def test_output_mi_spread():
    rng, std = th.output_mi_spread([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    np.testing.assert_allclose(rng, [3.0, 0.0])
    np.testing.assert_allclose(std, [np.sqrt(14 / 9), 0.0])


def test_feasibility_violations_closed_form():
    x = np.array([[3.0, 1.0, 1.0, 3.0, -1.0, 1.0]])
    y = np.array([[1.0, 1.5, -0.5, 3.0, -1.0, 0.5]])
    f = th.feasibility_violations(x, y, 2.0)
    np.testing.assert_allclose(f.distance, [[1.0, 0.5 / math.sqrt(2), 0.5, math.sqrt(2), math.sqrt(2), 0.0]])
    np.testing.assert_array_equal(f.outside, [[1, 1, 1, 1, 1, 0]])
    assert f.count == 5 and f.max_distance == pytest.approx(math.sqrt(2))
    assert th.feasibility_violations(x, y, 2.0, atol=0.6).count == 3


@settings(max_examples=50, deadline=None)
@given(x=st.floats(-3, 5), y=st.floats(-3, 5))
def test_feasibility_distance_matches_brute_force(x, y):
    M = 2.0
    d = th.feasibility_violations([x], [y], M).distance[0, 0]
    s = np.linspace(0, 1, 20001)[:, None]
    boundary = np.vstack([s * [M, 0], [M, 0] + s * [0, M], s * [M, M]])
    brute = np.hypot(*(boundary - [x, y]).T).min()
    if th.in_feasible_region(x, y, M):
        assert d == 0
    else:
        assert d == pytest.approx(brute, abs=2e-4)


def test_bisector_distance():
    x, y = [[2.0, 1.0], [3.0, 1.0]], [[1.0, 1.0], [1.0, 2.0]]
    np.testing.assert_allclose(th.bisector_distance(x, y), [2 / math.sqrt(2), -1 / math.sqrt(2)])
    assert th.bisector_distance(x, y, step=None).shape == (2, 2)


def test_theory_report_summary_and_table():
    x = np.array([[4.0, 3.0, 3.5, 2.0], [4.0, 3.0, 2.0, 2.0]])
    y = np.array([[1.0, 1.0, 1.2, 1.0], [2.0, 2.0, 2.0, 2.0]])
    rep = th.theory_report(x, y, n_encoder=3, M=3.5)
    assert rep.layers == ("T1E", "T2E", "Z", "T1D")
    s = rep.summary()
    assert s["dpi_violations_total"] == 1 and s["dpi_max_violation"] == pytest.approx(0.5)
    assert s["output_spread_max"] == pytest.approx(0.2) and s["output_spread_final"] == 0
    assert s["feasibility_violation_fraction"] == pytest.approx(2 / 8)  # I(X;T1E) = 4 > M at both steps
    assert s["bisector_max_abs_bottleneck_decoder"] == 0
    assert s["bisector_mean_encoder"] == pytest.approx(np.mean([2, 1, 0]) / math.sqrt(2))
    text = str(rep)
    assert "T1D" in text and "dpi_violation_fraction" in text
    assert math.isnan(th.theory_report(x, y, n_encoder=3).summary()["feasibility_max_distance"])


def test_theory_report_validation():
    x = np.ones((2, 4))
    with pytest.raises(ValueError, match="same shape"):
        th.theory_report(x, np.ones((2, 3)), n_encoder=2)
    for n in (0, 5, 2.0):
        with pytest.raises(ValueError, match="n_encoder must be"):
            th.theory_report(x, x, n_encoder=n)
    with pytest.raises(ValueError, match="layers must name"):
        th.theory_report(x, x, n_encoder=2, layers=["a", "b"])
    with pytest.raises(ValueError, match="NaN"):
        th.theory_report([[1.0, np.nan]], [[1.0, 1.0]], n_encoder=1)
    with pytest.raises(ValueError, match="M must be"):
        th.theory_report(x, x, n_encoder=2, M=0)


# ----------------------------------------------------------------------------- benchmark


def test_benchmark_oracle_passes(factorial_x):
    r = th.benchmark_estimator(oracle, factorial_x, rng=0, tol=1e-9)
    assert r.passed, str(r)
    assert r.M == pytest.approx(6.0) and r.lam == pytest.approx(4.0) and r.K == 2
    np.testing.assert_allclose(r.small.input_mi[0], [6, 5, 4, 4, 4, 4, 4])  # discards 1 bit per dropped axis
    np.testing.assert_allclose(r.small.output_mi[0], 4.0)
    np.testing.assert_allclose(r.large.input_mi[0], 6.0)


def test_benchmark_random_estimator_fails(factorial_x):
    noise = np.random.default_rng(1)
    r = th.benchmark_estimator(lambda a, b: noise.uniform(0.5, 5), factorial_x, rng=0)
    assert not r.passed
    assert r.small.dpi.counts.sum() > 0 or r.large.dpi.counts.sum() > 0
    assert not r.checks["large: equal output MI (Lemma 1)"]


def test_benchmark_dimension_biased_estimator_fails(factorial_x):
    # An estimator that grows with the layer width (the bias of Sec. III-B) breaks the DPI in the decoder.
    r = th.benchmark_estimator(lambda a, b: float(b.shape[1]), factorial_x, rng=0)
    assert not r.checks["small: no forward-DPI violation (eq. 13)"]
    assert not r.checks["small: Z and decoder on the bisector (Theorem 1b)"]
    assert r.checks["large: every point at (M, M) (Theorem 1a)"]


def test_benchmark_is_only_necessary():
    # A constant estimator is useless but consistent with every condition: the benchmark cannot catch it.
    x = np.random.default_rng(0).standard_normal((40, 4))
    assert th.benchmark_estimator(lambda a, b: 1.0, x, rng=0).passed


def test_benchmark_validation():
    x = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(ValueError, match="K"):
        th.benchmark_estimator(oracle, x, K=3)
    with pytest.raises(ValueError, match="n_samples > n_features"):
        th.benchmark_estimator(oracle, x[:, :1])
    with pytest.raises(ValueError, match="estimator\\(X, X\\)"):
        th.benchmark_estimator(lambda a, b: 0.0, x)


def test_benchmark_with_renyi_estimator():
    import renyimi

    mi = getattr(renyimi, "mutual_information", None)
    if mi is None:
        pytest.skip("renyimi.mutual_information is not available yet")
    x = np.random.default_rng(0).standard_normal((128, 5))
    r = th.benchmark_estimator(lambda a, b: float(mi(a, b)), x, rng=0, tol=0.05)
    print(r)
    # Only well-posedness is asserted: the kernel estimator is not invariant under the benchmark's
    # nonlinear bijections, so which checks it passes is reported, not pinned.
    assert np.isfinite(list(r.summary().values())).all() and r.M > 0
    assert set(r.checks) == set(th.benchmark_estimator(oracle, x, rng=0).checks)
