r"""Information planes of the MNIST autoencoder: the paper's Figs. 6-8 (Tapia & Estévez, IJCNN 2020).

The autoencoder of Fig. 5 (:mod:`autoencoder`) is trained for each bottleneck size K (default 2 and 32).
At log-spaced iterations every hidden layer :math:`T` is placed at (input MI :math:`\hat I(X;T)`,
output MI :math:`\hat I(T;X')`), averaged over fixed evaluation batches of 512 test images (the paper:
10 batches), under three settings of the estimator measured on the same activations:

``old``
    the rule of Yu & Príncipe (eq. 27, ``sigma="yu"``) with :math:`\gamma = 5`, and 25 for the
    bottleneck Z (the paper's Fig. 6, replicating the compression phase reported for large K);
``paper``
    the paper's rule (eqs. 29-30, ``sigma="tapia"``), :math:`\gamma = 0.8` everywhere, hidden units
    standardised one by one, the grey images X and X' with statistics pooled over all pixels: the paper
    standardises "subsets of components with shared statistics, like channels in an image" together
    (Sec. III-C), and a grey image is one channel (Fig. 7);
``per_pixel``
    the ablation: every pixel of X and X' standardised with its own statistics (eq. 29 read literally).

Curves are smoothed with a Hann window (the paper: 500 iterations of 60 000; here the same fraction of
the run unless ``--smooth`` says otherwise) and drawn at log-spaced iterations, encoder and decoder in
separate panels. Fig. 8 is the mean activation variance of each layer.

The planes are saved after every measurement (``checkpoints/K{K}_{setting}.plane.json``, readable
with ``renyimi.InformationPlane.load``), together with the model and optimiser state, so that a run
stopped half-way continues with ``--resume`` exactly where it stopped.

Run from the repository root::

    python examples/information_planes.py --out results/planes --epochs 100      # paper's schedule
    python examples/information_planes.py --out results/planes --epochs 20 --batches 3 --points 25
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import _common  # noqa: F401  (first: thread settings, checkout on sys.path)
import autoencoder as ae
import numpy as np
import torch

import renyimi
from renyimi.capture import capture_activations

#: Estimator settings of each information plane, measured on the same activations.
PLANE_SETTINGS = {
    "old": {"sigma": "yu", "sigma_scale": 5.0, "overrides": {"Z": {"sigma_scale": 25.0}}},
    "paper": {"sigma": "tapia", "sigma_scale": 0.8, "standardize": "feature",
              "overrides": {"X": {"standardize": "pooled"}, "Y": {"standardize": "pooled"}}},
    "per_pixel": {"sigma": "tapia", "sigma_scale": 0.8, "standardize": "feature"},
}
SETTING_TITLES = {
    "old": r"previous rule (eq. 27): $\gamma=5$, $\gamma_Z=25$",
    "paper": r"proposed rule (eqs. 29-30): $\gamma=0.8$, grey images standardised with pooled statistics",
    "per_pixel": r"proposed rule (eqs. 29-30): $\gamma=0.8$, every pixel standardised on its own (ablation)",
}
PAPER_ITERATIONS, PAPER_WINDOW = 60_000, 500  # 100 epochs of 60 000 images in batches of 100; Hann span


@dataclass
class PlaneConfig:
    """One information-plane experiment. Defaults: the paper's schedule on the chosen data."""

    Ks: tuple[int, ...] = (2, 32)
    hidden: tuple[int, ...] = ae.DEFAULT_HIDDEN
    epochs: float = 100.0
    n_points: int = 60             # measured iterations, log-spaced, 0 and the last included
    eval_batches: int = 10         # batches of test images averaged per measurement (the paper: 10)
    eval_size: int = 512           # samples per batch (the paper: 512)
    smooth_window: float | None = None  # Hann span in iterations; None: the paper's fraction of the run
    max_iterations: int | None = None   # cap on the iterations (quick runs on the full data sets)
    settings: tuple[str, ...] = tuple(PLANE_SETTINGS)
    reduction: str = "sum"
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def iterations(self, n_train: int) -> int:
        n = max(1, int(round(self.epochs * math.ceil(n_train / ae.BATCH_SIZE))))
        return n if self.max_iterations is None else min(n, int(self.max_iterations))

    def window(self, iterations: int) -> float:
        if self.smooth_window is not None:
            return float(self.smooth_window)
        return max(1.0, PAPER_WINDOW * iterations / PAPER_ITERATIONS)

    def identity(self) -> dict:
        """What a checkpoint must match to be resumed."""
        d = asdict(self)
        keys = ("hidden", "epochs", "max_iterations", "n_points", "eval_batches", "eval_size", "reduction",
                "seed")
        return {k: d[k] for k in keys}


