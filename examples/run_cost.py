"""What a reproduction scale costs on this machine, from a short timed run of its own jobs.

Times 300 training iterations of one sweep job and two plane measurements of one plane job of ``--scale``
(the real specs of ``reproduce_paper.py``, one thread each, results in a temporary folder) and extrapolates
to the whole scale: every plane job (iterations + measured steps) and sweep job. Prints one JSON line.

Usage (from the repository root)::

    python examples/run_cost.py --scale medium --data fashion-mnist
    python examples/run_cost.py --scale medium --data mnist
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import _common  # noqa: F401  (first: thread settings, checkout on sys.path)
import jobs
import reproduce_paper as rp


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(rp.SCALES), default="medium")
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--iterations", type=int, default=300, help="training iterations timed")
    args = parser.parse_args(argv)
    key = jobs.data_key(args.data)
    info = jobs.describe_data(key)
    scale = rp.SCALES[args.scale]
    specs = rp.job_specs(scale, key, info["n_train"])
    plane = next(s for s in specs if s["kind"] == "plane")
    sweeps = [s for s in specs if s["kind"] == "sweep"]
    planes = [s for s in specs if s["kind"] == "plane"]
    out = tempfile.mkdtemp()
    start = time.perf_counter()
    jobs.run_job(dict(sweeps[0] if sweeps else plane, iterations=args.iterations, steps=[args.iterations],
                      settings=["paper"]), out)
    per_iteration = (time.perf_counter() - start) / args.iterations
    start = time.perf_counter()
    jobs.run_job(dict(plane, iterations=1, steps=[0, 1]), out)
    per_measurement = (time.perf_counter() - start) / 2  # all of the plane's settings on every batch
    iterations = rp.iterations_for(scale, info["n_train"])
    plane_s = iterations * per_iteration + len(plane["steps"]) * per_measurement
    share = {id(s): len(s["settings"]) / len(plane["settings"]) for s in sweeps}
    sweep_s = [iterations * per_iteration + per_measurement * share[id(s)] for s in sweeps]
    total = len(planes) * plane_s + sum(sweep_s)
    print(json.dumps({"scale": args.scale, "data": args.data, "n_train": info["n_train"],
                      "eval_batches": plane["eval_batches"], "iterations": iterations,
                      "per_iteration_s": round(per_iteration, 4), "per_measurement_s": round(per_measurement, 2),
                      "plane_jobs": len(planes), "sweep_jobs": len(sweeps), "plane_job_s": round(plane_s),
                      "sweep_job_s": round(sum(sweep_s) / max(len(sweeps), 1)),
                      "total_cpu_hours": round(total / 3600, 1)}))


if __name__ == "__main__":
    main()
