"""Measurements behind renyimi's speed policies (eigensolver, concurrency, Gram backend, float32).

Run from the repository root; each section prints a Markdown table (milliseconds, best of
interleaved repeats, so that background load hits every candidate alike)::

    python benchmarks/measure_policy.py eigen        # eigensolver per (N, dtype)
    python benchmarks/measure_policy.py concurrency  # k independent eigensolves: threads vs LAPACK threads
    python benchmarks/measure_policy.py gram         # Gaussian Gram: NumPy/BLAS path vs numba kernels
    python benchmarks/measure_policy.py float32      # float32 vs float64: time and error in bits
    python benchmarks/measure_policy.py all --sizes 256 512 1024

The numbers in ``docs/performance.md`` and in the docstrings of ``renyimi._engine.eigen`` and
``renyimi._engine.numba_kernels`` come from this script.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import renyimi  # noqa: E402
from renyimi._engine import eigen as _eigen  # noqa: E402
from renyimi._engine import gram as _gram


def best_times(candidates: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best wall time (s) of each candidate, run round-robin ``repeats`` times after one warm-up."""
    for f in candidates.values():
        f()
    best = {name: float("inf") for name in candidates}
    for _ in range(repeats):
        for name, f in candidates.items():
            t0 = time.perf_counter()
            f()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def repeats_for(n: int, budget: float = 4e9) -> int:
    return int(max(3, min(20, budget / n**3)))


def gaussian_gram(n: int, d: int = 50, seed: int = 0) -> np.ndarray:
    """A realistic normalised Gram matrix (Tapia width on standard normal data)."""
    X = np.random.default_rng(seed).normal(size=(n, d))
    return np.asarray(renyimi.gram_matrix(X))


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def section_eigen(sizes: list[int]) -> None:
    solvers = [s for s in _eigen.SOLVERS if s != "auto"]
    if importlib.util.find_spec("torch") is None:
        solvers.remove("torch")
    rows = []
    for dtype in (np.float64, np.float32):
        for n in sizes:
            A = gaussian_gram(n).astype(dtype)
            cands = {s: (lambda s=s, A=A: _eigen.eigvalsh(A, np, solver=s)) for s in solvers}
            t = best_times(cands, repeats_for(n))
            winner = min(t, key=t.get)
            rows.append([np.dtype(dtype).name, n, *(f"{1e3 * t[s]:.1f}" for s in solvers), winner,
                         _eigen.auto_solver(n, dtype)])
            print(rows[-1], file=sys.stderr, flush=True)
    print(table(["dtype", "N", *solvers, "fastest", "auto"], rows))


def section_concurrency(sizes: list[int], k: int = 8) -> None:
    rows = []
    for n in sizes:
        mats = [gaussian_gram(n, seed=s) for s in range(k)]
        solver = _eigen.auto_solver(n, np.float64)
        single = _eigen.auto_solver(n, np.float64, single_threaded=True)

        def sequential(mats=mats, solver=solver):
            return [_eigen.eigvalsh(A, np, solver=solver) for A in mats]

        def single_thread(mats=mats, solver=single):
            with _eigen.blas_threads(1):
                return [_eigen.eigvalsh(A, np, solver=solver) for A in mats]

        cands = {"sequential": sequential, "sequential, 1 BLAS thread": single_thread}
        for w in (2, 4):
            if w <= (os.cpu_count() or 1):
                cands[f"{w} workers"] = lambda w=w, mats=mats, solver=single: _eigen.map_concurrent(
                    lambda A: _eigen.eigvalsh(A, np, solver=solver), mats, workers=w)
        t = best_times(cands, max(3, repeats_for(n) // k))
        base = t["sequential"]
        rows.append([n, k, *(f"{1e3 * v:.0f} ({base / v:.2f}x)" for v in t.values()),
                     _eigen.concurrent_workers(n)])
        print(rows[-1], file=sys.stderr, flush=True)
    print(f"{k} independent float64 eigensolves; ms (speed-up over sequential)")
    print(table(["N", "k", *cands, "auto workers"], rows))


def section_gram(sizes: list[int], dims: tuple[int, ...] = (10, 100, 784)) -> None:
    from renyimi._engine import numba_kernels as _numba

    rows = []
    for dtype in (np.float64, np.float32):
        for n in sizes:
            for d in dims:
                Z = np.random.default_rng(0).normal(size=(n, d)).astype(dtype)
                sigma = float(np.sqrt(d))
                numpy_path = lambda Z=Z, sigma=sigma: _gram.normalize_gram(  # noqa: E731
                    np.exp(-_gram.squared_distances(Z, np) / (2 * sigma**2)), np)
                cands = {"numpy": numpy_path, "numba": lambda Z=Z, sigma=sigma: _numba.gaussian_gram(Z, sigma)}
                t = best_times(cands, repeats_for(n, 1e9))
                rows.append([np.dtype(dtype).name, n, d, f"{1e3 * t['numpy']:.1f}", f"{1e3 * t['numba']:.1f}",
                             f"{t['numpy'] / t['numba']:.2f}"])
                print(rows[-1], file=sys.stderr, flush=True)
    print(table(["dtype", "N", "d", "numpy ms", "numba ms", "speed-up"], rows))


def section_float32(sizes: list[int]) -> None:
    rows = []
    rng = np.random.default_rng(0)
    for n in sizes:
        X = rng.normal(size=(n, 784))
        Y = np.tanh(X[:, :10] @ rng.normal(size=(10, 10)) + 0.5 * rng.normal(size=(n, 10)))
        f64 = lambda X=X, Y=Y: renyimi.mutual_information(X, Y)  # noqa: E731
        f32 = lambda X=X, Y=Y: renyimi.mutual_information(X, Y, dtype="float32")  # noqa: E731
        t = best_times({"float64": f64, "float32": f32}, max(2, repeats_for(n) // 3))
        err_mi = abs(float(f64()) - float(f32()))
        err_s = abs(float(renyimi.matrix_entropy(X)) - float(renyimi.matrix_entropy(X, dtype="float32")))
        rows.append([n, f"{1e3 * t['float64']:.0f}", f"{1e3 * t['float32']:.0f}",
                     f"{t['float64'] / t['float32']:.2f}", f"{err_s:.1e}", f"{err_mi:.1e}"])
        print(rows[-1], file=sys.stderr, flush=True)
    print("mutual_information(X (N, 784), Y (N, 10)), alpha=1.01, Tapia width; errors in bits")
    print(table(["N", "float64 ms", "float32 ms", "speed-up", "|dS(X)| bits", "|dI| bits"], rows))


SECTIONS = {"eigen": section_eigen, "concurrency": section_concurrency, "gram": section_gram,
            "float32": section_float32}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", choices=[*SECTIONS, "all"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS, torch and numba to this many threads (1: immune to a busy machine)")
    args = parser.parse_args(argv)
    with limit_threads(args.threads):
        for name, run in SECTIONS.items():
            if args.section in (name, "all"):
                print(f"\n## {name}" + (f" ({args.threads} thread(s) per library)" if args.threads else "") + "\n")
                run(args.sizes)


@contextlib.contextmanager
def limit_threads(n: int | None):
    """Limit BLAS (threadpoolctl), torch and numba to ``n`` threads; None leaves them alone."""
    if n is None:
        yield
        return
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(n)
    if importlib.util.find_spec("numba") is not None:
        import numba

        numba.set_num_threads(n)
    with _eigen.blas_threads(n):
        yield


if __name__ == "__main__":
    main()
