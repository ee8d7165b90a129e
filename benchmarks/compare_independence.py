"""Validation of renyimi.independence_test: level, power next to HSIC and distance correlation, speed, CI coverage.

Everything runs in one process on the same draws and the same permutations::

    python benchmarks/compare_independence.py power     # 19 hyppo dependence settings, n = 100
    python benchmarks/compare_independence.py level     # type-I error on independent pairs
    python benchmarks/compare_independence.py timing    # 1000-permutation test at N = 512
    python benchmarks/compare_independence.py coverage  # confidence-interval coverage
    python benchmarks/compare_independence.py figure    # the null-distribution figure of the docs
    python benchmarks/compare_independence.py table     # markdown tables from the JSON files
    python benchmarks/compare_independence.py all --quick   # a smoke run of everything (seconds)

Methods (all permutation tests with the same B permutations of each draw):

* ``renyimi``: :func:`renyimi.independence_test` itself at several settings (width rule,
  ``sigma_scale`` = g, ``alpha`` = a).
* ``HSIC (hyppo kernel)``: hyppo's ``Hsic`` statistic as shipped, a Gaussian kernel whose width
  (median distance of X) is fitted to X and reused for Y (``hyppo.tools.compute_kern``), U-centred.
* ``HSIC (median per variable)``: the same with each variable's own median distance.
* ``Dcorr``: hyppo's unbiased distance correlation (U-centred Euclidean distances).
* ``Hsic χ² (hyppo default)``: ``hyppo.independence.Hsic().test(x, y)`` exactly as shipped (at
  n > 20 it uses its χ² approximation, not permutations).

The permutation p-values of the HSIC and Dcorr rows are those of hyppo's statistics (the
normalisers of Dcorr are permutation-invariant), computed here by the same vectorised gather as
renyimi's alpha = 2 path; ``--check-hyppo`` compares one observed statistic with hyppo's.
Outputs (JSON and markdown) go to ``docs/_static/stats/``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import renyimi  # noqa: E402
from renyimi._engine import eigen as _eigen  # noqa: E402
from renyimi._engine.permutation import (  # noqa: E402
    draw_permutations,
    permutation_pvalue,
)
from renyimi._engine.spectral import renyi_entropy  # noqa: E402
from renyimi.stats import independence_test, mi_confidence_interval  # noqa: E402

OUT = ROOT / "docs" / "_static" / "stats"

DEPENDENT = ["linear", "exponential", "cubic", "joint_normal", "step", "quadratic", "w_shaped", "spiral",
             "uncorrelated_bernoulli", "logarithmic", "fourth_root", "sin_four_pi", "sin_sixteen_pi", "square",
             "two_parabolas", "circle", "ellipse", "diamond", "multiplicative_noise"]

# (label, settings of renyimi.independence_test); g is sigma_scale, a is the Renyi order alpha.
RENYI_CONFIGS = {
    "tapia g=1 a=1.01": dict(sigma="tapia", sigma_scale=1.0, alpha=1.01),
    "tapia g=0.5 a=2": dict(sigma="tapia", sigma_scale=0.5, alpha=2.0),
    "tapia g=1 a=2": dict(sigma="tapia", sigma_scale=1.0, alpha=2.0),
    "tapia g=2 a=2": dict(sigma="tapia", sigma_scale=2.0, alpha=2.0),
    "tapia g=4 a=2": dict(sigma="tapia", sigma_scale=4.0, alpha=2.0),
    "median g=1 a=2": dict(sigma="median", sigma_scale=1.0, alpha=2.0),
    "median g=0.5 a=2": dict(sigma="median", sigma_scale=0.5, alpha=2.0),
    "tapia g=1.5 a=1.01": dict(sigma="tapia", sigma_scale=1.5, alpha=1.01),
    "tapia g=2 a=1.01": dict(sigma="tapia", sigma_scale=2.0, alpha=1.01),
}


# --------------------------------------------------------------------------- data


def dependent_draw(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from hyppo.tools import indep_sim

    np.random.seed(seed)  # hyppo draws from NumPy's global generator
    # multiplicative_noise is noisy by construction and takes no noise= argument
    x, y = indep_sim(name, n, 1) if name == "multiplicative_noise" else indep_sim(name, n, 1, noise=True)
    return _2d(x), _2d(y)


def independent_draw(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if name == "gaussian 2d / gaussian 3d":
        return rng.normal(size=(n, 2)), rng.normal(size=(n, 3))
    if name == "uniform 1d / exponential 3d":
        return rng.uniform(size=(n, 1)), rng.exponential(size=(n, 3))
    if name == "uniform 5d / exponential 1d":
        return rng.uniform(size=(n, 5)), rng.exponential(size=(n, 1))
    if name == "multimodal_independence (hyppo)":
        from hyppo.tools import indep_sim

        np.random.seed(seed)
        x, y = indep_sim("multimodal_independence", n, 1)
        return _2d(x), _2d(y)
    raise ValueError(name)


INDEPENDENT = ["gaussian 2d / gaussian 3d", "uniform 1d / exponential 3d", "uniform 5d / exponential 1d",
               "multimodal_independence (hyppo)"]


def _2d(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[:, None] if a.ndim == 1 else a


# --------------------------------------------------------------------------- baselines


def _u_center(D: np.ndarray) -> np.ndarray:
    """U-centring of a distance matrix (Székely & Rizzo 2014), as hyppo's unbiased Dcorr."""
    n = D.shape[0]
    row = D.sum(axis=1, keepdims=True) / (n - 2)
    col = D.sum(axis=0, keepdims=True) / (n - 2)
    total = D.sum() / ((n - 1) * (n - 2))
    U = D - row - col + total
    np.fill_diagonal(U, 0.0)
    return U


