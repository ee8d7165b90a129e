"""The numba Gram kernels equal the NumPy path; numba stays optional and lazily imported."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import renyimi
from renyimi._engine import gram as _gram

numba_module = pytest.importorskip("renyimi._engine.numba_kernels", reason="numba is not installed")


def _reference(Z, sigma):
    """Independent float64 Gram: explicit differences, no GEMM."""
    Z = np.asarray(Z, dtype=np.float64)
    d2 = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1)
    return np.exp(-d2 / (2 * sigma**2)) / Z.shape[0]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 150), d=st.integers(1, 40), sigma=st.floats(0.05, 20.0), seed=st.integers(0, 2**16),
       direct=st.booleans())
def test_gaussian_gram_matches_reference(n, d, sigma, seed, direct):
    Z = np.random.default_rng(seed).normal(size=(n, d)) * 3 + 5  # offset: cancellation in |x|^2+|y|^2-2xy
    old = numba_module.DIRECT_MAX_FEATURES
    numba_module.DIRECT_MAX_FEATURES = 10**6 if direct else 0
    try:
        A = numba_module.gaussian_gram(Z, sigma)
    finally:
        numba_module.DIRECT_MAX_FEATURES = old
    assert A.shape == (n, n) and A.dtype == np.float64
    np.testing.assert_array_equal(A, A.T)
    np.testing.assert_array_equal(np.diag(A), np.full(n, 1.0 / n))
    np.testing.assert_allclose(A, _reference(Z, sigma), rtol=1e-9, atol=1e-13 / n)


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_float32_stays_single(n, direct, monkeypatch, rng):
    monkeypatch.setattr(numba_module, "DIRECT_MAX_FEATURES", 10**6 if direct else 0)
    Z = rng.normal(size=(n, 12))
    A = numba_module.gaussian_gram(Z.astype(np.float32), 3.0)
    assert A.dtype == np.float32
    np.testing.assert_allclose(A, _reference(Z, 3.0), atol=2e-6 / n)


def test_integer_input_is_promoted(rng):
    Z = rng.integers(0, 5, size=(20, 3))
    np.testing.assert_allclose(numba_module.gaussian_gram(Z, 2.0), _reference(Z, 2.0), rtol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"sigma": 1.5}, {"sigma": "yu", "sigma_scale": 2}, {"standardize": "pooled"},
                                {"kernel": "laplacian", "sigma": "median"}, {"dtype": "float32"}])
def test_backend_numba_equals_numpy(kw, rng):
    X = rng.normal(size=(90, 30))
    Y = np.tanh(X[:, :4]) + 0.1 * rng.normal(size=(90, 4))
    tol = 1e-3 if kw.get("dtype") == "float32" else 1e-10
    np.testing.assert_allclose(renyimi.gram_matrix(X, backend="numba", **kw),
                               renyimi.gram_matrix(X, backend="numpy", **kw), atol=tol / 90)
    for fn in (renyimi.mutual_information, renyimi.joint_entropy):
        assert float(fn(X, Y, backend="numba", **kw)) == pytest.approx(float(fn(X, Y, backend="numpy", **kw)),
                                                                           abs=tol)


def test_numpy_gram_path_is_what_numba_replaces(rng):
    """Guards the NumPy reference used by the benchmark: squared distances, kernel, eq. 17."""
    Z = rng.normal(size=(30, 4))
    K = np.exp(-_gram.squared_distances(Z, np) / (2 * 1.3**2))
    np.testing.assert_allclose(_gram.normalize_gram(K, np), numba_module.gaussian_gram(Z, 1.3), atol=1e-15)


def test_missing_numba_names_the_extra():
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import renyimi, numpy as np\n"
        "try:\n"
        "    renyimi.gram_matrix(np.ones((3, 2)), backend='numba')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'renyimi[numba]'" in out


def test_import_renyimi_does_not_import_numba():
    code = (
        "import sys, numpy as np, renyimi\n"
        "renyimi.pairwise_mutual_information({'a': np.ones((5, 2)), 'b': np.arange(10.).reshape(5, 2)}, sigma=1.0)\n"
        "print(sorted(m for m in ('numba', 'torch', 'cupy', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
