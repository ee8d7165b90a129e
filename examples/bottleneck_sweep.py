r"""Final information plane against the bottleneck size K: the paper's Fig. 9 and the critical K.

For each K the autoencoder of :mod:`autoencoder` is trained with the paper's schedule and, at the end,
every hidden layer's input MI :math:`\hat I(X;T)` and output MI :math:`\hat I(T;X')` is measured with
the paper's rule (eqs. 29-30, :math:`\gamma = 0.8`; pixels standardised one by one, and with pooled
statistics). Theorem 1 of Tapia & Estévez (IJCNN 2020) predicts that the encoder compresses (its input
MIs decrease from :math:`M = \hat I(X;X)` to :math:`\hat I(X;Z) = \lambda(K)`) only while the
bottleneck is too small, :math:`\lambda(K) < M`; past a critical K every layer sits at M. The paper
reads the critical K off Fig. 9a as about 13 for MNIST, an estimate of the data's intrinsic dimension.

Critical K here: the encoder's compression :math:`c(K) = \max_i \hat I(X;T^E_i) - \min_i \hat I(X;T^E_i)`,
the spread of the final input MI of the encoder's hidden layers :math:`T^E_1, T^E_2, T^E_3`, falls to
``fraction`` (default 10 %) of its value at the smallest K; the crossing is interpolated linearly in
:math:`\log K` between the sizes trained, and is ``None`` when no size trained gets there. The
bottleneck Z is left out, as in the paper's reading of Fig. 9a ("this sequence shrinks as K increases,
except for the bottleneck layer after K = 2"): its estimate rises above its predecessor's for K >= 4,
so a spread that includes it never vanishes. That variant is reported too (``critical_K_with_Z``).

Run from the repository root::

    python examples/bottleneck_sweep.py --out results/sweep --K 2 4 8 13 16 32 --epochs 100
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import _common  # noqa: F401  (first: thread settings, checkout on sys.path)
import autoencoder as ae
import information_planes as ip
import numpy as np

SWEEP_SETTINGS = ("paper", "per_pixel")


def run(config: ip.PlaneConfig, data, out: Path, *, reuse: dict | None = None, resume: bool = False,
        show_progress: bool = True, settings=SWEEP_SETTINGS) -> dict:
    """Final planes ``{setting: {K: InformationPlane}}`` for every K of ``config``.

    ``reuse`` maps K to an :class:`information_planes.Run` trained with the same schedule (its last
    step is used); other sizes are trained here and measured once, at the end.
    """
    reuse = reuse or {}
    planes: dict = {s: {} for s in settings}
    for K in config.Ks:
        if K in reuse:
            runs_planes = reuse[K].planes
        else:
            iterations = config.iterations(len(data.train_images))
            runs_planes = ip.train_and_record(K, data, config, out, measure_steps=[iterations], resume=resume,
                                              show_progress=show_progress, settings=settings,
                                              tag=f"sweep_K{K}").planes
        for s in settings:
            planes[s][K] = runs_planes[s]
    return planes


def final_values(planes: dict) -> dict:
    """Last-step values: ``K`` (nK,), ``layers``, ``input_mi`` and ``output_mi`` (nK, L), ``M`` (nK,)."""
    Ks = sorted(planes)
    arrays = [planes[K].to_arrays() for K in Ks]
    return {"K": np.array(Ks), "layers": arrays[0].layers, "n_encoder": planes[Ks[0]].n_encoder,
            "input_mi": np.stack([a.input_mi[-1] for a in arrays]),
            "output_mi": np.stack([a.output_mi[-1] for a in arrays]),
            "M": np.array([a.input_information[-1] for a in arrays])}


def encoder_compression(values: dict, *, include_z: bool = True) -> np.ndarray:
    """:math:`c(K)`: spread of the encoder layers' final input MI, shape (nK,)."""
    k = values["n_encoder"] if include_z else values["n_encoder"] - 1
    enc = values["input_mi"][:, :k]
    return enc.max(axis=1) - enc.min(axis=1)


