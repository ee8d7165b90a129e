r"""Reproduce Tapia & Estévez, "On the information plane of autoencoders" (IJCNN 2020), Figs. 1-9.

One command trains the paper's autoencoder for several seeds and bottleneck sizes, measures its
information planes, judges every claim of the paper listed in ``examples/claims.py`` (criteria and
thresholds fixed there before any run) and writes, into ``--out``:

* ``report.md``: every claim with its source in the paper, its criterion, its estimate with a 95 %
  interval over seeds and evaluation batches, its verdict (supported / not supported / inconclusive),
  the verdict over a range of each threshold (sensitivity), and the figures (mean and 95 % band);
* ``results.json``: ``{"seeds", "data", "scale", "meta", "claims": [{"id", "verdict", "source",
  "criterion", "estimate": {"value", "ci", ...}, "sensitivity", "variants", ...}]}``;
* the figures (PNG) and ``jobs/``: one result file per training run (seed, K), written atomically as
  each finishes; a rerun with the same settings skips the jobs already done (resumable).

Scales (``--scale``):

``quick`` (default)
    measured: 6 min 33 s for the README's first command from a fresh virtual environment on 2 cores
    (5.2 min for the run itself, 569 s of CPU time; see docs/examples.md). 3 seeds; autoencoder 784-256-128-64-K
    (narrower than the paper's); 50 epochs of the 3 976 embedded training digits (1 990 iterations); the
    planes (K = 2, 32) measured at 14 log-spaced iterations on 2 disjoint batches of 512 test digits; the
    sweep K in {2, 4, 8, 16, 32}; correlated Gaussians with 10 runs per point.
``medium``
    5 seeds, 784-1000-500-250-K, 20 000 iterations (on any data set), 40 measured iterations on up to 10
    disjoint test batches of 512, the sweep K in {2, 4, 6, 8, 10, 13, 16, 24, 32}, 50 runs per Gaussian point.
    Measured cost (``python examples/run_cost.py --scale medium --data ...``, one thread per job on the 2-core
    development machine): about 10 CPU-hours on the embedded digits and 12 on Fashion-MNIST; run it on a
    Dask cluster (``--scheduler local`` or an address) or a GPU. Resumable job by job.
``paper``
    the paper's scale: 100 epochs (60 000 iterations on full MNIST), 120 measured iterations x 10 batches
    of 512, 15 bottleneck sizes from 2 to 64, 5 seeds. ``--device cuda`` trains and estimates on a GPU.
``tiny``
    a smoke test (seconds), used by the test suite.

Run from the repository root::

    pip install torch==2.13.0 && pip install -e ".[examples]"
    python examples/reproduce_paper.py --out results/quick
    python examples/reproduce_paper.py --out results/fashion --data fashion-mnist
    python examples/reproduce_paper.py --out results/medium --scale medium --scheduler local --workers 8
    python examples/reproduce_paper.py --out results/paper --scale paper --data download --device cuda
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import _common  # noqa: F401  (first: thread settings, checkout on sys.path)
import claims as cl
import jobs
import numpy as np

import renyimi


@dataclass(frozen=True)
class Scale:
    """Sizes of every experiment."""

    name: str
    seeds: tuple[int, ...]
    hidden: tuple[int, ...]
    epochs: float
    max_iterations: int | None
    n_points: int
    eval_batches: int
    eval_size: int
    plane_Ks: tuple[int, ...]
    sweep_Ks: tuple[int, ...]
    gauss_runs: int
    gauss_n_rho: int
    gauss_n: int = 128
    gauss_sizes: tuple[int, ...] = (128, 256, 512)
    gauss_dims: tuple[int, ...] = (10, 100, 1000)
    n_boot: int = 1000
    min_iterations: int = 1


SCALES = {
    "tiny": Scale("tiny", seeds=(0, 1), hidden=(16, 8, 4), epochs=1, max_iterations=12, n_points=5,
                  eval_batches=2, eval_size=64, plane_Ks=(2, 8), sweep_Ks=(2, 4, 8), gauss_runs=3,
                  gauss_n_rho=5, gauss_n=32, gauss_sizes=(32, 64, 96), n_boot=100),
    "quick": Scale("quick", seeds=(0, 1, 2), hidden=(256, 128, 64), epochs=50, max_iterations=2000,
                   n_points=14, eval_batches=2, eval_size=512, plane_Ks=(2, 32), sweep_Ks=(2, 4, 8, 16, 32),
                   gauss_runs=10, gauss_n_rho=13),
    "medium": Scale("medium", seeds=(0, 1, 2, 3, 4), hidden=(1000, 500, 250), epochs=100, max_iterations=20000,
                    n_points=40, eval_batches=10, eval_size=512, plane_Ks=(2, 32),
                    sweep_Ks=(2, 4, 6, 8, 10, 13, 16, 24, 32), gauss_runs=50, gauss_n_rho=19,
                    min_iterations=20000),
    "paper": Scale("paper", seeds=(0, 1, 2, 3, 4), hidden=(1000, 500, 250), epochs=100, max_iterations=None,
                   n_points=120, eval_batches=10, eval_size=512, plane_Ks=(2, 32),
                   sweep_Ks=(2, 3, 4, 6, 8, 10, 12, 13, 14, 16, 20, 24, 32, 48, 64), gauss_runs=50,
                   gauss_n_rho=19),
}
PLANE_SETTINGS = ("old", "paper", "per_pixel")
SWEEP_SETTINGS = ("paper", "per_pixel")
SETTING_NAMES = {"paper": "proposed rule, pooled (paper)", "per_pixel": "proposed rule, per pixel (ablation)",
                 "old": "previous rule"}


def iterations_for(scale: Scale, n_train: int) -> int:
    """``epochs`` passes over the training set in batches of 100, at least ``min_iterations`` (the medium
    scale: 20 000 also on the 3 976 embedded digits, i.e. about 500 epochs), at most ``max_iterations``."""
    n = max(scale.min_iterations, int(round(scale.epochs * math.ceil(n_train / 100))))
    return n if scale.max_iterations is None else min(n, scale.max_iterations)


def log_steps(iterations: int, n_points: int) -> list[int]:
    inner = np.unique(np.round(np.geomspace(1, iterations, max(n_points - 1, 1))).astype(int))
    return sorted({0, *inner.tolist(), iterations})


def job_specs(scale: Scale, data: str, n_train: int, *, seeds=None, device="cpu", threads=1) -> list[dict]:
    """Every job of a run: the Gaussians, one plane job per (K, seed), one sweep job per extra (K, seed)."""
    seeds = tuple(scale.seeds if seeds is None else seeds)
    iterations = iterations_for(scale, n_train)
    common = {"data": data, "hidden": list(scale.hidden), "iterations": iterations,
              "eval_batches": scale.eval_batches, "eval_size": scale.eval_size, "device": device,
              "threads": threads}
    rhos = np.round(np.linspace(-0.9, 0.9, scale.gauss_n_rho), 3).tolist()
    specs = [{"kind": "gauss", "dims": list(scale.gauss_dims), "n": scale.gauss_n, "runs": scale.gauss_runs,
              "rhos": rhos, "sizes": list(scale.gauss_sizes), "seed": 0, "threads": threads}]
    for K in scale.plane_Ks:
        for seed in seeds:
            specs.append({"kind": "plane", "K": K, "seed": seed, "settings": list(PLANE_SETTINGS),
                          "steps": log_steps(iterations, scale.n_points), **common})
    for K in scale.sweep_Ks:
        if K in scale.plane_Ks:
            continue
        for seed in seeds:
            specs.append({"kind": "sweep", "K": K, "seed": seed, "settings": list(SWEEP_SETTINGS),
                          "steps": [iterations], **common})
    # Longest first: plane jobs (many measurements), then the sweep, then the Gaussians.
    return sorted(specs, key=lambda s: {"plane": 0, "sweep": 1, "gauss": 2}[s["kind"]])


# ------------------------------------------------------------------------------------- evidence
def assemble(results: dict, scale: Scale, seeds) -> tuple[dict, dict]:
    """Arrays ``(S, B, ...)`` keyed as :mod:`claims` expects, and the run's meta data."""
    ev: dict = {}
    g = results["gaussians"]
    for rule, per_d in g["fig3"].items():
        for d, v in per_d.items():
            ev[f"gauss/{rule}/d{d}"] = np.asarray(v, dtype=float)[:, None, :]
    for n, v in g["fig4"].items():
        ev[f"gauss_n/N{n}"] = np.asarray(v, dtype=float)[:, None, :]
    first = results[f"plane_K{scale.plane_Ks[0]}_seed{seeds[0]}"]
    for K in scale.plane_Ks:
        runs = [results[f"plane_K{K}_seed{s}"] for s in seeds]
        for setting in PLANE_SETTINGS:
            for q in ("in", "out", "var"):
                ev[f"plane/{setting}/K{K}/{q}"] = np.stack(
                    [np.swapaxes(np.asarray(r["planes"][setting][q], dtype=float), 0, 1) for r in runs])
            for q in ("M", "io"):
                ev[f"plane/{setting}/K{K}/{q}"] = np.stack(
                    [np.asarray(r["planes"][setting][q], dtype=float).T for r in runs])
        ev[f"loss/K{K}"] = np.asarray([r["test_loss"] for r in runs], dtype=float)[:, None, :]
    for setting in SWEEP_SETTINGS:
        for q in ("in", "out", "M"):
            per_k = []
            for K in scale.sweep_Ks:
                kind = "plane" if K in scale.plane_Ks else "sweep"
                runs = [results[f"{kind}_K{K}_seed{s}"] for s in seeds]
                per_k.append(np.stack([np.asarray(r["planes"][setting][q], dtype=float)[-1] for r in runs]))
            ev[f"sweep/{setting}/{q}"] = np.stack(per_k, axis=2)  # (S, B, nK[, L])
    meta = {"plane_Ks": list(scale.plane_Ks), "sweep_Ks": list(scale.sweep_Ks), "layers": first["layers"],
            "n_encoder": first["n_encoder"], "steps": first["steps"], "gauss_dims": list(scale.gauss_dims),
            "gauss_n": scale.gauss_n, "gauss_sizes": list(scale.gauss_sizes), "rhos": g["rhos"],
            "n_batches": first["n_batches"], "plateau": first["plateau"]}
    return ev, meta


