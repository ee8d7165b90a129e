r"""Correlated Gaussians: the paper's Figs. 2-4 (Tapia & Estévez, IJCNN 2020, Sec. IV-A).

:math:`X, Y \sim \mathcal N(0, I_d)` with :math:`\operatorname{corr}(X_i, Y_j) = \rho\,\delta_{ij}`
(eq. 31), so :math:`I(X;Y) = -\tfrac d2 \log(1-\rho^2)`. The matrix-based estimate is compared under

* the old rule (eq. 27, ``sigma="yu"``): :math:`\sigma = \gamma N^{-1/(4+d)}` with
  :math:`\gamma = 2\sqrt{10}`;
* the paper's rule (eqs. 29-30, ``sigma="tapia"``): :math:`\sigma = \gamma\sqrt d\,N^{-1/(4+d)}` with
  :math:`\gamma = 2`,

equal at :math:`d = 10`, for :math:`d \in \{10, 100, 1000\}`, :math:`N = 128`, mean ± std over runs
(Fig. 3), and for :math:`d = 100` with :math:`N \in \{128, 256, 512\}` under the paper's rule (Fig. 4).
Fig. 2 is the closed form for :math:`d = 1`.

Run from the repository root::

    python examples/correlated_gaussians.py --out results/gaussians            # paper scale: 50 runs
    python examples/correlated_gaussians.py --out results/gaussians --runs 10  # faster
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import _common  # noqa: F401  (first: thread settings, checkout on sys.path)
import numpy as np

import renyimi

RULES = {
    # name: (estimator settings, label for figures)
    "old": ({"sigma": "yu", "sigma_scale": 2 * math.sqrt(10)},
            r"previous rule (eq. 27), $\gamma=2\sqrt{10}$"),
    "paper": ({"sigma": "tapia", "sigma_scale": 2.0}, r"proposed rule (eqs. 29-30), $\gamma=2$"),
}


@dataclass
class GaussianConfig:
    """What to compute; the defaults are the paper's."""

    dims: tuple[int, ...] = (10, 100, 1000)
    n_samples: int = 128
    rhos: tuple[float, ...] = tuple(np.round(np.linspace(-0.9, 0.9, 19), 2))
    runs: int = 50
    sample_sizes: tuple[int, ...] = (128, 256, 512)  # Fig. 4
    sample_size_dim: int = 100
    seed: int = 0
    rules: dict = field(default_factory=lambda: {k: v[0] for k, v in RULES.items()})


