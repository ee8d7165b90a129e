"""The array-generic path (the one CuPy takes) against the strict array-API namespace.

``array_api_strict`` implements the standard and nothing more, so code that relies on NumPy or torch
behaviour (implicit conversions, out-of-bounds slices, methods outside the standard) fails here,
without a GPU. Every estimate must equal the NumPy one.
"""

from __future__ import annotations

import numpy as np
import pytest

import renyimi

xps = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed")

SETTINGS = [
    {},
    {"alpha": 1.0},
    {"alpha": 0.5},
    {"alpha": 2},
    {"alpha": 3},
    {"alpha": 150, "sigma": 0.1},
    {"sigma": "median"},
    {"sigma": "knn", "width_params": {"k": 5}},
    {"sigma": "yu", "sigma_scale": 5.0},
    {"sigma": "silverman"},
    {"kernel": "laplacian", "sigma": 2.0},
    {"standardize": "pooled"},
    {"standardize": [0, 0, 1]},
    {"sigma": 1e-170},
]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    x[5] = x[9]  # identical samples
    y = x + 0.5 * rng.normal(size=x.shape)
    return x, y


def _strict(a):
    return xps.asarray(a)


@pytest.mark.parametrize("kw", SETTINGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "defaults")
@pytest.mark.parametrize("name", ["matrix_entropy", "mutual_information", "joint_entropy", "conditional_entropy",
                                  "total_correlation"])
def test_functions_match_numpy(data, name, kw):
    args = data[:1] if name == "matrix_entropy" else data
    value = getattr(renyimi, name)(*map(_strict, args), **kw)
    assert isinstance(value, type(_strict(0.0))) and value.ndim == 0
    assert float(value) == pytest.approx(float(getattr(renyimi, name)(*args, **kw)), abs=1e-9)


def test_gram_matrix_and_precomputed_match_numpy(data):
    x, _ = data
    A = renyimi.gram_matrix(_strict(x))
    np.testing.assert_allclose(np.asarray(A), renyimi.gram_matrix(x), atol=1e-15)
    K = renyimi.gram_matrix(_strict(x)) * 64
    assert float(renyimi.matrix_entropy(K, kernel="precomputed")) == pytest.approx(
        float(renyimi.matrix_entropy(x)), abs=1e-9)


def test_float32_stays_in_single_precision(data):
    x, y = data
    value = renyimi.mutual_information(_strict(x), _strict(y), dtype="float32")
    assert value.dtype == xps.float32
    assert float(value) == pytest.approx(float(renyimi.mutual_information(x, y)), abs=1e-4)


def test_pairwise_estimator_and_plane_match_numpy(data):
    x, y = data
    layers = {"T1": x[:, :2], "T2": np.tanh(x)}
    strict_layers = {k: _strict(v) for k, v in layers.items()}
    mi = renyimi.pairwise_mutual_information({"X": _strict(x), **strict_layers}, return_entropies=True)
    ref = renyimi.pairwise_mutual_information({"X": x, **layers}, return_entropies=True)
    for got, want in zip(mi, ref):
        assert got.keys() == want.keys()
        for key in got:
            assert float(got[key]) == pytest.approx(float(want[key]), abs=1e-9)
    assert renyimi.MatrixMI().fit(_strict(x), _strict(y)).mi_ == pytest.approx(
        renyimi.MatrixMI().fit(x, y).mi_, abs=1e-9)
    m = renyimi.InformationPlane().measure(_strict(x), _strict(y), strict_layers)
    m_ref = renyimi.InformationPlane().measure(x, y, layers)
    for layer in layers:
        assert m[layer] == pytest.approx(m_ref[layer], abs=1e-9)


def test_channel_standardisation_on_images():
    imgs = np.random.default_rng(1).normal(size=(40, 2, 3, 3)) * np.array([1.0, 50.0])[None, :, None, None]
    value = renyimi.matrix_entropy(_strict(imgs), standardize="channel")
    assert float(value) == pytest.approx(float(renyimi.matrix_entropy(imgs, standardize="channel")), abs=1e-9)


@pytest.mark.parametrize("alpha", [1.01, 2])
def test_independence_test_matches_numpy(data, alpha):
    # The device path of the permutation engine (the one CuPy takes): batched gathers, batched eigenvalues.
    x, y = data
    got = renyimi.independence_test(_strict(x), _strict(y), n_permutations=30, random_state=0, alpha=alpha)
    want = renyimi.independence_test(x, y, n_permutations=30, random_state=0, alpha=alpha)
    assert got.pvalue == want.pvalue
    np.testing.assert_allclose(got.null_distribution, want.null_distribution, atol=1e-9)


def test_slq_matches_numpy_within_round_off(data):
    x, _ = data
    params = {"rank": 8, "block": 8, "krylov_steps": 2, "n_probes": 8, "n_lanczos": 10}
    got = renyimi.matrix_entropy(_strict(x), method="slq", random_state=0, method_params=params)
    want = renyimi.matrix_entropy(x, method="slq", random_state=0, method_params=params)
    assert float(got) == pytest.approx(float(want), abs=1e-8)