@dataclass
class Run:
    """Everything recorded while training one autoencoder."""

    K: int
    planes: dict                     # setting -> renyimi.InformationPlane
    test_loss: list                  # (iteration, test MSE per pixel) at every measured step
    train_loss: list                 # (iteration, mini-batch loss per image)
    iterations: int
    seconds: float = 0.0
    model: object = None


def evaluation_batches(images: np.ndarray, n_batches: int, size: int, seed: int) -> list[torch.Tensor]:
    """Fixed evaluation batches: disjoint while the test set allows, otherwise drawn independently."""
    rng = np.random.default_rng([seed, 7919])
    n = len(images)
    size = min(size, n)
    if n_batches * size <= n:
        order = rng.permutation(n)
        index = [order[i * size:(i + 1) * size] for i in range(n_batches)]
    else:  # the embedded test set (1 000 images) holds fewer than 10 x 512: batches overlap
        index = [rng.choice(n, size=size, replace=False) for _ in range(n_batches)]
    return [torch.from_numpy(np.ascontiguousarray(images[i], dtype=np.float32)) for i in index]


def new_planes(settings, n_encoder: int, layers) -> dict:
    return {name: renyimi.InformationPlane(layers, n_encoder=n_encoder, **PLANE_SETTINGS[name])
            for name in settings}


def measure(step: int, model: ae.Autoencoder, batches, planes: dict) -> None:
    """Record every plane at ``step`` on every evaluation batch (activations captured once per batch)."""
    for x in batches:
        with capture_activations(model, model.layer_modules, flatten=True) as acts:
            x_rec = model(x)
        # NumPy arrays: the estimator then runs on single-threaded OpenBLAS (see _common), which
        # measured 10-100x faster on a busy 2-core CPU than torch's threaded eigvalsh.
        layers = {name: t.numpy() for name, t in acts.items()}
        for plane in planes.values():
            plane.record(step, x.numpy(), x_rec.numpy(), layers)


