"""Regenerate the figures of the theory and kernel-width pages (docs/_static/*.png).

Run from the repository root (about half a minute on two cores)::

    python docs/make_figures.py            # all figures
    python docs/make_figures.py --seeds 20 # smoother curves, slower

Every number drawn here comes from :mod:`renyimi` itself, so the figures double as a visual check of
the estimator: the limits of eqs. 22-25, the saturation of the ``"yu"`` rule at :math:`\\log_2 N` and
the dimension compensation of the ``"tapia"`` rule (Tapia & Estévez, IJCNN 2020, Sec. III-B/C, IV-A).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

# Small matrices (N <= 1024) gain nothing from BLAS threads, and on a busy machine idle threads
# spinning for work make a 128 x 128 eigendecomposition ~50x slower. Set before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's renyimi, like conf.py
import renyimi  # noqa: E402
from renyimi import theory  # noqa: E402

OUT = Path(__file__).resolve().parent / "_static"
N_DEFAULT = 128
GAMMA_TAPIA = 2.0  # the paper's Fig. 3 settings: gamma = 2 for eq. 30 ...
GAMMA_YU = 2.0 * math.sqrt(10.0)  # ... and 2 sqrt(10) for eq. 27, equal at d = 10

plt.rcParams.update({
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "lines.linewidth": 1.5,
})
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def correlated_gaussians(rng: np.random.Generator, n: int, d: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 31: X, Y ~ N(0, I_d) with corr(X_i, Y_j) = rho delta_ij."""
    x = rng.standard_normal((n, d))
    return x, rho * x + math.sqrt(1.0 - rho**2) * rng.standard_normal((n, d))


def mi(x: np.ndarray, y: np.ndarray, **kw) -> float:
    return float(renyimi.mutual_information(x, y, **kw))


def mean_std(fn, seeds: int, base_seed: int) -> tuple[float, float]:
    values = [fn(np.random.default_rng(base_seed + s)) for s in range(seeds)]
    return float(np.mean(values)), float(np.std(values))


def band(ax, x, stats, color, label, marker="o", ls="-"):
    m, s = np.asarray(stats).T
    ax.plot(x, m, ls, color=color, marker=marker, ms=3, label=label)
    ax.fill_between(x, m - s, m + s, color=color, alpha=0.18, lw=0)


def ceiling(ax, value, text, x=0.02):
    """Dotted line at the bound log2 N, labelled just above it (clear of curves saturating on it)."""
    ax.axhline(value, color="0.35", ls=":", lw=1)
    ax.annotate(text, (x, value), xycoords=ax.get_yaxis_transform(), xytext=(0, 4), textcoords="offset points",
                va="bottom", ha="left", fontsize=7.5, color="0.3")


# --------------------------------------------------------------------------- theoretical plane
def theoretical_plane() -> None:
    """Fig. 1 of the paper from renyimi.theory: small (lambda < M) and large (lambda >= M) bottleneck."""
    M, n_enc, n_dec = 1.0, 4, 3  # the paper's autoencoder: T1E..T3E, Z, T1D..T3D
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.4), sharey=True, constrained_layout=True)
    enc_cmap, dec_cmap = plt.get_cmap("Blues"), plt.get_cmap("Oranges")
    for ax, lam, title in zip(axes, (0.45, 1.5), (r"(a) small bottleneck, $\lambda < M$",
                                                  r"(b) large bottleneck, $\lambda \geq M$")):
        traj = theory.theoretical_trajectories(M, lam, n_enc, n_dec)
        region = theory.feasible_region(M)
        ax.fill(region[:, 0], region[:, 1], color="0.9", zorder=0, label="feasible region")
        ax.plot([0, M], [0, M], color="0.5", ls="--", lw=1, zorder=1)
        ax.text(0.6 * M, 0.63 * M, "bisector", rotation=45, ha="center", va="bottom", fontsize=7.5,
                color="0.35", rotation_mode="anchor", transform_rotates_text=True)
        for i, name in enumerate(traj.layers):
            encoder = i < n_enc
            shade = (0.45 + 0.5 * i / (n_enc - 1)) if encoder else (0.45 + 0.5 * (i - n_enc) / max(n_dec - 1, 1))
            color = enc_cmap(shade) if encoder else dec_cmap(shade)
            x, y = traj.input_mi[:, i], traj.output_mi[:, i]
            ax.plot(x, y, color=color, lw=1.3, label=_tex_layer(name))
            ax.plot(x[0], y[0], "o", ms=3.5, color=color)
        end = traj.convergence
        ax.scatter(end.input_mi, end.output_mi, s=90, facecolors="none", edgecolors="k", lw=1, zorder=5,
                   label="convergence (Thm. 1)")
        if lam < M:
            ax.plot([0, M], [lam, lam], color="0.35", ls=":", lw=1)
            ax.text(0.02, lam, r"$\lambda$", transform=ax.get_yaxis_transform(), va="bottom", fontsize=8)
        ax.set_xticks([0, M], ["0", "$M$"])
        ax.set_yticks([0, M], ["0", "$M$"])
        ax.set_xlim(-0.03, 1.08 * M)
        ax.set_ylim(-0.03, 1.08 * M)
        ax.set_xlabel(r"input MI $\hat I(X;T)$")
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.grid(False)
    axes[0].set_ylabel(r"output MI $\hat I(T;X')$")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", frameon=False, fontsize=7.5)
    _save(fig, "theoretical_plane.png")


