"""renyimi.stats: the permutation independence test, corrected/normalised MI, confidence intervals."""

from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
from scipy import stats as scipy_stats

import renyimi
from renyimi._engine.eigen import eigvalsh
from renyimi._engine.permutation import (
    draw_permutations,
    permutation_pvalue,
    permuted_joint_entropies,
    split_chunks,
)
from renyimi._engine.spectral import entropy_from_eigenvalues
from renyimi.stats import (
    corrected_mutual_information,
    independence_test,
    mi_confidence_interval,
    normalized_mutual_information,
)


def _pair(n=60, dependent=True, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    Y = X[:, :1] ** 2 + 0.3 * rng.normal(size=(n, 1)) if dependent else rng.normal(size=(n, 1))
    return X, Y


# --------------------------------------------------------------------------- p-value and null


@pytest.mark.parametrize("alpha", [2.0, 1.01])
@pytest.mark.parametrize("dependent", [True, False])
def test_pvalue_formula_matches_direct_count(alpha, dependent):
    X, Y = _pair(dependent=dependent)
    res = independence_test(X, Y, n_permutations=99, random_state=1, alpha=alpha)
    direct = (1 + np.sum(res.null_distribution >= res.statistic)) / (1 + 99)
    assert res.pvalue == pytest.approx(direct, abs=1e-15)
    assert res.null_distribution.shape == (99,)
    assert res.null_mean == pytest.approx(np.mean(res.null_distribution))
    assert res.null_std == pytest.approx(np.std(res.null_distribution, ddof=1))
    assert res.mi_corrected == pytest.approx(res.statistic - res.null_mean)
    assert res.statistic == pytest.approx(res.entropy_x + res.entropy_y - res.joint_entropy)
    statistic, pvalue = res  # unpacks like scipy.stats results
    assert (statistic, pvalue) == (res.statistic, res.pvalue)


def test_alternatives():
    null = np.array([0.1, 0.2, 0.3, 0.4])
    assert permutation_pvalue(0.3, null, "greater") == pytest.approx(3 / 5)  # 0.3 (tie) and 0.4, plus 1
    assert permutation_pvalue(0.3, null, "less") == pytest.approx(4 / 5)
    assert permutation_pvalue(0.3, null, "two-sided") == pytest.approx(1.0)
    assert permutation_pvalue(0.05, null, "two-sided") == pytest.approx(2 / 5)
    # a value equal to the observed one up to round-off counts as a tie
    assert permutation_pvalue(0.3, np.array([0.3 - 1e-17]), "greater") == 1.0


@pytest.mark.filterwarnings("ignore:n_permutations=")
def test_statistic_and_null_equal_mutual_information_on_permuted_y():
    X, Y = _pair(n=40)
    res = independence_test(X, Y, n_permutations=5, random_state=3)  # default sigma_scale=1.5
    assert res.statistic == pytest.approx(float(renyimi.mutual_information(X, Y, sigma_scale=1.5)), abs=1e-10)
    for value, perm in zip(res.null_distribution, draw_permutations(40, 5, 3)):
        assert value == pytest.approx(float(renyimi.mutual_information(X, Y[perm], sigma_scale=1.5)), abs=1e-10)


def test_alpha2_fast_path_equals_eigenvalue_path():
    X, Y = _pair(n=50)
    A, B = renyimi.gram_matrix(X), renyimi.gram_matrix(Y)
    perms = draw_permutations(50, 20, 0)
    fast = permuted_joint_entropies(A, B, perms, 2.0, np, 2.0)
    by_eigenvalues = []
    for p in perms:
        joint = A * B[p][:, p]
        joint /= np.trace(joint)
        by_eigenvalues.append(float(entropy_from_eigenvalues(eigvalsh(joint, np), 2.0, np, 2.0)))
    np.testing.assert_allclose(fast, by_eigenvalues, rtol=0, atol=1e-10)
    # and the threaded computation gives the same bits
    np.testing.assert_array_equal(fast, permuted_joint_entropies(A, B, perms, 2.0, np, 2.0, workers=2))


def test_torch_path_equals_numpy_path():
    torch = pytest.importorskip("torch")
    X, Y = _pair(n=30)
    A, B = renyimi.gram_matrix(X), renyimi.gram_matrix(Y)
    perms = draw_permutations(30, 7, 0)
    tA, tB = torch.from_numpy(A), torch.from_numpy(B)
    for alpha in (2.0, 1.01, 3.0):
        expected = permuted_joint_entropies(A, B, perms, alpha, np, 2.0)
        got = permuted_joint_entropies(tA, tB, perms, alpha, renyimi._engine.arrays.get_namespace({"A": tA})[0], 2.0)
        np.testing.assert_allclose(got, expected, atol=1e-9)
    on_numpy = independence_test(X, Y, n_permutations=20, random_state=0)
    on_torch = independence_test(torch.from_numpy(X), torch.from_numpy(Y), n_permutations=20, random_state=0)
    np.testing.assert_allclose(on_torch.null_distribution, on_numpy.null_distribution, atol=1e-9)
    assert on_torch.pvalue == on_numpy.pvalue


def test_permutations_are_uniform_and_reproducible():
    perms = draw_permutations(4, 2400, 0)
    assert np.array_equal(perms, draw_permutations(4, 2400, 0))
    assert all(sorted(p) == [0, 1, 2, 3] for p in perms[:50])
    _, counts = np.unique(perms, axis=0, return_counts=True)
    assert len(counts) == 24  # all 4! permutations, each about 100 times
    assert scipy_stats.chisquare(counts).pvalue > 1e-4
    assert split_chunks(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert split_chunks(2, 5) == [(0, 1), (1, 2)]


# --------------------------------------------------------------------------- level and power


def test_level_pvalues_are_uniform_under_independence():
    """Under H0 the permutation p-value is (discretely) uniform: P(p <= u) <= u for all u."""
    draws, n_perm = 300, 39
    pvalues = np.array([independence_test(*_pair(n=25, dependent=False, seed=s), n_permutations=n_perm,
                                           random_state=s, alpha=2).pvalue for s in range(draws)])
    for u in (0.05, 0.1, 0.25, 0.5):
        # binomial bound: a correct test rejects at most Binomial(draws, u) times (upper 0.1 % quantile)
        assert np.sum(pvalues <= u) <= scipy_stats.binom.ppf(0.999, draws, u)
        # and is not grossly conservative either
        assert np.sum(pvalues <= u) >= scipy_stats.binom.ppf(0.001, draws, u)


@pytest.mark.parametrize("alpha", [2.0, 1.01])
def test_power_on_an_obviously_dependent_problem(alpha):
    X, Y = _pair(n=100, seed=5)
    res = independence_test(X, Y, n_permutations=199, random_state=0, alpha=alpha)
    assert res.pvalue == pytest.approx(1 / 200)
    assert res.mi_corrected > 5 * res.null_std


# --------------------------------------------------------------------------- executors


@pytest.mark.parametrize("alpha", [2.0, 1.01])
def test_executor_results_are_bit_identical(alpha):
    X, Y = _pair(n=40)
    local = independence_test(X, Y, n_permutations=50, random_state=7, alpha=alpha)
    with ThreadPoolExecutor(max_workers=3) as pool:
        remote = independence_test(X, Y, n_permutations=50, random_state=7, alpha=alpha, executor=pool)
    np.testing.assert_array_equal(local.null_distribution, remote.null_distribution)
    assert local.pvalue == remote.pvalue and local.statistic == remote.statistic


def test_process_pool_executor_is_bit_identical():
    X, Y = _pair(n=40)
    local = independence_test(X, Y, n_permutations=20, random_state=2)
    # spawn, not fork: this process already runs BLAS and thread pools, which fork can deadlock
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        remote = independence_test(X, Y, n_permutations=20, random_state=2, executor=pool)
    np.testing.assert_array_equal(local.null_distribution, remote.null_distribution)


# --------------------------------------------------------------------------- settings and errors


@pytest.mark.filterwarnings("ignore:n_permutations=")
def test_per_variable_settings_match_mutual_information():
    X, Y = _pair(n=40)
    res = independence_test(X, Y, n_permutations=3, random_state=0, sigma=(0.7, "median"), sigma_scale=(1.0, 2.0))
    expected = renyimi.mutual_information(X, Y, sigma=(0.7, "median"), sigma_scale=(1.0, 2.0))
    assert res.statistic == pytest.approx(float(expected), abs=1e-10)


@pytest.mark.filterwarnings("ignore:n_permutations=")
def test_bad_input_errors_name_the_parameter():
    X, Y = _pair(n=30)
    with pytest.raises(ValueError, match="n_permutations"):
        independence_test(X, Y, n_permutations=0)
    with pytest.raises(TypeError, match="n_permutations"):
        independence_test(X, Y, n_permutations=10.5)
    with pytest.raises(ValueError, match=r"same number of samples.*X.shape=\(30, 2\).*Y.shape=\(29, 1\)"):
        independence_test(X, Y[:29])
    with pytest.raises(ValueError, match="alternative"):
        independence_test(X, Y, alternative="bigger")
    with pytest.raises(ValueError, match="alpha"):
        independence_test(X, Y, alpha=0)
    with pytest.raises(ValueError, match="per variable"):
        independence_test(X, Y, sigma=(1.0, 2.0, 3.0))
    with pytest.raises(TypeError, match="executor"):
        independence_test(X, Y, n_permutations=5, executor=object())


def test_warns_when_p_below_005_is_unreachable():
    X, Y = _pair(n=30)
    with pytest.warns(UserWarning, match=r"n_permutations=10 cannot give a p-value below 0.05"):
        independence_test(X, Y, n_permutations=10, random_state=0)
    with pytest.warns(UserWarning, match="only 6 distinct pairings"):
        independence_test(X[:3], Y[:3], n_permutations=100, random_state=0, sigma=1.0)


# --------------------------------------------------------------------------- corrected and normalised MI


def test_corrected_mutual_information():
    X, Y = _pair(n=80, dependent=False)
    value = corrected_mutual_information(X, Y, n_permutations=50, random_state=0, alpha=2)
    res = independence_test(X, Y, n_permutations=50, random_state=0, alpha=2, sigma_scale=1.0)
    assert value == res.mi_corrected  # the estimators' default width, not the test's
    assert abs(value) < 4 * res.null_std  # independent: the floor is removed
    Xd, Yd = _pair(n=80)
    assert corrected_mutual_information(Xd, Yd, n_permutations=50, random_state=0, alpha=2) > 0.2


def test_normalized_mutual_information_against_direct_computation():
    X, Y = _pair(n=60)
    s_x, s_y = float(renyimi.matrix_entropy(X)), float(renyimi.matrix_entropy(Y))
    s_xy = float(renyimi.joint_entropy(X, Y))
    mi = s_x + s_y - s_xy
    expected = {"sqrt": mi / math.sqrt(s_x * s_y), "min": mi / min(s_x, s_y), "max": mi / max(s_x, s_y),
                "mean": 2 * mi / (s_x + s_y), "joint": mi / s_xy}
    got = {k: normalized_mutual_information(X, Y, normalization=k) for k in expected}
    for k in expected:
        assert got[k] == pytest.approx(expected[k], rel=1e-9)
    # S(A, B) >= max(S(A), S(B)) puts every variant in [0, 1], in this order
    assert 1 >= got["min"] >= got["sqrt"] >= got["mean"] >= got["max"] >= got["joint"] >= 0
    with pytest.raises(ValueError, match="normalization"):
        normalized_mutual_information(X, Y, normalization="geometric")


# --------------------------------------------------------------------------- confidence intervals


def test_confidence_interval_structure_and_errors():
    X, Y = _pair(n=64)
    ci = mi_confidence_interval(X, Y, n_resamples=50, random_state=0, alpha=2)
    assert ci.low < ci.statistic < ci.high and ci.subsample_size == 32 and ci.resamples.shape == (50,)
    assert ci.statistic == pytest.approx(float(renyimi.mutual_information(X, Y, alpha=2)))
    again = mi_confidence_interval(X, Y, n_resamples=50, random_state=0, alpha=2)
    assert (again.low, again.high) == (ci.low, ci.high)
    boot = mi_confidence_interval(X, Y, method="bootstrap", n_resamples=50, random_state=0, alpha=2)
    assert boot.low < boot.statistic < boot.high and boot.subsample_size == 64
    with pytest.raises(ValueError, match="subsample_size"):
        mi_confidence_interval(X, Y, subsample_size=64)
    with pytest.raises(ValueError, match="confidence"):
        mi_confidence_interval(X, Y, confidence=95)
    with pytest.raises(ValueError, match="method"):
        mi_confidence_interval(X, Y, method="jackknife")


def test_subsample_interval_covers_the_expected_estimate():
    """Coverage of E[I_N] (Monte-Carlo truth) on correlated Gaussians, and a standard error of the right size.

    The target is the mean estimate at this N; resampling from Gram matrices with the full sample's
    widths gave a standard error 1.7x too large and 100 % coverage, which the second check catches.
    """
    n, reps, rho = 48, 40, 0.6

    def draw(seed):
        rng = np.random.default_rng(seed)
        U, V = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
        return U, rho * U + math.sqrt(1 - rho**2) * V

    truth_draws = [float(renyimi.mutual_information(*draw(10_000 + s), alpha=2)) for s in range(200)]
    truth, true_sd = np.mean(truth_draws), np.std(truth_draws, ddof=1)
    hits, errors = 0, []
    for s in range(reps):
        ci = mi_confidence_interval(*draw(s), confidence=0.9, n_resamples=50, random_state=s, alpha=2)
        hits += ci.low <= truth <= ci.high
        errors.append(ci.standard_error)
    assert scipy_stats.binom.ppf(0.001, reps, 0.9) <= hits
    assert 0.7 < np.mean(errors) / true_sd < 1.4


# --------------------------------------------------------------------------- error bars in the plane plot


def test_plot_information_plane_draws_standard_errors():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection

    from renyimi.plotting import plot_information_plane

    rng = np.random.default_rng(0)
    plane = renyimi.InformationPlane(["T1", "T2"], sigma=1.0)
    for step in (1, 10):
        for _ in range(3):  # three batches per step: averaged, their spread kept
            x = rng.normal(size=(24, 3))
            plane.record(step, x, x[:, :1], {"T1": x[:, :2], "T2": np.tanh(x[:, :1])})

    def bars(fig):
        return [c for ax in fig.axes for c in ax.collections if isinstance(c, LineCollection)]

    a = plane.to_arrays()
    expected = a.input_mi_std / np.sqrt(a.n_batches)[:, None]
    with_errors, without = bars(plot_information_plane(plane)), bars(plot_information_plane(plane, errors=None))
    assert len(with_errors) == len(without) + 4  # x and y bars for each of the two layers
    segments = [s for c in with_errors for s in c.get_segments()]
    half_widths = sorted(round(abs(s[1, 0] - s[0, 0]) / 2, 12) for s in segments if s[0, 1] == s[1, 1])
    assert half_widths == sorted(np.round(expected.ravel(), 12))
    with pytest.raises(ValueError, match="errors"):
        plot_information_plane(plane, errors="sem")


# --------------------------------------------------------------------------- the validation script


def test_validation_script_quick_smoke(tmp_path):
    pytest.importorskip("hyppo")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_independence.py"
    spec = importlib.util.spec_from_file_location("compare_independence", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for what in ("power", "level", "table"):
        module.main([what, "--quick", "--out", str(tmp_path)])
    text = (tmp_path / "tables.md.inc").read_text()
    assert "| linear |" in text and "Dcorr" in text and "Type-I error" in text


def test_independence_test_with_stochastic_estimates():
    # method="slq": every entropy (the permuted joints included) by stochastic Lanczos; the statistic must
    # agree with the exact one within the estimator's noise and the test must still separate the cases.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = x**2 + 0.5 * rng.normal(size=x.shape)
    params = {"rank": 16, "block": 8, "krylov_steps": 3, "n_probes": 10, "n_lanczos": 12}
    slq = renyimi.independence_test(x, y, n_permutations=19, random_state=0, method="slq", method_params=params)
    exact = renyimi.independence_test(x, y, n_permutations=19, random_state=0, method="exact")
    _, err = renyimi.mutual_information(x, y, sigma_scale=1.5, method="slq", method_params=params, random_state=1,
                                        return_stderr=True)
    assert abs(slq.statistic - exact.statistic) <= 5 * err
    assert slq.pvalue == exact.pvalue == 0.05  # the smallest attainable with B = 19
    independent = renyimi.independence_test(x, rng.normal(size=(300, 2)), n_permutations=19, random_state=0,
                                            method="slq", method_params=params)
    assert independent.pvalue > 0.05