def critical_k(Ks, compression, fraction: float = 0.1) -> float | None:
    """Smallest K (log-interpolated) at which ``compression`` falls to ``fraction`` of its first value."""
    Ks, c = np.asarray(Ks, dtype=float), np.asarray(compression, dtype=float)
    threshold = fraction * c[0]
    if c[0] <= 0:
        return float(Ks[0])
    for i in range(1, len(Ks)):
        if c[i] <= threshold:
            lo, hi = math.log(Ks[i - 1]), math.log(Ks[i])
            t = (c[i - 1] - threshold) / (c[i - 1] - c[i]) if c[i - 1] != c[i] else 1.0
            return float(math.exp(lo + t * (hi - lo)))
    return None


def summarize(planes: dict, fraction: float = 0.1) -> dict:
    """Per setting: final values, encoder compression and the critical K (with and without Z)."""
    out = {}
    for setting, per_k in planes.items():
        v = final_values(per_k)
        c, c_z = encoder_compression(v, include_z=False), encoder_compression(v)
        out[setting] = {
            "K": v["K"], "layers": list(v["layers"]), "M": v["M"],
            "input_mi": v["input_mi"], "output_mi": v["output_mi"],
            "encoder_compression": c, "encoder_compression_with_Z": c_z,
            "critical_K": critical_k(v["K"], c, fraction),
            "critical_K_with_Z": critical_k(v["K"], c_z, fraction),
            "fraction": fraction,
        }
    return out


def plot_sweep(planes: dict, summary: dict, path: Path, *, title: str) -> Path:
    """Fig. 9: final input/output MI per layer against K (encoder | decoder), critical K marked."""
    from renyimi.plotting import plot_mi_vs_bottleneck

    _common.paper_style()
    fig = plot_mi_vs_bottleneck(planes, logx=True, figsize=(7.0, 5.2), title=title)
    k_star = summary["critical_K"]
    titles = ("(a) encoder, input MI", "(b) decoder, input MI",
              "(c) encoder, output MI", "(d) decoder, output MI")
    for ax, panel_title in zip(fig.axes[:4], titles, strict=True):
        if k_star is not None:
            ax.axvline(k_star, color="0.25", lw=1, ls=":")
        ax.set_title(panel_title, fontsize=8.5)
    if k_star is not None:
        fig.axes[0].text(k_star, 0.04, f" critical $K \\approx {k_star:.1f}$", color="0.25", fontsize=7.5,
                         transform=fig.axes[0].get_xaxis_transform(), ha="left")
    return _common.save_figure(fig, path)


def make_figures(planes: dict, summary: dict, out: Path) -> dict[str, Path]:
    titles = {"paper": "Final MI against the bottleneck size, proposed rule, pooled pixel statistics",
              "per_pixel": "Final MI against the bottleneck size, proposed rule, pixels standardised one by one"}
    names = {"paper": "fig9_bottleneck_sweep.png", "per_pixel": "fig9_bottleneck_sweep_per_pixel.png"}
    return {f"sweep_{s}": plot_sweep(planes[s], summary[s], out / names[s], title=titles[s]) for s in planes}


def main(argv=None) -> dict:
    args = ip.parse_args(argv, description=__doc__.splitlines()[0])
    if args.K == [2, 32]:  # the information_planes default; a sweep needs more sizes
        args.K = [2, 4, 8, 13, 16, 32]
    ae.set_threads(args.threads)
    config = ip.PlaneConfig(Ks=tuple(sorted(args.K)), hidden=args.hidden, epochs=args.epochs,
                            n_points=args.points, eval_batches=args.batches, eval_size=args.batch_size,
                            seed=args.seed, settings=SWEEP_SETTINGS)
    data = _common.load_images(args.data, args.dataset, seed=args.seed)
    planes = run(config, data, args.out, resume=args.resume, show_progress=not args.no_progress)
    summary = summarize(planes)
    for name, path in make_figures(planes, summary, args.out).items():
        print(f"{name}: {path}")
    for setting, s in summary.items():
        print(f"{setting}: critical K = {s['critical_K']}, encoder compression per K = "
              f"{dict(zip(s['K'].tolist(), np.round(s['encoder_compression'], 3).tolist(), strict=True))}")
    _common.dump_json(summary, args.out / "bottleneck_sweep.json")
    return summary


if __name__ == "__main__":
    main()
    sys.exit(0)
