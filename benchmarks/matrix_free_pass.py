"""CPU time of one matrix-free Gaussian product pass at large N (the unit cost of SLQ without explicit Grams).

Usage (from the repository root)::

    /usr/bin/time -v python benchmarks/matrix_free_pass.py --n 100000

Builds the joint operator of X (16 features) and Y = 0.7 X + noise (16 features), Tapia-like widths, and
times one product with blocks of 16 and 32 vectors (the probe and deflation block sizes of
``default_controls(n)`` above N = 40 000). Prints JSON lines of process CPU and wall seconds.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100000)
    args = parser.parse_args()
    from renyimi._engine.operators import GaussianOperator

    rng = np.random.default_rng(0)
    n = args.n
    X = rng.standard_normal((n, 16))
    Y = 0.7 * X + 0.71 * rng.standard_normal((n, 16))
    Z = np.hstack([X, Y])
    Z = Z / (np.sqrt(32) * n ** (-1 / (4 + 32)))
    op = GaussianOperator(Z, np)
    op.matmat(np.zeros((n, 1)))  # compile
    res = {}
    for k in (16, 32):
        V = rng.standard_normal((n, k))
        c, w = time.process_time(), time.perf_counter()
        op.matmat(V)
        res[k] = {"cpu_s": time.process_time() - c, "wall_s": time.perf_counter() - w}
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
