"""How the SLQ quadrature converges with the number of Lanczos steps, paired on the same probes.

Usage (from the repository root)::

    python benchmarks/quadrature_steps.py grid16384 --seeds 0 1 2 --lanczos 40

One run per seed with ``n_lanczos`` steps (default controls otherwise, as ``method="slq"`` runs them); its
estimate after fewer steps is then free (``SLQState.with_steps``) and is exactly what a run with that many steps
and the same seed would give. Prints, per order and step count, the mean over the seeds of

* the truncation error: the estimate after s steps minus the estimate after ``--lanczos`` steps, the same
  probes and deflation (no sampling noise: a systematic drift of the quadrature alone), and
* the error against the cached exact values (``compare_large_n.py``), truncation plus sampling,

for S(X), S(Y), S(X,Y) and the MI, in bits, and the reported standard error of the MI. The table of the
committed measurement is ``docs/_static/large_n/quadrature_steps.txt``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare_large_n as cl  # noqa: E402

TERMS = ((0,), (1,), (0, 1))


def states_for(case: str, seed: int, lanczos: int) -> tuple[dict, float]:
    """SLQ states of X, Y and the joint of one case and seed (the same random streams as compare_large_n)."""
    from renyimi._engine.operators import GaussianFamily
    from renyimi._engine.slq import default_controls

    Zx, Zy = cl.case_data(case)
    controls = dict(default_controls(Zx.shape[0]), n_lanczos=lanczos)
    c0 = time.process_time()
    states = cl.seeded_states(GaussianFamily([Zx, Zy], np), seed, **controls)
    return states, time.process_time() - c0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--lanczos", type=int, default=40, help="Lanczos steps of the reference run")
    parser.add_argument("--steps", type=int, nargs="+", default=[8, 10, 12, 14, 16, 20, 24, 30])
    args = parser.parse_args(argv)
    steps = [s for s in args.steps if s < args.lanczos] + [args.lanczos]
    cl.exact_case(args.case)
    runs = []
    for seed in args.seeds:
        states, cpu = states_for(args.case, seed, args.lanczos)
        runs.append(states)
        print(f"# {args.case} seed {seed}: {args.lanczos} Lanczos steps, {cpu:.1f} CPU s", flush=True)
    print(f"{args.case}, seeds {args.seeds}: mean over the seeds, bits; truncation = estimate after s steps minus "
          f"after {args.lanczos} (same probes)")
    for alpha in (1.01, 1.0):
        exact = np.array(cl.exact_entropies(args.case, alpha)[0])
        print(f"alpha {alpha}:  s | truncation S(X) S(Y) S(X,Y) MI | error vs exact S(X) S(Y) S(X,Y) MI | "
              "MI stderr")
        for s in steps:
            trunc, err, mi_se = [], [], []
            for states in runs:
                at_s = [states[t].with_steps(s).entropy(alpha) for t in TERMS]  # (value, stderr) per term
                est = np.array([value for value, _ in at_s])
                ref = np.array([states[t].entropy(alpha)[0] for t in TERMS])
                ses = [stderr for _, stderr in at_s]
                d, e = est - ref, est - exact
                trunc.append([*d, d[0] + d[1] - d[2]])
                err.append([*e, e[0] + e[1] - e[2]])
                mi_se.append(float(np.sqrt(np.sum(np.square(ses)))))
            t, e = np.mean(trunc, axis=0), np.mean(err, axis=0)
            print(f"  {s:3d} | " + " ".join(f"{v:+.4f}" for v in t) + " | " + " ".join(f"{v:+.4f}" for v in e)
                  + f" | {np.mean(mi_se):.4f}", flush=True)


if __name__ == "__main__":
    main()