def _tex_layer(name: str) -> str:
    if name == "Z":
        return "$Z$"
    return f"$T^{{{name[-1]}}}_{{{name[1:-1]}}}$"


# --------------------------------------------------------------------------- kernel-width sweeps
def width_sweeps(seeds: int) -> None:
    """Estimates against sigma, N, d and a feature rescaling: what each knob does."""
    fig, axes = plt.subplots(2, 2, figsize=(7.4, 5.8), constrained_layout=True)
    rhos = (0.0, 0.5, 0.9)

    # (a) sigma: eqs. 22-25, both limits
    ax = axes[0, 0]
    d, n = 10, N_DEFAULT
    sigmas = np.logspace(-1, 2.5, 22)
    for c, rho in zip(COLORS, rhos):
        stats = [mean_std(lambda r, s=s: mi(*correlated_gaussians(r, n, d, rho), sigma=float(s)), seeds, 0)
                 for s in sigmas]
        band(ax, sigmas, stats, c, rf"$\rho={rho}$")
    tapia_sigma = GAMMA_TAPIA * math.sqrt(d) * n ** (-1 / (4 + d))
    ax.axvline(tapia_sigma, color="k", lw=1, ls="--")
    ax.text(tapia_sigma * 1.1, 3.5, f"'tapia', $\\gamma$={GAMMA_TAPIA:g}", fontsize=7.5, rotation=90, va="center")
    ceiling(ax, math.log2(n), r"$\log_2 N$", x=0.6)
    ax.set_xscale("log")
    ax.set_xlabel(r"kernel width $\sigma$ (fixed; data have unit variance)")
    ax.set_ylabel(r"$I_\alpha(X;Y)$ [bits]")
    ax.set_title(f"(a) against $\\sigma$ ($d={d}$, $N={n}$)")
    ax.legend(loc="lower left", frameon=False)

    # (b) N: resolution grows with the number of samples (paper's Fig. 4)
    ax = axes[0, 1]
    d, ns = 100, np.array([32, 64, 128, 256, 512, 1024])
    for c, rho in zip(COLORS, rhos):
        stats = [mean_std(lambda r, n=n: mi(*correlated_gaussians(r, int(n), d, rho), sigma_scale=GAMMA_TAPIA),
                          seeds, 10) for n in ns]
        band(ax, ns, stats, c, rf"$\rho={rho}$")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ns, [str(v) for v in ns])
    ax.set_xlabel("number of samples $N$")
    ax.set_ylabel(r"$I_\alpha(X;Y)$ [bits]")
    ax.set_title(f"(b) against $N$ ('tapia', $\\gamma$={GAMMA_TAPIA:g}, $d={d}$)")
    ax.legend(loc="lower left", frameon=False)

    # (c) d: the old rule saturates at log2 N, the paper's rule keeps rho = 0 and 0.9 apart
    ax = axes[1, 0]
    n, dims = N_DEFAULT, np.array([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])
    for c, rho in zip((COLORS[0], COLORS[2]), (0.0, 0.9)):
        for rule, gamma, ls, mk in (("tapia", GAMMA_TAPIA, "-", "o"), ("yu", GAMMA_YU, "--", "s")):
            stats = [mean_std(lambda r, d=d: mi(*correlated_gaussians(r, n, int(d), rho), sigma=rule,
                                                sigma_scale=gamma), seeds, 20) for d in dims]
            band(ax, dims, stats, c, rf"'{rule}', $\rho={rho}$", marker=mk, ls=ls)
    ceiling(ax, math.log2(n), r"$\log_2 N$")
    ax.set_xscale("log")
    ax.set_ylim(0, 7.6)
    ax.set_xlabel("dimension $d$ of $X$ and $Y$")
    ax.set_ylabel(r"$I_\alpha(X;Y)$ [bits]")
    ax.set_title(f"(c) against $d$ ($N={n}$; 'yu' $\\gamma=2\\sqrt{{10}}$)")
    ax.legend(loc="center left", frameon=False, bbox_to_anchor=(0.0, 0.6))

    # (d) a rescaling of X (a batch-norm layer, a growing activation variance)
    ax = axes[1, 1]
    d, n, rho = 10, N_DEFAULT, 0.9
    scales = np.logspace(-2, 2, 17)
    for c, rule, gamma, ls, mk in ((COLORS[0], "tapia", GAMMA_TAPIA, "-", "o"), (COLORS[1], "yu", GAMMA_YU, "--", "s"),
                                   (COLORS[3], "median", 1.0, "-.", "^")):
        def one(r, a, rule=rule, gamma=gamma):
            x, y = correlated_gaussians(r, n, d, rho)
            return mi(a * x, y, sigma=rule, sigma_scale=gamma)

        stats = [mean_std(lambda r, a=a: one(r, a), seeds, 30) for a in scales]
        band(ax, scales, stats, c, f"'{rule}'", marker=mk, ls=ls)
    ceiling(ax, math.log2(n), r"$\log_2 N$")
    ax.set_xscale("log")
    ax.set_ylim(0, 7.6)
    ax.set_xlabel(r"scale $a$ of $X$ (estimate of $I(aX;Y)$)")
    ax.set_ylabel(r"$I_\alpha(aX;Y)$ [bits]")
    ax.set_title(rf"(d) against a rescaling ($d={d}$, $N={n}$, $\rho={rho}$)")
    ax.legend(loc="center left", frameon=False)
    _save(fig, "kernel_width_sweeps.png")


