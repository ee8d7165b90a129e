"""NumPy, PyTorch and CuPy inputs give the same numbers through one array-API code path."""

from __future__ import annotations

import numpy as np
import pytest

import renyimi

from .conftest import correlated_gaussians

FUNCTIONS = {
    "entropy": lambda b, x, y, **kw: renyimi.matrix_entropy(b.asarray(x), **kw),
    "joint": lambda b, x, y, **kw: renyimi.joint_entropy(b.asarray(x), b.asarray(y), **kw),
    "mi": lambda b, x, y, **kw: renyimi.mutual_information(b.asarray(x), b.asarray(y), **kw),
    "conditional": lambda b, x, y, **kw: renyimi.conditional_entropy(b.asarray(x), b.asarray(y), **kw),
    "total_correlation": lambda b, x, y, **kw: renyimi.total_correlation(b.asarray(x), b.asarray(y), **kw),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("kw", [{}, {"alpha": 2}, {"alpha": 1}, {"sigma": "yu", "sigma_scale": 3},
                                {"kernel": "laplacian", "sigma": "median"}, {"sigma": "knn"},
                                {"standardize": "pooled"}])
def test_backends_agree_with_numpy_float64(backend, name, kw, rng):
    x, y = correlated_gaussians(rng, 60, 4, 0.7)
    result = FUNCTIONS[name](backend, x, y, **kw)
    assert backend.is_native(result) and result.ndim == 0
    expected = float(FUNCTIONS[name](renyimi_numpy, x, y, **kw))
    assert float(backend.to_numpy(result)) == pytest.approx(expected, abs=1e-9)


class _NumpyBackend:
    @staticmethod
    def asarray(x):
        return np.asarray(x)


renyimi_numpy = _NumpyBackend()


def test_gram_matrix_stays_in_library(backend, rng):
    x = rng.normal(size=(30, 2, 3))  # flattened per sample
    A = renyimi.gram_matrix(backend.asarray(x))
    assert backend.is_native(A) and tuple(A.shape) == (30, 30)
    np.testing.assert_allclose(backend.to_numpy(A), renyimi.gram_matrix(x), atol=1e-12)


@pytest.mark.parametrize("alpha", [1.01, 2.0])
def test_float32_within_1e3_bits(backend, alpha, rng):
    x, y = correlated_gaussians(rng, 256, 10, 0.8)
    single = renyimi.mutual_information(backend.asarray(x), backend.asarray(y), alpha=alpha, dtype="float32")
    double = float(renyimi.mutual_information(x, y, alpha=alpha))
    assert str(single.dtype).endswith("float32")
    assert float(backend.to_numpy(single)) == pytest.approx(double, abs=1e-3)


def test_torch_result_is_differentiable(rng):
    torch = pytest.importorskip("torch")
    x, y = correlated_gaussians(rng, 12, 2, 0.5)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y)
    for kw in ({"sigma": 1.3}, {"sigma": "tapia"}, {"alpha": 2.0, "sigma": 1.3}, {"alpha": 1.0, "sigma": 1.3}):
        torch.autograd.gradcheck(lambda a, kw=kw: renyimi.mutual_information(a, yt, **kw), (xt,), atol=1e-6)
    mi = renyimi.mutual_information(xt, yt)
    (grad,) = torch.autograd.grad(mi, xt)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_torch_loss_can_be_minimised(rng):
    """The estimate serves as a training loss: gradient steps on -I(X; W X) increase the MI."""
    torch = pytest.importorskip("torch")
    x = torch.tensor(rng.normal(size=(64, 3)))
    w = torch.zeros(3, 1, dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        w[0, 0] = 1.0
    opt = torch.optim.SGD([w], lr=0.5)
    noise = torch.tensor(rng.normal(size=(64, 1)))
    start = None
    for _ in range(15):
        mi = renyimi.mutual_information(x, x @ w + 0.5 * noise, sigma=1.0)
        start = float(mi.detach()) if start is None else start
        opt.zero_grad()
        (-mi).backward()
        opt.step()
    assert float(renyimi.mutual_information(x, x @ w + 0.5 * noise, sigma=1.0).detach()) > start + 0.05


def test_eigensolvers_agree(rng):
    x = rng.normal(size=(80, 3))
    ref = float(renyimi.matrix_entropy(x, eigensolver="numpy"))
    for solver in ("scipy-evd", "scipy-evr", "auto"):
        assert float(renyimi.matrix_entropy(x, eigensolver=solver)) == pytest.approx(ref, abs=1e-10)
    with pytest.raises(ValueError, match="solver must be one of"):
        renyimi.matrix_entropy(x, eigensolver="magic")


def test_numpy_backends_agree(rng):
    pytest.importorskip("numba")
    x, y = correlated_gaussians(rng, 100, 5, 0.6)
    assert float(renyimi.mutual_information(x, y, backend="numba")) == pytest.approx(
        float(renyimi.mutual_information(x, y, backend="numpy")), abs=1e-9
    )


def test_numpy_only_backend_refuses_other_libraries(rng):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="backend='numba' needs NumPy arrays"):
        renyimi.matrix_entropy(torch.ones(5, 2), backend="numba")
