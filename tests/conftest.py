"""Shared fixtures: one array-backend fixture over the installed libraries (SciPy's pattern)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest


def _cupy_reason() -> str | None:
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed"
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "CuPy is installed but no CUDA device was found"
    except Exception as exc:  # no driver, no runtime
        return f"CuPy is installed but no CUDA device is usable ({type(exc).__name__})"
    return None


def _torch_reason() -> str | None:
    return None if importlib.util.find_spec("torch") else "PyTorch is not installed"


def _torch_cuda_reason() -> str | None:
    if _torch_reason():
        return _torch_reason()
    import torch

    return None if torch.cuda.is_available() else "no CUDA device for torch"


class Backend:
    """Moves NumPy data to one array library and back."""

    def __init__(self, name: str):
        self.name = name

    def asarray(self, x):
        x = np.asarray(x)
        if self.name == "numpy":
            return x
        if self.name.startswith("torch"):
            import torch

            return torch.as_tensor(x, device="cuda" if self.name == "torch-cuda" else "cpu")
        import cupy

        return cupy.asarray(x)

    def to_numpy(self, x):
        if self.name.startswith("torch"):
            return x.detach().cpu().numpy()
        if self.name == "cupy":
            return x.get()
        return np.asarray(x)

    def is_native(self, x) -> bool:
        module = type(x).__module__.split(".")[0]
        return module == {"numpy": "numpy", "torch": "torch", "torch-cuda": "torch", "cupy": "cupy"}[self.name]


def _param(name: str, reason: str | None):
    marks = [pytest.mark.skipif(reason is not None, reason=reason or "")]
    if name in ("cupy", "torch-cuda"):
        marks.append(pytest.mark.gpu)
    return pytest.param(name, id=name, marks=marks)


BACKEND_PARAMS = [
    _param("numpy", None),
    _param("torch", _torch_reason()),
    _param("torch-cuda", _torch_cuda_reason()),
    _param("cupy", _cupy_reason()),
]


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request) -> Backend:
    return Backend(request.param)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def correlated_gaussians(rng: np.random.Generator, n: int, d: int, rho: float):
    """Eq. 31: X ~ N(0, I), Y = rho X + sqrt(1 - rho^2) V, so corr(X_i, Y_j) = rho delta_ij."""
    x = rng.normal(size=(n, d))
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=(n, d))
    return x, y