def correlated_gaussians_rules(seeds: int) -> None:
    """The paper's Fig. 3: estimate against rho for d in {10, 100, 1000}, old rule (top) vs proposed (bottom)."""
    n, rhos = N_DEFAULT, np.round(np.linspace(-0.9, 0.9, 13), 2)
    fig, axes = plt.subplots(2, 3, figsize=(7.4, 4.4), sharex=True, constrained_layout=True)
    rows = ((COLORS[1], "yu", GAMMA_YU, "--", "s", r"'yu' (eq. 27), $\gamma=2\sqrt{10}$"),
            (COLORS[0], "tapia", GAMMA_TAPIA, "-", "o", r"'tapia' (eqs. 29-30), $\gamma=2$"))
    for row, (c, rule, gamma, ls, mk, label) in zip(axes, rows):
        for ax, d in zip(row, (10, 100, 1000)):
            stats = [mean_std(lambda r, rho=rho: mi(*correlated_gaussians(r, n, d, rho), sigma=rule,
                                                    sigma_scale=gamma), seeds, 40) for rho in rhos]
            band(ax, rhos, stats, c, label, marker=mk, ls=ls)
            ax.set_title(f"{label}, $d = {d}$", fontsize=8)
            if rule == "yu":
                ceiling(ax, math.log2(n), r"$\log_2 N = 7$", x=0.3)
                ax.set_ylim(0, 8.2)
            else:
                low, high = ax.get_ylim()
                ax.set_ylim(low - 0.1 * (high - low), high + 0.1 * (high - low))
        row[0].set_ylabel(r"$I_\alpha(X;Y)$ [bits]")
    for ax in axes[1]:
        ax.set_xlabel(r"correlation $\rho$")
    _save(fig, "correlated_gaussians_rules.png")


