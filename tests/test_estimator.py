"""MatrixMI follows scikit-learn's estimator conventions and agrees with the functional API."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import renyimi
from renyimi import MatrixMI

from .conftest import correlated_gaussians


def test_fit_sets_attributes_consistent_with_functions(rng):
    x, y = correlated_gaussians(rng, 100, 4, 0.8)
    est = MatrixMI(sigma_scale=2.0)
    assert est.fit(x, y) is est
    kw = dict(sigma_scale=2.0)
    assert est.mi_ == pytest.approx(float(renyimi.mutual_information(x, y, **kw)), abs=1e-12)
    assert est.entropy_x_ == pytest.approx(float(renyimi.matrix_entropy(x, **kw)), abs=1e-12)
    assert est.entropy_y_ == pytest.approx(float(renyimi.matrix_entropy(y, **kw)), abs=1e-12)
    assert est.joint_entropy_ == pytest.approx(float(renyimi.joint_entropy(x, y, **kw)), abs=1e-12)
    assert est.mi_ == pytest.approx(est.entropy_x_ + est.entropy_y_ - est.joint_entropy_)
    for attr in ("mi_", "entropy_x_", "entropy_y_", "joint_entropy_", "sigma_x_", "sigma_y_"):
        assert type(getattr(est, attr)) is float
    assert est.sigma_x_ == pytest.approx(2.0 * 2.0 * 100 ** (-1 / 8))
    assert est.max_value_ == pytest.approx(math.log2(100))


def test_init_only_stores():
    est = MatrixMI(alpha=-5, sigma="nonsense")  # validated in fit, like scikit-learn
    assert est.alpha == -5 and est.sigma == "nonsense"
    with pytest.raises(ValueError, match="alpha"):
        est.fit(np.ones((4, 1)), np.ones((4, 1)))


def test_get_set_params_and_repr():
    est = MatrixMI()
    params = est.get_params()
    assert params["alpha"] == 1.01 and params["sigma"] == "tapia" and params["backend"] == "auto"
    assert est.set_params(alpha=2.0, sigma="yu") is est
    assert est.get_params()["alpha"] == 2.0
    assert repr(est) == "MatrixMI(alpha=2.0, sigma='yu')"
    with pytest.raises(ValueError, match="Invalid parameter 'gamma' for MatrixMI"):
        est.set_params(gamma=1.0)


def test_sklearn_clone_round_trips(rng):
    base = pytest.importorskip("sklearn.base")
    est = MatrixMI(alpha=2.0, sigma=("tapia", 1.5), sigma_scale=0.8, width_params={"k": 3})
    twin = base.clone(est)
    assert twin is not est and twin.get_params() == est.get_params()
    x, y = correlated_gaussians(rng, 50, 2, 0.5)
    assert twin.fit(x, y).mi_ == pytest.approx(est.fit(x, y).mi_)
    assert not hasattr(base.clone(est), "mi_")


def test_precomputed_grams(rng):
    x, y = correlated_gaussians(rng, 40, 2, 0.5)
    kx, ky = (np.exp(-np.square(v[:, None] - v[None]).sum(-1) / 2) for v in (x, y))
    est = MatrixMI(kernel="precomputed").fit(kx, ky)
    assert est.sigma_x_ is None
    assert est.mi_ == pytest.approx(float(renyimi.mutual_information(x, y, sigma=1.0)), abs=1e-10)


def test_mixed_precomputed_and_samples(rng):
    x, y = correlated_gaussians(rng, 40, 2, 0.5)
    ky = np.exp(-np.square(y[:, None] - y[None]).sum(-1) / 2)
    est = MatrixMI(kernel=("gaussian", "precomputed"), sigma=(1.0, None)).fit(x, ky)
    assert est.mi_ == pytest.approx(float(renyimi.mutual_information(x, y, sigma=1.0)), abs=1e-10)


def test_import_renyimi_imports_no_optional_library():
    code = (
        "import sys, renyimi; renyimi.mutual_information([[0.], [1.], [3.]], [[1.], [0.], [2.]]); "
        "print(sorted(m for m in ('numba', 'cupy', 'torch', 'matplotlib', 'pandas', 'tqdm', 'sklearn') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_surface():
    assert set(renyimi.__all__) <= set(dir(renyimi))
    for name in renyimi.__all__:
        assert getattr(renyimi, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        renyimi.nope  # noqa: B018


def test_permutation_test_attributes_match_independence_test(rng):
    x, y = correlated_gaussians(rng, 80, 2, 0.6)
    est = MatrixMI(n_permutations=99, random_state=3).fit(x, y)
    # The null from explicitly permuted Y through the functional API (the definition).
    perms = np.random.default_rng(np.random.SeedSequence(3).spawn(1)[0]).permuted(
        np.broadcast_to(np.arange(80), (99, 80)), axis=1)
    null = np.array([float(renyimi.mutual_information(x, y[p])) for p in perms])
    assert est.null_mean_ == pytest.approx(null.mean(), abs=1e-9)
    assert est.pvalue_ == pytest.approx((1 + np.sum(null >= est.mi_ - 1e-12)) / 100)
    assert est.pvalue_ == pytest.approx(0.01)  # rho = 0.6 at N = 80: no permutation comes close
    assert est.mi_corrected_ == pytest.approx(est.mi_ - null.mean(), abs=1e-9)
    independent = MatrixMI(n_permutations=49, random_state=0).fit(x, rng.normal(size=(80, 2)))
    assert independent.pvalue_ > 0.05 and abs(independent.mi_corrected_) < 3 * independent.null_std_
    with pytest.raises(ValueError, match="n_permutations must be"):
        MatrixMI(n_permutations=-1).fit(x, y)
