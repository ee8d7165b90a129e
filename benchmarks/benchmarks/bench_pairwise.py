"""One information-plane point: I(X;T) and I(T;X') for the seven layers of an MNIST-sized autoencoder."""

from __future__ import annotations

import renyimi
from renyimi._engine.arrays import to_python_float

from .common import (
    BACKENDS,
    SIZES,
    autoencoder_activations,
    engine,
    information_plane_pairs,
    require,
    synchronize,
    to_backend,
)


class InformationPlaneStep:
    """9 variables, 14 pairs: ``pairwise_mutual_information`` against calling ``mutual_information`` per pair."""

    params = [BACKENDS, ["pairwise", "per-pair"], SIZES]
    param_names = ["backend", "method", "n"]
    timeout = 1800
    number = 1
    repeat = (1, 3, 120.0)

    def setup(self, backend, method, n):
        require(backend)
        if method == "per-pair" and n > 1024:
            raise NotImplementedError("per-pair baseline only up to N = 1024 (it costs 42 eigensolves)")
        self.backend = backend
        self.variables = {k: to_backend(v, backend) for k, v in autoencoder_activations(n).items()}
        self.pairs = information_plane_pairs(self.variables)

    def step(self, method):
        if method == "pairwise":
            out = renyimi.pairwise_mutual_information(self.variables, self.pairs, backend=engine(self.backend))
        else:
            out = {(a, b): renyimi.mutual_information(self.variables[a], self.variables[b],
                                                      backend=engine(self.backend)) for a, b in self.pairs}
        synchronize(self.backend)
        return out

    def time_information_plane_step(self, backend, method, n):
        self.step(method)

    def peakmem_information_plane_step(self, backend, method, n):
        self.step(method)

    def track_mean_mi_bits(self, backend, method, n):
        values = self.step(method).values()
        return sum(to_python_float(v) for v in values) / len(values)

    track_mean_mi_bits.unit = "bits"