def train_and_record(K: int, data, config: PlaneConfig, out: Path, *, measure_steps=None,
                     resume: bool = False, show_progress: bool = True, settings=None,
                     tag: str | None = None) -> Run:
    """Train one autoencoder with bottleneck ``K`` and record its information planes.

    Parameters
    ----------
    K : int
        Bottleneck size.
    data : renyimi.datasets.ImageDataset
    config : PlaneConfig
    out : pathlib.Path
        Folder of the checkpoints (``out / "checkpoints"``).
    measure_steps : list of int, optional
        Iterations at which to measure; default ``config.n_points`` log-spaced ones.
    resume : bool
        Continue from a matching checkpoint if one exists (else start afresh).
    settings : sequence of str, optional
        Planes to record (default ``config.settings``).
    tag : str, optional
        Prefix of the checkpoint files (default ``"K{K}"``).
    """
    settings = tuple(config.settings if settings is None else settings)
    iterations = config.iterations(len(data.train_images))
    if measure_steps is None:
        steps = ae.log_spaced_steps(iterations, config.n_points)
    else:
        steps = sorted(measure_steps)
    ckpt = out / "checkpoints"
    ckpt.mkdir(parents=True, exist_ok=True)
    tag = tag or f"K{K}"
    state_path = ckpt / f"{tag}_state.pt"
    plane_paths = {name: ckpt / f"{tag}_{name}.plane.json" for name in settings}

    _common.seed_everything(config.seed + K)
    model = ae.Autoencoder(K, config.hidden, n_inputs=data.train_images.shape[1])
    optimiser = ae.make_optimiser(model)
    identity = {**config.identity(), "K": K, "settings": list(settings), "measure_steps": steps}
    start, test_loss, train_loss, elapsed = 0, [], [], 0.0
    planes = new_planes(settings, model.n_encoder, tuple(model.layer_modules))
    if resume and state_path.is_file() and all(p.is_file() for p in plane_paths.values()):
        state = torch.load(state_path, weights_only=False)
        if state["identity"] == identity:
            model.load_state_dict(state["model"])
            optimiser.load_state_dict(state["optimiser"])
            start, test_loss, train_loss = state["step"], state["test_loss"], state["train_loss"]
            elapsed = state.get("seconds", 0.0)
            planes = {name: renyimi.InformationPlane.load(path) for name, path in plane_paths.items()}
        else:
            print(f"{state_path}: saved with other settings; starting K={K} afresh.", file=sys.stderr)
    batches = evaluation_batches(data.test_images, config.eval_batches, config.eval_size, config.seed)
    x_test = torch.from_numpy(np.asarray(data.test_images, dtype=np.float32))
    clock = time.perf_counter()

    def on_measure(step, m):
        if step == start and start > 0:
            return  # already measured before the interruption
        measure(step, m, batches, planes)
        test_loss.append((step, float(ae.reconstruction_loss(m(x_test), x_test, "mean"))))
        # State first, then planes, each replaced atomically: an interruption can lose the last
        # measurement but never leaves a plane with a step the state does not know about.
        _atomic(lambda p: torch.save({"identity": identity, "model": m.state_dict(),
                                      "optimiser": optimiser.state_dict(), "step": step,
                                      "test_loss": test_loss, "train_loss": train_loss,
                                      "seconds": elapsed + time.perf_counter() - clock}, p), state_path)
        for name, plane in planes.items():
            _atomic(plane.save, plane_paths[name])

    if start < iterations or not test_loss:
        ae.train(model, data.train_images, iterations, measure_at=steps, on_measure=on_measure,
                 optimiser=optimiser, reduction=config.reduction, seed=config.seed + K, start_step=start,
                 history=train_loss, show_progress=show_progress, description=f"K={K}")
    seconds = elapsed + time.perf_counter() - clock
    return Run(K, planes, test_loss, train_loss, iterations, seconds, model)


def _atomic(write, path: Path) -> None:
    """``write(tmp)`` then rename onto ``path``, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    tmp.replace(path)


def run(config: PlaneConfig, data, out: Path, *, resume: bool = False, show_progress: bool = True) -> dict:
    """Train and record every K of ``config``; returns ``{K: Run}``."""
    return {K: train_and_record(K, data, config, out, resume=resume, show_progress=show_progress)
            for K in config.Ks}


# ------------------------------------------------------------------------------------ figures
def plot_planes(runs: dict, setting: str, config: PlaneConfig, path: Path, *, n_points: int = 40,
                title: str | None = None) -> Path:
    """Figs. 6-7: one row per K, encoder (left) and decoder (right) panels, colour = iteration."""
    import matplotlib.pyplot as plt

    from renyimi.plotting import plot_information_plane

    Ks = sorted(runs)
    fig, axes = plt.subplots(len(Ks), 2, figsize=(7.0, 3.05 * len(Ks) + 0.7), squeeze=False,
                             layout="constrained")
    letters = iter("abcdefghij")
    for i, (row, K) in enumerate(zip(axes, Ks, strict=True)):
        plot_information_plane(runs[K].planes[setting], smooth=config.window(runs[K].iterations),
                               n_points=n_points, axes=row, markersize=16, legend=i == len(Ks) - 1)
        for ax, part in zip(row, ("encoder", "decoder"), strict=True):
            ax.set_title(f"({next(letters)}) $K = {K}$, {part}")
    fig.suptitle(title or SETTING_TITLES[setting], fontsize=9)
    return _common.save_figure(fig, path)


def plot_variances(runs: dict, config: PlaneConfig, path: Path, *, setting: str | None = None) -> Path:
    """Fig. 8: mean activation variance of each layer (Z left out, as in the paper), one row per K."""
    import matplotlib.pyplot as plt

    from renyimi.plotting import plot_variance

    Ks = sorted(runs)
    setting = setting or next(iter(runs[Ks[0]].planes))
    fig, axes = plt.subplots(len(Ks), 2, figsize=(7.0, 2.35 * len(Ks) + 0.5), squeeze=False,
                             layout="constrained")
    letters = iter("abcdefghij")
    for i, (row, K) in enumerate(zip(axes, Ks, strict=True)):
        plot_variance(runs[K].planes[setting], exclude=["Z"], smooth=config.window(runs[K].iterations),
                      axes=row, legend=i == len(Ks) - 1)
        for ax, part in zip(row, ("encoder", "decoder"), strict=True):
            ax.set_title(f"({next(letters)}) $K = {K}$, {part}")
    fig.suptitle("Mean activation variance per layer (bottleneck $Z$ not shown)", fontsize=9)
    return _common.save_figure(fig, path)


def plot_losses(runs: dict, path: Path, *, plateau: float | None = None) -> Path:
    """Test reconstruction error per pixel at the measured iterations (training sanity check).

    ``plateau`` draws the error of always answering the mean training image, where a deep sigmoid
    autoencoder trained with the per-pixel mean loss stays.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.6, 2.5), layout="constrained")
    for K, r in sorted(runs.items()):
        steps, loss = np.array(r.test_loss).T
        ax.plot(steps[steps > 0], loss[steps > 0], marker="o", ms=2.5, label=f"$K = {K}$")
    if plateau is not None:
        ax.axhline(plateau, color="0.4", ls="--", lw=1, label="mean image")
    ax.set_xscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("test MSE per pixel")
    ax.legend(frameon=False)
    return _common.save_figure(fig, path)