def band(arr: np.ndarray, n_boot: int = 400, seed: int = 0):
    """Mean over seeds and batches with a 95 % hierarchical-bootstrap band; ``arr`` (S, B, ...)."""
    arr = np.asarray(arr, dtype=float)
    samples = np.stack([m["a"] for m in cl.resampled_means({"a": arr}, n_boot, seed)])
    lo, hi = np.quantile(samples, [0.025, 0.975], axis=0)
    return arr.mean(axis=(0, 1)), lo, hi


# -------------------------------------------------------------------------------------- figures
def _colors(layers, n_encoder):
    return _common.layer_colors(layers, n_encoder)


def plot_planes(ev, meta, setting, path, title):
    """Figs. 6-7: mean trajectories over seeds and batches, 95 % intervals as crosses, feasible region."""
    import matplotlib.pyplot as plt

    Ks, layers, k = meta["plane_Ks"], meta["layers"], meta["n_encoder"]
    colors = _colors(layers, k)
    fig, axes = plt.subplots(len(Ks), 2, figsize=(7.0, 3.0 * len(Ks) + 0.6), squeeze=False, layout="constrained")
    letters = iter("abcdefgh")
    for row, K in zip(axes, Ks, strict=True):
        mi, lo_i, hi_i = band(ev[f"plane/{setting}/K{K}/in"])
        mo, lo_o, hi_o = band(ev[f"plane/{setting}/K{K}/out"])
        M = float(ev[f"plane/{setting}/K{K}/M"].mean())
        top = max(M, float(np.nanmax(hi_i)), float(np.nanmax(hi_o))) * 1.05
        for ax, part in zip(row, (range(k), range(k, len(layers))), strict=True):
            ax.fill([0, M, M], [0, 0, M], color="0.92", zorder=0, label="feasible region")
            ax.plot([0, top], [0, top], color="0.5", lw=0.8, ls="--", zorder=1, label="bisector")
            ax.axvline(M, color="0.5", lw=0.8, ls=":", zorder=1)
            for j in part:
                c = colors[layers[j]]
                ax.errorbar(mi[:, j], mo[:, j], xerr=[mi[:, j] - lo_i[:, j], hi_i[:, j] - mi[:, j]],
                            yerr=[mo[:, j] - lo_o[:, j], hi_o[:, j] - mo[:, j]], color=c, alpha=0.35, lw=0.7,
                            ls="none", zorder=2)
                ax.plot(mi[:, j], mo[:, j], color=c, lw=1.2, marker="o", ms=2.5, zorder=3,
                        label=_common.layer_label(layers[j]))
                ax.plot(mi[-1, j], mo[-1, j], marker="*", ms=8, color=c, mec="k", mew=0.5, zorder=4)
            ax.set_xlim(0, top)
            ax.set_ylim(0, top)
            ax.set_aspect("equal")
            ax.set_xlabel(r"input MI $\hat I(X;T)$ [bits]")
            ax.set_ylabel(r"output MI $\hat I(T;X')$ [bits]")
            ax.set_title(f"({next(letters)}) $K = {K}$, {'encoder' if part.start == 0 else 'decoder'}")
            ax.text(M, 0.02 * top, " $M$", fontsize=7, color="0.3")
            ax.legend(loc="upper left", fontsize=6.5, frameon=False, ncol=2)
    fig.suptitle(f"{title}\nmean over {ev[f'plane/{setting}/K{Ks[0]}/in'].shape[0]} seeds x "
                 f"{meta['n_batches']} test batches; bars: 95 % bootstrap intervals; star: last iteration",
                 fontsize=8.5)
    return _common.save_figure(fig, path)


