"""Shared data, sizes and backends of the asv suites.

A backend that is not installed (or has no device) makes ``setup`` raise ``NotImplementedError``,
which asv reports as "skipped" (SciPy's benchmark convention).
"""

from __future__ import annotations

import importlib.util

import numpy as np

#: Sample sizes of every suite (the paper's batches are N = 512).
SIZES = [256, 512, 1024, 2048, 4096]

#: Array libraries/engines: NumPy arrays with the NumPy or numba Gram engine, torch on CPU or CUDA, CuPy.
BACKENDS = ["numpy", "numba", "torch", "torch-cuda", "cupy"]

#: An MNIST-sized autoencoder, 784-500-250-100-10-100-250-500-784: seven hidden layers.
AUTOENCODER = (784, 500, 250, 100, 10, 100, 250, 500, 784)


def require(backend: str) -> None:
    """Raise NotImplementedError (asv: skip) unless ``backend`` can run here."""
    module = {"numba": "numba", "torch": "torch", "torch-cuda": "torch", "cupy": "cupy"}.get(backend)
    if module and importlib.util.find_spec(module) is None:
        raise NotImplementedError(f"{module} is not installed")
    if backend == "torch-cuda":
        import torch

        if not torch.cuda.is_available():
            raise NotImplementedError("no CUDA device for torch")
    if backend == "cupy":
        import cupy

        try:
            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise NotImplementedError("no CUDA device for CuPy")
        except cupy.cuda.runtime.CUDARuntimeError as exc:
            raise NotImplementedError(f"no usable CUDA device for CuPy ({exc})") from None


def to_backend(x: np.ndarray, backend: str):
    """``x`` in the array library of ``backend``."""
    if backend.startswith("torch"):
        import torch

        return torch.as_tensor(x, device="cuda" if backend == "torch-cuda" else "cpu")
    if backend == "cupy":
        import cupy

        return cupy.asarray(x)
    return x


def engine(backend: str) -> str:
    """The ``backend=`` argument of renyimi's functions for a benchmark backend."""
    return "numba" if backend == "numba" else "auto"


def synchronize(backend: str) -> None:
    """Wait for queued GPU work, so that timings include it."""
    if backend == "torch-cuda":
        import torch

        torch.cuda.synchronize()
    elif backend == "cupy":
        import cupy

        cupy.cuda.get_current_stream().synchronize()


def samples(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Standard normal samples (n, d)."""
    return np.random.default_rng(seed).normal(size=(n, d))


def autoencoder_activations(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Input X, the seven hidden layers T1..T7 and the reconstruction Xr of a random sigmoid autoencoder.

    Inputs are MNIST-like (sparse, in [0, 1]); weights are Glorot-uniform; every layer is a sigmoid,
    as in the paper's autoencoders. Only the shapes and the spread of the activations matter here.
    """
    rng = np.random.default_rng(seed)
    x = np.clip(rng.normal(0.0, 0.5, size=(n, AUTOENCODER[0])), 0.0, None)
    x = np.minimum(x, 1.0)
    out = {"X": x}
    h = x
    for k, (d_in, d_out) in enumerate(zip(AUTOENCODER[:-1], AUTOENCODER[1:]), start=1):
        limit = np.sqrt(6.0 / (d_in + d_out))
        h = 1.0 / (1.0 + np.exp(-(h @ rng.uniform(-limit, limit, size=(d_in, d_out)) + rng.normal(0, 0.1, d_out))))
        out[f"T{k}" if k < len(AUTOENCODER) - 1 else "Xr"] = h
    return out


def information_plane_pairs(names) -> list[tuple[str, str]]:
    """I(X;T) and I(T;X') for every hidden layer T."""
    layers = [n for n in names if n.startswith("T")]
    return [("X", t) for t in layers] + [(t, "Xr") for t in layers]
