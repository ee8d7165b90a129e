r"""The theoretical information plane of an ideal autoencoder: the paper's Fig. 1.

Theorem 1 of Tapia & Estévez (IJCNN 2020): with input information :math:`M = \hat I(X;X)` and a
bottleneck that can carry :math:`\lambda(K)`,

* small bottleneck, :math:`\lambda < M`: every output MI converges to :math:`\lambda`; the encoder's
  input MIs decrease from :math:`M` to :math:`\hat I(X;Z) = \lambda` (compression in the encoder only);
  Z and the decoder end on the bisector at :math:`(\lambda, \lambda)`;
* large bottleneck, :math:`\lambda \ge M`: every layer converges to :math:`(M, M)`; nothing is compressed.

The straight paths are only a sketch (the paper: they depend on the optimiser); the end points and the
feasible triangle (0, 0), (M, 0), (M, M) are the theory. Drawn by :mod:`renyimi.plotting` from
:mod:`renyimi.theory`.

Run from the repository root::

    python examples/theory_plane.py --out results/theory
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _common  # noqa: F401  (first: thread settings, checkout on sys.path)

from renyimi import theory


def convergence_table(M: float = 1.0, lam_small: float = 0.45, lam_large: float = 1.5) -> dict:
    """Theorem 1's end points for both regimes, as plain numbers."""
    out = {}
    for regime, lam in (("small", lam_small), ("large", lam_large)):
        c = theory.theoretical_convergence(M, lam, 4, 3)
        points = zip(c.layers, c.input_mi, c.output_mi, strict=True)
        out[regime] = {"M": M, "lambda": lam, "points": {n: [float(x), float(y)] for n, x, y in points}}
    return out


def make_figure(out: Path, M: float = 1.0, lam_small: float = 0.45) -> Path:
    from renyimi.plotting import plot_theoretical_plane

    _common.paper_style()
    fig = plot_theoretical_plane(M=M, lam_small=lam_small, figsize=(7.0, 3.9))
    fig.suptitle("Theoretical information plane of an ideal autoencoder (Theorem 1)", fontsize=9)
    return _common.save_figure(fig, out / "fig1_theoretical_plane.png")


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/theory"))
    args = parser.parse_args(argv)
    path = make_figure(args.out)
    _common.dump_json(convergence_table(), args.out / "theory_plane.json")
    print(f"fig1: {path}")
    return path


if __name__ == "__main__":
    main()
    sys.exit(0)