def plot_dynamics(ev, meta, setting, path, title):
    """Input MI and output MI against the iteration, mean with a 95 % band: where compression is read."""
    import matplotlib.pyplot as plt

    Ks, layers, k = meta["plane_Ks"], meta["layers"], meta["n_encoder"]
    colors = _colors(layers, k)
    steps = np.asarray(meta["steps"], dtype=float)
    fig, axes = plt.subplots(len(Ks), 3, figsize=(7.2, 2.3 * len(Ks) + 0.6), squeeze=False, layout="constrained",
                             sharex=True)
    letters = iter("abcdefghijkl")
    for row, K in zip(axes, Ks, strict=True):
        mi, lo_i, hi_i = band(ev[f"plane/{setting}/K{K}/in"])
        mo, lo_o, hi_o = band(ev[f"plane/{setting}/K{K}/out"])
        panels = ((row[0], range(k), mi, lo_i, hi_i, "input MI, encoder"),
                  (row[1], range(k, len(layers)), mi, lo_i, hi_i, "input MI, decoder"),
                  (row[2], range(len(layers)), mo, lo_o, hi_o, "output MI, all layers"))
        for ax, part, m, lo, hi, name in panels:
            for j in part:
                c = colors[layers[j]]
                ax.fill_between(steps, lo[:, j], hi[:, j], color=c, alpha=0.25, lw=0)
                ax.plot(steps, m[:, j], color=c, lw=1.1, label=_common.layer_label(layers[j]))
            ax.set_xscale("symlog", linthresh=10)
            ax.set_title(f"({next(letters)}) $K = {K}$: {name}", fontsize=8)
            ax.set_ylabel("bits")
        row[0].legend(fontsize=6.5, frameon=False, ncol=2)
        row[1].legend(fontsize=6.5, frameon=False, ncol=2)
    for ax in axes[-1]:
        ax.set_xlabel("iteration")
    fig.suptitle(f"{title}: mean with 95 % band over seeds and test batches", fontsize=8.5)
    return _common.save_figure(fig, path)


