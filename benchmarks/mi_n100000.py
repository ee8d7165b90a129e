"""One N = 100 000 MI (16 + 16 features, rho = 0.7, Tapia widths) by matrix-free SLQ with default_controls(n).

Usage: ``/usr/bin/time -v python benchmarks/mi_n100000.py`` (prints CPU/wall seconds per entropy term, then the MI).
"""

from __future__ import annotations

import json
import math
import time

import numpy as np

from renyimi._engine.operators import GaussianOperator, joint_gaussian_operator
from renyimi._engine.slq import default_controls, prepare


def tapia(M: np.ndarray) -> np.ndarray:
    n, d = M.shape
    M = (M - M.mean(0)) / M.std(0)
    return M / (math.sqrt(d) * n ** (-1 / (4 + d)))


def main(n: int = 100000) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 16))
    Y = 0.7 * X + 0.71 * rng.standard_normal((n, 16))
    Zx, Zy = tapia(X), tapia(Y)
    controls = default_controls(n)
    print(controls, flush=True)
    c_all, w_all = time.process_time(), time.perf_counter()
    S = {}
    for i, key in enumerate(("x", "y", "xy")):
        c, w = time.process_time(), time.perf_counter()
        op = joint_gaussian_operator(Zx, Zy) if key == "xy" else GaussianOperator(Zx if key == "x" else Zy, np)
        state = prepare(op, rng=np.random.default_rng([0, i]), **controls)
        S[key] = {a: state.entropy(a) for a in (1.01, 1.0)}
        print(key, json.dumps({"cpu_s": time.process_time() - c, "wall_s": time.perf_counter() - w,
                               "products": state.n_products, "S": S[key]}), flush=True)
    for a in (1.01, 1.0):
        mi = S["x"][a][0] + S["y"][a][0] - S["xy"][a][0]
        print("MI", a, mi, math.sqrt(sum(S[k][a][1] ** 2 for k in S)))
    print("total cpu_s", time.process_time() - c_all, "wall_s", time.perf_counter() - w_all, flush=True)


if __name__ == "__main__":
    main()