def make_figures(runs: dict, config: PlaneConfig, out: Path, data=None) -> dict[str, Path]:
    _common.paper_style()
    figures = {}
    names = {"old": "fig6_planes_old_rule.png", "paper": "fig7_planes.png",
             "per_pixel": "fig7_planes_per_pixel.png"}
    for setting in config.settings:
        figures[f"planes_{setting}"] = plot_planes(runs, setting, config, out / names[setting])
    figures["variance"] = plot_variances(runs, config, out / "fig8_variance.png")
    plateau = None
    if data is not None:  # error of the constant answer "mean training image"
        plateau = float(np.mean((data.test_images - data.train_images.mean(axis=0)) ** 2))
    figures["loss"] = plot_losses(runs, out / "test_loss.png", plateau=plateau)
    return figures


def parse_args(argv=None, description=None):
    parser = argparse.ArgumentParser(description=description or __doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/planes"))
    parser.add_argument("--K", type=int, nargs="+", default=[2, 32], help="bottleneck sizes (default 2 32)")
    parser.add_argument("--hidden", type=ae.parse_sizes, default=ae.DEFAULT_HIDDEN,
                        help="encoder hidden sizes (default 1000,500,250)")
    parser.add_argument("--epochs", type=float, default=100.0)
    parser.add_argument("--points", type=int, default=60, help="measured iterations, log-spaced")
    parser.add_argument("--batches", type=int, default=10, help="evaluation batches per measurement")
    parser.add_argument("--batch-size", type=int, default=512, help="samples per evaluation batch")
    parser.add_argument("--smooth", type=float, default=None, help="Hann window span in iterations")
    parser.add_argument("--data", default="embedded", help="'embedded', 'download' or a folder of IDX files")
    parser.add_argument("--dataset", choices=("mnist", "fashion"), default="mnist")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoints in --out")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1; see autoencoder.py)")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    ae.set_threads(args.threads)
    config = PlaneConfig(Ks=tuple(args.K), hidden=args.hidden, epochs=args.epochs, n_points=args.points,
                         eval_batches=args.batches, eval_size=args.batch_size, smooth_window=args.smooth,
                         seed=args.seed)
    data = _common.load_images(args.data, args.dataset, seed=args.seed)
    runs = run(config, data, args.out, resume=args.resume, show_progress=not args.no_progress)
    for name, path in make_figures(runs, config, args.out, data).items():
        print(f"{name}: {path}")
    return runs


if __name__ == "__main__":
    main()
    sys.exit(0)