def _euclidean(x: np.ndarray) -> np.ndarray:
    sq = np.sum(x * x, axis=1)
    return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0))


def _median_gamma(x: np.ndarray) -> float:
    d = _euclidean(x)
    med = np.median(d[np.triu_indices(d.shape[0], 1)])
    med = med if med else 1.0
    return 1.0 / (2 * med**2)


def baseline_matrices(x: np.ndarray, y: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """U-centred matrices whose Frobenius product is each baseline's statistic (up to invariant factors)."""
    from hyppo.tools import compute_kern

    out = {}
    kx, ky = compute_kern(x, y, metric="gaussian")  # hyppo as shipped: gamma from x, reused for y
    out["HSIC (hyppo kernel)"] = (_u_center(1 - kx / kx.max()), _u_center(1 - ky / ky.max()))
    kx = np.exp(-_median_gamma(x) * _euclidean(x) ** 2)
    ky = np.exp(-_median_gamma(y) * _euclidean(y) ** 2)
    out["HSIC (median per variable)"] = (_u_center(1 - kx), _u_center(1 - ky))
    out["Dcorr"] = (_u_center(_euclidean(x)), _u_center(_euclidean(y)))
    return out


def product_pvalue(U: np.ndarray, V: np.ndarray, perms: np.ndarray) -> float:
    """Permutation p-value of sum(U * V_pi) (V_pi = V[pi][:, pi])."""
    observed = float(np.sum(U * V))
    null = np.array([np.sum(U * np.take(np.take(V, p, axis=1), p, axis=0)) for p in perms])
    return permutation_pvalue(observed, null)


def check_hyppo(seed: int = 0) -> None:
    """The baselines' observed statistics against hyppo's own (up to the invariant normaliser)."""
    from hyppo.independence import Dcorr, Hsic

    x, y = dependent_draw("quadratic", 100, seed)
    mats = baseline_matrices(x, y)
    for label, cls in (("HSIC (hyppo kernel)", Hsic), ("Dcorr", Dcorr)):
        U, V = mats[label]
        ours = np.sum(U * V) / math.sqrt(np.sum(U * U) * np.sum(V * V))
        print(f"{label}: ours {ours:.12f}  hyppo {cls().statistic(x, y):.12f}")


# --------------------------------------------------------------------------- one draw, every method


def renyi_pvalues(x: np.ndarray, y: np.ndarray, n_perm: int, perm_seed: int,
                  configs: dict[str, dict]) -> dict[str, float]:
    """p-values of renyimi.independence_test itself at every setting (same permutations: same seed)."""
    return {label: independence_test(x, y, n_permutations=n_perm, random_state=perm_seed, **settings).pvalue
            for label, settings in configs.items()}


def all_pvalues(x: np.ndarray, y: np.ndarray, n_perm: int, perm_seed: int, configs: dict) -> dict[str, float]:
    perms = draw_permutations(x.shape[0], n_perm, perm_seed)
    out = renyi_pvalues(x, y, n_perm, perm_seed, configs)
    for label, (U, V) in baseline_matrices(x, y).items():
        out[label] = product_pvalue(U, V, perms)
    from hyppo.independence import Hsic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["Hsic χ² (hyppo default)"] = float(Hsic().test(x, y)[1])
    return out


def run_rates(kind: str, names: list[str], reps: int, n: int, n_perm: int, configs: dict, level: float,
              path: Path) -> dict:
    draw = dependent_draw if kind == "power" else independent_draw
    results = {"kind": kind, "n": n, "reps": reps, "n_permutations": n_perm, "level": level,
               "configs": {k: v for k, v in configs.items()}, "rates": {}, "seconds": {}}
    for s, name in enumerate(names):
        t0 = time.perf_counter()
        rejections: dict[str, int] = {}
        for r in range(reps):
            seed = 1000 * s + r + (0 if kind == "power" else 500_000)
            x, y = draw(name, n, seed)
            for label, p in all_pvalues(x, y, n_perm, seed + 7, configs).items():
                rejections[label] = rejections.get(label, 0) + (p <= level)
        results["rates"][name] = {k: v / reps for k, v in rejections.items()}
        results["seconds"][name] = time.perf_counter() - t0
        print(f"{kind} {name}: " + ", ".join(f"{k} {v / reps:.2f}" for k, v in rejections.items()), flush=True)
        path.write_text(json.dumps(results, indent=1))
    return results


# --------------------------------------------------------------------------- timing


def timing(n: int = 512, n_perm: int = 1000, path: Path | None = None) -> dict:
    """A full test at N = n against its n_perm joint eigensolves done renyimi's way, in one run."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 5))
    Y = X[:, :2] ** 2 + rng.normal(size=(n, 2))
    out = {"n": n, "n_permutations": n_perm, "cpu_count": os.cpu_count()}
    independence_test(X[:64], Y[:64], n_permutations=20, random_state=0)  # warm-up (imports, thread pools)
    t0 = time.perf_counter()
    res2 = independence_test(X, Y, n_permutations=n_perm, random_state=0, alpha=2)
    out["test_alpha2_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = independence_test(X, Y, n_permutations=n_perm, random_state=0, alpha=1.01)
    out["test_alpha1.01_s"] = time.perf_counter() - t0
    A, B = renyimi.gram_matrix(X), renyimi.gram_matrix(Y)
    joint = A * B
    joint /= np.trace(joint)
    workers = _eigen.concurrent_workers(n, n_perm)
    solver = _eigen.auto_solver(n, joint.dtype, single_threaded=workers > 1)
    t0 = time.perf_counter()
    _eigen.map_concurrent(lambda _: renyi_entropy(joint, 1.01, np, 2.0, solver=solver), range(n_perm),
                          workers=workers)
    out["eigensolves_s"] = time.perf_counter() - t0
    out["ratio_test_to_eigensolves"] = out["test_alpha1.01_s"] / out["eigensolves_s"]
    out["pvalues"] = [res2.pvalue, res.pvalue]
    print(json.dumps(out, indent=1))
    if path is not None:
        path.write_text(json.dumps(out, indent=1))
    return out


# --------------------------------------------------------------------------- CI coverage


def coverage(reps: int, n: int, truth_draws: int, n_resamples: int, path: Path | None = None) -> dict:
    """Coverage of 95 % intervals for E[I_N] on correlated Gaussians (d = 2, rho = 0.6, alpha = 1.01)."""
    d, rho = 2, 0.6

    def draw(seed, size=n):
        rng = np.random.default_rng(seed)
        U, V = rng.normal(size=(size, d)), rng.normal(size=(size, d))
        return U, rho * U + math.sqrt(1 - rho**2) * V

    truth = float(np.mean([float(renyimi.mutual_information(*draw(10_000_000 + s))) for s in range(truth_draws)]))
    out = {"n": n, "d": d, "rho": rho, "truth_E_I_N": truth, "truth_draws": truth_draws, "reps": reps,
           "n_resamples": n_resamples, "methods": {}}
    variants = {"subsample m=N/2": dict(method="subsample"),
                "subsample m=N/4": dict(method="subsample", subsample_size=n // 4),
                "bootstrap (recentred)": dict(method="bootstrap")}
    for label, kw in variants.items():
        hits, widths, naive_hits = 0, [], 0
        for r in range(reps):
            x, y = draw(r)
            ci = mi_confidence_interval(x, y, n_resamples=n_resamples, random_state=r, **kw)
            hits += ci.low <= truth <= ci.high
            widths.append(ci.high - ci.low)
            if kw["method"] == "bootstrap":  # the naive percentile interval of the same resamples
                lo, hi = np.quantile(ci.resamples, [0.025, 0.975])
                naive_hits += lo <= truth <= hi
        out["methods"][label] = {"coverage": hits / reps, "mean_width": float(np.mean(widths))}
        if kw["method"] == "bootstrap":
            out["methods"]["bootstrap (naive percentile)"] = {"coverage": naive_hits / reps}
        print(label, out["methods"][label], flush=True)
    sd = float(np.std([float(renyimi.mutual_information(*draw(20_000_000 + s))) for s in range(truth_draws)],
                      ddof=1))
    out["true_sd_I_N"] = sd
    print(json.dumps(out, indent=1))
    if path is not None:
        path.write_text(json.dumps(out, indent=1))
    return out


# --------------------------------------------------------------------------- figure


def figure(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(1)
    n = 100
    x = rng.uniform(-1, 1, size=(n, 1))
    y_dep = x**2 + 0.3 * rng.normal(size=(n, 1))
    y_ind = rng.uniform(-1, 1, size=(n, 1)) ** 2 + 0.3 * rng.normal(size=(n, 1))
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.0), sharey=True, constrained_layout=True)
    for ax, y, title in ((axes[0], y_dep, "dependent: $y = x^2 + \\varepsilon$"),
                         (axes[1], y_ind, "independent pair")):
        res = independence_test(x, y, n_permutations=2000, random_state=0)
        ax.hist(res.null_distribution, bins=40, color="0.75", edgecolor="0.45", linewidth=0.4,
                label="permutation null")
        ax.axvline(res.statistic, color="C3", linewidth=2, label="observed MI")
        ax.axvline(res.null_mean, color="0.2", linestyle="--", linewidth=1, label="null mean")
        smallest = 1 / (1 + res.n_permutations)
        p = f"1/{1 + res.n_permutations} (smallest possible)" if res.pvalue == smallest else f"{res.pvalue:.2g}"
        ax.set_title(f"{title}\n$I$ = {res.statistic:.3f} bits, p = {p}", fontsize=10)
        ax.set_xlabel("matrix-based MI $I_{1.01}$ (bits), $\\gamma$ = 1.5")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("permutations")
    axes[1].legend(frameon=False, fontsize=8, loc="upper right")
    fig.savefig(path, dpi=200)
    print("wrote", path)


# --------------------------------------------------------------------------- tables


def _binomial_interval(p: float, reps: int, z: float = 1.959964) -> tuple[float, float]:
    half = z * math.sqrt(p * (1 - p) / reps)
    return p - half, p + half


def table(out: Path) -> str:
    lines = []
    power_path, level_path = out / "power.json", out / "level.json"
    if power_path.exists():
        power = json.loads(power_path.read_text())
        rates = power["rates"]
        methods = list(next(iter(rates.values())).keys())
        lines.append(f"Power at level {power['level']}, n = {power['n']}, {power['reps']} draws per setting, "
                     f"{power['n_permutations']} permutations.\n")
        lines.append("| setting | " + " | ".join(methods) + " |")
        lines.append("|---|" + "---|" * len(methods))
        for name, row in rates.items():
            lines.append(f"| {name} | " + " | ".join(f"{row[m]:.2f}" for m in methods) + " |")
        means = {m: float(np.mean([row[m] for row in rates.values()])) for m in methods}
        lines.append("| **mean** | " + " | ".join(f"**{means[m]:.2f}**" for m in methods) + " |")
        lines.append("")
    if level_path.exists():
        level = json.loads(level_path.read_text())
        lo, hi = _binomial_interval(level["level"], level["reps"])
        lines.append(f"Type-I error at level {level['level']}, n = {level['n']}, {level['reps']} draws per pair "
                     f"(95 % binomial interval of {level['level']}: [{lo:.3f}, {hi:.3f}]).\n")
        rates = level["rates"]
        methods = list(next(iter(rates.values())).keys())
        lines.append("| independent pair | " + " | ".join(methods) + " |")
        lines.append("|---|" + "---|" * len(methods))
        for name, row in rates.items():
            lines.append(f"| {name} | " + " | ".join(f"{row[m]:.3f}" for m in methods) + " |")
        lines.append("")
    coverage_path = out / "coverage.json"
    if coverage_path.exists():
        cov = json.loads(coverage_path.read_text())
        lines.append(f"Coverage of 95 % intervals for $E[\\hat I_N]$ = {cov['truth_E_I_N']:.3f} bits (mean of "
                     f"{cov['truth_draws']} independent estimates; their standard deviation {cov['true_sd_I_N']:.3f} "
                     f"bits), correlated Gaussians d = {cov['d']}, rho = {cov['rho']}, N = {cov['n']}, alpha = 1.01, "
                     f"{cov['reps']} data sets, {cov['n_resamples']} resamples each.\n")
        lines.append("| interval | coverage | mean width (bits) |")
        lines.append("|---|---|---|")
        for label, row in cov["methods"].items():
            width = f"{row['mean_width']:.3f}" if "mean_width" in row else "–"
            lines.append(f"| {label} | {row['coverage']:.3f} | {width} |")
        lines.append("")
    text = "\n".join(lines)
    (out / "tables.md.inc").write_text(text)  # .inc: included by the docs, not a page
    print(text)
    return text


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["power", "level", "timing", "coverage", "figure", "table", "all"])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--reps", type=int, default=None, help="draws per setting (power 200, level 500)")
    parser.add_argument("--perms", type=int, default=200)
    parser.add_argument("--configs", default=None, help="comma-separated renyimi config labels")
    parser.add_argument("--sims", default=None, help="comma-separated simulation names")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check-hyppo", action="store_true")
    args = parser.parse_args(argv)
    if args.quick and args.out == OUT:  # a smoke run never overwrites the published results
        import tempfile

        args.out = Path(tempfile.mkdtemp(prefix="compare_independence_"))
    args.out.mkdir(parents=True, exist_ok=True)
    configs = RENYI_CONFIGS
    if args.configs:
        configs = {k: RENYI_CONFIGS[k] for k in args.configs.split(",")}
    if args.check_hyppo:
        check_hyppo()
    whats = ["power", "level", "timing", "coverage", "figure", "table"] if args.what == "all" else [args.what]
    for what in whats:
        if what in ("power", "level"):
            names = DEPENDENT if what == "power" else INDEPENDENT
            if args.sims:
                names = args.sims.split(",")
            reps = args.reps or (200 if what == "power" else 500)
            n_perm = args.perms
            if args.quick:
                names, reps, n_perm = names[:2], 2, 20
                configs = {k: configs[k] for k in list(configs)[:2]}
            run_rates(what, names, reps, args.n, n_perm, configs, 0.05, args.out / f"{what}.json")
        elif what == "timing":
            timing(64, 50) if args.quick else timing(path=args.out / "timing.json")
        elif what == "coverage":
            if args.quick:
                coverage(3, 40, 5, 20)
            else:
                coverage(200, 128, 500, 100, args.out / "coverage.json")
        elif what == "figure":
            figure(args.out / "null_distribution.png")
        elif what == "table":
            table(args.out)


if __name__ == "__main__":
    main()