def plot_variance(ev, meta, path):
    """Fig. 8: mean activation variance per layer (Z left out, as in the paper), mean with a 95 % band."""
    import matplotlib.pyplot as plt

    Ks, layers, k = meta["plane_Ks"], meta["layers"], meta["n_encoder"]
    colors = _colors(layers, k)
    steps = np.asarray(meta["steps"], dtype=float)
    fig, axes = plt.subplots(len(Ks), 2, figsize=(7.0, 2.2 * len(Ks) + 0.5), squeeze=False, layout="constrained")
    letters = iter("abcdefgh")
    for row, K in zip(axes, Ks, strict=True):
        m, lo, hi = band(ev[f"plane/old/K{K}/var"])
        for ax, part in zip(row, (range(k - 1), range(k, len(layers))), strict=True):
            for j in part:
                c = colors[layers[j]]
                ax.fill_between(steps, lo[:, j], hi[:, j], color=c, alpha=0.25, lw=0)
                ax.plot(steps, m[:, j], color=c, lw=1.1, label=_common.layer_label(layers[j]))
            ax.set_xscale("symlog", linthresh=10)
            ax.set_ylabel("mean variance")
            ax.set_title(f"({next(letters)}) $K = {K}$, {'encoder' if part.start == 0 else 'decoder'}")
            ax.legend(fontsize=6.5, frameon=False)
    for ax in axes[-1]:
        ax.set_xlabel("iteration")
    fig.suptitle("Mean activation variance per layer (bottleneck $Z$ not shown); 95 % band", fontsize=8.5)
    return _common.save_figure(fig, path)


def plot_sweep(ev, meta, setting, path, title):
    """Fig. 9: final input and output MI against K, mean with a 95 % band; critical K marked."""
    import matplotlib.pyplot as plt

    Ks, layers, k = np.asarray(meta["sweep_Ks"]), meta["layers"], meta["n_encoder"]
    colors = _colors(layers, k)
    fig, axes = plt.subplots(2, 2, figsize=(7.0, 5.0), layout="constrained", sharex=True)
    letters = iter("abcd")
    for r, q in enumerate(("in", "out")):
        m, lo, hi = band(ev[f"sweep/{setting}/{q}"])
        for c_, part in enumerate((range(k), range(k, len(layers)))):
            ax = axes[r, c_]
            for j in part:
                c = colors[layers[j]]
                ax.fill_between(Ks, lo[:, j], hi[:, j], color=c, alpha=0.25, lw=0)
                ax.plot(Ks, m[:, j], color=c, marker="o", ms=3, lw=1.1, label=_common.layer_label(layers[j]))
            M = float(ev[f"sweep/{setting}/M"].mean())
            ax.axhline(M, color="0.5", ls=":", lw=0.8)
            ax.set_xscale("log", base=2)
            ax.set_xticks(Ks)
            ax.set_xticklabels([str(x) for x in Ks])
            ax.set_title(f"({next(letters)}) {'encoder' if c_ == 0 else 'decoder'}, "
                         f"{'input' if q == 'in' else 'output'} MI", fontsize=8.5)
            ax.set_ylabel("bits")
            if r == 1:
                ax.set_xlabel("bottleneck size $K$")
            if r == 0:
                ax.legend(fontsize=6.5, frameon=False, ncol=2)
            ax.axvline(cl.PAPER_CRITICAL_K, color="0.3", ls="--", lw=0.8)
    axes[0, 0].text(cl.PAPER_CRITICAL_K, 0.02, " paper: 13", transform=axes[0, 0].get_xaxis_transform(),
                    fontsize=7, color="0.3")
    fig.suptitle(f"{title}\nmean with 95 % band over seeds and test batches; dotted: M", fontsize=8.5)
    return _common.save_figure(fig, path)


def plot_loss(ev, meta, path):
    import matplotlib.pyplot as plt

    steps = np.asarray(meta["steps"], dtype=float)
    fig, ax = plt.subplots(figsize=(3.6, 2.5), layout="constrained")
    for K, color in zip(meta["plane_Ks"], ("tab:blue", "tab:orange", "tab:green"), strict=False):
        m, lo, hi = band(ev[f"loss/K{K}"])
        ax.fill_between(steps[1:], lo[1:], hi[1:], color=color, alpha=0.25, lw=0)
        ax.plot(steps[1:], m[1:], color=color, marker="o", ms=2.5, label=f"$K = {K}$")
    ax.axhline(meta["plateau"], color="0.4", ls="--", lw=1, label="mean image")
    ax.set_xscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("test MSE per pixel")
    ax.legend(frameon=False)
    return _common.save_figure(fig, path)


