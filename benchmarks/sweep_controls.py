"""Worst errors and costs of SLQ accuracy controls on one case of ``compare_large_n.py``, several seeds.

Usage (from the repository root)::

    python benchmarks/sweep_controls.py grid16384 '{"rank": 64, "block": 32}' --seeds 0 1 2

Prints, per order α, the worst absolute error of S(X), S(Y), S(X,Y) and the MI over the seeds against the
cached exact values, their mean (a systematic sign shows there), the mean reported standard errors, and the
process CPU and wall seconds per seed. The settings behind ``default_controls`` were compared this way
(``docs/_static/large_n/controls_sweep.txt``); compare settings within one session, since the machine's speed
drifts by 20% between sessions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare_large_n as cl  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case")
    parser.add_argument("controls", nargs="?", default="{}", help="JSON dict overriding default_controls(n)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    cl.exact_case(args.case)
    out = cl.run_case(args.case, args.seeds, controls=json.loads(args.controls))
    keys = ("x", "y", "xy")
    print(f"{args.case} {args.controls} seeds {args.seeds}")
    for alpha in ("1.01", "1.0"):
        exact, _ = cl.exact_entropies(args.case, float(alpha))
        errs, ses = [], []
        for seed in args.seeds:
            S = out["seeds"][str(seed)]["S"]
            e = [S[k][alpha][0] - exact[i] for i, k in enumerate(keys)]
            errs.append(e + [e[0] + e[1] - e[2]])
            ses.append([S[k][alpha][1] for k in keys])
        errs = np.array(errs)
        print(f"  alpha {alpha}: worst |error| {np.round(np.abs(errs).max(axis=0), 4)}, mean error "
              f"{np.round(errs.mean(axis=0), 4)}, mean stderr {np.round(np.mean(ses, axis=0), 4)}")
    seeds = [out["seeds"][str(s)] for s in args.seeds]
    print(f"  CPU s {[round(r['time_s'], 1) for r in seeds]}, wall s {[round(r['wall_s'], 1) for r in seeds]}, "
          f"products per seed {seeds[0]['products']}, controls {out['controls']}")


if __name__ == "__main__":
    main()
