"""One mutual information (eq. 20): two Gram matrices and three entropies, per backend."""

from __future__ import annotations

import numpy as np

import renyimi
from renyimi._engine.arrays import to_python_float

from .common import BACKENDS, SIZES, engine, require, samples, synchronize, to_backend


class MutualInformation:
    """``renyimi.mutual_information(X, T)`` for X (N, 784) and a 10-d function of it, alpha = 1.01."""

    params = [BACKENDS, SIZES]
    param_names = ["backend", "n"]
    timeout = 900

    def setup(self, backend, n):
        require(backend)
        self.backend = backend
        x = samples(n, 784)
        t = np.tanh(x[:, :10] + 0.5 * samples(n, 10, seed=1))
        self.x, self.t = to_backend(x, backend), to_backend(t, backend)

    def mi(self):
        value = renyimi.mutual_information(self.x, self.t, backend=engine(self.backend))
        synchronize(self.backend)
        return value

    def time_mutual_information(self, backend, n):
        self.mi()

    def peakmem_mutual_information(self, backend, n):
        self.mi()

    def track_mutual_information_bits(self, backend, n):
        return to_python_float(self.mi())

    track_mutual_information_bits.unit = "bits"


class MutualInformationFloat32:
    """float32 mode against float64 (NumPy input)."""

    params = [["float64", "float32"], SIZES]
    param_names = ["dtype", "n"]
    timeout = 900

    def setup(self, dtype, n):
        self.x = samples(n, 784)
        self.t = np.tanh(self.x[:, :10] + 0.5 * samples(n, 10, seed=1))

    def time_mutual_information(self, dtype, n):
        renyimi.mutual_information(self.x, self.t, dtype=dtype)

    def track_mutual_information_bits(self, dtype, n):
        return float(renyimi.mutual_information(self.x, self.t, dtype=dtype))

    track_mutual_information_bits.unit = "bits"