def make_figures(ev, meta, results, scale, out: Path) -> None:
    import correlated_gaussians as cg
    import theory_plane

    _common.paper_style()
    theory_plane.make_figure(out)
    _common.paper_style()
    g = results["gaussians"]
    gres = {"rhos": np.asarray(g["rhos"]),
            "fig3": {r: {int(d): np.asarray(v) for d, v in per.items()} for r, per in g["fig3"].items()},
            "fig4": {int(n): np.asarray(v) for n, v in g["fig4"].items()}}
    gconf = cg.GaussianConfig(dims=scale.gauss_dims, n_samples=scale.gauss_n, runs=scale.gauss_runs,
                              rhos=tuple(g["rhos"]), sample_sizes=scale.gauss_sizes)
    cg.make_figures(gres, gconf, out)
    titles = {"old": r"Previous rule (eq. 27), $\gamma = 5$ ($\gamma_Z = 25$)",
              "paper": r"Proposed rule (eqs. 29-30), $\gamma = 0.8$, grey images standardised with pooled "
                       "statistics (paper)",
              "per_pixel": r"Proposed rule, $\gamma = 0.8$, every pixel standardised on its own (ablation)"}
    names = {"old": "fig6_planes_old_rule.png", "paper": "fig7_planes.png", "per_pixel": "fig7_planes_per_pixel.png"}
    for s in PLANE_SETTINGS:
        plot_planes(ev, meta, s, out / names[s], titles[s])
    plot_dynamics(ev, meta, "paper", out / "fig_dynamics.png", "Proposed rule, pooled (paper)")
    plot_dynamics(ev, meta, "old", out / "fig_dynamics_old_rule.png", "Previous rule")
    plot_variance(ev, meta, out / "fig8_variance.png")
    plot_sweep(ev, meta, "paper", out / "fig9_bottleneck_sweep.png",
               "Final MI against the bottleneck size, proposed rule, pooled (paper)")
    plot_sweep(ev, meta, "per_pixel", out / "fig9_bottleneck_sweep_per_pixel.png",
               "Final MI against the bottleneck size, proposed rule, per pixel (ablation)")
    plot_loss(ev, meta, out / "test_loss.png")


# --------------------------------------------------------------------------------------- report
def _v(x, unit=""):
    if x is None:
        return "–"
    if abs(x) >= 1e300:
        return "∞"
    s = f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"
    return s + (f" {unit}" if unit and unit != "fraction of M" else "")


def _est(e):
    unit = "× M" if e["unit"] == "fraction of M" else e["unit"]
    return f"{_v(e['value'])} [{_v(e['ci'][0])}, {_v(e['ci'][1])}] {unit}".strip()


def _verdict(v):
    return {"supported": "supported", "not supported": "**not supported**", "inconclusive": "*inconclusive*"}[v]


