"""Large N (issue 10): matrix-free Gaussian products and the deflated SLQ entropy, with its accuracy tracked."""

from __future__ import annotations

import importlib.util
import math

import numpy as np

from renyimi._engine.operators import GaussianOperator, dense_gaussian_operator
from renyimi._engine.slq import prepare

HAS_NUMBA = importlib.util.find_spec("numba") is not None


def scaled_samples(n, d=8, seed=0):
    """Standardised Gaussian samples divided by the Tapia width sqrt(d) N^(-1/(4+d))."""
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / (math.sqrt(d) * n ** (-1.0 / (4 + d)))


class GaussianMatmat:
    """One product of the matrix-free normalised Gaussian Gram with a block of 32 vectors (float32)."""

    params = [["numba", "numpy"], [4096, 16384]]
    param_names = ["path", "n"]
    timeout = 300

    def setup(self, path, n):
        if path == "numba" and not HAS_NUMBA:
            raise NotImplementedError("numba is not installed")
        self.op = GaussianOperator(scaled_samples(n), np, dtype=np.float32, use_numba=path == "numba")
        self.V = np.random.default_rng(1).standard_normal((n, 32))
        self.op.matmat(self.V[:, :1])  # compile / warm up

    def time_matmat(self, path, n):
        self.op.matmat(self.V)

    def peakmem_matmat(self, path, n):
        self.op.matmat(self.V)


class SLQEntropy:
    """Deflated SLQ on an explicit float32 Gram (default controls), and its error against exact eigenvalues."""

    params = [[2048, 4096]]
    param_names = ["n"]
    timeout = 600

    def setup(self, n):
        Z = scaled_samples(n)
        self.op = dense_gaussian_operator(Z, np, dtype=np.float32)
        lam = np.clip(np.linalg.eigvalsh(np.asarray(self.op.A, dtype=np.float64)), 0, None)
        lam /= lam.sum()
        self.exact = float(math.log2((lam**1.01).sum()) / -0.01)

    def time_prepare(self, n):
        prepare(self.op, rng=np.random.default_rng(0))

    def peakmem_prepare(self, n):
        prepare(self.op, rng=np.random.default_rng(0))

    def track_error_bits(self, n):
        return abs(prepare(self.op, rng=np.random.default_rng(0)).entropy(1.01)[0] - self.exact)

    track_error_bits.unit = "bits"
