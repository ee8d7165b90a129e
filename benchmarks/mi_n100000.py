"""One mutual information at N = 100 000 (16 + 16 features) from the public one-line call, against its exact value.

The data are Cartesian-product samples (``compare_large_n.py``, case ``grid100000d16``): x_(i,j) = (a_i, b_j),
y_(i,j) = (c_i, e_j) with 8 + 8 correlated Gaussian features (rho = 0.7) on a 250 x 400 grid. renyimi's
Tapia rule standardises each feature and uses one width per variable, so the Gaussian Gram matrix of X is
the Kronecker product K_a (x) K_b and its Renyi entropy is S(a) + S(b): the exact entropies and MI come
from eigenproblems of size 250 and 400, while the estimator sees 100 000 unstructured samples.

Usage (from the repository root; prints one JSON line per seed)::

    python benchmarks/mi_n100000.py --seeds 0 1 --out docs/_static/large_n/mi_n100000.json

Times are wall and process CPU seconds of ``renyimi.MatrixMI(method="slq", random_state=seed).fit(X, Y)``,
the peak is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import compare_large_n as cl  # noqa: E402

import renyimi  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100000)
    parser.add_argument("--features", type=int, default=16, help="features per variable (even)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", help="append the JSON lines to this file")
    args = parser.parse_args(argv)
    case = f"grid{args.n}d{args.features}"
    (X, Y), _ = cl.grid_raw(*cl._grid_case(case))
    ex = cl.exact_entropies(case, 1.01)[0]
    for seed in args.seeds:
        w0, c0 = time.perf_counter(), time.process_time()
        est = renyimi.MatrixMI(method="slq", random_state=seed).fit(X, Y)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        values = [est.entropy_x_, est.entropy_y_, est.joint_entropy_, est.mi_]
        errors = [est.entropy_x_stderr_, est.entropy_y_stderr_, est.joint_entropy_stderr_, est.mi_stderr_]
        truth = [ex[0], ex[1], ex[2], ex[0] + ex[1] - ex[2]]
        row = {"case": case, "n": args.n, "features": args.features, "alpha": est.alpha, "seed": seed,
               "method": est.method_, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
               "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
               "cores": len(os.sched_getaffinity(0)), "machine": platform.processor() or platform.machine(),
               "terms": ["S(X)", "S(Y)", "S(X,Y)", "MI"],
               "estimate": [round(float(v), 5) for v in values], "stderr": [round(float(e), 5) for e in errors],
               "exact": [round(t, 5) for t in truth],
               "error": [round(float(v) - t, 5) for v, t in zip(values, truth)],
               "error_in_stderr": [round((float(v) - t) / e, 2) if e > 0 else math.nan
                                   for v, t, e in zip(values, truth, errors)]}
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
