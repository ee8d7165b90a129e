"""Entropy of one variable (eq. 18): eigensolvers by size and precision, and the exact integer-order path."""

from __future__ import annotations

import importlib.util

import numpy as np

import renyimi
from renyimi._engine import eigen as _eigen
from renyimi._engine import spectral as _spectral

from .common import SIZES, samples


class Eigensolver:
    """Eigenvalues of a normalised Gram matrix, per solver route and dtype (NumPy input)."""

    params = [[s for s in _eigen.SOLVERS], ["float64", "float32"], SIZES]
    param_names = ["solver", "dtype", "n"]

    def setup(self, solver, dtype, n):
        if solver == "torch" and importlib.util.find_spec("torch") is None:
            raise NotImplementedError("torch is not installed")
        if solver == "numpy" and dtype == "float32":
            raise NotImplementedError("numpy.linalg.eigvalsh computes float32 in float64")
        self.A = np.asarray(renyimi.gram_matrix(samples(n, 50))).astype(dtype)

    def time_eigvalsh(self, solver, dtype, n):
        _eigen.eigvalsh(self.A, np, solver=solver)


class Entropy:
    """``renyimi.matrix_entropy`` of (N, 784) data: Gram matrix plus eigenvalues or matrix products."""

    params = [[1.01, 2.0, 3.0], ["float64", "float32"], SIZES]
    param_names = ["alpha", "dtype", "n"]

    def setup(self, alpha, dtype, n):
        self.x = samples(n, 784)
        self.A = np.asarray(renyimi.gram_matrix(self.x, dtype=dtype))

    def time_matrix_entropy(self, alpha, dtype, n):
        renyimi.matrix_entropy(self.x, alpha=alpha, dtype=dtype)

    def time_entropy_of_gram(self, alpha, dtype, n):
        _spectral.renyi_entropy(self.A, alpha, np)

    def peakmem_matrix_entropy(self, alpha, dtype, n):
        renyimi.matrix_entropy(self.x, alpha=alpha, dtype=dtype)

    def track_entropy_bits(self, alpha, dtype, n):
        return float(renyimi.matrix_entropy(self.x, alpha=alpha, dtype=dtype))

    track_entropy_bits.unit = "bits"
