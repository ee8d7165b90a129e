"""Matrix-free Gaussian product: float64 tiles (``gaussian_matmat``) vs float32 tiles + BLAS (``gaussian_matmat32``).

Usage (from the repository root)::

    python benchmarks/kernel_tiles.py --n 8192 --d 4 --k 30

Prints, for one product ``K V`` (``Z`` (N, d), ``V`` (N, k)), the process CPU seconds (all threads) and wall
seconds of each kernel (best of ``--repeat``), their ratio, and the largest entry-wise difference relative to
the largest entry. Both run in the same process, so the ratio is meaningful on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--d", type=int, default=4)
    parser.add_argument("--k", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from renyimi._engine.numba_matvec import gaussian_matmat, gaussian_matmat32

    rng = np.random.default_rng(0)
    Z = rng.standard_normal((args.n, args.d)) * 0.5
    V = rng.standard_normal((args.n, args.k))
    ref, new = gaussian_matmat(Z, V), gaussian_matmat32(Z, V)  # also compiles both
    result = {"n": args.n, "d": args.d, "k": args.k,
              "max_rel_diff": float(np.abs(new - ref).max() / np.abs(ref).max())}
    for name, fn in (("float64_tiles", gaussian_matmat), ("float32_tiles", gaussian_matmat32)):
        best_cpu = best_wall = float("inf")
        for _ in range(args.repeat):
            c0, w0 = time.process_time(), time.perf_counter()
            fn(Z, V)
            best_cpu = min(best_cpu, time.process_time() - c0)
            best_wall = min(best_wall, time.perf_counter() - w0)
        result[name] = {"cpu_s": best_cpu, "wall_s": best_wall, "cpu_ns_per_entry": best_cpu / args.n**2 * 1e9}
    result["cpu_ratio_old_over_new"] = result["float64_tiles"]["cpu_s"] / result["float32_tiles"]["cpu_s"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
