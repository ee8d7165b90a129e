"""Command line: ``python -m renyimi plane STORE --scheduler local|sync|ADDRESS --out plane.json``.

Computes the information plane of an activation store (:func:`renyimi.distributed.compute_plane`)
on a Dask cluster with Dask's progress bar, and saves it with
:meth:`renyimi.InformationPlane.save` (``.json``, or gzip-compressed ``.json.gz``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m renyimi", description="renyimi command line tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    plane = commands.add_parser(
        "plane", help="compute the information plane of an activation store",
        description="Compute the information plane of an activation store written during training with "
                    "renyimi.distributed.ActivationStore, one Dask task per (step, batch). Resumable: finished "
                    "measurements are kept in STORE/measurements/ and not computed again.")
    plane.add_argument("store", help="activation store directory (on a cluster: the same path on every worker)")
    plane.add_argument("--scheduler", default="local",
                       help="'local' (a LocalCluster of worker processes started for this run, default), "
                            "'sync' (this process, no Dask), or a scheduler address such as tcp://10.0.0.5:8786")
    plane.add_argument("--workers", type=int, default=None,
                       help="workers of the local cluster (default: one per core)")
    plane.add_argument("--out", required=True, help="output file, .json or .json.gz (InformationPlane.save)")
    plane.add_argument("--results", default=None,
                       help="directory of per-batch results (default STORE/measurements/<settings fingerprint>)")
    plane.add_argument("--per-task", type=int, default=1, help="stored batches per task (default 1)")
    plane.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _plane(args: argparse.Namespace) -> int:
    from .distributed import compute_plane
    from .distributed.store import ActivationStore, StoreError

    try:
        store = ActivationStore.open(args.store)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print(f"error: --workers must be a positive integer; got {args.workers}.", file=sys.stderr)
        return 2
    cluster = client = None
    start = time.perf_counter()
    try:
        if args.scheduler == "sync":
            client = "sync"
        else:
            from ._optional import require

            distributed = require("distributed", needed_by="python -m renyimi plane", extra="dask")
            if args.scheduler == "local":
                cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                                   dashboard_address=None)
                client = distributed.Client(cluster)
            else:
                client = distributed.Client(args.scheduler)
        plane = compute_plane(store, client, results=args.results, progress=not args.no_progress,
                              per_task=args.per_task)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if client is not None and not isinstance(client, str):
            client.close()
        if cluster is not None:
            cluster.close()
    path = plane.save(args.out)
    a = plane.to_arrays()
    print(f"wrote {path}: {len(a.steps)} steps x {len(a.layers)} layers ({int(a.n_batches.sum())} batches) "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m renyimi``; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "plane":
        return _plane(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # the guard lets Dask's worker processes import this module safely
    sys.exit(main())
