"""Every bad input gets a clear error naming the parameter, the value and the fix."""

from __future__ import annotations

import numpy as np
import pytest

import renyimi


@pytest.fixture
def xy(rng):
    return rng.normal(size=(20, 3)), rng.normal(size=(20, 2))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values(xy, bad):
    x, y = xy
    x[3, 1] = bad
    with pytest.raises(ValueError, match=r"X contains 1 NaN or infinite value"):
        renyimi.mutual_information(x, y)


def test_fewer_than_two_samples():
    with pytest.raises(ValueError, match=r"at least 2 samples.*shape=\(1, 3\)"):
        renyimi.matrix_entropy(np.ones((1, 3)))


def test_different_sample_counts(rng):
    with pytest.raises(ValueError, match=r"same number of samples.*X.shape=\(20, 3\), Y.shape=\(19, 1\)"):
        renyimi.mutual_information(rng.normal(size=(20, 3)), rng.normal(size=(19, 1)))


def test_zero_dimensional_input():
    with pytest.raises(ValueError, match="at least one dimension"):
        renyimi.matrix_entropy(np.float64(3.0))


def test_no_features():
    with pytest.raises(ValueError, match="no features"):
        renyimi.matrix_entropy(np.ones((5, 0)))


@pytest.mark.parametrize("bad", [np.array([["a", "b"], ["c", "d"]]), np.array([[1 + 1j], [2j]]),
                                 np.array([[object()], [object()]])])
def test_non_numeric_dtypes(bad):
    with pytest.raises(TypeError, match="must hold real numbers"):
        renyimi.matrix_entropy(bad)


def test_ragged_input():
    with pytest.raises(TypeError, match="array-like of numbers"):
        renyimi.matrix_entropy([[1.0, 2.0], [3.0]])


def test_integer_and_bool_input_accepted(rng):
    x = rng.integers(0, 5, size=(30, 2))
    assert float(renyimi.matrix_entropy(x)) == pytest.approx(float(renyimi.matrix_entropy(x.astype(float))))
    assert np.isfinite(float(renyimi.matrix_entropy(x > 2)))


def test_mixed_array_libraries(rng):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="same array library; got X is numpy, Y is torch"):
        renyimi.mutual_information(rng.normal(size=(10, 2)), torch.ones(10, 2))


@pytest.mark.parametrize("alpha", [0, -1, np.inf, np.nan, "2", True])
def test_bad_alpha(xy, alpha):
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        renyimi.matrix_entropy(xy[0], alpha=alpha)


@pytest.mark.parametrize("sigma", [0.0, -1.0, np.inf, np.nan])
def test_bad_sigma(xy, sigma):
    with pytest.raises(ValueError, match="sigma for X must be a positive finite number"):
        renyimi.matrix_entropy(xy[0], sigma=sigma)


def test_bad_sigma_type_and_scale(xy):
    with pytest.raises(TypeError, match="sigma for X must be a positive real number"):
        renyimi.matrix_entropy(xy[0], sigma=None)
    with pytest.raises(ValueError, match="sigma_scale must be a positive finite number"):
        renyimi.matrix_entropy(xy[0], sigma_scale=-2)


def test_callable_sigma_returning_nonsense(xy):
    with pytest.raises(ValueError, match="must be positive and finite"):
        renyimi.matrix_entropy(xy[0], sigma=lambda X: 0.0)


def test_bad_base(xy):
    with pytest.raises(ValueError, match="base must be positive and different from 1"):
        renyimi.matrix_entropy(xy[0], base=1)