def write_report(out: Path, result: dict, beside: list[dict]) -> Path:
    meta, claims = result["meta"], result["claims"]
    counts = {v: sum(c["verdict"] == v for c in claims) for v in cl.VERDICTS}
    d = result["data"]
    lines = [
        "# Reproduction of Tapia & Estévez (IJCNN 2020), Sec. IV",
        "",
        f"Command: `{meta['command']}`  ",
        f"Scale **{result['scale']}**; seeds {result['seeds']}; data: {d['name']} ({d['source']}), "
        f"{d['n_train']} training / {d['n_test']} test images, evaluation on {meta['n_batches']} disjoint "
        f"batches of {meta['eval_size']} test images.  ",
        f"Wall time **{meta['seconds_total']:.0f} s** ({meta['seconds_total'] / 60:.1f} min; jobs "
        f"{meta['seconds']['jobs']:.0f} s, claims {meta['seconds']['claims']:.0f} s, figures "
        f"{meta['seconds'].get('figures', 0):.0f} s) with {meta['workers']} worker processes on {meta['cpus']} "
        f"CPUs, jobs run on {meta['timing']['date']}{_note(meta['timing'])}; "
        f"load average {meta['load_before']:.1f} before, {meta['load_after']:.1f} after (the machine was "
        f"shared). CPU time {meta['cpu_seconds']:.0f} s, i.e. {meta['cpu_seconds'] / 2 / 60:.1f} min of wall time "
        "on 2 otherwise idle cores.  ",
        f"renyimi {meta['versions']['renyimi']}, torch {meta['versions'].get('torch', '-')}, numpy "
        f"{meta['versions']['numpy']}, Python {meta['versions']['python']}.",
        "",
        f"**{len(claims)} claims: {counts['supported']} supported, {counts['not supported']} not supported, "
        f"{counts['inconclusive']} inconclusive.** Criteria, thresholds and their reasons are fixed in "
        f"[`examples/claims.py`](../../../examples/claims.py) (commit {meta['claims_commit']}), written from the "
        "paper's text before any run of this version; they were not written on these data or any other "
        "results. Each estimate is computed on the mean over seeds and test batches, with a 95 % "
        "hierarchical bootstrap interval (seeds, then batches within seeds; 3 seeds give optimistic "
        "intervals). A verdict is *supported* / *not supported* when the whole interval lies on one side of "
        "the threshold, *inconclusive* otherwise. Fractions of M are of the setting's input information "
        "M = I(X;X).",
        "",
    ]
    head = "| claim | paper | verdict (pooled, paper setting) | estimate [95 % CI] | per pixel (ablation) |"
    sep = "|---|---|---|---|---|"
    for b in beside:
        head += f" {b['label']} |"
        sep += "---|"
    lines += [head, sep]
    others = [{c["id"]: c for c in b["claims"]} for b in beside]
    for c in claims:
        var = c["variants"].get("per_pixel")
        row = (f"| [{c['id']}](#{c['id'].lower()}) | {c['source'].split(':')[0]} | {_verdict(c['verdict'])} | "
               f"{_est(c['estimate'])} | {var['verdict'] + ', ' + _est(var['estimate']) if var else '–'} |")
        for o in others:
            oc = o.get(c["id"])
            row += f" {oc['verdict'] + ', ' + _est(oc['estimate']) if oc else '–'} |"
        lines.append(row)
    lines += ["", "## Sensitivity of every verdict to its thresholds", "",
              "Each row varies one threshold (the pre-registered value in bold) and keeps the others.", "",
              "| claim | threshold | verdict at each value |", "|---|---|---|"]
    for c in claims:
        for name, s in c["sensitivity"].items():
            cells = ", ".join((f"**{t}: {v}**" if float(t) == float(s["threshold"]) else f"{t}: {v}")
                              for t, v in s["verdicts"].items())
            lines.append(f"| {c['id']} | {name} ({s['unit']}) | {cells} |")
    lines += ["", "## Setup", "", *meta["setup"], ""]
    lines += ["## Theory (Fig. 1)", "", "![Fig. 1](fig1_theoretical_plane.png)", "",
              "Theorem 1: for a large bottleneck every layer converges to (M, M); for a small one the "
              "encoder's input MI decreases from M to λ = I(X;Z), and Z and the decoder converge to (λ, λ).",
              ""]
    for c in claims:
        lines += [f"## {c['id']}", "", f"**Claim.** {c['statement']}  ", f"**Source.** {c['source']}  ",
                  f"**Quantity.** {c['quantity']}  ", f"**Criterion.** {c['criterion']}.  ",
                  f"**Why these thresholds.** {c['rationale']}  ",
                  f"**Verdict: {c['verdict']}** (estimate {_est(c['estimate'])}).", "",
                  "| condition | value [95 % CI] | threshold | verdict |", "|---|---|---|---|"]
        for k in c["conditions"]:
            lines.append(f"| {k['text']} | {_v(k['value'])} [{_v(k['ci'][0])}, {_v(k['ci'][1])}] | "
                         f"{k['relation']} {k['threshold']:g} {k['unit']} | {k['verdict']} |")
        if c["variants"]:
            lines += ["", "Variants: " + "; ".join(f"{SETTING_NAMES.get(n, n)}: {v['verdict']}, "
                                                   f"{_est(v['estimate'])}" for n, v in c["variants"].items())
                      + "."]
        extra = {k: v for k, v in c["values"].items() if k not in {x["name"] for x in c["conditions"]}}
        if extra:
            lines += ["", "Other numbers (estimate [95 % CI]): " + "; ".join(
                f"{k} {_v(v)} [{_v(c['cis'][k][0])}, {_v(c['cis'][k][1])}]" for k, v in extra.items()) + "."]
        lines += [""] + [f"![{f}]({f})" for f in c["figures"] if (out / f).is_file()] + [""]
    lines += ["## Training", "", "![test loss](test_loss.png)", "", *meta["training"], ""]
    lines += ["## Limits of this run", "", *meta["limits"], ""]
    lines += ["## Other figures", "", "![dynamics, previous rule](fig_dynamics_old_rule.png)", "",
              "![Fig. 7, per pixel](fig7_planes_per_pixel.png)", "",
              "![Fig. 9, per pixel](fig9_bottleneck_sweep_per_pixel.png)", "",
              "![Fig. 2](fig2_theoretical_mi.png)", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/quick"), help="output folder")
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--full", action="store_true", help="same as --scale paper")
    parser.add_argument("--data", default="mnist",
                        help="'mnist' (the 5 000 embedded digits, default), 'fashion-mnist' (Debian package "
                             "dataset-fashion-mnist), 'download' (full MNIST into the cache) or a folder with "
                             "the four MNIST IDX files")
    parser.add_argument("--seeds", type=int, nargs="+", help="training seeds (default: the scale's)")
    parser.add_argument("--scheduler", default="processes",
                        help="'processes' (default), 'local' (Dask LocalCluster), 'serial' or a Dask "
                             "scheduler address tcp://HOST:PORT")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: CPUs)")
    parser.add_argument("--device", default="cpu", help="torch device of training and estimation ('cuda')")
    parser.add_argument("--beside", type=Path, nargs="*", default=[],
                        help="folders of other runs (e.g. on Fashion-MNIST) whose verdicts the report shows "
                             "beside this run's")
    parser.add_argument("--dpi", type=int, default=200, help="resolution of the PNG figures (default 200)")
    parser.add_argument("--no-progress", action="store_true", help="print nothing while the jobs run")
    parser.add_argument("--no-figures", action="store_true", help="judge and report only (figures as they are)")
    parser.add_argument("--jobs-matching", metavar="PATTERN",
                        help="run only the jobs whose name matches this glob (e.g. 'sweep_*', 'plane_K32_*') and "
                             "stop: to share one --out folder between machines; a later run without it reports")
    parser.add_argument("--resume", action="store_true", help="accepted for compatibility: runs always resume")
    args = parser.parse_args(argv)
    if args.full:
        args.scale = "paper"
    if args.scheduler == "serial":
        args.workers = 1
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    load_before = os.getloadavg()[0]
    scale = SCALES[args.scale]
    seeds = tuple(args.seeds or scale.seeds)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    _common.DPI = args.dpi
    key = jobs.data_key(args.data)
    data = jobs.describe_data(key)
    specs = job_specs(scale, key, data["n_train"], seeds=seeds, device=args.device)
    log = (lambda *a, **k: None) if args.no_progress else (lambda m: print(m, flush=True))
    log(f"{len(specs)} jobs ({args.scheduler}, {args.workers or jobs._common_cpus()} workers) -> {out / 'jobs'}")
    seconds = {}
    if args.jobs_matching:
        import fnmatch

        specs = [s for s in specs if fnmatch.fnmatch(jobs.job_name(s), args.jobs_matching)]
    pending = [s for s in specs if jobs.load_result(jobs.result_path(out, s), s) is None]
    with jobs.executor(args.scheduler, args.workers) as pool:
        results = jobs.run_all(specs, out, pool, log=log)
    seconds["jobs"] = time.perf_counter() - start
    if args.jobs_matching:
        log(f"{len(specs)} jobs matching {args.jobs_matching!r} done; rerun without --jobs-matching to report.")
        return {"jobs": sorted(jobs.job_name(s) for s in specs)}
    timing_path = out / "jobs" / "_timing.json"
    if pending or not timing_path.is_file():
        # The jobs' own clock, kept with them: a rerun that resumes every job reports the run that did them.
        jobs.write_atomic(timing_path, {"jobs_wall_seconds": seconds["jobs"], "cpu_seconds": _cpu_seconds(),
                                        "load_before": load_before, "load_after_jobs": os.getloadavg()[0],
                                        "workers": args.workers or jobs._common_cpus(), "jobs_run": len(pending),
                                        "date": time.strftime("%Y-%m-%d %H:%M")})
    timing = json.loads(timing_path.read_text())
    seconds["jobs"] = timing["jobs_wall_seconds"]

    clock = time.perf_counter()
    ev, meta = assemble(results, scale, seeds)
    claims = cl.evaluate_all(ev, meta, n_boot=scale.n_boot)
    seconds["claims"] = time.perf_counter() - clock
    clock = time.perf_counter()
    if not args.no_figures:
        make_figures(ev, meta, results, scale, out)
        seconds["figures"] = time.perf_counter() - clock

    iterations = iterations_for(scale, data["n_train"])
    train_jobs = [r for n, r in results.items() if n != "gaussians"]
    meta.update({
        "command": "python examples/reproduce_paper.py "
                   + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)),
        "seconds": seconds, "seconds_total": seconds["jobs"] + seconds["claims"] + seconds.get("figures", 0.0),
        "timing": timing, "resumed_jobs": len(specs) - len(pending),
        "seconds_in_jobs": float(sum(r["seconds"] for r in results.values())),
        "cpu_seconds": timing["cpu_seconds"], "load_before": timing["load_before"],
        "load_after": timing["load_after_jobs"], "workers": timing["workers"],
        "cpus": jobs._common_cpus(), "versions": _versions(), "claims_commit": _claims_commit(),
        "eval_size": scale.eval_size, "iterations": iterations, "scale": asdict(scale),
        "setup": _setup(scale, data, iterations, meta, seeds),
        "training": _training(ev, meta, scale, train_jobs),
        "limits": _limits(scale, data, {**meta, "iterations": iterations}),
    })
    result = {"seeds": list(seeds), "data": {**data, "split": _split_text(data, meta, scale)},
              "scale": scale.name, "meta": meta, "claims": claims}
    _common.dump_json(result, out / "results.json")
    saved = json.loads((out / "results.json").read_text())
    beside = []
    for folder in args.beside:
        other = json.loads((Path(folder) / "results.json").read_text())
        beside.append({"label": f"{other['data']['name']} ({other['scale']})", "claims": other["claims"]})
    report = write_report(out, saved, beside)
    counts = {v: sum(c["verdict"] == v for c in claims) for v in cl.VERDICTS}
    print(f"report: {report}")
    print(f"{len(claims)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items())
          + f"; {meta['seconds_total']:.0f} s in total")
    return result


