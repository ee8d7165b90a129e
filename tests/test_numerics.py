"""Numerics at the edges (issue 9): each case failed on renyimi 0.1.0."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import renyimi


@pytest.fixture
def x512():
    return np.random.default_rng(0).normal(size=(512, 3))


def test_large_alpha_does_not_underflow(x512):
    # sigma -> 0: the Gram matrix is I / N, so every Renyi entropy is log2 N (0.1.0 returned inf).
    assert float(renyimi.matrix_entropy(x512, sigma=1e-6, alpha=150)) == pytest.approx(9.0, abs=1e-9)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(256, 10))
    y = x + 0.3 * rng.normal(size=x.shape)
    mi = float(renyimi.mutual_information(x, y, alpha=1000))
    assert math.isfinite(mi) and 0.0 <= mi <= 8.0 + 1e-9  # 0.1.0: NaN


def test_large_alpha_matches_the_min_entropy_limit():
    # S_alpha -> -log2 lambda_max as alpha -> infinity (the min-entropy), from above.
    x = np.random.default_rng(2).normal(size=(128, 2))
    A = np.asarray(renyimi.gram_matrix(x, sigma=0.5))
    lam = np.linalg.eigvalsh(A)
    s_big = float(renyimi.matrix_entropy(x, sigma=0.5, alpha=1e4))
    assert s_big >= -np.log2(lam[-1]) - 1e-9
    assert s_big == pytest.approx(-np.log2(lam[-1]), abs=2e-3)


@pytest.mark.parametrize("delta", [1e-14, -1e-14, 1e-12, 1e-9])
def test_entropy_is_continuous_through_alpha_one(delta):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(256, 10))
    y = x + 0.5 * rng.normal(size=x.shape)
    s1 = float(renyimi.matrix_entropy(x, alpha=1.0))
    i1 = float(renyimi.mutual_information(x, y, alpha=1.0))
    # |dS/dalpha| is a few bits per unit alpha here, so the change over delta is below 1e-8 bits.
    assert float(renyimi.matrix_entropy(x, alpha=1.0 + delta)) == pytest.approx(s1, abs=1e-9 + 10 * abs(delta))
    assert float(renyimi.mutual_information(x, y, alpha=1.0 + delta)) == pytest.approx(i1, abs=1e-9 + 10 * abs(delta))


@settings(max_examples=15, deadline=None)
@given(a=st.floats(0.95, 1.05), b=st.floats(0.95, 1.05))
def test_entropy_is_non_increasing_in_alpha_across_the_branches(a, b):
    x = np.random.default_rng(4).normal(size=(64, 3))
    lo, hi = sorted((a, b))
    s_lo = float(renyimi.matrix_entropy(x, alpha=lo, sigma=0.7))
    s_hi = float(renyimi.matrix_entropy(x, alpha=hi, sigma=0.7))
    assert s_hi <= s_lo + 1e-12


def test_precomputed_gram_must_be_positive_semidefinite():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 3))
    K = np.exp(-np.square(x[:, None] - x[None]).sum(-1) / 2)
    # A PSD Gram matrix: the exact alpha = 2 shortcut and the eigenvalue path agree.
    s2 = float(renyimi.matrix_entropy(K, kernel="precomputed", alpha=2))
    assert float(renyimi.matrix_entropy(K, kernel="precomputed", alpha=2 + 1e-9)) == pytest.approx(s2, abs=1e-6)
    bad = K + 0.3 * rng.normal(size=K.shape)
    bad = (bad + bad.T) / 2
    np.fill_diagonal(bad, 1.0)
    assert np.linalg.eigvalsh(bad)[0] < -1  # really indefinite
    for alpha in (2, 2 + 1e-9):  # 0.1.0: 1.07 and 4.66 bits for the same matrix
        with pytest.raises(ValueError, match="not positive semi-definite"):
            renyimi.matrix_entropy(bad, kernel="precomputed", alpha=alpha)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_extreme_widths_reach_the_kernel_limits(backend):
    pytest.importorskip("numba") if backend == "numba" else None
    x = np.random.default_rng(6).normal(size=(100, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # sigma -> infinity: every kernel value is 1, one eigenvalue, entropy 0 (0.1.0: OverflowError).
        assert float(renyimi.matrix_entropy(x, sigma=1e300, backend=backend)) == pytest.approx(0.0, abs=1e-9)
        # sigma -> 0: the identity, entropy log2 N (0.1.0: ZeroDivisionError).
        assert float(renyimi.matrix_entropy(x, sigma=1e-170, backend=backend)) == pytest.approx(math.log2(100))
        assert float(renyimi.matrix_entropy(x, sigma_scale=1e-200, backend=backend)) == pytest.approx(math.log2(100))


@pytest.mark.parametrize("d", [5, 50])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_identical_samples_get_identical_kernel_values(d, backend):
    pytest.importorskip("numba") if backend == "numba" else None
    x = np.random.default_rng(7).normal(size=(100, d)) * 3 + 5
    x[10] = x[3]
    x[20] = x[3]
    A = np.asarray(renyimi.gram_matrix(x, sigma=1.0, backend=backend))
    assert A[3, 10] == A[10, 20] == A[3, 3] == 1 / 100  # 0.1.0 NumPy path: a distance of ~1e-15


def test_identical_samples_on_the_torch_path():
    torch = pytest.importorskip("torch")
    x = torch.randn(60, 30, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3 + 5
    x[7] = x[2]
    A = renyimi.gram_matrix(x, sigma=1.0)
    assert float(A[2, 7]) == float(A[2, 2]) == 1 / 60


@pytest.mark.parametrize("alpha", [1.0, 1.01, 2.0, 3.0])
def test_float32_error_bound_for_alpha_at_least_one(alpha):
    # The documented bound (shared keyword docs): at most 1e-4 bits for alpha >= 1; the sharply
    # decaying spectrum of d = 1 is the hardest case measured.
    x = np.random.default_rng(8).normal(size=(512, 1))
    s64 = float(renyimi.matrix_entropy(x, alpha=alpha))
    s32 = float(renyimi.matrix_entropy(x, alpha=alpha, dtype="float32"))
    assert abs(s64 - s32) <= 1e-4


def test_tapia_rule_ignores_dead_units():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(256, 6))
    dead = np.c_[x, np.full(256, 3.0)]  # 0.1.0: 5.30 bits against 5.82 without the constant column
    assert float(renyimi.matrix_entropy(dead)) == pytest.approx(float(renyimi.matrix_entropy(x)), abs=1e-12)
    relu = np.c_[np.maximum(x, 0), np.zeros((256, 2))]
    assert float(renyimi.matrix_entropy(relu)) == pytest.approx(float(renyimi.matrix_entropy(relu[:, :6])), abs=1e-12)


@settings(max_examples=12, deadline=None)
@given(log_scales=st.lists(st.floats(-12, 12), min_size=4, max_size=4))
def test_tapia_rule_is_invariant_to_any_feature_scaling(log_scales):
    # 0.1.0: x * 1e-6 gave 0.056 bits instead of 5.88 (the variance floor 1e-8 dominated).
    rng = np.random.default_rng(10)
    x = rng.normal(size=(128, 4))
    y = x[:, :2] + 0.5 * rng.normal(size=(128, 2))
    scaled = x * 10.0 ** np.array(log_scales)
    assert float(renyimi.matrix_entropy(scaled)) == pytest.approx(float(renyimi.matrix_entropy(x)), abs=1e-9)
    assert float(renyimi.mutual_information(scaled, y)) == pytest.approx(
        float(renyimi.mutual_information(x, y)), abs=1e-9)


def test_the_papers_variance_floor_is_still_available():
    x = np.random.default_rng(11).normal(size=(128, 4)) * 1e-6
    exact = float(renyimi.matrix_entropy(x))
    floored = float(renyimi.matrix_entropy(x, width_params={"epsilon": 1e-8}))
    assert floored < exact - 1.0  # eq. 29 taken literally: the floor swamps variances of 1e-12
