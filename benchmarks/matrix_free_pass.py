"""Time of one matrix-free product pass at large N: the unit cost of SLQ when kernel tiles are recomputed.

Usage (from the repository root)::

    /usr/bin/time -v python benchmarks/matrix_free_pass.py --n 100000

One :class:`~renyimi._engine.operators.GaussianFamily` of X (16 features) and Y = 0.7 X + noise (16 features),
Tapia widths, no kept tiles (``cache_bytes=0``, as at N = 100 000): one pass multiplies S(X), S(Y) and the joint
S(X, Y) operators each by a block of k vectors, for k = 16, 48 and 96 (the probe, deflation and residual blocks
of ``default_controls(n)`` above N = 40 000), and, for comparison, the joint operator alone. Prints JSON lines
of process CPU and wall seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100000)
    args = parser.parse_args()
    from renyimi._engine.operators import GaussianFamily

    rng = np.random.default_rng(0)
    n = args.n
    X = rng.standard_normal((n, 16))
    Y = 0.7 * X + 0.71 * rng.standard_normal((n, 16))
    width = math.sqrt(16) * n ** (-1 / (4 + 16))
    family = GaussianFamily([X / width, Y / width], np, cache_bytes=0)
    for terms in ([(0,), (1,), (0, 1)], [(0, 1)]):
        for k in (16, 48, 96):
            V = rng.standard_normal((n, k))
            c, w = time.process_time(), time.perf_counter()
            family.matmat_many({t: V for t in terms})
            print(json.dumps({"n": n, "terms": [list(t) for t in terms], "k": k,
                              "cpu_s": round(time.process_time() - c, 2), "wall_s": round(time.perf_counter() - w, 2)}),
                  flush=True)


if __name__ == "__main__":
    main()