def test_unknown_names_list_valid_ones(xy):
    with pytest.raises(ValueError, match=r"Unknown kernel 'gausian'; valid names are .*'gaussian'.*'laplacian'"):
        renyimi.matrix_entropy(xy[0], kernel="gausian")
    with pytest.raises(ValueError, match=r"Unknown width rule sigma='tapa'; valid names are .*'tapia'.*'yu'"):
        renyimi.matrix_entropy(xy[0], sigma="tapa")
    with pytest.raises(ValueError, match="backend must be one of"):
        renyimi.matrix_entropy(xy[0], backend="fortran")
    with pytest.raises(ValueError, match="standardize must be one of"):
        renyimi.matrix_entropy(xy[0], standardize="per-pixel")
    with pytest.raises(ValueError, match="dtype must be None, 'float64' or 'float32'"):
        renyimi.matrix_entropy(xy[0], dtype="int8")


def test_per_variable_length_mismatch(xy):
    with pytest.raises(ValueError, match="sigma given per variable must have one entry per variable"):
        renyimi.mutual_information(*xy, sigma=(1.0, 2.0, 3.0))


def test_channel_standardisation_needs_channels(xy):
    with pytest.raises(ValueError, match="standardize='channel' needs samples with a channel axis"):
        renyimi.matrix_entropy(xy[0], standardize="channel")


def test_precomputed_gram_checks(rng):
    with pytest.raises(ValueError, match="must be a square"):
        renyimi.matrix_entropy(rng.normal(size=(5, 4)), kernel="precomputed")
    with pytest.raises(ValueError, match="must be symmetric"):
        renyimi.matrix_entropy(rng.normal(size=(5, 5)), kernel="precomputed")
    with pytest.raises(ValueError, match="positive diagonal"):
        renyimi.matrix_entropy(np.zeros((5, 5)), kernel="precomputed")


def test_memory_is_checked_before_allocating(monkeypatch, rng):
    monkeypatch.setattr("renyimi._engine.operators.available_bytes", lambda x: 10_000)
    with pytest.raises(MemoryError, match=r"n_samples=100 needs about .* GiB .* only .* available"):
        renyimi.matrix_entropy(rng.normal(size=(100, 2)))


def test_huge_n_refused_without_allocating():
    # 3e6 samples of one feature: the N x N matrices would need ~288 TB.
    x = np.zeros((3_000_000, 1))
    with pytest.raises(MemoryError, match="n_samples=3000000"):
        renyimi.matrix_entropy(x, method="exact")
    # The stochastic method stores no N x N matrix, but its Lanczos vectors still scale with N.
    with pytest.raises(MemoryError, match="n_samples=3000000.*method='slq'"):
        renyimi.matrix_entropy(x, method="slq", method_params={"n_probes": 3000})


def test_total_correlation_needs_two_variables(xy):
    with pytest.raises(ValueError, match="at least 2 variables"):
        renyimi.total_correlation(xy[0])


def test_knn_parameter(xy):
    with pytest.raises(ValueError, match=r"width_params\['k'\] must be a positive integer"):
        renyimi.matrix_entropy(xy[0], sigma="knn", width_params={"k": 0})


def test_median_rule_on_coincident_samples():
    with pytest.raises(ValueError, match="gave sigma=0"):
        renyimi.matrix_entropy(np.zeros((10, 2)), sigma="median")


def test_registries_refuse_bad_entries():
    with pytest.raises(ValueError, match="other than 'precomputed'"):
        renyimi.register_kernel("precomputed", lambda d2, s, xp: d2)
    with pytest.raises(TypeError, match="kernel must be callable"):
        renyimi.register_kernel("not-callable", 3.0)
    with pytest.raises(TypeError, match="width rule must be callable"):
        renyimi.register_width_rule("not-callable", "tapia")
    assert "precomputed" in renyimi.available_kernels()
    assert {"tapia", "yu", "silverman", "scott", "median", "knn"} <= set(renyimi.available_width_rules())


def test_missing_optional_dependency_names_the_extra(monkeypatch):
    import sys

    from renyimi._optional import require

    for name in ("matplotlib", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, name, None)  # `import matplotlib.pyplot` now fails
    with pytest.raises(ImportError, match=r"renyimi.plotting needs matplotlib.*pip install 'renyimi\[plot\]'"):
        require("matplotlib.pyplot", needed_by="renyimi.plotting", extra="plot")