def _split_text(data, meta, scale):
    if data["key"] == "embedded":
        return (f"The 5 000 embedded digits cannot give a training set and the paper's 10 x 512 = 5 120 "
                f"disjoint test images. They are split once (stratified, fixed seed) into {data['n_train']} "
                f"training and {data['n_test']} test digits: {meta['n_batches']} disjoint evaluation batches of "
                f"{scale.eval_size}, the same for every seed. Overlapping batches would make the batch-level "
                "intervals overconfident.")
    return (f"{data['n_train']} training / {data['n_test']} test images as distributed; {meta['n_batches']} "
            f"disjoint evaluation batches of {scale.eval_size} test images, the same for every seed.")


def _setup(scale, data, iterations, meta, seeds):
    hidden = "-".join(map(str, scale.hidden))
    return [
        f"- Autoencoder 784-{hidden}-K-{'-'.join(map(str, scale.hidden[::-1]))}-784 (the paper: 1000-500-250 "
        "after Yu & Príncipe), sigmoid everywhere except the linear bottleneck; Glorot-uniform weights scaled "
        "by 4, zero biases.",
        f"- SGD, learning rate 0.1, momentum 0.5, batches of 100 (the paper's), {iterations} iterations "
        f"({iterations / math.ceil(data['n_train'] / 100):.3g} epochs; the paper: 100 epochs of 60 000 images, "
        "60 000 iterations); loss: squared error summed over pixels, averaged over the batch.",
        f"- Seeds {list(seeds)}: seed s initialises the weights (torch seed 1000 s + K) and orders the "
        "training images; the test batches are the same for every seed.",
        f"- Data: {_split_text(data, meta, scale)}",
        f"- MI measured at {len(meta['steps'])} log-spaced iterations (0 included; the paper: every "
        f"iteration), on each of {meta['n_batches']} test batches of {scale.eval_size} separately. No "
        "smoothing: the paper's Hann window spans 500 of 60 000 iterations (0.83 % of the run); at this "
        "density no window would hold 5 measurements, so curves and criteria use the measurements themselves "
        "and the seeds and batches supply the averaging.",
        "- Settings (one set of activations, three estimators): previous rule `sigma='yu'`, gamma 5, 25 for Z "
        "(Fig. 6); proposed rule `sigma='tapia'`, gamma 0.8, hidden units standardised one by one and the grey "
        "images X, X' standardised with statistics pooled over all pixels (`paper`, the paper's Sec. III-C: "
        "components with shared statistics, like the channels of an image, are standardised together; a grey "
        "image is one channel; the headline) or pixel by pixel (`per_pixel`, ablation).",
        f"- Bottleneck sweep: K in {list(scale.sweep_Ks)}, last measurement of each run.",
        f"- Correlated Gaussians: N = {scale.gauss_n}, {scale.gauss_runs} independent runs per point (the "
        f"paper: 50), {scale.gauss_n_rho} values of rho in [-0.9, 0.9]; the runs are the replications of "
        "the bootstrap.",
    ]


