"""Gram-matrix construction (eq. 17): standardisation, squared distances, Gaussian kernel, 1/N."""

from __future__ import annotations

import renyimi
from renyimi._engine.arrays import to_python_float

from .common import BACKENDS, SIZES, engine, require, samples, synchronize, to_backend


class GramBuild:
    """``renyimi.gram_matrix`` of (N, d) data with the Tapia width."""

    params = [BACKENDS, SIZES, [10, 784]]
    param_names = ["backend", "n", "d"]

    def setup(self, backend, n, d):
        require(backend)
        self.backend = backend
        self.x = to_backend(samples(n, d), backend)
        self.gram()  # first call: numba compiles (then cached on disk), GPUs initialise

    def gram(self):
        A = renyimi.gram_matrix(self.x, backend=engine(self.backend))
        synchronize(self.backend)
        return A

    def time_gram(self, backend, n, d):
        self.gram()

    def peakmem_gram(self, backend, n, d):
        self.gram()

    def track_offdiagonal_sum(self, backend, n, d):
        """Sum of the off-diagonal entries (the trace is 1): catches changes of kernel or width."""
        return to_python_float(self.gram().sum()) - 1.0

    track_offdiagonal_sum.unit = "1"