def _calibrated_scales(rules, d: int = 10, n: int = N_DEFAULT) -> dict[str, float]:
    """sigma_scale per rule giving the width of 'tapia' with gamma = 2 on N(0, I_d) data (the paper's
    way to compare rules in Fig. 3: equal at d = 10, then watch how each one scales with d)."""
    x = np.random.default_rng(99).standard_normal((n, d))
    target = GAMMA_TAPIA * math.sqrt(d) * n ** (-1 / (4 + d))
    return {rule: target / renyimi.MatrixMI(sigma=rule).fit(x, x).sigma_x_ for rule in rules}


def rules_against_dimension(seeds: int) -> None:
    """Every built-in rule, all calibrated to the same width at d = 10: level at rho = 0 and the gap
    between rho = 0.9 and rho = 0, against d."""
    n, dims = N_DEFAULT, np.array([1, 3, 10, 30, 100, 300, 1000])
    rules = ("tapia", "yu", "silverman", "scott", "median", "knn")
    scales = _calibrated_scales(rules)
    fig, axes = plt.subplots(1, 2, figsize=(7.4, 2.9), constrained_layout=True)
    for c, mk, rule in zip(COLORS, "osv^Dx", rules):
        lows, gaps = [], []
        for d in dims:
            def pair(r, d=d, rule=rule):
                x0, y0 = correlated_gaussians(r, n, int(d), 0.0)
                x1, y1 = correlated_gaussians(r, n, int(d), 0.9)
                i0 = mi(x0, y0, sigma=rule, sigma_scale=scales[rule])
                return i0, mi(x1, y1, sigma=rule, sigma_scale=scales[rule]) - i0

            values = np.array([pair(np.random.default_rng(50 + s)) for s in range(seeds)])
            lows.append((values[:, 0].mean(), values[:, 0].std()))
            gaps.append((values[:, 1].mean(), values[:, 1].std()))
        ls = "-" if rule == "tapia" else "--"
        band(axes[0], dims, lows, c, f"'{rule}'", marker=mk, ls=ls)
        band(axes[1], dims, gaps, c, f"'{rule}'", marker=mk, ls=ls)
    ceiling(axes[0], math.log2(n), r"$\log_2 N$", x=0.75)
    axes[0].set_ylim(0, 7.8)
    axes[0].set_ylabel(r"$I_\alpha(X;Y)$ at $\rho = 0$ [bits]")
    axes[0].set_title(r"(a) independent $X, Y$ (ideally low)")
    axes[1].axhline(0, color="0.35", lw=0.8)
    axes[1].set_ylabel(r"$I_\alpha(\rho{=}0.9) - I_\alpha(\rho{=}0)$ [bits]")
    axes[1].set_title("(b) resolution (ideally high)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("dimension $d$")
        ax.axvline(10, color="0.6", lw=0.8, ls=":")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", frameon=False)
    _save(fig, "width_rules_dimension.png")


def _save(fig, name: str) -> None:
    OUT.mkdir(exist_ok=True)
    fig.savefig(OUT / name, metadata={"Software": None})  # no version string: stable bytes across runs
    plt.close(fig)
    print(f"wrote {OUT / name}")


FIGURES = {
    "theoretical_plane": lambda seeds: theoretical_plane(),
    "kernel_width_sweeps": width_sweeps,
    "correlated_gaussians_rules": correlated_gaussians_rules,
    "width_rules_dimension": rules_against_dimension,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="independent data sets per point (default 5)")
    parser.add_argument("--only", choices=sorted(FIGURES), action="append", help="make only these figures")
    args = parser.parse_args(argv)
    for name in args.only or FIGURES:
        start = time.perf_counter()
        FIGURES[name](args.seeds)
        print(f"  {name}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
