"""Large N (issue 10): matrix-free Gaussian products and the deflated SLQ entropy, with its accuracy tracked."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from renyimi._engine.operators import GaussianFamily, dense_gaussian_operator
from renyimi._engine.slq import prepare, prepare_family


def scaled_samples(n, d=8, seed=0):
    """Standardised Gaussian samples divided by the Tapia width sqrt(d) N^(-1/(4+d))."""
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / (math.sqrt(d) * n ** (-1.0 / (4 + d)))


class GaussianMatmat:
    """One matrix-free pass with 32 vectors per term: one variable, or X, Y and their joint (a mutual information)."""

    params = [["one variable", "X, Y and joint"], [4096, 16384]]
    param_names = ["terms", "n"]
    timeout = 300

    def setup(self, terms, n):
        parts = [scaled_samples(n), scaled_samples(n, seed=1)]
        self.family = GaussianFamily(parts[:1] if terms == "one variable" else parts, np)
        V = np.random.default_rng(1).standard_normal((n, 32))
        self.blocks = {(0,): V} if terms == "one variable" else {(0,): V, (1,): V, (0, 1): V}

    def time_matmat(self, terms, n):
        self.family.matmat_many(self.blocks)

    def peakmem_matmat(self, terms, n):
        self.family.matmat_many(self.blocks)


class SLQMutualInformation:
    """The three SLQ entropies of an MI in lockstep on one matrix-free family: default controls (deflation in
    the probes' own Krylov space, 21 passes) against the previous separate deflation space (32 x 6, 26 passes)."""

    params = [[4096, 8192], ["probe space", "separate deflation"]]
    param_names = ["n", "deflation"]
    timeout = 600

    def setup(self, n, deflation):
        self.family = GaussianFamily([scaled_samples(n), scaled_samples(n, seed=1)], np)
        self.controls = {} if deflation == "probe space" else {"block": 32, "krylov_steps": 5}

    def time_prepare_family(self, n, deflation):
        prepare_family(self.family, [(0,), (1,), (0, 1)], rngs=[np.random.default_rng(i) for i in range(3)],
                       **self.controls)


class SLQPrograms:
    """The SLQ programs' own work for the three terms of an MI (probes' block Krylov basis and its
    Gram-Schmidt, Ritz pairs, per-probe Lanczos on the compressed remainder, quadrature) with products by a
    diagonal operator that cost nothing: the part of an estimate outside the tile passes (about 5 of 70
    CPU-s at N = 32 768)."""

    params = [[16384, 32768]]
    param_names = ["n"]
    timeout = 300

    def setup(self, n):
        lam = np.geomspace(1.0, 1e-8, n)[:, None]
        lam /= lam.sum()
        # A family whose every term is diag(lam).
        self.family = SimpleNamespace(n=n, xp=np, device="cpu", workers=2,
                                      matmat_many=lambda blocks: {t: V * lam for t, V in blocks.items()})

    def time_programs(self, n):
        prepare_family(self.family, [(0,), (1,), (0, 1)], rngs=[np.random.default_rng(i) for i in range(3)])


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