def _note(timing):
    return f" ({timing['note']})" if timing.get("note") else ""


def _limits(scale, data, meta):
    paper = SCALES["paper"]
    out = []
    if scale.hidden != paper.hidden:
        out.append(f"- A narrower network ({'-'.join(map(str, scale.hidden))}) than the paper's "
                   f"({'-'.join(map(str, paper.hidden))}).")
    if data["key"] != "download" and data["n_train"] < 60000:
        out.append(f"- {data['n_train']} training images and {meta['iterations']} iterations; the paper: 60 000 "
                   "images, 60 000 iterations. Verdicts about the end of training (Theorem 1, Lemma 1, the "
                   "sweep) describe the network at this point, not at convergence.")
    if meta["n_batches"] < 10:
        out.append(f"- {meta['n_batches']} evaluation batches of {scale.eval_size} (the paper: 10).")
    if len(scale.seeds) < 5:
        out.append(f"- {len(scale.seeds)} seeds: bootstrap intervals over so few seeds are optimistic.")
    out.append(f"- {len(meta['steps'])} measured iterations, not every iteration, and no smoothing (see Setup).")
    return out


def _training(ev, meta, scale, train_jobs):
    out = []
    steps = meta["steps"]
    q = next(i for i, s in enumerate(steps) if s >= 0.5 * steps[-1])
    for K in meta["plane_Ks"]:
        loss = ev[f"loss/K{K}"][:, 0, :]
        final, half = loss[:, -1], loss[:, q]
        out.append(f"- K = {K}: test MSE per pixel {final.mean():.4f} (seeds: "
                   f"{', '.join(f'{v:.4f}' for v in final)}) at iteration {steps[-1]}; it fell by "
                   f"{100 * (1 - final.mean() / half.mean()):.0f} % since iteration {steps[q]} (still moving: "
                   "the quick scale stops before convergence).")
    secs = [r["seconds"] for r in train_jobs]
    out.append(f"- {len(train_jobs)} training jobs, {np.sum(secs):.0f} s of worker time "
               f"({np.min(secs):.0f}-{np.max(secs):.0f} s each). Mean-image error: {meta['plateau']:.4f}.")
    return out


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished worker processes (user + system), seconds."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _claims_commit() -> str:
    try:
        return subprocess.run(["git", "log", "-1", "--format=%h", "--", "examples/claims.py"], cwd=_common.REPO,
                              capture_output=True, text=True, timeout=10).stdout.strip() or "uncommitted"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions() -> dict:
    out = {"renyimi": renyimi.__version__, "numpy": np.__version__, "python": platform.python_version()}
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:  # pragma: no cover
        pass
    return out


if __name__ == "__main__":
    main()
    sys.exit(0)