def correlated_gaussians(rng: np.random.Generator, n: int, d: int,
                         rho: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of eq. 31: ``X = U``, ``Y = rho U + sqrt(1 - rho^2) V``, ``U, V ~ N(0, I_d)``."""
    u = rng.standard_normal((n, d))
    return u, rho * u + math.sqrt(1.0 - rho * rho) * rng.standard_normal((n, d))


def true_mi(d: int, rho, base: float = 2.0):
    r""":math:`I(X;Y) = -\frac d2 \log_b(1-\rho^2)` (eq. 31), bits by default."""
    return -0.5 * d * np.log1p(-np.square(rho)) / math.log(base)


def estimate_curve(rng: np.random.Generator, n: int, d: int, rhos, runs: int, settings: dict) -> np.ndarray:
    """MI estimates, shape (runs, len(rhos)), bits; every run draws fresh data."""
    out = np.empty((runs, len(rhos)))
    for r in range(runs):
        for j, rho in enumerate(rhos):
            x, y = correlated_gaussians(rng, n, d, float(rho))
            out[r, j] = float(renyimi.mutual_information(x, y, **settings))
    return out


def run(config: GaussianConfig, *, show_progress: bool = True) -> dict:
    """Estimates of Figs. 3-4: ``{"fig3": {rule: {d: (runs, n_rho)}}, "fig4": {N: (runs, n_rho)}}``, bits."""
    rhos = np.asarray(config.rhos, dtype=float)
    jobs = [("fig3", rule, d, config.n_samples) for rule in config.rules for d in config.dims]
    jobs += [("fig4", "paper", config.sample_size_dim, n) for n in config.sample_sizes]
    results: dict = {"rhos": rhos, "fig3": {rule: {} for rule in config.rules}, "fig4": {}}
    bar = _common.progress(total=len(jobs), desc="correlated Gaussians", enabled=show_progress)
    for i, (fig, rule, d, n) in enumerate(jobs):
        # One stream per curve: adding or reordering curves leaves the others unchanged.
        rng = np.random.default_rng([config.seed, i])
        values = estimate_curve(rng, n, d, rhos, config.runs, config.rules[rule])
        if fig == "fig3":
            results["fig3"][rule][d] = values
        else:
            results["fig4"][n] = values
        bar.update(1)
    bar.close()
    return results


def summarize(results: dict, config: GaussianConfig) -> dict:
    """Numbers behind the saturation claim: level, spread over rho and distance from log2 N per curve."""
    rhos = results["rhos"]
    at = {r: int(np.argmin(np.abs(rhos - r))) for r in (0.0, 0.9)}
    out: dict = {"log2_N": math.log2(config.n_samples), "curves": {}, "fig4": {}}
    for rule, per_d in results["fig3"].items():
        for d, values in per_d.items():
            mean = values.mean(axis=0)
            out["curves"][f"{rule}_d{d}"] = {
                "mean_at_rho_0": float(mean[at[0.0]]), "mean_at_rho_0.9": float(mean[at[0.9]]),
                "std_mean": float(values.std(axis=0).mean()),
                "range_over_rho": float(mean.max() - mean.min()),
                "max_mean": float(mean.max()),
                "gap_to_log2_N": float(math.log2(config.n_samples) - mean.max()),
            }
    for n, values in results["fig4"].items():
        mean = values.mean(axis=0)
        out["fig4"][f"N{n}"] = {
            "mean_at_rho_0": float(mean[at[0.0]]), "mean_at_rho_0.9": float(mean[at[0.9]]),
            "range_over_rho": float(mean.max() - mean.min()), "std_mean": float(values.std(axis=0).mean()),
        }
    return out


# ------------------------------------------------------------------------------------ figures
def _band(ax, x, values, color, label, marker="o", ls="-"):
    m, s = values.mean(axis=0), values.std(axis=0)
    ax.plot(x, m, ls=ls, marker=marker, color=color, label=label, ms=3)
    ax.fill_between(x, m - s, m + s, color=color, alpha=0.2, lw=0)


def plot_theory(path: Path) -> Path:
    """Fig. 2: the closed-form MI for d = 1, in bits."""
    import matplotlib.pyplot as plt

    rho = np.linspace(-0.9, 0.9, 361)
    fig, ax = plt.subplots(figsize=(3.3, 2.3), constrained_layout=True)
    ax.plot(rho, true_mi(1, rho), color="k")
    ax.set_xlabel(r"correlation factor $\rho$")
    ax.set_ylabel(r"$I(X;Y)$ [bits]")
    ax.set_title(r"theoretical MI, $d = 1$ (eq. 31)")
    ax.set_xlim(-1, 1)
    ax.set_xticks([-1, -0.5, 0, 0.5, 1])
    ax.set_ylim(0, None)
    return _common.save_figure(fig, path)


def plot_rules(results: dict, config: GaussianConfig, path: Path) -> Path:
    """Fig. 3: estimate against rho, previous rule (left column) against the proposed one (right)."""
    import matplotlib.pyplot as plt

    rhos = results["rhos"]
    dims = list(results["fig3"]["old"])
    fig, axes = plt.subplots(len(dims), 2, figsize=(6.4, 1.9 * len(dims) + 0.4), sharex=True,
                             constrained_layout=True, squeeze=False)
    colors = {"old": "tab:red", "paper": "tab:blue"}
    letters = iter("abcdefghijkl")
    for i, d in enumerate(dims):
        for j, rule in enumerate(("old", "paper")):
            ax = axes[i, j]
            _band(ax, rhos, results["fig3"][rule][d], colors[rule], "estimate (mean ± std)",
                  marker="s" if rule == "old" else "o")
            if rule == "old":
                ax.axhline(math.log2(config.n_samples), color="0.35", ls=":", lw=1)
                ax.text(0.02, math.log2(config.n_samples), rf"$\log_2 N = {math.log2(config.n_samples):g}$",
                        transform=ax.get_yaxis_transform(), va="bottom", ha="left", fontsize=7, color="0.3")
                ax.set_ylim(0, math.log2(config.n_samples) + 0.9)
            else:
                # Zoomed in: at d = 1000 the whole dependence on rho spans ~0.01 bits.
                low, high = ax.get_ylim()
                pad = max(0.1 * (high - low), 0.005)
                ax.set_ylim(low - pad, high + pad)
            name = "previous rule" if rule == "old" else "proposed rule"
            ax.set_title(f"({next(letters)}) {name}, $d = {d}$")
        axes[i, 0].set_ylabel(r"$I_\alpha(X;Y)$ [bits]")
    for ax in axes[-1]:
        ax.set_xlabel(r"correlation factor $\rho$")
        ax.set_xticks([-0.9, -0.45, 0, 0.45, 0.9])
    fig.suptitle(f"Correlated Gaussians, $N = {config.n_samples}$, {config.runs} runs: "
                 r"previous rule $\gamma=2\sqrt{10}$ vs proposed rule $\gamma=2$", fontsize=9)
    return _common.save_figure(fig, path)


def plot_sample_sizes(results: dict, config: GaussianConfig, path: Path) -> Path:
    """Fig. 4: the proposed rule at d = 100 for several N (resolution grows with N)."""
    import matplotlib.pyplot as plt

    rhos = results["rhos"]
    fig, ax = plt.subplots(figsize=(3.6, 2.6), constrained_layout=True)
    styles = zip(("tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:gray"), "o^sDv", strict=True)
    for (n, values), (color, marker) in zip(results["fig4"].items(), styles, strict=False):
        _band(ax, rhos, values, color, f"$N = {n}$", marker=marker)
    ax.set_xlabel(r"correlation factor $\rho$")
    ax.set_ylabel(r"$I_\alpha(X;Y)$ [bits]")
    ax.set_title(rf"proposed rule, $d = {config.sample_size_dim}$, {config.runs} runs")
    ax.set_xticks([-0.9, -0.45, 0, 0.45, 0.9])
    ax.legend(frameon=False, loc="upper center")
    return _common.save_figure(fig, path)


def make_figures(results: dict, config: GaussianConfig, out: Path) -> dict[str, Path]:
    _common.paper_style()
    return {
        "fig2": plot_theory(out / "fig2_theoretical_mi.png"),
        "fig3": plot_rules(results, config, out / "fig3_correlated_gaussians.png"),
        "fig4": plot_sample_sizes(results, config, out / "fig4_sample_sizes.png"),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/gaussians"), help="output folder")
    parser.add_argument("--runs", type=int, default=50, help="independent runs per point (paper: 50)")
    parser.add_argument("--n-rho", type=int, default=19, help="number of correlation values in [-0.9, 0.9]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    config = GaussianConfig(runs=args.runs, seed=args.seed,
                            rhos=tuple(np.round(np.linspace(-0.9, 0.9, args.n_rho), 3)))
    start = time.perf_counter()
    results = run(config, show_progress=not args.no_progress)
    figures = make_figures(results, config, args.out)
    summary = summarize(results, config)
    _common.dump_json({"config": config.__dict__, "summary": summary, "estimates": results},
                      args.out / "correlated_gaussians.json")
    for name, path in figures.items():
        print(f"{name}: {path}")
    print(f"done in {time.perf_counter() - start:.0f} s")
    return summary


if __name__ == "__main__":
    sys.exit(main() and 0)
